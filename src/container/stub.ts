// Driving the init stub: spawn it from a sealed memfd with the given fds, send the plan, and answer it over the
// sync socket (protocol in docs/ARCHITECTURE.md) until it is ready (create) or has exec'd (exec).
import { RuntimeError } from '../errors';
import { closeFd, readFd, writeAll } from '../io';
import { basename, dirname, join, resolve } from '../paths';
import { logDebug } from '../log';
import { embeddedFile, loadNative } from '../native';
import type { Step } from '../plan/encode';
import { FrameReader, encodePlan, frame } from '../plan/encode';
import { Msg } from '../plan/ops';
import type { LaunchFds, StubFds } from '../plan/fds';

export type { StubFds };

/**
 * The stub's file name beside the single-file executable (`dist/runts-init-<hash>`): scripts/compile.mjs installs
 * it there and bakes the name in (`--define`). Undefined under Node.
 */
declare const RUNTS_STUB_FILE: string | undefined;

/** Where the init stub binary is: beside the executable, or build/runts-init (`make -C native`). */
export function stubPath(): string {
  if (process.env.RUNTS_INIT) return process.env.RUNTS_INIT;
  if (typeof RUNTS_STUB_FILE === 'string') return join(dirname(process.execPath), RUNTS_STUB_FILE);
  return join(__dirname, '..', '..', 'build', 'runts-init');
}

/**
 * The fd the init stub is executed from, which the container can never write through (CVE-2019-5736): the file
 * opened through a private read-only overlayfs (the stub's directory over `root`, the state root, as runc 1.2's
 * exeseal does: no copy at all), else a sealed memfd filled in the kernel (sendfile; rootless, no overlayfs), else
 * (an executable copied without its stub) a sealed memfd written from the copy embedded in the executable.
 */
export async function stubMemfd(root: string): Promise<number> {
  const native = loadNative();
  const file = stubPath();
  try {
    const fd = native.stubOverlayFd(dirname(file), basename(file), resolve(root));
    logDebug(`init stub: ${file} through a read-only overlayfs`);
    return fd;
  } catch (e) {
    logDebug(`init stub: no overlayfs (${(e as Error).message}): a sealed memfd`);
  }
  try {
    return native.sealedMemfdFrom(file, 'runts-init');
  } catch (e) {
    // a missing (or untrusted) file beside a copied executable: the copy it carries
    const blob = process.env.RUNTS_INIT ? undefined : embeddedFile('runts-init');
    if (!blob) throw e;
    logDebug(`init stub: ${(e as Error).message}: the embedded copy`);
    return native.sealedMemfdFromBytes(new Uint8Array(await blob.arrayBuffer()), 'runts-init');
  }
}

/**
 * The stub's file descriptors as the child sees them (docs/ARCHITECTURE.md, "Launching the stub"): 3 .. 3+N-1 the
 * preserved fds, then the sync socket, create's exec listen socket, the console socket, the memfd last. The plan
 * is built with these numbers; `stubFds` is the one place that assigns them, `childFdList` places the host's fds
 * at them (the shape: plan/fds.ts).
 */
export function stubFds(o: { preserve: number; listen: true; console: boolean }): LaunchFds;
export function stubFds(o: { preserve: number; listen?: false; console: boolean }): StubFds;
export function stubFds(o: { preserve: number; listen?: boolean; console: boolean }): StubFds {
  let next = 3 + o.preserve;
  const fds: StubFds = { preserve: o.preserve, sync: next++, memfd: 0 };
  if (o.listen) fds.listen = next++;
  if (o.console) fds.console = next++;
  fds.memfd = next;
  return fds;
}

/** The host fds to pass as the child's 3, 4, ... so that each lands at its number in `fds`. */
export function childFdList(fds: StubFds, host: { sync: number; listen?: number; console?: number; memfd: number }): number[] {
  const at = new Map<number, number>();
  for (let i = 0; i < fds.preserve; i++) at.set(3 + i, 3 + i);
  const place = (child: number | undefined, fd: number | undefined, what: string) => {
    if ((child === undefined) !== (fd === undefined)) throw new Error(`stub fds: ${what} ${child === undefined ? 'not planned' : 'missing'}`);
    if (child !== undefined) at.set(child, fd!);
  };
  place(fds.sync, host.sync, 'sync socket');
  place(fds.listen, host.listen, 'listen socket');
  place(fds.console, host.console, 'console');
  place(fds.memfd, host.memfd, 'memfd');
  const out: number[] = [];
  for (let n = 3; at.has(n); n++) out.push(at.get(n)!);
  if (out.length !== at.size) throw new Error('stub fds: not contiguous from 3');
  return out;
}

