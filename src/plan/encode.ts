// Binary encoding of the launch plan (format in docs/ARCHITECTURE.md).
import { Op, OpName, PLAN_MAGIC, PLAN_VERSION } from './ops';

export type Value =
  | { t: 'u64'; v: bigint | number }
  | { t: 'str'; v: string }
  | { t: 'strv'; v: string[] }
  | { t: 'u64v'; v: Array<bigint | number> };

export interface Step {
  op: OpName;
  args: Value[];
}

export const u64 = (v: bigint | number): Value => ({ t: 'u64', v });
export const str = (v: string): Value => ({ t: 'str', v });
export const strv = (v: string[]): Value => ({ t: 'strv', v });
export const u64v = (v: Array<bigint | number>): Value => ({ t: 'u64v', v });
export const step = (op: OpName, ...args: Value[]): Step => ({ op, args });

function toBig(v: bigint | number): bigint {
  if (typeof v === 'bigint') return BigInt.asUintN(64, v);
  if (!Number.isInteger(v)) throw new Error(`plan: ${v} is not an integer`);
  return BigInt.asUintN(64, BigInt(v));
}

class Writer {
  private chunks: Buffer[] = [];
  length = 0;
  push(b: Buffer) { this.chunks.push(b); this.length += b.length; }
  u32(n: number) { const b = Buffer.alloc(4); b.writeUInt32LE(n >>> 0); this.push(b); }
  u64(n: bigint | number) { const b = Buffer.alloc(8); b.writeBigUInt64LE(toBig(n)); this.push(b); }
  str(s: string) {
    const body = Buffer.from(s, 'utf8');
    if (body.includes(0)) throw new Error(`plan: string contains a NUL byte: ${JSON.stringify(s)}`);
    this.u32(body.length); this.push(body); this.push(Buffer.from([0]));
  }
  value(v: Value) {
    switch (v.t) {
      case 'u64': this.u64(v.v); break;
      case 'str': this.str(v.v); break;
      case 'strv': this.u32(v.v.length); for (const s of v.v) this.str(s); break;
      case 'u64v': this.u32(v.v.length); for (const n of v.v) this.u64(n); break;
    }
  }
  done(): Buffer { return Buffer.concat(this.chunks, this.length); }
}

export function encodePlan(steps: Step[]): Buffer {
  const w = new Writer();
  w.push(Buffer.from(PLAN_MAGIC, 'ascii'));
  w.u32(PLAN_VERSION);
  for (const s of steps) {
    const p = new Writer();
    for (const a of s.args) p.value(a);
    w.u32(Op[s.op]);
    w.u32(p.length);
    w.push(p.done());
  }
  return w.done();
}

/** A frame of the sync protocol: u32 type, u32 length, payload. */
export function frame(type: number, payload: Buffer = Buffer.alloc(0)): Buffer {
  const h = Buffer.alloc(8);
  h.writeUInt32LE(type, 0);
  h.writeUInt32LE(payload.length, 4);
  return Buffer.concat([h, payload]);
}

/** Frames from a stream socket. */
export class FrameReader {
  private buf: Buffer = Buffer.alloc(0);
  constructor(private onFrame: (type: number, payload: Buffer) => void) {}
  push(chunk: Buffer) {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    while (this.buf.length >= 8) {
      const len = this.buf.readUInt32LE(4);
      if (this.buf.length < 8 + len) break;
      const type = this.buf.readUInt32LE(0);
      const payload = this.buf.subarray(8, 8 + len);
      this.buf = this.buf.subarray(8 + len);
      this.onFrame(type, payload);
    }
  }
}

export function parseFrames(data: Buffer): Array<{ type: number; payload: Buffer }> {
  const out: Array<{ type: number; payload: Buffer }> = [];
  new FrameReader((type, payload) => out.push({ type, payload })).push(data);
  return out;
}
