// start, delete, pause and resume of an existing container (create is in launch.ts, kill in kill.ts).
import { RuntimeError, errnoText } from '../errors';
import { loadNative } from '../native';
import { Saved, type Status, canDelete, canPause, canResume, canStart, hookState, initAlive, procStat, readSaved, savedHooks, statusOf } from './state';
import { withContainer, withLock } from './access';
import { closeFd, exists, removeTree, unlinkFile, writeFd } from '../io';

/** hooks.ts spawns processes: loaded only when a container has hooks to run */
const hooks = () => require('./hooks') as typeof import('./hooks');
/** kill does not need the cgroups code (delete and kill --all do) */
const cgroups = () => require('../cgroups') as typeof import('../cgroups');
/** the mounts of a container without a mount namespace (in the host's) */
const hostMounts = () => require('./hostmounts') as typeof import('./hostmounts');

/** Why start refuses a container in `status` (runc's messages). */
const startRefused = (status: Status): string =>
  status === 'stopped' ? 'cannot start a container that has stopped' : `cannot start an already ${status} container`;

/** Release the init waiting in WAIT_START; returns when the user process has been exec'd. */
export function startCreated(dir: string, s: Saved): void {
  const status = statusOf(dir, s);
  if (!canStart(status)) throw new RuntimeError(startRefused(status));
  releaseInit(dir, s);
}

/**
 * The one frame start sends: Msg.ACK (3), little-endian header (plan/encode.ts `frame`), written here so that start
 * loads neither plan/ops nor plan/encode (measured: 5 page faults of start; test/unit/encode.test.ts holds the
 * bytes to `frame`'s). Its payload, the state for the startContainer hooks' stdin, is only made
 * when there are such hooks (JSON.stringify and TextEncoder cost page faults); an empty one gives hooks nothing, and
 * is a string of those 8 bytes (all ASCII: its UTF-8 is the same), written without a typed array made from an array.
 */
export function startFrame(s: Saved): Uint8Array | string {
  return savedHooks(s)?.startContainer?.length ? hookFrame(s) : '\x03\0\0\0\0\0\0\0';
}

/** startFrame with the startContainer hooks' state (a function of its own: naming Uint8Array costs start faults) */
function hookFrame(s: Saved): Uint8Array {
  const p = new TextEncoder().encode(hookState(s, 'created'));
  const b = new Uint8Array(8 + p.length);
  const n = p.length;
  b[0] = 3; // Msg.ACK
  b[4] = n & 255; b[5] = (n >>> 8) & 255; b[6] = (n >>> 16) & 255; b[7] = n >>> 24;
  b.set(p, 8);
  return b;
}

/** The init wrote frames before closing (rare; `bytes` one char per byte): throw its ERROR frame's message. */
function initError(bytes: string): void {
  const data = Buffer.from(bytes, 'latin1');
  const { Msg } = require('../plan/ops') as typeof import('../plan/ops');
  const { parseFrames } = require('../plan/encode') as typeof import('../plan/encode');
  for (const f of parseFrames(data)) if (f.type === Msg.ERROR) throw new RuntimeError(f.payload.toString('utf8'));
}

/** Tell the init of a created container to exec the user process, wait for the exec, run poststart hooks. */
function releaseInit(dir: string, s: Saved): void {
  const native = loadNative();
  const sockPath = `${dir}/exec.sock`;
  let fd: number;
  try {
    fd = native.unixConnect(sockPath);
  } catch (e) {
    throw new RuntimeError(`connect to the container init: ${errnoText(e)}`);
  }
  try {
    const st = startFrame(s);
    if (typeof st === 'string') native.fsWriteAll(fd, st);
    else if (writeFd(fd, st) !== st.length) throw Object.assign(new Error('short write'), { code: 'EIO' });
  } catch (e) {
    closeFd(fd);
    throw new RuntimeError(`write to the container init: ${errnoText(e)}`);
  }
  // The init accepted with O_CLOEXEC: EOF means execve happened (or the init died after an ERROR frame).
  // No Buffer and no typed array in this function: the first function that names one makes the engine build it
  // (measured: Buffer 20 page faults of every start, Uint8Array ≈ 10, docs/performance.md); the addon reads to EOF
  // and gives the bytes as a latin1 string, empty in the usual case; initError, called only when there are frames,
  // makes the Buffer
  let data: string;
  try {
    data = native.fsReadToEnd(fd);
  } finally {
    closeFd(fd);
    try { unlinkFile(sockPath); } catch { /* ignore */ }
  }
  // nothing but EOF (the usual case): the user process was exec'd
  if (data.length) initError(data);
  const poststart = savedHooks(s)?.poststart;
  if (poststart?.length) hooks().runHooksWarn(poststart, 'poststart', hookState(s, 'running'));
}

