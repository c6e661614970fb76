/*
 * runts-init: the container process: terminal, limits, identity, capabilities,
 * working directory, the executable, the wait for start, and exec.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <termios.h>
#include <unistd.h>
#include <linux/capability.h>

#include "stub.h"

#ifndef TIOCGPTPEER
#define TIOCGPTPEER _IO('T', 0x41)
#endif
#ifndef PR_CAP_AMBIENT
#define PR_CAP_AMBIENT 47
#define PR_CAP_AMBIENT_RAISE 2
#define PR_CAP_AMBIENT_CLEAR_ALL 4
#endif

static const char *const cap_names[] = {
	"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL",
	"CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE",
	"CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_IPC_LOCK", "CAP_IPC_OWNER", "CAP_SYS_MODULE",
	"CAP_SYS_RAWIO", "CAP_SYS_CHROOT", "CAP_SYS_PTRACE", "CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT",
	"CAP_SYS_NICE", "CAP_SYS_RESOURCE", "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE",
	"CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL", "CAP_SETFCAP", "CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN", "CAP_SYSLOG",
	"CAP_WAKE_ALARM", "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ", "CAP_PERFMON", "CAP_BPF", "CAP_CHECKPOINT_RESTORE",
};

static const char *cap_name(unsigned cap, char *buf, size_t n)
{
	if (cap < sizeof cap_names / sizeof cap_names[0])
		return cap_names[cap];
	snprintf(buf, n, "capability %u", cap);
	return buf;
}

/* ---- terminal ---- */

void op_console(uint64_t sockfd64, uint64_t rows, uint64_t cols, uint64_t mount_console, uint64_t uid)
{
	int sock = rt_fd_arg(sockfd64, "CONSOLE");
	int master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (master < 0)
		rt_fail(errno, "open /dev/ptmx");
	if (unlockpt(master) < 0)
		rt_fail(errno, "unlockpt");
	int ptn;
	if (ioctl(master, TIOCGPTN, &ptn) < 0)
		rt_fail(errno, "get the pty number");
	char slave_path[64];
	snprintf(slave_path, sizeof slave_path, "/dev/pts/%d", ptn);
	int slave = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (slave < 0) {
		slave = open(slave_path, O_RDWR | O_NOCTTY | O_CLOEXEC);
		if (slave < 0)
			rt_fail(errno, "open %s", slave_path);
	}
	if (rows || cols) {
		struct winsize ws = {.ws_row = (unsigned short)rows, .ws_col = (unsigned short)cols};
		if (ioctl(slave, TIOCSWINSZ, &ws) < 0)
			rt_fail(errno, "set the console size");
	}
	/*
	 * The process's user owns its terminal (as runc's fixStdioPermissions): only the owner changes, the group
	 * stays what devpts gave the pty (its gid= option, or ours). An id the user namespace does not map (EINVAL)
	 * or an inode we may not chown (EPERM) is left as it is, as runc does.
	 */
	if (uid != UINT64_MAX && fchown(slave, (uid_t)uid, (gid_t)-1) < 0 && errno != EINVAL && errno != EPERM)
		rt_fail(errno, "chown %s", slave_path);
	rt_send_fd(sock, master, slave_path, "send the console to the console socket");
	close(master);
	close(sock);
	if (mount_console) {
		/* an empty file to bind the pty over; whatever is there already is left as it is */
		int fd = open("/dev/console", O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd < 0 && errno != EEXIST)
			rt_fail(errno, "create /dev/console");
		if (fd >= 0)
			close(fd);
		if (mount(slave_path, "/dev/console", NULL, MS_BIND, NULL) < 0)
			rt_fail(errno, "mount %s on /dev/console", slave_path);
	}
	if (setsid() < 0)
		rt_fail(errno, "setsid");
	if (ioctl(slave, TIOCSCTTY, 0) < 0)
		rt_fail(errno, "set the controlling terminal");
	for (int i = 0; i <= 2; i++)
		if (rt_move_fd(slave, i) < 0)
			rt_fail(errno, "dup2 the console to fd %d", i);
	if (slave > 2)
		close(slave);
}

/* ---- limits ---- */

static const char *const rlimit_names[] = {
	"RLIMIT_CPU", "RLIMIT_FSIZE", "RLIMIT_DATA", "RLIMIT_STACK", "RLIMIT_CORE", "RLIMIT_RSS",
	"RLIMIT_NPROC", "RLIMIT_NOFILE", "RLIMIT_MEMLOCK", "RLIMIT_AS", "RLIMIT_LOCKS", "RLIMIT_SIGPENDING",
	"RLIMIT_MSGQUEUE", "RLIMIT_NICE", "RLIMIT_RTPRIO", "RLIMIT_RTTIME",
};

void op_rlimit(uint64_t res, uint64_t soft, uint64_t hard)
{
	struct rlimit rl = {
		.rlim_cur = soft == UINT64_MAX ? RLIM_INFINITY : (rlim_t)soft,
		.rlim_max = hard == UINT64_MAX ? RLIM_INFINITY : (rlim_t)hard,
	};
	if (setrlimit((__rlimit_resource_t)res, &rl) < 0) {
		if (res < sizeof rlimit_names / sizeof rlimit_names[0])
			rt_fail(errno, "setrlimit %s", rlimit_names[res]);
		rt_fail(errno, "setrlimit %llu", (unsigned long long)res);
	}
}

