import type { Globals } from '../action';
import { killContainer } from '../container/kill';

// --all loads the cgroups code; nothing else here does
export function kill(g: Globals, id: string, signal: string, o: { all: boolean }) {
  killContainer(g.root, id, signal, o.all);
}
