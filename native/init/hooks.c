/*
 * runts-init: RUN_HOOK. The hook gets the container state (payload of the last
 * ACK) on stdin; its stdout and stderr are captured for the error message.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "stub.h"

#define CAPTURE_MAX 2048

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* trims whitespace at both ends, in place */
static char *trim(char *s)
{
	while (*s == ' ' || *s == '\n' || *s == '\t' || *s == '\r')
		s++;
	size_t n = strlen(s);
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\n' || s[n - 1] == '\t' || s[n - 1] == '\r'))
		s[--n] = 0;
	return s;
}

static void wait_child(pid_t pid, int *status)
{
	while (waitpid(pid, status, 0) < 0) {
		if (errno != EINTR) {
			*status = 0;
			return;
		}
	}
}

_Noreturn static void hook_fail(const char *name, const char *why, char *out)
{
	char *o = trim(out);
	if (*o)
		rt_failx("%s: %s: %s", name, why, o);
	rt_failx("%s: %s", name, why);
}

void op_run_hook(const char *name, const char *path, char **argv, char **envp, uint64_t timeout)
{
	int in[2], out[2], ep[2];
	if (pipe2(in, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0 || pipe2(ep, O_CLOEXEC) < 0)
		rt_fail(errno, "%s: pipe", name);
	char *fallback_argv[] = {(char *)path, NULL};
	if (!argv[0])
		argv = fallback_argv;

	pid_t pid = fork();
	if (pid < 0)
		rt_fail(errno, "%s: fork", name);
	if (pid == 0) {
		rt_reset_signals();
		if (rt_move_fd(in[0], 0) < 0 || rt_move_fd(out[1], 1) < 0 || rt_move_fd(out[1], 2) < 0) {
			int e = errno;
			(void)!write(ep[1], &e, sizeof e);
			_exit(127);
		}
		execve(path, argv, envp);
		int e = errno;
		(void)!write(ep[1], &e, sizeof e);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	close(ep[1]);

	/* did execve work? (the pipe closes on exec) */
	int err = 0;
	ssize_t n;
	while ((n = read(ep[0], &err, sizeof err)) < 0 && errno == EINTR)
		;
	close(ep[0]);
	if (n == (ssize_t)sizeof err) {
		int st;
		wait_child(pid, &st);
		char e[128];
		rt_failx("%s: exec %s: %s", name, path, rt_errstr(err, e, sizeof e));
	}

	/* a hook that exits without reading its stdin must give EPIPE, not kill us */
	struct sigaction ign, old;
	memset(&ign, 0, sizeof ign);
	ign.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &ign, &old);

	int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	fcntl(in[1], F_SETFL, fcntl(in[1], F_GETFL) | O_NONBLOCK);
	int infd = in[1], outfd = out[0];
	size_t sent = 0;
	if (rt.hook_state_len == 0) {
		close(infd);
		infd = -1;
	}
	char buf[CAPTURE_MAX + 1];
	size_t got = 0;
	int status = 0, exited = 0;
	if (timeout > 100000000)
		timeout = 100000000; /* years: avoids overflow */
	int64_t deadline = timeout ? now_ms() + (int64_t)timeout * 1000 : -1;

	while (!exited || outfd >= 0) {
		struct pollfd p[3];
		int np = 0, iin = -1, iout = -1, ipid = -1;
		if (infd >= 0 && !exited) {
			iin = np;
			p[np++] = (struct pollfd){.fd = infd, .events = POLLOUT};
		}
		if (outfd >= 0) {
			iout = np;
			p[np++] = (struct pollfd){.fd = outfd, .events = POLLIN};
		}
		if (pidfd >= 0 && !exited) {
			ipid = np;
			p[np++] = (struct pollfd){.fd = pidfd, .events = POLLIN};
		}
		int wait = -1;
		if (exited)
			wait = 0; /* only drain what is already there: a daemonized grandchild may hold the pipe */
		else if (pidfd < 0)
			wait = 50;
		if (deadline >= 0 && !exited) {
			int64_t left = deadline - now_ms();
			if (left <= 0) {
				kill(pid, SIGKILL);
				wait_child(pid, &status);
				buf[got] = 0;
				char why[64];
				snprintf(why, sizeof why, "timed out after %llus", (unsigned long long)timeout);
				hook_fail(name, why, buf);
			}
			if (wait < 0 || left < wait)
				wait = left > INT_MAX ? INT_MAX : (int)left;
		}
		int r = poll(p, (nfds_t)np, wait);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			rt_fail(errno, "%s: poll", name);
		}
		if (r == 0 && exited)
			break;
		if (iin >= 0 && p[iin].revents) {
			ssize_t w = write(infd, rt.hook_state + sent, rt.hook_state_len - sent);
			if (w > 0)
				sent += (size_t)w;
			if ((w < 0 && errno != EAGAIN && errno != EINTR) || sent == rt.hook_state_len) {
				close(infd);
				infd = -1;
			}
		}
		if (iout >= 0 && p[iout].revents) {
			char tmp[4096];
			ssize_t rd = read(outfd, tmp, sizeof tmp);
			if (rd > 0) {
				size_t keep = (size_t)rd;
				if (keep > CAPTURE_MAX - got)
					keep = CAPTURE_MAX - got;
				memcpy(buf + got, tmp, keep);
				got += keep;
			} else if (rd == 0 || (errno != EAGAIN && errno != EINTR)) {
				close(outfd);
				outfd = -1;
			}
		}
		if (!exited && (pidfd < 0 || (ipid >= 0 && p[ipid].revents))) {
			pid_t w = waitpid(pid, &status, WNOHANG);
			if (w == pid)
				exited = 1;
			else if (w < 0 && errno != EINTR)
				rt_fail(errno, "%s: wait", name);
		}
	}
	if (infd >= 0)
		close(infd);
	if (outfd >= 0)
		close(outfd);
	if (pidfd >= 0)
		close(pidfd);
	sigaction(SIGPIPE, &old, NULL);
	buf[got] = 0;

	char why[64];
	if (WIFEXITED(status)) {
		if (WEXITSTATUS(status) == 0)
			return;
		snprintf(why, sizeof why, "exit status %d", WEXITSTATUS(status));
	} else if (WIFSIGNALED(status)) {
		snprintf(why, sizeof why, "killed by signal %d", WTERMSIG(status));
	} else {
		snprintf(why, sizeof why, "wait status 0x%x", status);
	}
	hook_fail(name, why, buf);
}
