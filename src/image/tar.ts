// A small tar reader: ustar, pax (local and global headers, SCHILY.xattr.*) and GNU long names/links.
// It reads from anything that can hand out byte ranges (a Buffer, or a file through pread), so an archive of
// an image is indexed without being loaded, and a layer is walked entry by entry.
import * as fs from 'fs';

export type EntryType = 'file' | 'hardlink' | 'symlink' | 'char' | 'block' | 'dir' | 'fifo';

export interface TarEntry {
  /** the name as written in the archive (after pax/GNU overrides), not normalised */
  name: string;
  type: EntryType;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtime: number;
  linkname: string;
  devmajor: number;
  devminor: number;
  /** pax SCHILY.xattr.* values, by attribute name */
  xattrs: Record<string, Buffer>;
  /** offset of the content in the source */
  offset: number;
}

export interface ByteSource {
  size: number;
  read(offset: number, length: number): Buffer;
}

export function bufferSource(buf: Buffer): ByteSource {
  return { size: buf.length, read: (o, l) => buf.subarray(o, o + l) };
}

export function fileSource(fd: number): ByteSource {
  const size = fs.fstatSync(fd).size;
  return {
    size,
    read(o, l) {
      const b = Buffer.alloc(l);
      let done = 0;
      while (done < l) {
        const n = fs.readSync(fd, b, done, l - done, o + done);
        if (n === 0) break;
        done += n;
      }
      return b.subarray(0, done);
    },
  };
}

export class TarError extends Error {}

function cstr(b: Buffer): string {
  const z = b.indexOf(0);
  return (z < 0 ? b : b.subarray(0, z)).toString('utf8');
}

/** A numeric header field: octal text, or base-256 (high bit of the first byte set; GNU and star). */
function num(b: Buffer, field: string): number {
  if (b.length && b[0] & 0x80) {
    if (b[0] & 0x40) throw new TarError(`negative ${field} in a tar header`);
    let v = b[0] & 0x3f;
    for (let i = 1; i < b.length; i++) v = v * 256 + b[i];
    if (!Number.isSafeInteger(v)) throw new TarError(`${field} too large in a tar header`);
    return v;
  }
  const t = cstr(b).replace(/ +$/, '').replace(/^ +/, '');
  if (t === '') return 0;
  if (!/^[0-7]+$/.test(t)) throw new TarError(`bad ${field} "${t}" in a tar header`);
  return parseInt(t, 8);
}

/** pax records: "LEN key=value\n" each. */
function paxRecords(b: Buffer): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  let i = 0;
  while (i < b.length) {
    const sp = b.indexOf(0x20, i);
    if (sp < 0) break;
    const len = Number(b.subarray(i, sp).toString('latin1'));
    if (!Number.isInteger(len) || len <= 0 || i + len > b.length) throw new TarError('bad pax header record');
    const rec = b.subarray(sp + 1, i + len - 1);
    const eq = rec.indexOf(0x3d);
    if (eq < 0 || b[i + len - 1] !== 0x0a) throw new TarError('bad pax header record');
    out.set(rec.subarray(0, eq).toString('utf8'), Buffer.from(rec.subarray(eq + 1)));
    i += len;
  }
  return out;
}

const TYPES: Record<string, EntryType> = {
  '0': 'file', '\0': 'file', '7': 'file', '1': 'hardlink', '2': 'symlink', '3': 'char', '4': 'block', '5': 'dir', '6': 'fifo',
};

/** The entries of a tar archive, in order. Content stays in the source (`offset`, `size`). */
export function* entries(src: ByteSource): Generator<TarEntry> {
  let off = 0;
  let global = new Map<string, Buffer>();
  let local = new Map<string, Buffer>();
  let longName: string | undefined;
  let longLink: string | undefined;
  for (;;) {
    if (off + 512 > src.size) {
      if (off === src.size) return; // no end-of-archive blocks: accepted, as GNU tar does
      throw new TarError('truncated tar archive (a header is cut short)');
    }
    const h = src.read(off, 512);
    if (h.every((c) => c === 0)) return; // end of archive
    let sum = 0;
    for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 32 : h[i];
    if (num(h.subarray(148, 156), 'checksum') !== sum) throw new TarError(`bad tar header checksum at offset ${off}`);
    const flag = String.fromCharCode(h[156]);
    let size = num(h.subarray(124, 136), 'size');
    const dataOff = off + 512;
    const next = () => dataOff + Math.ceil(size / 512) * 512;
    const body = () => {
      if (dataOff + size > src.size) throw new TarError('truncated tar archive (content cut short)');
      return src.read(dataOff, size);
    };
    if (flag === 'x' || flag === 'g') {
      const recs = paxRecords(body());
      if (flag === 'g') global = new Map([...global, ...recs]);
      else local = recs;
      off = next();
      continue;
    }
    if (flag === 'L' || flag === 'K') {
      const v = cstr(body());
      if (flag === 'L') longName = v; else longLink = v;
      off = next();
      continue;
    }
    const type = TYPES[flag];
    if (!type) throw new TarError(`unsupported tar entry type '${flag}' (${cstr(h.subarray(0, 100))})`);
    const pax = new Map([...global, ...local]);
    const ustar = h.subarray(257, 262).toString('latin1') === 'ustar';
    let name = cstr(h.subarray(0, 100));
    if (ustar) {
      const prefix = cstr(h.subarray(345, 500));
      if (prefix && h.subarray(257, 263).toString('latin1') === 'ustar\0') name = `${prefix}/${name}`;
    }
    if (longName !== undefined) name = longName;
    if (pax.has('path')) name = pax.get('path')!.toString('utf8');
    let linkname = cstr(h.subarray(157, 257));
    if (longLink !== undefined) linkname = longLink;
    if (pax.has('linkpath')) linkname = pax.get('linkpath')!.toString('utf8');
    const paxNum = (k: string, d: number) => {
      const v = pax.get(k);
      if (v === undefined) return d;
      const n = Number(v.toString('latin1'));
      if (!Number.isFinite(n)) throw new TarError(`bad pax ${k} "${v.toString('latin1')}"`);
      return n;
    };
    size = paxNum('size', size);
    const xattrs: Record<string, Buffer> = {};
    for (const [k, v] of pax) if (k.startsWith('SCHILY.xattr.')) xattrs[k.slice('SCHILY.xattr.'.length)] = v;
    const e: TarEntry = {
      name,
      type,
      mode: num(h.subarray(100, 108), 'mode') & 0o7777,
      uid: paxNum('uid', num(h.subarray(108, 116), 'uid')),
      gid: paxNum('gid', num(h.subarray(116, 124), 'gid')),
      size: type === 'file' ? size : 0,
      mtime: Math.floor(paxNum('mtime', num(h.subarray(136, 148), 'mtime'))),
      linkname,
      devmajor: ustar ? num(h.subarray(329, 337), 'devmajor') : 0,
      devminor: ustar ? num(h.subarray(337, 345), 'devminor') : 0,
      xattrs,
      offset: dataOff,
    };
    if (type === 'file' && dataOff + size > src.size) throw new TarError(`truncated tar archive (content of ${name} cut short)`);
    // hard links and the like may still carry a size: their data blocks are skipped
    off = next();
    local = new Map();
    longName = undefined;
    longLink = undefined;
    yield e;
  }
}
