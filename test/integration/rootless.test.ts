// Rootless: runts run by an unprivileged user (made and removed here, with /etc/subuid and /etc/subgid ranges),
// with its state under $XDG_RUNTIME_DIR/runts. What the container sees is checked from inside and from the host.
import * as fs from 'fs';
import * as path from 'path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadNative } from '../../src/native';
import { RUNTS, Result, baseConfig, hasProgram, rootfs, scratchDir, sleep, spawnSync } from '../helpers';

const missing = ['useradd', 'userdel', 'setpriv', 'newuidmap', 'newgidmap'].filter((p) => !hasProgram(p));
if (missing.length) console.log(`rootless tests skipped: ${missing.join(', ')} not installed (scripts/setup.sh installs uidmap)`);
const HAVE = missing.length === 0 && process.getuid!() === 0;

const UNIFIED = '/sys/fs/cgroup/unified';
const SUB = ['/etc/subuid', '/etc/subgid'];
const NAME = `rtl${process.pid}`;
let uid = 0;
let gid = 0;
let subStart = 0;
let work = '';
let xdg = '';
let seq = 0;
const saved = new Map<string, Buffer>();

/** runts as the test user; no --root unless given (the default is $XDG_RUNTIME_DIR/runts). Output through files. */
function ru(args: string[], o: { env?: Record<string, string | undefined>; input?: string; prefix?: string; inside?: string[] } = {}): Result {
  const base = path.join(work, `.out-${++seq}`);
  const out = fs.openSync(`${base}.1`, 'w+');
  const err = fs.openSync(`${base}.2`, 'w+');
  const env: Record<string, string> = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: work, XDG_RUNTIME_DIR: xdg };
  for (const [k, v] of Object.entries(o.env ?? {})) if (v === undefined) delete env[k]; else env[k] = v;
  // o.inside: a command the user runs runts under (e.g. unshare into a user namespace of its own)
  const setpriv = ['setpriv', '--reuid', String(uid), '--regid', String(gid), '--init-groups', ...(o.inside ?? []), RUNTS, ...args];
  // o.prefix: a root shell command run first (e.g. moving itself into a cgroup), then exec setpriv
  const cmd = o.prefix ? ['sh', '-c', `${o.prefix} && exec "$@"`, 'sh', ...setpriv] : setpriv;
  try {
    const r = spawnSync(cmd[0], cmd.slice(1), { encoding: 'utf8', input: o.input ?? '', stdio: ['pipe', out, err], timeout: 30_000, env, cwd: work });
    r.stdout = fs.readFileSync(`${base}.1`, 'utf8');
    r.stderr = fs.readFileSync(`${base}.2`, 'utf8');
    return r;
  } finally {
    fs.closeSync(out);
    fs.closeSync(err);
    fs.rmSync(`${base}.1`, { force: true });
    fs.rmSync(`${base}.2`, { force: true });
  }
}

/** A bundle owned by the user: `runts spec --rootless` made by the user, then changed. */
function bundleOf(change: (cfg: any) => void): string {
  const dir = path.join(work, `bundle-${++seq}`);
  fs.mkdirSync(dir);
  fs.chownSync(dir, uid, gid);
  const r = ru(['spec', '--rootless', '--bundle', dir]);
  expect(r.status, r.stderr).toBe(0);
  const cfg = JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8'));
  cfg.root = { path: rootfs(), readonly: true };
  cfg.process.terminal = false;
  change(cfg);
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(cfg));
  return dir;
}

const id = (what: string) => `rl${process.pid}-${what}`;
const hostDevNull = () => { const st = fs.statSync('/dev/null'); return [st.uid, st.gid, st.mode & 0o7777]; };

