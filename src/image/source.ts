// Image sources by transport name (the names skopeo and podman use): `oci:DIR[:TAG]` (an OCI image layout),
// `oci-archive:FILE[:TAG]` (a tar of one) and `docker-archive:FILE` (`docker save` / `podman save` format).
// Every blob read is checked against its digest (and its descriptor's size) before anything uses it.
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { RuntimeError } from '../errors';
import { ByteSource, bufferSource, entries, fileSource, TarEntry } from './tar';

export type Compression = 'none' | 'gzip' | 'zstd';

export interface LayerRef {
  /** digest of the blob as stored (the cache key) */
  digest: string;
  /** digest of the uncompressed tar (rootfs.diff_ids), when the config has it */
  diffId?: string;
  compression: Compression;
  /** the verified blob */
  read(): Buffer;
  /** for messages */
  label: string;
}

export interface ImageConfig {
  architecture?: string;
  os?: string;
  author?: string;
  created?: string;
  config?: {
    User?: string;
    ExposedPorts?: Record<string, unknown>;
    Env?: string[];
    Entrypoint?: string[] | null;
    Cmd?: string[] | null;
    Volumes?: Record<string, unknown>;
    WorkingDir?: string;
    Labels?: Record<string, string> | null;
    StopSignal?: string;
  };
  rootfs?: { type?: string; diff_ids?: string[] };
}

export interface Image {
  config: ImageConfig;
  layers: LayerRef[];
}

const MT = {
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  dockerList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  dockerConfig: 'application/vnd.docker.container.image.v1+json',
};

const LAYER_TYPES: Record<string, Compression> = {
  'application/vnd.oci.image.layer.v1.tar': 'none',
  'application/vnd.oci.image.layer.v1.tar+gzip': 'gzip',
  'application/vnd.oci.image.layer.v1.tar+zstd': 'zstd',
  'application/vnd.oci.image.layer.nondistributable.v1.tar': 'none',
  'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip': 'gzip',
  'application/vnd.oci.image.layer.nondistributable.v1.tar+zstd': 'zstd',
  'application/vnd.docker.image.rootfs.diff.tar': 'none',
  'application/vnd.docker.image.rootfs.diff.tar.gzip': 'gzip',
  'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip': 'gzip',
};

