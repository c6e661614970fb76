import type { Globals } from '../action';
import { checkId } from '../ids';
import { RuntimeError } from '../errors';
import { containerDir, lockDir, readSaved, statusOf, unlock } from '../container/state';
import { setFrozen } from '../cgroups';

/** resume: thaw a paused container; returns once the kernel says THAWED. */
export function resume(g: Globals, id: string) {
  checkId(id);
  const dir = containerDir(g.root, id);
  const lock = lockDir(dir);
  try {
    const s = readSaved(dir, id);
    if (statusOf(dir, s) !== 'paused' || !s.cgroup) throw new RuntimeError('container not paused');
    setFrozen(s.cgroup, false);
  } finally {
    unlock(lock);
  }
}
