/*
 * runts-init: in-root path resolution, used by mounts.c and devices.c.
 *
 * Paths "in root" are resolved under the rootfs fd with openat2(RESOLVE_IN_ROOT |
 * RESOLVE_NO_MAGICLINKS): a symlink in the rootfs cannot lead outside it. Missing
 * directories are created one component at a time, each resolved the same way.
 * The rt_path_* functions also take host paths (in_root 0: plain paths, relative
 * to the cwd).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/openat2.h>

#include "stub.h"

void rt_need_root(const char *what)
{
	if (rt.rootfd < 0)
		rt_failx("plan: %s: a path in the rootfs is used before ROOTFS", what);
}

int rt_in_root_open(const char *path, int flags)
{
	struct open_how how = {
		.flags = (uint64_t)(O_PATH | O_CLOEXEC | flags),
		.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
	};
	if (!*path)
		path = "/";
	for (int i = 0; i < 64; i++) {
		long fd = syscall(SYS_openat2, rt.rootfd, path, &how, sizeof how);
		if (fd >= 0)
			return (int)fd;
		/* EAGAIN: a concurrent rename was seen during ".." resolution; try again */
		if (errno != EAGAIN)
			return -1;
	}
	return -1;
}

/* in_root: resolve under the rootfs; otherwise a plain path (relative to the cwd) */
static int resolve(int in_root, const char *path, int flags)
{
	if (in_root)
		return rt_in_root_open(path, flags);
	return open(path, O_PATH | O_CLOEXEC | flags);
}

static void copy_str(char *dst, size_t n, const char *src)
{
	if (n)
		snprintf(dst, n, "%s", src);
}

/* chmod a directory we have just created (fchmod: no path lookup that could be raced to a symlink) */
static int set_mode(int dfd, const char *name, mode_t mode)
{
	int fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -1;
	int r = fchmod(fd, mode);
	int err = errno;
	close(fd);
	errno = err;
	return r;
}

/*
 * mkdir -p: creates missing components (parents 0755, the last one `mode`; the umask does not apply),
 * returns an O_PATH fd of the directory, or -1 with errno and the failing prefix
 * in `failed`.
 */
int rt_path_mkdir_p(int in_root, const char *path, mode_t mode, char *failed, size_t n)
{
	char prefix[PATH_MAX], work[PATH_MAX];
	size_t plen = 0;
	int err, links = 0;

	if (strlen(path) >= sizeof work) {
		copy_str(failed, n, path);
		errno = ENAMETOOLONG;
		return -1;
	}
	snprintf(work, sizeof work, "%s", path);
	if (!in_root && path[0] != '/')
		prefix[plen++] = '.';
	prefix[plen] = 0;
	int dfd = resolve(in_root, plen ? "." : "/", O_DIRECTORY);
	if (dfd < 0) {
		err = errno;
		copy_str(failed, n, plen ? "." : "/");
		errno = err;
		return -1;
	}
	const char *p = work;
	for (;;) {
		while (*p == '/')
			p++;
		if (!*p)
			break;
		const char *e = strchrnul(p, '/');
		size_t clen = (size_t)(e - p);
		const char *next = e + strspn(e, "/");
		int last = *next == 0;
		if (clen == 1 && p[0] == '.') {
			p = e;
			continue;
		}
		int dotdot = clen == 2 && p[0] == '.' && p[1] == '.';
		if (plen + 1 + clen >= sizeof prefix || clen > NAME_MAX) {
			err = ENAMETOOLONG;
			goto fail;
		}
		prefix[plen++] = '/';
		memcpy(prefix + plen, p, clen);
		plen += clen;
		prefix[plen] = 0;

		int fd = resolve(in_root, prefix, O_DIRECTORY);
		if (fd < 0 && errno == ENOENT && !dotdot) {
			char comp[NAME_MAX + 1];
			memcpy(comp, p, clen);
			comp[clen] = 0;
			char link[PATH_MAX], rest[PATH_MAX];
			ssize_t ll = in_root ? readlinkat(dfd, comp, link, sizeof link - 1) : -1;
			if (ll >= 0) {
				/*
				 * A symlink to what does not exist yet: go on with its target (as the kernel would) and
				 * create that. In root, an absolute target starts again at the rootfs and ".." stops
				 * there, so what is created stays inside the rootfs.
				 */
				link[ll] = 0;
				if (++links > 40) {
					err = ELOOP;
					goto fail;
				}
				if ((size_t)snprintf(rest, sizeof rest, "%s/%s", link, next) >= sizeof rest) {
					err = ENAMETOOLONG;
					goto fail;
				}
				memcpy(work, rest, strlen(rest) + 1);
				p = work;
				plen -= clen + 1;
				prefix[plen] = 0;
				if (link[0] == '/') {
					plen = 0;
					prefix[0] = 0;
					close(dfd);
					dfd = resolve(1, "/", O_DIRECTORY);
					if (dfd < 0) {
						err = errno;
						copy_str(failed, n, path);
						errno = err;
						return -1;
					}
				}
				continue;
			}
			mode_t m = last ? mode : 0755;
			if (mkdirat(dfd, comp, m) == 0) {
				/* the mode the plan asks for, not reduced by the umask runts was started with */
				if (set_mode(dfd, comp, m) < 0) {
					err = errno;
					goto fail;
				}
			} else if (errno != EEXIST) {
				err = errno;
				goto fail;
			}
			fd = resolve(in_root, prefix, O_DIRECTORY);
		}
		if (fd < 0) {
			err = errno;
			goto fail;
		}
		close(dfd);
		dfd = fd;
		p = e;
	}
	return dfd;
fail:
	copy_str(failed, n, plen ? prefix : path);
	close(dfd);
	errno = err;
	return -1;
}

