// The child-side fd numbers of a launch (container/stub.ts): assigned once by stubFds for create and exec, and
// the host fds placed at them by childFdList (docs/ARCHITECTURE.md, "Launching the stub").
import { describe, expect, it } from 'vitest';
import { childFdList, stubFds } from '../../src/container/stub';

describe('stub fds', () => {
  it('create: preserved fds, then sync, listen, console, memfd last', () => {
    expect(stubFds({ preserve: 0, listen: true, console: false })).toEqual({ preserve: 0, sync: 3, listen: 4, memfd: 5 });
    expect(stubFds({ preserve: 2, listen: true, console: true })).toEqual({ preserve: 2, sync: 5, listen: 6, console: 7, memfd: 8 });
  });

  it('exec: no listen socket', () => {
    expect(stubFds({ preserve: 0, console: false })).toEqual({ preserve: 0, sync: 3, memfd: 4 });
    expect(stubFds({ preserve: 1, console: true })).toEqual({ preserve: 1, sync: 4, console: 5, memfd: 6 });
  });

  it('childFdList: the host fds in the child\'s order, the preserved ones at their own numbers', () => {
    const fds = stubFds({ preserve: 2, listen: true, console: true });
    expect(childFdList(fds, { sync: 40, listen: 41, console: 42, memfd: 43 })).toEqual([3, 4, 40, 41, 42, 43]);
    expect(childFdList(stubFds({ preserve: 0, console: false }), { sync: 40, memfd: 43 })).toEqual([40, 43]);
  });

  it('childFdList: a planned fd without a host fd (or the reverse) is an error, not a shifted list', () => {
    expect(() => childFdList(stubFds({ preserve: 0, console: true }), { sync: 40, memfd: 43 })).toThrow(/console missing/);
    expect(() => childFdList(stubFds({ preserve: 0, console: false }), { sync: 40, console: 41, memfd: 43 })).toThrow(/console not planned/);
    expect(() => childFdList({ preserve: 0, sync: 3, memfd: 5 }, { sync: 40, memfd: 43 })).toThrow(/not contiguous/);
  });
});
