// linux.resources as runts reads it (the JSON Schema in schema/config-linux.json has already checked the types),
// and what state.json keeps about a container's cgroups.

export interface DeviceRule {
  allow: boolean;
  type?: 'a' | 'c' | 'b';
  major?: number | null;
  minor?: number | null;
  access?: string;
}
export interface WeightDevice { major: number; minor: number; weight?: number; leafWeight?: number }
export interface ThrottleDevice { major: number; minor: number; rate: number }

export interface Resources {
  devices?: DeviceRule[];
  memory?: {
    limit?: number; reservation?: number; swap?: number; kernel?: number; kernelTCP?: number;
    swappiness?: number; disableOOMKiller?: boolean; useHierarchy?: boolean; checkBeforeUpdate?: boolean;
  };
  cpu?: {
    shares?: number; quota?: number; burst?: number; period?: number; realtimeRuntime?: number;
    realtimePeriod?: number; cpus?: string; mems?: string; idle?: number;
  };
  pids?: { limit?: number };
  blockIO?: {
    weight?: number; leafWeight?: number; weightDevice?: WeightDevice[];
    throttleReadBpsDevice?: ThrottleDevice[]; throttleWriteBpsDevice?: ThrottleDevice[];
    throttleReadIOPSDevice?: ThrottleDevice[]; throttleWriteIOPSDevice?: ThrottleDevice[];
  };
  hugepageLimits?: { pageSize: string; limit: number }[];
  network?: { classID?: number; priorities?: { name: string; priority: number }[] };
  rdma?: Record<string, { hcaHandles?: number; hcaObjects?: number }>;
  unified?: Record<string, string>;
}

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
  for (const [key, dir] of Object.entries(s.paths)) if (key.split(',').includes(controller)) return dir;
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
  return text !== undefined && (text.trim() === 'FROZEN' || /^frozen 1$/m.test(text));
}
