import type { Globals } from '../cli';
import { stdout } from '../io';
import { checkId } from '../ids';
import { containerDir, readSaved, statusOf, view } from '../container/state';

export function state(g: Globals, id: string) {
  checkId(id);
  const dir = containerDir(g.root, id);
  const s = readSaved(dir, id);
  stdout(JSON.stringify(view(s, statusOf(dir, s)), null, 2) + '\n');
}
