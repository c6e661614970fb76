import type { Globals } from '../action';
import { checkId } from '../ids';
import { containerDir, lockDir, readSaved, unlock } from '../container/state';
import { parseSignal } from '../container/signals';
import { signalInit } from '../container/lifecycle';

export function kill(g: Globals, id: string, signal: string, o: { all: boolean }) {
  checkId(id);
  const sig = parseSignal(signal);
  const dir = containerDir(g.root, id);
  const lock = lockDir(dir);
  try {
    const s = readSaved(dir, id);
    // --all: every process in the container's cgroups (the init alone when it has none); only --all loads the
    // cgroups code
    // signal 0 only asks whether the container is alive: its init answers that (no freezing for --all)
    const all = o.all && sig !== 0 && (require('../cgroups') as typeof import('../cgroups')).signalAll(s.cgroup, sig);
    if (!all) signalInit(s, sig);
  } finally {
    unlock(lock);
  }
}
