// Rootless podman (4.3, through conmon) drives the runtime under test (E2E_RUNTIME, default bin/runts) as an
// unprivileged user made for the suite (with /etc/subuid and /etc/subgid ranges; removed afterwards, both files
// restored exactly). podman runs the runtime inside the user namespace it makes with newuidmap, as uid 0 there.
// Everything of podman's is the user's and in the suite's temp dir: --root/--runroot/--tmpdir, HOME,
// XDG_RUNTIME_DIR (mode 0700), a containers.conf and storage.conf (vfs storage, cgroupfs, file events, no network).
// cgroups: on a cgroup v1 (hybrid) host rootless podman gives the runtime no cgroupsPath and no resources, so the
// runtime goes without a cgroup; `--cgroups=disabled` is not used: podman then passes crun's global flag
// `--cgroup-manager disabled`, which neither runc nor runts has. The runtime and the image are copied into a dir
// the user can read.
// Every runtime call goes through the logging wrapper of e2e.ts; failures print the calls behind them.
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  IMAGE, IMAGE_TAR, RUNTIME, Res, Wrapper, ensureImage, explain, hostDevices, makeWrapper, missingTools, removeDir,
  runCmd, traceOf,
} from './e2e';
import { scratchDir } from '../helpers';

const TOOLS = ['podman', 'conmon', 'useradd', 'userdel', 'setpriv', 'newuidmap', 'newgidmap'];
const missing = missingTools(TOOLS);
const skip = missing.length ? `e2e rootless podman suite skipped: ${missing.join(', ')} not installed (bash scripts/setup-e2e.sh installs them)`
  : process.getuid!() !== 0 ? 'e2e rootless podman suite skipped: it runs as root (it makes and removes a user)' : undefined;
if (skip) console.warn(skip);
const T = 60_000; // per case

const NAME = `rlpm${process.pid}`;
const SUB = ['/etc/subuid', '/etc/subgid'];
const saved = new Map<string, Buffer>();
let uid = 0;
let gid = 0;
let dir: string;
let wrap: Wrapper;
let env: NodeJS.ProcessEnv;
let devicesBefore: Record<string, string>;
let seq = 0;

function globalArgs(): string[] {
  return [
    '--root', path.join(dir, 'root'),
    '--runroot', path.join(dir, 'runroot'),
    '--tmpdir', path.join(dir, 'tmp'),
    '--runtime', wrap.path,
    '--cgroup-manager', 'cgroupfs',
    '--events-backend', 'file',
    '--storage-driver', 'vfs',
  ];
}

/** podman as the user, with a clean environment. */
function podman(args: string[], opts: { timeout?: number; input?: string } = {}): Res {
  return runCmd('setpriv', ['--reuid', String(uid), '--regid', String(gid), '--init-groups', 'podman', ...globalArgs(), ...args],
    { timeout: opts.timeout ?? 45_000, input: opts.input, env, scratch: dir });
}

const name = (tag: string) => `e2e-rl-${tag}-${process.pid}-${++seq}`;

/** Runtime calls of the most recent container (for a --rm run whose id is gone). */
function lastTrace(): string {
  const lines = traceOf(wrap).split('\n');
  let start = 0;
  lines.forEach((l, i) => { if (/ create /.test(l)) start = i; });
  return lines.slice(start).join('\n');
}

const ids = new Map<string, string>();
function check(r: Res, n?: string): string {
  const id = n && ids.get(n);
  return explain(r, id ? traceOf(wrap, id) : lastTrace());
}

function runRm(flags: string[], cmd: string[], opts: { input?: string } = {}): Res {
  return podman(['run', '--rm', '--network', 'none', '--name', name('run'), ...flags, IMAGE, ...cmd], opts);
}

/** The pids of the user's processes (podman's pause process, conmon, containers). */
function userPids(): number[] {
  const out: number[] = [];
  for (const e of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      if (fs.statSync(`/proc/${e}`).uid === uid) out.push(Number(e));
    } catch { /* gone */ }
  }
  return out;
}

