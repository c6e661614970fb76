import type { Globals } from '../action';
import { stdout } from '../io';
import { containerState } from '../container/state';

// With the addon beside the executable nothing here loads node:fs (io.ts).
export function state(g: Globals, id: string) {
  stdout(JSON.stringify(containerState(g.root, id), null, 2) + '\n');
}
