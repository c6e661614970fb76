import type { Globals } from '../action';
import { checkId } from '../ids';
import { containerDir, lockDir, unlock } from '../container/state';
import { deleteContainer } from '../container/lifecycle';
import { RuntimeError } from '../errors';

export function del(g: Globals, id: string, o: { force: boolean }) {
  checkId(id);
  const dir = containerDir(g.root, id);
  const lock = lockDir(dir);
  if (lock === undefined) {
    if (o.force) return;
    throw new RuntimeError(`container "${id}" does not exist`);
  }
  try {
    deleteContainer(dir, id, o.force);
  } finally {
    unlock(lock);
  }
}
