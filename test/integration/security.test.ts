// Attacks on the runtime from inside the container (issue #14): what the container must not reach.
import { execFileSync, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Ctx, RUNTS, baseConfig, bundle, cleanupContext, context, rt, stateOf } from '../helpers';

let c: Ctx;
beforeAll(() => { c = context('sec'); });
afterAll(() => cleanupContext(c));

let seq = 0;
const uid = (p: string) => `${p}${process.pid}-${++seq}`;

/** The attack helper (security/attack.c) built static, or why it cannot be. */
function buildAttack(): string | undefined {
  const out = path.join(c.work, 'attack');
  if (fs.existsSync(out)) return out;
  const r = spawnSync('cc', ['-static', '-O2', '-o', out, path.join(__dirname, 'security', 'attack.c')], { encoding: 'utf8' });
  if (r.status !== 0) {
    console.log(`skipped: cannot build a static helper with cc: ${r.error?.message ?? r.stderr}`);
    return undefined;
  }
  return out;
}
const haveCc = spawnSync('cc', ['--version']).status === 0 && fs.existsSync('/usr/lib/x86_64-linux-gnu/libc.a');
if (!haveCc) console.log('skipped: the stub attack tests need cc and a static libc (build-essential)');

/** A config with the attack helper bound at /attack. */
function attackConfig(args: string[]): any {
  const cfg = baseConfig(args);
  cfg.mounts.push({ destination: '/attack', type: 'bind', source: buildAttack(), options: ['bind', 'ro'] });
  return cfg;
}

/** The lines of the helper that report a success ("what: ok"). */
const successes = (out: string) => out.split('\n').filter((l) => / ok$/.test(l));

describe('the init stub is not reachable from the container (non-dumpable until execve)', () => {
  it.skipIf(!haveCc)('an exec into a created container cannot open, read or ptrace the waiting init', () => {
    const id = uid('nd');
    const cfg = attackConfig(['sh', '-c', 'echo started']);
    const r = rt(c, ['create', '--bundle', bundle(c, cfg), id]);
    expect(r.status, r.stderr).toBe(0);
    try {
      const a = rt(c, ['exec', id, '/attack', '1']);
      expect(a.status, a.stderr).toBe(0);
      // every try reported (the fd list is not readable either, or each fd failed)
      expect(a.stdout).toMatch(/^mem rw: /m);
      expect(a.stdout).toMatch(/^ptrace attach: /m);
      expect(successes(a.stdout)).toEqual([]);
      expect(a.stdout).toMatch(/^ptrace attach: Operation not permitted$/m);
      // and the init still starts (an attach that stopped it would hang start)
      const s = rt(c, ['start', id], { timeout: 10_000 });
      expect(s.status, s.stderr).toBe(0);
    } finally {
      rt(c, ['delete', '--force', id]);
    }
  });

  it.skipIf(!haveCc)('a second container joining the pid namespace cannot reach a waiting init either', () => {
    const a = uid('nda');
    const b = uid('ndb');
    expect(rt(c, ['create', '--bundle', bundle(c, attackConfig(['true'])), a]).status).toBe(0);
    try {
      const pid = stateOf(c, a).pid;
      const cfg = attackConfig(['/attack', '1']);
      cfg.linux.namespaces = cfg.linux.namespaces.map((n: any) => (n.type === 'pid' ? { type: 'pid', path: `/proc/${pid}/ns/pid` } : n));
      const r = rt(c, ['run', '--bundle', bundle(c, cfg), b]);
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/^ptrace attach: /m);
      expect(successes(r.stdout)).toEqual([]);
    } finally {
      rt(c, ['delete', '--force', b]);
      rt(c, ['delete', '--force', a]);
    }
  });

  it.skipIf(!haveCc)('in a user namespace too, with the stub\'s own /proc/self writes (oom_score_adj, time offsets)', () => {
    const id = uid('ndu');
    const cfg = attackConfig(['sh', '-c', 'cat /proc/self/oom_score_adj; cat /proc/self/timens_offsets']);
    cfg.linux.namespaces.push({ type: 'user' }, { type: 'time' });
    cfg.linux.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
    cfg.linux.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
    cfg.linux.timeOffsets = { monotonic: { secs: 86400, nanosecs: 0 } };
    cfg.process.oomScoreAdj = 500;
    // the mapped root must reach the helper
    fs.chmodSync(c.work, 0o755);
    const r = rt(c, ['create', '--bundle', bundle(c, cfg), id]);
    expect(r.status, r.stderr).toBe(0);
    try {
      // exec into a created container: the stub joins the user namespace before the others, whose
      // /proc/<init>/ns files it can no longer open then (the init is still the non-dumpable stub)
      const a = rt(c, ['exec', id, '/attack', '1']);
      expect(a.status, a.stderr).toBe(0);
      expect(a.stdout).toMatch(/^ptrace attach: /m);
      expect(successes(a.stdout)).toEqual([]);
      const s = rt(c, ['start', id], { timeout: 10_000 });
      expect(s.status, s.stderr).toBe(0);
    } finally {
      rt(c, ['delete', '--force', id]);
    }
    const run = rt(c, ['run', '--bundle', bundle(c, { ...cfg, process: { ...cfg.process, args: ['sh', '-c', 'cat /proc/self/oom_score_adj; cat /proc/self/timens_offsets'] } }), uid('ndr')]);
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^500\nmonotonic\s+86400\s+0\n/);
  });
});