void op_personality(uint64_t p)
{
	if (personality((unsigned long)p) < 0)
		rt_fail(errno, "personality 0x%llx", (unsigned long long)p);
}

void op_umask(uint64_t m)
{
	umask((mode_t)(m & 0777));
}

/* ---- identity and capabilities ---- */

static unsigned last_cap(void)
{
	int fd = open("/proc/sys/kernel/cap_last_cap", O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		char buf[16];
		ssize_t n = read(fd, buf, sizeof buf - 1);
		close(fd);
		if (n > 0) {
			buf[n] = 0;
			char *end;
			unsigned long v = strtoul(buf, &end, 10);
			if (end != buf && v < 64)
				return (unsigned)v;
		}
	}
	unsigned c = 0;
	while (c < 63 && prctl(PR_CAPBSET_READ, c + 1, 0, 0, 0) >= 0)
		c++;
	return c;
}

void op_caps_bounding(uint64_t keep)
{
	unsigned last = last_cap();
	char nb[32];
	for (unsigned c = 0; c <= last; c++) {
		if (keep & (1ULL << c))
			continue;
		if (prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0) {
			if (errno == EINVAL)
				continue;
			rt_fail(errno, "drop %s from the bounding set", cap_name(c, nb, sizeof nb));
		}
	}
}

/* whether /proc/self/setgroups says "deny" (then setgroups(2) cannot work in this user namespace) */
static int setgroups_denied(void)
{
	int fd = open("/proc/self/setgroups", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	char buf[16] = {0};
	ssize_t n = read(fd, buf, sizeof buf - 1);
	close(fd);
	return n > 0 && strncmp(buf, "deny", 4) == 0;
}

void op_user(uint64_t uid, uint64_t gid, uint64_t set_groups, const uint64_t *groups, uint32_t ngroups)
{
	if (uid > UINT32_MAX - 1 || gid > UINT32_MAX - 1)
		rt_failx("plan: USER: id out of range");
	if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
		rt_fail(errno, "prctl PR_SET_KEEPCAPS");
	if (set_groups) {
		gid_t *g = calloc(ngroups ? ngroups : 1, sizeof(gid_t));
		if (!g)
			rt_fail(ENOMEM, "setgroups");
		for (uint32_t i = 0; i < ngroups; i++)
			g[i] = (gid_t)groups[i];
		if (setgroups(ngroups, g) < 0) {
			/* an empty list cannot be set where setgroups is denied; there is nothing to drop then */
			if (!(errno == EPERM && ngroups == 0 && setgroups_denied()))
				rt_fail(errno, "setgroups");
		}
		free(g);
	}
	if (setresgid((gid_t)gid, (gid_t)gid, (gid_t)gid) < 0)
		rt_fail(errno, "setresgid %llu", (unsigned long long)gid);
	if (setresuid((uid_t)uid, (uid_t)uid, (uid_t)uid) < 0)
		rt_fail(errno, "setresuid %llu", (unsigned long long)uid);
	if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0)
		rt_fail(errno, "prctl PR_SET_KEEPCAPS");
}

void op_caps(uint64_t eff, uint64_t perm, uint64_t inh, uint64_t amb)
{
	struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
	struct __user_cap_data_struct data[2];
	for (int i = 0; i < 2; i++) {
		data[i].effective = (uint32_t)(eff >> (32 * i));
		data[i].permitted = (uint32_t)(perm >> (32 * i));
		data[i].inheritable = (uint32_t)(inh >> (32 * i));
	}
	if (syscall(SYS_capset, &hdr, data) < 0)
		rt_fail(errno, "capset");
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
		rt_fail(errno, "clear the ambient capabilities");
	char nb[32];
	for (unsigned c = 0; c < 64; c++) {
		if (!(amb & (1ULL << c)))
			continue;
		if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, c, 0, 0) < 0 && errno != EINVAL)
			rt_fail(errno, "raise ambient %s", cap_name(c, nb, sizeof nb));
	}
}

void op_no_new_privs(void)
{
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		rt_fail(errno, "prctl PR_SET_NO_NEW_PRIVS");
}

/*
 * The cwd must be inside the container's root: a magic link (/proc/self/fd/N of a preserved host directory)
 * can lead a chdir out of it. getcwd(2) then does not return an absolute path ("(unreachable)/..."); runc
 * checks the same way and uses the same message.
 */
static void verify_cwd(void)
{
	char buf[PATH_MAX];
	long n = syscall(SYS_getcwd, buf, sizeof buf);
	if (n < 0 && errno == ENOENT)
		rt_failx("current working directory is outside of container mount namespace root -- possible container breakout detected");
	if (n < 0)
		rt_fail(errno, "getcwd");
	if (n == 0 || buf[0] != '/')
		rt_failx("current working directory is outside of container mount namespace root -- possible container breakout detected");
}

