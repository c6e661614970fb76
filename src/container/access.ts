// One way in to an existing container: take its lock, read its saved state, work out its status, check it
// against what the operation allows (the can* predicates next to Status in state.ts), run the operation,
// release the lock. The commands stay thin; no operation here waits on the container's processes under the
// lock (exec, which must, releases it itself once its process is in: container/exec.ts).
import { RuntimeError } from '../errors';
import { checkId } from '../ids';
import { type Saved, type Status, containerDir, lockDir, readSaved, statusOf, unlock } from './state';

/** What an operation gets: the state directory, the saved state and the status checked under the lock. */
export interface Access {
  id: string;
  dir: string;
  saved: Saved;
  status: Status;
}

/** The statuses an operation accepts: a list, a predicate (state.ts's can*) or 'any'. */
export type Allowed = Status[] | ((s: Status) => boolean) | 'any';

export function allows(allowed: Allowed, status: Status): boolean {
  if (allowed === 'any') return true;
  return Array.isArray(allowed) ? allowed.includes(status) : allowed(status);
}

/** A container's state directory under its lock, held until `release()` (idempotent). */
export interface Lock {
  dir: string;
  release(): void;
}

/** An opened container: its lock is held until `release()` (idempotent). */
export interface Locked extends Access, Lock {}

/**
 * The one lock primitive (openContainer and delete): container `id`'s lock, its state left unread (delete --force
 * must clean up a state dir whose state.json is missing or corrupt, from a create that crashed). undefined: the
 * container does not exist, or was deleted while we waited for the lock.
 */
export function lockContainer(root: string, id: string): Lock | undefined {
  checkId(id);
  const dir = containerDir(root, id);
  let fd = lockDir(dir);
  if (fd === undefined) return undefined;
  return { dir, release: () => { unlock(fd); fd = undefined; } };
}

/** Run `fn` under container `id`'s lock (lockContainer), and release it; `missing()` when there is no such container. */
export function withLock<T>(root: string, id: string, fn: (dir: string) => T, missing: () => T): T {
  const lock = lockContainer(root, id);
  if (!lock) return missing();
  try {
    return fn(lock.dir);
  } finally {
    lock.release();
  }
}

/**
 * Take container `id`'s lock, read its state and check its status against `allowed` (refused with
 * `refused(status)`, default "container not running"); the caller releases the lock (exec does, once its process
 * is in, before it waits for it). A container that does not exist (or is deleted while we wait for the lock)
 * fails with `container "ID" does not exist`.
 */
export function openContainer(
  root: string, id: string, allowed: Allowed, refused: (status: Status) => string = () => 'container not running',
): Locked {
  const lock = lockContainer(root, id);
  if (!lock) throw new RuntimeError(`container "${id}" does not exist`);
  const { dir, release } = lock;
  try {
    const saved = readSaved(dir, id);
    const status = statusOf(dir, saved);
    if (!allows(allowed, status)) throw new RuntimeError(refused(status));
    return { id, dir, saved, status, release };
  } catch (e) {
    release();
    throw e;
  }
}

/** Run `fn` on container `id` under its lock (openContainer's checks), and release the lock. */
export function withContainer<T>(
  root: string, id: string, allowed: Allowed, fn: (c: Access) => T, refused?: (status: Status) => string,
): T {
  const c = openContainer(root, id, allowed, refused);
  try {
    return fn(c);
  } finally {
    c.release();
  }
}
