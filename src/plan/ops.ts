// Op and message numbers of the launch plan and the sync protocol.
// Mirrored in native/init/plan.h; test/unit/ops.test.ts checks that both agree.
// See docs/ARCHITECTURE.md for what each op does.

export const PLAN_MAGIC = 'RTPL';
export const PLAN_VERSION = 1;

export const Op = {
  SETNS: 1,
  UNSHARE: 2,
  USERMAP: 3,
  SETID_ROOT: 4,
  TIMENS_OFFSETS: 5,
  FORK: 6,
  WAIT_PARENT: 7,
  SYNC: 8,
  ROOTFS: 9,
  MOUNT: 10,
  MKNOD: 11,
  BIND_DEVICE: 12,
  SYMLINK: 13,
  PIVOT_ROOT: 14,
  MOVE_ROOT: 15,
  MOUNT_SETATTR: 16,
  HOSTNAME: 17,
  DOMAINNAME: 18,
  WRITE_FILE: 19,
  CONSOLE: 20,
  RLIMIT: 21,
  PERSONALITY: 22,
  UMASK: 23,
  CAPS_BOUNDING: 24,
  USER: 25,
  CAPS: 26,
  NO_NEW_PRIVS: 27,
  CHDIR: 28,
  LOOKUP: 29,
  READY: 30,
  WAIT_START: 31,
  RUN_HOOK: 32,
  EXEC: 33,
  CLOEXEC_FROM: 34,
  CLOSE: 35,
  MKDIR: 36,
  MASK: 37,
  READONLY: 38,
  SECCOMP: 39,
  SECCOMP_LOAD: 40,
  CGROUP_JOIN: 41,
  CGROUP_FORK_INTO: 42,
  OPEN_TREE: 43,
  MOUNT_TREE: 44,
  CHROOT: 45,
  UMOUNT: 46,
  SCHEDULER: 47,
  IOPRIO: 48,
  MEMPOLICY: 49,
  AFFINITY: 50,
  ERRCTX: 51,
  USERNS: 52,
  IDMAP_TREE: 53,
  IDMAP_MOUNT: 54,
  NETDEV_ADDR: 55,
  NETDEV_UP: 56,
} as const;
export type OpName = keyof typeof Op;

export const Msg = {
  PLAN: 1,
  USERMAP_REQ: 2,
  ACK: 3,
  ABORT: 4,
  PID: 5,
  SYNC: 6,
  READY: 7,
  ERROR: 8,
  SECCOMP_FD: 9,
} as const;

/** SYNC codes sent by the container init. */
export const SyncCode = {
  CREATE_HOOKS: 1,
} as const;

/** `how` bits of UMOUNT. */
export const UmountHow = {
  /** a refused unmount (EPERM, EINVAL: a locked mount in a user namespace) covers the path with a tmpfs */
  COVER: 1,
} as const;

/** `how` bits of CHDIR. */
export const ChdirHow = {
  /** a refused chdir (EACCES, EPERM) is no error: the step is skipped (a later CHDIR enters the directory) */
  REFUSAL_OK: 1,
  /** a refused chdir is no error when the cwd already is that directory */
  SAME_OK: 2,
} as const;

/** `how` bits of MOUNT and MOUNT_SETATTR. */
export const How = {
  TARGET_IN_ROOT: 1,
  MKDIR: 2,
  MKFILE: 4,
  IGNORE_MISSING: 8,
  SOURCE_IN_ROOT: 16,
  KEEP_LOCKED: 32,
  /** tmpcopyup: copy what the target held into the new (tmpfs) mount */
  COPY_UP: 64,
} as const;
