/*
 * runts-init: mounts, the root switch, masked and read-only paths. Targets in the
 * rootfs are resolved by inroot.c; mounts go through /proc/self/fd/<fd> of the
 * resolved O_PATH fd.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/openat2.h>

#include "stub.h"

#ifndef MS_NOSYMFOLLOW
#define MS_NOSYMFOLLOW 256
#endif
#ifndef MOUNT_ATTR_IDMAP
#define MOUNT_ATTR_IDMAP 0x00100000
#endif
#ifndef AT_RECURSIVE
#define AT_RECURSIVE 0x8000
#endif

/* struct mount_attr of mount_setattr(2) (defined here to avoid <linux/mount.h> clashing with <sys/mount.h>) */
struct rt_mount_attr {
	uint64_t attr_set;
	uint64_t attr_clr;
	uint64_t propagation;
	uint64_t userns_fd;
};

void op_rootfs(const char *path)
{
	int fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		rt_fail(errno, "open rootfs %s", path);
	/* the working directory of createContainer hooks (runc's too): relative paths resolve in the rootfs */
	if (fchdir(fd) < 0)
		rt_fail(errno, "chdir %s", path);
	if (rt.rootfd >= 0)
		close(rt.rootfd);
	rt.rootfd = fd;
	rt.rootfs = path;
}

/*
 * Flags the kernel locks on mounts that came from a more privileged mount
 * namespace: a bind remount must repeat them or fails with EPERM.
 */
static unsigned long locked_flags(unsigned long have, unsigned long want)
{
	unsigned long f = 0;
	if (have & ST_NOSUID)
		f |= MS_NOSUID;
	if (have & ST_NODEV)
		f |= MS_NODEV;
	if (have & ST_NOEXEC)
		f |= MS_NOEXEC;
	if (!(want & (MS_NOATIME | MS_RELATIME | MS_STRICTATIME | MS_NODIRATIME))) {
		/* no atime choice in the step: keep the current one */
		if (have & ST_NOATIME)
			f |= MS_NOATIME;
		else if (have & ST_RELATIME)
			f |= MS_RELATIME;
		else
			f |= MS_STRICTATIME;
		if (have & ST_NODIRATIME)
			f |= MS_NODIRATIME;
	}
	return f;
}

/*
 * tmpcopyup: copy the tree under directory fd `from` into directory fd `to` (a fresh tmpfs), keeping types,
 * modes and owners. Devices, fifos and sockets are recreated with mknod.
 */
