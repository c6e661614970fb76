// The systemd cgroup driver (--systemd-cgroup), against a real systemd 252 running as PID 1 of a container that
// runts starts (test/systemd.ts); runts runs inside it and makes its containers' scopes over D-Bus.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as fs from 'fs';
import * as path from 'path';
import { Ctx, baseConfig, bundle, cleanupContext, context, rt } from '../helpers';
import { CONTAINERD_TOOLS, INNER_BUSYBOX, INNER_WORK, SystemdBox, hostTool, startSystemd, systemdRootfs } from '../systemd';
import { IMAGE, IMAGE_TAR, ensureImage } from '../e2e/e2e';

const skip = process.getuid?.() !== 0 ? 'needs root' : systemdRootfs();
if (skip) console.log(`systemd driver tests skipped: ${skip}`);

let c: Ctx;
let box: SystemdBox;
let seq = 0;
const uid = () => `sd${process.pid}x${++seq}`;

beforeAll(async () => {
  if (skip) return;
  c = context('systemd');
  box = await startSystemd(c, `sdouter${process.pid}`);
}, 120_000);

afterAll(async () => {
  if (skip) return;
  try { await box?.stop(); } finally { cleanupContext(c); }
}, 60_000);

/** runts inside the systemd container */
const inner = (args: string[]) => box.exec(['runts', ...args], 60_000);
const show = (unit: string, props: string) => {
  const r = box.exec(['systemctl', 'show', '-p', props, unit]);
  return Object.fromEntries(r.stdout.trim().split('\n').filter(Boolean).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
};
const cat = (file: string) => box.exec(['cat', file]).stdout.trim();
const sleeper = (cgroupsPath: string, resources: any = {}) => {
  const cfg = baseConfig(['sleep', '1000'], INNER_BUSYBOX);
  cfg.linux.cgroupsPath = cgroupsPath;
  cfg.linux.resources = resources;
  return cfg;
};

describe.skipIf(!!skip)('systemd cgroup driver', () => {
  it('systemd runs as the container init (runts runs a systemd container)', () => {
    expect(box.exec(['cat', '/proc/1/comm']).stdout.trim()).toBe('systemd');
  });

  it('create makes a transient scope with the init in it, limits in the files; update, pause, delete', () => {
    const id = uid();
    const unit = `runts-${id}.scope`;
    const b = box.innerBundle(id, sleeper(`system.slice:runts:${id}`, { memory: { limit: 64 << 20 }, pids: { limit: 50 } }));
    let r = inner(['--systemd-cgroup', 'run', '-d', '--bundle', b, id]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const p = show(unit, 'ActiveState,ControlGroup,Delegate,Slice,MemoryLimit,TasksMax');
    expect(p).toMatchObject({ ActiveState: 'active', ControlGroup: `/system.slice/${unit}`, Delegate: 'yes', Slice: 'system.slice', MemoryLimit: String(64 << 20), TasksMax: '50' });
    const pid = JSON.parse(inner(['state', id]).stdout).pid;
    const cg = cat(`/proc/${pid}/cgroup`);
    expect(cg).toMatch(new RegExp(`:memory:/system.slice/${unit}$`, 'm'));
    expect(cg).toMatch(new RegExp(`:freezer:/system.slice/${unit}$`, 'm'));
    expect(cg).toMatch(new RegExp(`^0::/system.slice/${unit}$`, 'm'));
    expect(cat(`/sys/fs/cgroup/memory/system.slice/${unit}/memory.limit_in_bytes`)).toBe(String(64 << 20));
    expect(cat(`/sys/fs/cgroup/pids/system.slice/${unit}/pids.max`)).toBe('50');

    r = inner(['update', '--memory', '32m', '--pids-limit', '20', id]);
    expect(r.stderr).toBe('');
    expect(cat(`/sys/fs/cgroup/memory/system.slice/${unit}/memory.limit_in_bytes`)).toBe(String(32 << 20));
    expect(show(unit, 'MemoryLimit,TasksMax')).toEqual({ MemoryLimit: String(32 << 20), TasksMax: '20' });

    expect(inner(['pause', id]).status).toBe(0);
    expect(cat(`/sys/fs/cgroup/freezer/system.slice/${unit}/freezer.state`)).toBe('FROZEN');
    expect(JSON.parse(inner(['state', id]).stdout).status).toBe('paused');
    expect(inner(['resume', id]).status).toBe(0);
    expect(cat(`/sys/fs/cgroup/freezer/system.slice/${unit}/freezer.state`)).toBe('THAWED');
    expect(JSON.parse(inner(['ps', '--format', 'json', id]).stdout)).toEqual([pid]);

    r = inner(['delete', '--force', id]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(show(unit, 'LoadState').LoadState).toBe('not-found');
    for (const ctrl of ['memory', 'pids', 'freezer', 'cpuset', 'unified', 'systemd']) {
      expect(box.exec(['test', '-e', `/sys/fs/cgroup/${ctrl}/system.slice/${unit}`]).status, ctrl).not.toBe(0);
    }
  });

  it('a parent slice that does not exist yet is made (nested names expanded)', () => {
    const id = uid();
    const slice = `runtst-n${id}.slice`;
    const unit = `x-${id}.scope`;
    const b = box.innerBundle(id, sleeper(`${slice}:x:${id}`));
    const r = inner(['--systemd-cgroup', 'run', '-d', '--bundle', b, id]);
    expect(r.stderr).toBe('');
    expect(show(unit, 'ControlGroup').ControlGroup).toBe(`/runtst.slice/${slice}/${unit}`);
    const pid = JSON.parse(inner(['state', id]).stdout).pid;
    expect(cat(`/proc/${pid}/cgroup`)).toMatch(new RegExp(`^0::/runtst.slice/${slice}/${unit}$`, 'm'));
    expect(inner(['delete', '--force', id]).status).toBe(0);
    expect(show(unit, 'LoadState').LoadState).toBe('not-found');
  });

  it('a name ending in .slice makes a slice (not a scope) with the init in its cgroups; delete removes it', () => {
    const id = uid();
    const unit = `system-${id}.slice`;
    const b = box.innerBundle(id, sleeper(`system.slice:ignored:${unit}`, { memory: { limit: 48 << 20 }, pids: { limit: 30 } }));
    const r = inner(['--systemd-cgroup', 'run', '-d', '--bundle', b, id]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(show(unit, 'Id,ActiveState,Transient,ControlGroup,Wants,MemoryLimit,TasksMax')).toMatchObject({
      Id: unit, ActiveState: 'active', Transient: 'yes', ControlGroup: `/system.slice/${unit}`, Wants: 'system.slice', MemoryLimit: String(48 << 20), TasksMax: '30',
    });
    expect(show(`ignored-${unit.replace(/\.slice$/, '')}.scope`, 'LoadState').LoadState).toBe('not-found');
    const pid = JSON.parse(inner(['state', id]).stdout).pid;
    const cg = cat(`/proc/${pid}/cgroup`);
    for (const ctrl of ['memory', 'pids', 'freezer', 'name=systemd']) expect(cg, ctrl).toMatch(new RegExp(`:${ctrl}:/system.slice/${unit}$`, 'm'));
    expect(cg).toMatch(new RegExp(`^0::/system.slice/${unit}$`, 'm'));
    expect(cat(`/sys/fs/cgroup/memory/system.slice/${unit}/memory.limit_in_bytes`)).toBe(String(48 << 20));
    expect(JSON.parse(inner(['ps', '--format', 'json', id]).stdout)).toEqual([pid]);
    expect(inner(['delete', '--force', id]).status).toBe(0);
    // systemd loads any slice name that is asked about (slices need no unit file): gone means inactive, not transient
    expect(show(unit, 'ActiveState,Transient')).toEqual({ ActiveState: 'inactive', Transient: 'no' });
    for (const ctrl of ['memory', 'pids', 'freezer', 'cpuset', 'unified', 'systemd']) {
      expect(box.exec(['test', '-e', `/sys/fs/cgroup/${ctrl}/system.slice/${unit}`]).status, ctrl).not.toBe(0);
    }
  });

  it('a .slice name that systemd would place outside its parent is refused with the field named, nothing left', () => {
    const id = uid();
    const r = inner(['--systemd-cgroup', 'create', '--bundle', box.innerBundle(id, sleeper(`system.slice:x:n${id}.slice`)), id]);
    expect(r.status).not.toBe(0);
    expect(r.stderr.trim()).toBe(`runts: linux.cgroupsPath: the slice "n${id}.slice" is not a child of "system.slice" (systemd puts it in "-.slice"); name it "system-n${id}.slice"`);
    expect(show(`n${id}.slice`, 'ActiveState').ActiveState).toBe('inactive');
    expect(box.exec(['test', '-e', `/run/runts/${id}`]).status).not.toBe(0);
  });

  it('two containers at once, each in its own scope; kill --all reaches the scope', () => {
    const ids = [uid(), uid()];
    for (const id of ids) {
      const r = inner(['--systemd-cgroup', 'run', '-d', '--bundle', box.innerBundle(id, sleeper(`:runts:${id}`)), id]);
      expect(r.stderr).toBe('');
    }
    for (const id of ids) expect(show(`runts-${id}.scope`, 'ActiveState').ActiveState).toBe('active');
    expect(inner(['kill', '--all', ids[0], 'KILL']).status).toBe(0);
    for (let i = 0; i < 50 && JSON.parse(inner(['state', ids[0]]).stdout).status !== 'stopped'; i++) box.exec(['sleep', '0.1']);
    expect(JSON.parse(inner(['state', ids[0]]).stdout).status).toBe('stopped');
    expect(JSON.parse(inner(['state', ids[1]]).stdout).status).toBe('running');
    for (const id of ids) expect(inner(['delete', '--force', id]).status).toBe(0);
  });

  it('a unit that exists already: the error names the unit, nothing is left behind, the other unit survives', () => {
    const id = uid();
    const b = box.innerBundle(id, sleeper(`system.slice:runts:${id}`));
    expect(inner(['--systemd-cgroup', 'run', '-d', '--bundle', b, id]).status).toBe(0);
    // a second container whose cgroupsPath names the same scope
    const r = inner(['--systemd-cgroup', 'create', '--bundle', b, `${id}b`]);
    expect(r.status).not.toBe(0);
    expect(r.stderr.trim()).toBe(`runts: systemd: start unit runts-${id}.scope: Unit runts-${id}.scope was already loaded or has a fragment file. (org.freedesktop.systemd1.UnitExists)`);
    expect(box.exec(['test', '-e', `/run/runts/${id}b`]).status).not.toBe(0);
    expect(show(`runts-${id}.scope`, 'ActiveState').ActiveState).toBe('active');
    expect(JSON.parse(inner(['state', id]).stdout).status).toBe('running');
    expect(inner(['delete', '--force', id]).status).toBe(0);
  });

  it('a resource refused after the scope started fails create naming the field; no unit, no cgroup, no state left', () => {
    const id = uid();
    // a cpuset that does not exist: the cgroup file refuses it after the scope was started
    const b = box.innerBundle(id, sleeper(`system.slice:runts:${id}`, { cpu: { cpus: '4000' } }));
    const r = inner(['--systemd-cgroup', 'create', '--bundle', b, id]);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/linux\.resources\.cpu\.cpus/);
    expect(show(`runts-${id}.scope`, 'LoadState').LoadState).toBe('not-found');
    for (const ctrl of ['memory', 'cpuset', 'unified']) {
      expect(box.exec(['test', '-e', `/sys/fs/cgroup/${ctrl}/system.slice/runts-${id}.scope`]).status, ctrl).not.toBe(0);
    }
    expect(box.exec(['test', '-e', `/run/runts/${id}`]).status).not.toBe(0);
  });

  it('a path that is not slice:prefix:name is refused with the field named', () => {
    const id = uid();
    const r = inner(['--systemd-cgroup', 'create', '--bundle', box.innerBundle(id, sleeper('/not/systemd')), id]);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/linux\.cgroupsPath: expected "slice:prefix:name"/);
    expect(box.exec(['test', '-e', `/run/runts/${id}`]).status).not.toBe(0);
  });

  const noContainerd = CONTAINERD_TOOLS.filter((t) => !hostTool(t));
  if (noContainerd.length) console.log(`systemd driver: the containerd case skipped: ${noContainerd.join(', ')} not installed (scripts/setup-e2e.sh)`);
  it.skipIf(noContainerd.length > 0)('containerd with SystemdCgroup runs `ctr run --rm` through runts: the task is in its scope, gone after', () => {
    ensureImage();
    const dir = path.join(box.work, 'ctrd');
    fs.mkdirSync(dir, { recursive: true });
    fs.copyFileSync(IMAGE_TAR, path.join(dir, 'busybox.tar'));
    const d = `${INNER_WORK}/ctrd`;
    const sock = '/run/runts-test-containerd.sock';
    fs.writeFileSync(path.join(dir, 'config.toml'), `version = 2
root = "${d}/root"
state = "/run/runts-test-containerd"
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = "${sock}"
[ttrpc]
  address = "${sock}.ttrpc"
[plugins."io.containerd.internal.v1.opt"]
  path = "${d}/opt"
`);
    // containerd as a service of the systemd in the box, as on a production host
    let r = box.exec(['systemd-run', '--unit', 'runts-test-containerd', '--property', 'KillMode=mixed', '/usr/local/bin/containerd', '--config', `${d}/config.toml`]);
    expect(r.status, r.stderr).toBe(0);
    const ctr = (args: string[]) => box.exec(['ctr', '--address', sock, '--namespace', 'sdtest', ...args], 120_000);
    try {
      for (let i = 0; i < 100 && ctr(['version']).status !== 0; i++) box.exec(['sleep', '0.1']);
      r = ctr(['images', 'import', `${d}/busybox.tar`]);
      expect(r.status, r.stderr).toBe(0);
      const id = uid();
      const unit = `ctr-${id}.scope`;
      // ctr's --runc-systemd-cgroup is the shim's SystemdCgroup option; it needs the slice:prefix:name path
      r = ctr(['run', '--rm', '--runc-binary', '/usr/local/bin/runts', '--runc-systemd-cgroup', '--cgroup', `system.slice:ctr:${id}`,
        IMAGE, id, 'sh', '-c', 'echo hello from ctr; cat /proc/self/cgroup']);
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      expect(r.stdout).toMatch(/^hello from ctr$/m);
      // no cgroup namespace in containerd's default spec: the full path, the scope runts made over D-Bus
      expect(r.stdout).toMatch(new RegExp(`:memory:/system.slice/${unit}$`, 'm'));
      expect(r.stdout).toMatch(new RegExp(`:name=systemd:/system.slice/${unit}$`, 'm'));
      expect(show(unit, 'LoadState').LoadState).toBe('not-found');
      expect(box.exec(['test', '-e', `/sys/fs/cgroup/memory/system.slice/${unit}`]).status).not.toBe(0);
    } finally {
      box.exec(['systemctl', 'stop', 'runts-test-containerd']);
    }
  }, 240_000);

  it('features reports the systemd driver', () => {
    expect(JSON.parse(inner(['features']).stdout).linux.cgroup.systemd).toBe(true);
  });
});


const hostHasSystemd = ['/run/dbus/system_bus_socket', '/run/systemd/private'].some((f) => fs.existsSync(f));
if (hostHasSystemd) console.log('systemd driver: the "no systemd" case skipped: this host has a system bus or systemd socket');

describe.skipIf(hostHasSystemd)('systemd cgroup driver without systemd', () => {
  it('a clear error naming what is missing, nothing left behind', () => {
    const h = context('systemd-none');
    try {
      const id = `sdnone${process.pid}`;
      const cfg = baseConfig(['true']);
      cfg.linux.cgroupsPath = `system.slice:runts:${id}`;
      const r = rt(h, ['--systemd-cgroup', 'run', '--bundle', bundle(h, cfg), id]);
      expect(r.status).not.toBe(0);
      expect(r.stderr.trim()).toMatch(/^runts: --systemd-cgroup: no systemd answers over D-Bus \(\/run\/dbus\/system_bus_socket: .*\/run\/systemd\/private: .*\)$/);
      expect(fs.readdirSync(h.root)).toEqual([]);
      for (const ctrl of ['memory', 'unified', 'systemd']) expect(fs.existsSync(path.join('/sys/fs/cgroup', ctrl, 'system.slice', `runts-${id}.scope`))).toBe(false);
    } finally {
      cleanupContext(h);
    }
  });
});
