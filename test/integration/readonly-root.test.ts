// `state` and `list` only read: a state root on a read-only mount must do for them (state.json was mapped
// read-write through Bun.mmap once, and `state` failed with EROFS there).
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { baseConfig, bundle, cleanupContext, context, rt, stateOf, type Ctx } from '../helpers';

describe('a read-only state root', () => {
  let c: Ctx;
  let ro: string;
  const id = `ro${process.pid}`;
  beforeAll(() => {
    c = context('roroot');
    expect(rt(c, ['create', '--bundle', bundle(c, baseConfig(['sleep', '60'])), id]).status).toBe(0);
    // the same directory again, bound read-only (a mount this test makes and removes)
    ro = path.join(c.work, 'ro');
    fs.mkdirSync(ro);
    expect(spawnSync('mount', ['--bind', c.root, ro]).status).toBe(0);
    expect(spawnSync('mount', ['-o', 'remount,bind,ro', ro]).status).toBe(0);
  });
  afterAll(() => {
    spawnSync('umount', [ro]);
    cleanupContext(c);
  });

  it('state and list read it', () => {
    expect(fs.readFileSync('/proc/self/mountinfo', 'utf8')).toMatch(new RegExp(` ${ro.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} ro,`));
    const onRo: Ctx = { root: ro, work: c.work };
    expect(stateOf(onRo, id)).toEqual({ ...stateOf(c, id) });
    expect(stateOf(onRo, id)).toMatchObject({ id, status: 'created' });
    const l = rt(onRo, ['list', '--format', 'json']);
    expect([l.status, l.stderr]).toEqual([0, '']);
    expect(JSON.parse(l.stdout).map((s: { id: string }) => s.id)).toEqual([id]);
  });
});
