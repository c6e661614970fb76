// The pure parts of a container's status: /proc/<pid>/stat parsing and which file says "frozen".
import { describe, expect, it } from 'vitest';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import {
  type Status, canDelete, canExec, canKill, canPause, canResume, canStart, canUpdate, parseStat, procStat,
} from '../../src/container/state';
import { createRequire } from 'module';

// access.ts takes the lock with the addon's flock, which state.ts requires lazily: vitest's transform cannot follow
// that require, so the lock tests load the compiled module (dist/, `npm run build`)
const access = () => createRequire(__filename)(path.resolve(__dirname, '../../dist/container/access.js')) as
  typeof import('../../src/container/access');
import { freezeFile, frozenIn } from '../../src/cgroups/types';

describe('parseStat', () => {
  it('reads the state letter and the start time after the last parenthesis of comm', () => {
    const fields = Array.from({ length: 50 }, (_, i) => String(i + 3));
    fields[0] = 'S';
    fields[19] = '123456';
    expect(parseStat(`42 (a) b (c)) ${fields.join(' ')}\n`)).toEqual({ state: 'S', startTime: '123456' });
    expect(parseStat(undefined)).toBeUndefined();
  });
});

describe('freezeFile and frozenIn', () => {
  it('uses the v1 freezer where there is one, else the cgroup2 cgroup.events', () => {
    expect(freezeFile({ version: 1, paths: { freezer: '/sys/fs/cgroup/freezer/c', 'cpu,cpuacct': '/x' }, unified: '/u/c', created: [] }))
      .toBe('/sys/fs/cgroup/freezer/c/freezer.state');
    expect(freezeFile({ version: 1, paths: { memory: '/m/c' }, unified: '/u/c', created: [] })).toBe('/u/c/cgroup.events');
    expect(freezeFile({ version: 2, paths: {}, unified: '/sys/fs/cgroup/c', created: [] })).toBe('/sys/fs/cgroup/c/cgroup.events');
    expect(freezeFile({ version: 1, paths: { memory: '/m/c' }, created: [] })).toBeUndefined();
    expect(freezeFile(undefined)).toBeUndefined();
  });
  it('reads both files', () => {
    expect(frozenIn('FROZEN\n')).toBe(true);
    expect(frozenIn('FREEZING\n')).toBe(false);
    expect(frozenIn('THAWED\n')).toBe(false);
    expect(frozenIn('populated 1\nfrozen 1\n')).toBe(true);
    expect(frozenIn('populated 1\nfrozen 0\n')).toBe(false);
    expect(frozenIn(undefined)).toBe(false);
  });
});

describe('the transitions each operation allows', () => {
  const ALL: Status[] = ['creating', 'created', 'running', 'paused', 'stopped'];
  const which = (p: (s: Status) => boolean) => ALL.filter(p);
  it('start: created only; pause: running or created; resume: paused only', () => {
    expect(which(canStart)).toEqual(['created']);
    expect(which(canPause)).toEqual(['created', 'running']);
    expect(which(canResume)).toEqual(['paused']);
  });
  it('update and kill: any live container; kill --all also a stopped one', () => {
    expect(which(canUpdate)).toEqual(['creating', 'created', 'running', 'paused']);
    expect(which((s) => canKill(s))).toEqual(['creating', 'created', 'running', 'paused']);
    expect(which((s) => canKill(s, true))).toEqual(ALL);
  });
  it('delete: stopped or created, any with --force', () => {
    expect(which((s) => canDelete(s))).toEqual(['created', 'stopped']);
    expect(which((s) => canDelete(s, true))).toEqual(ALL);
  });
  it('exec: a live container, a paused one only with --ignore-paused', () => {
    expect(which((s) => canExec(s))).toEqual(['creating', 'created', 'running']);
    expect(which((s) => canExec(s, true))).toEqual(['creating', 'created', 'running', 'paused']);
  });
});

describe('withContainer', () => {
  const withContainer: typeof import('../../src/container/access').withContainer = (...a) => access().withContainer(...a);
  const openContainer: typeof import('../../src/container/access').openContainer = (...a) => access().openContainer(...a);
  // a state dir whose "init" is this test process: running, or created while exec.sock exists, stopped for pid 0
  function fixture(pid: number, execSock = false): { root: string; id: string } {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'runts-access-'));
    const id = `c${pid}`;
    const dir = path.join(root, id);
    fs.mkdirSync(dir);
    const startTime = pid ? procStat(pid)!.startTime : '0';
    fs.writeFileSync(path.join(dir, 'state.json'), JSON.stringify({ id, pid, startTime, config: {} }));
    if (execSock) fs.writeFileSync(path.join(dir, 'exec.sock'), '');
    return { root, id };
  }

  it('runs fn with the checked status under the lock, and releases it', () => {
    const { root, id } = fixture(process.pid);
    expect(withContainer(root, id, canPause, (c) => c.status)).toBe('running');
    // released: taken again at once, also after fn threw
    expect(() => withContainer(root, id, 'any', () => { throw new Error('boom'); })).toThrow('boom');
    expect(withContainer(root, id, ['running'], (c) => c.saved.pid)).toBe(process.pid);
    fs.rmSync(root, { recursive: true });
  });

  it('refuses other statuses with the given message, without running fn', () => {
    const created = fixture(process.pid, true);
    let ran = false;
    expect(() => withContainer(created.root, created.id, canResume, () => { ran = true; }, () => 'container not paused'))
      .toThrow(/^container not paused$/);
    const stopped = fixture(0);
    expect(() => withContainer(stopped.root, stopped.id, canUpdate, () => { ran = true; })).toThrow(/^container not running$/);
    expect(ran).toBe(false);
    // the lock was released on refusal
    const c = openContainer(created.root, created.id, canStart);
    expect(c.status).toBe('created');
    c.release();
    for (const f of [created, stopped]) fs.rmSync(f.root, { recursive: true });
  });

  it('a container that does not exist', () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'runts-access-'));
    expect(() => withContainer(root, 'nope', 'any', () => 1)).toThrow('container "nope" does not exist');
    fs.rmSync(root, { recursive: true });
  });
});
