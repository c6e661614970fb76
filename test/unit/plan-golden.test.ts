// The plans of a wide set of configs, encoded, compared with the digests recorded in fixtures/plan-golden.json:
// a refactoring of the planner (functions named per spec field, rules moved to config/rules.ts) must leave every
// plan byte-identical. A deliberate change of a plan: rerun with UPDATE_GOLDEN=1 and review the diff.
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { describe, expect, it } from 'vitest';
import { buildPlan } from '../../src/plan/build';
import { buildExecPlan } from '../../src/plan/exec';
import { encodePlan } from '../../src/plan/encode';
import type { HostFacts } from '../../src/plan/facts';
import { baseSpec, fakeFacts, planOpts } from './fakefacts';

const FILE = path.join(__dirname, 'fixtures', 'plan-golden.json');
const USERNS = { namespaces: [{ type: 'user' }, { type: 'mount' }, { type: 'pid' }], uidMappings: [{ containerID: 0, hostID: 100000, size: 65536 }], gidMappings: [{ containerID: 0, hostID: 100000, size: 65536 }] };
const ALLNS = ['mount', 'pid', 'uts', 'ipc', 'network', 'cgroup', 'time'].map((type) => ({ type }));
const V1 = [{ name: 'cpu,cpuacct', options: 'rw,cpu,cpuacct', dir: '/sys/fs/cgroup/cpu,cpuacct/c1' }, { name: 'memory', options: 'rw,memory', dir: '/sys/fs/cgroup/memory/c1' }];
const HOSTMOUNTS = [
  { root: '/', mountPoint: '/', fsType: 'ext4' }, { root: '/', mountPoint: '/proc', fsType: 'proc' },
  { root: '/', mountPoint: '/sys', fsType: 'sysfs' }, { root: '/', mountPoint: '/nonexistent', fsType: 'ext4' },
];
const read = (p: string) => JSON.parse(fs.readFileSync(path.join(__dirname, p), 'utf8'));
const DEFAULT_MOUNTS = read('fixtures/runc-spec.json').mounts;
const fullProcess = {
  terminal: false, user: { uid: 1000, gid: 1000, umask: 0o027, additionalGids: [5, 6] }, args: ['sh', '-c', 'true'], cwd: '/work',
  env: ['PATH=/usr/bin:/bin', 'X=1'], rlimits: [{ type: 'RLIMIT_NOFILE', soft: 1024, hard: 4096 }, { type: 'RLIMIT_CORE', soft: -1, hard: -1 }],
  capabilities: { bounding: ['CAP_CHOWN', 'CAP_KILL', 'CAP_SYS_ADMIN'], effective: ['CAP_CHOWN'], permitted: ['CAP_CHOWN', 'CAP_KILL'], inheritable: ['CAP_KILL'], ambient: ['CAP_KILL'] },
  noNewPrivileges: true, oomScoreAdj: 100, scheduler: { policy: 'SCHED_BATCH', nice: 5, flags: ['SCHED_FLAG_RESET_ON_FORK'] },
  ioPriority: { class: 'IOPRIO_CLASS_BE', priority: 3 }, execCPUAffinity: { initial: '0', final: '0-1' },
};
const seccomp = {
  defaultAction: 'SCMP_ACT_ERRNO', defaultErrnoRet: 38, architectures: ['SCMP_ARCH_X86_64'], flags: ['SECCOMP_FILTER_FLAG_LOG'],
  syscalls: [{ names: ['read', 'write', 'exit_group'], action: 'SCMP_ACT_ALLOW' }, { names: ['personality'], action: 'SCMP_ACT_ERRNO', errnoRet: 1, args: [{ index: 0, value: 8, op: 'SCMP_CMP_EQ' }] }],
};
const hooks = {
  prestart: [{ path: '/bin/a' }], createRuntime: [{ path: '/bin/b', args: ['b', 'x'], env: ['Y=1'], timeout: 3 }],
  createContainer: [{ path: '/bin/c' }], startContainer: [{ path: '/bin/d' }, { path: '/bin/e' }],
};