/* the parent directory of path (created when missing); the last component goes to base */
int rt_path_parent_dir(int in_root, const char *path, char *base, size_t basen, char *failed, size_t n)
{
	char buf[PATH_MAX];
	size_t len = strlen(path);
	if (len >= sizeof buf) {
		copy_str(failed, n, path);
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(buf, path, len + 1);
	while (len > 1 && buf[len - 1] == '/')
		buf[--len] = 0;
	char *slash = strrchr(buf, '/');
	const char *b = slash ? slash + 1 : buf;
	if (!*b || strcmp(b, ".") == 0 || strcmp(b, "..") == 0 || strlen(b) >= basen) {
		copy_str(failed, n, path);
		errno = EINVAL;
		return -1;
	}
	snprintf(base, basen, "%s", b);
	const char *parent;
	if (!slash)
		parent = in_root ? "/" : ".";
	else if (slash == buf)
		parent = "/";
	else {
		*slash = 0;
		parent = buf;
	}
	return rt_path_mkdir_p(in_root, parent, 0755, failed, n);
}

int rt_parent_dir(const char *path, char *base, size_t basen, char *failed, size_t n)
{
	return rt_path_parent_dir(1, path, base, basen, failed, n);
}

/* an empty regular file at path unless something is there already (parents created) */
static int create_file_at(int in_root, const char *path, char *failed, size_t n, int links)
{
	char base[NAME_MAX + 1];
	int dfd = rt_path_parent_dir(in_root, path, base, sizeof base, failed, n);
	if (dfd < 0)
		return -1;
	int fd = openat(dfd, base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	int err = errno;
	if (fd < 0 && err == EEXIST && in_root) {
		/* a symlink to what does not exist yet: create the file it names (inside the rootfs, see rt_path_mkdir_p) */
		char link[PATH_MAX], next[PATH_MAX];
		ssize_t ll = readlinkat(dfd, base, link, sizeof link - 1);
		int t = ll >= 0 ? rt_in_root_open(path, 0) : -1;
		if (t >= 0)
			close(t);
		else if (ll >= 0 && errno == ENOENT) {
			close(dfd);
			link[ll] = 0;
			const char *slash = strrchr(path, '/');
			int plen = slash ? (int)(slash - path) : 0;
			if (links >= 40 || (size_t)(link[0] == '/' ? snprintf(next, sizeof next, "%s", link)
								: snprintf(next, sizeof next, "%.*s/%s", plen, path, link)) >= sizeof next) {
				copy_str(failed, n, path);
				errno = links >= 40 ? ELOOP : ENAMETOOLONG;
				return -1;
			}
			return create_file_at(in_root, next, failed, n, links + 1);
		}
	}
	close(dfd);
	if (fd < 0 && err != EEXIST) {
		copy_str(failed, n, path);
		errno = err;
		return -1;
	}
	if (fd >= 0) {
		/* 0644 whatever the umask runts was started with */
		int r = fchmod(fd, 0644);
		err = errno;
		close(fd);
		if (r < 0) {
			copy_str(failed, n, path);
			errno = err;
			return -1;
		}
	}
	return 0;
}

int rt_path_create_file(int in_root, const char *path, char *failed, size_t n)
{
	return create_file_at(in_root, path, failed, n, 0);
}

int rt_create_file(const char *path, char *failed, size_t n)
{
	return rt_path_create_file(1, path, failed, n);
}