export interface StubRun {
  steps: Step[];
  /** the child-side numbers the steps were planned with (stubFds) */
  fds: StubFds;
  /** the host fds placed at `fds.listen`, `fds.console`, `fds.memfd` (the sync socket is made here) */
  host: { listen?: number; console?: number; memfd: number };
  /** USERMAP_REQ: write the child's uid_map/gid_map */
  onUsermap?: (childPid: number) => void;
  /** PID: the container process's host pid; returns the state JSON sent back with the ACK */
  onPid: (pid: number) => string;
  /** SYNC code: returns the state JSON sent back with the ACK */
  onSync?: (code: number, pid: number) => string;
  /** SECCOMP_FD: the listener is fd number `fd` of the container process; forward it; returns the state JSON sent with the ACK */
  onSeccompFd?: (pid: number, fd: number) => string;
  /** 'ready': done at READY (create); 'exec': done at EOF of the sync socket after PID (exec) */
  until: 'ready' | 'exec';
}

/** The spawned stub's first process. */
export interface StubChild {
  pid: number;
  /** SIGKILL (through a pidfd: never a reused pid), when the launch fails */
  kill(): void;
  /** wait up to `ms` for it to exit and reap it; false when it still runs. Its pidfd is closed either way. */
  reap(ms: number): boolean;
}

/**
 * Start the stub with `fds` as its 3, 4, ... (stdin, stdout and stderr are ours). The single-file executable uses
 * Bun.spawn: node:child_process (and node:net for a piped socket) would cost more to load than the rest of a
 * create. Under Node, child_process does the same. Either way runts reaps the process itself, synchronously
 * through a pidfd (opened while the stub waits for its plan, so it is this process): the engine's own reaper
 * then finds nothing (Bun rejects `exited` with ECHILD, libuv ignores it).
 */
function spawnStub(file: string, args: string[], fds: number[]): StubChild {
  const stdio = ['inherit', 'inherit', 'inherit', ...fds];
  const bun = (globalThis as { Bun?: { spawn(cmd: string[], o: object): { pid: number; exited: Promise<number> } } }).Bun;
  let pid: number;
  if (bun) {
    const p = bun.spawn([file, ...args], { stdio, argv0: 'runts-init' });
    p.exited.catch(() => { /* ECHILD: reaped below */ });
    pid = p.pid;
  } else {
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    const { spawn } = require('child_process') as typeof import('child_process');
    const c = spawn(file, args, { stdio: stdio as Array<'inherit' | number>, argv0: 'runts-init' });
    c.on('error', () => { /* reported by the exchange: EOF before READY */ });
    if (c.pid === undefined) throw new RuntimeError('spawn failed');
    // libuv never sees this child exit (reaped below): it must not keep the event loop alive
    c.unref();
    pid = c.pid;
  }
  const native = loadNative();
  const pidfd = native.pidfdOpen(pid);
  return {
    pid,
    kill: () => { try { native.pidfdSendSignal(pidfd, 9); } catch { /* gone */ } },
    reap: (ms) => {
      try {
        return native.pollPidfdExited(pidfd, ms) && native.reapPidfd(pidfd);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ECHILD') return true;
        throw e;
      } finally {
        closeQuiet(pidfd);
      }
    },
  };
}

/** The stub names files, not fields: name the config field where a step's file belongs to one. */
function withField(msg: string): string {
  if (!msg.startsWith('write /proc/self/oom_score_adj:')) return msg;
  const why = msg.endsWith('permission denied') ? ' (lowering it below the current value needs CAP_SYS_RESOURCE)' : '';
  return `process.oomScoreAdj: ${msg}${why}`;
}

