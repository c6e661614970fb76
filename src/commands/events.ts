import type { Globals } from '../action';
import { checkId } from '../ids';
import { stdout } from '../io';
import { RuntimeError } from '../errors';
import { containerDir, initAlive, readSaved, statusOf } from '../container/state';
import type { SavedCgroup } from '../cgroups';

/** A Go duration as runc takes it: "5s", "100ms", "1m30s", "2h". */
export function parseDuration(v: string): number {
  const units: Record<string, number> = { ns: 1e-6, us: 1e-3, 'µs': 1e-3, ms: 1, s: 1000, m: 60000, h: 3600000 };
  let ms = 0;
  let rest = v.trim();
  if (rest === '') throw new RuntimeError('--interval: empty duration');
  while (rest) {
    const m = /^(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/.exec(rest);
    if (!m) throw new RuntimeError(`--interval: invalid duration "${v}" (like 5s, 500ms, 1m)`);
    ms += Number(m[1]) * units[m[2]];
    rest = rest.slice(m[0].length);
  }
  if (ms <= 0) throw new RuntimeError(`--interval: duration must be greater than 0, got "${v}"`);
  return ms;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * events: runc's JSON events, one per line: {"type":"stats","id":..,"data":{cpu,memory,pids,blkio,hugetlb}}
 * every --interval, and {"type":"oom","id":..} when the OOM killer strikes in the container. --stats prints
 * the stats once. The stream ends when the container stops.
 */
export async function events(g: Globals, id: string, o: { stats: boolean; interval: string }) {
  checkId(id);
  const dir = containerDir(g.root, id);
  const s = readSaved(dir, id);
  if (statusOf(dir, s) === 'stopped') throw new RuntimeError('container not running');
  if (!s.cgroup) throw new RuntimeError('container has no cgroups');
  const { readStats, oomKills, jsonExact } = require('../cgroups/stats') as typeof import('../cgroups/stats');
  const cg: SavedCgroup = s.cgroup;
  const emit = (type: string, data?: unknown) => stdout(jsonExact(data === undefined ? { type, id } : { type, id, data }) + '\n');
  if (o.stats) {
    emit('stats', readStats(cg));
    return;
  }
  const interval = parseDuration(o.interval);
  let kills = oomKills(cg) ?? 0;
  let next = Date.now();
  for (;;) {
    const alive = initAlive(s);
    const k = oomKills(cg);
    if (k !== undefined && k > kills) emit('oom');
    if (k !== undefined) kills = k;
    // the last look at the counter is after the container stopped: an OOM kill of the init is reported too
    if (!alive) return;
    if (Date.now() >= next) {
      emit('stats', readStats(cg));
      next += interval;
    }
    await sleep(Math.max(1, Math.min(100, next - Date.now())));
  }
}
