import type { Globals } from '../action';
import { stdout } from '../io';
import { RuntimeError } from '../errors';
import { containerPids } from '../container/ps';

/**
 * ps: the processes in the container's cgroups. json: the host pids as an array (what managers parse);
 * table: the host's `ps` (with the given options, -ef by default), keeping the header and the container's rows.
 */
export function ps(g: Globals, id: string, psArgs: string[], o: { format: string }) {
  const pids = containerPids(g.root, id);
  if (o.format === 'json') {
    stdout(JSON.stringify(pids) + '\n');
    return;
  }
  if (o.format !== 'table') throw new RuntimeError(`invalid format option: ${o.format}`);
  // node:child_process only for the table (the shim asks for json)
  const { spawnSync } = require('child_process') as typeof import('child_process');
  const r = spawnSync('ps', psArgs.length ? psArgs : ['-ef'], { encoding: 'utf8' });
  if (r.error) throw new RuntimeError(`run ps: ${r.error.message}`);
  if (r.status !== 0) throw new RuntimeError(`ps ${psArgs.join(' ')}: ${(r.stderr || '').trim() || `exit status ${r.status}`}`);
  const lines = r.stdout.split('\n');
  const col = (lines[0] ?? '').trim().split(/\s+/).indexOf('PID');
  if (col < 0) throw new RuntimeError('ps output has no PID column');
  const keep = new Set(pids);
  const out = [lines[0], ...lines.slice(1).filter((l) => l.trim() && keep.has(Number(l.trim().split(/\s+/)[col])))];
  stdout(out.join('\n') + '\n');
}
