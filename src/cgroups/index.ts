// cgroups: the interface the rest of runts uses. (Placeholder until the cgroups issue lands: no cgroups.)
import type { Spec } from '../config/types';

/** What state.json keeps about a container's cgroups (JSON). */
export type SavedCgroup = Record<string, unknown>;

/**
 * create: make the container's cgroups, apply linux.resources, and move `pid` (the init, still waiting in
 * WAIT_PARENT) into them. Throws a RuntimeError naming the field on failure, having removed what it made.
 */
export function setupCgroups(_spec: Spec, _id: string, _pid: number): SavedCgroup | undefined {
  return undefined;
}

/** delete: remove the cgroups this container created (its processes are gone), never others. */
export function destroyCgroups(_c: SavedCgroup | undefined): void {
  /* nothing yet */
}

/** kill --all, delete --force: signal every process in the container's cgroups. */
export function signalAll(_c: SavedCgroup | undefined, _sig: number): boolean {
  return false;
}

/** state: is the container frozen? */
export function isPaused(_c: SavedCgroup | undefined): boolean {
  return false;
}