/*
 * `how` (the planner's choice, see src/plan/process.ts): RT_CHDIR_REFUSAL_OK skips a refused chdir (EACCES,
 * EPERM); RT_CHDIR_SAME_OK makes a refused chdir no error when the cwd already is that directory.
 */
void op_chdir(const char *path, uint64_t how)
{
	if (chdir(path) == 0) {
		verify_cwd();
		return;
	}
	int err = errno;
	if (err == EACCES || err == EPERM) {
		if (how & RT_CHDIR_REFUSAL_OK)
			return;
		struct stat want, cur;
		/* the cwd itself (AT_EMPTY_PATH): looking up "." would need the search permission we lack */
		if ((how & RT_CHDIR_SAME_OK) && stat(path, &want) == 0 && fstatat(AT_FDCWD, "", &cur, AT_EMPTY_PATH) == 0 &&
		    want.st_dev == cur.st_dev && want.st_ino == cur.st_ino)
			return;
	}
	rt_fail(err, "chdir %s", path);
}

/* ---- the executable ---- */

/* 0 when path is an executable regular file, else an errno */
static int check_exec(const char *path)
{
	struct stat st;
	if (stat(path, &st) < 0)
		return errno;
	if (!S_ISREG(st.st_mode))
		return EACCES;
	if (access(path, X_OK) < 0)
		return errno;
	return 0;
}

void op_lookup(const char *arg0, const char *pathvar)
{
	free(rt.exec_path);
	rt.exec_path = NULL;
	if (strchr(arg0, '/')) {
		int err = check_exec(arg0);
		if (err)
			rt_fail(err, "exec \"%s\"", arg0);
		rt.exec_path = strdup(arg0);
		if (!rt.exec_path)
			rt_fail(ENOMEM, "exec \"%s\"", arg0);
		return;
	}
	if (!*pathvar)
		pathvar = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
	if (*arg0) {
		const char *p = pathvar;
		for (;;) {
			const char *e = strchrnul(p, ':');
			size_t dl = (size_t)(e - p);
			char cand[PATH_MAX];
			/* an empty element is the current directory, as for execvp */
			int n = dl ? snprintf(cand, sizeof cand, "%.*s/%s", (int)dl, p, arg0)
				   : snprintf(cand, sizeof cand, "./%s", arg0);
			if (n > 0 && (size_t)n < sizeof cand && check_exec(cand) == 0) {
				rt.exec_path = strdup(cand);
				if (!rt.exec_path)
					rt_fail(ENOMEM, "exec \"%s\"", arg0);
				return;
			}
			if (!*e)
				break;
			p = e + 1;
		}
	}
	rt_failx("exec: \"%s\": executable file not found in $PATH", arg0);
}

/* ---- ready, start, exec ---- */

void op_ready(void)
{
	rt_send_or_die(RT_MSG_READY, NULL, 0);
	int fd = rt.syncfd;
	rt.syncfd = -1;
	if (rt.reportfd == fd)
		rt.reportfd = -1;
	close(fd);
}

static void exit_on_signal(int sig)
{
	_exit(128 + sig);
}

static const int start_signals[] = {SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2};

void op_wait_start(uint64_t fd64)
{
	int lfd = rt_fd_arg(fd64, "WAIT_START");
	/*
	 * As pid 1 of a pid namespace, signals from the parent namespace that have the
	 * default action would be ignored: handle them so `kill` works while we wait.
	 */
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = exit_on_signal;
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof start_signals / sizeof start_signals[0]; i++)
		sigaction(start_signals[i], &sa, NULL);
	sigset_t set;
	sigemptyset(&set);
	for (size_t i = 0; i < sizeof start_signals / sizeof start_signals[0]; i++)
		sigaddset(&set, start_signals[i]);
	sigprocmask(SIG_UNBLOCK, &set, NULL);
	rt.signals_clean = 0;

	int conn;
	for (;;) {
		conn = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		if (conn >= 0)
			break;
		if (errno == EINTR || errno == ECONNABORTED)
			continue;
		if (errno == EAGAIN) {
			/* the listening socket may be shared with a non-blocking owner: wait for a connection */
			struct pollfd p = {.fd = lfd, .events = POLLIN};
			poll(&p, 1, -1);
			continue;
		}
		rt_fail(errno, "accept on the exec socket");
	}
	close(lfd);
	rt.reportfd = conn;
	/* `start` first sends the container state (status "created") for the startContainer hooks */
	uint32_t type, len;
	uint8_t *payload = NULL;
	int r = rt_recv_frame(conn, &type, &payload, &len, 64u << 20);
	if (r == 0 && type == RT_MSG_ACK) {
		free(rt.hook_state);
		rt.hook_state = payload;
		rt.hook_state_len = len;
	} else {
		free(payload);
	}
}

_Noreturn void op_exec(char **argv, char **envp)
{
	if (!argv[0])
		rt_failx("exec: no arguments");
	const char *path = rt.exec_path ? rt.exec_path : argv[0];
	/* after SECCOMP (which resets them before it loads the filter) only execve is left to do */
	if (!rt.signals_clean)
		rt_reset_signals();
	execve(path, argv, envp);
	rt_fail(errno, "exec \"%s\"", path);
}
