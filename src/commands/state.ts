import type { Globals } from '../action';
import { print } from '../io';
import { containerState } from '../container/state';

// Under Bun nothing here loads node:fs (io.ts).
export async function state(g: Globals, id: string) {
  await print(JSON.stringify(await containerState(g.root, id), null, 2) + '\n');
}
