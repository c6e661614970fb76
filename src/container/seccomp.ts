// The seccomp user-notification listener: the stub sends the fd seccomp_load() gave it over its own socket
// (the sync socket is read by node, which drops SCM_RIGHTS), then a SECCOMP_FD frame. runts hands it on to
// linux.seccomp.listenerPath with the container process state (runtime-spec config-linux.md, "Seccomp") and
// only then ACKs, so the process goes on once the agent has its fd.
import { RuntimeError, errnoText } from '../errors';
import { loadNative } from '../native';
import { closeQuiet } from './stub';
import { OCI_VERSION } from './state';

export interface ListenerTarget {
  listenerPath: string;
  listenerMetadata?: string;
}

/** Receive the listener fd from `sock` and send it to the agent with the state (a JSON string of state.json's shape). */
export function forwardListener(sock: number, target: ListenerTarget, pid: number, state: string): void {
  const native = loadNative();
  let fd: number;
  try {
    fd = native.recvFd(sock).fd;
  } catch (e) {
    throw new RuntimeError(`seccomp: receive the listener fd from the init: ${errnoText(e)}`);
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
