// linux.resources (its types generated from schema/config-linux.json, in config/types.ts), and what state.json
// keeps about a container's cgroups.

export type { DeviceRule, Resources, ThrottleDevice, WeightDevice } from '../config/types';

/**
 * A container's cgroups, kept in state.json (and in <state dir>/cgroup.json from before the first mkdir, so that
 * `delete --force` can clean up after a create that crashed half way).
 */
export interface SavedCgroup {
  /** 1: v1 or hybrid (v1 controllers, plus the unified hierarchy on hybrid); 2: pure cgroup2 */
  version: 1 | 2;
  /** v1 hierarchy (its controllers joined with ",", e.g. "memory", "cpu,cpuacct", "name=systemd") → directory */
  paths: Record<string, string>;
  /** the cgroup2 directory (all of it on v2; the unified/ one on hybrid) */
  unified?: string;
  /** the directories runts made, parents first: the only ones delete removes */
  created: string[];
  /** the systemd driver: the container's scope (stopped by delete once `started`) */
  systemd?: { unit: string; slice: string; started: boolean };
}

/** The directory of the v1 hierarchy that holds `controller` ("memory", "cpu", "name=systemd"...). */
export function controllerDir(s: SavedCgroup, controller: string): string | undefined {
  // for...in and indexOf, not Object.entries, split and includes: each builtin's first use costs page faults of the
  // short calls (statusOf reads the freezer's directory: docs/performance.md)
  for (const key in s.paths) if (`,${key},`.indexOf(`,${controller},`) >= 0) return s.paths[key];
  return undefined;
}

/**
 * The file that says whether the container is frozen: the v1 freezer's freezer.state where there is one, else
 * the cgroup2 directory's cgroup.events (pure v2, or hybrid without a v1 freezer).
 */
export function freezeFile(s: SavedCgroup | undefined): string | undefined {
  if (!s) return undefined;
  const v1 = s.version === 1 ? controllerDir(s, 'freezer') : undefined;
  if (v1) return `${v1}/freezer.state`;
  return s.unified ? `${s.unified}/cgroup.events` : undefined;
}

/** What freezeFile holds, read: frozen or not (a missing file is not frozen). */
export function frozenIn(text: string | undefined): boolean {
  // v1: FROZEN; cgroup.events: a line "frozen 1" (no regular expression: page faults, docs/performance.md)
  return text !== undefined && (text.trim() === 'FROZEN' || `\n${text}\n`.indexOf('\nfrozen 1\n') >= 0);
}
