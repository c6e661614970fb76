// Unpacking a layer (a tar) into a directory. Two forms:
// - 'overlay': one directory per layer (a lowerdir of an overlayfs): whiteouts become overlay whiteouts
//   (character device 0/0), opaque directories get trusted.overlay.opaque=y;
// - 'flat': every layer in order into one directory, whiteouts applied by deletion.
// Every path is resolved inside the target without following a symlink: a name with "..", or one that goes
// through a symlink (which could point anywhere), is an error, as is a hard link whose target is not there.
import * as fs from 'fs';
import * as path from 'path';
import * as zlib from 'zlib';
import { RuntimeError } from '../errors';
import { loadNative } from '../native';
import { bufferSource, entries, TarEntry } from './tar';
import type { Compression } from './source';
import { sha256 } from './source';

export interface Attrs { mode: number; uid: number; gid: number; mtime: number }

export interface LayerResult {
  /** attributes of the layer's root entry ("./"), when it has one */
  root?: Attrs;
}

const S_IFCHR = 0o020000;
const S_IFBLK = 0o060000;
const S_IFIFO = 0o010000;
const WH = '.wh.';
const OPAQUE = '.wh..wh..opq';

/** The uncompressed tar of a verified blob; its diff_id is checked when known. */
export function decompress(blob: Buffer, compression: Compression, diffId: string | undefined, label: string): Buffer {
  let tar: Buffer;
  try {
    if (compression === 'gzip') tar = zlib.gunzipSync(blob);
    else if (compression === 'zstd') {
      const z = (zlib as unknown as { zstdDecompressSync?: (b: Buffer) => Buffer }).zstdDecompressSync;
      if (!z) throw new RuntimeError(`${label}: zstd-compressed layers are not supported by this engine (no zstd in its zlib)`);
      tar = z(blob);
    } else tar = blob;
  } catch (e) {
    if (e instanceof RuntimeError) throw e;
    throw new RuntimeError(`${label}: cannot decompress (${compression}): ${(e as Error).message}`);
  }
  if (diffId !== undefined) {
    const got = sha256(tar);
    if (got !== diffId) throw new RuntimeError(`${label}: diff_id mismatch: the uncompressed layer has ${got}, the config says ${diffId}`);
  }
  return tar;
}

/** The components of an entry's name, relative to the root; "" for the root itself. */
export function entryPath(name: string, label: string): string[] {
  const parts = name.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.includes('..')) throw new RuntimeError(`${label}: "${name}": a path with ".." (would leave the rootfs)`);
  return parts;
}

function lstat(p: string): fs.Stats | undefined {
  return fs.lstatSync(p, { throwIfNoEntry: false });
}

