// The pure parts of a container's status: /proc/<pid>/stat parsing and which file says "frozen".
import { describe, expect, it } from 'vitest';
import { parseStat } from '../../src/container/state';
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
