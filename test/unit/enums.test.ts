// Every enum and pattern of schema/ against the values config.md and config-linux.md (runtime-spec v1.3.0) list,
// plus what runc accepts beyond them: each listed value is accepted, a value outside the list is refused naming
// the field.
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { beforeAll, describe, expect, it } from 'vitest';
import { validateConfig } from '../../src/config/validate';

const REPO = path.resolve(__dirname, '..', '..');

beforeAll(() => {
  if (!fs.existsSync(path.join(REPO, 'dist', 'validators.js'))) {
    execFileSync(process.execPath, [path.join(REPO, 'scripts', 'build-validators.mjs')], { cwd: REPO, stdio: 'inherit' });
  }
});

function base(): any {
  return {
    ociVersion: '1.3.0',
    root: { path: 'rootfs' },
    process: { cwd: '/', args: ['true'], user: { uid: 0, gid: 0 } },
    linux: { namespaces: [{ type: 'mount' }] },
  };
}

interface Enum {
  /** the field as errors name it */
  field: RegExp;
  values: string[];
  /** a config using `v` */
  set: (c: any, v: string) => void;
  bad?: string;
}

const SECCOMP_ACTIONS = ['SCMP_ACT_KILL', 'SCMP_ACT_KILL_PROCESS', 'SCMP_ACT_KILL_THREAD', 'SCMP_ACT_TRAP', 'SCMP_ACT_ERRNO',
  'SCMP_ACT_TRACE', 'SCMP_ACT_ALLOW', 'SCMP_ACT_LOG', 'SCMP_ACT_NOTIFY'];

