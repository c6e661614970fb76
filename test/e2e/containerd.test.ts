// containerd (1.6, through containerd-shim-runc-v2) drives the runtime under test (E2E_RUNTIME, default
// bin/runts) with `ctr run --runc-binary`. The test starts its own containerd: config, root, state, socket,
// opt dir, runtime root (--runc-root) and fifo dir all live in a temp dir; the CRI plugin is disabled, a
// namespace of its own (so the containers' cgroups are /<namespace>/<id>). At the end every task and
// container is deleted, containerd is killed by its pid (and any shim of its socket that is left), what is
// mounted under the temp dir is unmounted, and the cgroups of the namespace are removed.
import { spawn, ChildProcess } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  IMAGE, IMAGE_TAR, RUNTIME, Res, TRACE, Wrapper, ensureImage, explain, hostDevices, makeWrapper,
  removeDir, removeNewCgroups, runCmd, skipReason, sleep, traceOf, until, writeContainerdConfig,
} from './e2e';
import { scratchDir } from '../helpers';

const skip = skipReason('containerd', ['containerd', 'ctr', 'containerd-shim-runc-v2']);
const T = 60_000; // per case
const NS = `runts-e2e-${process.pid}`;

let dir: string;
let sock: string;
let wrap: Wrapper;
let daemon: ChildProcess | undefined;
let devicesBefore: Record<string, string>;
let seq = 0;
// the shims put their sockets in /run/containerd/s/ whatever the config says: made by the suite when missing,
// removed at the end when it made them (and they are empty)
const SHIM_DIRS = ['/run/containerd/s', '/run/containerd'];
let shimDirsBefore: string[] = [];

function ctr(args: string[], opts: { timeout?: number; input?: string } = {}): Res {
  return runCmd('ctr', ['--address', sock, '--namespace', NS, ...args], { timeout: opts.timeout ?? 30_000, input: opts.input, scratch: dir });
}

/** The flags that point a new container at the runtime under test. */
function runtimeFlags(): string[] {
  return ['--runc-binary', wrap.path, '--runc-root', path.join(dir, 'runc'), '--fifo-dir', path.join(dir, 'fifo')];
}

function name(tag: string): string {
  return `${tag}-${++seq}`;
}

function check(r: Res, id?: string): string {
  return `${explain(r, traceOf(wrap, id))}\n--- containerd log (tail)\n${daemonLog().slice(-3000)}`;
}

function daemonLog(): string {
  try { return fs.readFileSync(path.join(dir, 'containerd.log'), 'utf8'); } catch { return ''; }
}

/** `ctr task ls` as a map id → { pid, status }. */
function tasks(): Map<string, { pid: number; status: string }> {
  const m = new Map<string, { pid: number; status: string }>();
  const r = ctr(['task', 'ls']);
  for (const l of r.stdout.split('\n').slice(1)) {
    const [id, pid, status] = l.trim().split(/\s+/);
    if (id) m.set(id, { pid: Number(pid), status });
  }
  return m;
}

/** Kill, delete the task (if any) and the container; best effort. */
function remove(id: string): void {
  if (tasks().has(id)) {
    ctr(['task', 'kill', '--signal', 'SIGKILL', id]);
    ctr(['task', 'delete', '--force', id]);
  }
  ctr(['containers', 'delete', id]);
}

/** `ctr run -d`: a container running `cmd` (default: a shell that exits 42 on SIGTERM). */
function runDetached(id: string, cmd = ['sh', '-c', 'trap "exit 42" TERM; sleep 1000 & wait']): Res {
  return ctr(['run', '-d', ...runtimeFlags(), IMAGE, id, ...cmd]);
}

/** `ctr task exec` (not a terminal) of `args` in the task `id`; `args` may start with exec flags. */
function taskExec(execId: string, args: string[]): Res {
  return ctr(['task', 'exec', '--fifo-dir', path.join(dir, 'fifo'), '--exec-id', execId, ...args]);
}

/** Pids of processes whose command line mentions our socket (shims left behind), never anything else. */
function shimsOfOurSocket(): number[] {
  const pids: number[] = [];
  for (const p of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(p)) continue;
    let cmd = '';
    try { cmd = fs.readFileSync(`/proc/${p}/cmdline`, 'utf8'); } catch { continue; }
    const argv = cmd.split('\0');
    if (argv[0]?.endsWith('containerd-shim-runc-v2') && argv.includes(sock)) pids.push(Number(p));
  }
  return pids;
}

