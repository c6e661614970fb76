// What a real create, run and exec load while they run (lazy requires included), read under Node from the compiled
// JavaScript (dist/, which the executable is built from): no node:fs, node:path, node:os or node:tty (under Bun
// node:fs + node:path cost a create 65-75 page faults, docs/performance.md). Under Node the stub is spawned with
// node:child_process (Bun.spawn under Bun), so that one is allowed here.
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RECORD_LOADS, REPO, baseConfig, bundle, cleanupContext, context, rt, stateOf, type Ctx } from '../helpers';

const DIST = path.join(REPO, 'dist');
const ADDON = path.join(REPO, 'native', 'addon', 'build', 'Release', 'runts_native.node');
const why = !fs.existsSync(path.join(DIST, 'cli.js')) || !fs.existsSync(ADDON) ? 'dist/ or the addon is not built (npm run build)' : '';
if (why) console.log(`builtins.test: skipped: ${why}`);

let seq = 0;

/** runts (dist/cli.js under Node) with `args`; the Node built-ins it loaded, recorded at exit. */
function traced(c: Ctx, args: string[]): { status: number | null; stderr: string; builtins: string[] } {
  const script = `
    ${RECORD_LOADS}
    process.on('exit', () => process.stderr.write('\\n' + JSON.stringify([...builtins].sort()) + '\\n'));
    process.argv = [process.argv[0], 'runts', '--root', ${JSON.stringify(c.root)}, ...${JSON.stringify(args)}];
    require(${JSON.stringify(path.join(DIST, 'cli.js'))});
  `;
  // stderr to a file: the container's init keeps what it inherited open, a pipe would not end
  const file = path.join(c.work, `.traced-${++seq}`);
  const err = fs.openSync(file, 'w+');
  let r;
  try {
    r = spawnSync(process.execPath, ['-e', script], { stdio: ['ignore', 'ignore', err], timeout: 30_000 });
  } finally {
    fs.closeSync(err);
  }
  const lines = fs.readFileSync(file, 'utf8').trimEnd().split('\n');
  return { status: r.status, builtins: JSON.parse(lines.pop()!), stderr: lines.join('\n').trim() };
}

describe.skipIf(!!why)('Node built-ins loaded by a real create, run and exec', () => {
  let c: Ctx;
  beforeAll(() => { c = context('builtins'); });
  afterAll(() => cleanupContext(c));

  it('create (and its --pid-file), run and exec load none but child_process (the stub\'s spawn under Node)', () => {
    const id = `bi${process.pid}`;
    const create = traced(c, ['create', '--bundle', bundle(c, baseConfig(['sleep', '60'])), '--pid-file', path.join(c.work, 'pid'), id]);
    expect([create.status, create.stderr]).toEqual([0, '']);
    expect(stateOf(c, id).status).toBe('created');
    const run = traced(c, ['run', '--bundle', bundle(c, baseConfig(['true'])), `${id}-r`]);
    expect([run.status, run.stderr]).toEqual([0, '']);
    expect(rt(c, ['start', id]).status).toBe(0);
    // exec as managers call it (argv.ts's fast path: commander would load node:fs and node:path itself), and plain
    const proc = path.join(c.work, 'process.json');
    fs.writeFileSync(proc, JSON.stringify({ args: ['true'], cwd: '/', user: { uid: 0, gid: 0 } }));
    const detached = traced(c, ['exec', '--process', proc, '--detach', '--pid-file', path.join(c.work, 'exec.pid'), id]);
    expect([detached.status, detached.stderr]).toEqual([0, '']);
    const plain = traced(c, ['exec', id, 'sh', '-c', 'exit 3']);
    expect([plain.status, plain.stderr]).toEqual([3, '']);
    for (const g of [create, run, detached, plain]) expect(g.builtins.filter((b) => b !== 'child_process')).toEqual([]);
    expect(rt(c, ['delete', '--force', id]).status).toBe(0);
  });
});
