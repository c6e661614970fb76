// The signal table that keeps node:os out of kill, checked against Node's own, and runc's signal forms.
import { describe, expect, it } from 'vitest';
import { constants } from 'os';
import { SIGNALS, parseSignal } from '../../src/container/signals';

describe('signals', () => {
  it('the table has the numbers os.constants.signals has on this machine', () => {
    for (const [name, n] of Object.entries(constants.signals)) {
      if (name === 'SIGUNUSED' || name === 'SIGINFO' || name === 'SIGLOST') continue;
      expect(SIGNALS[name], name).toBe(n);
    }
    for (const [name, n] of Object.entries(SIGNALS)) expect((constants.signals as Record<string, number>)[name], name).toBe(n);
  });

  it('parses names with or without SIG, any case, numbers and real-time signals', () => {
    expect(parseSignal('KILL')).toBe(9);
    expect(parseSignal('sigterm')).toBe(15);
    expect(parseSignal('SIGWINCH')).toBe(28);
    expect(parseSignal('9')).toBe(9);
    expect(parseSignal('RTMIN+2')).toBe(36);
    expect(parseSignal('SIGRTMAX')).toBe(64);
    expect(() => parseSignal('NOPE')).toThrow('invalid signal: NOPE');
    expect(() => parseSignal('constructor')).toThrow('invalid signal');
    expect(() => parseSignal('65')).toThrow('invalid signal');
    // signal 0 ("is it alive?"): runc sends it
    expect(parseSignal('0')).toBe(0);
  });
});
