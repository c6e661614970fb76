// runts validate: every problem of a bundle's config.json, one per line naming its field, the same rules create
// applies (create fails with the first of them), warnings for what this host cannot do, nothing written.
import * as fs from 'fs';
import * as path from 'path';
import { afterAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'child_process';
import { RUNTS, baseConfig, bundle, cleanupContext, context, mountsSnapshot, rt } from '../helpers';

const c = context('validate');
afterAll(() => cleanupContext(c));

const cfg = (change: (x: any) => void = () => {}) => {
  const x = baseConfig(['true']);
  change(x);
  return x;
};
const validate = (dir: string, ...flags: string[]) => rt(c, ['validate', '--bundle', dir, ...flags]);
const errorLines = (out: string) => out.split('\n').filter((l) => l && !l.startsWith('warning: ') && !/^config\.json is (not )?valid/.test(l));

describe('runts validate', () => {
  it('a good bundle: exit 0, "valid", no error lines', () => {
    const r = validate(bundle(c, cfg()));
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(errorLines(r.stdout)).toEqual([]);
    expect(r.stdout).toMatch(/^config\.json is valid \(\d+ warnings?\)$/m);
  });

  const resctrl = fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').map((l) => l.split(' ')).find((f) => f[f.indexOf('-') + 1] === 'resctrl')?.[4];
  // each rule: validate names it, and create (the same code) fails with that very line
  const rules: Array<[string, (x: any) => void, string]> = [
    ['a relative cwd', (x) => { x.process.cwd = 'tmp'; }, 'process.cwd: must be an absolute path'],
    ['a string memory limit (schema)', (x) => { x.linux.resources = { memory: { limit: '1g' } }; }, 'linux.resources.memory.limit: must be an integer'],
    ['a duplicate rlimit', (x) => { x.process.rlimits.push({ type: 'RLIMIT_NOFILE', soft: 1, hard: 1 }); }, 'process.rlimits[1].type: duplicate rlimit "RLIMIT_NOFILE"'],
    ['a hostname without uts', (x) => { x.linux.namespaces = x.linux.namespaces.filter((n: any) => n.type !== 'uts'); }, 'hostname: requires a new uts namespace'],
    ['a net sysctl without a network namespace', (x) => { x.linux.namespaces.splice(1, 1); x.linux.sysctl = { 'net.ipv4.ip_forward': '1' }; }, 'linux.sysctl["net.ipv4.ip_forward"]: requires a new network namespace'],
    ['a sysctl in no namespace', (x) => { x.linux.sysctl = { 'vm.swappiness': '1' }; }, 'linux.sysctl: "vm.swappiness" is not in a separate kernel namespace'],
    ['an unknown rlimit', (x) => { x.process.rlimits[0].type = 'RLIMIT_FOO'; }, 'process.rlimits[0].type: unknown rlimit "RLIMIT_FOO"'],
    ['soft above hard', (x) => { x.process.rlimits[0] = { type: 'RLIMIT_CORE', soft: 2, hard: 1 }; }, 'process.rlimits[0]: soft limit 2 is above the hard limit 1'],
    ['effective not permitted', (x) => { x.process.capabilities.effective = ['CAP_CHOWN']; }, 'process.capabilities.effective: CAP_CHOWN is not in the permitted set'],
    ['a user namespace without mappings', (x) => { x.linux.namespaces.push({ type: 'user' }); }, 'linux.uidMappings: a new user namespace needs uidMappings and gidMappings'],
    ['a bind mount without source', (x) => { x.mounts.push({ destination: '/mnt', options: ['rbind'] }); }, 'mounts[7].source: is required for a bind mount'],
    ['tmpcopyup on proc', (x) => { x.mounts[0].options = ['tmpcopyup']; }, 'mounts[0].options: "tmpcopyup" is only for tmpfs mounts'],
    ['a systemd cgroupsPath', (x) => { x.linux.cgroupsPath = 'system.slice:runts:x'; }, 'linux.cgroupsPath: "system.slice:runts:x" is a systemd path (slice:prefix:name), which needs the systemd cgroup driver (--systemd-cgroup)'],
    ['a root outside the bundle', (x) => { x.root.path = '../../elsewhere'; }, 'root.path: "../../elsewhere" is outside the bundle'],
    ['shared propagation without a mount namespace', (x) => { x.linux.namespaces = x.linux.namespaces.filter((n: any) => n.type !== 'mount'); x.linux.rootfsPropagation = 'shared'; }, 'linux.rootfsPropagation: "shared" needs a mount namespace (without one the container\'s mounts are kept private)'],
    ['an id-mapped bind mount with no mappings and no user namespace', (x) => { x.mounts.push({ destination: '/mnt', type: 'bind', source: '/tmp', options: ['rbind', 'idmap'] }); },
      `mounts[${baseConfig(['true']).mounts.length}].options[1]: "idmap": needs the mount's uidMappings and gidMappings, or a user namespace for the container`],
    ['netDevices without a network namespace', (x) => { x.linux.namespaces = x.linux.namespaces.filter((n: any) => n.type !== 'network'); x.linux.netDevices = { runtsnodev0: {} }; },
      'linux.netDevices: moving network devices needs a network namespace (linux.namespaces has no "network")'],
    ['linux.intelRdt (runts writes no resctrl groups)', (x) => { x.linux.intelRdt = { closID: 'g' }; },
      `linux.intelRdt: is set, but ${resctrl ? `Intel RDT (resctrl at ${resctrl}) is not supported by runts` : 'Intel RDT is not enabled on this host (no resctrl filesystem mounted)'}`],
    ['NOTIFY as the default seccomp action', (x) => { x.linux.seccomp = { defaultAction: 'SCMP_ACT_NOTIFY' }; }, 'linux.seccomp.defaultAction: SCMP_ACT_NOTIFY cannot be the default action'],
  ];
  for (const [name, change, line] of rules) {
    it(`${name}: validate and create report "${line.slice(0, 50)}..."`, () => {
      const dir = bundle(c, cfg(change));
      const v = validate(dir);
      expect(v.status).toBe(1);
      expect(errorLines(v.stdout)).toEqual([line]);
      expect(v.stdout).toMatch(/^config\.json is not valid: 1 error$/m);
      const id = `val${process.pid}-${rules.findIndex((r) => r[0] === name)}`;
      const cr = rt(c, ['create', '--bundle', dir, id]);
      expect(cr.status).not.toBe(0);
      expect(cr.stderr).toContain(line);
      expect(fs.existsSync(path.join(c.root, id))).toBe(false);
    });
  }

  it('several errors at once, each on its own line, schema errors first', () => {
    const r = validate(bundle(c, cfg((x) => {
      x.process.cwd = 'rel';
      x.linux.resources = { memory: { limit: '1g' } };
      x.process.rlimits.push({ type: 'RLIMIT_FOO', soft: 1, hard: 1 });
      x.linux.sysctl = { 'vm.swappiness': '1' };
      x.linux.cgroupsPath = '/a/../b';
      x.mounts.push({ destination: '/x' });
    })));
    expect(r.status).toBe(1);
    expect(errorLines(r.stdout)).toEqual([
      'linux.resources.memory.limit: must be an integer',
      'process.cwd: must be an absolute path',
      'process.rlimits[1].type: unknown rlimit "RLIMIT_FOO"',
      'mounts[7].type: is required for a mount that is not a bind mount',
      'linux.sysctl: "vm.swappiness" is not in a separate kernel namespace',
      'linux.cgroupsPath: must not contain "..", got "/a/../b"',
    ]);
    expect(r.stdout).toMatch(/^config\.json is not valid: 6 errors$/m);
  });

  it('a value the schema refused is not judged again by the rules', () => {
    const r = validate(bundle(c, cfg((x) => { x.process.rlimits[0].type = 'NOFILE'; })));
    expect(errorLines(r.stdout)).toEqual(['process.rlimits[0].type: must match ^RLIMIT_[A-Z]+$']);
  });

  it('--format json: valid, errors and warnings as {field, message}', () => {
    const bad = validate(bundle(c, cfg((x) => { x.process.cwd = 'rel'; x.hostname = 7; })), '--format', 'json');
    expect(bad.status).toBe(1);
    const doc = JSON.parse(bad.stdout);
    expect(doc.valid).toBe(false);
    expect(doc.errors).toEqual([{ field: 'hostname', message: 'must be a string' }, { field: 'process.cwd', message: 'must be an absolute path' }]);
    expect(Array.isArray(doc.warnings)).toBe(true);
    const good = validate(bundle(c, cfg()), '-f', 'json');
    expect(good.status).toBe(0);
    expect(JSON.parse(good.stdout)).toMatchObject({ valid: true, errors: [] });
  });

  it('warnings for what this host cannot do; exit 0 all the same', () => {
    const apparmor = fs.existsSync('/sys/kernel/security/apparmor');
    const selinux = fs.existsSync('/sys/fs/selinux/enforce');
    const r = validate(bundle(c, cfg((x) => {
      x.process.apparmorProfile = 'runts-test';
      x.linux.mountLabel = 'system_u:object_r:container_file_t:s0';
      x.root.path = 'rootfs-not-there';
    })), '--format', 'json');
    expect(r.status).toBe(0);
    const w = JSON.parse(r.stdout).warnings.map((p: any) => p.field);
    expect(w).toContain('root.path');
    if (apparmor) console.log('AppArmor is enabled here: no apparmorProfile warning expected');
    else expect(w).toContain('process.apparmorProfile');
    if (selinux) console.log('SELinux is enabled here: no mountLabel warning expected');
    else expect(w).toContain('linux.mountLabel');
  });

  it('a resource whose cgroup controller the host lacks is a warning naming it', () => {
    const v1 = fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => / - cgroup /.test(l)).map((l) => l.split(' - ')[1].split(' ')[2]).join(',');
    const unified = fs.readdirSync('/sys/fs/cgroup').includes('cgroup.controllers') ? fs.readFileSync('/sys/fs/cgroup/cgroup.controllers', 'utf8') : '';
    if (unified || v1.split(',').includes('net_cls')) {
      console.log('skipped: this host is not cgroup v1/hybrid without net_cls (needed to have a missing controller)');
      return;
    }
    const r = validate(bundle(c, cfg((x) => { x.linux.resources = { network: { classID: 1 } }; })), '--format', 'json');
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout).warnings).toContainEqual({ field: 'linux.resources.network', message: 'this host has no net_cls, net_prio cgroup controller' });
  });

  it('writes nothing: no state dir, no cgroup, no mount', () => {
    const root = path.join(c.work, 'fresh-root');
    const cg = `/runts-validate-${process.pid}`;
    const before = mountsSnapshot();
    const dir = bundle(c, cfg((x) => { x.linux.cgroupsPath = cg; x.linux.resources = { memory: { limit: 64 << 20 }, pids: { limit: 10 } }; }));
    const r = spawnValidate(root, dir);
    expect(r.status).toBe(0);
    expect(fs.existsSync(root)).toBe(false);
    const hierarchies = fs.readdirSync('/sys/fs/cgroup').map((h) => path.join('/sys/fs/cgroup', h)).filter((h) => fs.statSync(h).isDirectory());
    for (const h of [...hierarchies, '/sys/fs/cgroup']) expect(fs.existsSync(path.join(h, cg))).toBe(false);
    expect(mountsSnapshot()).toBe(before);
    expect(fs.readdirSync(dir)).toEqual(['config.json']);
  });

  it('a missing config.json or bad JSON: an error line, exit 1', () => {
    const empty = path.join(c.work, 'empty-bundle');
    fs.mkdirSync(empty);
    const r = validate(empty);
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/config\.json: no such file or directory/);
    const dir = bundle(c, {});
    fs.writeFileSync(path.join(dir, 'config.json'), '{"ociVersion": ');
    const j = validate(dir, '--format', 'json');
    expect(j.status).toBe(1);
    expect(JSON.parse(j.stdout).valid).toBe(false);
  });
});

function spawnValidate(root: string, dir: string) {
  return spawnSync(RUNTS, ['--root', root, 'validate', '--bundle', dir], { encoding: 'utf8' });
}
