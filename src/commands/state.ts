import type { Globals } from '../action';
import { print } from '../io';
import { checkId } from '../ids';
import { containerDir, readSaved, statusOfAsync, view } from '../container/state';

// No lock, as in runc: a state is a snapshot. Under Bun nothing here loads node:fs (io.ts).
export async function state(g: Globals, id: string) {
  checkId(id);
  const dir = containerDir(g.root, id);
  const s = readSaved(dir, id);
  await print(JSON.stringify(view(s, await statusOfAsync(dir, s)), null, 2) + '\n');
}
