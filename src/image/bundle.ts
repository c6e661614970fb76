// `runts bundle`: a bundle (config.json + rootfs) from an image, and its removal.
//
// Overlay form (default): each layer is unpacked once into a content-addressed cache (CACHE/sha256/HEX/tree,
// HEX the digest of the layer blob; CACHE defaults to DEST's parent's .runts-cache), written under a temporary
// name and renamed into place when complete; DEST/rootfs is an overlayfs of the layers (lowerdirs) with
// DEST/upper and DEST/work. `--copy`: the layers are applied in order into DEST/rootfs, a plain directory.
// DEST/.runts-bundle marks a bundle made here (what --remove accepts). On any error, what this call created
// is removed again (DEST, a cache it created, its temporary layer dirs, the mount).
import * as fs from 'fs';
import * as path from 'path';
import { RuntimeError } from '../errors';
import { loadNative } from '../native';
import { toRuntimeSpec } from './config';
import { openImage } from './source';
import { Attrs, decompress, unpackLayer } from './unpack';

export const MARKER = '.runts-bundle';

export interface BundleOptions {
  image: string;
  dest: string;
  cache?: string;
  copy?: boolean;
  /** runts' default config (what `runts spec` writes), changed for the image */
  baseSpec: Record<string, unknown>;
}

function lstat(p: string): fs.Stats | undefined {
  return fs.lstatSync(p, { throwIfNoEntry: false });
}

/** Read a file of the rootfs by its path in the container: symlinks are resolved inside `root`. */
export function readInRoot(root: string, file: string, max = 1 << 20): string | undefined {
  let parts = file.split('/').filter((p) => p && p !== '.');
  let cur: string[] = [];
  for (let links = 0; parts.length;) {
    const name = parts.shift()!;
    if (name === '..') { cur.pop(); continue; }
    const p = path.join(root, ...cur, name);
    const st = lstat(p);
    if (!st) return undefined;
    if (st.isSymbolicLink()) {
      if (++links > 40) return undefined;
      const t = fs.readlinkSync(p);
      if (t.startsWith('/')) cur = [];
      parts = [...t.split('/').filter((x) => x && x !== '.'), ...parts];
      continue;
    }
    cur.push(name);
    if (parts.length && !st.isDirectory()) return undefined;
  }
  const p = path.join(root, ...cur);
  let fd: number;
  try {
    fd = fs.openSync(p, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK);
  } catch {
    return undefined;
  }
  try {
    const st = fs.fstatSync(fd);
    if (!st.isFile() || st.size > max) return undefined;
    return fs.readFileSync(fd, 'utf8');
  } finally {
    fs.closeSync(fd);
  }
}

function isMountPoint(p: string): boolean {
  const want = path.resolve(p);
  return mountsUnder(want).includes(want);
}

/** Mount points at or below `dir` (from /proc/self/mountinfo, octal escapes decoded). */
function mountsUnder(dir: string): string[] {
  const un = (s: string) => s.replace(/\\([0-7]{3})/g, (_, o) => String.fromCharCode(parseInt(o, 8)));
  return fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter(Boolean)
    .map((l) => un(l.split(' ')[4])).filter((m) => m === dir || m.startsWith(`${dir}/`));
}

function checkOverlayPath(p: string, what: string): void {
  if (/[,:\n\\]/.test(p)) throw new RuntimeError(`${what} ${p}: overlay paths cannot hold ",", ":" or "\\"`);
}