interface Case { spec: any; facts?: Partial<HostFacts>; opts?: Record<string, any> }
const cases: Record<string, Case> = {
  base: { spec: baseSpec() },
  'default mounts': { spec: baseSpec({ mounts: DEFAULT_MOUNTS }) },
  'runc spec': { spec: read('fixtures/runc-spec.json') },
  'runc spec rootless': { spec: read('fixtures/runc-spec-rootless.json'), opts: { unprivileged: true, inUserNs: false } },
  'runc spec rootless in userns': { spec: read('fixtures/runc-spec-rootless.json'), opts: { inUserNs: true } },
  'busybox example': { spec: read('../../examples/busybox/config.json') },
  'all namespaces, names, sysctl': {
    spec: baseSpec({ hostname: 'h', domainname: 'd', linux: { namespaces: ALLNS, sysctl: { 'net.ipv4.ip_forward': '1', 'kernel.shmmax': '4096' }, timeOffsets: { monotonic: { secs: 5, nanosecs: 3 }, boottime: { secs: -2 } } } }),
  },
  'user namespace, default mounts': { spec: baseSpec({ mounts: DEFAULT_MOUNTS, linux: USERNS }) },
  'user namespace, no network ns, cgroup mount': {
    spec: baseSpec({ mounts: [...DEFAULT_MOUNTS, { destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['ro'] }], linux: USERNS }),
    facts: { cgroupV1: [] },
  },
  'cgroup mount v1': {
    spec: baseSpec({ mounts: [{ destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['ro'] }] }), facts: { cgroupV1: V1 },
  },
  'cgroup mount v1, rootless usable': {
    spec: baseSpec({ mounts: [{ destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup' }] }), facts: { cgroupV1: V1 }, opts: { cgroupV1Usable: ['memory'] },
  },
  'joined namespaces': {
    spec: baseSpec({ linux: { namespaces: [{ type: 'mount' }, { type: 'network', path: '/run/netns/a' }, { type: 'user', path: '/proc/9/ns/user' }, { type: 'ipc', path: '/proc/9/ns/ipc' }] } }),
  },
  'no mount namespace': { spec: baseSpec({ linux: { namespaces: [{ type: 'pid' }] } }) },
  'own mount namespace path, private': {
    spec: baseSpec({ linux: { namespaces: [{ type: 'pid' }, { type: 'mount', path: '/proc/1/ns/mnt' }], rootfsPropagation: 'rprivate' } }),
    facts: { ownNamespaces: [{ type: 'mount', path: '/proc/1/ns/mnt' }] },
  },
  ...Object.fromEntries(['private', 'shared', 'slave', 'unbindable', 'rprivate', 'rshared', 'rslave', 'runbindable'].map((rp) => [
    `rootfsPropagation ${rp}`, { spec: baseSpec({ mounts: DEFAULT_MOUNTS, linux: { rootfsPropagation: rp } }), facts: { mounts: HOSTMOUNTS, rootfsReal: '/nonexistent/rootfs' } }])),
  'rshared, rootfs below /': { spec: baseSpec({ linux: { rootfsPropagation: 'rshared' } }), facts: { mounts: [{ root: '/', mountPoint: '/', fsType: 'ext4' }] } },
  'no pivot': { spec: baseSpec({ mounts: DEFAULT_MOUNTS }), facts: { mounts: HOSTMOUNTS }, opts: { noPivot: true } },
  'no pivot, readonly root, masked, readonly paths': {
    spec: baseSpec({ mounts: DEFAULT_MOUNTS, root: { path: 'rootfs', readonly: true }, linux: { maskedPaths: ['/proc/kcore', '/sys/firmware'], readonlyPaths: ['/proc/sys', '/proc/bus'] } }),
    facts: { mounts: HOSTMOUNTS }, opts: { noPivot: true },
  },
  'full process': { spec: baseSpec({ process: fullProcess, linux: { personality: { domain: 'LINUX32' }, memoryPolicy: { mode: 'MPOL_BIND', nodes: '0', flags: ['MPOL_F_STATIC_NODES'] } } }), facts: { passwd: 'u:x:1000:1000::/home/u:/bin/sh\n' } },
  'terminal, ro dev': {
    spec: baseSpec({ process: { terminal: true, consoleSize: { height: 24, width: 80 } }, mounts: [{ destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['ro', 'mode=755'] }] }),
    opts: { fds: { ...planOpts.fds, console: 6 } },
  },
  'devices': {
    spec: baseSpec({ linux: { devices: [{ path: '/dev/fuse', type: 'c', major: 10, minor: 229, fileMode: 0o600, uid: 1, gid: 2 }, { path: '/dev/loop9', type: 'b', major: 7, minor: 9 }, { path: '/dev/p', type: 'p' }, { path: '/dev/null', type: 'u', major: 1, minor: 3 }] } }),
    facts: { kcore: false },
  },
  'devices in userns, bind /dev': {
    spec: baseSpec({ mounts: [{ destination: '/dev', type: 'bind', source: '/dev', options: ['rbind'] }], linux: { ...USERNS, devices: [{ path: '/dev/fuse', type: 'c', major: 10, minor: 229 }] } }),
  },
  'mounts: bind, tmpcopyup, ro tmpfs, idmap': {
    spec: baseSpec({
      mounts: [
        { destination: '/a', type: 'bind', source: 'data', options: ['rbind', 'ro', 'nosuid'] },
        { destination: '/b', type: 'tmpfs', source: 'tmpfs', options: ['tmpcopyup', 'size=1m'] },
        { destination: '/c', type: 'tmpfs', source: 'tmpfs', options: ['ro', 'rprivate'] },
        { destination: '/d', type: 'none', source: '/srv', options: ['bind', 'idmap'] },
      ],
      linux: USERNS,
    }),
  },
  'seccomp, hooks, env': { spec: baseSpec({ linux: { seccomp }, hooks }), opts: { extraEnv: ['LISTEN_FDS=2', 'LISTEN_PID=1'], fds: { ...planFdsWith(2) } } },
  'seccomp notify, non-root': {
    spec: baseSpec({ process: { user: { uid: 5, gid: 5 } }, linux: { seccomp: { defaultAction: 'SCMP_ACT_ALLOW', listenerPath: '/run/l.sock', syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_NOTIFY' }] } } }),
  },
  'lsm with selinux, mount label': {
    spec: baseSpec({ mounts: DEFAULT_MOUNTS, process: { selinuxLabel: 'system_u:system_r:t:s0', apparmorProfile: 'p' }, linux: { mountLabel: 'system_u:object_r:f:s0' } }),
    facts: { lsm: { apparmor: true, selinux: true, apparmorExecFile: '/proc/self/attr/apparmor/exec' } },
  },
  'netDevices': {
    spec: baseSpec({ linux: { namespaces: [{ type: 'mount' }, { type: 'network' }], netDevices: { eth9: { name: 'e0' }, dummy1: {} } } }),
    opts: { netAddrs: { eth9: [{ address: '10.0.0.2', prefix: 24 }], dummy1: [] } },
  },
};

function planFdsWith(preserve: number) {
  return { preserve, sync: 3 + preserve, listen: 4 + preserve, memfd: 5 + preserve };
}

const execCases: Record<string, { spec: any; proc?: any; chroot?: boolean }> = {
  'exec base': { spec: baseSpec() },
  'exec all namespaces, seccomp': { spec: baseSpec({ process: fullProcess, linux: { namespaces: [...ALLNS, { type: 'user' }], seccomp } }) },
  'exec chroot, terminal': { spec: baseSpec({ linux: { namespaces: [{ type: 'pid' }] } }), proc: { terminal: true, user: { uid: 0, gid: 0 }, args: ['sh'], cwd: '/' }, chroot: true },
};

function digests(): Record<string, string> {
  const out: Record<string, string> = {};
  const sha = (b: Buffer) => crypto.createHash('sha256').update(b).digest('hex').slice(0, 32);
  for (const [name, c] of Object.entries(cases)) {
    const o = { ...planOpts, ...c.opts };
    if (c.spec.process?.terminal && o.fds.console === undefined) o.fds = { ...o.fds, console: 9 };
    const p = buildPlan(c.spec, fakeFacts(c.facts), o);
    out[name] = `${sha(encodePlan(p.steps))} ${p.createHooks ? 'hooks' : '-'} ${[...p.ns.create].join(',')} ${p.ns.join.map((j) => j.type).join(',')}`;
  }
  for (const [name, c] of Object.entries(execCases)) {
    const proc = c.proc ?? c.spec.process;
    const steps = buildExecPlan(c.spec, fakeFacts(), 42, proc, { fds: { preserve: 0, sync: 3, memfd: 4, ...(proc.terminal ? { console: 5 } : {}) }, chroot: c.chroot });
    out[name] = sha(encodePlan(steps));
  }
  return out;
}

describe('plans stay byte-identical', () => {
  it('every case encodes to its recorded digest', () => {
    const got = digests();
    if (process.env.UPDATE_GOLDEN) fs.writeFileSync(FILE, JSON.stringify(got, null, 2) + '\n');
    expect(got).toEqual(JSON.parse(fs.readFileSync(FILE, 'utf8')));
    expect(Object.keys(got).length).toBeGreaterThan(30);
  });
});
