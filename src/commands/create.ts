import type { Globals } from '../action';
import { checkId } from '../ids';
import { createContainer } from '../container/launch';

export async function create(g: Globals, id: string, o: { bundle: string; pidFile?: string; consoleSocket?: string; pivot: boolean; preserveFds: number; pidfdSocket?: string }) {
  checkId(id);
  await createContainer({ id, root: g.root, bundle: o.bundle, pidFile: o.pidFile, consoleSocket: o.consoleSocket, noPivot: !o.pivot, preserveFds: o.preserveFds, pidfdSocket: o.pidfdSocket, systemdCgroup: g.systemdCgroup });
}