static void copy_tree(int from, int to, const char *top)
{
	int dfd = dup(from);
	if (dfd < 0)
		rt_fail(errno, "tmpcopyup %s", top);
	DIR *d = fdopendir(dfd);
	if (!d)
		rt_fail(errno, "tmpcopyup %s", top);
	struct dirent *e;
	while ((errno = 0, e = readdir(d))) {
		const char *n = e->d_name;
		if (!strcmp(n, ".") || !strcmp(n, ".."))
			continue;
		struct stat st;
		if (fstatat(from, n, &st, AT_SYMLINK_NOFOLLOW) < 0)
			rt_fail(errno, "tmpcopyup %s/%s", top, n);
		mode_t perm = st.st_mode & 07777;
		if (S_ISDIR(st.st_mode)) {
			if (mkdirat(to, n, 0700) < 0)
				rt_fail(errno, "tmpcopyup %s/%s", top, n);
			int s = openat(from, n, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			int t = openat(to, n, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (s < 0 || t < 0)
				rt_fail(errno, "tmpcopyup %s/%s", top, n);
			copy_tree(s, t, top);
			if (fchown(t, st.st_uid, st.st_gid) < 0 || fchmod(t, perm) < 0)
				rt_fail(errno, "tmpcopyup %s/%s", top, n);
			close(s);
			close(t);
		} else if (S_ISREG(st.st_mode)) {
			int s = openat(from, n, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
			int t = openat(to, n, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
			if (s < 0 || t < 0)
				rt_fail(errno, "tmpcopyup %s/%s", top, n);
			char buf[65536];
			for (;;) {
				ssize_t r = read(s, buf, sizeof buf);
				if (r < 0 && errno == EINTR)
					continue;
				if (r < 0)
					rt_fail(errno, "tmpcopyup %s/%s", top, n);
				if (r == 0)
					break;
				for (ssize_t off = 0; off < r;) {
					ssize_t w = write(t, buf + off, (size_t)(r - off));
					if (w < 0 && errno == EINTR)
						continue;
					if (w < 0)
						rt_fail(errno, "tmpcopyup %s/%s", top, n);
					off += w;
				}
			}
			if (fchown(t, st.st_uid, st.st_gid) < 0 || fchmod(t, perm) < 0)
				rt_fail(errno, "tmpcopyup %s/%s", top, n);
			close(s);
			close(t);
		} else if (S_ISLNK(st.st_mode)) {
			char link[PATH_MAX];
			ssize_t len = readlinkat(from, n, link, sizeof link - 1);
			if (len < 0)
				rt_fail(errno, "tmpcopyup %s/%s", top, n);
			link[len] = 0;
			if (symlinkat(link, to, n) < 0 || fchownat(to, n, st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW) < 0)
				rt_fail(errno, "tmpcopyup %s/%s", top, n);
		} else {
			if (mknodat(to, n, st.st_mode, st.st_rdev) < 0 || fchownat(to, n, st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW) < 0 ||
			    fchmodat(to, n, perm, 0) < 0)
				rt_fail(errno, "tmpcopyup %s/%s", top, n);
		}
	}
	if (errno)
		rt_fail(errno, "tmpcopyup %s", top);
	closedir(d);
}

#define PROPAGATION_FLAGS (MS_SHARED | MS_SLAVE | MS_PRIVATE | MS_UNBINDABLE)

#ifndef FSOPEN_CLOEXEC
#define FSOPEN_CLOEXEC 0x00000001
#endif
#ifndef FSCONFIG_SET_FLAG
#define FSCONFIG_SET_FLAG 0
#define FSCONFIG_SET_STRING 1
#endif

/*
 * After mount(2) refused a filesystem's options: which one? Each is handed to a filesystem context of that type
 * (fsopen + fsconfig, nothing is created or mounted) until one is refused. 0 and its name in opt when found.
 */
static int refused_option(const char *fstype, const char *data, char *opt, size_t n)
{
	int fd = (int)syscall(SYS_fsopen, fstype, FSOPEN_CLOEXEC);
	if (fd < 0)
		return -1;
	int found = -1;
	const char *p = data;
	while (*p && found < 0) {
		const char *end = strchr(p, ',');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		char tok[256];
		if (len > 0 && len < sizeof tok) {
			memcpy(tok, p, len);
			tok[len] = 0;
			char *eq = strchr(tok, '=');
			long r;
			if (eq) {
				*eq = 0;
				r = syscall(SYS_fsconfig, fd, FSCONFIG_SET_STRING, tok, eq + 1, 0);
				*eq = '=';
			} else {
				r = syscall(SYS_fsconfig, fd, FSCONFIG_SET_FLAG, tok, NULL, 0);
			}
			if (r < 0) {
				snprintf(opt, n, "%s", tok);
				found = 0;
			}
		}
		p += len;
		if (*p == ',')
			p++;
	}
	close(fd);
	return found;
}

void op_mount(const char *src, const char *target, const char *fstype, uint64_t flags64, const char *data, uint64_t how)
{
	unsigned long flags = (unsigned long)flags64;
	int in_t = (how & RT_HOW_TARGET_IN_ROOT) != 0;
	int in_s = (how & RT_HOW_SOURCE_IN_ROOT) != 0;
	int ignore = (how & RT_HOW_IGNORE_MISSING) != 0;
	const char *msrc = *src ? src : NULL;
	const char *mtgt = target;
	char what[PATH_MAX + 32], sp[32], tp[32], failed[PATH_MAX];
	int sfd = -1, tfd = -1;

	if (*src || *fstype)
		snprintf(what, sizeof what, "mount %s on %s", *src ? src : fstype, target);
	else if (flags & MS_REMOUNT)
		snprintf(what, sizeof what, "remount %s", target);
	else if (flags & PROPAGATION_FLAGS)
		snprintf(what, sizeof what, "set propagation of %s", target);
	else
		snprintf(what, sizeof what, "mount none on %s", target);
	if (in_t || in_s)
		rt_need_root("MOUNT");

	if (in_s) {
		sfd = rt_in_root_open(src, 0);
		if (sfd < 0) {
			if (ignore && errno == ENOENT)
				return;
			rt_fail(errno, "%s", what);
		}
		msrc = rt_fdpath(sfd, sp, sizeof sp);
	}
	if (how & (RT_HOW_MKDIR | RT_HOW_MKFILE)) {
		int as_dir = (how & RT_HOW_MKDIR) != 0;
		if ((how & RT_HOW_MKDIR) && (how & RT_HOW_MKFILE)) {
			/* create the target like the source: a directory for a directory, else a file */
			struct stat st;
			int r = sfd >= 0 ? fstat(sfd, &st) : stat(src, &st);
			if (r < 0) {
				if (ignore && errno == ENOENT)
					goto out;
				rt_fail(errno, "%s", what);
			}
			as_dir = S_ISDIR(st.st_mode);
		}
		if (as_dir) {
			int fd = rt_path_mkdir_p(in_t, target, 0755, failed, sizeof failed);
			if (fd < 0) {
				if (ignore && errno == ENOENT)
					goto out;
				rt_fail(errno, "mkdir %s", failed);
			}
			close(fd);
		} else if (rt_path_create_file(in_t, target, failed, sizeof failed) < 0) {
			if (ignore && errno == ENOENT)
				goto out;
			rt_fail(errno, "create %s", failed);
		}
	}
	if (in_t) {
		tfd = rt_in_root_open(target, 0);
		if (tfd < 0) {
			if (ignore && errno == ENOENT)
				goto out;
			rt_fail(errno, "%s", what);
		}
		mtgt = rt_fdpath(tfd, tp, sizeof tp);
	}
	if ((how & RT_HOW_KEEP_LOCKED) && (flags & MS_REMOUNT)) {
		struct statvfs sv;
		int r = tfd >= 0 ? fstatvfs(tfd, &sv) : statvfs(target, &sv);
		if (r < 0) {
			if (ignore && errno == ENOENT)
				goto out;
			rt_fail(errno, "%s", what);
		}
		flags |= locked_flags(sv.f_flag, flags);
	}
	/* tmpcopyup: what the target holds before the mount, to copy into it after */
	int under = -1;
	if (how & RT_HOW_COPY_UP) {
		under = tfd >= 0 ? openat(tfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC) : open(target, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (under < 0)
			rt_fail(errno, "%s: tmpcopyup", what);
	}
	if (mount(msrc, mtgt, *fstype ? fstype : NULL, flags, *data ? data : NULL) < 0) {
		if (!(ignore && errno == ENOENT)) {
			int err = errno;
			char opt[256];
			if (*data && *fstype && refused_option(fstype, data, opt, sizeof opt) == 0)
				rt_fail(err, "%s: option \"%s\"", what, opt);
			if (*data)
				rt_fail(err, "%s (options \"%s\")", what, data);
			rt_fail(err, "%s", what);
		}
	} else if (under >= 0) {
		/* the path now leads to the new mount */
		int top = in_t ? rt_in_root_open(target, 0) : open(target, O_PATH | O_DIRECTORY | O_CLOEXEC);
		int dst = top < 0 ? -1 : openat(top, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dst < 0)
			rt_fail(errno, "%s: tmpcopyup", what);
		copy_tree(under, dst, target);
		close(dst);
		close(top);
	}
	if (under >= 0)
		close(under);
out:
	if (sfd >= 0)
		close(sfd);
	if (tfd >= 0)
		close(tfd);
}

void op_mount_setattr(const char *target, uint64_t how, uint64_t set, uint64_t clr, uint64_t prop, uint64_t rec)
{
	struct rt_mount_attr attr = {.attr_set = set, .attr_clr = clr, .propagation = prop, .userns_fd = 0};
	int dfd = AT_FDCWD, fd = -1;
	const char *path = target;
	if (how & RT_HOW_TARGET_IN_ROOT) {
		rt_need_root("MOUNT_SETATTR");
		fd = rt_in_root_open(target, 0);
		if (fd < 0) {
			if ((how & RT_HOW_IGNORE_MISSING) && errno == ENOENT)
				return;
			rt_fail(errno, "mount_setattr %s", target);
		}
		dfd = fd;
		path = "";
	}
	unsigned int flags = AT_EMPTY_PATH | (rec ? AT_RECURSIVE : 0);
	if (syscall(SYS_mount_setattr, dfd, path, flags, &attr, sizeof attr) < 0) {
		if (!((how & RT_HOW_IGNORE_MISSING) && errno == ENOENT))
			rt_fail(errno, "mount_setattr %s", target);
	}
	if (fd >= 0)
		close(fd);
}

/*
 * Bind sources opened on the host side (OPEN_TREE), before the stub enters a user namespace in which the
 * container's root may not reach them; attached later by MOUNT_TREE. Each slot is used once.
 */
#ifndef OPEN_TREE_CLONE
#define OPEN_TREE_CLONE 1
#endif
#ifndef MOVE_MOUNT_F_EMPTY_PATH
#define MOVE_MOUNT_F_EMPTY_PATH 0x00000004
#endif
#ifndef MOVE_MOUNT_T_EMPTY_PATH
#define MOVE_MOUNT_T_EMPTY_PATH 0x00000040
#endif
#define RT_MAX_TREES 1024

static struct {
	int fd;
	const char *src; /* for messages (points into the plan) */
	const char *dest;
} trees[RT_MAX_TREES];

void op_open_tree(const char *src, const char *dest, uint64_t slot, uint64_t recursive, uint64_t propagation)
{
	if (slot >= RT_MAX_TREES)
		rt_failx("plan: OPEN_TREE: slot %llu out of range", (unsigned long long)slot);
	if (trees[slot].src)
		rt_failx("plan: OPEN_TREE: slot %llu used twice", (unsigned long long)slot);
	unsigned int flags = OPEN_TREE_CLONE | O_CLOEXEC | (recursive ? AT_RECURSIVE : 0);
	long fd = syscall(SYS_open_tree, AT_FDCWD, src, flags);
	if (fd < 0)
		rt_fail(errno, "mount %s on %s", src, dest);
	/*
	 * A clone of a shared mount joins its peer group: the container's mounts below it would reach the host.
	 * The clone gets the propagation the container's other mounts get from its root (slave or private).
	 */
	if (propagation) {
		struct rt_mount_attr attr = {.propagation = propagation};
		if (syscall(SYS_mount_setattr, (int)fd, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof attr) < 0)
			rt_fail(errno, "mount %s on %s: set propagation", src, dest);
	}
	trees[slot].fd = (int)fd;
	trees[slot].src = src;
	trees[slot].dest = dest;
}

void op_mount_tree(uint64_t slot, const char *target, uint64_t how)
{
	char failed[PATH_MAX];
	if (slot >= RT_MAX_TREES || !trees[slot].src || trees[slot].fd < 0)
		rt_failx("plan: MOUNT_TREE: slot %llu is not open", (unsigned long long)slot);
	int sfd = trees[slot].fd;
	const char *src = trees[slot].src;
	int in_t = (how & RT_HOW_TARGET_IN_ROOT) != 0;
	if (in_t)
		rt_need_root("MOUNT_TREE");
	if (how & (RT_HOW_MKDIR | RT_HOW_MKFILE)) {
		/* the target like the source: a directory for a directory, else a file */
		struct stat st;
		if (fstat(sfd, &st) < 0)
			rt_fail(errno, "mount %s on %s", src, target);
		if (S_ISDIR(st.st_mode)) {
			int fd = rt_path_mkdir_p(in_t, target, 0755, failed, sizeof failed);
			if (fd < 0)
				rt_fail(errno, "mkdir %s", failed);
			close(fd);
		} else if (rt_path_create_file(in_t, target, failed, sizeof failed) < 0) {
			rt_fail(errno, "create %s", failed);
		}
	}
	int tfd = in_t ? rt_in_root_open(target, 0) : open(target, O_PATH | O_CLOEXEC);
	if (tfd < 0)
		rt_fail(errno, "mount %s on %s", src, target);
	if (syscall(SYS_move_mount, sfd, "", tfd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
		rt_fail(errno, "mount %s on %s", src, target);
	close(tfd);
	close(sfd);
	trees[slot].fd = -1;
}

void op_mkdir(const char *path, uint64_t mode)
{
	char failed[PATH_MAX];
	rt_need_root("MKDIR");
	int fd = rt_path_mkdir_p(1, path, (mode_t)(mode & 07777), failed, sizeof failed);
	if (fd < 0)
		rt_fail(errno, "mkdir %s", failed);
	close(fd);
}

void op_symlink(const char *target, const char *linkpath)
{
	char base[NAME_MAX + 1], failed[PATH_MAX];
	rt_need_root("SYMLINK");
	int dfd = rt_path_parent_dir(1, linkpath, base, sizeof base, failed, sizeof failed);
	if (dfd < 0)
		rt_fail(errno, "symlink %s %s", target, linkpath);
	if (symlinkat(target, dfd, base) < 0 && errno != EEXIST)
		rt_fail(errno, "symlink %s %s", target, linkpath);
	close(dfd);
}

/* after the root switch, "in root" means under the new "/" */
static void reopen_root(void)
{
	close(rt.rootfd);
	rt.rootfd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rt.rootfd < 0)
		rt_fail(errno, "open /");
	rt.rootfs = "/";
}

void op_pivot_root(void)
{
	rt_need_root("PIVOT_ROOT");
	const char *r = rt.rootfs;
	int oldroot = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (oldroot < 0)
		rt_fail(errno, "pivot_root %s: open the old root", r);
	if (fchdir(rt.rootfd) < 0)
		rt_fail(errno, "pivot_root %s", r);
	/* stack the old root on the new one, then detach it: no directory for put_old needed */
	if (syscall(SYS_pivot_root, ".", ".") < 0)
		rt_fail(errno, "pivot_root %s", r);
	/* from the old root (so that only its tree is touched): keep the detach from propagating to the host */
	if (fchdir(oldroot) < 0)
		rt_fail(errno, "pivot_root %s: chdir to the old root", r);
	close(oldroot);
	if (mount(NULL, ".", NULL, MS_SLAVE | MS_REC, NULL) < 0)
		rt_fail(errno, "pivot_root %s: make the old root rslave", r);
	if (umount2(".", MNT_DETACH) < 0)
		rt_fail(errno, "pivot_root %s: detach the old root", r);
	if (chdir("/") < 0)
		rt_fail(errno, "pivot_root %s: chdir /", r);
	reopen_root();
}

/*
 * A mount outside the rootfs that must not stay reachable (--no-pivot: full procfs/sysfs mounts of the host,
 * which let a nested user namespace mount procfs/sysfs). Made rslave first, so that the unmount does not
 * propagate to the host, then detached; a path already gone with a detached parent is skipped. With
 * RT_UMOUNT_COVER a refused unmount (a locked mount in a user namespace) covers the path with a tmpfs instead.
 * The path is the host's, looked up before MOVE_ROOT (no /proc needed: /proc may be what is detached).
 */
void op_umount(const char *path, uint64_t how)
{
	if (mount(NULL, path, NULL, MS_SLAVE | MS_REC, NULL) < 0) {
		if (errno == ENOENT)
			return;
		rt_fail(errno, "make %s rslave", path);
	}
	if (umount2(path, MNT_DETACH | UMOUNT_NOFOLLOW) == 0)
		return;
	int err = errno;
	if ((how & RT_UMOUNT_COVER) && (err == EPERM || err == EINVAL)) {
		if (mount("tmpfs", path, "tmpfs", 0, NULL) < 0)
			rt_fail(errno, "mount tmpfs on %s", path);
		return;
	}
	rt_fail(err, "unmount %s", path);
}

void op_move_root(void)
{
	rt_need_root("MOVE_ROOT");
	const char *r = rt.rootfs;
	if (fchdir(rt.rootfd) < 0)
		rt_fail(errno, "move root %s", r);
	/* "." is the rootfs mount itself (the cwd), not a path that could be looked up again */
	if (mount(".", "/", NULL, MS_MOVE, NULL) < 0)
		rt_fail(errno, "move root %s", r);
	if (chroot(".") < 0)
		rt_fail(errno, "chroot %s", r);
	if (chdir("/") < 0)
		rt_fail(errno, "chdir /");
	reopen_root();
}

/*
 * no mount namespace: chroot into the rootfs (the ROOTFS one when path is empty, else path, e.g.
 * /proc/<init>/root for exec); the runtime's mount namespace is never changed
 */
void op_chroot(const char *path)
{
	int fd;
	const char *r = *path ? path : rt.rootfs;
	if (*path) {
		fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (fd < 0)
			rt_fail(errno, "chroot %s", r);
	} else {
		rt_need_root("CHROOT");
		fd = rt.rootfd;
	}
	if (fchdir(fd) < 0)
		rt_fail(errno, "chroot %s", r);
	if (*path)
		close(fd);
	if (chroot(".") < 0)
		rt_fail(errno, "chroot %s", r);
	if (chdir("/") < 0)
		rt_fail(errno, "chdir /");
	if (rt.rootfd >= 0)
		reopen_root();
}

/* masked path: read-only tmpfs on a directory, /dev/null over anything else */
void op_mask(const char *path)
{
	char fp[32];
	int fd = open(path, O_PATH | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return;
		rt_fail(errno, "mask %s", path);
	}
	struct stat st;
	if (fstat(fd, &st) < 0)
		rt_fail(errno, "mask %s", path);
	if (S_ISDIR(st.st_mode)) {
		if (mount("tmpfs", rt_fdpath(fd, fp, sizeof fp), "tmpfs", MS_RDONLY, NULL) < 0)
			rt_fail(errno, "mount tmpfs on %s", path);
	} else {
		if (mount("/dev/null", rt_fdpath(fd, fp, sizeof fp), NULL, MS_BIND, NULL) < 0)
			rt_fail(errno, "mount /dev/null on %s", path);
	}
	close(fd);
}

/* read-only path: bind it onto itself (recursively) and remount the bind read-only */
void op_readonly(const char *path)
{
	char fp[32];
	int fd = open(path, O_PATH | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return;
		rt_fail(errno, "mount %s on %s", path, path);
	}
	rt_fdpath(fd, fp, sizeof fp);
	if (mount(fp, fp, NULL, MS_BIND | MS_REC, NULL) < 0)
		rt_fail(errno, "mount %s on %s", path, path);
	close(fd);
	/* the new mount's root */
	fd = open(path, O_PATH | O_CLOEXEC);
	if (fd < 0)
		rt_fail(errno, "remount %s read-only", path);
	struct statvfs sv;
	if (fstatvfs(fd, &sv) < 0)
		rt_fail(errno, "remount %s read-only", path);
	unsigned long flags = MS_BIND | MS_REMOUNT | MS_RDONLY;
	flags |= locked_flags(sv.f_flag, flags);
	if (mount(NULL, rt_fdpath(fd, fp, sizeof fp), NULL, flags, NULL) < 0)
		rt_fail(errno, "remount %s read-only", path);
	close(fd);
}

/*
 * User namespaces that carry the mappings of id-mapped mounts (USERNS), kept in slots until IDMAP_TREE has
 * used them. Made on the host side, before the stub enters any namespace: a short-lived child is cloned into a
 * new user namespace and waits; the stub writes its uid_map/gid_map, opens /proc/<child>/ns/user and kills it
 * (the namespace lives on in the fd). Or, for a user namespace given by path, that namespace is opened.
 */
static int userns_fds[RT_MAX_TREES];
static unsigned char userns_set[RT_MAX_TREES];

static void reap(pid_t pid)
{
	kill(pid, SIGKILL);
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
}

static int write_map(pid_t pid, const char *name, const char *content)
{
	char p[64];
	snprintf(p, sizeof p, "/proc/%d/%s", (int)pid, name);
	int fd = open(p, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	size_t len = strlen(content);
	ssize_t n = write(fd, content, len);
	int err = errno;
	close(fd);
	if (n != (ssize_t)len) {
		errno = n < 0 ? err : EIO;
		return -1;
	}
	return 0;
}

void op_userns(uint64_t slot, const char *uid_map, const char *gid_map, const char *path)
{
	if (slot >= RT_MAX_TREES || userns_set[slot])
		rt_failx("plan: USERNS: slot %llu out of range or used twice", (unsigned long long)slot);
	int fd;
	if (*path) {
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			rt_fail(errno, "open user namespace %s", path);
	} else {
		pid_t parent = getpid();
		pid_t pid = (pid_t)syscall(SYS_clone, (unsigned long)(CLONE_NEWUSER | SIGCHLD), NULL, NULL, NULL, NULL);
		if (pid < 0)
			rt_fail(errno, "id-mapped mount: new user namespace");
		if (pid == 0) {
			/* the child only waits to be killed (and goes with the stub if the stub dies first) */
			prctl(PR_SET_PDEATHSIG, SIGKILL);
			if (getppid() != parent)
				_exit(1);
			for (;;)
				pause();
		}
		if (write_map(pid, "uid_map", uid_map) < 0) {
			int err = errno;
			reap(pid);
			rt_fail(err, "id-mapped mount: write uid_map \"%s\"", uid_map);
		}
		if (write_map(pid, "gid_map", gid_map) < 0) {
			int err = errno;
			reap(pid);
			rt_fail(err, "id-mapped mount: write gid_map \"%s\"", gid_map);
		}
		char p[64];
		snprintf(p, sizeof p, "/proc/%d/ns/user", (int)pid);
		fd = open(p, O_RDONLY | O_CLOEXEC);
		int err = errno;
		reap(pid);
		if (fd < 0)
			rt_fail(err, "id-mapped mount: open %s", p);
	}
	userns_fds[slot] = fd;
	userns_set[slot] = 1;
}

void op_idmap_tree(uint64_t slot, uint64_t ns_slot, uint64_t recursive, uint64_t close_ns)
{
	if (slot >= RT_MAX_TREES || !trees[slot].src || trees[slot].fd < 0)
		rt_failx("plan: IDMAP_TREE: slot %llu is not open", (unsigned long long)slot);
	if (ns_slot >= RT_MAX_TREES || !userns_set[ns_slot] || userns_fds[ns_slot] < 0)
		rt_failx("plan: IDMAP_TREE: user namespace slot %llu is not open", (unsigned long long)ns_slot);
	struct rt_mount_attr attr = {.attr_set = MOUNT_ATTR_IDMAP, .userns_fd = (uint64_t)userns_fds[ns_slot]};
	unsigned int flags = AT_EMPTY_PATH | (recursive ? AT_RECURSIVE : 0);
	if (syscall(SYS_mount_setattr, trees[slot].fd, "", flags, &attr, sizeof attr) < 0)
		rt_fail(errno, "id-map %s for %s", trees[slot].src, trees[slot].dest);
	if (close_ns) {
		close(userns_fds[ns_slot]);
		userns_fds[ns_slot] = -1;
	}
}

/*
 * A filesystem mounted in the container (tmpfs...) id-mapped: its mount is cloned (open_tree OPEN_TREE_CLONE),
 * the clone gets MOUNT_ATTR_IDMAP, and replaces the original on the target.
 */
void op_idmap_mount(const char *target, uint64_t ns_slot, uint64_t recursive, uint64_t close_ns)
{
	char tp[32];
	rt_need_root("IDMAP_MOUNT");
	if (ns_slot >= RT_MAX_TREES || !userns_set[ns_slot] || userns_fds[ns_slot] < 0)
		rt_failx("plan: IDMAP_MOUNT: user namespace slot %llu is not open", (unsigned long long)ns_slot);
	int tfd = rt_in_root_open(target, 0);
	if (tfd < 0)
		rt_fail(errno, "id-map %s", target);
	unsigned int rec = recursive ? AT_RECURSIVE : 0;
	int clone = (int)syscall(SYS_open_tree, tfd, "", OPEN_TREE_CLONE | O_CLOEXEC | AT_EMPTY_PATH | rec);
	if (clone < 0)
		rt_fail(errno, "id-map %s", target);
	struct rt_mount_attr attr = {.attr_set = MOUNT_ATTR_IDMAP, .userns_fd = (uint64_t)userns_fds[ns_slot]};
	if (syscall(SYS_mount_setattr, clone, "", AT_EMPTY_PATH | rec, &attr, sizeof attr) < 0)
		rt_fail(errno, "id-map %s", target);
	if (umount2(rt_fdpath(tfd, tp, sizeof tp), MNT_DETACH) < 0)
		rt_fail(errno, "id-map %s: unmount the original", target);
	close(tfd);
	tfd = rt_in_root_open(target, 0);
	if (tfd < 0)
		rt_fail(errno, "id-map %s", target);
	if (syscall(SYS_move_mount, clone, "", tfd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
		rt_fail(errno, "id-map %s: attach", target);
	close(clone);
	close(tfd);
	if (close_ns) {
		close(userns_fds[ns_slot]);
		userns_fds[ns_slot] = -1;
	}
}
