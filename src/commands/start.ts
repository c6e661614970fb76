import type { Globals } from '../action';
import { checkId } from '../ids';
import { containerDir, lockDir, readSaved, unlock } from '../container/state';
import { startCreated } from '../container/lifecycle';

export function start(g: Globals, id: string) {
  checkId(id);
  const dir = containerDir(g.root, id);
  const lock = lockDir(dir);
  try {
    startCreated(dir, readSaved(dir, id));
  } finally {
    unlock(lock);
  }
}
