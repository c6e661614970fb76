/*
 * Attacks a process of the container from inside it (built static by security.test.ts):
 *   attack PID   tries /proc/PID/mem (rw, r), /proc/PID/exe, cwd, root, environ, every /proc/PID/fd/N, and
 *                PTRACE_SEIZE / PTRACE_ATTACH; prints one line "<what>: ok" or "<what>: <errno>" per try.
 * An attach that succeeds is detached again, so that the run goes on either way.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <unistd.h>

static void report(const char *what, int ok)
{
	if (ok)
		printf("%s: ok\n", what);
	else
		printf("%s: %s\n", what, strerror(errno));
}

static void try_open(const char *what, const char *path, int flags)
{
	int fd = open(path, flags);
	report(what, fd >= 0);
	if (fd >= 0)
		close(fd);
}

static void try_link(const char *what, const char *path)
{
	char buf[4096];
	ssize_t n = readlink(path, buf, sizeof buf - 1);
	report(what, n >= 0);
}

int main(int argc, char **argv)
{
	if (argc != 2)
		return 2;
	pid_t pid = atoi(argv[1]);
	char p[256], what[300];
	snprintf(p, sizeof p, "/proc/%d/mem", pid);
	try_open("mem rw", p, O_RDWR);
	try_open("mem r", p, O_RDONLY);
	snprintf(p, sizeof p, "/proc/%d/environ", pid);
	try_open("environ", p, O_RDONLY);
	snprintf(p, sizeof p, "/proc/%d/exe", pid);
	try_link("exe link", p);
	try_open("exe open", p, O_RDONLY);
	try_open("exe write", p, O_WRONLY);
	snprintf(p, sizeof p, "/proc/%d/cwd", pid);
	try_link("cwd link", p);
	snprintf(p, sizeof p, "/proc/%d/root", pid);
	try_link("root link", p);
	snprintf(p, sizeof p, "/proc/%d/fd", pid);
	DIR *d = opendir(p);
	if (d) {
		struct dirent *e;
		while ((e = readdir(d)) != NULL) {
			if (e->d_name[0] == '.')
				continue;
			snprintf(p, sizeof p, "/proc/%d/fd/%s", pid, e->d_name);
			snprintf(what, sizeof what, "fd %s link", e->d_name);
			try_link(what, p);
			snprintf(what, sizeof what, "fd %s open", e->d_name);
			try_open(what, p, O_RDONLY | O_NONBLOCK);
		}
		closedir(d);
	}
	int r = (int)ptrace(PTRACE_SEIZE, pid, 0, 0);
	report("ptrace seize", r == 0);
	if (r == 0)
		ptrace(PTRACE_DETACH, pid, 0, 0);
	r = (int)ptrace(PTRACE_ATTACH, pid, 0, 0);
	report("ptrace attach", r == 0);
	if (r == 0) {
		int st;
		waitpid(pid, &st, __WALL);
		ptrace(PTRACE_DETACH, pid, 0, 0);
	}
	fflush(stdout);
	return 0;
}
