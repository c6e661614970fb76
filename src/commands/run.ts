// run: create + start, wait for the init and exit with its status (container/run.ts).
import type { Globals } from '../action';
import { checkId } from '../ids';
import { runContainer } from '../container/run';

interface RunOpts { bundle: string; detach: boolean; pidFile?: string; consoleSocket?: string; pivot: boolean; preserveFds: number; keep: boolean; pidfdSocket?: string; subreaper?: boolean }

export async function run(g: Globals, id: string, o: RunOpts): Promise<number> {
  checkId(id);
  return runContainer({
    id, root: g.root, bundle: o.bundle, pidFile: o.pidFile, consoleSocket: o.consoleSocket, noPivot: !o.pivot,
    preserveFds: o.preserveFds, pidfdSocket: o.pidfdSocket, systemdCgroup: g.systemdCgroup,
    detach: o.detach, keep: o.keep, subreaper: o.subreaper,
  });
}
