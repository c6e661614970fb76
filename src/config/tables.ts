// Tables of names config.json uses, with the numbers the kernel or libseccomp takes: capabilities, seccomp actions,
// architectures, operators and flags. The rules (config/rules.ts) check names against them, the planner (src/plan/)
// and `runts features` read them; they are here so that the dependency goes Plan -> Config only.
import { logWarn } from '../log';

export const CAPS = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_DAC_READ_SEARCH', 'CAP_FOWNER', 'CAP_FSETID', 'CAP_KILL', 'CAP_SETGID',
  'CAP_SETUID', 'CAP_SETPCAP', 'CAP_LINUX_IMMUTABLE', 'CAP_NET_BIND_SERVICE', 'CAP_NET_BROADCAST', 'CAP_NET_ADMIN',
  'CAP_NET_RAW', 'CAP_IPC_LOCK', 'CAP_IPC_OWNER', 'CAP_SYS_MODULE', 'CAP_SYS_RAWIO', 'CAP_SYS_CHROOT',
  'CAP_SYS_PTRACE', 'CAP_SYS_PACCT', 'CAP_SYS_ADMIN', 'CAP_SYS_BOOT', 'CAP_SYS_NICE', 'CAP_SYS_RESOURCE',
  'CAP_SYS_TIME', 'CAP_SYS_TTY_CONFIG', 'CAP_MKNOD', 'CAP_LEASE', 'CAP_AUDIT_WRITE', 'CAP_AUDIT_CONTROL',
  'CAP_SETFCAP', 'CAP_MAC_OVERRIDE', 'CAP_MAC_ADMIN', 'CAP_SYSLOG', 'CAP_WAKE_ALARM', 'CAP_BLOCK_SUSPEND',
  'CAP_AUDIT_READ', 'CAP_PERFMON', 'CAP_BPF', 'CAP_CHECKPOINT_RESTORE',
];

/** A mask of the named capabilities; unknown names are skipped with a warning, as runc does. */
export function capMask(names: string[] | undefined, field: string, warn = true): bigint {
  let m = 0n;
  for (const raw of names ?? []) {
    const name = raw.toUpperCase().startsWith('CAP_') ? raw.toUpperCase() : `CAP_${raw.toUpperCase()}`;
    const i = CAPS.indexOf(name);
    if (i < 0) {
      if (warn) logWarn(`${field}: unknown capability "${raw}" ignored`);
      continue;
    }
    m |= 1n << BigInt(i);
  }
  return m;
}

/** libseccomp's action values (seccomp.h); ERRNO and TRACE carry a 16-bit datum. */
export const SCMP_ACT = {
  KILL_PROCESS: 0x80000000,
  KILL_THREAD: 0x00000000,
  TRAP: 0x00030000,
  ERRNO: 0x00050000,
  NOTIFY: 0x7fc00000,
  TRACE: 0x7ff00000,
  LOG: 0x7ffc0000,
  ALLOW: 0x7fff0000,
} as const;

/** The actions runts takes, as spelled in config.json. SCMP_ACT_KILL is SCMP_ACT_KILL_THREAD (as in libseccomp). */
export const ACTIONS: Record<string, number> = {
  SCMP_ACT_KILL: SCMP_ACT.KILL_THREAD,
  SCMP_ACT_KILL_THREAD: SCMP_ACT.KILL_THREAD,
  SCMP_ACT_KILL_PROCESS: SCMP_ACT.KILL_PROCESS,
  SCMP_ACT_TRAP: SCMP_ACT.TRAP,
  SCMP_ACT_ERRNO: SCMP_ACT.ERRNO,
  SCMP_ACT_TRACE: SCMP_ACT.TRACE,
  SCMP_ACT_ALLOW: SCMP_ACT.ALLOW,
  SCMP_ACT_LOG: SCMP_ACT.LOG,
  SCMP_ACT_NOTIFY: SCMP_ACT.NOTIFY,
};

/**
 * SCMP_ARCH_* → the AUDIT_ARCH_* value seccomp_arch_add() takes. Only what libseccomp 2.5 knows: LOONGARCH64,
 * M68K, SH and SHEB came with 2.6 and are refused (the stub is linked with Debian 12's 2.5.4).
 */
