// The pure parts of a container's status: /proc/<pid>/stat parsing and which file says "frozen".
import { describe, expect, it } from 'vitest';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import {
  type Saved, type Status, canDelete, canExec, canKill, canPause, canResume, canStart, canUpdate, parseStat, procStat, readSaved,
  savedHooks, writeSaved,
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

// state.json names config.json, beside it, for the config, read on first use (exec, update): start, kill and delete
// read only state.json, which also holds the hooks (docs/performance.md). A state.json of the earlier form (the
// config as an object in it) reads as before.
describe('state.json and config.json', () => {
  const saved = (config: Record<string, unknown>): Saved => ({
    ociVersion: '1.3.0', id: 'c1', pid: 0, startTime: '0', bundle: '/b', rootfs: '/b/rootfs', created: 'now', owner: '', config: config as never,
  });
  const file = (dir: string, name: string) => JSON.parse(fs.readFileSync(path.join(dir, name), 'utf8'));

  it('the config in config.json, the hooks also in state.json; read back equal', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'runts-saved-'));
    const hooks = { poststop: [{ path: '/bin/true' }] };
    const config = { ociVersion: '1.3.0', process: { args: ['sh'] }, hooks };
    writeSaved(dir, saved(config));
    expect(file(dir, 'config.json')).toEqual(config);
    expect(file(dir, 'state.json')).toMatchObject({ id: 'c1', config: 'config.json', hooks });
    expect(fs.readdirSync(dir).sort()).toEqual(['config.json', 'state.json']);
    const read = readSaved(dir, 'c1');
    expect(savedHooks(read)).toEqual(hooks);
    expect(read.config).toEqual(config);
    fs.rmSync(dir, { recursive: true });
  });

  it('start, kill and delete do not read config.json: savedHooks and the other fields without it', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'runts-saved-'));
    writeSaved(dir, saved({ ociVersion: '1.3.0' }));
    fs.writeFileSync(path.join(dir, 'config.json'), '{"process":{'); // would throw if it were parsed
    const read = readSaved(dir, 'c1');
    expect([read.id, read.pid, savedHooks(read)]).toEqual(['c1', 0, {}]);
    expect(() => read.config).toThrow();
    fs.rmSync(dir, { recursive: true });
  });

  it('update: a changed config is written back', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'runts-saved-'));
    writeSaved(dir, saved({ ociVersion: '1.3.0' }));
    const read = readSaved(dir, 'c1');
    (read.config.linux ??= {}).resources = { pids: { limit: 7 } };
    writeSaved(dir, read);
    expect(readSaved(dir, 'c1').config.linux?.resources).toEqual({ pids: { limit: 7 } });
    expect(file(dir, 'state.json').config).toBe('config.json');
    fs.rmSync(dir, { recursive: true });
  });

  it('the earlier form (the config as an object in state.json) and a Saved made by create read their config\'s hooks', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'runts-saved-'));
    const hooks = { poststart: [{ path: '/bin/true' }] };
    fs.writeFileSync(path.join(dir, 'state.json'), JSON.stringify(saved({ ociVersion: '1.3.0', hooks })));
    const read = readSaved(dir, 'c1');
    expect(read.config.hooks).toEqual(hooks);
    expect(savedHooks(read)).toEqual(hooks);
    expect(savedHooks(saved({ hooks }))).toEqual(hooks);
    fs.rmSync(dir, { recursive: true });
  });
});