describe.skipIf(!!skip)('rootless podman e2e', () => {
  beforeAll(() => {
    ensureImage();
    devicesBefore = hostDevices();
    for (const f of SUB) saved.set(f, fs.readFileSync(f));
    const add = spawnSync('useradd', ['-M', '-U', '-s', '/bin/sh', NAME], { encoding: 'utf8' });
    if (add.status !== 0) throw new Error(`useradd: ${add.stderr}`);
    const idOf = (flag: string) => Number(spawnSync('id', [flag, NAME], { encoding: 'utf8' }).stdout.trim());
    uid = idOf('-u');
    gid = idOf('-g');
    // a range of our own beyond every range in either file; what useradd added for the user is kept
    const now = SUB.map((f) => fs.readFileSync(f, 'utf8'));
    const used = now.flatMap((t) => t.split('\n').map((l) => l.split(':')).filter((p) => p.length === 3).map((p) => Number(p[1]) + Number(p[2])));
    const start = Math.max(100000, ...used) + 65536;
    SUB.forEach((f, i) => fs.writeFileSync(f, `${now[i]}${now[i] && !now[i].endsWith('\n') ? '\n' : ''}${NAME}:${start}:65536\n`));

    dir = scratchDir('podman-rl');
    fs.chmodSync(dir, 0o755);
    const mine = (p: string, mode = 0o755) => { fs.mkdirSync(p, { recursive: true, mode }); fs.chmodSync(p, mode); fs.chownSync(p, uid, gid); };
    for (const d of ['home', 'tmp', 'net', 'volumes', 'root', 'runroot']) mine(path.join(dir, d), 0o700);
    mine(path.join(dir, 'xdg'), 0o700);
    // the runtime and the image where the user can read them (the checkout may be anywhere)
    const bin = path.join(dir, 'bin');
    fs.mkdirSync(bin, { mode: 0o755 });
    const rt = path.join(bin, path.basename(RUNTIME));
    fs.copyFileSync(fs.realpathSync(RUNTIME), rt);
    fs.chmodSync(rt, 0o755);
    const tar = path.join(dir, 'busybox.tar');
    fs.copyFileSync(IMAGE_TAR, tar);
    fs.chmodSync(tar, 0o644);
    wrap = makeWrapper(dir, rt);
    // the wrapper runs as the user: its log and copies are the user's
    fs.chownSync(wrap.log, uid, gid);
    fs.chownSync(wrap.keep, uid, gid);

    fs.writeFileSync(path.join(dir, 'containers.conf'), `# e2e: rootless podman's whole configuration (test/e2e/podman-rootless.test.ts)
[containers]
netns = "none"
log_driver = "k8s-file"

[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "${dir}/tmp/events.log"
tmp_dir = "${dir}/tmp"
volume_path = "${dir}/volumes"
# podman passes --log-format=json --log FILE only to the runtimes named here (by base name)
runtime_supports_json = ["crun", "runc", "kata", "runsc", "krun", "runts"]

[network]
network_config_dir = "${dir}/net"
`, { mode: 0o644 });
    fs.writeFileSync(path.join(dir, 'storage.conf'), `[storage]
driver = "vfs"
graphroot = "${dir}/root"
runroot = "${dir}/runroot"
`, { mode: 0o644 });
    env = {
      PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
      HOME: path.join(dir, 'home'),
      USER: NAME,
      LOGNAME: NAME,
      XDG_RUNTIME_DIR: path.join(dir, 'xdg'),
      CONTAINERS_CONF: path.join(dir, 'containers.conf'),
      CONTAINERS_STORAGE_CONF: path.join(dir, 'storage.conf'),
      TMPDIR: path.join(dir, 'tmp'),
    };
    const r = podman(['load', '-q', '-i', tar], { timeout: 120_000 });
    if (r.status !== 0) throw new Error(explain(r, ''));
    console.log(`e2e rootless podman: user ${NAME} (${uid}), runtime ${RUNTIME} (copied to ${rt}, through ${wrap.path}); calls logged in ${wrap.log}`);
  }, 180_000);

  afterAll(() => {
    try {
      if (dir && uid) {
        podman(['rm', '-a', '-f', '-t', '0'], { timeout: 60_000 });
        podman(['system', 'reset', '-f'], { timeout: 60_000 });
      }
    } finally {
      // podman's pause process (it keeps the user namespace) and anything else the user still runs: ours
      if (uid) {
        for (const pid of userPids()) try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
        for (let i = 0; i < 50 && userPids().length; i++) spawnSync('sleep', ['0.1']);
        spawnSync('userdel', [NAME]);
      }
      for (const [f, b] of saved) fs.writeFileSync(f, b);
      if (dir) removeDir(dir);
    }
    if (devicesBefore) expect(hostDevices()).toEqual(devicesBefore);
  }, 120_000);

  it('the runtime runs inside podman\'s user namespace, as uid 0 there', () => {
    const r = runRm([], ['sh', '-c', 'id -u; cat /proc/self/uid_map']);
    expect(r.status, check(r)).toBe(0);
    const lines = r.stdout.trim().split('\n').map((l) => l.trim().split(/\s+/).join(' '));
    expect(lines[0], check(r)).toBe('0');
    expect(lines[1], check(r)).toBe(`0 ${uid} 1`);
    expect(lines.length, check(r)).toBeGreaterThan(2); // the subuid range(s) through newuidmap
  }, T);

  describe('run --rm', () => {
    it('prints the output and exits 0', () => {
      const r = runRm([], ['echo', 'hello from rootless podman']);
      expect(r.status, check(r)).toBe(0);
      expect(r.stdout, check(r)).toBe('hello from rootless podman\n');
    }, T);

    it('exits with the container status (3), stdout and stderr apart', () => {
      const r = runRm([], ['sh', '-c', 'echo out; echo err >&2; exit 3']);
      expect(r.status, check(r)).toBe(3);
      expect(r.stdout, check(r)).toBe('out\n');
      expect(r.stderr, check(r)).toContain('err\n');
    }, T);

    it('exits 127 for a command that does not exist', () => {
      const r = runRm([], ['/no/such/command']);
      expect(r.status, check(r)).toBe(127);
    }, T);

    it('device nodes are usable and the host\'s stay unchanged', () => {
      const r = runRm([], ['sh', '-c', 'echo x >/dev/null && head -c 3 /dev/zero | wc -c && stat -c "%t,%T" /dev/null']);
      expect(r.status, check(r)).toBe(0);
      expect(r.stdout, check(r)).toBe('3\n1,3\n');
      expect(hostDevices()).toEqual(devicesBefore);
    }, T);
  });

  it('run -d, exec (output, exit code, -t), stop (SIGTERM reaches the container), rm', () => {
    const n = name('det');
    const d = podman(['run', '-d', '--network', 'none', '--name', n, IMAGE, 'sh', '-c', 'trap "exit 42" TERM; sleep 1000 & wait']);
    expect(d.status, check(d)).toBe(0);
    const id = d.stdout.trim();
    ids.set(n, id);
    expect(id).toMatch(/^[0-9a-f]{64}$/);
    try {
      const st = podman(['inspect', '--format', '{{.State.Status}} {{.State.Pid}}', n]);
      expect(st.stdout.trim(), check(st, n)).toMatch(/^running [1-9]\d*$/);
      const pid = Number(st.stdout.trim().split(' ')[1]);
      // the container's init runs as the user on the host
      expect(fs.readFileSync(`/proc/${pid}/status`, 'utf8')).toMatch(new RegExp(`\\nUid:\\s+${uid}\\s`));

      const e = podman(['exec', n, 'sh', '-c', 'echo in; id -u; cat /proc/1/cmdline | tr "\\0" " "; exit 5']);
      expect(e.status, check(e, n)).toBe(5);
      expect(e.stdout, check(e, n)).toBe('in\n0\nsh -c trap "exit 42" TERM; sleep 1000 & wait ');

      const t = podman(['exec', '-t', n, 'tty']);
      expect(t.status, check(t, n)).toBe(0);
      expect(t.stdout.trim(), check(t, n)).toMatch(/^\/dev\/pts\/\d+$/);

      const s = podman(['stop', '-t', '10', n]);
      expect(s.status, check(s, n)).toBe(0);
      const ex = podman(['inspect', '--format', '{{.State.Status}} {{.State.ExitCode}}', n]);
      expect(ex.stdout.trim(), check(ex, n)).toBe('exited 42');
      expect(fs.existsSync(`/proc/${pid}/status`) && !/State:\s+Z/.test(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))).toBe(false);

      const rm = podman(['rm', n]);
      expect(rm.status, check(rm, n)).toBe(0);
      expect(podman(['ps', '-a', '-q', '--filter', `name=${n}`]).stdout.trim()).toBe('');
      // nothing of the container is left in the runtime's state root (runts: $XDG_RUNTIME_DIR/runts)
      const stateRoot = path.join(dir, 'xdg', path.basename(RUNTIME));
      if (fs.existsSync(stateRoot)) expect(fs.readdirSync(stateRoot)).toEqual([]);
    } finally {
      podman(['rm', '-f', '-t', '0', n]);
    }
  }, 120_000);
});
