import type { Globals } from '../action';
import { stdout } from '../io';
import { listContainers } from '../container/state';

export function list(g: Globals, o: { format: 'table' | 'json'; quiet: boolean }) {
  const rows = listContainers(g.root);
  if (o.quiet) {
    for (const r of rows) stdout(r.id + '\n');
    return;
  }
  if (o.format === 'json') {
    stdout(JSON.stringify(rows) + '\n');
    return;
  }
  const table = [['ID', 'PID', 'STATUS', 'BUNDLE', 'CREATED', 'OWNER'],
    ...rows.map((r) => [r.id, String(r.pid), r.status, r.bundle, r.created, r.owner || 'root'])];
  const w = table[0].map((_, i) => Math.max(...table.map((r) => r[i].length)));
  for (const r of table) stdout(r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(w[i] + 3))).join('') + '\n');
}
