/*
 * runts-init: helpers shared by the steps: fd arguments and moves, sending an fd,
 * /proc/self/fd paths, the reset of signal dispositions.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "stub.h"

int rt_fd_arg(uint64_t v, const char *what)
{
	if (v > INT_MAX)
		rt_failx("plan: %s: fd %llu out of range", what, (unsigned long long)v);
	return (int)v;
}

int rt_move_fd(int from, int to)
{
	if (from == to) {
		/* dup2 would do nothing: the fd must still lose O_CLOEXEC */
		int fl = fcntl(to, F_GETFD);
		return fl < 0 ? -1 : fcntl(to, F_SETFD, fl & ~FD_CLOEXEC);
	}
	return dup2(from, to);
}

const char *rt_fdpath(int fd, char *buf, size_t n)
{
	snprintf(buf, n, "/proc/self/fd/%d", fd);
	return buf;
}

/*
 * Send `fd` with SCM_RIGHTS over `sock` (the console socket), with
 * `data` as the message's bytes. Dies with "<what>: <errno>" on failure.
 */
void rt_send_fd(int sock, int fd, const char *data, const char *what)
{
	struct iovec iov = {(void *)data, strlen(data)};
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	memset(&u, 0, sizeof u);
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof u.buf};
	struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &fd, sizeof fd);
	ssize_t n;
	for (;;) {
		n = sendmsg(sock, &mh, MSG_NOSIGNAL);
		if (n >= 0 || errno != EINTR) {
			if (n >= 0 || errno != EAGAIN)
				break;
			/* a non-blocking socket shared with the caller: wait until it can take the message */
			struct pollfd p = {.fd = sock, .events = POLLOUT};
			poll(&p, 1, -1);
		}
	}
	if (n < 0)
		rt_fail(errno, "%s", what);
}

/* default dispositions, empty mask; marks them clean for EXEC */
void rt_reset_signals(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = SIG_DFL;
	sigemptyset(&sa.sa_mask);
	for (int s = 1; s < NSIG; s++) {
		if (s == SIGKILL || s == SIGSTOP)
			continue;
		sigaction(s, &sa, NULL); /* fails harmlessly for signals reserved by libc */
	}
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	rt.signals_clean = 1;
}
