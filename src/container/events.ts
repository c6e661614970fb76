// events: runc's events of a running container, as an async iterator: `stats` every interval, `oom` when the
// OOM killer strikes in the container's cgroups. Ends when the container stops.
import { RuntimeError } from '../errors';
import { checkId } from '../ids';
import type { SavedCgroup } from '../cgroups';
import type { Stats } from '../cgroups/stats';
import { containerDir, initAlive, readSaved, statusOf } from './state';

/** One event, as `runts events` prints it (a JSON line; counters above 2^53 are bigints here). */
export type ContainerEvent = { type: 'stats'; id: string; data: Stats } | { type: 'oom'; id: string };

/** An event as one JSON line's text (counters above 2^53 written exactly). */
export function eventJson(e: ContainerEvent): string {
  return (require('../cgroups/stats') as typeof import('../cgroups/stats')).jsonExact(e);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The stats of a running container once (`events --stats`). */
export function containerStats(root: string, id: string): ContainerEvent {
  const { s, cg } = running(root, id);
  const { readStats } = require('../cgroups/stats') as typeof import('../cgroups/stats');
  return { type: 'stats', id: s.id, data: readStats(cg) };
}

function running(root: string, id: string) {
  checkId(id);
  const dir = containerDir(root, id);
  const s = readSaved(dir, id);
  if (statusOf(dir, s) === 'stopped') throw new RuntimeError('container not running');
  if (!s.cgroup) throw new RuntimeError('container has no cgroups');
  const cg: SavedCgroup = s.cgroup;
  return { s, cg };
}

/**
 * The events of a running container: `stats` every `intervalMs` (the first at once), `oom` when the OOM
 * killer's counter grows. The container's state is checked when the iteration starts; it ends when the
 * container stops.
 */
export async function* containerEvents(root: string, id: string, intervalMs = 5000): AsyncGenerator<ContainerEvent, void, undefined> {
  if (!(intervalMs > 0)) throw new RuntimeError(`interval: must be greater than 0, got ${intervalMs}`);
  const { s, cg } = running(root, id);
  const { readStats, oomKills } = require('../cgroups/stats') as typeof import('../cgroups/stats');
  let kills = oomKills(cg) ?? 0;
  let next = Date.now();
  for (;;) {
    const alive = initAlive(s);
    const k = oomKills(cg);
    if (k !== undefined && k > kills) yield { type: 'oom', id: s.id };
    if (k !== undefined) kills = k;
    // the last look at the counter is after the container stopped: an OOM kill of the init is reported too
    if (!alive) return;
    if (Date.now() >= next) {
      yield { type: 'stats', id: s.id, data: readStats(cg) };
      next += intervalMs;
    }
    await sleep(Math.max(1, Math.min(100, next - Date.now())));
  }
}
