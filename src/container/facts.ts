// Host facts for the planner (src/plan/facts.ts), gathered here, once per create or exec. Cheap ones are read at
// once; the others (mountinfo, the cgroup layout, the rootfs's passwd, the LSMs) when the planner first reads
// them, so a create reads only what its spec needs.
import { exists, isLinkMode, readOptText, readText, realPath, statFile } from '../io';
import { basename, join } from '../paths';
import type { Spec } from '../config/types';
import type { HostFacts } from '../plan/facts';
import { parseMountinfo } from '../plan/mountinfo';
import { NsType, PROC_NS, isNsType } from '../plan/namespaces';

/** Whether the namespace at `nsPath` is the runtime's own namespace of that type (the host's). */
export function isHostNs(type: NsType, nsPath: string): boolean {
  try {
    const a = statFile(nsPath);
    const b = statFile(`/proc/self/ns/${PROC_NS[type]}`);
    return a.dev === b.dev && a.ino === b.ino;
  } catch {
    return false; // a path that cannot be read is reported when the stub joins it
  }
}

export function apparmorEnabled(): boolean {
  return (readOptText('/sys/module/apparmor/parameters/enabled') ?? '').startsWith('Y') && exists('/sys/kernel/security/apparmor');
}

export function selinuxEnabled(): boolean {
  return exists('/sys/fs/selinux/enforce');
}

/** The namespace facts as config/rules.ts takes them, for any path (validate). */
export function hostNsFacts(): { isHostNs(type: string, nsPath: string): boolean } {
  return { isHostNs: (type, p) => isNsType(type) && isHostNs(type, p) };
}

export type { Layout } from '../cgroups/layout';

/** The host's cgroup hierarchies (mounts, controllers, v1/v2/hybrid), read once and cached by cgroups/layout. */
export function cgroupLayout(): import('../cgroups/layout').Layout {
  return (require('../cgroups/layout') as typeof import('../cgroups/layout')).hostLayout();
}

/** /sys/fs/cgroup is a cgroup2 file system (runc's IsCgroup2UnifiedMode: one statfs, nothing else read). */
export function cgroup2Unified(): boolean {
  const CGROUP2_SUPER_MAGIC = 0x63677270;
  try {
    const { loadNative } = require('../native') as typeof import('../native');
    return loadNative().statfsType('/sys/fs/cgroup') === CGROUP2_SUPER_MAGIC;
  } catch {
    return false;
  }
}

/** Which LSMs this host has (host facts for the rules, and the planner's `lsm`). */
export function lsmFacts(): { apparmor: boolean; selinux: boolean } {
  return { apparmor: apparmorEnabled(), selinux: selinuxEnabled() };
}

/** The rootfs's /etc/passwd, read without following a symlink out of the rootfs. */
function passwdOf(rootfs: string): string {
  try {
    const p = join(rootfs, 'etc/passwd');
    if (isLinkMode(statFile(join(rootfs, 'etc'), true).mode) || isLinkMode(statFile(p, true).mode)) return '';
    return readText(p);
  } catch {
    return '';
  }
}

/** `obj[key]` computed by `fn` on first read, then kept. */
function lazy<T extends object, K extends keyof T>(obj: T, key: K, fn: () => T[K]): void {
  Object.defineProperty(obj, key, {
    enumerable: true, configurable: true,
    get: () => { const v = fn(); Object.defineProperty(obj, key, { value: v, enumerable: true }); return v; },
  });
}

/** The facts for planning `spec` with its rootfs at `rootfs` (create: `id` locates its cgroups). */
export function gatherFacts(spec: Spec, o: { rootfs: string; id?: string }): HostFacts {
  const ownNamespaces: HostFacts['ownNamespaces'] = [];
  for (const n of spec.linux?.namespaces ?? []) {
    if (n.path && isHostNs(n.type, n.path)) ownNamespaces.push({ type: n.type, path: n.path });
  }
  const f = { ownNamespaces, kcore: exists('/proc/kcore') } as HostFacts;
  lazy(f, 'lsm', () => ({
    ...lsmFacts(),
    // the LSM-specific file of newer kernels, else the shared one
    apparmorExecFile: exists('/proc/self/attr/apparmor/exec') ? '/proc/self/attr/apparmor/exec' : '/proc/self/attr/exec',
  }));
  lazy(f, 'mounts', () => parseMountinfo(readText('/proc/self/mountinfo')));
  lazy(f, 'rootfsReal', () => { try { return realPath(o.rootfs); } catch { return o.rootfs; } });
  lazy(f, 'passwd', () => passwdOf(o.rootfs));
  lazy(f, 'cgroupV1', () => {
    // the layout is cached: create reads it again for the cgroups
    const { hostLayout, containerPath, dirIn } = require('../cgroups/layout') as typeof import('../cgroups/layout');
    const v1 = hostLayout().v1;
    const ownCgroupNs = (spec.linux?.namespaces ?? []).some((n) => n.type === 'cgroup' && !n.path);
    const cp = v1.length && !ownCgroupNs && o.id ? containerPath(spec.linux?.cgroupsPath, o.id) : undefined;
    return v1.map((h) => ({ name: basename(h.mount), options: h.options, ...(cp ? { dir: dirIn(h, cp) } : {}) }));
  });
  lazy(f, 'cgroup2Mount', () => {
    const { hostLayout } = require('../cgroups/layout') as typeof import('../cgroups/layout');
    return hostLayout().v2?.mount;
  });
  return f;
}
