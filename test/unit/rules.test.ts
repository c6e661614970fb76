// Each cross-field rule of config/rules.ts on its own: what it reports, with the field, and that a good value
// passes. create throws the first of these; `runts validate` reports them all.
import { describe, expect, it } from 'vitest';
import * as R from '../../src/config/rules';

const fields = (ps: R.Problem[]) => ps.map(R.problemText);
const noHost = { isHostNs: () => false };
const allHost = { isHostNs: () => true };

describe('document rules', () => {
  it('checkVersion', () => {
    expect(fields(R.checkVersion({ ociVersion: '1.3.0' }))).toEqual([]);
    expect(fields(R.checkVersion({ ociVersion: '2.0.0' }))).toEqual(['ociVersion: unsupported version "2.0.0"']);
  });
  it('checkRoot', () => {
    expect(fields(R.checkRoot({ root: { path: '' } }))).toEqual(['root.path: must not be empty']);
    expect(R.checkRoot({ root: { path: 'rootfs' } })).toEqual([]);
  });
  it('checkCwd: one rule for config.json and exec', () => {
    expect(R.checkCwd('/tmp')).toEqual([]);
    expect(fields(R.checkCwd('tmp'))).toEqual(['process.cwd: must be an absolute path']);
    expect(fields(R.checkCwd('tmp', 'exec: cwd'))).toEqual(['exec: cwd: must be an absolute path']);
  });
  it('checkProcess', () => {
    expect(fields(R.checkProcess({ process: { args: [], cwd: 'x' } }))).toEqual(['process.args: must contain at least one element', 'process.cwd: must be an absolute path']);
    expect(R.checkProcess({ process: { args: ['sh'], cwd: '/' } })).toEqual([]);
  });
  it('checkRlimitDuplicates', () => {
    const rl = [{ type: 'RLIMIT_NOFILE' }, { type: 'RLIMIT_CORE' }, { type: 'RLIMIT_NOFILE' }];
    expect(fields(R.checkRlimitDuplicates({ process: { rlimits: rl } }))).toEqual(['process.rlimits[2].type: duplicate rlimit "RLIMIT_NOFILE"']);
  });
  it('checkHooks', () => {
    expect(fields(R.checkHooks({ hooks: { poststop: [{ path: '/bin/true' }, { path: 'x' }] } }))).toEqual(['hooks.poststop[1].path: must be an absolute path']);
  });
  it('checkAnnotations', () => {
    expect(fields(R.checkAnnotations({ annotations: { '': 'x' } }))).toEqual(['annotations: keys must not be empty']);
  });
  it('checkNamespaces: duplicates, relative paths, and what needs a namespace', () => {
    expect(fields(R.checkNamespaces({
      hostname: 'h',
      domainname: 'd',
      linux: {
        namespaces: [{ type: 'pid' }, { type: 'pid' }, { type: 'time', path: 'x' }],
        uidMappings: [{ containerID: 0, hostID: 1, size: 1 }],
        timeOffsets: { monotonic: { secs: 1 } },
      },
    }))).toEqual([
      'linux.namespaces[1].type: malformed spec file: duplicated ns "pid"',
      'linux.namespaces[2].path: must be an absolute path',
      'hostname: requires a new uts namespace',
      'domainname: requires a new uts namespace',
      'linux.uidMappings: requires a new user namespace',
      'linux.timeOffsets: requires a new time namespace', // joined by path: offsets need a new one
    ]);
    expect(R.checkNamespaces({ hostname: 'h', linux: { namespaces: [{ type: 'uts' }, { type: 'time' }], timeOffsets: { boottime: { secs: 1 } } } })).toEqual([]);
    // linux.namespaces of the wrong type: the schema says so, the rule does not guess
    expect(R.checkNamespaces({ hostname: 'h', linux: { namespaces: 'uts' } })).toEqual([]);
  });
  it('sysctlNamespace: runc\'s list, one classification for both sysctl rules', () => {
    expect(R.sysctlNamespace('net.ipv4.ip_forward')).toBe('network');
    expect(R.sysctlNamespace('net/ipv4/ip_forward')).toBe('network');
    expect(R.sysctlNamespace('kernel.shm_rmid_forced')).toBe('ipc');
    expect(R.sysctlNamespace('fs.mqueue.msg_max')).toBe('ipc');
    expect(R.sysctlNamespace('kernel.domainname')).toBe('uts');
    expect(R.sysctlNamespace('kernel.shmfoo')).toBeUndefined();
    expect(R.sysctlNamespace('vm.swappiness')).toBeUndefined();
  });
  it('checkSysctlNamespaces', () => {
    const doc = { linux: { namespaces: [{ type: 'ipc' }], sysctl: { 'net.core.somaxconn': '1', 'kernel.shmmax': '1', 'vm.swappiness': '1' } } };
    expect(fields(R.checkSysctlNamespaces(doc))).toEqual(['linux.sysctl["net.core.somaxconn"]: requires a new network namespace']);
  });
  it('checkDevices', () => {
    expect(fields(R.checkDevices({ linux: { devices: [{ path: 'dev/x', type: 'p' }, { path: '/dev/../x', type: 'c', major: 1 }, { path: '/dev/y', type: 'p' }] } }))).toEqual([
      'linux.devices[0].path: must be an absolute path',
      'linux.devices[1].path: must not contain ".."',
      'linux.devices[1].minor: is required for a device of type "c"',
    ]);
  });
  it('checkMaskedPaths', () => {
    expect(fields(R.checkMaskedPaths({ linux: { maskedPaths: ['/a', 'b'], readonlyPaths: ['c'] } }))).toEqual(['linux.maskedPaths[1]: must be an absolute path', 'linux.readonlyPaths[0]: must be an absolute path']);
  });
  it('checkIntelRdt', () => {
    expect(fields(R.checkIntelRdt({ linux: { intelRdt: { closID: 'a/b' } } }))).toEqual(['linux.intelRdt.closID: must be a single path component (no "/", not "." or ".."), got "a/b"']);
    expect(R.checkIntelRdt({ linux: { intelRdt: { closID: 'g' } } })).toEqual([]);
  });
  it('checkSeccompListener', () => {
    expect(fields(R.checkSeccompListener({ linux: { seccomp: { listenerMetadata: 'm' } } }))).toEqual(['linux.seccomp.listenerMetadata: requires linux.seccomp.listenerPath']);
  });
});

