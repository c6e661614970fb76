import type { Globals } from '../action';
import { pauseContainer } from '../container/lifecycle';

/** pause: freeze every process of a running (or created) container; returns once the kernel says FROZEN. */
export function pause(g: Globals, id: string) {
  pauseContainer(g.root, id);
}
