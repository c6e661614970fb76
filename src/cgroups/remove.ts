// Removing a container's cgroups (delete, and a create that failed), through io.ts's file functions: `delete`
// of a stopped container loads this and no node:fs or the rest of the cgroups code (docs/performance.md).
import { RuntimeError, errnoText } from '../errors';
import { removeEmptyDir, sleepMs, subdirs } from '../io';
import type { SavedCgroup } from './types';

const systemdMod = () => require('./systemd') as typeof import('./systemd');

/**
 * Remove a cgroup directory (it must hold no process; the kernel refuses with EBUSY while the last ones exit,
 * so this retries for up to `timeoutMs`). A directory that is already gone is fine.
 */
export function removeDir(d: string, timeoutMs = 2000): void {
  let end = 0;
  for (let wait = 1; ; wait = Math.min(wait * 2, 50)) {
    try {
      removeEmptyDir(d);
      return;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return;
      if (code !== 'EBUSY' && code !== 'ENOTEMPTY') throw new RuntimeError(`rmdir ${d}: ${errnoText(e)}`);
      if (!end) end = Date.now() + timeoutMs;
      else if (Date.now() > end) throw new RuntimeError(`rmdir ${d}: ${errnoText(e)}`);
      // a child cgroup we did not create keeps it busy: leave it (ENOTEMPTY means sub-directories)
      if (code === 'ENOTEMPTY' && subdirs(d).length) {
        throw new RuntimeError(`rmdir ${d}: it holds cgroups runts did not create`);
      }
      sleepMs(wait);
    }
  }
}

/** Remove a directory runts created, and any cgroups the container made below it. */
function removeTree(d: string): void {
  // the usual case, a leaf the container made nothing below: one rmdir, no listing
  try {
    removeEmptyDir(d);
    return;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
  }
  let names: string[];
  try {
    names = subdirs(d);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw e;
  }
  for (const n of names) removeTree(`${d}/${n}`);
  removeDir(d);
}

/**
 * delete: remove the cgroups this container created (its processes are gone), never others. The container's
 * own directories (with whatever it made below them) go; a created parent is removed only when empty.
 */
export function destroyCgroups(s: SavedCgroup | undefined): void {
  if (!s) return;
  const errors: string[] = [];
  if (s.systemd?.started) {
    // systemd kills what is left in the scope and removes its directories
    try { systemdMod().stopScope(s.systemd.unit); } catch (e) { errors.push((e as Error).message); }
  }
  // every directory of the container's cgroups: the v1 ones and the cgroup2 one
  const leaves = Object.values(s.paths);
  if (s.unified) leaves.push(s.unified);
  for (let i = s.created.length - 1; i >= 0; i--) {
    const d = s.created[i];
    try {
      if (leaves.includes(d)) {
        removeTree(d);
      } else {
        try { removeEmptyDir(d); } catch (e) {
          const code = (e as NodeJS.ErrnoException).code;
          // another container's cgroup lives in it, or it is gone already
          if (code !== 'ENOTEMPTY' && code !== 'EBUSY' && code !== 'ENOENT') throw e;
        }
      }
    } catch (e) {
      errors.push((e as Error).message);
    }
  }
  if (errors.length) throw new RuntimeError(`remove cgroups: ${errors.join('; ')}`);
}
