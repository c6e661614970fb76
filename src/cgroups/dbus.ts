// A tiny synchronous D-Bus client for the systemd cgroup driver: SASL EXTERNAL over a unix socket, method calls,
// and the signals they are waiting for. Hand-written rather than an npm library (dbus-next, measured: ~1 s just to
// require under node and Bun, async only, and its optional X11 transport does not bundle into the single
// executable), because runts' commands run synchronously without an event loop. Only what systemd's Manager API
// needs: the basic types, strings, arrays, structs, variants and dict entries, little-endian.
import * as fs from 'fs';
import { RuntimeError } from '../errors';
import { writeAll } from '../io';
import { loadNative } from '../native';

/** A variant value: its signature and the value. */
export type Variant = [string, DBusValue];
export type DBusValue = number | bigint | string | boolean | Buffer | DBusValue[] | Variant;

const enum MsgType { CALL = 1, RETURN = 2, ERROR = 3, SIGNAL = 4 }

function alignOf(c: string): number {
  switch (c) {
    case 'y': case 'g': case 'v': return 1;
    case 'n': case 'q': return 2;
    case 'b': case 'i': case 'u': case 's': case 'o': case 'a': case 'h': return 4;
    case 'x': case 't': case 'd': case '(': case '{': return 8;
  }
  throw new Error(`D-Bus: unsupported type ${c}`);
}

/** The first complete type of `sig` from `i`, and where the next starts. */
function oneType(sig: string, i: number): [string, number] {
  const c = sig[i];
  if (c === 'a') {
    const [, end] = oneType(sig, i + 1);
    return [sig.slice(i, end), end];
  }
  if (c === '(' || c === '{') {
    const close = c === '(' ? ')' : '}';
    let j = i + 1;
    while (sig[j] !== close) {
      if (j >= sig.length) throw new Error(`D-Bus: bad signature ${sig}`);
      j = oneType(sig, j)[1];
    }
    return [sig.slice(i, j + 1), j + 1];
  }
  return [c, i + 1];
}

export function splitSignature(sig: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < sig.length;) {
    const [t, next] = oneType(sig, i);
    out.push(t);
    i = next;
  }
  return out;
}

class Writer {
  buf = Buffer.alloc(256);
  len = 0;
  private room(n: number) {
    if (this.len + n <= this.buf.length) return;
    const b = Buffer.alloc(Math.max(this.buf.length * 2, this.len + n));
    this.buf.copy(b, 0, 0, this.len);
    this.buf = b;
  }
  align(n: number) {
    const pad = (n - (this.len % n)) % n;
    this.room(pad);
    this.buf.fill(0, this.len, this.len + pad);
    this.len += pad;
  }
  bytes(b: Buffer) { this.room(b.length); b.copy(this.buf, this.len); this.len += b.length; }
  u8(v: number) { this.room(1); this.buf.writeUInt8(v, this.len); this.len += 1; }
  u32(v: number) { this.align(4); this.room(4); this.buf.writeUInt32LE(v >>> 0, this.len); this.len += 4; }
  value(t: string, v: DBusValue): void {
    switch (t[0]) {
      case 'y': this.u8(v as number); return;
      case 'b': this.u32(v ? 1 : 0); return;
      case 'n': this.align(2); this.room(2); this.buf.writeInt16LE(v as number, this.len); this.len += 2; return;
      case 'q': this.align(2); this.room(2); this.buf.writeUInt16LE(v as number, this.len); this.len += 2; return;
      case 'i': this.align(4); this.room(4); this.buf.writeInt32LE(v as number, this.len); this.len += 4; return;
      case 'u': this.u32(v as number); return;
      case 'x': this.align(8); this.room(8); this.buf.writeBigInt64LE(BigInt(v as number | bigint), this.len); this.len += 8; return;
      case 't': this.align(8); this.room(8); this.buf.writeBigUInt64LE(BigInt(v as number | bigint), this.len); this.len += 8; return;
      case 's': case 'o': {
        const b = Buffer.from(v as string, 'utf8');
        this.u32(b.length); this.bytes(b); this.u8(0); return;
      }
      case 'g': {
        const b = Buffer.from(v as string, 'ascii');
        this.u8(b.length); this.bytes(b); this.u8(0); return;
      }
      case 'v': {
        const [sig, val] = v as Variant;
        this.value('g', sig);
        this.value(sig, val);
        return;
      }
      case 'a': {
        const elem = t.slice(1);
        this.u32(0);
        const lenAt = this.len - 4;
        this.align(alignOf(elem[0]));
        const start = this.len;
        const items = elem[0] === 'y' && Buffer.isBuffer(v) ? [...v] : (v as DBusValue[]);
        for (const item of items) this.value(elem, item);
        this.buf.writeUInt32LE(this.len - start, lenAt);
        return;
      }
      case '(': case '{': {
        this.align(8);
        const parts = splitSignature(t.slice(1, -1));
        const vals = v as DBusValue[];
        parts.forEach((p, i) => this.value(p, vals[i]));
        return;
      }
    }
    throw new Error(`D-Bus: unsupported type ${t}`);
  }
}

