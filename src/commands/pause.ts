import type { Globals } from '../action';
import { checkId } from '../ids';
import { RuntimeError } from '../errors';
import { containerDir, lockDir, readSaved, statusOf, unlock } from '../container/state';
import { setFrozen } from '../cgroups';

/** pause: freeze every process of a running (or created) container; returns once the kernel says FROZEN. */
export function pause(g: Globals, id: string) {
  checkId(id);
  const dir = containerDir(g.root, id);
  const lock = lockDir(dir);
  try {
    const s = readSaved(dir, id);
    const status = statusOf(dir, s);
    if (status !== 'running' && status !== 'created') throw new RuntimeError('container not running');
    if (!s.cgroup) throw new RuntimeError('container has no cgroups to freeze');
    setFrozen(s.cgroup, true);
  } finally {
    unlock(lock);
  }
}
