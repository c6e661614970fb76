import type { Globals } from '../action';
import { checkId } from '../ids';
import { stdout } from '../io';
import { RuntimeError } from '../errors';

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

/**
 * events: runc's JSON events, one per line: {"type":"stats","id":..,"data":{cpu,memory,pids,blkio,hugetlb}}
 * every --interval, and {"type":"oom","id":..} when the OOM killer strikes in the container. --stats prints
 * the stats once. The stream ends when the container stops.
 */
export async function events(g: Globals, id: string, o: { stats: boolean; interval: string }) {
  const { containerEvents, containerStats, eventJson } = require('../container/events') as typeof import('../container/events');
  if (o.stats) {
    stdout(eventJson(containerStats(g.root, id)) + '\n');
    return;
  }
  checkId(id);
  const interval = parseDuration(o.interval);
  for await (const e of containerEvents(g.root, id, interval)) stdout(eventJson(e) + '\n');
}
