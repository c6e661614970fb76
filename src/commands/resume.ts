import type { Globals } from '../action';
import { resumeContainer } from '../container/lifecycle';

/** resume: thaw a paused container; returns once the kernel says THAWED. */
export function resume(g: Globals, id: string) {
  resumeContainer(g.root, id);
}
