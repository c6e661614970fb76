/*
 * runts-init: launch plan and sync protocol numbers, and the decoded plan.
 *
 * The numbers mirror src/plan/ops.ts exactly (a unit test compares both with the
 * regex  #define RT_(OP|MSG|HOW|SYNC)_(\w+)\s+(\d+) ). Only those names may use
 * the RT_OP_/RT_MSG_/RT_HOW_/RT_SYNC_ prefixes in this file.
 * The format is described in docs/ARCHITECTURE.md ("Plan format", "Sync protocol").
 */
#ifndef RUNTS_PLAN_H
#define RUNTS_PLAN_H

#include <stddef.h>
#include <stdint.h>

#define RT_PLAN_MAGIC "RTPL"
#define RT_PLAN_FORMAT 1

/* steps */
#define RT_OP_SETNS 1
#define RT_OP_UNSHARE 2
#define RT_OP_USERMAP 3
#define RT_OP_SETID_ROOT 4
#define RT_OP_TIMENS_OFFSETS 5
#define RT_OP_FORK 6
#define RT_OP_WAIT_PARENT 7
#define RT_OP_SYNC 8
#define RT_OP_ROOTFS 9
#define RT_OP_MOUNT 10
#define RT_OP_MKNOD 11
#define RT_OP_BIND_DEVICE 12
#define RT_OP_SYMLINK 13
#define RT_OP_PIVOT_ROOT 14
#define RT_OP_MOVE_ROOT 15
#define RT_OP_MOUNT_SETATTR 16
#define RT_OP_HOSTNAME 17
#define RT_OP_DOMAINNAME 18
#define RT_OP_WRITE_FILE 19
#define RT_OP_CONSOLE 20
#define RT_OP_RLIMIT 21
#define RT_OP_PERSONALITY 22
#define RT_OP_UMASK 23
#define RT_OP_CAPS_BOUNDING 24
#define RT_OP_USER 25
#define RT_OP_CAPS 26
#define RT_OP_NO_NEW_PRIVS 27
#define RT_OP_CHDIR 28
#define RT_OP_LOOKUP 29
#define RT_OP_READY 30
#define RT_OP_WAIT_START 31
#define RT_OP_RUN_HOOK 32
#define RT_OP_EXEC 33
#define RT_OP_CLOEXEC_FROM 34
#define RT_OP_CLOSE 35
#define RT_OP_MKDIR 36
#define RT_OP_MASK 37
#define RT_OP_READONLY 38
#define RT_OP_SECCOMP 39
#define RT_OP_SECCOMP_LOAD 40
#define RT_OP_CGROUP_JOIN 41
#define RT_OP_CGROUP_FORK_INTO 42
#define RT_OP_OPEN_TREE 43
#define RT_OP_MOUNT_TREE 44
#define RT_OP_CHROOT 45
#define RT_OP_UMOUNT 46
#define RT_OP_SCHEDULER 47
#define RT_OP_IOPRIO 48
#define RT_OP_MEMPOLICY 49
#define RT_OP_AFFINITY 50
#define RT_OP_ERRCTX 51
#define RT_OP_USERNS 52
#define RT_OP_IDMAP_TREE 53
#define RT_OP_IDMAP_MOUNT 54
#define RT_OP_NETDEV_ADDR 55
#define RT_OP_NETDEV_UP 56
/* highest op number known to this stub (not an op itself) */
#define RT_LAST_OPCODE 56

/* frames of the sync protocol */
#define RT_MSG_PLAN 1
#define RT_MSG_USERMAP_REQ 2
#define RT_MSG_ACK 3
#define RT_MSG_ABORT 4
#define RT_MSG_PID 5
#define RT_MSG_SYNC 6
#define RT_MSG_READY 7
#define RT_MSG_ERROR 8
#define RT_MSG_SECCOMP_FD 9

/* codes of the SYNC frame */
#define RT_SYNC_CREATE_HOOKS 1

/* `how` bits of UMOUNT */
#define RT_UMOUNT_COVER 1

/* `how` bits of CHDIR */
#define RT_CHDIR_REFUSAL_OK 1
#define RT_CHDIR_SAME_OK 2

/* `how` bits of MOUNT and MOUNT_SETATTR */
#define RT_HOW_TARGET_IN_ROOT 1
#define RT_HOW_MKDIR 2
#define RT_HOW_MKFILE 4
#define RT_HOW_IGNORE_MISSING 8
#define RT_HOW_SOURCE_IN_ROOT 16
#define RT_HOW_KEEP_LOCKED 32
#define RT_HOW_COPY_UP 64

/* ---- decoded plan ---- */

/* kinds of payload values; the letters are used in the per-op signatures (plan.c) */
enum rt_kind {
	RT_K_U64 = 'U',  /* 8 bytes LE */
	RT_K_STR = 'S',  /* u32 n, n bytes, NUL */
	RT_K_STRV = 'V', /* u32 count, count STR */
	RT_K_U64V = 'W', /* u32 count, count U64 */
};

#define RT_MAX_ARGS 8

struct rt_val {
	enum rt_kind kind;
	uint32_t n;     /* STR: length in bytes; STRV/U64V: count */
	uint64_t u;     /* U64 */
	const char *s;  /* STR: NUL-terminated, points into the plan buffer */
	char **sv;      /* STRV: count strings + NULL (argv/envp ready) */
	uint64_t *uv;   /* U64V: count values */
};

struct rt_step {
	uint32_t op;
	uint32_t index; /* position in the plan, for messages */
	uint32_t nargs;
	struct rt_val a[RT_MAX_ARGS];
};

struct rt_plan {
	struct rt_step *steps;
	size_t nsteps;
};

/*
 * Decode and bound-check a whole plan before anything runs. buf must stay alive
 * as long as the plan is used (strings point into it). On failure returns -1 and
 * writes a message ("plan: ...") into err.
 */
int rt_plan_decode(const uint8_t *buf, size_t len, struct rt_plan *plan, char *err, size_t errlen);

/* "MOUNT", "SETNS"..., or NULL for an unknown number */
const char *rt_op_name(uint32_t op);

#endif