class Reader {
  constructor(private buf: Buffer, public pos: number, private base: number) {}
  align(n: number) { this.pos += (n - ((this.pos - this.base) % n)) % n; }
  value(t: string): DBusValue {
    const b = this.buf;
    switch (t[0]) {
      case 'y': return b.readUInt8(this.pos++);
      case 'b': this.align(4); this.pos += 4; return b.readUInt32LE(this.pos - 4) !== 0;
      case 'n': this.align(2); this.pos += 2; return b.readInt16LE(this.pos - 2);
      case 'q': this.align(2); this.pos += 2; return b.readUInt16LE(this.pos - 2);
      case 'i': this.align(4); this.pos += 4; return b.readInt32LE(this.pos - 4);
      case 'u': case 'h': this.align(4); this.pos += 4; return b.readUInt32LE(this.pos - 4);
      case 'x': this.align(8); this.pos += 8; return b.readBigInt64LE(this.pos - 8);
      case 't': this.align(8); this.pos += 8; return b.readBigUInt64LE(this.pos - 8);
      case 'd': this.align(8); this.pos += 8; return b.readDoubleLE(this.pos - 8);
      case 's': case 'o': {
        this.align(4);
        const n = b.readUInt32LE(this.pos);
        const s = b.toString('utf8', this.pos + 4, this.pos + 4 + n);
        this.pos += 4 + n + 1;
        return s;
      }
      case 'g': {
        const n = b.readUInt8(this.pos);
        const s = b.toString('ascii', this.pos + 1, this.pos + 1 + n);
        this.pos += 1 + n + 1;
        return s;
      }
      case 'v': {
        const sig = this.value('g') as string;
        return [sig, this.value(sig)];
      }
      case 'a': {
        this.align(4);
        const n = b.readUInt32LE(this.pos);
        this.pos += 4;
        const elem = t.slice(1);
        this.align(alignOf(elem[0]));
        const end = this.pos + n;
        if (elem === 'y') { const out = b.subarray(this.pos, end); this.pos = end; return Buffer.from(out); }
        const out: DBusValue[] = [];
        while (this.pos < end) out.push(this.value(elem));
        return out;
      }
      case '(': case '{': {
        this.align(8);
        return splitSignature(t.slice(1, -1)).map((p) => this.value(p));
      }
    }
    throw new Error(`D-Bus: unsupported type ${t}`);
  }
}

export interface Message {
  type: number;
  serial: number;
  replySerial?: number;
  path?: string;
  iface?: string;
  member?: string;
  errorName?: string;
  sender?: string;
  signature: string;
  body: DBusValue[];
}

/** Encode one message (pure: unit-tested). */
export function encodeMessage(m: Omit<Message, 'replySerial' | 'errorName' | 'sender'> & { destination?: string }): Buffer {
  const body = new Writer();
  splitSignature(m.signature).forEach((t, i) => body.value(t, m.body[i]));
  const fields: DBusValue[] = [];
  if (m.path) fields.push([1, ['o', m.path]]);
  if (m.iface) fields.push([2, ['s', m.iface]]);
  if (m.member) fields.push([3, ['s', m.member]]);
  if (m.destination) fields.push([6, ['s', m.destination]]);
  if (m.signature) fields.push([8, ['g', m.signature]]);
  const h = new Writer();
  h.u8(0x6c); h.u8(m.type); h.u8(0); h.u8(1);
  h.u32(body.len);
  h.u32(m.serial);
  h.value('a(yv)', fields);
  h.align(8);
  h.bytes(body.buf.subarray(0, body.len));
  return Buffer.from(h.buf.subarray(0, h.len));
}

/** The length of the first complete message in `b`, or 0 when more bytes are needed. */
export function messageLength(b: Buffer): number {
  if (b.length < 16) return 0;
  if (b[0] !== 0x6c) throw new RuntimeError('D-Bus: big-endian messages are not supported');
  const bodyLen = b.readUInt32LE(4);
  const fieldsLen = b.readUInt32LE(12);
  const headerLen = 16 + fieldsLen + ((8 - ((16 + fieldsLen) % 8)) % 8);
  return b.length >= headerLen + bodyLen ? headerLen + bodyLen : 0;
}

