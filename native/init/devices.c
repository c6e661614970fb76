/* runts-init: device nodes (MKNOD) and bind-mounted host devices (BIND_DEVICE). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "stub.h"

void op_mknod(const char *path, uint64_t mode, uint64_t dev, uint64_t uid, uint64_t gid)
{
	char base[NAME_MAX + 1], failed[PATH_MAX];
	rt_need_root("MKNOD");
	int dfd = rt_parent_dir(path, base, sizeof base, failed, sizeof failed);
	if (dfd < 0)
		rt_fail(errno, "mknod %s", path);
	if (mknodat(dfd, base, (mode_t)mode, (dev_t)dev) < 0) {
		if (errno == EEXIST) {
			/* an existing node that is this device is left alone; any other file there is an error */
			struct stat st;
			if (fstatat(dfd, base, &st, AT_SYMLINK_NOFOLLOW) == 0 && (st.st_mode & S_IFMT) == ((mode_t)mode & S_IFMT) &&
			    ((!S_ISCHR(st.st_mode) && !S_ISBLK(st.st_mode)) || st.st_rdev == (dev_t)dev)) {
				close(dfd);
				return;
			}
			rt_fail(EEXIST, "mknod %s: a file that is not this device is in the way", path);
		}
		rt_fail(errno, "mknod %s", path);
	}
	if (fchownat(dfd, base, (uid_t)uid, (gid_t)gid, AT_SYMLINK_NOFOLLOW) < 0)
		rt_fail(errno, "chown %s", path);
	/* the umask must not reduce the mode; we created the node, so it is no symlink */
	if (fchmodat(dfd, base, (mode_t)(mode & 07777), 0) < 0)
		rt_fail(errno, "chmod %s", path);
	close(dfd);
}

void op_bind_device(const char *hostpath, const char *path)
{
	char failed[PATH_MAX], tp[32];
	rt_need_root("BIND_DEVICE");
	if (rt_create_file(path, failed, sizeof failed) < 0)
		rt_fail(errno, "create %s", failed);
	int fd = rt_in_root_open(path, 0);
	if (fd < 0)
		rt_fail(errno, "mount %s on %s", hostpath, path);
	if (mount(hostpath, rt_fdpath(fd, tp, sizeof tp), NULL, MS_BIND, NULL) < 0)
		rt_fail(errno, "mount %s on %s", hostpath, path);
	close(fd);
}
