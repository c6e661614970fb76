// The plan's wire format (docs/ARCHITECTURE.md), byte for byte: what the C stub parses.
import { describe, expect, it } from 'vitest';
import { encodePlan, step, str, strv, u64, u64v } from '../../src/plan/encode';
import { Op, PLAN_VERSION } from '../../src/plan/ops';

const le32 = (n: number) => { const b = Buffer.alloc(4); b.writeUInt32LE(n); return b; };
const le64 = (n: bigint) => { const b = Buffer.alloc(8); b.writeBigUInt64LE(n); return b; };
const s = (t: string) => Buffer.concat([le32(Buffer.byteLength(t)), Buffer.from(t), Buffer.from([0])]);
const op = (name: keyof typeof Op, ...args: Buffer[]) => {
  const body = Buffer.concat(args);
  return Buffer.concat([le32(Op[name]), le32(body.length), body]);
};

describe('encodePlan', () => {
  it('writes the magic, the version and each step as op, length, arguments', () => {
    const got = encodePlan([
      step('HOSTNAME', str('héllo')),
      step('CLOSE', u64(2 ** 40 + 7)),
      step('CLOSE', u64(-1)),
      step('EXEC', strv(['/bin/sh', '']), strv([])),
      step('SETID_ROOT', u64v([1, 2n ** 63n])),
      step('PIVOT_ROOT'),
    ]);
    const want = Buffer.concat([
      Buffer.from('RTPL'), le32(PLAN_VERSION),
      op('HOSTNAME', s('héllo')),
      op('CLOSE', le64(2n ** 40n + 7n)),
      op('CLOSE', le64(2n ** 64n - 1n)),
      op('EXEC', le32(2), s('/bin/sh'), s(''), le32(0)),
      op('SETID_ROOT', le32(2), le64(1n), le64(2n ** 63n)),
      op('PIVOT_ROOT'),
    ]);
    expect(got.equals(want)).toBe(true);
  });
  it('grows past its first allocation', () => {
    const long = 'x'.repeat(5000);
    const got = encodePlan([step('HOSTNAME', str(long)), step('HOSTNAME', str(long))]);
    expect(got.equals(Buffer.concat([Buffer.from('RTPL'), le32(PLAN_VERSION), op('HOSTNAME', s(long)), op('HOSTNAME', s(long))]))).toBe(true);
  });
  it('refuses what the stub could not read back', () => {
    expect(() => encodePlan([step('CLOSE', u64(1.5))])).toThrow(/not an integer/);
    expect(() => encodePlan([step('HOSTNAME', str('a\0b'))])).toThrow(/NUL/);
  });
});

// start writes its one frame by hand (container/lifecycle.ts: loading plan/encode and plan/ops costs start page
// faults); it must be exactly what the protocol's `frame` makes.
describe('the start frame', () => {
  it("is frame(Msg.ACK, state) with startContainer hooks, and an empty ACK without", async () => {
    const { startFrame } = await import('../../src/container/lifecycle');
    const { frame } = await import('../../src/plan/encode');
    const { Msg } = await import('../../src/plan/ops');
    const { hookState } = await import('../../src/container/state');
    const saved = {
      ociVersion: '1.3.0', id: 'c1', pid: 42, startTime: '1', bundle: '/b', rootfs: '/b/rootfs', created: '', owner: '',
      annotations: { a: 'é' }, config: { ociVersion: '1.3.0', root: { path: 'rootfs' } },
    };
    expect(Buffer.from(startFrame(saved))).toEqual(frame(Msg.ACK));
    const hooked = { ...saved, config: { ...saved.config, hooks: { startContainer: [{ path: '/bin/true' }] } } };
    expect(Buffer.from(startFrame(hooked))).toEqual(frame(Msg.ACK, Buffer.from(hookState(hooked, 'created'))));
  });
});
