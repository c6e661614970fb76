// A container without a mount namespace has its mounts in the runtime's (the host's) mount namespace. They all
// live in one tree: the stub binds the rootfs onto `<state dir>/rootfs` (a directory create makes before the stub
// runs, so it is the record: even a create killed at any step leaves it), makes that bind private at once, mounts
// everything below it and chroots there (src/plan/build.ts). Nothing else is ever mounted on a container's state
// dir, so every mount at that path is the container's own: delete, delete --force and a failed create detach them
// (with everything below) and remove the directory; nothing on the host that runts did not make is touched.
import { readText, realPath, removeEmptyDir } from '../io';
import { join } from '../paths';
import { RuntimeError, errnoText } from '../errors';
import { loadNative } from '../native';

/** Where a container without a mount namespace has its root, inside its state dir. */
export function hostRootOf(dir: string): string {
  return join(dir, 'rootfs');
}

function unescape(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, o) => String.fromCharCode(parseInt(o, 8)));
}

/** How many mounts sit on `point` (an exact mount point in this mount namespace). */
function mountsAt(point: string): number {
  let n = 0;
  for (const line of readText('/proc/self/mountinfo').split('\n')) {
    const f = line.split(' ');
    if (f.length > 4 && unescape(f[4]) === point) n++;
  }
  return n;
}

/**
 * Detach the container's mounts and remove their mount point. Throws (and the caller keeps the state dir, so
 * delete --force can try again) when that fails: the state dir is only removed once nothing is mounted in it.
 */
export function removeHostMounts(dir: string): void {
  const p = hostRootOf(dir);
  let real: string;
  try {
    real = realPath(p);
  } catch {
    return; // a container with a mount namespace (or one whose create never got that far)
  }
  const native = loadNative();
  for (let i = 0; i < 64 && mountsAt(real) > 0; i++) {
    try {
      native.detachMount(real);
    } catch (e) {
      throw new RuntimeError(`unmount ${real}: ${errnoText(e)}`);
    }
  }
  if (mountsAt(real) > 0) throw new RuntimeError(`unmount ${real}: still mounted`);
  try {
    removeEmptyDir(real);
  } catch (e) {
    throw new RuntimeError(`rmdir ${real}: ${errnoText(e)}`);
  }
}
