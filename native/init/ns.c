/* runts-init: namespaces, the fork into the container init, names and proc/sys files. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/magic.h>
#include <linux/sched.h>

#include "stub.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

/*
 * A run of consecutive SETNS steps: every path is opened first, then joined in order (as runc's nsexec does).
 * Once the stub has joined a user namespace it may no longer open another process's /proc/<pid>/ns files:
 * the container's init may still be this non-dumpable stub (exec into a created container), and only
 * CAP_SYS_PTRACE in the host's user namespace reaches a non-dumpable process's files.
 */
void op_setns_run(const struct rt_step *steps, size_t n)
{
	int fds[64];
	if (n > sizeof fds / sizeof fds[0])
		rt_failx("plan: too many SETNS steps in a row (%zu)", n);
	for (size_t i = 0; i < n; i++) {
		fds[i] = open(steps[i].a[0].s, O_RDONLY | O_CLOEXEC);
		if (fds[i] < 0)
			rt_fail(errno, "join namespace at %s", steps[i].a[0].s);
	}
	for (size_t i = 0; i < n; i++) {
		if (setns(fds[i], (int)steps[i].a[1].u) < 0)
			rt_fail(errno, "join namespace at %s", steps[i].a[0].s);
		close(fds[i]);
	}
}

/*
 * The stub is non-dumpable from main() until execve (so nothing in the container can ptrace it or open its
 * /proc files). Like runc's nsexec, it is dumpable again only while runts writes its uid_map/gid_map and
 * while it writes its own /proc/self files as root of a new user namespace (non-dumpable, they belong to the
 * host's root): both happen before FORK, in the stub's first process, which lives in the caller's pid
 * namespace, not the container's.
 */
void rt_set_dumpable(int on)
{
	if (prctl(PR_SET_DUMPABLE, on ? 1 : 0, 0, 0, 0) < 0)
		rt_fail(errno, "prctl PR_SET_DUMPABLE %d", on);
}

static const struct {
	uint64_t flag;
	const char *name;
} ns_names[] = {
	{CLONE_NEWUSER, "user"}, {CLONE_NEWNS, "mnt"}, {CLONE_NEWUTS, "uts"}, {CLONE_NEWIPC, "ipc"},
	{CLONE_NEWPID, "pid"}, {CLONE_NEWNET, "net"}, {CLONE_NEWCGROUP, "cgroup"}, {CLONE_NEWTIME, "time"},
};

void op_unshare(uint64_t flags)
{
	if (unshare((int)flags) == 0)
		return;
	int err = errno;
	char names[128] = "";
	size_t len = 0;
	uint64_t rest = flags;
	for (size_t i = 0; i < sizeof ns_names / sizeof ns_names[0]; i++) {
		if (!(flags & ns_names[i].flag))
			continue;
		rest &= ~ns_names[i].flag;
		len += (size_t)snprintf(names + len, sizeof names - len, "%s%s", len ? "," : "", ns_names[i].name);
		if (len >= sizeof names)
			break;
	}
	if (rest && len < sizeof names)
		snprintf(names + len, sizeof names - len, "%s0x%llx", len ? "," : "", (unsigned long long)rest);
	rt_fail(err, "unshare %s", names);
}

void op_usermap(void)
{
	rt_set_dumpable(1);
	rt_send_or_die(RT_MSG_USERMAP_REQ, NULL, 0);
	rt_wait_ack();
	rt_set_dumpable(0);
}

void op_timens_offsets(const char *content)
{
	rt_set_dumpable(1);
	op_write_file("/proc/self/timens_offsets", content);
	rt_set_dumpable(0);
}

void op_setid_root(void)
{
	if (setresgid(0, 0, 0) < 0)
		rt_fail(errno, "setresgid 0");
	if (setresuid(0, 0, 0) < 0)
		rt_fail(errno, "setresuid 0");
}

/*
 * The parent reports the child's pid and exits; the child waits until the parent
 * has written PID (one byte on a pipe) so nothing it sends can overtake the PID frame.
 */
