import type { Globals } from '../cli';
import { checkId } from '../ids';
import { containerDir, lockDir, readSaved, unlock } from '../container/state';
import { parseSignal } from '../container/signals';
import { signalInit } from '../container/lifecycle';
import { signalAll } from '../cgroups';

export function kill(g: Globals, id: string, signal: string, o: { all: boolean }) {
  checkId(id);
  const sig = parseSignal(signal);
  const dir = containerDir(g.root, id);
  const lock = lockDir(dir);
  try {
    const s = readSaved(dir, id);
    // --all: every process in the container's cgroups (the init alone when it has none)
    if (!(o.all && signalAll(s.cgroup, sig))) signalInit(s, sig);
  } finally {
    unlock(lock);
  }
}
