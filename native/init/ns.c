/* runts-init: namespaces, the fork into the container init, names and proc/sys files. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/statfs.h>
#include <unistd.h>
#include <linux/magic.h>

#include "stub.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

void op_setns(const char *path, uint64_t nstype)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		rt_fail(errno, "join namespace at %s", path);
	if (setns(fd, (int)nstype) < 0)
		rt_fail(errno, "join namespace at %s", path);
	close(fd);
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
	rt_send_or_die(RT_MSG_USERMAP_REQ, NULL, 0);
	rt_wait_ack();
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
	pid_t pid = fork();
	if (pid < 0)
		rt_fail(errno, "fork");
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