export const ARCHS: Record<string, number> = {
  SCMP_ARCH_X86: 0x40000003,
  SCMP_ARCH_X86_64: 0xc000003e,
  SCMP_ARCH_X32: 0x4000003e,
  SCMP_ARCH_ARM: 0x40000028,
  SCMP_ARCH_AARCH64: 0xc00000b7,
  SCMP_ARCH_MIPS: 0x00000008,
  SCMP_ARCH_MIPS64: 0x80000008,
  SCMP_ARCH_MIPS64N32: 0xa0000008,
  SCMP_ARCH_MIPSEL: 0x40000008,
  SCMP_ARCH_MIPSEL64: 0xc0000008,
  SCMP_ARCH_MIPSEL64N32: 0xe0000008,
  SCMP_ARCH_PPC: 0x00000014,
  SCMP_ARCH_PPC64: 0x80000015,
  SCMP_ARCH_PPC64LE: 0xc0000015,
  SCMP_ARCH_S390: 0x00000016,
  SCMP_ARCH_S390X: 0x80000016,
  SCMP_ARCH_PARISC: 0x0000000f,
  SCMP_ARCH_PARISC64: 0x8000000f,
  SCMP_ARCH_RISCV64: 0xc00000f3,
};
/** architectures of newer libseccomp versions than the stub's */
export const NEWER_ARCHS = ['SCMP_ARCH_LOONGARCH64', 'SCMP_ARCH_M68K', 'SCMP_ARCH_SH', 'SCMP_ARCH_SHEB'];

/** enum scmp_compare */
export const OPERATORS: Record<string, number> = {
  SCMP_CMP_NE: 1,
  SCMP_CMP_LT: 2,
  SCMP_CMP_LE: 3,
  SCMP_CMP_EQ: 4,
  SCMP_CMP_GE: 5,
  SCMP_CMP_GT: 6,
  SCMP_CMP_MASKED_EQ: 7,
};

/** SECCOMP_FILTER_FLAG_* bits (linux/seccomp.h) runts applies. */
export const FLAGS: Record<string, number> = {
  SECCOMP_FILTER_FLAG_TSYNC: 1,
  SECCOMP_FILTER_FLAG_LOG: 2,
  SECCOMP_FILTER_FLAG_SPEC_ALLOW: 4,
};
/** Known to the spec, not applied: libseccomp < 2.6 has no attribute for it, and runts does not claim it. */
export const WAIT_KILLABLE_RECV = 'SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV';


// Process scheduling fields (process.scheduler, process.ioPriority, linux.memoryPolicy, process.execCPUAffinity):
// the names and the values sched_setattr, ioprio_set and set_mempolicy take.
export const SCHED_POLICY: Record<string, number> = {
  SCHED_OTHER: 0, SCHED_FIFO: 1, SCHED_RR: 2, SCHED_BATCH: 3, SCHED_IDLE: 5, SCHED_DEADLINE: 6,
};
export const SCHED_FLAGS: Record<string, number> = {
  SCHED_FLAG_RESET_ON_FORK: 0x01, SCHED_FLAG_RECLAIM: 0x02, SCHED_FLAG_DL_OVERRUN: 0x04,
  SCHED_FLAG_KEEP_POLICY: 0x08, SCHED_FLAG_KEEP_PARAMS: 0x10, SCHED_FLAG_UTIL_CLAMP_MIN: 0x20,
  SCHED_FLAG_UTIL_CLAMP_MAX: 0x40,
};
export const IOPRIO_CLASS: Record<string, number> = { IOPRIO_CLASS_RT: 1, IOPRIO_CLASS_BE: 2, IOPRIO_CLASS_IDLE: 3 };
export const MPOL_MODE: Record<string, number> = {
  MPOL_DEFAULT: 0, MPOL_PREFERRED: 1, MPOL_BIND: 2, MPOL_INTERLEAVE: 3, MPOL_LOCAL: 4, MPOL_PREFERRED_MANY: 5,
  MPOL_WEIGHTED_INTERLEAVE: 6,
};
export const MPOL_FLAGS: Record<string, number> = {
  MPOL_F_NUMA_BALANCING: 1 << 13, MPOL_F_RELATIVE_NODES: 1 << 14, MPOL_F_STATIC_NODES: 1 << 15,
};
/** highest CPU number a list may name (runc's limit), and highest NUMA node (the kernel's MAX_NUMNODES at most) */
export const MAX_CPU = 8191;
export const MAX_NODE = 1023;

/** linux.personality.domain → personality(2)'s value */
export const PERSONALITY: Record<string, number> = { LINUX: 0x0000, LINUX32: 0x0008 };

/** linux.rootfsPropagation's values (plan/mounts.ts's PROPAGATION gives their mount flags) */
export const PROPAGATION_NAMES = ['private', 'rprivate', 'shared', 'rshared', 'slave', 'rslave', 'unbindable', 'runbindable'];

/** linux.timeOffsets' clocks (/proc/self/timens_offsets) */
export const TIME_CLOCKS = ['monotonic', 'boottime'];

/** the namespace types runts creates or joins (linux.namespaces[].type) */
export const NS_TYPES = ['mount', 'cgroup', 'uts', 'ipc', 'user', 'pid', 'network', 'time'];

/** linux.devices[].type */
export const DEVICE_TYPES = ['c', 'b', 'u', 'p'];
