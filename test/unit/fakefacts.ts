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