describe.skipIf(!HAVE)('rootless runts (as an unprivileged user made for the test)', () => {
  let devNull: number[] = [];
  beforeAll(() => {
    devNull = hostDevNull();
    for (const f of SUB) saved.set(f, fs.readFileSync(f));
    const add = spawnSync('useradd', ['-M', '-U', '-s', '/bin/sh', NAME], { encoding: 'utf8' });
    if (add.status !== 0) throw new Error(`useradd: ${add.stderr}`);
    const id = (flag: string) => Number(spawnSync('id', [flag, NAME], { encoding: 'utf8' }).stdout.trim());
    uid = id('-u');
    gid = id('-g');
    // a range of our own in both files (useradd may have added one already: it is replaced by ours)
    const used = SUB.flatMap((f) => saved.get(f)!.toString().split('\n').map((l) => l.split(':')).filter((p) => p.length === 3)
      .map((p) => Number(p[1]) + Number(p[2])));
    subStart = Math.max(100000, ...used) + 65536;
    for (const f of SUB) {
      fs.writeFileSync(f, saved.get(f)!.toString() + (saved.get(f)!.length && !saved.get(f)!.toString().endsWith('\n') ? '\n' : '') +
        `${NAME}:${subStart}:65536\n`);
    }
    work = scratchDir('rootless');
    fs.chmodSync(work, 0o755);
    fs.chownSync(work, uid, gid);
    xdg = path.join(work, 'xdg');
    fs.mkdirSync(xdg, { mode: 0o700 });
    fs.chownSync(xdg, uid, gid);
    rootfs();
  });
  afterAll(() => {
    if (!uid) return;
    let ids: string[] = [];
    try { ids = fs.readdirSync(path.join(xdg, 'runts')); } catch { /* none */ }
    for (const i of ids) ru(['delete', '--force', i]);
    spawnSync('userdel', [NAME]);
    for (const [f, b] of saved) fs.writeFileSync(f, b);
    fs.rmSync(work, { recursive: true, force: true });
    expect(hostDevNull()).toEqual(devNull);
  });

  it('a `runts spec --rootless` config runs: root in the container is the user, setgroups denied, state under $XDG_RUNTIME_DIR/runts', () => {
    const b = bundleOf((cfg) => {
      cfg.process.args = ['sh', '-c', 'id -u; id -g; cat /proc/self/uid_map /proc/self/gid_map /proc/self/setgroups; ls /sys/kernel >/dev/null && echo sys-ok'];
    });
    const r = ru(['run', '--bundle', b, id('spec')]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const lines = r.stdout.trim().split('\n').map((l) => l.trim().split(/\s+/).join(' '));
    expect(lines).toEqual(['0', '0', `0 ${uid} 1`, `0 ${gid} 1`, 'deny', 'sys-ok']);
    expect(fs.statSync(path.join(xdg, 'runts')).uid).toBe(uid);
    expect(fs.readdirSync(path.join(xdg, 'runts'))).toEqual([]);
  });

  it('without --root and without XDG_RUNTIME_DIR: an error naming both, nothing made', () => {
    const b = bundleOf((cfg) => { cfg.process.args = ['true']; });
    const r = ru(['run', '--bundle', b, id('noxdg')], { env: { XDG_RUNTIME_DIR: undefined } });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/--root.*XDG_RUNTIME_DIR/);
    expect(fs.existsSync('/run/runts/' + id('noxdg'))).toBe(false);
    // spec needs no state root
    expect(ru(['spec', '--rootless', '--bundle', work + '/nowhere-' + seq], { env: { XDG_RUNTIME_DIR: undefined } }).stderr).not.toMatch(/XDG_RUNTIME_DIR/);
  });

  it('create, start, state, exec, ps, kill, delete as the user (no cgroup: ps and kill --all go by the pid namespace)', async () => {
    const b = bundleOf((cfg) => { cfg.process.args = ['sleep', '300']; });
    const c = id('life');
    const cr = ru(['create', '--bundle', b, c]);
    expect(cr.stderr).toBe('');
    expect(cr.status).toBe(0);
    const st = JSON.parse(ru(['state', c]).stdout);
    expect(st.status).toBe('created');
    expect(fs.statSync(path.join(xdg, 'runts', c, 'state.json')).uid).toBe(uid);
    expect(ru(['start', c]).status).toBe(0);
    expect(JSON.parse(ru(['state', c]).stdout).status).toBe('running');
    // the init runs as the user on the host
    expect(fs.readFileSync(`/proc/${st.pid}/status`, 'utf8')).toMatch(new RegExp(`\\nUid:\\s+${uid}\\s`));
    const ex = ru(['exec', c, 'sh', '-c', 'id -u; cat /proc/1/cmdline | tr "\\0" " "']);
    expect(ex.stderr).toBe('');
    expect(ex.stdout).toBe('0\nsleep 300 ');
    // an exec'd process with an oomScoreAdj above the caller's: runts (not the non-dumpable stub) sets it
    const procFile = path.join(xdg, 'proc.json');
    fs.writeFileSync(procFile, JSON.stringify({ args: ['cat', '/proc/self/oom_score_adj'], cwd: '/', user: { uid: 0, gid: 0 }, oomScoreAdj: 321 }));
    fs.chownSync(procFile, uid, uid);
    const oom = ru(['exec', '--process', procFile, c]);
    expect(oom.stderr).toBe('');
    expect(oom.stdout).toBe('321\n');
    const bg = ru(['exec', '-d', c, 'sleep', '200']);
    expect(bg.status, bg.stderr).toBe(0);
    const ps = ru(['ps', '--format', 'json', c]);
    expect(ps.status, ps.stderr).toBe(0);
    const pids = JSON.parse(ps.stdout) as number[];
    expect(pids).toContain(st.pid);
    expect(pids.length).toBe(2);
    expect(ru(['kill', '--all', c, 'KILL']).status).toBe(0);
    for (let i = 0; i < 100 && JSON.parse(ru(['state', c]).stdout).status !== 'stopped'; i++) await sleep(50);
    expect(JSON.parse(ru(['state', c]).stdout).status).toBe('stopped');
    for (const p of pids) expect(fs.existsSync(`/proc/${p}/status`) && !/State:\s+Z/.test(fs.readFileSync(`/proc/${p}/status`, 'utf8'))).toBe(false);
    const d = ru(['delete', c]);
    expect(d.status, d.stderr).toBe(0);
    expect(fs.existsSync(path.join(xdg, 'runts', c))).toBe(false);
  });

  it('delete --force without --root finds the container under $XDG_RUNTIME_DIR/runts (not the gone-container fast path\'s /run/runts)', () => {
    const b = bundleOf((cfg) => { cfg.process.args = ['sleep', '300']; });
    const c = id('dforce');
    const cr = ru(['create', '--bundle', b, c]);
    expect(cr.status, cr.stderr).toBe(0);
    const pid = JSON.parse(ru(['state', c]).stdout).pid as number;
    const d = ru(['delete', '--force', c]);
    expect(d.status, d.stderr).toBe(0);
    expect(fs.existsSync(path.join(xdg, 'runts', c))).toBe(false);
    expect(fs.existsSync(`/proc/${pid}/status`) && !/State:\s+Z/.test(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))).toBe(false);
  });

  it('a terminal: the pty master reaches --console-socket, the shell has a tty', async () => {
    const native = loadNative();
    const sock = path.join(work, `console-${++seq}.sock`);
    const listen = native.unixListen(sock, 1);
    fs.chownSync(sock, uid, gid);
    const b = bundleOf((cfg) => { cfg.process.terminal = true; cfg.process.args = ['sh', '-c', 'tty; echo done-$((40+2)); sleep 1']; });
    const c = id('tty');
    const r = ru(['create', '--bundle', b, '--console-socket', sock, c]);
    expect(r.stderr).toBe('');
    const conn = native.unixAccept(listen);
    const { fd: master } = native.recvFd(conn);
    fs.closeSync(conn);
    fs.closeSync(listen);
    expect(ru(['start', c]).status).toBe(0);
    let text = '';
    const buf = Buffer.alloc(4096);
    for (let i = 0; i < 100 && !/done-42/.test(text); i++) {
      try { text += buf.subarray(0, fs.readSync(master, buf, 0, buf.length, null)).toString(); } catch { await sleep(20); }
    }
    fs.closeSync(master);
    expect(text).toMatch(/\/dev\/pts\/0/);
    expect(text).toMatch(/done-42/);
    expect(ru(['delete', '--force', c]).status).toBe(0);
  });

  it('uid/gid ranges go through newuidmap/newgidmap: container uid 1000 is subuid start + 999 on the host', () => {
    const b = bundleOf((cfg) => {
      cfg.linux.uidMappings = [{ containerID: 0, hostID: uid, size: 1 }, { containerID: 1, hostID: subStart, size: 65536 }];
      cfg.linux.gidMappings = [{ containerID: 0, hostID: gid, size: 1 }, { containerID: 1, hostID: subStart, size: 65536 }];
      cfg.process.user = { uid: 1000, gid: 1000, additionalGids: [1001] };
      cfg.process.args = ['sleep', '300'];
    });
    const c = id('map');
    const r = ru(['run', '-d', '--bundle', b, c]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const pid = JSON.parse(ru(['state', c]).stdout).pid;
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    expect(status).toMatch(new RegExp(`\\nUid:\\s+${subStart + 999}\\s+${subStart + 999}\\s`));
    expect(status).toMatch(new RegExp(`\\nGid:\\s+${subStart + 999}\\s`));
    expect(status).toMatch(new RegExp(`\\nGroups:\\s+${subStart + 1000}\\s*\\n`));
    expect(fs.readFileSync(`/proc/${pid}/uid_map`, 'utf8').trim().split('\n').map((l) => l.trim().split(/\s+/).join(' ')))
      .toEqual([`0 ${uid} 1`, `1 ${subStart} 65536`]);
    expect(ru(['delete', '--force', c]).status).toBe(0);
    // ids outside the user's ranges: newuidmap refuses, the error names the field, nothing is left
    const bad = bundleOf((cfg) => { cfg.linux.uidMappings = [{ containerID: 0, hostID: 0, size: 1 }]; cfg.process.args = ['true']; });
    const e = ru(['run', '--bundle', bad, id('badmap')]);
    expect(e.status).not.toBe(0);
    expect(e.stderr).toMatch(/^runts: linux\.uidMappings: newuidmap /);
    expect(fs.existsSync(path.join(xdg, 'runts', id('badmap')))).toBe(false);
  });

  it('what the user cannot have is refused naming the field: limits without a delegated cgroup, a lower oomScoreAdj, a higher hard rlimit', () => {
    const mem = bundleOf((cfg) => { cfg.process.args = ['true']; cfg.linux.resources = { memory: { limit: 64 << 20 } }; });
    const r = ru(['run', '--bundle', mem, id('mem')]);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/^runts: linux\.resources\.memory: cannot set limits: rootless without a delegated cgroup \(mkdir .*: permission denied\)/);
    expect(fs.existsSync(path.join(xdg, 'runts', id('mem')))).toBe(false);
    expect(fs.readdirSync('/sys/fs/cgroup/memory').filter((d) => d.includes(id('mem')))).toEqual([]);
    const path_ = bundleOf((cfg) => { cfg.process.args = ['true']; cfg.linux.cgroupsPath = `/${id('cgp')}`; });
    expect(ru(['run', '--bundle', path_, id('cgp')]).stderr).toMatch(/^runts: linux\.cgroupsPath: cannot create/);

    const cur = Number(fs.readFileSync('/proc/self/oom_score_adj', 'utf8'));
    if (cur > -1000) {
      const oom = bundleOf((cfg) => { cfg.process.args = ['true']; cfg.process.oomScoreAdj = cur - 1; });
      expect(ru(['run', '--bundle', oom, id('oom')]).stderr).toMatch(/^runts: process\.oomScoreAdj: -?\d+ is below the current value/);
    }
    const hard = /Max open files\s+\d+\s+(\d+)/.exec(fs.readFileSync('/proc/self/limits', 'utf8'))![1];
    const rl = bundleOf((cfg) => { cfg.process.args = ['true']; cfg.process.rlimits = [{ type: 'RLIMIT_NOFILE', soft: 1024, hard: Number(hard) + 1 }]; });
    const e = ru(['run', '--bundle', rl, id('rl')]);
    expect(e.stderr).toMatch(/^runts: process\.rlimits\[0\]\.hard: RLIMIT_NOFILE \d+ is above the current hard limit/);
    expect(fs.existsSync(path.join(xdg, 'runts', id('rl')))).toBe(false);
    // a higher oomScoreAdj and lower limits are the user's to set
    const ok = bundleOf((cfg) => {
      cfg.process.args = ['sh', '-c', 'cat /proc/self/oom_score_adj; ulimit -Hn'];
      cfg.process.oomScoreAdj = Math.min(cur + 5, 1000);
      cfg.process.rlimits = [{ type: 'RLIMIT_NOFILE', soft: 512, hard: 800 }];
    });
    const good = ru(['run', '--bundle', ok, id('ok')]);
    expect(good.stderr).toBe('');
    expect(good.stdout).toBe(`${Math.min(cur + 5, 1000)}\n800\n`);
  });

  it('--systemd-cgroup rootless is refused before anything is made (the driver talks to the system bus)', () => {
    const b = bundleOf((cfg) => { cfg.process.args = ['true']; });
    const r = ru(['--systemd-cgroup', 'run', '--bundle', b, id('sd')]);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toBe('runts: --systemd-cgroup: the systemd cgroup driver is not supported rootless by runts (it talks to the system bus); use the cgroupfs driver\n');
    expect(fs.existsSync(path.join(xdg, 'runts', id('sd')))).toBe(false);
  });

  it('a sysfs mount without a network namespace is the host\'s /sys bound, read-only', () => {
    const b = bundleOf((cfg) => {
      const i = cfg.mounts.findIndex((m: any) => m.destination === '/sys');
      cfg.mounts[i] = { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] };
      cfg.process.args = ['sh', '-c', 'ls /sys/kernel >/dev/null && echo sys-ok; touch /sys/x 2>/dev/null || echo ro-ok'];
    });
    const r = ru(['run', '--bundle', b, id('sysfs')]);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('sys-ok\nro-ok\n');
  });

  it('as root of a user namespace the user made with newuidmap (rootless podman\'s): no user namespace in the config, device nodes bound from the host', () => {
    // what rootless podman does: runts runs as uid 0 of a user namespace mapping the user and its subuid range,
    // and the config has no user namespace of its own (mknod is not allowed there: EPERM before the fix)
    const b = bundleOf((cfg) => {
      cfg.linux.namespaces = cfg.linux.namespaces.filter((n: any) => n.type !== 'user').concat([{ type: 'network' }]);
      delete cfg.linux.uidMappings;
      delete cfg.linux.gidMappings;
      cfg.process.args = ['sh', '-c', 'cat /proc/self/uid_map; stat -c "%F %t,%T" /dev/null /dev/zero /dev/tty; echo x >/dev/null && head -c 4 /dev/zero | wc -c'];
    });
    const inside = ['unshare', '--map-auto', '--map-root-user'];
    const r = ru(['run', '--bundle', b, id('podns')], { inside });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const lines = r.stdout.trim().split('\n').map((l) => l.trim().split(/\s+/).join(' '));
    expect(lines).toEqual([`0 ${uid} 1`, `1 ${subStart} 65535`, 'character special file 1,3', 'character special file 1,5',
      'character special file 5,0', '4']);
    expect(fs.readdirSync(path.join(xdg, 'runts'))).toEqual([]);
    expect(hostDevNull()).toEqual(devNull);
  });

  const offered = fs.existsSync(UNIFIED) ? fs.readFileSync(path.join(UNIFIED, 'cgroup.controllers'), 'utf8').trim().split(/\s+/).filter(Boolean) : [];
  if (!fs.existsSync(UNIFIED)) console.log(`no cgroup2 at ${UNIFIED}: the delegated cgroup test is skipped`);
  it.skipIf(!fs.existsSync(UNIFIED))('a delegated cgroup2 subtree (RUNTS_CGROUP_MODE=v2): limits set, pause/resume, kill --all, delete removes the cgroup', async () => {
    const top = path.join(UNIFIED, `runts-rootless-${process.pid}`);
    const rootControl = fs.readFileSync(path.join(UNIFIED, 'cgroup.subtree_control'), 'utf8');
    const huge = offered.includes('hugetlb');
    if (!huge) console.log('the unified hierarchy offers no hugetlb: only placement, freeze and kill are checked');
    // the controller offered to the subtree by its (root-owned) parent, as a delegating systemd does
    if (huge && !rootControl.split(/\s+/).includes('hugetlb')) fs.writeFileSync(path.join(UNIFIED, 'cgroup.subtree_control'), '+hugetlb');
    fs.mkdirSync(top);
    const session = path.join(top, 'session');
    try {
      // what systemd does for a user: the subtree and its files belong to the user; runts runs inside it
      for (const f of ['', 'cgroup.procs', 'cgroup.subtree_control', 'cgroup.threads']) fs.chownSync(path.join(top, f), uid, gid);
      fs.mkdirSync(session);
      for (const f of ['', 'cgroup.procs', 'cgroup.threads']) fs.chownSync(path.join(session, f), uid, gid);
      const env = { RUNTS_CGROUP_MODE: 'v2' };
      const prefix = `echo $$ > ${session}/cgroup.procs`;
      const b = bundleOf((cfg) => {
        cfg.process.args = ['sleep', '300'];
        cfg.linux.cgroupsPath = `/${path.basename(top)}/ctr`;
        if (huge) cfg.linux.resources = { hugepageLimits: [{ pageSize: '2MB', limit: 4 << 20 }] };
      });
      const c = id('deleg');
      const r = ru(['run', '-d', '--bundle', b, c], { env, prefix });
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      const ctr = path.join(top, 'ctr');
      const pid = JSON.parse(ru(['state', c], { env }).stdout).pid;
      expect(fs.readFileSync(`/proc/${pid}/cgroup`, 'utf8')).toContain(`0::/${path.basename(top)}/ctr\n`);
      expect(fs.statSync(ctr).uid).toBe(uid);
      if (huge) expect(fs.readFileSync(path.join(ctr, 'hugetlb.2MB.max'), 'utf8').trim()).toBe(String(4 << 20));
      const ex = ru(['exec', '-d', c, 'sleep', '200'], { env, prefix });
      expect(ex.status, ex.stderr).toBe(0);
      expect(fs.readFileSync(path.join(ctr, 'cgroup.procs'), 'utf8').trim().split('\n').length).toBe(2);
      expect(ru(['pause', c], { env }).status).toBe(0);
      expect(JSON.parse(ru(['state', c], { env }).stdout).status).toBe('paused');
      expect(fs.readFileSync(path.join(ctr, 'cgroup.events'), 'utf8')).toMatch(/frozen 1/);
      expect(ru(['resume', c], { env }).status).toBe(0);
      expect(JSON.parse(ru(['state', c], { env }).stdout).status).toBe('running');
      expect(ru(['kill', '--all', c, 'KILL'], { env }).status).toBe(0);
      for (let i = 0; i < 100 && JSON.parse(ru(['state', c], { env }).stdout).status !== 'stopped'; i++) await sleep(50);
      expect(JSON.parse(ru(['state', c], { env }).stdout).status).toBe('stopped');
      expect(fs.readFileSync(path.join(ctr, 'cgroup.procs'), 'utf8').trim()).toBe('');
      const d = ru(['delete', c], { env });
      expect(d.status, d.stderr).toBe(0);
      expect(fs.existsSync(ctr)).toBe(false);
    } finally {
      for (const d of [path.join(top, 'ctr'), session, top]) try { fs.rmdirSync(d); } catch { /* gone, or busy */ }
      const before = new Set(rootControl.trim().split(/\s+/).filter(Boolean));
      const extra = fs.readFileSync(path.join(UNIFIED, 'cgroup.subtree_control'), 'utf8').trim().split(/\s+/).filter((x) => x && !before.has(x));
      if (extra.length) try { fs.writeFileSync(path.join(UNIFIED, 'cgroup.subtree_control'), extra.map((x) => `-${x}`).join(' ')); } catch { /* in use */ }
    }
  });
});
