import { describe, expect, it } from 'vitest';
import { RuntimeError, fieldOf } from '../../src/errors';

describe('RuntimeError.field', () => {
  it('is read from "<field>: <reason>" when the field is a config.json path', () => {
    expect(fieldOf('process.cwd: must be an absolute path')).toBe('process.cwd');
    expect(fieldOf('config.json: linux.resources.memory.limit: must be an integer')).toBe('linux.resources.memory.limit');
    expect(fieldOf('mounts[2].options: "tmpcopyup" is only for tmpfs mounts')).toBe('mounts[2].options');
    expect(fieldOf('root.path: is required')).toBe('root.path');
    expect(new RuntimeError('process.rlimits[0].type: unknown rlimit "X"').field).toBe('process.rlimits[0].type');
  });

  it('is absent for other messages, and an explicit field wins', () => {
    for (const m of ['container "a" does not exist', 'invalid signal: SIGNOPE', 'exec: no command given', '--interval: empty duration', 'mount proc on /proc: permission denied', 'processes: x']) {
      expect(fieldOf(m), m).toBeUndefined();
      expect('field' in new RuntimeError(m), m).toBe(false);
    }
    expect(new RuntimeError('process: process.args: must be an array', 1, 'process.args').field).toBe('process.args');
  });
});