const ENUMS: Record<string, Enum> = {
  // config-linux.md lists shared, slave, private, unbindable; runc (and containerd's CRI) also use the r* forms
  'linux.rootfsPropagation': {
    field: /^linux\.rootfsPropagation/,
    values: ['shared', 'slave', 'private', 'unbindable', 'rshared', 'rslave', 'rprivate', 'runbindable'],
    set: (c, v) => { c.linux.rootfsPropagation = v; },
  },
  'linux.namespaces[].type': {
    field: /^linux\.namespaces\[0\]\.type/,
    values: ['pid', 'network', 'mount', 'ipc', 'uts', 'user', 'cgroup', 'time'],
    set: (c, v) => {
      c.linux.namespaces = [{ type: v }];
      if (v === 'user') Object.assign(c.linux, { uidMappings: [{ containerID: 0, hostID: 1000, size: 1 }], gidMappings: [{ containerID: 0, hostID: 1000, size: 1 }] });
    },
  },
  'linux.devices[].type': {
    field: /^linux\.devices\[0\]\.type/,
    values: ['c', 'b', 'u', 'p'],
    set: (c, v) => { c.linux.devices = [v === 'p' ? { type: v, path: '/dev/f' } : { type: v, path: '/dev/x', major: 1, minor: 3 }]; },
  },
  // config-linux.md: a, c, b; unset means a, and runc takes "" as a too
  'linux.resources.devices[].type': {
    field: /^linux\.resources\.devices\[0\]\.type/,
    values: ['a', 'c', 'b', ''],
    set: (c, v) => { c.linux.resources = { devices: [{ allow: false, type: v, access: 'rwm' }] }; },
  },
  'linux.seccomp.defaultAction': {
    field: /^linux\.seccomp\.defaultAction/,
    values: SECCOMP_ACTIONS,
    set: (c, v) => { c.linux.seccomp = { defaultAction: v, listenerPath: '/run/l.sock' }; },
  },
  'linux.seccomp.syscalls[].action': {
    field: /^linux\.seccomp\.syscalls\[0\]\.action/,
    values: SECCOMP_ACTIONS,
    set: (c, v) => { c.linux.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', listenerPath: '/run/l.sock', syscalls: [{ names: ['getcwd'], action: v }] }; },
  },
  'linux.seccomp.architectures[]': {
    field: /^linux\.seccomp\.architectures\[0\]/,
    values: ['SCMP_ARCH_X86', 'SCMP_ARCH_X86_64', 'SCMP_ARCH_X32', 'SCMP_ARCH_ARM', 'SCMP_ARCH_AARCH64', 'SCMP_ARCH_MIPS',
      'SCMP_ARCH_MIPS64', 'SCMP_ARCH_MIPS64N32', 'SCMP_ARCH_MIPSEL', 'SCMP_ARCH_MIPSEL64', 'SCMP_ARCH_MIPSEL64N32',
      'SCMP_ARCH_PPC', 'SCMP_ARCH_PPC64', 'SCMP_ARCH_PPC64LE', 'SCMP_ARCH_S390', 'SCMP_ARCH_S390X', 'SCMP_ARCH_PARISC',
      'SCMP_ARCH_PARISC64', 'SCMP_ARCH_RISCV64', 'SCMP_ARCH_LOONGARCH64', 'SCMP_ARCH_M68K', 'SCMP_ARCH_SH', 'SCMP_ARCH_SHEB'],
    set: (c, v) => { c.linux.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', architectures: [v] }; },
  },
  'linux.seccomp.flags[]': {
    field: /^linux\.seccomp\.flags\[0\]/,
    values: ['SECCOMP_FILTER_FLAG_TSYNC', 'SECCOMP_FILTER_FLAG_LOG', 'SECCOMP_FILTER_FLAG_SPEC_ALLOW', 'SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV'],
    set: (c, v) => { c.linux.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', flags: [v] }; },
  },
  'linux.seccomp.syscalls[].args[].op': {
    field: /^linux\.seccomp\.syscalls\[0\]\.args\[0\]\.op/,
    values: ['SCMP_CMP_NE', 'SCMP_CMP_LT', 'SCMP_CMP_LE', 'SCMP_CMP_EQ', 'SCMP_CMP_GE', 'SCMP_CMP_GT', 'SCMP_CMP_MASKED_EQ'],
    set: (c, v) => { c.linux.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['personality'], action: 'SCMP_ACT_ERRNO', args: [{ index: 0, value: 8, op: v }] }] }; },
  },
  'linux.personality.domain': {
    field: /^linux\.personality\.domain/,
    values: ['LINUX', 'LINUX32'],
    set: (c, v) => { c.linux.personality = { domain: v }; },
  },
  'linux.memoryPolicy.mode': {
    field: /^linux\.memoryPolicy\.mode/,
    values: ['MPOL_DEFAULT', 'MPOL_BIND', 'MPOL_INTERLEAVE', 'MPOL_WEIGHTED_INTERLEAVE', 'MPOL_PREFERRED', 'MPOL_PREFERRED_MANY', 'MPOL_LOCAL'],
    set: (c, v) => { c.linux.memoryPolicy = { mode: v, nodes: v === 'MPOL_DEFAULT' || v === 'MPOL_LOCAL' ? undefined : '0' }; },
  },
  'linux.memoryPolicy.flags[]': {
    field: /^linux\.memoryPolicy\.flags\[0\]/,
    values: ['MPOL_F_NUMA_BALANCING', 'MPOL_F_RELATIVE_NODES', 'MPOL_F_STATIC_NODES'],
    set: (c, v) => { c.linux.memoryPolicy = { mode: 'MPOL_BIND', nodes: '0', flags: [v] }; },
  },
  'process.ioPriority.class': {
    field: /^process\.ioPriority\.class/,
    values: ['IOPRIO_CLASS_RT', 'IOPRIO_CLASS_BE', 'IOPRIO_CLASS_IDLE'],
    set: (c, v) => { c.process.ioPriority = { class: v, priority: 0 }; },
  },
  'process.scheduler.policy': {
    field: /^process\.scheduler\.policy/,
    values: ['SCHED_OTHER', 'SCHED_FIFO', 'SCHED_RR', 'SCHED_BATCH', 'SCHED_ISO', 'SCHED_IDLE', 'SCHED_DEADLINE'],
    set: (c, v) => { c.process.scheduler = v === 'SCHED_DEADLINE' ? { policy: v, runtime: 1, deadline: 2, period: 3 } : { policy: v }; },
  },
  'process.scheduler.flags[]': {
    field: /^process\.scheduler\.flags\[0\]/,
    values: ['SCHED_FLAG_RESET_ON_FORK', 'SCHED_FLAG_RECLAIM', 'SCHED_FLAG_DL_OVERRUN', 'SCHED_FLAG_KEEP_POLICY',
      'SCHED_FLAG_KEEP_PARAMS', 'SCHED_FLAG_UTIL_CLAMP_MIN', 'SCHED_FLAG_UTIL_CLAMP_MAX'],
    set: (c, v) => { c.process.scheduler = { policy: 'SCHED_OTHER', flags: [v] }; },
  },
  // patterns: every rlimit of setrlimit(2) and every capability of capabilities(7)
  'process.rlimits[].type': {
    field: /^process\.rlimits\[0\]\.type/,
    values: ['RLIMIT_AS', 'RLIMIT_CORE', 'RLIMIT_CPU', 'RLIMIT_DATA', 'RLIMIT_FSIZE', 'RLIMIT_LOCKS', 'RLIMIT_MEMLOCK',
      'RLIMIT_MSGQUEUE', 'RLIMIT_NICE', 'RLIMIT_NOFILE', 'RLIMIT_NPROC', 'RLIMIT_RSS', 'RLIMIT_RTPRIO', 'RLIMIT_RTTIME',
      'RLIMIT_SIGPENDING', 'RLIMIT_STACK'],
    set: (c, v) => { c.process.rlimits = [{ type: v, soft: 1, hard: 1 }]; },
    bad: 'rlimit_nofile',
  },
  'process.capabilities.bounding[]': {
    field: /^process\.capabilities\.bounding\[0\]/,
    values: ['CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_DAC_READ_SEARCH', 'CAP_FOWNER', 'CAP_FSETID', 'CAP_KILL', 'CAP_SETGID',
      'CAP_SETUID', 'CAP_SETPCAP', 'CAP_LINUX_IMMUTABLE', 'CAP_NET_BIND_SERVICE', 'CAP_NET_BROADCAST', 'CAP_NET_ADMIN',
      'CAP_NET_RAW', 'CAP_IPC_LOCK', 'CAP_IPC_OWNER', 'CAP_SYS_MODULE', 'CAP_SYS_RAWIO', 'CAP_SYS_CHROOT', 'CAP_SYS_PTRACE',
      'CAP_SYS_PACCT', 'CAP_SYS_ADMIN', 'CAP_SYS_BOOT', 'CAP_SYS_NICE', 'CAP_SYS_RESOURCE', 'CAP_SYS_TIME',
      'CAP_SYS_TTY_CONFIG', 'CAP_MKNOD', 'CAP_LEASE', 'CAP_AUDIT_WRITE', 'CAP_AUDIT_CONTROL', 'CAP_SETFCAP',
      'CAP_MAC_OVERRIDE', 'CAP_MAC_ADMIN', 'CAP_SYSLOG', 'CAP_WAKE_ALARM', 'CAP_BLOCK_SUSPEND', 'CAP_AUDIT_READ',
      'CAP_PERFMON', 'CAP_BPF', 'CAP_CHECKPOINT_RESTORE'],
    set: (c, v) => { c.process.capabilities = { bounding: [v] }; },
    bad: 'cap_chown',
  },
};

describe('schema enums and patterns', () => {
  for (const [name, e] of Object.entries(ENUMS)) {
    it(`${name}: every listed value is accepted, another is refused naming the field`, () => {
      for (const v of e.values) {
        const c = base();
        e.set(c, v);
        expect(validateConfig(c), `${name} = "${v}"`).toEqual([]);
      }
      const c = base();
      e.set(c, e.bad ?? 'BOGUS');
      const errs = validateConfig(c);
      expect(errs.length).toBeGreaterThan(0);
      expect(errs.some((m) => e.field.test(m)), errs.join('\n')).toBe(true);
    });
  }
});
