/*
 * runts-init: the init stub. Reads a launch plan from the sync socket and executes
 * its steps in order (docs/ARCHITECTURE.md). Single-threaded; no policy here.
 *
 *   runts-init <syncfd>
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/magic.h>

#include "stub.h"

static void run_step(const struct rt_step *st)
{
	const struct rt_val *a = st->a;
	switch (st->op) {
	case RT_OP_SETNS: op_setns_run(st, 1); break;
	case RT_OP_UNSHARE: op_unshare(a[0].u); break;
	case RT_OP_USERMAP: op_usermap(); break;
	case RT_OP_SETID_ROOT: op_setid_root(); break;
	case RT_OP_TIMENS_OFFSETS: op_timens_offsets(a[0].s); break;
	case RT_OP_FORK: op_fork(); break;
	case RT_OP_WAIT_PARENT: rt_wait_ack(); break;
	case RT_OP_SYNC: op_sync(a[0].u); break;
	case RT_OP_ROOTFS: op_rootfs(a[0].s); break;
	case RT_OP_MOUNT: op_mount(a[0].s, a[1].s, a[2].s, a[3].u, a[4].s, a[5].u); break;
	case RT_OP_MKNOD: op_mknod(a[0].s, a[1].u, a[2].u, a[3].u, a[4].u); break;
	case RT_OP_BIND_DEVICE: op_bind_device(a[0].s, a[1].s); break;
	case RT_OP_SYMLINK: op_symlink(a[0].s, a[1].s); break;
	case RT_OP_PIVOT_ROOT: op_pivot_root(); break;
	case RT_OP_MOVE_ROOT: op_move_root(); break;
	case RT_OP_CHROOT: op_chroot(a[0].s); break;
	case RT_OP_MOUNT_SETATTR: op_mount_setattr(a[0].s, a[1].u, a[2].u, a[3].u, a[4].u, a[5].u); break;
	case RT_OP_HOSTNAME: op_hostname(a[0].s); break;
	case RT_OP_DOMAINNAME: op_domainname(a[0].s); break;
	case RT_OP_WRITE_FILE: op_write_file(a[0].s, a[1].s); break;
	case RT_OP_CONSOLE: op_console(a[0].u, a[1].u, a[2].u, a[3].u, a[4].u); break;
	case RT_OP_RLIMIT: op_rlimit(a[0].u, a[1].u, a[2].u); break;
	case RT_OP_PERSONALITY: op_personality(a[0].u); break;
	case RT_OP_UMASK: op_umask(a[0].u); break;
	case RT_OP_CAPS_BOUNDING: op_caps_bounding(a[0].u); break;
	case RT_OP_USER: op_user(a[0].u, a[1].u, a[2].u, a[3].uv, a[3].n); break;
	case RT_OP_CAPS: op_caps(a[0].u, a[1].u, a[2].u, a[3].u); break;
	case RT_OP_NO_NEW_PRIVS: op_no_new_privs(); break;
	case RT_OP_CHDIR: op_chdir(a[0].s, a[1].u); break;
	case RT_OP_LOOKUP: op_lookup(a[0].s, a[1].s); break;
	case RT_OP_READY: op_ready(); break;
	case RT_OP_WAIT_START: op_wait_start(a[0].u); break;
	case RT_OP_RUN_HOOK: op_run_hook(a[0].s, a[1].s, a[2].sv, a[3].sv, a[4].u); break;
	case RT_OP_EXEC: op_exec(a[0].sv, a[1].sv);
	case RT_OP_CLOEXEC_FROM: op_cloexec_from(a[0].u); break;
	case RT_OP_CLOSE: op_close(a[0].u); break;
	case RT_OP_MKDIR: op_mkdir(a[0].s, a[1].u); break;
	case RT_OP_MASK: op_mask(a[0].s); break;
	case RT_OP_READONLY: op_readonly(a[0].s); break;
	case RT_OP_SECCOMP: op_seccomp(a[0].u, a[1].uv, a[1].n, a[2].u, a[3].sv, a[3].n, a[4].uv, a[4].n, a[5].u, a[6].sv, a[6].n); break;
	case RT_OP_SECCOMP_LOAD: op_seccomp_load(); break;
	case RT_OP_CGROUP_JOIN: op_cgroup_join(a[0].s); break;
	case RT_OP_CGROUP_FORK_INTO: op_cgroup_fork_into(a[0].s); break;
	case RT_OP_OPEN_TREE: op_open_tree(a[0].s, a[1].s, a[2].u, a[3].u, a[4].u); break;
	case RT_OP_MOUNT_TREE: op_mount_tree(a[0].u, a[1].s, a[2].u); break;
	case RT_OP_UMOUNT: op_umount(a[0].s, a[1].u); break;
	case RT_OP_SCHEDULER: op_scheduler(a[0].s, a[1].u, a[2].u, a[3].u, a[4].u, a[5].u, a[6].u, a[7].u); break;
	case RT_OP_IOPRIO: op_ioprio(a[0].s, a[1].u); break;
	case RT_OP_MEMPOLICY: op_mempolicy(a[0].s, a[1].u, a[2].uv, a[2].n); break;
	case RT_OP_AFFINITY: op_affinity(a[0].s, a[1].uv, a[1].n); break;
	case RT_OP_ERRCTX: op_errctx(a[0].s); break;
	case RT_OP_USERNS: op_userns(a[0].u, a[1].s, a[2].s, a[3].s); break;
	case RT_OP_IDMAP_TREE: op_idmap_tree(a[0].u, a[1].u, a[2].u, a[3].u); break;
	case RT_OP_IDMAP_MOUNT: op_idmap_mount(a[0].s, a[1].u, a[2].u, a[3].u); break;
	case RT_OP_NETDEV_ADDR: op_netdev_addr(a[0].s, a[1].u, a[2].u, a[3].s, a[4].s); break;
	case RT_OP_NETDEV_UP: op_netdev_up(a[0].s); break;
	default:
		/* the decoder refuses unknown ops; this is for an op known there but not here */
		rt_failx("plan: unknown op %u", st->op);
	}
}

