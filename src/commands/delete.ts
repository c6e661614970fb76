import type { Globals } from '../action';
import { deleteById } from '../container/lifecycle';

export function del(g: Globals, id: string, o: { force: boolean }) {
  deleteById(g.root, id, o.force);
}