void op_fork(void)
{
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0)
		rt_fail(errno, "pipe");
	if (rt.syncfd < 0)
		rt_failx("sync: the sync socket is closed");
	pid_t pid;
	if (rt.fork_cgroupfd >= 0) {
		/* born in the cgroup2 directory: no migration, so no wait for the kernel's RCU grace period */
		struct clone_args ca = {
			.flags = CLONE_INTO_CGROUP,
			.exit_signal = SIGCHLD,
			.cgroup = (uint64_t)rt.fork_cgroupfd,
		};
		pid = (pid_t)syscall(SYS_clone3, &ca, sizeof ca);
		if (pid < 0)
			rt_fail(errno, "clone3 into cgroup");
		if (pid == 0) {
			close(rt.fork_cgroupfd);
			rt.fork_cgroupfd = -1;
		}
	} else {
		pid = fork();
		if (pid < 0)
			rt_fail(errno, "fork");
	}
	if (pid > 0) {
		close(p[0]);
		uint8_t b[4] = {(uint8_t)pid, (uint8_t)(pid >> 8), (uint8_t)(pid >> 16), (uint8_t)(pid >> 24)};
		if (rt_send_frame(rt.syncfd, RT_MSG_PID, b, sizeof b) < 0) {
			kill(pid, SIGKILL);
			_exit(1);
		}
		char ok = 1;
		while (write(p[1], &ok, 1) < 0 && errno == EINTR)
			;
		_exit(0);
	}
	close(p[1]);
	char c;
	ssize_t n;
	while ((n = read(p[0], &c, 1)) < 0 && errno == EINTR)
		;
	close(p[0]);
	if (n != 1)
		_exit(1); /* the parent died before it could report us */
}

/* A cgroup filesystem: the cgroup ops accept nothing else under the path they are given. */
static void check_cgroupfs(int fd, const char *path)
{
	struct statfs sfs;
	if (fstatfs(fd, &sfs) < 0)
		rt_fail(errno, "statfs %s", path);
	if (sfs.f_type != CGROUP_SUPER_MAGIC && sfs.f_type != CGROUP2_SUPER_MAGIC)
		rt_failx("%s: not on a cgroup filesystem", path);
}

/*
 * Move this process, and so everything it forks later, into a cgroup v1 hierarchy: "0" written to the cgroup's
 * `tasks` file moves the writing thread. The stub is single-threaded, so that is the whole process; and a
 * thread moving itself does not take the kernel's global threadgroup lock, whose first writer waits for an RCU
 * grace period (10-20 ms), as writing a pid to cgroup.procs does. Done before any user namespace is entered.
 */
void op_cgroup_join(const char *tasks)
{
	int fd = open(tasks, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		rt_fail(errno, "join cgroup %s", tasks);
	check_cgroupfs(fd, tasks);
	if (rt_write_all(fd, "0", 1) < 0)
		rt_fail(errno, "join cgroup %s", tasks);
	close(fd);
}

/* The cgroup2 directory the next FORK creates its child in (clone3 CLONE_INTO_CGROUP). */
void op_cgroup_fork_into(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		rt_fail(errno, "open cgroup %s", dir);
	check_cgroupfs(fd, dir);
	if (rt.fork_cgroupfd >= 0)
		close(rt.fork_cgroupfd);
	rt.fork_cgroupfd = fd;
}

void op_sync(uint64_t code)
{
	uint8_t b[4] = {(uint8_t)code, (uint8_t)(code >> 8), (uint8_t)(code >> 16), (uint8_t)(code >> 24)};
	rt_send_or_die(RT_MSG_SYNC, b, sizeof b);
	rt_wait_ack();
}

void op_hostname(const char *name)
{
	if (sethostname(name, strlen(name)) < 0)
		rt_fail(errno, "sethostname");
}

void op_domainname(const char *name)
{
	if (setdomainname(name, strlen(name)) < 0)
		rt_fail(errno, "setdomainname");
}

/* files under /proc/ must be on procfs and under /sys/ on sysfs, so a mount cannot redirect the write */
void op_write_file(const char *path, const char *content)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		rt_fail(errno, "write %s", path);
	struct statfs sfs;
	if (fstatfs(fd, &sfs) < 0)
		rt_fail(errno, "write %s", path);
	if (strncmp(path, "/proc/", 6) == 0 && sfs.f_type != PROC_SUPER_MAGIC)
		rt_failx("write %s: not on procfs", path);
	if (strncmp(path, "/sys/", 5) == 0 && sfs.f_type != SYSFS_MAGIC)
		rt_failx("write %s: not on sysfs", path);
	if (rt_write_all(fd, content, strlen(content)) < 0)
		rt_fail(errno, "write %s", path);
	if (close(fd) < 0 && errno != EINTR)
		rt_fail(errno, "write %s", path);
}