/** Decode one complete message (pure: unit-tested). */
export function decodeMessage(b: Buffer): Message {
  const r = new Reader(b, 12, 0);
  const fields = r.value('a(yv)') as [number, Variant][];
  r.align(8);
  const m: Message = { type: b[1], serial: b.readUInt32LE(8), signature: '', body: [] };
  for (const [code, [, v]] of fields) {
    switch (code) {
      case 1: m.path = v as string; break;
      case 2: m.iface = v as string; break;
      case 3: m.member = v as string; break;
      case 4: m.errorName = v as string; break;
      case 5: m.replySerial = v as number; break;
      case 7: m.sender = v as string; break;
      case 8: m.signature = v as string; break;
    }
  }
  const body = new Reader(b, r.pos, r.pos);
  m.body = splitSignature(m.signature).map((t) => body.value(t));
  return m;
}

/** A D-Bus error reply, with its name (org.freedesktop.systemd1.UnitExists...) and message. */
export class DBusError extends RuntimeError {
  constructor(public readonly name_: string, public readonly text: string) {
    super(`${text} (${name_})`);
  }
}

export class Connection {
  private serial = 0;
  private pending = Buffer.alloc(0);
  /** signals that arrived while waiting for a reply */
  private signals: Message[] = [];

  private constructor(private fd: number, readonly address: string, private readonly bus: boolean) {}

  /** Connect and authenticate (EXTERNAL, as our uid); on a bus, say Hello. */
  static open(socketPath: string, bus: boolean, timeoutMs: number): Connection {
    const native = loadNative();
    const fd = native.unixConnect(socketPath);
    const c = new Connection(fd, socketPath, bus);
    try {
      const uid = Buffer.from(String(process.getuid?.() ?? 0)).toString('hex');
      writeAll(fd, Buffer.from(`\0AUTH EXTERNAL ${uid}\r\n`));
      const line = c.readLine(timeoutMs);
      if (!line.startsWith('OK ')) throw new RuntimeError(`D-Bus ${socketPath}: authentication refused: ${line.trim()}`);
      writeAll(fd, Buffer.from('BEGIN\r\n'));
      if (bus) c.call({ destination: 'org.freedesktop.DBus', path: '/org/freedesktop/DBus', iface: 'org.freedesktop.DBus', member: 'Hello' }, '', [], timeoutMs);
    } catch (e) {
      c.close();
      throw e;
    }
    return c;
  }

  close(): void {
    if (this.fd < 0) return;
    try { fs.closeSync(this.fd); } catch { /* closed */ }
    this.fd = -1;
  }

  private fill(deadline: number): void {
    const ms = Math.max(0, deadline - Date.now());
    if (!loadNative().pollPidfdExited(this.fd, ms)) throw new RuntimeError(`D-Bus ${this.address}: no answer within ${Math.round((deadline - Date.now() + ms) / 1000)}s`);
    const chunk = Buffer.alloc(65536);
    const n = fs.readSync(this.fd, chunk, 0, chunk.length, null);
    if (n === 0) throw new RuntimeError(`D-Bus ${this.address}: connection closed`);
    this.pending = Buffer.concat([this.pending, chunk.subarray(0, n)]);
  }

  private readLine(timeoutMs: number): string {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const i = this.pending.indexOf('\r\n');
      if (i >= 0) {
        const line = this.pending.toString('ascii', 0, i);
        this.pending = this.pending.subarray(i + 2);
        return line;
      }
      this.fill(deadline);
    }
  }

  private next(deadline: number): Message {
    for (;;) {
      const n = messageLength(this.pending);
      if (n) {
        const m = decodeMessage(this.pending.subarray(0, n));
        this.pending = this.pending.subarray(n);
        return m;
      }
      this.fill(deadline);
    }
  }

  /** Call a method and return the reply's body; an error reply throws DBusError. */
  call(to: { destination?: string; path: string; iface: string; member: string }, signature: string, body: DBusValue[], timeoutMs = 30000): DBusValue[] {
    const serial = ++this.serial;
    writeAll(this.fd, encodeMessage({ type: MsgType.CALL, serial, ...to, destination: this.bus ? to.destination : undefined, signature, body }));
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const m = this.next(deadline);
      if (m.type === MsgType.SIGNAL) { this.signals.push(m); continue; }
      if (m.replySerial !== serial) continue;
      if (m.type === MsgType.ERROR) throw new DBusError(m.errorName ?? 'error', String(m.body[0] ?? m.errorName));
      return m.body;
    }
  }

  /** Wait for a signal that `match` accepts (signals received earlier are looked at first). */
  waitSignal(match: (m: Message) => boolean, timeoutMs: number): Message {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const i = this.signals.findIndex(match);
      if (i >= 0) return this.signals.splice(i, 1)[0];
      this.signals = [];
      const m = this.next(deadline);
      if (m.type === MsgType.SIGNAL) this.signals.push(m);
    }
  }
}