static int parse_fd(const char *s)
{
	if (!s || !*s)
		return -1;
	long v = 0;
	for (const char *p = s; *p; p++) {
		if (*p < '0' || *p > '9')
			return -1;
		v = v * 10 + (*p - '0');
		if (v > INT_MAX)
			return -1;
	}
	return (int)v;
}

int main(int argc, char **argv)
{
	/*
	 * Non-dumpable until execve resets it: a process of the container (same uid, no CAP_SYS_PTRACE in the
	 * host's user namespace) can then neither ptrace the stub nor open its /proc/<pid>/mem, fd/, exe...
	 * Children (FORK, hooks before their execve) inherit it.
	 */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		_exit(2);
	int fd = argc == 2 ? parse_fd(argv[1]) : -1;
	if (fd < 0) {
		static const char usage[] = "usage: runts-init <syncfd>\n";
		rt_write_all(2, usage, sizeof usage - 1);
		return 2;
	}
	int fl = fcntl(fd, F_GETFD);
	if (fl < 0) {
		char e[128], msg[256];
		snprintf(msg, sizeof msg, "runts-init: sync fd %d: %s\n", fd, rt_errstr(errno, e, sizeof e));
		rt_write_all(2, msg, strlen(msg));
		return 2;
	}
	/* the container (and hooks) must never get the sync socket */
	fcntl(fd, F_SETFD, fl | FD_CLOEXEC);
	rt.syncfd = rt.reportfd = fd;

	struct statfs sfs;
	if (statfs("/proc", &sfs) < 0)
		rt_fail(errno, "statfs /proc");
	if (sfs.f_type != PROC_SUPER_MAGIC)
		rt_failx("/proc: not on procfs");

	uint32_t type, len;
	uint8_t *buf = NULL;
	int r = rt_recv_frame(fd, &type, &buf, &len, 256u << 20);
	if (r == 1)
		_exit(1);
	if (r < 0)
		rt_fail(errno, "sync: read plan");
	if (type == RT_MSG_ABORT)
		_exit(1);
	if (type != RT_MSG_PLAN)
		rt_failx("sync: expected PLAN, got message %u", type);

	struct rt_plan plan;
	char err[512];
	if (rt_plan_decode(buf, len, &plan, err, sizeof err) < 0)
		rt_die_msg(err);

	for (size_t i = 0; i < plan.nsteps; i++) {
		if (plan.steps[i].op == RT_OP_SETNS) {
			size_t n = 1;
			while (i + n < plan.nsteps && plan.steps[i + n].op == RT_OP_SETNS)
				n++;
			op_setns_run(&plan.steps[i], n);
			i += n - 1;
			continue;
		}
		run_step(&plan.steps[i]);
	}
	/* a plan that ends without EXEC: nothing more to do */
	_exit(0);
}
