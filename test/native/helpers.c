/*
 * Test helpers for test/native/driver.mjs (things plain Node cannot do).
 *
 *   helpers reap <reportfd> <prog> [args...]
 *       become a child subreaper, run prog, reap every process that ends up with us
 *       and report "spawned <pid>" and "exit <pid> <code>" / "signal <pid> <sig>"
 *       lines on reportfd (which prog does not inherit).
 *   helpers console <socketpath>
 *       a --console-socket server: accept one connection, receive the pty master
 *       (SCM_RIGHTS), print "console <name>" and copy everything read from the
 *       master to stdout until the terminal is gone.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

static void report(int fd, const char *fmt, long a, long b)
{
	char line[128];
	int n = snprintf(line, sizeof line, fmt, a, b);
	if (n > 0)
		(void)!write(fd, line, (size_t)n);
}

static int reap(int argc, char **argv)
{
	if (argc < 4)
		return 2;
	int rfd = atoi(argv[2]);
	fcntl(rfd, F_SETFD, FD_CLOEXEC);
	if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0) {
		perror("PR_SET_CHILD_SUBREAPER");
		return 1;
	}
	pid_t pid = fork();
	if (pid < 0)
		return 1;
	if (pid == 0) {
		execv(argv[3], argv + 3);
		perror("execv");
		_exit(127);
	}
	report(rfd, "spawned %ld\n", pid, 0);
	for (;;) {
		int st;
		pid_t p = wait(&st);
		if (p < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (WIFEXITED(st))
			report(rfd, "exit %ld %ld\n", p, WEXITSTATUS(st));
		else if (WIFSIGNALED(st))
			report(rfd, "signal %ld %ld\n", p, WTERMSIG(st));
	}
	report(rfd, "done %ld %ld\n", 0, 0);
	return 0;
}

static int console(int argc, char **argv)
{
	if (argc < 3)
		return 2;
	int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	snprintf(a.sun_path, sizeof a.sun_path, "%s", argv[2]);
	unlink(argv[2]);
	if (bind(s, (struct sockaddr *)&a, sizeof a) < 0 || listen(s, 1) < 0) {
		perror("console socket");
		return 1;
	}
	printf("ready\n");
	fflush(stdout);
	int c = accept4(s, NULL, NULL, SOCK_CLOEXEC);
	if (c < 0) {
		perror("accept");
		return 1;
	}
	char name[256] = {0};
	struct iovec iov = {name, sizeof name - 1};
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof u.buf};
	ssize_t n = recvmsg(c, &mh, MSG_CMSG_CLOEXEC);
	if (n < 0) {
		perror("recvmsg");
		return 1;
	}
	struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
	if (!cm || cm->cmsg_type != SCM_RIGHTS) {
		fprintf(stderr, "no fd received\n");
		return 1;
	}
	int master;
	memcpy(&master, CMSG_DATA(cm), sizeof master);
	printf("console %s\n", name);
	fflush(stdout);
	close(c);
	char buf[4096];
	for (;;) {
		n = read(master, buf, sizeof buf);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break; /* EIO once the last slave fd is closed */
		(void)!write(1, buf, (size_t)n);
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "reap") == 0)
		return reap(argc, argv);
	if (argc > 1 && strcmp(argv[1], "console") == 0)
		return console(argc, argv);
	fprintf(stderr, "usage: helpers reap|console ...\n");
	return 2;
}