describe('the stub\'s file cannot be written through /proc/<pid>/exe (CVE-2019-5736)', () => {
  const O_PATH = 0o10000000;
  /**
   * What a process that got hold of the waiting init's exe (O_PATH) gets when, after the start, it reopens it
   * for writing and writes its first byte back: the error code, or 'written'. `bin` is the runtime to use.
   */
  function writeThroughExe(bin: string): { exe: string; result: string } {
    const id = uid('exe');
    // stderr into a file: the created init inherits it and would hold a pipe open
    const call = (args: string[]) => {
      const errFile = path.join(c.work, `${id}.err`);
      const err = fs.openSync(errFile, 'w+');
      try {
        const r = spawnSync(bin, ['--root', c.root, ...args], { stdio: ['ignore', 'ignore', err], timeout: 30_000 });
        return { status: r.status, stderr: fs.readFileSync(errFile, 'utf8') };
      } finally {
        fs.closeSync(err);
      }
    };
    const r = call(['create', '--bundle', bundle(c, baseConfig(['sleep', '60'])), id]);
    expect(r.status, r.stderr).toBe(0);
    let h: number | undefined;
    try {
      const pid = stateOf(c, id).pid;
      const exe = fs.readlinkSync(`/proc/${pid}/exe`);
      h = fs.openSync(`/proc/${pid}/exe`, O_PATH);
      // once started, the init runs sleep: the stub's file is no longer being executed by it (no ETXTBSY)
      const s = call(['start', id]);
      expect(s.status, s.stderr).toBe(0);
      expect(fs.readlinkSync(`/proc/${pid}/exe`)).not.toBe(exe);
      let result: string;
      try {
        const w = fs.openSync(`/proc/self/fd/${h}`, 'r+');
        try {
          const b = Buffer.alloc(1);
          fs.readSync(w, b, 0, 1, 0);
          fs.writeSync(w, b, 0, 1, 0);
          result = 'written';
        } finally {
          fs.closeSync(w);
        }
      } catch (e) {
        result = (e as NodeJS.ErrnoException).code ?? String(e);
      }
      return { exe, result };
    } finally {
      if (h !== undefined) fs.closeSync(h);
      call(['delete', '--force', id]);
    }
  }

  const besideStub = (() => {
    try {
      const real = fs.realpathSync(RUNTS);
      return fs.readdirSync(path.dirname(real)).some((f) => /^runts-init-[0-9a-f]{16}$/.test(f)) ? real : undefined;
    } catch { return undefined; }
  })();
  if (!besideStub) console.log('skipped: the runtime under test has no stub installed beside it (not dist/runts)');
  const haveOverlay = fs.readFileSync('/proc/filesystems', 'utf8').includes('\toverlay\n');
  if (!haveOverlay) console.log('the kernel has no overlayfs: the stub runs from a sealed memfd');
  it('the stub installed beside the executable runs from a read-only overlayfs (EROFS)', () => {
    const { exe, result } = writeThroughExe(RUNTS);
    if (besideStub && haveOverlay) {
      // dist/runts: the stub beside it, not the fallbacks
      expect(exe).toMatch(/^\/runts-init-[0-9a-f]{16}$/);
      expect(fs.existsSync(path.join(path.dirname(besideStub), exe))).toBe(true);
    }
    expect(exe).toMatch(/^\/(memfd:runts-init|runts-init(-[0-9a-f]{16})?$)/);
    expect(result).toBe(exe.startsWith('/memfd:') ? 'EPERM' : 'EROFS');
  });

  it.skipIf(!besideStub)('an executable copied without its stub runs the embedded one from a sealed memfd (EPERM)', () => {
    const alone = path.join(c.work, 'alone');
    fs.mkdirSync(alone, { recursive: true });
    fs.copyFileSync(besideStub!, path.join(alone, 'runts'));
    fs.chmodSync(path.join(alone, 'runts'), 0o755);
    // a file of the stub's name in the state root (the overlay's other layer) must not stand in for the stub
    const stubName = fs.readdirSync(path.dirname(besideStub!)).find((f) => /^runts-init-[0-9a-f]{16}$/.test(f))!;
    const planted = path.join(c.root, stubName);
    fs.copyFileSync('/bin/true', planted);
    fs.chmodSync(planted, 0o755);
    try {
      const { exe, result } = writeThroughExe(path.join(alone, 'runts'));
      expect(exe).toMatch(/^\/memfd:runts-init/);
      expect(result).toBe('EPERM');
    } finally {
      fs.rmSync(planted, { force: true });
    }
  });
});