describe('plan rules', () => {
  const spec = (x: any): any => ({ ociVersion: '1.3.0', root: { path: 'rootfs' }, process: { args: ['sh'], cwd: '/', user: { uid: 0, gid: 0 } }, ...x });
  it('checkProcessPresent', () => {
    expect(fields(R.checkProcessPresent({ ociVersion: '1.3.0' } as any))).toEqual(['process: is required to create a container']);
  });
  it('checkRlimits: known types, soft not above hard (-1 is unlimited)', () => {
    const s = spec({ process: { rlimits: [{ type: 'RLIMIT_FOO', soft: 1, hard: 1 }, { type: 'RLIMIT_CORE', soft: 2, hard: 1 }, { type: 'RLIMIT_NOFILE', soft: 5, hard: -1 }] } });
    expect(fields(R.checkRlimits(s))).toEqual(['process.rlimits[0].type: unknown rlimit "RLIMIT_FOO"', 'process.rlimits[1]: soft limit 2 is above the hard limit 1']);
  });
  it('checkUserNamespace', () => {
    expect(fields(R.checkUserNamespace(spec({ linux: { namespaces: [{ type: 'user' }], uidMappings: [{ containerID: 0, hostID: 1, size: 1 }] } }))))
      .toEqual(['linux.uidMappings: a new user namespace needs uidMappings and gidMappings']);
    expect(R.checkUserNamespace(spec({ linux: { namespaces: [{ type: 'user', path: '/proc/1/ns/user' }] } }))).toEqual([]);
  });
  it('checkSysctl: keys, namespaced, not the host\'s namespace (a host fact)', () => {
    const s = spec({ linux: { namespaces: [{ type: 'network', path: '/proc/1/ns/net' }], sysctl: { 'vm.swappiness': '1', 'a..b': '1', 'net.ipv4.ip_forward': '1', 'kernel.shmmax': '1' } } });
    expect(fields(R.checkSysctl(s, noHost))).toEqual(['linux.sysctl: "vm.swappiness" is not in a separate kernel namespace', 'linux.sysctl: invalid key "a..b"']);
    expect(fields(R.checkSysctl(s, allHost))).toContain('linux.sysctl: "net.ipv4.ip_forward" needs a new network namespace');
  });
  it('checkRootfsPropagation: only private without a mount namespace of its own', () => {
    expect(fields(R.checkRootfsPropagation(spec({ linux: { rootfsPropagation: 'shared', namespaces: [] } }), noHost)))
      .toEqual(['linux.rootfsPropagation: "shared" needs a mount namespace (without one the container\'s mounts are kept private)']);
    expect(R.checkRootfsPropagation(spec({ linux: { rootfsPropagation: 'shared', namespaces: [{ type: 'mount' }] } }), noHost)).toEqual([]);
    expect(R.checkRootfsPropagation(spec({ linux: { rootfsPropagation: 'shared', namespaces: [{ type: 'mount', path: '/proc/1/ns/mnt' }] } }), allHost)).toHaveLength(1);
    expect(R.checkRootfsPropagation(spec({ linux: { rootfsPropagation: 'rprivate', namespaces: [] } }), noHost)).toEqual([]);
    expect(fields(R.checkRootfsPropagation(spec({ linux: { rootfsPropagation: 'recursive' } }), noHost)))
      .toEqual(['linux.rootfsPropagation: must be one of private, rprivate, shared, rshared, slave, rslave, unbindable, runbindable']);
  });
  it('checkRootfsPropagation: [r]private refused with --no-pivot (runc: "not safe without pivot_root")', () => {
    const rp = (v: string) => spec({ linux: { rootfsPropagation: v, namespaces: [{ type: 'mount' }] } });
    for (const v of ['private', 'rprivate']) {
      expect(fields(R.checkRootfsPropagation(rp(v), noHost, { noPivot: true }))).toEqual([`linux.rootfsPropagation: "${v}" is not safe without pivot_root (--no-pivot), as in runc`]);
      expect(R.checkRootfsPropagation(rp(v), noHost, { noPivot: false })).toEqual([]);
    }
    for (const v of ['slave', 'rslave', 'shared', 'rshared', 'unbindable', 'runbindable']) expect(R.checkRootfsPropagation(rp(v), noHost, { noPivot: true })).toEqual([]);
    expect(R.checkRootfsPropagation(spec({ linux: { namespaces: [{ type: 'mount' }] } }), noHost, { noPivot: true })).toEqual([]);
    expect(fields(R.planProblems(rp('rprivate'), '/b', noHost, { noPivot: true }))).toHaveLength(1);
  });
  it('checkNamespaceTypes, checkTimeOffsets, checkDeviceTypes, checkPersonality: values the planner takes', () => {
    expect(fields(R.checkNamespaceTypes(spec({ linux: { namespaces: [{ type: 'mount' }, { type: 'bogus' }] } })))).toEqual(['linux.namespaces[1].type: unknown namespace type "bogus"']);
    expect(R.checkNamespaceTypes(spec({ linux: { namespaces: ['mount', 'cgroup', 'uts', 'ipc', 'user', 'pid', 'network', 'time'].map((type) => ({ type })) } }))).toEqual([]);
    expect(fields(R.checkTimeOffsets(spec({ linux: { timeOffsets: { monotonic: { secs: 1 }, realtime: { secs: 1 } } } })))).toEqual(['linux.timeOffsets: unknown clock "realtime" (monotonic or boottime)']);
    expect(R.checkTimeOffsets(spec({ linux: { timeOffsets: { monotonic: { secs: 1 }, boottime: { secs: 1 } } } }))).toEqual([]);
    expect(fields(R.checkDeviceTypes(spec({ linux: { devices: [{ path: '/dev/a', type: 'c' }, { path: '/dev/b', type: 'x' }] } })))).toEqual(['linux.devices[1].type: must be one of c, b, u, p, got "x"']);
    expect(R.checkDeviceTypes(spec({ linux: { devices: ['c', 'b', 'u', 'p'].map((type) => ({ path: '/dev/x', type })) } }))).toEqual([]);
    expect(fields(R.checkPersonality(spec({ linux: { personality: { domain: 'LINUX64' } } })))).toEqual(['linux.personality.domain: must be LINUX or LINUX32, got "LINUX64"']);
    expect(R.checkPersonality(spec({ linux: { personality: { domain: 'LINUX32' } } }))).toEqual([]);
  });
  it('checkConsoleSocket: a terminal needs a console socket at create; validate does not know', () => {
    const t = spec({ process: { terminal: true, args: ['sh'], cwd: '/' } });
    expect(fields(R.checkConsoleSocket(t, { console: false }))).toEqual(['cannot allocate tty if runts will detach without setting console socket']);
    expect(R.checkConsoleSocket(t, { console: true })).toEqual([]);
    expect(R.checkConsoleSocket(t, {})).toEqual([]);
    expect(R.checkConsoleSocket(spec({ process: { args: ['sh'], cwd: '/' } }), { console: false })).toEqual([]);
  });
  it('checkScheduler: runc\'s rules, and what the kernel would refuse anyway', () => {
    const bad: Array<[any, string]> = [
      [{ policy: 'SCHED_OTHER', nice: -21 }, 'process.scheduler.nice: must be between -20 and 19, got -21'],
      [{ policy: 'SCHED_IDLE', priority: 1 }, 'process.scheduler.priority: can only be set for SCHED_FIFO or SCHED_RR, not SCHED_IDLE'],
      [{ policy: 'SCHED_RR', priority: 100 }, 'process.scheduler.priority: SCHED_RR needs a priority between 1 and 99, got 100'],
      [{ policy: 'SCHED_OTHER', period: 1 }, 'process.scheduler.period: can only be set for SCHED_DEADLINE, not SCHED_OTHER'],
      [{ policy: 'SCHED_DEADLINE', runtime: 1 }, 'process.scheduler.deadline: SCHED_DEADLINE needs a deadline (nanoseconds)'],
      [{ policy: 'SCHED_DEADLINE', deadline: 1 }, 'process.scheduler.runtime: SCHED_DEADLINE needs a runtime (nanoseconds)'],
      [{ policy: 'SCHED_ISO' }, 'process.scheduler.policy: SCHED_ISO is not implemented by Linux'],
      [{ policy: 'SCHED_NOPE' }, 'process.scheduler.policy: unknown policy "SCHED_NOPE"'],
      [{ policy: 'SCHED_OTHER', flags: ['X'] }, 'process.scheduler.flags[0]: unknown flag "X"'],
    ];
    for (const [s, msg] of bad) expect(fields(R.checkScheduler(spec({ process: { scheduler: s } }))), msg).toEqual([msg]);
    for (const s of [{ policy: 'SCHED_OTHER', nice: -20 }, { policy: 'SCHED_FIFO', priority: 1 }, { policy: 'SCHED_RR', priority: 99 }, { policy: 'SCHED_DEADLINE', runtime: 1, deadline: 2, period: 3 }, { policy: 'SCHED_BATCH', flags: ['SCHED_FLAG_RESET_ON_FORK'] }]) {
      expect(R.checkScheduler(spec({ process: { scheduler: s } }))).toEqual([]);
    }
    // every problem, for validate
    expect(fields(R.checkScheduler(spec({ process: { scheduler: { policy: 'SCHED_FIFO', nice: 30, runtime: 1 } } })))).toEqual([
      'process.scheduler.nice: must be between -20 and 19, got 30',
      'process.scheduler.priority: SCHED_FIFO needs a priority between 1 and 99, got 0',
      'process.scheduler.runtime: can only be set for SCHED_DEADLINE, not SCHED_FIFO',
    ]);
  });
  it('checkIoPriority', () => {
    const io = (ioPriority: any) => fields(R.checkIoPriority(spec({ process: { ioPriority } })));
    expect(io({ class: 'IOPRIO_CLASS_BE', priority: -1 })).toEqual(['process.ioPriority.priority: must be between 0 and 7, got -1']);
    expect(io({ class: 'IOPRIO_CLASS_BE', priority: 8 })).toEqual(['process.ioPriority.priority: must be between 0 and 7, got 8']);
    expect(io({ class: 'X' })).toEqual(['process.ioPriority.class: unknown class "X"']);
    expect(io({ class: 'IOPRIO_CLASS_RT', priority: 7 })).toEqual([]);
  });
  it('checkMemoryPolicy: runc\'s node rules and the flags the kernel refuses together', () => {
    const mp = (memoryPolicy: any) => fields(R.checkMemoryPolicy(spec({ linux: { memoryPolicy } })));
    expect(mp({ mode: 'MPOL_DEFAULT', nodes: '0' })).toEqual(['linux.memoryPolicy.nodes: MPOL_DEFAULT takes no nodes, got "0"']);
    for (const m of ['MPOL_BIND', 'MPOL_INTERLEAVE', 'MPOL_WEIGHTED_INTERLEAVE', 'MPOL_PREFERRED_MANY']) {
      expect(mp({ mode: m })).toEqual([`linux.memoryPolicy.nodes: ${m} needs at least one node`]);
    }
    expect(mp({ mode: 'MPOL_BIND', nodes: '0', flags: ['MPOL_F_RELATIVE_NODES', 'MPOL_F_STATIC_NODES'] }))
      .toEqual(['linux.memoryPolicy.flags: MPOL_F_STATIC_NODES and MPOL_F_RELATIVE_NODES exclude each other']);
    expect(mp({ mode: 'MPOL_LOCAL', flags: ['MPOL_F_NUMA_BALANCING'] })).toEqual(['linux.memoryPolicy.flags: MPOL_LOCAL takes no flags']);
    expect(mp({ mode: 'MPOL_BIND', nodes: '1024' })).toEqual(['linux.memoryPolicy.nodes: invalid list "1024": 1024 is above the maximum 1023']);
    expect(mp({ mode: 'MPOL_INTERLEAVE', nodes: '0-' })).toEqual(['linux.memoryPolicy.nodes: invalid list "0-": "0-" is not a number or a range like 0-3']);
    expect(mp({ mode: 'MPOL_NOPE' })).toEqual(['linux.memoryPolicy.mode: unknown mode "MPOL_NOPE"']);
    expect(mp({ mode: 'MPOL_BIND', nodes: '0', flags: ['X'] })).toEqual(['linux.memoryPolicy.flags[0]: unknown flag "X"']);
    expect(mp({ mode: 'MPOL_BIND', nodes: '0-1', flags: ['MPOL_F_STATIC_NODES'] })).toEqual([]);
    expect(mp({ mode: 'MPOL_LOCAL', nodes: '' })).toEqual([]);
  });
  it('checkExecCPUAffinity: both lists parse (an empty one is absent); checkProcessFields has it', () => {
    const aff = (execCPUAffinity: any) => fields(R.checkExecCPUAffinity(spec({ process: { execCPUAffinity } })));
    expect(aff({ initial: '1-0', final: '0,,1' })).toEqual([
      'process.execCPUAffinity.initial: invalid list "1-0": range "1-0" ends before it starts',
      'process.execCPUAffinity.final: invalid list "0,,1": "" is not a number or a range like 0-3',
    ]);
    expect(aff({ initial: '', final: '8192' })).toEqual(['process.execCPUAffinity.final: invalid list "8192": 8192 is above the maximum 8191']);
    expect(aff({ initial: '0-3,7', final: '8191' })).toEqual([]);
    expect(fields(R.checkProcessFields(spec({ process: { execCPUAffinity: { final: 'x' } } })))).toEqual(['process.execCPUAffinity.final: invalid list "x": "x" is not a number or a range like 0-3']);
  });
  it('parseList and listProblems: one parser for CPU and node lists', () => {
    expect(R.parseList('5,1-2,2', 'f', 100)).toEqual([1, 2, 5]);
    expect(() => R.parseList('3-1', 'x.y', 100)).toThrow('x.y: invalid list "3-1": range "3-1" ends before it starts');
    expect(R.listProblems('0-3,7', 'f', 7)).toEqual([]);
  });
  it('checkCapabilities: capset(2)\'s rules', () => {
    const s = spec({ process: { capabilities: { bounding: ['CAP_KILL'], effective: ['CAP_KILL', 'CAP_CHOWN'], permitted: ['CAP_KILL'], inheritable: ['CAP_SYS_ADMIN'] } } });
    expect(fields(R.checkCapabilities(s))).toEqual([
      'process.capabilities.effective: CAP_CHOWN is not in the permitted set',
      'process.capabilities.inheritable: CAP_SYS_ADMIN is not in the bounding set',
    ]);
  });
  it('checkMounts', () => {
    const s = spec({ mounts: [
      { destination: '/a/../../b', type: 'tmpfs' }, // taken as /b, as runc cleans it
      { destination: '/c', options: ['rbind', 'idmap'] },
      { destination: '/d', source: 'x' },
      { destination: '/e', type: 'proc', options: ['tmpcopyup'] },
      { destination: '/f', type: 'tmpfs', options: ['tmpcopyup'] },
      { destination: '/g', type: 'cgroup' },
    ] });
    expect(fields(R.checkMounts(s))).toEqual([
      'mounts[1].options[1]: "idmap": needs the mount\'s uidMappings and gidMappings, or a user namespace for the container',
      'mounts[1].source: is required for a bind mount',
      'mounts[2].type: is required for a mount that is not a bind mount',
      'mounts[3].options: "tmpcopyup" is only for tmpfs mounts',
    ]);
  });
  it('checkMounts: id-mapped mounts', () => {
    const map = [{ containerID: 0, hostID: 1000, size: 1 }];
    const mounts = [
      { destination: '/a', type: 'bind', source: '/x', options: ['idmap'] }, // the container's user namespace
      { destination: '/b', type: 'bind', source: '/x', uidMappings: map }, // no gidMappings
      { destination: '/c', type: 'cgroup', options: ['ridmap'] },
      { destination: '/d', type: 'tmpfs', options: ['idmap'], uidMappings: map, gidMappings: map }, // made in the user namespace
    ];
    expect(fields(R.checkMounts(spec({ mounts, linux: { namespaces: [{ type: 'user' }, { type: 'mount' }] } })))).toEqual([
      'mounts[1].gidMappings: is required with uidMappings',
      'mounts[2].options[0]: "ridmap": a cgroup mount cannot be id-mapped',
      'mounts[3].options[0]: "idmap": in a user namespace only bind mounts can be id-mapped (a tmpfs made there belongs to the container\'s namespace)',
    ]);
    // without a user namespace: the tmpfs is fine with mappings of its own, the bind mount has none to take
    expect(fields(R.checkMounts(spec({ mounts: [mounts[0], mounts[3]], linux: { namespaces: [{ type: 'mount' }] } })))).toEqual([
      'mounts[0].options[0]: "idmap": needs the mount\'s uidMappings and gidMappings, or a user namespace for the container',
    ]);
  });
  it('checkCgroupsPath: the systemd driver\'s slice:prefix:name', () => {
    expect(R.checkCgroupsPath('system.slice:runts:x', true)).toEqual([]);
    expect(R.checkCgroupsPath(':docker:x', true)).toEqual([]);
    expect(R.checkCgroupsPath(undefined, true)).toEqual([]);
    expect(fields(R.checkCgroupsPath('/a/b', true))).toEqual(['linux.cgroupsPath: expected "slice:prefix:name" for the systemd cgroup driver, got "/a/b"']);
    expect(fields(R.checkCgroupsPath('a.slice:p:', true))).toEqual(['linux.cgroupsPath: the name in "a.slice:p:" is empty']);
    expect(fields(R.checkCgroupsPath('a.slice:p:b.slice', true))).toEqual(['linux.cgroupsPath: the slice "b.slice" is not a child of "a.slice" (systemd puts it in "-.slice"); name it "a-b.slice"']);
    expect(R.checkCgroupsPath('a.slice:p:a-b.slice', true)).toEqual([]);
    expect(fields(R.checkCgroupsPath('a.slice:p q:x', true))).toEqual(['linux.cgroupsPath: "a.slice:p q:x" names an invalid unit']);
    expect(fields(R.checkCgroupsPath('a--b.slice:p:x', true))).toEqual(['linux.cgroupsPath: invalid slice name "a--b.slice"']);
  });
  it('checkCgroupsPath', () => {
    expect(R.checkCgroupsPath('/a/b')).toEqual([]);
    expect(R.checkCgroupsPath(undefined)).toEqual([]);
    expect(fields(R.checkCgroupsPath('system.slice:runts:x'))).toEqual(['linux.cgroupsPath: "system.slice:runts:x" is a systemd path (slice:prefix:name), which needs the systemd cgroup driver (--systemd-cgroup)']);
    expect(fields(R.checkCgroupsPath('/a/../b'))).toEqual(['linux.cgroupsPath: must not contain "..", got "/a/../b"']);
    expect(fields(R.checkCgroupsPath('//'))).toEqual(['linux.cgroupsPath: "//" is the root cgroup']);
  });
  it('checkRootPath', () => {
    expect(R.checkRootPath(spec({}), '/b')).toEqual([]);
    expect(fields(R.checkRootPath(spec({ root: { path: '../x' } }), '/b'))).toEqual(['root.path: "../x" is outside the bundle']);
    expect(R.checkRootPath(spec({ root: { path: '/abs' } }), '/b')).toEqual([]);
  });
  it('checkProcessLsm, checkMountLabel: host facts in', () => {
    const s = spec({ process: { args: ['sh'], cwd: '/', apparmorProfile: 'p', selinuxLabel: 'l' }, linux: { mountLabel: 'm' } });
    expect(R.checkProcessLsm(s, { apparmor: false, selinux: false }).map((p) => p.field)).toEqual(['process.apparmorProfile', 'process.selinuxLabel']);
    expect(R.checkProcessLsm(s, { apparmor: true, selinux: true })).toEqual([]);
    expect(R.checkMountLabel(s, { apparmor: false, selinux: false }).map((p) => p.field)).toEqual(['linux.mountLabel']);
  });
  it('checkSeccomp: the filter builder\'s finding, with its field', () => {
    const s = spec({ linux: { seccomp: { defaultAction: 'SCMP_ACT_NOTIFY' } } });
    expect(fields(R.checkSeccomp(s))).toEqual(['linux.seccomp.defaultAction: SCMP_ACT_NOTIFY cannot be the default action']);
  });
  it('checkSeccomp: every problem of the filter, in the order create meets them', () => {
    const s = spec({ linux: { seccomp: {
      defaultAction: 'SCMP_ACT_ALLOW', defaultErrnoRet: 1, architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_NOPE'], flags: ['SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV'],
      syscalls: [
        { names: ['write'], action: 'SCMP_ACT_NOTIFY', args: [{ index: 6, value: 1, op: 'SCMP_CMP_EQ' }, { index: 0, value: -1, op: 'SCMP_CMP_XX' }] },
        { names: [], action: 'SCMP_ACT_ERRNO' },
        { names: ['getpid'], action: 'SCMP_ACT_ERRNO', errnoRet: 70000 },
      ],
    } } });
    expect(fields(R.checkSeccomp(s))).toEqual([
      'linux.seccomp.defaultErrnoRet: SCMP_ACT_ALLOW does not take an errno (only SCMP_ACT_ERRNO and SCMP_ACT_TRACE do)',
      'linux.seccomp.architectures[1]: unknown architecture "SCMP_ARCH_NOPE"',
      'linux.seccomp.flags[0]: SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV is not supported by runts (it needs libseccomp 2.6)',
      'linux.seccomp.syscalls[0].args[0].index: must be between 0 and 5, got 6',
      'linux.seccomp.syscalls[0].args[1].op: unknown operator "SCMP_CMP_XX"',
      'linux.seccomp.syscalls[0].args[1].value: must be an unsigned integer, got -1',
      'linux.seccomp.syscalls[0].names: SCMP_ACT_NOTIFY cannot be used for write: runts needs it to hand over the listener',
      'linux.seccomp.syscalls[1].names: must list at least one syscall',
      'linux.seccomp.syscalls[2].errnoRet: must be an errno between 0 and 65535, got 70000',
      'linux.seccomp.listenerPath: is required when a rule uses SCMP_ACT_NOTIFY',
    ]);
  });
  it('planProblems: every plan rule, a rule that cannot read a malformed field says nothing', () => {
    const s = spec({ root: { path: '../r' }, process: { args: ['sh'], cwd: '/', rlimits: [{ type: 'RLIMIT_X', soft: 1, hard: 1 }] }, mounts: 'bad', linux: { cgroupsPath: '/' } });
    expect(planProblems(s).map((p) => p.field)).toEqual(['root.path', 'process.rlimits[0].type', 'linux.cgroupsPath']);
    function planProblems(x: any) { return R.planProblems(x, '/b', noHost); }
  });
  it('planProblems: the value rules the planner used to hold, and the options create knows', () => {
    const s = spec({
      process: { args: ['sh'], cwd: '/', terminal: true, scheduler: { policy: 'SCHED_OTHER', nice: 20 }, ioPriority: { class: 'IOPRIO_CLASS_BE', priority: 9 }, execCPUAffinity: { final: 'x' } },
      linux: { namespaces: [{ type: 'mount' }, { type: 'time' }, { type: 'nope' }], timeOffsets: { realtime: {} }, rootfsPropagation: 'rprivate', devices: [{ path: '/dev/x', type: 'q' }], personality: { domain: 'LINUX64' }, memoryPolicy: { mode: 'MPOL_BIND' } },
    });
    expect(R.planProblems(s, '/b', noHost, { noPivot: true, console: false }).map((p) => p.field)).toEqual([
      '', 'process.scheduler.nice', 'process.ioPriority.priority', 'process.execCPUAffinity.final', 'linux.namespaces[2].type',
      'linux.timeOffsets', 'linux.rootfsPropagation', 'linux.devices[0].type', 'linux.personality.domain', 'linux.memoryPolicy.nodes',
    ]);
    // validate knows neither --no-pivot nor the console socket
    expect(R.planProblems(s, '/b', noHost).map((p) => p.field)).not.toContain('');
    expect(R.planProblems(s, '/b', noHost).map((p) => p.field)).not.toContain('linux.rootfsPropagation');
  });
  it('throwFirst: create\'s error is the first problem', () => {
    expect(() => R.throwFirst([{ field: 'a.b', message: 'x' }, { field: 'c', message: 'y' }])).toThrow(/^a\.b: x$/);
    expect(() => R.throwFirst([])).not.toThrow();
  });
});
