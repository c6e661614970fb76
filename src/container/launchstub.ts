// The one launch path of create and exec: given the plan (built with the child-side fd numbers of stubFds) and
// the callbacks of the sync protocol, spawn the stub from a sealed memfd with those fds, run the exchange, hand a
// pidfd of the container process to --pidfd-socket and the seccomp listener to its agent, and on failure kill
// what was started. What differs between create and exec (state dir, cgroups, hooks, the lock, waiting) stays
// with the callers (container/launch.ts, container/exec.ts).
import { statFile } from '../io';
import { RuntimeError, errnoText } from '../errors';
import { loadNative } from '../native';
import type { Step } from '../plan/encode';
import { connectPidfdSocket, sendPidfd } from './pidfd';
import { ListenerTarget, forwardListener } from './seccomp';
import { closeQuiet, runStub, stubMemfd, type StubChild, type StubFds } from './stub';

export interface StubLaunch {
  /** the plan, built with `fds` */
  steps: Step[];
  /** the child-side fd numbers (stubFds) */
  fds: StubFds;
  /** host fds placed at `fds.listen` and `fds.console` */
  listenFd?: number;
  consoleFd?: number;
  /** the state root: the other layer of the overlayfs the stub runs from (stub.ts, stubMemfd) */
  root: string;
  /** --pidfd-socket: a pidfd of the container process goes there at PID, with runc's message */
  pidfdSocket?: { path: string; message: 'standard' | 'setns' };
  /** linux.seccomp: with a listenerPath, where the listener goes (SECCOMP_FD) */
  seccomp?: { listenerPath?: string; listenerMetadata?: string };
  /** 'ready': done at READY (create); 'exec': done once the process has exec'd */
  until: 'ready' | 'exec';
  /** the stub's first process is running (and waits for its plan) */
  onChild?: (c: StubChild) => void;
  /** USERMAP_REQ: write the stub's uid_map/gid_map */
  onUsermap?: (stubPid: number) => void;
  /** PID, after its pidfd is opened and sent (the ACK carries `state`) */
  onPid: (pid: number) => void;
  /** SYNC code: returns the state JSON sent back with the ACK */
  onSync?: (code: number, pid: number) => string;
  /** the container state JSON: the ACK of PID and SECCOMP_FD carries it (the stub keeps it for hooks), and the seccomp agent gets it */
  state: (pid: number) => string;
  /** on failure: how long to wait for the killed container process to exit, and whether to reap it (adopted) */
  failWaitMs: number;
  reapOnFailure?: boolean;
}

export interface Launched {
  /** the container process's host pid */
  pid: number;
  /** a pidfd of it, the caller's to close */
  pidfd: number;
}

/** --preserve-fds (and LISTEN_FDS): the caller's fds 3 .. 3+n-1 must be open. */
export function checkPreserved(n: number): void {
  for (let fd = 3; fd < 3 + n; fd++) {
    try { statFile(fd); } catch { throw new RuntimeError(`--preserve-fds: fd ${fd} is not open`); }
  }
}

/** --console-socket: connect to it; the pty master goes there (the stub's CONSOLE step). */
export function connectConsole(sockPath: string): number {
  try {
    return loadNative().unixConnect(sockPath);
  } catch (e) {
    throw new RuntimeError(`connect to console socket ${sockPath}: ${errnoText(e)}`);
  }
}

export async function launchStub(l: StubLaunch): Promise<Launched> {
  const native = loadNative();
  let pidfdSock: number | undefined;
  let memfd: number | undefined;
  let child: StubChild | undefined;
  let pid: number | undefined;
  let pidfd: number | undefined;
  const listenerPath = l.seccomp?.listenerPath;
  const listener: ListenerTarget | undefined = listenerPath ? { listenerPath, listenerMetadata: l.seccomp?.listenerMetadata } : undefined;
  try {
    if (l.pidfdSocket) pidfdSock = connectPidfdSocket(l.pidfdSocket.path);
    memfd = await stubMemfd(l.root);
    runStub({
      steps: l.steps, fds: l.fds, host: { listen: l.listenFd, console: l.consoleFd, memfd }, until: l.until,
      onUsermap: l.onUsermap,
      onPid: (p) => {
        pid = p;
        pidfd = native.pidfdOpen(p);
        if (pidfdSock !== undefined) sendPidfd(pidfdSock, pidfd, l.pidfdSocket!.message, l.pidfdSocket!.path);
        l.onPid(p);
        return l.state(p);
      },
      onSync: l.onSync,
      onSeccompFd: listener && ((p, fd) => {
        const st = l.state(p);
        forwardListener(pidfd!, fd, listener, p, st);
        return st;
      }),
    }, (c) => {
      child = c;
      l.onChild?.(c);
    });
    return { pid: pid!, pidfd: pidfd! };
  } catch (e) {
    child?.kill();
    killProcess(pid, pidfd, l.failWaitMs, !!l.reapOnFailure);
    throw e;
  } finally {
    closeQuiet(memfd);
    closeQuiet(pidfdSock);
  }
}

/**
 * SIGKILL the container process (through its pidfd: never a reused pid; by pid when it could not be opened),
 * wait up to `waitMs` for it to exit and, when it is our child (adopted), reap it; the pidfd is closed.
 */
export function killProcess(pid: number | undefined, pidfd: number | undefined, waitMs: number, reap: boolean): void {
  const native = loadNative();
  if (pidfd === undefined) {
    if (pid) try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
    return;
  }
  try { native.pidfdSendSignal(pidfd, 9); } catch { /* gone */ }
  try {
    if (waitMs > 0 && native.pollPidfdExited(pidfd, waitMs) && reap) native.reapPidfd(pidfd);
  } catch { /* not ours */ }
  closeQuiet(pidfd);
}
