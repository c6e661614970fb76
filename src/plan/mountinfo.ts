// Host mounts as facts for the planner: /proc/self/mountinfo parsed (the caller reads the file; pure here).
export interface HostMount {
  /** the mount's root within its filesystem ("/" for a full mount) */
  root: string;
  mountPoint: string;
  fsType: string;
}

function unescape(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, o) => String.fromCharCode(parseInt(o, 8)));
}

/** The lines of mountinfo (proc(5)) as HostMounts, in the file's order (parents before their children). */
export function parseMountinfo(text: string): HostMount[] {
  const out: HostMount[] = [];
  for (const line of text.split('\n')) {
    const sep = line.indexOf(' - ');
    if (sep < 0) continue;
    const left = line.slice(0, sep).split(' ');
    const fsType = line.slice(sep + 3).split(' ')[0] ?? '';
    if (left.length < 5 || !fsType) continue;
    out.push({ root: unescape(left[3]), mountPoint: unescape(left[4]), fsType });
  }
  return out;
}

/**
 * --no-pivot: the full procfs and sysfs mounts outside the rootfs (runc's msMoveRoot). After MS_MOVE + chroot
 * they stay in the container's mount namespace, out of sight but there, and the kernel lets a nested user
 * namespace mount procfs/sysfs as long as a fully visible one exists in it. Mounts at or below the rootfs are
 * the container's own.
 */
export function revealingMounts(mounts: HostMount[], rootfs: string): string[] {
  const r = rootfs.endsWith('/') ? rootfs.slice(0, -1) : rootfs;
  const out: string[] = [];
  for (const m of mounts) {
    if (m.root !== '/' || (m.fsType !== 'proc' && m.fsType !== 'sysfs')) continue;
    if (r === '' || m.mountPoint === r || m.mountPoint.startsWith(r + '/')) continue;
    if (!out.includes(m.mountPoint)) out.push(m.mountPoint);
  }
  return out;
}
