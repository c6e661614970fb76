/* runts-init: shared state and internal interfaces of the stub. */
#ifndef RUNTS_STUB_H
#define RUNTS_STUB_H

#include <stdint.h>
#include <stddef.h>
#include <sys/types.h>

#include "plan.h"

struct rt_state {
	int syncfd;      /* sync socket; -1 once READY closed it */
	int reportfd;    /* where ERROR frames go: sync socket, then the start connection; -1 = nowhere */
	int rootfd;      /* O_PATH of the rootfs for in-root resolution; -1 before ROOTFS */
	const char *rootfs; /* path given to ROOTFS ("/" after PIVOT_ROOT/MOVE_ROOT) */
	uint8_t *hook_state; /* payload of the last ACK: stdin of RUN_HOOK */
	size_t hook_state_len;
	char *exec_path; /* found by LOOKUP */
	int fork_cgroupfd; /* cgroup2 directory FORK places the child in (CLONE_INTO_CGROUP); -1 = none */
	int signals_clean; /* set by rt_reset_signals, cleared by WAIT_START's handlers: EXEC resets only when needed */
};

/* defined in sync.c */

extern struct rt_state rt;

/* ---- errors (sync.c) ---- */
/* "<what>: <strerror(err) with a lower-case first letter>", reported, then _exit(1) */
_Noreturn void rt_fail(int err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* "<what>" as is, reported, then _exit(1) */
_Noreturn void rt_failx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* report a complete message and _exit(1) */
_Noreturn void rt_die_msg(const char *msg);
/* lower-cased strerror into buf */
const char *rt_errstr(int err, char *buf, size_t n);

/* ---- frames (sync.c) ---- */
int rt_write_all(int fd, const void *buf, size_t len);
/* 0 = complete, 1 = EOF before a complete frame, -1 = error (errno) */
int rt_recv_frame(int fd, uint32_t *type, uint8_t **payload, uint32_t *len, uint32_t max);
int rt_send_frame(int fd, uint32_t type, const void *payload, size_t len);
void rt_send_or_die(uint32_t type, const void *payload, size_t len);
/* wait for ACK on the sync socket (payload becomes the hook state); ABORT/EOF exit 1 */
void rt_wait_ack(void);
/* ERRCTX: the context put before the next error messages */
void op_errctx(const char *ctx);

/* ---- shared helpers (util.c) ---- */
/* a plan's fd number as an int ("plan: <what>: fd N out of range") */
int rt_fd_arg(uint64_t v, const char *what);
/* dup2(from, to) that also clears O_CLOEXEC when from == to */
int rt_move_fd(int from, int to);
/* "/proc/self/fd/N" */
const char *rt_fdpath(int fd, char *buf, size_t n);
/* send fd with SCM_RIGHTS and data as the message's bytes; dies with "<what>: <errno>" */
void rt_send_fd(int sock, int fd, const char *data, const char *what);
/* default signal dispositions and an empty mask */
void rt_reset_signals(void);

/* ---- in-root path resolution (inroot.c) ---- */
/* dies when no ROOTFS ran yet */
void rt_need_root(const char *what);
int rt_in_root_open(const char *path, int flags); /* O_PATH fd or -1/errno */
/* in_root 1: under the rootfs; 0: a plain path (relative to the cwd). The failing path goes to failed. */
int rt_path_mkdir_p(int in_root, const char *path, mode_t mode, char *failed, size_t n); /* O_PATH dir fd or -1/errno */
int rt_path_parent_dir(int in_root, const char *path, char *base, size_t basen, char *failed, size_t n); /* creates parents */
int rt_path_create_file(int in_root, const char *path, char *failed, size_t n); /* 0 or -1/errno */
/* the same, in root */
int rt_parent_dir(const char *path, char *base, size_t basen, char *failed, size_t n);
int rt_create_file(const char *path, char *failed, size_t n);

/* ---- steps ---- */
/* ns.c */
void op_setns_run(const struct rt_step *steps, size_t n);
void op_timens_offsets(const char *content);
void rt_set_dumpable(int on);
void op_unshare(uint64_t flags);
void op_usermap(void);
void op_setid_root(void);
void op_fork(void);
void op_cgroup_join(const char *tasks);
void op_cgroup_fork_into(const char *dir);
void op_sync(uint64_t code);
void op_hostname(const char *name);
void op_domainname(const char *name);
void op_write_file(const char *path, const char *content);

/* mounts.c */
void op_rootfs(const char *path);
void op_mount(const char *src, const char *target, const char *fstype, uint64_t flags, const char *data, uint64_t how);
void op_mount_setattr(const char *target, uint64_t how, uint64_t set, uint64_t clr, uint64_t prop, uint64_t rec);
void op_open_tree(const char *src, const char *dest, uint64_t slot, uint64_t recursive, uint64_t propagation);
void op_mount_tree(uint64_t slot, const char *target, uint64_t how);
void op_userns(uint64_t slot, const char *uid_map, const char *gid_map, const char *path);
void op_idmap_tree(uint64_t slot, uint64_t ns_slot, uint64_t recursive, uint64_t close_ns);
void op_idmap_mount(const char *target, uint64_t ns_slot, uint64_t recursive, uint64_t close_ns);
void op_mkdir(const char *path, uint64_t mode);
void op_symlink(const char *target, const char *linkpath);
void op_pivot_root(void);
void op_move_root(void);
void op_chroot(const char *path);
void op_umount(const char *path, uint64_t how);
void op_mask(const char *path);
void op_readonly(const char *path);

/* devices.c */
void op_mknod(const char *path, uint64_t mode, uint64_t dev, uint64_t uid, uint64_t gid);
void op_bind_device(const char *hostpath, const char *path);

/* process.c */
void op_console(uint64_t sockfd, uint64_t rows, uint64_t cols, uint64_t mount_console, uint64_t uid);
void op_rlimit(uint64_t res, uint64_t soft, uint64_t hard);
void op_personality(uint64_t p);
void op_umask(uint64_t m);
void op_caps_bounding(uint64_t keep);
void op_user(uint64_t uid, uint64_t gid, uint64_t set_groups, const uint64_t *groups, uint32_t ngroups);
void op_caps(uint64_t eff, uint64_t perm, uint64_t inh, uint64_t amb);
void op_no_new_privs(void);
void op_chdir(const char *path, uint64_t how);
void op_lookup(const char *arg0, const char *path);
void op_ready(void);
void op_wait_start(uint64_t listenfd);
_Noreturn void op_exec(char **argv, char **envp);

/* seccomp.c */
void op_seccomp(uint64_t def, const uint64_t *archs, uint32_t narchs, uint64_t flags, char **names, uint32_t nnames,
		const uint64_t *rules, uint32_t nrules, uint64_t enosys, char **bound, uint32_t nbound);
void op_seccomp_load(void);

/* sched.c */
void op_scheduler(const char *what, uint64_t policy, uint64_t flags, uint64_t nice, uint64_t prio, uint64_t runtime,
		  uint64_t deadline, uint64_t period);
void op_ioprio(const char *what, uint64_t value);
void op_mempolicy(const char *what, uint64_t mode, const uint64_t *mask, uint32_t nwords);
void op_affinity(const char *what, const uint64_t *mask, uint32_t nwords);

/* netdev.c */
void op_netdev_addr(const char *name, uint64_t family, uint64_t prefixlen, const char *local, const char *broadcast);
void op_netdev_up(const char *name);

/* hooks.c */
void op_run_hook(const char *name, const char *path, char **argv, char **envp, uint64_t timeout);

/* fds.c */
void op_cloexec_from(uint64_t from);
void op_close(uint64_t fd);

#endif