export function unpackLayer(tar: Buffer, target: string, mode: 'overlay' | 'flat', label: string): LayerResult {
  const native = loadNative();
  const result: LayerResult = {};
  const dirs: Array<[string, number]> = [];
  const written = new Set<string>();
  const touched = new Set<string>();
  const opaque: string[] = [];

  const mark = (rel: string[]) => {
    written.add(rel.join('/'));
    for (let i = 0; i <= rel.length; i++) touched.add(rel.slice(0, i).join('/'));
  };

  /** The directory `rel` inside the target, created (with its missing parents) when `create`. */
  const dirOf = (rel: string[], name: string, create: boolean): string | undefined => {
    let p = target;
    for (let i = 0; i < rel.length; i++) {
      p = path.join(p, rel[i]);
      const st = lstat(p);
      if (st?.isSymbolicLink()) throw new RuntimeError(`${label}: "${name}": goes through the symlink "${rel.slice(0, i + 1).join('/')}" (-> ${fs.readlinkSync(p)}), which could lead out of the rootfs`);
      if (st && !st.isDirectory()) throw new RuntimeError(`${label}: "${name}": "${rel.slice(0, i + 1).join('/')}" is not a directory`);
      if (!st) {
        if (!create) return undefined;
        // an implicit parent (layers made by image tools list every parent): root's, mode 0755, so that a
        // cached layer depends on its content only
        fs.mkdirSync(p, 0o755);
        fs.chmodSync(p, 0o755);
      }
    }
    return p;
  };

  const remove = (p: string) => {
    const st = lstat(p);
    if (st) fs.rmSync(p, { recursive: st.isDirectory(), force: true });
  };

  const attrs = (p: string, e: TarEntry) => {
    fs.lchownSync(p, e.uid, e.gid);
    if (e.type !== 'symlink') fs.chmodSync(p, e.mode);
    for (const [k, v] of Object.entries(e.xattrs)) {
      if (k.startsWith('trusted.overlay.')) continue; // the overlay's own: never from a layer
      native.lsetxattr(p, k, v);
    }
    if (e.type === 'dir') dirs.push([p, e.mtime]);
    else fs.lutimesSync(p, e.mtime, e.mtime);
  };

  const src = bufferSource(tar);
  try {
    for (const e of entries(src)) {
      const rel = entryPath(e.name, label);
      if (rel.length === 0) {
        if (e.type !== 'dir') throw new RuntimeError(`${label}: "${e.name}": the root is not a directory`);
        fs.lchownSync(target, e.uid, e.gid);
        fs.chmodSync(target, e.mode);
        dirs.push([target, e.mtime]);
        result.root = { mode: e.mode, uid: e.uid, gid: e.gid, mtime: e.mtime };
        continue;
      }
      const base = rel[rel.length - 1];
      const parentRel = rel.slice(0, -1);
      if (base === OPAQUE) {
        if (mode === 'overlay') {
          const d = dirOf(parentRel, e.name, true)!;
          native.lsetxattr(d, 'trusted.overlay.opaque', Buffer.from('y'));
        } else opaque.push(parentRel.join('/'));
        continue;
      }
      if (base.startsWith(WH)) {
        if (base.startsWith(`${WH}${WH}`)) continue; // other aufs metadata (.wh..wh.plnk...): not content
        const hidden = base.slice(WH.length);
        if (hidden === '' || hidden === '.' || hidden === '..') throw new RuntimeError(`${label}: "${e.name}": bad whiteout`);
        if (mode === 'overlay') {
          const d = dirOf(parentRel, e.name, true)!;
          const p = path.join(d, hidden);
          remove(p);
          native.mknod(p, S_IFCHR | 0, 0, 0);
          mark([...parentRel, hidden]);
        } else {
          const d = dirOf(parentRel, e.name, false);
          if (d) remove(path.join(d, hidden));
        }
        continue;
      }
      const d = dirOf(parentRel, e.name, true)!;
      const p = path.join(d, base);
      const old = lstat(p);
      if (old && !(old.isDirectory() && e.type === 'dir')) remove(p);
      switch (e.type) {
        case 'dir':
          if (!old || !old.isDirectory()) fs.mkdirSync(p);
          break;
        case 'file': {
          const fd = fs.openSync(p, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_NOFOLLOW, 0o600);
          try {
            let off = 0;
            const data = src.read(e.offset, e.size);
            while (off < data.length) off += fs.writeSync(fd, data, off, data.length - off);
          } finally {
            fs.closeSync(fd);
          }
          break;
        }
        case 'symlink':
          fs.symlinkSync(e.linkname, p);
          break;
        case 'hardlink': {
          const lrel = entryPath(e.linkname, `${label}: hard link "${e.name}"`);
          const ld = lrel.length ? dirOf(lrel.slice(0, -1), e.linkname, false) : undefined;
          const lp = ld && path.join(ld, lrel[lrel.length - 1]);
          const ls = lp ? lstat(lp) : undefined;
          if (!lp || !ls || ls.isDirectory()) throw new RuntimeError(`${label}: hard link "${e.name}": target "${e.linkname}" is not a file of this layer`);
          fs.linkSync(lp, p);
          mark(rel);
          continue; // the same inode: its attributes came with the target
        }
        case 'char':
        case 'block':
          native.mknod(p, (e.type === 'char' ? S_IFCHR : S_IFBLK) | (e.mode & 0o777), e.devmajor, e.devminor);
          break;
        case 'fifo':
          native.mknod(p, S_IFIFO | (e.mode & 0o777), 0, 0);
          break;
      }
      attrs(p, e);
      mark(rel);
    }
  } catch (e) {
    if (e instanceof RuntimeError) throw e;
    throw new RuntimeError(`${label}: ${(e as Error).message}`);
  }
  // flat: an opaque directory keeps only what this layer put in it
  for (const o of opaque) {
    const rel = o === '' ? [] : o.split('/');
    const d = dirOf(rel, o, false);
    if (!d) continue;
    const prune = (dir: string, relDir: string) => {
      for (const name of fs.readdirSync(dir)) {
        const r = relDir ? `${relDir}/${name}` : name;
        const p = path.join(dir, name);
        if (!touched.has(r)) remove(p);
        else if (lstat(p)?.isDirectory()) prune(p, r);
      }
    };
    prune(d, o);
  }
  // directory times last (writing into a directory changes its mtime)
  for (let i = dirs.length - 1; i >= 0; i--) {
    if (lstat(dirs[i][0])?.isDirectory()) fs.lutimesSync(dirs[i][0], dirs[i][1], dirs[i][1]); // a later whiteout may have removed it
  }
  return result;
}