/**
 * Run the stub to the point `until` names. Returns the container process's pid; throws the stub's ERROR message
 * (or why it died). The caller kills what is left on failure. The protocol is a strict exchange (the stub sends,
 * runts answers), so it runs synchronously on our end of a socket pair: blocking reads, no event loop. The stub's
 * first process exits once it has forked; it is reaped here, or it would count in the container's pids cgroup as
 * a zombie until the host's init got to it.
 */
export function runStub(r: StubRun, onChild: (c: StubChild) => void): number {
  // encoded before the stub starts: its first read is the plan
  const plan = encodePlan(r.steps);
  const [mine, theirs] = loadNative().socketPair();
  let child: StubChild;
  try {
    child = spawnStub(`/proc/self/fd/${r.fds.memfd}`, [String(r.fds.sync)], childFdList(r.fds, { ...r.host, sync: theirs }));
  } catch (e) {
    closeQuiet(mine);
    throw new RuntimeError(`start init: ${(e as Error).message}`);
  } finally {
    // only the stub holds the other end now: its exit (or the exec of the container process) reads as EOF
    closeQuiet(theirs);
  }
  let pid: number;
  try {
    onChild(child);
    pid = exchange(mine, r, child.pid, plan);
  } finally {
    closeQuiet(mine);
  }
  child.reap(STUB_EXIT_WAIT_MS);
  return pid;
}

/** How long a launch waits for the stub's first process to exit after the exchange (it normally already has). */
const STUB_EXIT_WAIT_MS = 1000;

function exchange(sock: number, r: StubRun, stubPid: number, plan: Buffer): number {
  let pid: number | undefined;
  let result: { pid: number } | { error: Error } | undefined;
  const send = (type: number, payload?: Buffer) => writeAll(sock, frame(type, payload));
  const reader = new FrameReader((type, payload) => {
    if (result) return;
    try {
      switch (type) {
        case Msg.USERMAP_REQ:
          r.onUsermap!(stubPid);
          send(Msg.ACK);
          break;
        case Msg.PID:
          pid = payload.readUInt32LE(0);
          logDebug(`container process pid ${pid}`);
          send(Msg.ACK, Buffer.from(r.onPid(pid)));
          break;
        case Msg.SYNC:
          if (!r.onSync) throw new RuntimeError(`init: unexpected sync code ${payload.readUInt32LE(0)}`);
          send(Msg.ACK, Buffer.from(r.onSync(payload.readUInt32LE(0), pid!)));
          break;
        case Msg.SECCOMP_FD:
          if (!r.onSeccompFd || pid === undefined) throw new RuntimeError('init: unexpected seccomp listener');
          send(Msg.ACK, Buffer.from(r.onSeccompFd(pid, payload.readUInt32LE(0))));
          break;
        case Msg.READY:
          if (r.until === 'ready') result = { pid: pid! };
          break;
        case Msg.ERROR:
          result = { error: new RuntimeError(withField(payload.toString('utf8'))) };
          break;
        default:
          throw new RuntimeError(`init: unexpected message ${type}`);
      }
    } catch (e) {
      try { send(Msg.ABORT); } catch { /* ignore */ }
      result = { error: e as Error };
    }
  });
  send(Msg.PLAN, plan);
  const buf = Buffer.alloc(4096);
  while (!result) {
    let n: number;
    try {
      n = readFd(sock, buf);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EINTR' || code === 'EAGAIN') continue;
      // ECONNRESET: the stub died with our last answer unread
      if (code === 'ECONNRESET') n = 0;
      else throw new RuntimeError(`sync socket: ${(e as Error).message}`);
    }
    // the socket is close-on-exec in the container process: EOF after PID without ERROR means execve happened
    if (n === 0) {
      if (r.until === 'exec' && pid !== undefined) return pid;
      throw new RuntimeError('container init exited before it was ready');
    }
    reader.push(Buffer.from(buf.subarray(0, n)));
  }
  if ('error' in result) throw result.error;
  return result.pid;
}

export function closeQuiet(fd: number | undefined) {
  if (fd !== undefined && fd >= 0) try { closeFd(fd); } catch { /* ignore */ }
}
