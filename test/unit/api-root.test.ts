// The API decides --rootless and the default state root as the CLI does (src/action.ts resolveRootless).
import { afterEach, describe, expect, it } from 'vitest';
import { Runtime } from '../../src/api';
import { isRootless } from '../../src/rootless';

describe('Runtime: the state root and --rootless, as the CLI decides them', () => {
  const saved = process.env.XDG_RUNTIME_DIR;
  afterEach(() => {
    if (saved === undefined) delete process.env.XDG_RUNTIME_DIR;
    else process.env.XDG_RUNTIME_DIR = saved;
    if (process.geteuid?.() === 0) new Runtime({ rootless: 'false' });
  });

  it('an explicit root is kept', () => {
    expect(new Runtime({ root: '/tmp/x-root' }).root).toBe('/tmp/x-root');
  });

  it('rootless: true uses $XDG_RUNTIME_DIR/runts and marks the process rootless', () => {
    process.env.XDG_RUNTIME_DIR = '/run/user/4242/';
    const rt = new Runtime({ rootless: 'true' });
    expect(rt.root).toBe('/run/user/4242/runts');
    expect(isRootless()).toBe(true);
  });

  const notRoot = process.geteuid?.() !== 0;
  if (notRoot) console.log('skip "rootless: false (as root)": the default root /run/runts is root\'s only (euid is not 0)');
  it.skipIf(notRoot)('rootless: false (as root) uses /run/runts', () => {
    process.env.XDG_RUNTIME_DIR = '/run/user/4242';
    expect(new Runtime({ rootless: 'false' }).root).toBe('/run/runts');
    expect(isRootless()).toBe(false);
  });

  it('a bad rootless value is a RuntimeError naming it', () => {
    expect(() => new Runtime({ rootless: 'maybe' as 'auto' })).toThrow(/^rootless: must be auto, true or false, got "maybe"$/);
  });
});