describe('the working directory stays inside the container', () => {
  /** Runs the runtime with fd 3 a host directory holding a marker file. */
  function withHostDir(args: string[]) {
    const host = fs.mkdtempSync(path.join(c.work, 'hostdir-'));
    fs.writeFileSync(path.join(host, 'marker'), 'HOST-SECRET\n');
    const fd = fs.openSync(host, 'r');
    try {
      return spawnSync(RUNTS, ['--root', c.root, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe', fd], timeout: 30_000 });
    } finally {
      fs.closeSync(fd);
    }
  }

  it('exec --cwd through a host directory fd (--preserve-fds) is refused', () => {
    const id = uid('cwd');
    expect(rt(c, ['run', '-d', '--bundle', bundle(c, baseConfig(['sleep', '60'])), id]).status).toBe(0);
    try {
      const r = withHostDir(['exec', '--preserve-fds', '1', '--cwd', '/proc/self/fd/3', id, 'cat', 'marker']);
      expect(r.stdout).not.toMatch(/HOST-SECRET/);
      expect(r.status).not.toBe(0);
      expect(r.stderr).toMatch(/current working directory is outside of container mount namespace root/);
      // a cwd inside the container still works, through a magic link too
      const ok = rt(c, ['exec', '--cwd', '/proc/self/root/tmp', id, 'pwd']);
      expect(ok.status, ok.stderr).toBe(0);
      expect(ok.stdout).toBe('/tmp\n');
    } finally {
      rt(c, ['delete', '--force', id]);
    }
  });

  it('process.cwd that became a link to a host directory fd (create --preserve-fds) is refused', () => {
    // MKDIR of the cwd refuses magic links; a createContainer hook then swaps the directory for a symlink to
    // /proc/self/fd/3 (the preserved host directory), which the CHDIR after the root switch follows
    const id = uid('cwdc');
    const cfg = baseConfig(['cat', 'marker']);
    cfg.mounts.push({ destination: '/w', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev'] });
    cfg.process.cwd = '/w/x';
    const x = path.join(cfg.root.path, 'w', 'x');
    cfg.hooks = { createContainer: [{ path: '/bin/sh', args: ['sh', '-c', `rmdir ${x} && ln -s /proc/self/fd/3 ${x}`] }] };
    const r = withHostDir(['run', '--preserve-fds', '1', '--bundle', bundle(c, cfg), id]);
    rt(c, ['delete', '--force', id]);
    expect(r.stdout).not.toMatch(/HOST-SECRET/);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/current working directory is outside of container mount namespace root/);
  });

});

describe('run --no-pivot leaves no full procfs/sysfs of the host in the container\'s mount namespace', () => {
  // a nested user namespace (with its own pid and network namespaces) may mount procfs/sysfs only while a
  // fully visible one is in its mount namespace; with --no-pivot the host's stayed there, under the moved root
  const inner = 'mkdir -p /tmp/p /tmp/s; mount -t proc proc /tmp/p && echo MOUNTED-PROC; mount -t sysfs sysfs /tmp/s && echo MOUNTED-SYSFS; true';
  const nested = (noPivot: boolean, userns = false) => {
    const cfg = baseConfig(['sh', '-c', `unshare -Urmpfn sh -c '${inner}' 2>&1; grep -cE " - (proc|sysfs) " /proc/self/mountinfo`]);
    // not root: mapping 0 in the nested user namespace then needs no CAP_SETFCAP
    cfg.process.user = { uid: 1000, gid: 1000 };
    if (userns) {
      // the host's mounts are locked there: the stub cannot unmount them and covers them with a tmpfs
      cfg.linux.namespaces.push({ type: 'user' });
      cfg.linux.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
      cfg.linux.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
      fs.chmodSync(c.work, 0o755);
    }
    const r = rt(c, ['run', ...(noPivot ? ['--no-pivot'] : []), '--bundle', bundle(c, cfg), uid('np')]);
    expect(r.status, r.stderr).toBe(0);
    return r.stdout;
  };

  it('a nested user namespace cannot mount procfs or sysfs, as with pivot_root', () => {
    const pivot = nested(false);
    const noPivot = nested(true);
    expect(pivot).not.toMatch(/MOUNTED/);
    expect(noPivot).not.toMatch(/MOUNTED/);
    expect(noPivot).toMatch(/mount: permission denied/);
    // the container's own /proc and /sys (plus the read-only /proc subpaths) are still there
    expect(noPivot.trim().split('\n').pop()).toBe(pivot.trim().split('\n').pop());
  });

  it('in a user namespace too (the host mounts are locked there and get covered)', () => {
    const out = nested(true, true);
    expect(out).not.toMatch(/MOUNTED/);
    expect(out).toMatch(/mount: permission denied/);
  });
});
