// runts: the command line, with runc's global flags and commands. The calls managers make on every container
// take the fast path (argv.ts: no commander); the rest, help and version go to the full parser (program.ts).
// Commands live in src/commands/<name>.ts and are loaded only when they run. `delete --force` of a container
// that is already gone is answered before any of that is loaded (gone.ts).
import { deleteForceOfGone } from './gone';

const argv = process.argv.slice(2);
// only a call naming `delete` can be one (indexOf: a first `includes` costs more): the check reads process.env and
// Bun.mmap, which costs the other short calls 3-6 page faults (docs/performance.md)
if (argv.indexOf('delete') >= 0 && deleteForceOfGone(argv, (globalThis as { Bun?: { mmap(f: string): Uint8Array } }).Bun?.mmap)) process.exit(0);
// eslint-disable-next-line @typescript-eslint/no-var-requires
const { fastParse } = require('./argv') as typeof import('./argv');
const fast = fastParse(argv);
// Everything these commands do is done when the action settles (output is written synchronously): exit then,
// rather than let the engine wind down its event loop and threads first (≈ 1 ms of every call).
// eslint-disable-next-line @typescript-eslint/no-var-requires
if (fast) {
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const done = (require('./action') as typeof import('./action')).runAction(fast.globals, fast.load, fast.args);
  if (done) void done.then(() => process.exit());
  else process.exit();
}
else require('./program');
