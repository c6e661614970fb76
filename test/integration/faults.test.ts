// Page faults of the calls managers make, against the floor of the engine: an empty executable compiled with
// dist/runts' flags (scripts/bun-compile.mjs). Faults, unlike times, are exact and repeatable on a loaded machine
// (docs/performance.md). Needs perf(1) and the Bun compiler of node_modules; skipped with the reason otherwise.
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RUNTS, baseConfig, bundle, cleanupContext, context, hasProgram, rt, stateOf, type Ctx } from '../helpers';

const BUN = path.resolve(__dirname, '..', '..', 'node_modules', 'bun', 'bin', 'bun.exe');
const compiled = fs.existsSync(RUNTS) && fs.readFileSync(RUNTS).subarray(0, 4).toString('latin1') === '\x7fELF';
const why = !hasProgram('perf') ? 'perf is not installed' : !fs.existsSync(BUN) ? 'the Bun compiler is missing' : !compiled ? `${RUNTS} is not a compiled executable` : '';
if (why) console.log(`faults.test: skipped: ${why}`);

/** The median page faults of `argv` over five runs (and the exit status of the last). */
function faults(argv: string[]): { faults: number; status: number | null } {
  const n: number[] = [];
  let status: number | null = null;
  for (let i = 0; i < 5; i++) {
    const r = spawnSync('perf', ['stat', '-x,', '-e', 'page-faults', '--', ...argv], { encoding: 'utf8' });
    status = r.status;
    const line = r.stderr.split('\n').find((l) => l.includes('page-faults'));
    if (!line) throw new Error(`perf stat: ${r.stderr}`);
    n.push(Number(line.split(',')[0]));
  }
  n.sort((a, b) => a - b);
  return { faults: n[2], status };
}

