import { describe, expect, it } from 'vitest';
import { parseMountinfo, revealingMounts } from '../../src/plan/mountinfo';

const MI = [
  '22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw',
  '23 22 0:21 / /proc rw,nosuid,nodev,noexec,relatime shared:12 - proc proc rw',
  '24 22 0:22 / /sys rw,nosuid,nodev,noexec,relatime shared:2 - sysfs sysfs rw',
  '25 24 0:23 / /sys/fs/cgroup ro shared:3 - tmpfs tmpfs ro',
  '26 23 0:24 / /proc/sys/fs/binfmt_misc rw,relatime shared:13 - autofs systemd-1 rw',
  '27 22 0:21 /sys /run/some\\040dir rw - proc proc rw',
  '28 22 0:25 / /srv/ctr/rootfs/proc rw - proc proc rw',
  '29 22 0:26 / /srv/ctr/rootfs2/sys rw - sysfs sysfs rw',
  '30 22 0:27 / /srv/ctr/rootfs rw - proc proc rw',
  '',
].join('\n');

describe('mountinfo facts for --no-pivot', () => {
  it('parses root, mount point (unescaped) and type', () => {
    const m = parseMountinfo(MI);
    expect(m).toHaveLength(9);
    expect(m[5]).toEqual({ root: '/sys', mountPoint: '/run/some dir', fsType: 'proc' });
  });

  it('keeps full proc and sysfs mounts outside the rootfs, in order', () => {
    // /run/some dir is a proc subtree (not full); rootfs/proc and rootfs itself are the container's;
    // rootfs2 is another directory
    expect(revealingMounts(parseMountinfo(MI), '/srv/ctr/rootfs')).toEqual(['/proc', '/sys', '/srv/ctr/rootfs2/sys']);
    expect(revealingMounts(parseMountinfo(MI), '/srv/ctr/rootfs/')).toEqual(['/proc', '/sys', '/srv/ctr/rootfs2/sys']);
  });
});
