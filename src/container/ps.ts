// ps: the host pids of a container's processes (no lock, as in runc: a snapshot).
import { checkId } from '../ids';
import { allPids } from '../cgroups';
import { containerDir, readSaved } from './state';

/** The processes in the container's cgroups, sorted; without a cgroup (rootless, not delegated) those of its pid namespace. */
export function containerPids(root: string, id: string): number[] {
  checkId(id);
  const dir = containerDir(root, id);
  const s = readSaved(dir, id);
  const procs = require('./procs') as typeof import('./procs');
  return (procs.hasCgroup(s) ? allPids(s.cgroup) : procs.pidNsPids(s)).sort((a, b) => a - b);
}
