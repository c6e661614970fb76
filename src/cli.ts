// runts: the command line, with runc's global flags and commands. The calls managers make on every container
// take the fast path (argv.ts: no commander); the rest, help and version go to the full parser (program.ts).
// Commands live in src/commands/<name>.ts and are loaded only when they run.
import { fastParse } from './argv';
import { runAction } from './action';

export type { Globals } from './action';

const fast = fastParse(process.argv.slice(2));
// Everything these commands do is done when the action settles (output is written synchronously): exit then,
// rather than let the engine wind down its event loop and threads first (≈ 1 ms of every call).
if (fast) void runAction(fast.globals, fast.load, fast.args).then(() => process.exit());
else require('./program');