/** The architecture of this machine in Go's naming (image platforms). */
export function goArch(arch = process.arch): string {
  return ({ x64: 'amd64', ia32: '386', arm64: 'arm64', arm: 'arm', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64' } as Record<string, string>)[arch] ?? arch;
}

export function sha256(b: Buffer): string {
  return `sha256:${crypto.createHash('sha256').update(b).digest('hex')}`;
}

function checkDigest(d: unknown, what: string): string {
  if (typeof d !== 'string') throw new RuntimeError(`${what}: missing digest`);
  const m = /^([a-z0-9]+(?:[.+_-][a-z0-9]+)*):(.*)$/.exec(d);
  if (!m) throw new RuntimeError(`${what}: bad digest "${d}"`);
  if (m[1] !== 'sha256') throw new RuntimeError(`${what}: unsupported digest algorithm "${m[1]}" (only sha256)`);
  if (!/^[a-f0-9]{64}$/.test(m[2])) throw new RuntimeError(`${what}: bad digest "${d}"`);
  return d;
}

function parseJson(b: Buffer, what: string): any {
  try {
    return JSON.parse(b.toString('utf8'));
  } catch (e) {
    throw new RuntimeError(`${what}: not valid JSON (${(e as Error).message})`);
  }
}

/** Files of a layout: a directory, or the entries of a tar archive of one. */
interface Files {
  read(name: string): Buffer | undefined;
  where: string;
}

function dirFiles(dir: string): Files {
  return {
    where: dir,
    read(name) {
      try {
        // the layout's own files: no symlink is followed (O_NOFOLLOW on the last component; names are fixed)
        const fd = fs.openSync(path.join(dir, name), fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
        try {
          if (!fs.fstatSync(fd).isFile()) return undefined;
          return fs.readFileSync(fd);
        } finally {
          fs.closeSync(fd);
        }
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw new RuntimeError(`${path.join(dir, name)}: ${(e as Error).message}`);
      }
    },
  };
}

function normName(n: string): string {
  return path.posix.normalize(`/${n}`).slice(1).replace(/\/$/, '');
}

function archiveFiles(file: string): Files & { close(): void } {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch (e) {
    throw new RuntimeError(`${file}: ${(e as Error).message}`);
  }
  const src: ByteSource = fileSource(fd);
  const index = new Map<string, TarEntry>();
  try {
    for (const e of entries(src)) index.set(normName(e.name), e);
  } catch (e) {
    fs.closeSync(fd);
    throw new RuntimeError(`${file}: ${(e as Error).message}`);
  }
  const find = (name: string, depth = 0): TarEntry | undefined => {
    const e = index.get(normName(name));
    if (!e || depth > 8) return undefined;
    if (e.type === 'hardlink') return find(e.linkname, depth + 1);
    if (e.type === 'symlink') return find(path.posix.join(path.posix.dirname(normName(name)), e.linkname), depth + 1);
    return e.type === 'file' ? e : undefined;
  };
  return {
    where: file,
    read(name) {
      const e = find(name);
      return e ? src.read(e.offset, e.size) : undefined;
    },
    close: () => fs.closeSync(fd),
  };
}

/** A blob of a layout by descriptor, verified (digest, and size when the descriptor has one). */
function blob(files: Files, desc: any, what: string): Buffer {
  const d = checkDigest(desc?.digest, what);
  const name = `blobs/sha256/${d.slice(7)}`;
  const b = files.read(name);
  if (!b) throw new RuntimeError(`${what}: blob ${d} missing from ${files.where}`);
  const got = sha256(b);
  if (got !== d) throw new RuntimeError(`${what}: digest mismatch: blob ${name} has ${got}, expected ${d}`);
  if (typeof desc.size === 'number' && desc.size !== b.length) throw new RuntimeError(`${what}: size mismatch: blob ${d} has ${b.length} bytes, the descriptor says ${desc.size}`);
  return b;
}

function platformOk(p: any): boolean {
  return !p || ((p.os === undefined || p.os === 'linux') && (p.architecture === undefined || p.architecture === goArch()));
}

/** Choose the image manifest of a layout: by tag (org.opencontainers.image.ref.name), then by platform. */
function pickManifest(files: Files, tag: string | undefined): { desc: any; manifest: any } {
  const idxBuf = files.read('index.json');
  if (!idxBuf) throw new RuntimeError(`${files.where}: not an OCI image layout (no index.json)`);
  let index = parseJson(idxBuf, `${files.where}: index.json`);
  let list: any[] = Array.isArray(index.manifests) ? index.manifests : [];
  const refName = (m: any) => m?.annotations?.['org.opencontainers.image.ref.name'];
  if (tag !== undefined) {
    list = list.filter((m) => refName(m) === tag);
    if (!list.length) {
      const tags = (index.manifests ?? []).map(refName).filter((t: unknown) => typeof t === 'string');
      throw new RuntimeError(`${files.where}: no image tagged "${tag}" (tags: ${tags.length ? tags.join(', ') : 'none'})`);
    }
  }
  for (let depth = 0; depth < 4; depth++) {
    const fit = list.filter((m) => platformOk(m?.platform));
    if (fit.length === 0) throw new RuntimeError(`${files.where}: no image for linux/${goArch()}`);
    if (fit.length > 1) {
      const tags = fit.map(refName).filter((t: unknown) => typeof t === 'string');
      throw new RuntimeError(`${files.where}: holds ${fit.length} images; name one as ${tag === undefined ? 'SRC:TAG' : 'a unique tag'}${tags.length ? ` (tags: ${tags.join(', ')})` : ''}`);
    }
    const desc = fit[0];
    const mt = desc.mediaType;
    const what = `${files.where}: manifest ${desc.digest}`;
    const b = blob(files, desc, what);
    const doc = parseJson(b, what);
    const kind = mt ?? doc.mediaType;
    if (kind === MT.ociIndex || kind === MT.dockerList) {
      index = doc;
      list = Array.isArray(doc.manifests) ? doc.manifests : [];
      continue;
    }
    if (kind !== MT.ociManifest && kind !== MT.dockerManifest) throw new RuntimeError(`${what}: unknown media type "${kind}"`);
    return { desc, manifest: doc };
  }
  throw new RuntimeError(`${files.where}: image indexes nested too deeply`);
}

function decompression(mediaType: unknown, what: string): Compression {
  const c = typeof mediaType === 'string' ? LAYER_TYPES[mediaType] : undefined;
  if (!c) throw new RuntimeError(`${what}: unknown media type "${mediaType}"`);
  return c;
}

function checkDiffIds(config: ImageConfig, n: number, where: string): string[] | undefined {
  const ids = config.rootfs?.diff_ids;
  if (ids === undefined) return undefined;
  if (!Array.isArray(ids) || ids.length !== n) throw new RuntimeError(`${where}: the config lists ${Array.isArray(ids) ? ids.length : 'no'} diff_ids for ${n} layers`);
  ids.forEach((d, i) => checkDigest(d, `${where}: rootfs.diff_ids[${i}]`));
  return ids;
}

function fromLayout(files: Files, tag: string | undefined): Image {
  const { desc, manifest } = pickManifest(files, tag);
  const where = `${files.where}: manifest ${desc.digest}`;
  const cdesc = manifest.config;
  if (!cdesc || (cdesc.mediaType !== MT.ociConfig && cdesc.mediaType !== MT.dockerConfig)) throw new RuntimeError(`${where}: config: unknown media type "${cdesc?.mediaType}"`);
  const config = parseJson(blob(files, cdesc, `${where}: config`), `${where}: config`) as ImageConfig;
  const layers: any[] = Array.isArray(manifest.layers) ? manifest.layers : [];
  const diffIds = checkDiffIds(config, layers.length, where);
  return {
    config,
    layers: layers.map((l, i) => {
      const label = `layer ${i} (${l?.digest})`;
      const compression = decompression(l?.mediaType, `${where}: ${label}`);
      const digest = checkDigest(l?.digest, `${where}: ${label}`);
      return { digest, diffId: diffIds?.[i], compression, label, read: () => blob(files, l, `${where}: ${label}`) };
    }),
  };
}

function sniff(b: Buffer): Compression {
  if (b.length >= 2 && b[0] === 0x1f && b[1] === 0x8b) return 'gzip';
  if (b.length >= 4 && b.readUInt32LE(0) === 0xfd2fb528) return 'zstd';
  return 'none';
}

function fromDockerArchive(files: Files): Image {
  const mb = files.read('manifest.json');
  if (!mb) throw new RuntimeError(`${files.where}: not a docker-archive (no manifest.json)`);
  const list = parseJson(mb, `${files.where}: manifest.json`);
  if (!Array.isArray(list) || list.length === 0) throw new RuntimeError(`${files.where}: manifest.json lists no image`);
  if (list.length > 1) throw new RuntimeError(`${files.where}: holds ${list.length} images; only one is supported`);
  const m = list[0];
  const where = `${files.where}: manifest.json`;
  if (typeof m.Config !== 'string') throw new RuntimeError(`${where}: Config: missing`);
  const cb = files.read(m.Config);
  if (!cb) throw new RuntimeError(`${where}: config ${m.Config} missing from the archive`);
  // the config's name is its digest (HEX.json, or blobs/sha256/HEX in newer archives)
  const named = /(?:^|\/)([a-f0-9]{64})(?:\.json)?$/.exec(m.Config);
  if (named && sha256(cb) !== `sha256:${named[1]}`) throw new RuntimeError(`${where}: digest mismatch: config ${m.Config} has ${sha256(cb)}`);
  const config = parseJson(cb, `${where}: config`) as ImageConfig;
  const layers: unknown[] = Array.isArray(m.Layers) ? m.Layers : [];
  const diffIds = checkDiffIds(config, layers.length, where);
  if (!diffIds) throw new RuntimeError(`${where}: the config has no rootfs.diff_ids`);
  return {
    config,
    layers: layers.map((name, i) => {
      if (typeof name !== 'string') throw new RuntimeError(`${where}: Layers[${i}]: not a file name`);
      let cache: Buffer | undefined;
      const read = () => {
        if (cache) return cache;
        const b = files.read(name);
        if (!b) throw new RuntimeError(`${where}: layer ${name} missing from the archive`);
        return (cache = b);
      };
      const label = `layer ${i} (${name})`;
      // a layer of an archive is named by its diff_id; a compressed one is told by its magic bytes
      const ref: LayerRef = { digest: '', diffId: diffIds[i], compression: 'none', label, read };
      Object.defineProperty(ref, 'digest', { get: () => sha256(read()), enumerable: true });
      Object.defineProperty(ref, 'compression', { get: () => sniff(read()), enumerable: true });
      return ref;
    }),
  };
}

export interface OpenedImage extends Image {
  close(): void;
}

/** Open SRC (`oci:DIR[:TAG]`, `oci-archive:FILE[:TAG]`, `docker-archive:FILE`). */
export function openImage(src: string): OpenedImage {
  const m = /^([a-z-]+):(.+)$/.exec(src);
  if (!m) throw new RuntimeError(`--image ${src}: expected oci:DIR[:TAG], oci-archive:FILE[:TAG] or docker-archive:FILE`);
  const [, transport, rest] = m;
  const split = (s: string) => {
    const i = s.indexOf(':');
    return i < 0 ? [s, undefined] as const : [s.slice(0, i), s.slice(i + 1)] as const;
  };
  switch (transport) {
    case 'oci': {
      const [dir, tag] = split(rest);
      if (!fs.statSync(dir, { throwIfNoEntry: false })?.isDirectory()) throw new RuntimeError(`--image ${src}: ${dir}: not a directory`);
      return { ...fromLayout(dirFiles(dir), tag || undefined), close() {} };
    }
    case 'oci-archive': {
      const [file, tag] = split(rest);
      const files = archiveFiles(file);
      try {
        return { ...fromLayout(files, tag || undefined), close: files.close };
      } catch (e) {
        files.close();
        throw e;
      }
    }
    case 'docker-archive': {
      const files = archiveFiles(rest);
      try {
        return { ...fromDockerArchive(files), close: files.close };
      } catch (e) {
        files.close();
        throw e;
      }
    }
    default:
      throw new RuntimeError(`--image ${src}: unknown transport "${transport}" (oci, oci-archive, docker-archive)`);
  }
}

export { bufferSource };
