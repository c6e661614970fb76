// linux.namespaces → which to join (setns by path) and which to create (unshare).
import type { NamespaceType, Spec } from '../config/types';
import { HostFacts, isOwnNs } from './facts';

export const CLONE = {
  mount: 0x00020000,
  cgroup: 0x02000000,
  uts: 0x04000000,
  ipc: 0x08000000,
  user: 0x10000000,
  pid: 0x20000000,
  network: 0x40000000,
  time: 0x00000080,
} as const satisfies Record<NamespaceType, number>;
export type NsType = NamespaceType;

/** A namespace type name (rules take any string) that is one of the schema's. */
export const isNsType = (t: string): t is NsType => Object.hasOwn(CLONE, t);

/** The name of each namespace under /proc/<pid>/ns/. */
export const PROC_NS: Record<NsType, string> = {
  mount: 'mnt', cgroup: 'cgroup', uts: 'uts', ipc: 'ipc', user: 'user', pid: 'pid', network: 'net', time: 'time',
};

export interface NsPlan {
  /** namespaces joined by path, user first */
  join: Array<{ type: NsType; path: string }>;
  /** namespaces created */
  create: Set<NsType>;
}

export function planNamespaces(spec: Spec): NsPlan {
  const join: NsPlan['join'] = [];
  const create = new Set<NsType>();
  (spec.linux?.namespaces ?? []).forEach((ns) => {
    const type = ns.type;
    if (ns.path) {
      join.push({ type, path: ns.path });
    } else {
      create.add(type);
    }
  });
  join.sort((a, b) => (a.type === 'user' ? -1 : b.type === 'user' ? 1 : 0));
  return { join, create };
}

/**
 * Whether the container has a mount namespace other than the runtime's (created, or joined by a path that is not
 * the runtime's own). Without one (config-linux.md: an unlisted type is the runtime's) its mounts are made in the
 * runtime's mount namespace, under a private bind of the rootfs, and it is jailed with chroot.
 */
export function hasMountNs(ns: NsPlan, facts: Pick<HostFacts, 'ownNamespaces'>): boolean {
  return ns.create.has('mount') || ns.join.some((j) => j.type === 'mount' && !isOwnNs(facts, 'mount', j.path));
}

/** Content for /proc/self/timens_offsets. */
export function timeOffsets(spec: Spec): string {
  const out: string[] = [];
  for (const [clock, v] of Object.entries(spec.linux?.timeOffsets ?? {})) {
    out.push(`${clock} ${v.secs ?? 0} ${v.nanosecs ?? 0}`);
  }
  return out.join('\n');
}

export function idMapText(maps: Array<{ containerID: number; hostID: number; size: number }>): string {
  return maps.map((m) => `${m.containerID} ${m.hostID} ${m.size}\n`).join('');
}