/** Kill the init with SIGKILL and wait until it is gone. */
export function killAndWait(s: Saved, timeoutMs = 10000): void {
  const native = loadNative();
  let pidfd: number;
  try {
    pidfd = native.pidfdOpen(s.pid);
  } catch {
    return;
  }
  try {
    cgroups().signalAll(s.cgroup, 9);
    if (!initAlive(s)) return;
    try { native.pidfdSendSignal(pidfd, 9); } catch { return; }
    if (!native.pollPidfdExited(pidfd, timeoutMs)) throw new RuntimeError(`container init ${s.pid} did not exit after SIGKILL`);
  } finally {
    closeFd(pidfd);
  }
}

/** Remove what create made and run poststop hooks. */
export function destroy(dir: string, s: Saved | undefined): void {
  // cgroups/remove.ts alone: delete loads no node:fs and no cgroup writers
  if (s?.cgroup) (require('../cgroups/remove') as typeof import('../cgroups/remove')).destroyCgroups(s.cgroup);
  // only a container without a mount namespace has its root in the state dir (hostmounts.ts)
  if (exists(`${dir}/rootfs`)) hostMounts().removeHostMounts(dir);
  removeTree(dir);
  const poststop = s && savedHooks(s)?.poststop;
  if (s && poststop?.length) hooks().runHooksWarn(poststop, 'poststop', hookState({ id: s.id, pid: 0, bundle: s.bundle, annotations: s.annotations }, 'stopped'));
}

/** delete of a container whose state.json could not be read (`e`): gone, or a create that crashed. */
function deleteUnread(dir: string, id: string, force: boolean, e: unknown): void {
  if (!exists(dir)) {
    if (force) return;
    throw e;
  }
  // a state dir without a (readable) state.json: a create that crashed; only --force removes it
  if (!force) throw new RuntimeError(`container "${id}" is in an unknown state (run delete --force)`);
  const { plannedCgroups, signalAll, destroyCgroups } = cgroups();
  const cg = plannedCgroups(dir);
  signalAll(cg, 9);
  destroyCgroups(cg);
  hostMounts().removeHostMounts(dir);
  removeTree(dir);
}

/** delete [--force]: refuses a running container unless forced; a created one is killed first. */
export function deleteContainer(dir: string, id: string, force: boolean): void {
  let s: Saved;
  try {
    s = readSaved(dir, id);
  } catch (e) {
    return deleteUnread(dir, id, force, e);
  }
  const status: Status = statusOf(dir, s);
  if (!canDelete(status, force)) throw new RuntimeError(`cannot delete container ${id} that is not stopped: ${status}`);
  if (status !== 'stopped') killAndWait(s);
  destroy(dir, s);
}

/** `start ID`: run the user process of a created container (under its lock). */
export function startContainer(root: string, id: string): void {
  withContainer(root, id, canStart, (c) => releaseInit(c.dir, c.saved), startRefused);
}

/** `pause ID`: freeze every process of a running (or created) container; returns once the kernel says FROZEN. */
export function pauseContainer(root: string, id: string): void {
  withContainer(root, id, canPause, ({ saved: s }) => {
    if (!s.cgroup) throw new RuntimeError('container has no cgroups to freeze');
    cgroups().setFrozen(s.cgroup, true);
  });
}

/** `resume ID`: thaw a paused container; returns once the kernel says THAWED. */
export function resumeContainer(root: string, id: string): void {
  withContainer(root, id, canResume, ({ saved: s }) => {
    if (!s.cgroup) throw new RuntimeError('container not paused');
    cgroups().setFrozen(s.cgroup, false);
  }, () => 'container not paused');
}

/** `delete ID [--force]`: `force` kills first and succeeds when the container does not exist. */
export function deleteById(root: string, id: string, force = false): void {
  withLock(root, id, (dir) => deleteContainer(dir, id, force), () => {
    if (!force) throw new RuntimeError(`container "${id}" does not exist`);
  });
}

export { procStat };
