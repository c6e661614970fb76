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

const utf8 = new TextEncoder();

/**
 * The plan's bytes (little-endian), written into one growing array by a few local helpers and indexed loops:
 * a create runs this once, cold, in the interpreter, where a Buffer per value or a class with for-of loops
 * cost 0.7-1 ms of every create; this takes about 0.1 ms.
 */
export function encodePlan(steps: Step[]): Buffer {
  let buf = new Uint8Array(4096);
  let view = new DataView(buf.buffer);
  let len = 0;
  const room = (n: number) => {
    if (len + n <= buf.length) return;
    const next = new Uint8Array(Math.max(buf.length * 2, len + n));
    next.set(buf.subarray(0, len));
    buf = next;
    view = new DataView(next.buffer);
  };
  const u32 = (n: number) => { room(4); view.setUint32(len, n >>> 0, true); len += 4; };
  const u64 = (n: bigint | number) => {
    room(8);
    if (typeof n === 'number' && Number.isSafeInteger(n) && n >= 0) {
      view.setUint32(len, n % 0x100000000, true);
      view.setUint32(len + 4, Math.floor(n / 0x100000000), true);
    } else {
      view.setBigUint64(len, toBig(n), true);
    }
    len += 8;
  };
  // u32 length, the UTF-8 bytes, a NUL
  const str = (s: string) => {
    room(4 + s.length * 3 + 1);
    const { written } = utf8.encodeInto(s, buf.subarray(len + 4));
    if (buf.subarray(len + 4, len + 4 + written).includes(0)) throw new Error(`plan: string contains a NUL byte: ${JSON.stringify(s)}`);
    view.setUint32(len, written, true);
    len += 4 + written;
    buf[len++] = 0;
  };
  // the magic (ASCII, no length or NUL), the version
  for (; len < PLAN_MAGIC.length; len++) buf[len] = PLAN_MAGIC.charCodeAt(len);
  u32(PLAN_VERSION);
  for (let i = 0; i < steps.length; i++) {
    const args = steps[i].args;
    u32(Op[steps[i].op]);
    const at = len;
    u32(0); // the arguments' length, known below
    for (let j = 0; j < args.length; j++) {
      const a = args[j];
      if (a.t === 'u64') u64(a.v);
      else if (a.t === 'str') str(a.v);
      else if (a.t === 'strv') { u32(a.v.length); for (let k = 0; k < a.v.length; k++) str(a.v[k]); }
      else { u32(a.v.length); for (let k = 0; k < a.v.length; k++) u64(a.v[k]); }
    }
    view.setUint32(at, len - at - 4, true);
  }
  return Buffer.from(buf.buffer, 0, len);
}

/** A frame of the sync protocol: u32 type, u32 length, payload. */
export function frame(type: number, payload: Uint8Array = Buffer.alloc(0)): Buffer {
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
