import type { Globals } from '../cli';
import { checkId } from '../ids';
import { containerDir, lockDir, readSaved, unlock } from '../container/state';
import { parseSignal } from '../container/signals';
import { signalInit } from '../container/lifecycle';

export function kill(g: Globals, id: string, signal: string, _o: { all: boolean }) {
  checkId(id);
  const sig = parseSignal(signal);
  const dir = containerDir(g.root, id);
  const lock = lockDir(dir);
  try {
    signalInit(readSaved(dir, id), sig);
  } finally {
    unlock(lock);
  }
}
