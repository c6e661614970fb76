// A host as the planner sees it (src/plan/facts.ts), for plan unit tests: no I/O, no root.
import type { HostFacts } from '../../src/plan/facts';

export function fakeFacts(over: Partial<HostFacts> = {}): HostFacts {
  return {
    ownNamespaces: [],
    lsm: { apparmor: false, selinux: false, apparmorExecFile: '/proc/self/attr/apparmor/exec' },
    kcore: true,
    mounts: [{ root: '/', mountPoint: '/', fsType: 'ext4' }, { root: '/', mountPoint: '/proc', fsType: 'proc' }],
    rootfsReal: '/nonexistent/rootfs',
    cgroupV1: [],
    cgroup2Mount: '/sys/fs/cgroup',
    passwd: '',
    ...over,
  };
}

/** A minimal valid config with a mount namespace; `over` replaces top-level fields, `linux` merges. */
export function baseSpec(over: Record<string, any> = {}): any {
  const { linux, process: proc, ...rest } = over;
  return {
    ociVersion: '1.3.0',
    process: { user: { uid: 0, gid: 0 }, args: ['/bin/true'], cwd: '/', env: ['PATH=/bin'], ...proc },
    root: { path: '/nonexistent/rootfs' },
    mounts: [],
    ...rest,
    linux: { namespaces: [{ type: 'mount' }, { type: 'pid' }], ...linux },
  };
}

export const planFds = { preserve: 0, sync: 3, listen: 4, memfd: 5 };
export const planOpts = { bundle: '/nonexistent', rootfs: '/nonexistent/rootfs', noPivot: false, fds: planFds, hostRoot: '/run/x/rootfs', id: 'c1' };

/** A step's argument values. */
export const vals = (s: { args: Array<{ v: unknown }> }): unknown[] => s.args.map((a) => a.v);
/** The steps with op `op`, as [op, ...values]. */
export const pick = (steps: Array<{ op: string; args: Array<{ v: unknown }> }>, op: string): unknown[][] =>
  steps.filter((s) => s.op === op).map(vals);
