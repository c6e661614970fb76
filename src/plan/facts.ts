// The host facts the planner decides from (gathered by src/container/facts.ts; unit tests pass plain objects).
// The planner reads a field only where the spec needs it: the gatherer may compute expensive ones lazily.
import type { HostMount } from './mountinfo';
import type { NsType } from './namespaces';

export interface HostFacts {
  /** the namespaces of linux.namespaces (joined by path) that are the runtime's own namespace of that type */
  ownNamespaces: Array<{ type: NsType; path: string }>;
  /** which LSMs the host has, and the file an AppArmor exec profile is written to */
  lsm: { apparmor: boolean; selinux: boolean; apparmorExecFile: string };
  /** whether /proc/kcore exists (CONFIG_PROC_KCORE): the /dev/core symlink */
  kcore: boolean;
  /** the host's mounts (/proc/self/mountinfo), in the file's order */
  mounts: HostMount[];
  /** the rootfs with symlinks resolved (the rootfs itself when that fails) */
  rootfsReal: string;
  /** the v1 cgroup hierarchies (none on pure v2): name (basename of the mount), super block options, and the
   *  container's directory in each (when it has no cgroup namespace of its own and an id) */
  cgroupV1: Array<{ name: string; options: string; dir?: string }>;
  /** the host's cgroup2 mount point (undefined: none), bound for a cgroup mount in a user namespace without a
   *  cgroup namespace of its own (the kernel refuses a cgroup2 mount there) */
  cgroup2Mount: string | undefined;
  /** the rootfs's /etc/passwd ('' when absent, unreadable, or it or /etc is a symlink) */
  passwd: string;
}

/** Whether `path` is the runtime's own namespace of that type (a fact gathered for each path of the spec). */
export function isOwnNs(f: Pick<HostFacts, 'ownNamespaces'>, type: string, path: string): boolean {
  return f.ownNamespaces.some((n) => n.type === type && n.path === path);
}

/** The namespace facts as config/rules.ts takes them. */
export function nsFacts(f: Pick<HostFacts, 'ownNamespaces'>): { isHostNs(type: string, path: string): boolean } {
  return { isHostNs: (type, path) => isOwnNs(f, type, path) };
}
