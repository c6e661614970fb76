/* runts-init: the fds of the process: CLOEXEC_FROM, CLOSE. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "stub.h"

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

void op_cloexec_from(uint64_t from)
{
	int fd = rt_fd_arg(from, "CLOEXEC_FROM");
	if (syscall(SYS_close_range, (unsigned)fd, ~0U, CLOSE_RANGE_CLOEXEC) == 0)
		return;
	if (errno != ENOSYS && errno != EINVAL)
		rt_fail(errno, "close_range %d", fd);
	/* older kernels: walk /proc/self/fd */
	DIR *d = opendir("/proc/self/fd");
	if (!d)
		rt_fail(errno, "open /proc/self/fd");
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		char *end;
		long n = strtol(e->d_name, &end, 10);
		if (*end || end == e->d_name || n < fd || n == dirfd(d))
			continue;
		int fl = fcntl((int)n, F_GETFD);
		if (fl >= 0)
			fcntl((int)n, F_SETFD, fl | FD_CLOEXEC);
	}
	closedir(d);
}

void op_close(uint64_t v)
{
	int fd = rt_fd_arg(v, "CLOSE");
	if (close(fd) < 0 && errno != EINTR)
		rt_fail(errno, "close fd %d", fd);
	if (fd == rt.syncfd)
		rt.syncfd = -1;
	if (fd == rt.reportfd)
		rt.reportfd = -1;
}
