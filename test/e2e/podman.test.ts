// podman (4.3, through conmon) drives the runtime under test (E2E_RUNTIME, default bin/runts).
// podman runs with its own isolated everything: --root/--runroot/--tmpdir in a temp dir, cgroupfs, file
// events, overlay storage, no network, and a containers.conf (CONTAINERS_CONF) that pins default_ulimits to
// what this host can grant (no CAP_SYS_RESOURCE: raising a hard rlimit fails for any runtime).
// Every runtime call goes through a wrapper that logs argv and keeps config.json (see e2e.ts); failures print
// the calls behind them.
import * as fs from 'fs';
import * as path from 'path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  IMAGE, IMAGE_TAR, RUNTIME, Res, TRACE, Wrapper, cgroupDirs, createdIds, ensureImage, explain, hardLimit,
  hostDevices, makeWrapper, removeDir, removeNewCgroups, runCmd, skipReason, traceOf, until,
} from './e2e';
import { scratchDir } from '../helpers';

const skip = skipReason('podman', ['podman', 'conmon']);
const T = 60_000; // per case

let dir: string;
let wrap: Wrapper;
let env: NodeJS.ProcessEnv;
let devicesBefore: Record<string, string>;
// podman with cgroupfs makes /libpod_parent (conmon's cgroup and the containers' under it): what existed
// before the suite is kept, what it made is removed at the end.
let cgroupsBefore: string[] = [];
let seq = 0;

function globalArgs(): string[] {
  return [
    '--root', path.join(dir, 'root'),
    '--runroot', path.join(dir, 'runroot'),
    '--tmpdir', path.join(dir, 'tmp'),
    '--runtime', wrap.path,
    '--cgroup-manager', 'cgroupfs',
    '--events-backend', 'file',
    '--storage-driver', process.env.E2E_STORAGE_DRIVER || 'overlay',
  ];
}

function podman(args: string[], opts: { timeout?: number; input?: string } = {}): Res {
  return runCmd('podman', [...globalArgs(), ...args], { timeout: opts.timeout ?? 45_000, input: opts.input, env, scratch: dir });
}

/** A fresh container name for one case. */
function name(tag: string): string {
  return `e2e-${tag}-${process.pid}-${++seq}`;
}

/** The runtime calls behind a container (its name is not in them: resolve the id while it exists). */
function trace(nameOrId?: string): string {
  if (!nameOrId) return traceOf(wrap);
  const id = idOf(nameOrId) ?? nameOrId;
  return traceOf(wrap, id);
}

const ids = new Map<string, string>();
function idOf(n: string): string | undefined {
  if (ids.has(n)) return ids.get(n);
  if (/^[0-9a-f]{64}$/.test(n)) return n;
  const r = runCmd('podman', [...globalArgs(), 'inspect', '--format', '{{.Id}}', n], { env, scratch: dir, timeout: 20_000 });
  const id = r.status === 0 ? r.stdout.trim() : undefined;
  if (id) ids.set(n, id);
  return id;
}

function check(r: Res, n?: string): string {
  return explain(r, trace(n));
}

/** `podman run --rm --network none [flags] IMAGE cmd...` */
function runRm(flags: string[], cmd: string[], opts: { timeout?: number; input?: string } = {}): Res {
  const n = name('run');
  return podman(['run', '--rm', '--network', 'none', '--name', n, ...flags, IMAGE, ...cmd], opts);
}

/** Runtime calls of the most recent container (for a --rm run whose id is gone). */
function lastTrace(): string {
  const text = traceOf(wrap);
  const lines = text.split('\n');
  let start = 0;
  lines.forEach((l, i) => { if (/ create /.test(l)) start = i; });
  return lines.slice(start).join('\n');
}

function runRmCheck(r: Res): string {
  return explain(r, lastTrace());
}

/** Start a detached container running `cmd` (default: a shell that exits 42 on SIGTERM). */
function runDetached(n: string, flags: string[] = [], cmd = ['sh', '-c', 'trap "exit 42" TERM; sleep 1000 & wait']): Res {
  const r = podman(['run', '-d', '--network', 'none', '--name', n, ...flags, IMAGE, ...cmd]);
  if (r.status === 0) ids.set(n, r.stdout.trim());
  return r;
}

