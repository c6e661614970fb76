// --pidfd-socket (create, run, exec): as runc, a pidfd of the container's process goes over the unix socket with
// SCM_RIGHTS, with "standard" (the init) or "setns" (an exec'd process) as the message. runts connects before it
// starts anything (a socket nobody listens on fails the command early) and sends the pidfd it opens at PID.
import { RuntimeError, errnoText } from '../errors';
import { loadNative } from '../native';

export function connectPidfdSocket(sockPath: string): number {
  try {
    return loadNative().unixConnect(sockPath);
  } catch (e) {
    throw new RuntimeError(`--pidfd-socket ${sockPath}: connect: ${errnoText(e)}`);
  }
}

export function sendPidfd(sock: number, pidfd: number, kind: 'standard' | 'setns', sockPath: string): void {
  try {
    loadNative().sendFd(sock, pidfd, kind);
  } catch (e) {
    throw new RuntimeError(`--pidfd-socket ${sockPath}: send the pidfd: ${errnoText(e)}`);
  }
}