describe.skipIf(!!why)('page faults per call', () => {
  let c: Ctx;
  let empty = 0;
  beforeAll(async () => {
    c = context('faults');
    const { compileEmpty } = await import('../../scripts/bun-compile.mjs');
    const exe = path.join(c.work, 'empty');
    compileEmpty(exe);
    empty = faults([exe]).faults;
    console.log(`an empty executable of the same engine and flags: ${empty} page faults`);
  }, 120_000);
  afterAll(() => cleanupContext(c));

  // The target (within 150 of the floor, issue #18) is held by `npm run bench`. These calls run a fresh copy of the
  // executable with its addon and stub (a file written long ago counts 5-10 more: docs/performance.md), as by hand.
  // Start is held to +152: before the fifth session's start changes (no typed array named for the read buffer or
  // the hook frame) a fresh copy counted start +153 to +156 here, now +144 to +147. Kill (numbers, as managers send
  // them, and names) gained less than the runner's spread (main 4909bb1 +154 to +157, now +152 to +153 by name,
  // +148 to +152 by number): +160. The others' bounds leave room for the load of a shared machine: node:fs (+138)
  // or the embedded addon's temporary file (+210) on their path, or start's first function naming Buffer (+178 to
  // +182), put them far above.
  it('start, state, kill and delete: no node:fs, the addon beside the executable, no typed array in start (start +152, kill +160, state +160, delete +175)', () => {
    const id = `pf${process.pid}`;
    const id9 = `pf9${process.pid}`;
    const fresh = path.join(c.work, 'fresh');
    fs.mkdirSync(fresh);
    const dist = path.dirname(fs.realpathSync(RUNTS));
    for (const f of fs.readdirSync(dist).filter((f) => f === 'runts' || /^runts-(init|native)-[0-9a-f]+(\.node)?$/.test(f))) {
      fs.copyFileSync(path.join(dist, f), path.join(fresh, f));
      fs.chmodSync(path.join(fresh, f), 0o755);
    }
    const exe = path.join(fresh, 'runts');
    const b = bundle(c, baseConfig(['sleep', '60']));
    expect(rt(c, ['create', '--bundle', b, id]).status).toBe(0);
    expect(rt(c, ['create', '--bundle', b, id9]).status).toBe(0);
    // start, kill and delete change the container: each is counted once
    const once = (args: string[]) => {
      const r = spawnSync('perf', ['stat', '-x,', '-e', 'page-faults', '--', exe, '--root', c.root, ...args], { encoding: 'utf8' });
      expect([r.status, r.stderr.split('\n').filter((l) => !l.includes('page-faults') && l.trim())]).toEqual([0, []]);
      return Number(r.stderr.split('\n').find((l) => l.includes('page-faults'))!.split(',')[0]);
    };
    const got: Record<string, number> = {};
    got.start = once(['start', id]);
    expect(rt(c, ['start', id9]).status).toBe(0);
    got.state = faults([exe, '--root', c.root, 'state', id]).faults;
    got.kill = once(['kill', id, 'KILL']);
    got['kill 9'] = once(['kill', id9, '9']);
    for (let i = 0; i < 100 && stateOf(c, id).status !== 'stopped'; i++) spawnSync('sleep', ['0.02']);
    for (let i = 0; i < 100 && stateOf(c, id9).status !== 'stopped'; i++) spawnSync('sleep', ['0.02']);
    got.delete = once(['delete', id]);
    expect(rt(c, ['delete', id9]).status).toBe(0);
    console.log(`page faults above the empty executable: ${Object.entries(got).map(([k, v]) => `${k} +${v - empty}`).join(', ')}`);
    const bound: Record<string, number> = { start: 152, state: 160, kill: 160, 'kill 9': 160, delete: 175 };
    for (const [k, v] of Object.entries(got)) expect(v, k).toBeLessThanOrEqual(empty + bound[k]);
  });

  // The config lives in config.json beside state.json, read only by the calls that use it (exec, update): a larger
  // config (a manager's seccomp profile and environment: 10-20 KB) costs start, state, kill and delete nothing.
  // When state.json held it, a 17 KB config cost each of them 45-52 faults more (docs/performance.md).
  it('start, state, kill and delete cost the same with a 20 KB config as with a small one (within 15 faults)', () => {
    const big = baseConfig(['sleep', '60']);
    for (let i = 0; i < 600; i++) big.process.env.push(`VARIABLE_${i}=a value of some length, ${i}`);
    const calls = (config: unknown, id: string): Record<string, number> => {
      expect(rt(c, ['create', '--bundle', bundle(c, config), id]).status).toBe(0);
      const once = (args: string[]) => {
        const r = spawnSync('perf', ['stat', '-x,', '-e', 'page-faults', '--', RUNTS, '--root', c.root, ...args], { encoding: 'utf8' });
        expect(r.status, r.stderr).toBe(0);
        return Number(r.stderr.split('\n').find((l) => l.includes('page-faults'))!.split(',')[0]);
      };
      const got: Record<string, number> = {};
      got.start = once(['start', id]);
      got.state = faults([RUNTS, '--root', c.root, 'state', id]).faults;
      got.kill = once(['kill', id, 'KILL']);
      for (let i = 0; i < 100 && stateOf(c, id).status !== 'stopped'; i++) spawnSync('sleep', ['0.02']);
      got.delete = once(['delete', id]);
      return got;
    };
    expect(JSON.stringify(big).length).toBeGreaterThan(20_000);
    const small = calls(baseConfig(['sleep', '60']), `pfs${process.pid}`);
    const large = calls(big, `pfl${process.pid}`);
    console.log(`page faults, small / 20 KB config: ${Object.keys(small).map((k) => `${k} ${small[k]}/${large[k]}`).join(', ')}`);
    for (const k of Object.keys(small)) expect([k, large[k] - small[k] <= 15]).toEqual([k, true]);
  });

  // JavaScriptCore's warm-up thread (JSCWarmUp) pre-allocates and touches 32 heap blocks once 64 MarkedBlocks are in
  // use: +110 to +160 faults of the call. These calls stay under that threshold (they reach 50-54 blocks,
  // docs/performance.md); a heap that grows back over it shows here as the gap between the call and the same call
  // with the warm-up turned off (BUN_JSC_* is read by the engine itself: for diagnosis, never set by a user's shell).
  it('start, state, kill and delete do not start the engine\'s heap warm-up thread', () => {
    const ids = [`pfw${process.pid}`, `pfd${process.pid}`];
    for (const id of ids) expect(rt(c, ['create', '--bundle', bundle(c, baseConfig(['sleep', '60'])), id]).status).toBe(0);
    const off = { ...process.env, BUN_JSC_useWarmUpMarkedBlocks: '0' };
    const once = (env: NodeJS.ProcessEnv, args: string[]) => {
      const r = spawnSync('perf', ['stat', '-x,', '-e', 'page-faults', '--', RUNTS, '--root', c.root, ...args], { encoding: 'utf8', env });
      expect(r.status).toBe(0);
      return Number(r.stderr.split('\n').find((l) => l.includes('page-faults'))!.split(',')[0]);
    };
    // [with the warm-up as it comes, with it off]: start, kill and delete change a container, so each runs once on
    // each of two containers; state and kill 0 (is it alive?) change nothing and are repeated
    const gap: Record<string, [number, number]> = {};
    gap.start = [once(process.env, ['start', ids[0]]), once(off, ['start', ids[1]])];
    const median = (env: NodeJS.ProcessEnv, args: string[]) => [0, 1, 2].map(() => once(env, args)).sort((a, b) => a - b)[1];
    gap.state = [median(process.env, ['state', ids[0]]), median(off, ['state', ids[0]])];
    gap['kill 0'] = [median(process.env, ['kill', ids[0], '0']), median(off, ['kill', ids[0], '0'])];
    gap.kill = [once(process.env, ['kill', ids[0], 'KILL']), once(off, ['kill', ids[1], 'KILL'])];
    for (const id of ids) for (let i = 0; i < 100 && stateOf(c, id).status !== 'stopped'; i++) spawnSync('sleep', ['0.02']);
    gap.delete = [once(process.env, ['delete', ids[0]]), once(off, ['delete', ids[1]])];
    console.log(`page faults, as built / warm-up off: ${Object.entries(gap).map(([k, [a, b]]) => `${k} ${a}/${b}`).join(', ')}`);
    for (const [k, [a, b]] of Object.entries(gap)) expect([k, a - b < 40]).toEqual([k, true]);
  });

  // The target (within 50 faults of the floor) is held by `npm run bench`, not here: counts move by a few percent
  // with the machine's load. This bound only catches the fast path being lost (the full command path costs
  // ~220 faults more than the floor).
  it('delete --force of a container that is gone (the shim\'s last call): the fast path, well under the full command path', () => {
    const log = path.join(c.work, 'log.json');
    fs.writeFileSync(log, '');
    const r = faults([RUNTS, '--root', c.root, '--log', log, '--log-format', 'json', 'delete', '--force', `gone${process.pid}`]);
    console.log(`delete --force of a gone container: ${r.faults} page faults`);
    expect(r.status).toBe(0);
    expect(fs.readdirSync(c.root)).toEqual([]);
    expect(r.faults).toBeLessThanOrEqual(empty + 120);
  });

  it('delete --force of a gone container with a --log file that does not exist yet: exit 0, the file made', () => {
    const log = path.join(c.work, 'new-log.json');
    const r = spawnSync(RUNTS, ['--root', c.root, '--log', log, '--log-format', 'json', 'delete', '--force', `gone${process.pid}`]);
    expect(r.status).toBe(0);
    expect(fs.existsSync(log)).toBe(true);
    expect(fs.readdirSync(c.root)).toEqual([]);
  });
});