function inspect(n: string, format: string): string {
  const r = podman(['inspect', '--format', format, n]);
  return r.status === 0 ? r.stdout.trim() : `<inspect failed: ${r.stderr.trim()}>`;
}

function rmForce(n: string): void {
  podman(['rm', '-f', '-t', '0', n]);
}

describe.skipIf(!!skip)('podman e2e', () => {
  beforeAll(() => {
    ensureImage();
    dir = scratchDir('podman');
    wrap = makeWrapper(dir);
    const nofile = hardLimit('Max open files') ?? 1048576;
    const nproc = Math.min(hardLimit('Max processes') ?? 32768, 32768);
    fs.mkdirSync(path.join(dir, 'net'));
    fs.writeFileSync(path.join(dir, 'containers.conf'), `# e2e: podman's whole configuration (test/e2e/podman.test.ts)
[containers]
default_ulimits = ["nofile=${nofile}:${nofile}", "nproc=${nproc}:${nproc}"]
netns = "none"
log_driver = "k8s-file"

[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "${dir}/events.log"
tmp_dir = "${dir}/tmp"
volume_path = "${dir}/volumes"
# podman passes --log-format=json --log FILE only to the runtimes named here (by base name)
runtime_supports_json = ["crun", "runc", "kata", "runsc", "krun", "runts"]

[network]
network_config_dir = "${dir}/net"
`);
    fs.writeFileSync(path.join(dir, 'storage.conf'), `[storage]
driver = "${process.env.E2E_STORAGE_DRIVER || 'overlay'}"
graphroot = "${dir}/root"
runroot = "${dir}/runroot"
`);
    env = {
      ...process.env,
      CONTAINERS_CONF: path.join(dir, 'containers.conf'),
      CONTAINERS_STORAGE_CONF: path.join(dir, 'storage.conf'),
      TMPDIR: path.join(dir, 'tmp'),
    };
    fs.mkdirSync(path.join(dir, 'tmp'));
    devicesBefore = hostDevices();
    cgroupsBefore = cgroupDirs('libpod_parent');
    // `podman load` also writes containers/image's blob-info cache, always under /var/lib/containers/cache for
    // root: it runs in a mount namespace of its own with a tmpfs there, so the host's is never touched.
    const hide = fs.existsSync('/var/lib/containers') ? '/var/lib/containers' : '/var/lib';
    if (dir.startsWith(`${hide}/`)) throw new Error(`the e2e dir ${dir} must not be under ${hide}`);
    const r = runCmd('unshare', ['--mount', '--propagation', 'private', 'sh', '-c',
      'mount -t tmpfs -o size=16m,mode=700 e2e-blob-cache "$0" && exec "$@"', hide, 'podman', ...globalArgs(),
      'load', '-q', '-i', IMAGE_TAR], { timeout: 120_000, env, scratch: dir });
    if (r.status !== 0) throw new Error(explain(r, ''));
    console.log(`e2e podman: runtime ${RUNTIME}${wrap.path !== RUNTIME ? ` (through ${wrap.path})` : ''}; calls logged in ${wrap.log}`);
  }, 180_000);

  afterAll(() => {
    if (!dir) return;
    podman(['rm', '-a', '-f', '-t', '0'], { timeout: 60_000 });
    podman(['system', 'reset', '-f'], { timeout: 60_000 });
    removeDir(dir);
    // only libpod_parent itself, conmon's cgroup and our containers' (a runtime should have removed those)
    const ours = new Set(['libpod_parent', 'conmon', ...createdIds(wrap).flatMap((id) => [`libpod-${id}`, `libpod-conmon-${id}`])]);
    const left = removeNewCgroups('libpod_parent', cgroupsBefore, (d) => ours.has(path.basename(d)));
    if (left.length) console.warn(`e2e podman: cgroups left (busy): ${left.join(' ')}`);
  }, 120_000);

  describe('run --rm', () => {
    it('prints the output and exits 0', () => {
      const r = runRm([], ['echo', 'hello from podman']);
      expect(r.status, runRmCheck(r)).toBe(0);
      expect(r.stdout, runRmCheck(r)).toBe('hello from podman\n');
    }, T);

    it('exits with the container status (3)', () => {
      const r = runRm([], ['sh', '-c', 'echo out; echo err >&2; exit 3']);
      expect(r.status, runRmCheck(r)).toBe(3);
      expect(r.stdout).toBe('out\n');
      expect(r.stderr).toContain('err\n');
    }, T);

    it('exits 127 for a command that does not exist', () => {
      const r = runRm([], ['/no/such/command']);
      expect(r.status, runRmCheck(r)).toBe(127);
      expect(r.stderr, runRmCheck(r)).toMatch(/no such file or directory|not found/i);
    }, T);

    it('exits 126 for a command that is not executable', () => {
      const r = runRm([], ['/etc/passwd']);
      expect(r.status, runRmCheck(r)).toBe(126);
    }, T);

    it('passes stdin with -i', () => {
      const r = runRm(['-i'], ['sh', '-c', 'cat; echo done'], { input: 'line one\nline two\n' });
      expect(r.status, runRmCheck(r)).toBe(0);
      expect(r.stdout, runRmCheck(r)).toBe('line one\nline two\ndone\n');
    }, T);

    it('20 sequential runs', async () => {
      const t0 = Date.now();
      for (let i = 0; i < 20; i++) {
        const r = runRm([], ['sh', '-c', `echo run-${i}`]);
        expect(r.status, runRmCheck(r)).toBe(0);
        expect(r.stdout).toBe(`run-${i}\n`);
        // yield: a worker blocked past 60 s fails vitest's run ("Timeout calling onTaskUpdate")
        await new Promise((res) => setImmediate(res));
      }
      console.log(`e2e podman: 20 sequential runs in ${Date.now() - t0} ms`);
    }, 120_000);
  });

  describe('detached containers', () => {
    it('run -d, ps, inspect, stop (SIGTERM), rm', async () => {
      const n = name('stop');
      try {
        const r = runDetached(n);
        expect(r.status, check(r, n)).toBe(0);
        const ps = podman(['ps', '--format', 'json']);
        expect(ps.status, check(ps, n)).toBe(0);
        const listed = (JSON.parse(ps.stdout) as { Names: string[]; State: string }[]).filter((c) => c.Names.includes(n));
        expect(listed.map((c) => c.State), check(ps, n)).toEqual(['running']);
        expect(inspect(n, '{{.State.Status}} {{.State.Running}}')).toBe('running true');
        const pid = Number(inspect(n, '{{.State.Pid}}'));
        expect(pid).toBeGreaterThan(0);
        expect(fs.existsSync(`/proc/${pid}`)).toBe(true);
        const stop = podman(['stop', '-t', '10', n]);
        expect(stop.status, check(stop, n)).toBe(0);
        expect(inspect(n, '{{.State.Status}} {{.State.ExitCode}}'), trace(n)).toBe('exited 42');
        const ps2 = podman(['ps', '--format', '{{.Names}}']);
        expect(ps2.stdout).not.toContain(n);
        const rm = podman(['rm', n]);
        expect(rm.status, check(rm, n)).toBe(0);
        expect(podman(['inspect', n]).status).not.toBe(0);
      } finally { rmForce(n); }
    }, T);

    it('stop falls back to SIGKILL when SIGTERM is ignored', () => {
      const n = name('stopkill');
      try {
        // sleep as pid 1 of its pid namespace: SIGTERM has no effect
        const r = runDetached(n, [], ['sleep', '1000']);
        expect(r.status, check(r, n)).toBe(0);
        const stop = podman(['stop', '-t', '1', n]);
        expect(stop.status, check(stop, n)).toBe(0);
        expect(inspect(n, '{{.State.Status}} {{.State.ExitCode}}'), trace(n)).toBe('exited 137');
      } finally { rmForce(n); }
    }, T);

    it('kill (default SIGKILL, and -s TERM)', async () => {
      const n = name('kill');
      try {
        expect(runDetached(n).status).toBe(0);
        const k = podman(['kill', '-s', 'TERM', n]);
        expect(k.status, check(k, n)).toBe(0);
        const st = await until(() => inspect(n, '{{.State.Status}} {{.State.ExitCode}}') === 'exited 42' || undefined);
        expect(st, `${inspect(n, '{{.State.Status}} {{.State.ExitCode}}')}\n${trace(n)}`).toBe(true);
        // restart it and kill with the default signal
        const s = podman(['start', n]);
        expect(s.status, check(s, n)).toBe(0);
        expect(inspect(n, '{{.State.Status}}')).toBe('running');
        const k9 = podman(['kill', n]);
        expect(k9.status, check(k9, n)).toBe(0);
        const st9 = await until(() => inspect(n, '{{.State.Status}} {{.State.ExitCode}}') === 'exited 137' || undefined);
        expect(st9, `${inspect(n, '{{.State.Status}} {{.State.ExitCode}}')}\n${trace(n)}`).toBe(true);
        const rm = podman(['rm', n]);
        expect(rm.status, check(rm, n)).toBe(0);
      } finally { rmForce(n); }
    }, T);

    it('rm -f of a running container', () => {
      const n = name('rmf');
      try {
        expect(runDetached(n).status).toBe(0);
        const pid = Number(inspect(n, '{{.State.Pid}}'));
        const rm = podman(['rm', '-f', '-t', '2', n]);
        expect(rm.status, check(rm, n)).toBe(0);
        expect(podman(['inspect', n]).status).not.toBe(0);
        expect(fs.existsSync(`/proc/${pid}`)).toBe(false);
      } finally { rmForce(n); }
    }, T);
  });

  describe('exec', () => {
    it('output and exit code', () => {
      const n = name('exec');
      try {
        expect(runDetached(n).status).toBe(0);
        const e = podman(['exec', n, 'sh', '-c', 'echo exec-out; echo exec-err >&2; exit 5']);
        expect(e.status, check(e, n)).toBe(5);
        expect(e.stdout).toBe('exec-out\n');
        expect(e.stderr).toContain('exec-err');
        // it runs in the container: same pid namespace, pid 1 is the container's shell
        const e2 = podman(['exec', n, 'cat', '/proc/1/cmdline']);
        expect(e2.status, check(e2, n)).toBe(0);
        expect(e2.stdout.replace(/\0/g, ' ')).toContain('trap "exit 42" TERM');
        const e3 = podman(['exec', n, '/no/such/command']);
        expect(e3.status, check(e3, n)).toBe(127);
        const e4 = podman(['exec', '-i', n, 'cat'], { input: 'through stdin\n' });
        expect(e4.status, check(e4, n)).toBe(0);
        expect(e4.stdout).toBe('through stdin\n');
      } finally { rmForce(n); }
    }, T);

    it('exec --user, --env, --workdir', () => {
      const n = name('execopts');
      try {
        expect(runDetached(n).status).toBe(0);
        const e = podman(['exec', '--user', '1000:2000', '--env', 'E2E_X=exec-env', '--workdir', '/tmp', n,
          'sh', '-c', 'echo "$(id -u):$(id -g) $E2E_X $(pwd)"']);
        expect(e.status, check(e, n)).toBe(0);
        expect(e.stdout).toBe('1000:2000 exec-env /tmp\n');
      } finally { rmForce(n); }
    }, T);

    it('exec -t gets a terminal', () => {
      const n = name('exect');
      try {
        expect(runDetached(n).status).toBe(0);
        const e = podman(['exec', '-t', n, 'sh', '-c', 'tty; test -t 1 && echo stdout-is-a-tty']);
        expect(e.status, check(e, n)).toBe(0);
        expect(e.stdout.replace(/\r/g, '')).toMatch(/^\/dev\/pts\/\d+\nstdout-is-a-tty\n$/);
      } finally { rmForce(n); }
    }, T);
  });

  describe('terminal', () => {
    // issue #15: each exec -t bound its pty over /dev/console, so the second one failed (podman: exit 127)
    it('exec -t twice into a container started with -t: both work, /dev/console stays pts/0', () => {
      const n = name('exect2');
      try {
        expect(runDetached(n, ['-t']).status).toBe(0);
        for (let i = 0; i < 2; i++) {
          const e = podman(['exec', '-t', n, 'sh', '-c', 'tty; stat -c "console %t,%T" /dev/console']);
          expect(e.status, `exec -t #${i + 1}: ${check(e, n)}`).toBe(0);
          expect(e.stdout.replace(/\r/g, ''), check(e, n)).toMatch(/^\/dev\/pts\/[1-9]\d*\nconsole 88,0\n$/);
        }
      } finally { rmForce(n); }
    }, T);

    it('run -t: the pty comes through the console socket', () => {
      // (no `stty size`: conmon gets no window size from a test without a terminal, and busybox fails on 0x0)
      const r = runRm(['-t'], ['sh', '-c', 'tty; test -t 0 && echo stdin-is-a-tty; test -t 1 && echo stdout-is-a-tty; echo "TERM=$TERM"']);
      expect(r.status, runRmCheck(r)).toBe(0);
      expect(r.stdout.replace(/\r/g, ''), runRmCheck(r)).toMatch(/^\/dev\/pts\/0\nstdin-is-a-tty\nstdout-is-a-tty\nTERM=xterm\n$/);
      if (TRACE) expect(lastTrace()).toMatch(/--console-socket/);
    }, T);

    it('run -t exit status', () => {
      const r = runRm(['-t'], ['sh', '-c', 'exit 7']);
      expect(r.status, runRmCheck(r)).toBe(7);
    }, T);
  });

  describe('process and container options', () => {
    it('--user', () => {
      const r = runRm(['--user', '1000:1000'], ['id']);
      expect(r.status, runRmCheck(r)).toBe(0);
      expect(r.stdout).toMatch(/^uid=1000\(user\) gid=1000\(user\)/);
      const r2 = runRm(['--user', 'nobody'], ['id', '-u']);
      expect(r2.status, runRmCheck(r2)).toBe(0);
      expect(r2.stdout).toBe('65534\n');
    }, T);

    it('--env', () => {
      const r = runRm(['--env', 'E2E_A=one', '-e', 'E2E_B=two words'], ['sh', '-c', 'echo "$E2E_A|$E2E_B|$PATH"']);
      expect(r.status, runRmCheck(r)).toBe(0);
      expect(r.stdout).toBe('one|two words|/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\n');
    }, T);

    it('--workdir', () => {
      // (podman 4.3 refuses a --workdir missing from the image before it calls the runtime)
      const r = runRm(['--workdir', '/etc'], ['pwd']);
      expect(r.status, runRmCheck(r)).toBe(0);
      expect(r.stdout).toBe('/etc\n');
    }, T);

    it('--hostname', () => {
      // (podman writes /etc/hostname without a newline)
      const r = runRm(['--hostname', 'e2e-host'], ['sh', '-c', 'hostname; echo "$(cat /etc/hostname)"']);
      expect(r.status, runRmCheck(r)).toBe(0);
      expect(r.stdout).toBe('e2e-host\ne2e-host\n');
    }, T);

    it('--read-only (with the default tmpfs on /tmp)', () => {
      const r = runRm(['--read-only'], ['sh', '-c',
        'touch /etc/e2e 2>/dev/null && echo etc-writable || echo etc-ro; touch /tmp/e2e && echo tmp-writable; grep -E " / " /proc/self/mounts | grep -q "[ ,]ro[ ,]" && echo root-ro']);
      expect(r.status, runRmCheck(r)).toBe(0);
      expect(r.stdout).toBe('etc-ro\ntmp-writable\nroot-ro\n');
    }, T);

    it('--cap-drop ALL', () => {
      const r = runRm(['--cap-drop', 'ALL'], ['grep', '-E', '^Cap(Inh|Prm|Eff|Bnd|Amb)', '/proc/self/status']);
      expect(r.status, runRmCheck(r)).toBe(0);
      expect(r.stdout.split('\n').filter(Boolean).map((l) => l.split(/\s+/)[1])).toEqual(Array(5).fill('0000000000000000'));
      // and the default set is not empty
      const d = runRm([], ['grep', '^CapEff', '/proc/self/status']);
      expect(d.stdout).not.toMatch(/0000000000000000/);
    }, T);

    it('seccomp: podman\'s default profile is loaded (filter mode), unconfined loads none', () => {
      const r = runRm([], ['grep', '^Seccomp:', '/proc/self/status']);
      expect(r.status, runRmCheck(r)).toBe(0);
      expect(r.stdout, runRmCheck(r)).toMatch(/^Seccomp:\s+2$/m);
      const u = runRm(['--security-opt', 'seccomp=unconfined'], ['grep', '^Seccomp:', '/proc/self/status']);
      expect(u.status, runRmCheck(u)).toBe(0);
      expect(u.stdout, runRmCheck(u)).toMatch(/^Seccomp:\s+0$/m);
    }, T);

    it('the pinned ulimits reach the container', () => {
      const r = runRm([], ['sh', '-c', 'ulimit -Hn; ulimit -Sn']);
      expect(r.status, runRmCheck(r)).toBe(0);
      const nofile = hardLimit('Max open files');
      if (nofile) expect(r.stdout).toBe(`${nofile}\n${nofile}\n`);
    }, T);
  });

  describe('cgroups', () => {
    it('--memory and --pids-limit are set on the container\'s cgroup (host view)', () => {
      const n = name('limits');
      try {
        const r = runDetached(n, ['--memory', '64m', '--pids-limit', '10']);
        expect(r.status, check(r, n)).toBe(0);
        const cg = `libpod_parent/libpod-${idOf(n)}`;
        const read = (f: string) => { try { return fs.readFileSync(f, 'utf8').trim(); } catch (e) { return String(e); } };
        expect(read(`/sys/fs/cgroup/memory/${cg}/memory.limit_in_bytes`), trace(n)).toBe(String(64 * 1024 * 1024));
        expect(read(`/sys/fs/cgroup/pids/${cg}/pids.max`), trace(n)).toBe('10');
      } finally { rmForce(n); }
    }, T);

    // Without a cgroup namespace (podman's default on cgroup v1) the container's /sys/fs/cgroup/<controller>
    // is its own cgroup, as runc bind-mounts it: the limits are visible inside.
    it('--memory: the container sees its limit at /sys/fs/cgroup/memory', () => {
      const r = runRm(['--memory', '64m'], ['cat', '/sys/fs/cgroup/memory/memory.limit_in_bytes']);
      expect(r.status, runRmCheck(r)).toBe(0);
      expect(r.stdout.trim(), runRmCheck(r)).toBe(String(64 * 1024 * 1024));
    }, T);

    it('--pids-limit: the container sees pids.max at /sys/fs/cgroup/pids', () => {
      const r = runRm(['--pids-limit', '10'], ['cat', '/sys/fs/cgroup/pids/pids.max']);
      expect(r.status, runRmCheck(r)).toBe(0);
      expect(r.stdout.trim(), runRmCheck(r)).toBe('10');
    }, T);

    it('--pids-limit is enforced', () => {
      // 20 background sleeps cannot all start under pids.max 10: busybox sh stops at the failing fork
      const r = runRm(['--pids-limit', '10'], ['sh', '-c', 'for i in $(seq 20); do sleep 5 & done; echo started-all; kill $(jobs -p)']);
      expect(r.status, runRmCheck(r)).not.toBe(0);
      expect(r.stdout, runRmCheck(r)).not.toContain('started-all');
      expect(r.stderr, runRmCheck(r)).toMatch(/can't fork: Resource temporarily unavailable/);
    }, T);

    it('the container runs in its own cgroup (/libpod_parent/libpod-<id>)', () => {
      const n = name('cg');
      try {
        expect(runDetached(n).status).toBe(0);
        const id = idOf(n)!;
        const pid = inspect(n, '{{.State.Pid}}');
        const cg = fs.readFileSync(`/proc/${pid}/cgroup`, 'utf8');
        expect(cg, trace(n)).toMatch(new RegExp(`:memory:/libpod_parent/libpod-${id}$`, 'm'));
        expect(cg, trace(n)).toMatch(new RegExp(`:pids:/libpod_parent/libpod-${id}$`, 'm'));
      } finally { rmForce(n); }
    }, T);

    it('pause / unpause', async () => {
      const n = name('pause');
      try {
        expect(runDetached(n).status).toBe(0);
        const p = podman(['pause', n]);
        expect(p.status, check(p, n)).toBe(0);
        expect(inspect(n, '{{.State.Status}}'), trace(n)).toBe('paused');
        const pid = inspect(n, '{{.State.Pid}}');
        // the init is frozen: state D or S with the freezer; check the cgroup freezer state from the host
        const freezer = `/sys/fs/cgroup/freezer/libpod_parent/libpod-${idOf(n)}/freezer.state`;
        expect(fs.readFileSync(freezer, 'utf8').trim(), `${pid}\n${trace(n)}`).toBe('FROZEN');
        const u = podman(['unpause', n]);
        expect(u.status, check(u, n)).toBe(0);
        expect(inspect(n, '{{.State.Status}}')).toBe('running');
        const e = podman(['exec', n, 'echo', 'alive']);
        expect(e.status, check(e, n)).toBe(0);
        expect(e.stdout).toBe('alive\n');
      } finally { rmForce(n); }
    }, T);

    it('top', () => {
      const n = name('top');
      try {
        expect(runDetached(n).status).toBe(0);
        const t = podman(['top', n]);
        expect(t.status, check(t, n)).toBe(0);
        expect(t.stdout, check(t, n)).toMatch(/sleep 1000/);
        const t2 = podman(['top', n, 'pid', 'comm']);
        expect(t2.status, check(t2, n)).toBe(0);
        expect(t2.stdout).toMatch(/^1\s+sh$/m);
      } finally { rmForce(n); }
    }, T);
  });

  describe('host device nodes keep owner and mode', () => {
    it('after plain containers', () => {
      const r = runRm([], ['sh', '-c', 'ls -ln /dev/null /dev/zero /dev/tty >/dev/null; echo x >/dev/null']);
      expect(r.status, runRmCheck(r)).toBe(0);
      expect(hostDevices()).toEqual(devicesBefore);
    }, T);

    it('with --uidmap 0:100000:65536 (devices are bind mounts in a user namespace)', () => {
      const before = hostDevices();
      const r = runRm(['--uidmap', '0:100000:65536', '--gidmap', '0:100000:65536'],
        ['sh', '-c', 'cat /proc/self/uid_map; id -u; ls -ln /dev/null | cut -c1-10; echo x >/dev/null && echo null-ok']);
      expect(r.status, runRmCheck(r)).toBe(0);
      expect(r.stdout.split('\n')[0].trim().split(/\s+/), runRmCheck(r)).toEqual(['0', '100000', '65536']);
      expect(r.stdout, runRmCheck(r)).toMatch(/^0\ncrw-rw-rw-\nnull-ok\n$/m);
      expect(hostDevices()).toEqual(before);
      expect(hostDevices()).toEqual(devicesBefore);
    }, T);

    it('with --device /dev/zero and --uidmap', () => {
      // (same path in and out: in a user namespace runc bind-mounts the device's container path from the host,
      // so a renamed device fails with runc)
      const r = runRm(['--uidmap', '0:100000:65536', '--gidmap', '0:100000:65536', '--device', '/dev/zero'],
        ['sh', '-c', 'head -c 4 /dev/zero | od -An -tx1; ls -ln /dev/zero | cut -c1-10']);
      expect(r.status, runRmCheck(r)).toBe(0);
      expect(r.stdout.trim().split('\n').map((l) => l.trim())).toEqual(['00 00 00 00', 'crw-rw-rw-']);
      expect(hostDevices()).toEqual(devicesBefore);
    }, T);
  });
});