export function makeBundle(o: BundleOptions): void {
  const dest = path.resolve(o.dest);
  const st = lstat(dest);
  if (st && (!st.isDirectory() || fs.readdirSync(dest).length)) throw new RuntimeError(`${o.dest}: exists and is not an empty directory`);
  if (!lstat(path.dirname(dest))?.isDirectory()) throw new RuntimeError(`${o.dest}: parent directory ${path.dirname(dest)} does not exist`);
  const cache = o.copy ? undefined : path.resolve(o.cache ?? path.join(path.dirname(dest), '.runts-cache'));
  if (cache) {
    checkOverlayPath(dest, 'DEST');
    checkOverlayPath(cache, '--cache');
    const cs = lstat(cache);
    if (cs && !cs.isDirectory()) throw new RuntimeError(`--cache ${cache}: not a directory`);
  }
  // everything about the image is checked (manifest, config, media types) before anything is created
  const image = openImage(o.image);
  const createdDest = !st;
  let createdCache: string | undefined;
  const temps: string[] = [];
  let mounted = false;
  const rootfs = path.join(dest, 'rootfs');
  try {
    if (createdDest) fs.mkdirSync(dest, 0o700);
    fs.mkdirSync(rootfs, 0o755);
    if (!cache) {
      for (const l of image.layers) {
        unpackLayer(decompress(l.read(), l.compression, l.diffId, l.label), rootfs, 'flat', l.label);
      }
    } else {
      if (!lstat(cache)) {
        let top = cache;
        while (!lstat(path.dirname(top))) top = path.dirname(top);
        createdCache = top;
      }
      const store = path.join(cache, 'sha256');
      fs.mkdirSync(store, { recursive: true, mode: 0o700 });
      const trees: string[] = [];
      let root: Attrs = { mode: 0o755, uid: 0, gid: 0, mtime: 0 };
      for (const l of image.layers) {
        const hex = l.digest.slice('sha256:'.length);
        const dir = path.join(store, hex);
        if (!lstat(path.join(dir, 'layer.json'))) {
          const tmp = fs.mkdtempSync(path.join(store, `.tmp-${hex.slice(0, 12)}-`));
          temps.push(tmp);
          fs.mkdirSync(path.join(tmp, 'tree'), 0o755);
          const r = unpackLayer(decompress(l.read(), l.compression, l.diffId, l.label), path.join(tmp, 'tree'), 'overlay', l.label);
          fs.writeFileSync(path.join(tmp, 'layer.json'), JSON.stringify({ digest: l.digest, diffId: l.diffId, root: r.root ?? null }));
          try {
            fs.renameSync(tmp, dir);
          } catch (e) {
            const code = (e as NodeJS.ErrnoException).code;
            if (code !== 'EEXIST' && code !== 'ENOTEMPTY') throw e;
            fs.rmSync(tmp, { recursive: true, force: true }); // another call unpacked it meanwhile
          }
          temps.pop();
        }
        const meta = JSON.parse(fs.readFileSync(path.join(dir, 'layer.json'), 'utf8'));
        if (meta.root) root = meta.root;
        trees.unshift(`sha256/${hex}/tree`);
      }
      const upper = path.join(dest, 'upper');
      const work = path.join(dest, 'work');
      fs.mkdirSync(upper);
      fs.mkdirSync(work, 0o700);
      // the merged root takes the upper dir's attributes: the image's root entry
      fs.lchownSync(upper, root.uid, root.gid);
      fs.chmodSync(upper, root.mode);
      if (trees.length === 0) fs.mkdirSync(path.join(cache, 'empty'), { recursive: true, mode: 0o755 });
      // lowerdirs relative to the cache (the mount data is one page: short names fit many layers)
      const cwd = process.cwd();
      process.chdir(cache);
      try {
        loadNative().mountFs('overlay', rootfs, 'overlay', `lowerdir=${(trees.length ? trees : ['empty']).join(':')},upperdir=${upper},workdir=${work}`);
      } finally {
        process.chdir(cwd);
      }
      mounted = true;
      if (root.mtime) fs.utimesSync(rootfs, root.mtime, root.mtime);
    }
    const files = { passwd: readInRoot(rootfs, '/etc/passwd'), group: readInRoot(rootfs, '/etc/group') };
    const spec = toRuntimeSpec(o.baseSpec, image.config, files);
    fs.writeFileSync(path.join(dest, MARKER), `${JSON.stringify({ image: o.image, cache: cache ?? null, copy: !cache })}\n`);
    fs.writeFileSync(path.join(dest, 'config.json'), JSON.stringify(spec, null, '\t'));
  } catch (e) {
    if (mounted) loadNative().detachMount(rootfs);
    for (const t of temps) fs.rmSync(t, { recursive: true, force: true });
    if (createdCache) fs.rmSync(createdCache, { recursive: true, force: true });
    if (createdDest) fs.rmSync(dest, { recursive: true, force: true });
    else for (const n of fs.readdirSync(dest)) fs.rmSync(path.join(dest, n), { recursive: true, force: true });
    throw e;
  } finally {
    image.close();
  }
}

/** `--remove DEST`: unmount the rootfs and remove the bundle (only one made by `runts bundle`). */
export function removeBundle(d: string): void {
  const dest = path.resolve(d);
  if (!lstat(dest)?.isDirectory()) throw new RuntimeError(`${d}: not a directory`);
  if (!lstat(path.join(dest, MARKER))?.isFile()) throw new RuntimeError(`${d}: not a bundle made by runts bundle (no ${MARKER})`);
  const rootfs = path.join(dest, 'rootfs');
  while (isMountPoint(rootfs)) loadNative().detachMount(rootfs);
  const left = mountsUnder(dest);
  if (left.length) throw new RuntimeError(`${d}: still has mounts (${left.join(', ')}); unmount them first`);
  fs.rmSync(dest, { recursive: true, force: true });
}