describe.skipIf(!!skip)('containerd e2e', () => {
  beforeAll(async () => {
    ensureImage();
    dir = scratchDir('containerd');
    wrap = makeWrapper(dir);
    sock = path.join(dir, 'containerd.sock');
    for (const d of ['root', 'state', 'opt', 'runc', 'fifo']) fs.mkdirSync(path.join(dir, d));
    const config = writeContainerdConfig(dir, sock, { by: 'test/e2e/containerd.test.ts' });
    devicesBefore = hostDevices();
    shimDirsBefore = SHIM_DIRS.filter((d) => fs.existsSync(d));
    const log = fs.openSync(path.join(dir, 'containerd.log'), 'w');
    daemon = spawn('containerd', ['--config', config], { stdio: ['ignore', log, log] });
    fs.closeSync(log);
    const up = await until(() => daemon?.exitCode === null && ctr(['version'], { timeout: 5_000 }).status === 0, 20_000, 100);
    if (!up) throw new Error(`containerd did not come up (exit ${daemon?.exitCode}):\n${daemonLog().slice(-4000)}`);
    const r = ctr(['images', 'import', IMAGE_TAR], { timeout: 120_000 });
    if (r.status !== 0) throw new Error(check(r));
    console.log(`e2e containerd: runtime ${RUNTIME}${wrap.path !== RUNTIME ? ` (through ${wrap.path})` : ''}; calls logged in ${wrap.log}; pid ${daemon.pid}`);
  }, 180_000);

  afterAll(async () => {
    if (!dir) return;
    if (daemon && daemon.exitCode === null) {
      for (const id of tasks().keys()) remove(id);
      for (const l of ctr(['containers', 'list', '--quiet']).stdout.split('\n')) if (l.trim()) remove(l.trim());
      ctr(['images', 'remove', IMAGE]);
      const pid = daemon.pid!;
      const exited = new Promise<void>((res) => daemon!.once('exit', () => res()));
      process.kill(pid, 'SIGTERM');
      await Promise.race([exited, sleep(10_000)]);
      if (daemon.exitCode === null && daemon.signalCode === null) {
        process.kill(pid, 'SIGKILL');
        await Promise.race([exited, sleep(5_000)]);
      }
    }
    for (const pid of shimsOfOurSocket()) {
      console.warn(`e2e containerd: killing a shim left behind (pid ${pid})`);
      try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
    }
    removeDir(dir);
    for (const d of SHIM_DIRS) if (!shimDirsBefore.includes(d)) try { fs.rmdirSync(d); } catch { /* in use or gone */ }
    const left = removeNewCgroups(NS, []);
    if (left.length) console.warn(`e2e containerd: cgroups left (busy): ${left.join(' ')}`);
  }, 120_000);

  describe('ctr run', () => {
    it('prints the output and exits 0', () => {
      const id = name('hello');
      try {
        const r = ctr(['run', '--rm', ...runtimeFlags(), IMAGE, id, 'echo', 'hello from containerd']);
        expect(r.status, check(r, id)).toBe(0);
        expect(r.stdout, check(r, id)).toBe('hello from containerd\n');
      } finally { remove(id); }
    }, T);

    it('exits with the container status (3), stderr apart', () => {
      const id = name('exit');
      try {
        const r = ctr(['run', '--rm', ...runtimeFlags(), IMAGE, id, 'sh', '-c', 'echo out; echo err >&2; exit 3']);
        expect(r.status, check(r, id)).toBe(3);
        expect(r.stdout, check(r, id)).toBe('out\n');
        expect(r.stderr, check(r, id)).toContain('err\n');
      } finally { remove(id); }
    }, T);

    it('a command that does not exist: the runtime error reaches ctr (through log.json)', () => {
      const id = name('nosuch');
      try {
        const r = ctr(['run', '--rm', ...runtimeFlags(), IMAGE, id, '/no/such/command']);
        expect(r.status, check(r, id)).not.toBe(0);
        expect(r.stderr, check(r, id)).toMatch(/no such file or directory/);
        expect(r.stderr, check(r, id)).not.toMatch(/unable to retrieve OCI runtime error/);
      } finally { remove(id); }
    }, T);

    it('process options from the spec: --env, --cwd, hostname, rlimits', () => {
      const id = name('opts');
      try {
        const r = ctr(['run', '--rm', ...runtimeFlags(), '--env', 'E2E_A=one', '--cwd', '/etc', IMAGE, id,
          'sh', '-c', 'echo "$E2E_A $(pwd) $(id -u) $(ulimit -n)"']);
        expect(r.status, check(r, id)).toBe(0);
        // containerd's default spec: RLIMIT_NOFILE 1024
        expect(r.stdout, check(r, id)).toBe('one /etc 0 1024\n');
      } finally { remove(id); }
    }, T);

    it('--seccomp: the default profile is loaded (filter mode)', () => {
      const id = name('seccomp');
      try {
        const r = ctr(['run', '--rm', ...runtimeFlags(), '--seccomp', IMAGE, id, 'grep', '^Seccomp:', '/proc/self/status']);
        expect(r.status, check(r, id)).toBe(0);
        expect(r.stdout, check(r, id)).toMatch(/^Seccomp:\s+2$/m);
      } finally { remove(id); }
    }, T);

    it('-t: the pty comes through the console socket (ctr itself on a pty from script(1))', () => {
      const id = name('tty');
      try {
        const cmd = ['ctr', '--address', sock, '--namespace', NS, 'run', '--rm', '-t', ...runtimeFlags(), IMAGE, id,
          'sh', '-c', 'tty; test -t 0 && echo stdin-is-a-tty; test -t 1 && echo stdout-is-a-tty; exit 7'];
        const q = (x: string) => `'${x.replace(/'/g, `'\\''`)}'`;
        // script's stdin is a fifo opened read-write: it never sees EOF (which it would pass on as a ^D)
        const fifo = path.join(dir, `stdin-${id}`);
        const sh = `mkfifo ${q(fifo)} && exec script -qefc ${q(`exec ${cmd.map(q).join(' ')}`)} /dev/null 0<>${q(fifo)}`;
        const r = runCmd('bash', ['-c', sh], { timeout: 30_000, scratch: dir });
        expect(r.status, check(r, id)).toBe(7);
        expect(r.stdout.replace(/\r/g, ''), check(r, id)).toMatch(/^\/dev\/pts\/0\nstdin-is-a-tty\nstdout-is-a-tty\n$/);
        if (TRACE) expect(traceOf(wrap, id), check(r, id)).toMatch(/ create .*--console-socket /);
      } finally { remove(id); }
    }, T);

    it('10 sequential runs', async () => {
      const t0 = Date.now();
      for (let i = 0; i < 10; i++) {
        const id = name('seq');
        try {
          const r = ctr(['run', '--rm', ...runtimeFlags(), IMAGE, id, 'echo', `run-${i}`]);
          expect(r.status, check(r, id)).toBe(0);
          expect(r.stdout).toBe(`run-${i}\n`);
        } finally { remove(id); }
        // yield: a worker blocked past 60 s fails vitest's run ("Timeout calling onTaskUpdate")
        await new Promise((res) => setImmediate(res));
      }
      console.log(`e2e containerd: 10 sequential runs in ${Date.now() - t0} ms`);
    }, 120_000);
  });

  describe('detached task', () => {
    it('run -d, task ls, kill (SIGTERM), delete reports the exit status', async () => {
      const id = name('detach');
      try {
        const r = runDetached(id);
        expect(r.status, check(r, id)).toBe(0);
        const t = tasks().get(id);
        expect(t?.status, check(r, id)).toBe('RUNNING');
        expect(t!.pid).toBeGreaterThan(0);
        expect(fs.existsSync(`/proc/${t!.pid}`)).toBe(true);
        // the init was reparented to the shim (a child subreaper)
        const ppid = fs.readFileSync(`/proc/${t!.pid}/stat`, 'utf8').split(') ')[1].split(' ')[1];
        const parent = fs.readFileSync(`/proc/${ppid}/cmdline`, 'utf8').split('\0')[0];
        expect(parent, traceOf(wrap, id)).toMatch(/containerd-shim-runc-v2$/);
        const k = ctr(['task', 'kill', id]);
        expect(k.status, check(k, id)).toBe(0);
        const stopped = await until(() => tasks().get(id)?.status === 'STOPPED', 10_000);
        expect(stopped, `${JSON.stringify([...tasks()])}\n${traceOf(wrap, id)}`).toBe(true);
        expect(fs.existsSync(`/proc/${t!.pid}`)).toBe(false);
        const d = ctr(['task', 'delete', id]);
        expect(d.status, check(d, id)).toBe(0);
        expect(d.stderr, check(d, id)).toMatch(/exit code 42/);
        expect(tasks().has(id)).toBe(false);
        const c = ctr(['containers', 'delete', id]);
        expect(c.status, check(c, id)).toBe(0);
        // the shim called delete: the runtime has no state left for it
        expect(fs.existsSync(path.join(dir, 'runc', NS, id))).toBe(false);
      } finally { remove(id); }
    }, T);

    it('task kill --all -s SIGKILL, then task delete', async () => {
      const id = name('killall');
      try {
        // sleep as pid 1: SIGTERM would be ignored
        const r = runDetached(id, ['sleep', '1000']);
        expect(r.status, check(r, id)).toBe(0);
        const k = ctr(['task', 'kill', '--all', '--signal', 'SIGKILL', id]);
        expect(k.status, check(k, id)).toBe(0);
        const stopped = await until(() => tasks().get(id)?.status === 'STOPPED', 10_000);
        expect(stopped, traceOf(wrap, id)).toBe(true);
        const d = ctr(['task', 'delete', id]);
        expect(d.status, check(d, id)).toBe(0);
        expect(d.stderr, check(d, id)).toMatch(/exit code 137/);
      } finally { remove(id); }
    }, T);

    it('task exec: output and exit code, in the container', () => {
      const id = name('exec');
      try {
        expect(runDetached(id).status).toBe(0);
        const e = taskExec('e1', [id, 'sh', '-c', 'echo exec-out; echo exec-err >&2; exit 5']);
        expect(e.status, check(e, id)).toBe(5);
        expect(e.stdout).toBe('exec-out\n');
        expect(e.stderr).toContain('exec-err');
        const e2 = taskExec('e2', [id, 'cat', '/proc/1/cmdline']);
        expect(e2.status, check(e2, id)).toBe(0);
        expect(e2.stdout.replace(/\0/g, ' ')).toContain('trap "exit 42" TERM');
        const e3 = taskExec('e3', ['--cwd', '/tmp', id, 'pwd']);
        expect(e3.status, check(e3, id)).toBe(0);
        expect(e3.stdout).toBe('/tmp\n');
        const e4 = taskExec('e4', [id, '/no/such/command']);
        expect(e4.status, check(e4, id)).not.toBe(0);
        expect(e4.stderr, check(e4, id)).toMatch(/no such file or directory/);
        // the task is still running after all that
        expect(tasks().get(id)?.status).toBe('RUNNING');
      } finally { remove(id); }
    }, T);

    // issue #15: each exec with a terminal bound its pty over /dev/console, so the second one failed
    it('task exec -t twice: both get a terminal', () => {
      const id = name('exect2');
      try {
        expect(runDetached(id).status).toBe(0);
        const q = (x: string) => `'${x.replace(/'/g, `'\\''`)}'`;
        for (let i = 0; i < 2; i++) {
          const cmd = ['ctr', '--address', sock, '--namespace', NS, 'task', 'exec', '-t', '--fifo-dir', path.join(dir, 'fifo'),
            '--exec-id', `t${i}`, id, 'sh', '-c', 'tty; test -t 1 && echo stdout-is-a-tty; ls /dev/console 2>&1; exit 3'];
          // ctr on a pty from script(1); script's stdin is a fifo opened read-write: it never sees EOF. (ctr may add
          // its own "resize pty" complaint after the output when the process has already exited.)
          const fifo = path.join(dir, `stdin-${id}-${i}`);
          const sh = `mkfifo ${q(fifo)} && exec script -qefc ${q(`exec ${cmd.map(q).join(' ')}`)} /dev/null 0<>${q(fifo)}`;
          const r = runCmd('bash', ['-c', sh], { timeout: 30_000, scratch: dir });
          expect(r.status, `exec -t #${i + 1}: ${check(r, id)}`).toBe(3);
          expect(r.stdout.replace(/\r/g, ''), check(r, id)).toMatch(/^\/dev\/pts\/\d+\nstdout-is-a-tty\nls: \/dev\/console: No such file or directory\n/);
        }
        expect(tasks().get(id)?.status).toBe('RUNNING');
      } finally { remove(id); }
    }, T);

    it('task ps lists the processes of the container', () => {
      const id = name('ps');
      try {
        expect(runDetached(id).status).toBe(0);
        const pid = tasks().get(id)!.pid;
        const ps = ctr(['task', 'ps', id]);
        expect(ps.status, check(ps, id)).toBe(0);
        const pids = ps.stdout.split('\n').slice(1).map((l) => Number(l.trim().split(/\s+/)[0])).filter((n) => n > 0);
        // the shell and its sleep
        expect(pids, check(ps, id)).toContain(pid);
        expect(pids.length, check(ps, id)).toBe(2);
      } finally { remove(id); }
    }, T);
  });

  it('host device nodes keep owner and mode', () => {
    expect(hostDevices()).toEqual(devicesBefore);
  }, T);
});
