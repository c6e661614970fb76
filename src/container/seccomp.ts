// The seccomp user-notification listener: right after loading the filter the stub writes a SECCOMP_FD frame with
// the listener's fd number (its only syscall before the handover, so none of the others may wait on an agent
// that has no fd yet); runts copies the fd out of the process with pidfd_getfd(2), as runc does, hands it on to
// linux.seccomp.listenerPath with the container process state (runtime-spec config-linux.md, "Seccomp") and only
// then ACKs, so the process goes on once the agent has its fd.
import { RuntimeError, errnoText } from '../errors';
import { loadNative } from '../native';
import { closeQuiet } from './stub';
import { OCI_VERSION } from './state';

export interface ListenerTarget {
  listenerPath: string;
  listenerMetadata?: string;
}

/**
 * Copy the listener fd (number `targetFd` in the process behind `pidfd`, whose host pid is `pid`) and send it to
 * the agent with the state (a JSON string of state.json's shape).
 */
export function forwardListener(pidfd: number, targetFd: number, target: ListenerTarget, pid: number, state: string): void {
  const native = loadNative();
  let fd: number;
  try {
    fd = native.pidfdGetfd(pidfd, targetFd);
  } catch (e) {
    throw new RuntimeError(`seccomp: take the listener fd from the container process: ${errnoText(e)}`);
  }
  let conn: number | undefined;
  try {
    try {
      conn = native.unixConnect(target.listenerPath);
    } catch (e) {
      throw new RuntimeError(`seccomp: connect to linux.seccomp.listenerPath ${target.listenerPath}: ${errnoText(e)}`);
    }
    const msg: Record<string, unknown> = { ociVersion: OCI_VERSION, fds: ['seccompFd'], pid };
    if (target.listenerMetadata) msg.metadata = target.listenerMetadata;
    msg.state = JSON.parse(state);
    try {
      // exactly one container process state per connection, then the connection is closed
      native.sendFd(conn, fd, JSON.stringify(msg));
    } catch (e) {
      throw new RuntimeError(`seccomp: send the listener fd to ${target.listenerPath}: ${errnoText(e)}`);
    }
  } finally {
    closeQuiet(conn);
    closeQuiet(fd);
  }
}
