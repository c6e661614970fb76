// The processes of a container that has no cgroup of its own (rootless without a delegated cgroup): every
// process in the init's pid namespace when that namespace is the container's own (exec'd processes join it),
// else the init alone. ps and kill --all use it where the cgroup cannot tell them.
import * as fs from 'fs';
import type { Saved } from './state';
import { initAlive } from './state';

function nsOf(pid: number | 'self'): string | undefined {
  try { return fs.readlinkSync(`/proc/${pid}/ns/pid`); } catch { return undefined; }
}

export function pidNsPids(s: Saved): number[] {
  if (!s.pid || !initAlive(s)) return [];
  const ns = nsOf(s.pid);
  if (!ns || ns === nsOf('self')) return [s.pid];
  const out: number[] = [];
  for (const e of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    if (nsOf(Number(e)) === ns) out.push(Number(e));
  }
  return out;
}

/** Does the container have a cgroup directory (any hierarchy)? */
export function hasCgroup(s: Saved): boolean {
  return !!s.cgroup && (Object.keys(s.cgroup.paths).length > 0 || !!s.cgroup.unified);
}
