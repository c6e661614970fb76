import type { Globals } from '../action';
import { startContainer } from '../container/lifecycle';

export function start(g: Globals, id: string) {
  startContainer(g.root, id);
}
