// runts bundle: bundles from images the tests build themselves (an OCI layout with several layers, whiteouts,
// an opaque directory; the e2e docker-archive), run with runts, compared with what umoci unpacks; bad images
// get a one-line error and leave nothing (no DEST, no cache, no mount).
import { execFileSync } from 'child_process';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import * as zlib from 'zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Ctx, REPO, cleanupContext, context, hasProgram, rootfs, rt } from '../helpers';

// ---- a tar writer (ustar, with a pax header for long names, xattrs and big ids)
interface TEntry {
  name: string;
  type?: 'file' | 'dir' | 'symlink' | 'hardlink' | 'fifo' | 'char';
  mode?: number;
  uid?: number;
  gid?: number;
  data?: string | Buffer;
  link?: string;
  mtime?: number;
  xattrs?: Record<string, string>;
}

function octal(n: number, len: number): string {
  return `${n.toString(8).padStart(len - 1, '0')}\0`;
}

function header(name: string, flag: string, e: TEntry, size: number): Buffer {
  const h = Buffer.alloc(512);
  h.write(name.slice(0, 99), 0, 'utf8');
  h.write(octal(e.mode ?? (flag === '5' ? 0o755 : 0o644), 8), 100, 'latin1');
  h.write(octal(e.uid ?? 0, 8), 108, 'latin1');
  h.write(octal(e.gid ?? 0, 8), 116, 'latin1');
  h.write(octal(size, 12), 124, 'latin1');
  h.write(octal(e.mtime ?? 1700000000, 12), 136, 'latin1');
  h.write(flag, 156, 'latin1');
  h.write((e.link ?? '').slice(0, 99), 157, 'utf8');
  h.write('ustar\x0000', 257, 'latin1');
  h.write(octal(0, 8), 329, 'latin1');
  h.write(octal(0, 8), 337, 'latin1');
  h.fill(0x20, 148, 156);
  let sum = 0;
  for (const b of h) sum += b;
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
  return h;
}

function pad(b: Buffer): Buffer {
  return Buffer.concat([b, Buffer.alloc((512 - (b.length % 512)) % 512)]);
}

function tarOf(list: TEntry[]): Buffer {
  const out: Buffer[] = [];
  for (const e of list) {
    const flag = { file: '0', dir: '5', symlink: '2', hardlink: '1', fifo: '6', char: '3' }[e.type ?? 'file'];
    const data = Buffer.from(e.data ?? '');
    const recs: string[] = [];
    const rec = (k: string, v: string) => {
      const body = ` ${k}=${v}\n`;
      let len = Buffer.byteLength(body) + 1;
      while (String(len).length + Buffer.byteLength(body) !== len) len = String(len).length + Buffer.byteLength(body);
      recs.push(`${len}${body}`);
    };
    if (Buffer.byteLength(e.name) > 99) rec('path', e.name);
    if (e.link && Buffer.byteLength(e.link) > 99) rec('linkpath', e.link);
    for (const [k, v] of Object.entries(e.xattrs ?? {})) rec(`SCHILY.xattr.${k}`, v);
    if (recs.length) {
      const pax = Buffer.from(recs.join(''));
      out.push(header('PaxHeaders/x', 'x', {}, pax.length), pad(pax));
    }
    out.push(header(e.name, flag, e, flag === '0' ? data.length : 0));
    if (flag === '0') out.push(pad(data));
  }
  out.push(Buffer.alloc(1024));
  return Buffer.concat(out);
}

// ---- an OCI image layout
const sha = (b: Buffer) => crypto.createHash('sha256').update(b).digest('hex');
const LAYER_TAR = 'application/vnd.oci.image.layer.v1.tar';
const LAYER_GZ = 'application/vnd.oci.image.layer.v1.tar+gzip';

interface Layer { tar: Buffer; gzip?: boolean; mediaType?: string }

function writeBlob(dir: string, b: Buffer): string {
  fs.mkdirSync(path.join(dir, 'blobs', 'sha256'), { recursive: true });
  const h = sha(b);
  fs.writeFileSync(path.join(dir, 'blobs', 'sha256', h), b);
  return `sha256:${h}`;
}

function ociLayout(dir: string, layers: Layer[], config: any, tag = 'latest', tweak?: (m: any, cfg: any) => void): void {
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
  const descs = layers.map((l) => {
    const blob = l.gzip ? zlib.gzipSync(l.tar) : l.tar;
    return { mediaType: l.mediaType ?? (l.gzip ? LAYER_GZ : LAYER_TAR), digest: writeBlob(dir, blob), size: blob.length };
  });
  const cfg = { architecture: { x64: 'amd64', arm64: 'arm64' }[process.arch as string] ?? process.arch, os: 'linux', created: '2024-01-01T00:00:00Z', ...config,
    rootfs: { type: 'layers', diff_ids: layers.map((l) => `sha256:${sha(l.tar)}`) } };
  const manifest: any = { schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', layers: descs };
  tweak?.(manifest, cfg);
  const cb = Buffer.from(JSON.stringify(cfg));
  manifest.config = { mediaType: 'application/vnd.oci.image.config.v1+json', digest: writeBlob(dir, cb), size: cb.length };
  const mb = Buffer.from(JSON.stringify(manifest));
  const index = { schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json',
    manifests: [{ mediaType: manifest.mediaType, digest: writeBlob(dir, mb), size: mb.length, annotations: { 'org.opencontainers.image.ref.name': tag } }] };
  fs.writeFileSync(path.join(dir, 'index.json'), JSON.stringify(index));
}

// ---- the test image: three layers
let c: Ctx;
let busybox: Buffer;
const LONG = `deep/${'d'.repeat(60)}/${'n'.repeat(70)}.txt`;

function layers(): Layer[] {
  const l0 = tarOf([
    { name: './', type: 'dir', mode: 0o755 },
    { name: 'bin/', type: 'dir' },
    { name: 'bin/busybox', mode: 0o755, data: busybox },
    ...['sh', 'ls', 'cat', 'id', 'echo', 'grep', 'stat'].map((n) => ({ name: `bin/${n}`, type: 'symlink' as const, link: 'busybox' })),
    { name: 'etc/', type: 'dir' },
    { name: 'etc/passwd', data: 'root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/home/app:/bin/sh\n' },
    { name: 'etc/group', data: 'root:x:0:\napp:x:1000:\nextra:x:1001:app\n' },
    { name: 'etc/motd', data: 'layer 0\n' },
    { name: 'home/', type: 'dir' },
    { name: 'home/app/', type: 'dir', mode: 0o750, uid: 1000, gid: 1000 },
    { name: 'keep/', type: 'dir' },
    { name: 'keep/a', data: 'a\n' },
    { name: 'keep/b', data: 'b\n' },
    { name: 'opq/', type: 'dir', mode: 0o711 },
    { name: 'opq/old1', data: 'old1\n' },
    { name: 'opq/sub/', type: 'dir' },
    { name: 'opq/sub/old2', data: 'old2\n' },
    { name: 'gone.txt', data: 'gone\n' },
    { name: 'gonedir/', type: 'dir' },
    { name: 'gonedir/x', data: 'x\n' },
    { name: 'suid', mode: 0o4755, data: '#!/bin/sh\n' },
    { name: 'owned', mode: 0o640, uid: 1000, gid: 1001, data: 'owned\n' },
    { name: 'abs', type: 'symlink', link: '/etc/passwd' },
    { name: 'hard', type: 'hardlink', link: 'keep/b' },
    { name: 'fifo', type: 'fifo', mode: 0o600 },
    { name: 'deep/', type: 'dir' },
    { name: `deep/${'d'.repeat(60)}/`, type: 'dir' },
    { name: LONG, data: 'long\n' },
    { name: 'xattr', data: 'x\n', xattrs: { 'user.runts': 'yes' } },
  ]);
  const l1 = tarOf([
    { name: '.wh.gone.txt' },
    { name: '.wh.gonedir' },
    { name: 'keep/', type: 'dir' },
    { name: 'keep/.wh.a' },
    { name: 'opq/', type: 'dir', mode: 0o755 },
    { name: 'opq/.wh..wh..opq' },
    { name: 'opq/new', data: 'new\n' },
    { name: 'opq/sub/', type: 'dir' },
    { name: 'opq/sub/new2', data: 'new2\n' },
    { name: 'etc/', type: 'dir' },
    { name: 'etc/motd', data: 'layer 1\n' },
  ]);
  const l2 = tarOf([
    { name: 'keep/', type: 'dir' },
    { name: 'keep/c', data: 'c\n', mode: 0o600 },
    { name: 'gone.txt/', type: 'dir', mode: 0o700 },
  ]);
  return [{ tar: l0, gzip: true }, { tar: l1 }, { tar: l2, gzip: true }];
}

const CONFIG = {
  author: 'runts tests',
  config: {
    User: 'app',
    Env: ['PATH=/bin', 'FOO=bar baz'],
    Entrypoint: ['/bin/sh', '-c'],
    Cmd: ['echo "$FOO|$HOME|$(pwd)"; grep -E "^(Uid|Gid|Groups):" /proc/self/status; ls -a /opq /opq/sub /keep; cat /etc/motd; ls /gone.txt /gonedir 2>&1; ls -ld /gone.txt'],
    WorkingDir: '/home/app',
    ExposedPorts: { '80/tcp': {}, '53/udp': {} },
    Labels: { 'org.example.label': 'hello' },
    StopSignal: 'SIGINT',
  },
};

let layout: string;

beforeAll(() => {
  c = context('bundle');
  busybox = fs.readFileSync(path.join(rootfs(), 'bin', 'busybox'));
  layout = path.join(c.work, 'layout');
  ociLayout(layout, layers(), CONFIG, 'v1');
});

afterAll(() => {
  // every bundle a test made is removed by it; this catches what a failing test left
  for (const line of fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const m = line.split(' ')[4];
    if (m && m.startsWith(`${c.work}/`)) try { execFileSync('umount', ['-l', m]); } catch { /* gone */ }
  }
  cleanupContext(c);
});

function mountsIn(dir: string): string[] {
  return fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').map((l) => l.split(' ')[4]).filter((m) => m && (m === dir || m.startsWith(`${dir}/`)));
}

let seq = 0;
const uniq = (p: string) => `${p}${process.pid}-${++seq}`;

/** The value of xattr `name` of every path below `root` that has one (python3's os.getxattr: setup.sh installs it). */
function xattrs(root: string, name: string): Map<string, string> {
  const py = 'import os,sys\nr,n=sys.argv[1],sys.argv[2]\nfor d,ds,fs in os.walk(r):\n for x in [d]+[os.path.join(d,f) for f in fs+ds]:\n  try: print(os.path.relpath(x,r)+"\\t"+os.getxattr(x,n,follow_symlinks=False).decode())\n  except OSError: pass\n';
  const out = execFileSync('python3', ['-c', py, root, name], { encoding: 'utf8' });
  return new Map(out.split('\n').filter(Boolean).map((l) => l.split('\t') as [string, string]));
}

/** A description of a tree: one line per path (type, mode, owner, link target or content digest, user xattr). */
function treeOf(root: string, skipRoot = false): string[] {
  const out: string[] = [];
  const xa = xattrs(root, 'user.runts');
  const walk = (dir: string, rel: string) => {
    for (const n of fs.readdirSync(dir).sort()) {
      const p = path.join(dir, n);
      const r = rel ? `${rel}/${n}` : n;
      const st = fs.lstatSync(p);
      const type = st.isDirectory() ? 'd' : st.isSymbolicLink() ? 'l' : st.isFile() ? 'f' : st.isFIFO() ? 'p' : st.isCharacterDevice() ? 'c' : '?';
      let what = '';
      if (st.isSymbolicLink()) what = fs.readlinkSync(p);
      else if (st.isFile()) what = sha(fs.readFileSync(p)).slice(0, 16);
      out.push(`${r} ${type} ${(st.mode & 0o7777).toString(8)} ${st.uid}:${st.gid} ${what} ${xa.get(r) ?? ''}`.trim());
      if (st.isFile() && !st.isSymbolicLink()) out[out.length - 1] += ` mtime=${Math.floor(st.mtimeMs / 1000)}`;
      if (st.isDirectory()) walk(p, r);
    }
  };
  if (!skipRoot) {
    const st = fs.lstatSync(root);
    out.push(`. d ${(st.mode & 0o7777).toString(8)} ${st.uid}:${st.gid}`);
  }
  walk(root, '');
  return out;
}


describe('runts bundle from an OCI layout', () => {
  it('overlay bundle: each layer a lowerdir from the cache, whiteouts and the opaque dir applied; the image config in config.json; runs', () => {
    const dest = path.join(c.work, uniq('oci-'));
    const r = rt(c, ['bundle', '--image', `oci:${layout}:v1`, dest]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    try {
      const mnt = fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').find((l) => l.split(' ')[4] === path.join(dest, 'rootfs'));
      expect(mnt).toMatch(/ - overlay overlay /);
      // three layers in the cache, each a lowerdir (top first), upper and work in DEST
      const store = path.join(c.work, '.runts-cache', 'sha256');
      const layerDirs = fs.readdirSync(store).filter((n) => !n.startsWith('.'));
      expect(layerDirs).toHaveLength(3);
      expect(mnt).toContain(`upperdir=${dest}/upper`);
      expect(mnt).toContain(`workdir=${dest}/work`);
      // overlay whiteouts and the opaque xattr are in the cached layer, not applied by deletion
      const l1 = layerDirs.map((d) => path.join(store, d, 'tree')).find((t) => fs.existsSync(path.join(t, 'opq', 'new')))!;
      const wh = fs.lstatSync(path.join(l1, 'gone.txt'));
      expect(wh.isCharacterDevice() && wh.rdev === 0).toBe(true);
      expect(xattrs(l1, 'trusted.overlay.opaque')).toEqual(new Map([['opq', 'y']]));

      const cfg = JSON.parse(fs.readFileSync(path.join(dest, 'config.json'), 'utf8'));
      expect(cfg.root).toEqual({ path: 'rootfs', readonly: false });
      expect(cfg.process.args).toEqual(['/bin/sh', '-c', CONFIG.config.Cmd[0]]);
      expect(cfg.process.user).toEqual({ uid: 1000, gid: 1000, additionalGids: [1001] });
      expect(cfg.process.cwd).toBe('/home/app');
      expect(cfg.process.env).toEqual(['PATH=/bin', 'TERM=xterm', 'FOO=bar baz', 'HOME=/home/app']);
      expect(cfg.annotations).toEqual({
        'org.example.label': 'hello',
        'org.opencontainers.image.os': 'linux',
        'org.opencontainers.image.architecture': expect.any(String),
        'org.opencontainers.image.author': 'runts tests',
        'org.opencontainers.image.created': '2024-01-01T00:00:00Z',
        'org.opencontainers.image.stopSignal': 'SIGINT',
        'org.opencontainers.image.exposedPorts': '53/udp,80/tcp',
      });

      const run = rt(c, ['run', '--bundle', dest, uniq('b')]);
      expect(run.stderr).toBe('');
      expect(run.status).toBe(0);
      expect(run.stdout.split('\n')).toEqual([
        'bar baz|/home/app|/home/app',
        'Uid:\t1000\t1000\t1000\t1000',
        'Gid:\t1000\t1000\t1000\t1000',
        'Groups:\t1001 ',
        '/keep:', '.', '..', 'b', 'c', '',
        '/opq:', '.', '..', 'new', 'sub', '',
        '/opq/sub:', '.', '..', 'new2',
        'layer 1',
        'ls: /gonedir: No such file or directory',
        '/gone.txt:',
        "ls: can't open '/gone.txt': Permission denied",
        expect.stringMatching(/^drwx------ .* \/gone.txt$/),
        '',
      ]);
      // the container's writes went to DEST/upper, not to the cache
      const w = rt(c, ['run', '--bundle', dest, uniq('b')], {});
      expect(w.status).toBe(0);
    } finally {
      const rm = rt(c, ['bundle', '--remove', dest]);
      expect(rm.stderr).toBe('');
      expect(rm.status).toBe(0);
    }
    expect(fs.existsSync(dest)).toBe(false);
    expect(mountsIn(dest)).toEqual([]);
  });

  const haveUmoci = hasProgram('umoci');
  if (!haveUmoci) console.log('skipped: the umoci comparison: umoci is not installed (scripts/setup-e2e.sh installs it)');
  it.skipIf(!haveUmoci)('the rootfs (overlay and --copy) matches what umoci unpacks: names, types, modes, owners, link targets, contents, mtimes, xattrs', () => {
    const um = path.join(c.work, uniq('umoci-'));
    execFileSync('umoci', ['unpack', '--image', `${layout}:v1`, um], { stdio: 'pipe' });
    const want = treeOf(path.join(um, 'rootfs'));
    expect(want.some((l) => l.startsWith('opq/sub/new2 f'))).toBe(true);
    expect(want.some((l) => l.startsWith('keep/a '))).toBe(false);
    const ov = path.join(c.work, uniq('ov-'));
    const cp = path.join(c.work, uniq('cp-'));
    expect(rt(c, ['bundle', '--image', `oci:${layout}:v1`, '--cache', path.join(c.work, 'cache2'), ov]).status).toBe(0);
    expect(rt(c, ['bundle', '--copy', '--image', `oci:${layout}:v1`, cp]).status).toBe(0);
    try {
      expect(treeOf(path.join(ov, 'rootfs'))).toEqual(want);
      expect(treeOf(path.join(cp, 'rootfs'))).toEqual(want);
      // --copy: a plain directory, no mount, no cache
      expect(mountsIn(cp)).toEqual([]);
      expect(fs.readdirSync(cp).sort()).toEqual(['.runts-bundle', 'config.json', 'rootfs']);
      // the same process settings as umoci derives from the image config
      const ucfg = JSON.parse(fs.readFileSync(path.join(um, 'config.json'), 'utf8'));
      const ocfg = JSON.parse(fs.readFileSync(path.join(ov, 'config.json'), 'utf8'));
      expect(ocfg.process.args).toEqual(ucfg.process.args);
      expect(ocfg.process.cwd).toEqual(ucfg.process.cwd);
      expect(ocfg.process.user).toEqual(ucfg.process.user);
      for (const k of ['org.example.label', 'org.opencontainers.image.exposedPorts', 'org.opencontainers.image.stopSignal', 'org.opencontainers.image.author']) {
        expect(ocfg.annotations[k]).toBe(ucfg.annotations[k]);
      }
    } finally {
      rt(c, ['bundle', '--remove', ov]);
      rt(c, ['bundle', '--remove', cp]);
      fs.rmSync(um, { recursive: true, force: true });
    }
    expect(mountsIn(ov)).toEqual([]);
  });

  it('oci-archive: a tar of the layout, with the tag; the cache is reused across bundles', () => {
    const archive = path.join(c.work, 'image.tar');
    execFileSync('tar', ['-C', layout, '-cf', archive, '.']);
    const cache = path.join(c.work, uniq('cache-'));
    const a = path.join(c.work, uniq('arch-'));
    const b = path.join(c.work, uniq('arch-'));
    expect(rt(c, ['bundle', '--image', `oci-archive:${archive}:v1`, '--cache', cache, a]).stderr).toBe('');
    const store = path.join(cache, 'sha256');
    const inodes = fs.readdirSync(store).map((d) => fs.statSync(path.join(store, d)).ino);
    expect(rt(c, ['bundle', '--image', `oci-archive:${archive}`, '--cache', cache, b]).stderr).toBe('');
    try {
      expect(fs.readdirSync(store).map((d) => fs.statSync(path.join(store, d)).ino)).toEqual(inodes);
      expect(fs.readFileSync(path.join(b, 'rootfs', 'etc', 'motd'), 'utf8')).toBe('layer 1\n');
      // a write in one bundle is not seen by the other
      fs.writeFileSync(path.join(a, 'rootfs', 'keep', 'b'), 'changed\n');
      expect(fs.readFileSync(path.join(b, 'rootfs', 'keep', 'b'), 'utf8')).toBe('b\n');
      expect(fs.readFileSync(path.join(a, 'upper', 'keep', 'b'), 'utf8')).toBe('changed\n');
    } finally {
      expect(rt(c, ['bundle', '--remove', a]).status).toBe(0);
      expect(rt(c, ['bundle', '--remove', b]).status).toBe(0);
    }
    const r = rt(c, ['bundle', '--image', `oci-archive:${archive}:nope`, path.join(c.work, 'x')]);
    expect(r.stderr).toBe('runts: ' + `${archive}: no image tagged "nope" (tags: v1)\n`);
  });
});

describe('runts bundle from a docker-archive', () => {
  const image = path.join(REPO, 'test', '.tmp', 'e2e', 'busybox.tar');
  const have = fs.existsSync(image);
  if (!have) console.log(`skipped: ${image} is missing (scripts/setup-e2e.sh builds it)`);

  it.skipIf(!have)('the e2e busybox image (podman-loadable docker-archive): bundled as overlay and as --copy, then run', () => {
    for (const copy of [false, true]) {
      const dest = path.join(c.work, uniq('docker-'));
      const r = rt(c, ['bundle', '--image', `docker-archive:${image}`, ...(copy ? ['--copy'] : []), dest]);
      expect(r.stderr).toBe('');
      try {
        const cfgFile = path.join(dest, 'config.json');
        const cfg = JSON.parse(fs.readFileSync(cfgFile, 'utf8'));
        expect(cfg.process.args).toEqual(['sh']);
        expect(cfg.process.env).toContain('HOME=/root');
        cfg.process.args = ['sh', '-c', 'cat /etc/hostname; id -u; ls /bin/busybox; touch /new && echo written'];
        fs.writeFileSync(cfgFile, JSON.stringify(cfg));
        const run = rt(c, ['run', '--bundle', dest, uniq('d')]);
        expect(run.stderr).toBe('');
        expect(run.stdout).toBe('e2e\n0\n/bin/busybox\nwritten\n');
        expect(fs.existsSync(path.join(dest, copy ? 'rootfs' : 'upper', 'new'))).toBe(true);
      } finally {
        expect(rt(c, ['bundle', '--remove', dest]).status).toBe(0);
      }
      expect(fs.existsSync(dest)).toBe(false);
    }
  });
});

describe('runts bundle: bad images get one clear line and leave nothing', () => {
  const ok = () => tarOf([{ name: 'bin/', type: 'dir' }, { name: 'bin/f', data: 'f\n' }]);
  const cases: Array<{ name: string; make: (dir: string) => void; err: RegExp; copy?: boolean; outside?: string }> = [
    {
      name: 'a missing blob',
      make: (d) => { ociLayout(d, [{ tar: ok() }, { tar: tarOf([{ name: 'x', data: 'x' }]) }], {}); fs.rmSync(path.join(d, 'blobs', 'sha256', sha(tarOf([{ name: 'x', data: 'x' }])))); },
      err: /layer 1 \(sha256:[0-9a-f]{64}\): blob sha256:[0-9a-f]{64} missing from /,
    },
    {
      name: 'a digest mismatch',
      make: (d) => { ociLayout(d, [{ tar: ok() }, { tar: tarOf([{ name: 'x', data: 'x' }]) }], {}); fs.appendFileSync(path.join(d, 'blobs', 'sha256', sha(tarOf([{ name: 'x', data: 'x' }]))), 'tampered'); },
      err: /layer 1 \(sha256:[0-9a-f]{64}\): digest mismatch: blob blobs\/sha256\/[0-9a-f]{64} has sha256:[0-9a-f]{64}, expected sha256:/,
    },
    {
      name: 'a diff_id mismatch',
      make: (d) => ociLayout(d, [{ tar: ok(), gzip: true }], {}, 'latest', (_m, cfg) => { cfg.rootfs.diff_ids = [`sha256:${'0'.repeat(64)}`]; }),
      err: /layer 0 \(sha256:[0-9a-f]{64}\): diff_id mismatch: the uncompressed layer has sha256:[0-9a-f]{64}, the config says sha256:0{64}/,
    },
    {
      name: 'an unknown media type',
      make: (d) => ociLayout(d, [{ tar: ok(), mediaType: 'application/x-rar' }], {}),
      err: /layer 0 \(sha256:[0-9a-f]{64}\): unknown media type "application\/x-rar"/,
    },
    {
      name: 'a layer path with ".."',
      make: (d) => ociLayout(d, [{ tar: ok() }, { tar: tarOf([{ name: '../../dotdot-escape', data: 'x' }]) }], {}),
      err: /layer 1 \(sha256:[0-9a-f]{64}\): "..\/..\/dotdot-escape": a path with ".." \(would leave the rootfs\)/,
      outside: 'dotdot-escape',
    },
    {
      name: 'a layer path with ".." (--copy)',
      make: (d) => ociLayout(d, [{ tar: ok() }, { tar: tarOf([{ name: 'bin/../../dotdot-escape', data: 'x' }]) }], {}),
      err: /a path with ".." \(would leave the rootfs\)/,
      copy: true,
      outside: 'dotdot-escape',
    },
    {
      name: 'an absolute symlink escaping the rootfs',
      make: (d) => ociLayout(d, [{ tar: tarOf([{ name: 'esc', type: 'symlink', link: path.join(c.work, 'outside') }, { name: 'esc/pwned', data: 'x' }]) }], {}),
      err: /"esc\/pwned": goes through the symlink "esc" \(-> \/.*outside\), which could lead out of the rootfs/,
      outside: 'outside/pwned',
    },
    {
      name: 'a symlink escaping the rootfs in a later layer (--copy)',
      make: (d) => ociLayout(d, [{ tar: tarOf([{ name: 'esc', type: 'symlink', link: '../../../../../../..' + path.join(c.work, 'outside') }]) }, { tar: tarOf([{ name: 'esc/pwned', data: 'x' }]) }], {}),
      err: /layer 1 .*"esc\/pwned": goes through the symlink "esc"/,
      copy: true,
      outside: 'outside/pwned',
    },
    {
      name: 'a hard link to a file outside the layer',
      make: (d) => ociLayout(d, [{ tar: tarOf([{ name: 'etc/', type: 'dir' }, { name: 'etc/shadow-link', type: 'hardlink', link: '/etc/shadow' }]) }], {}),
      err: /hard link "etc\/shadow-link": target "\/etc\/shadow" is not a file of this layer/,
    },
    {
      name: 'a hard link with ".."',
      make: (d) => ociLayout(d, [{ tar: tarOf([{ name: 'hl', type: 'hardlink', link: '../../../../../../etc/passwd' }]) }], {}),
      err: /hard link "hl": "..\/..\/..\/..\/..\/..\/etc\/passwd": a path with ".."/,
    },
    {
      name: 'a user the image does not have',
      make: (d) => ociLayout(d, [{ tar: ok() }], { config: { User: 'nobody-here' } }),
      err: /image config User "nobody-here": no user "nobody-here" in the image's \/etc\/passwd/,
    },
  ];
  for (const k of cases) {
    it(k.name, () => {
      const base = path.join(c.work, uniq('bad-'));
      fs.mkdirSync(base);
      fs.mkdirSync(path.join(c.work, 'outside'), { recursive: true });
      const img = path.join(base, 'img');
      k.make(img);
      const dest = path.join(base, 'sub', 'dest');
      fs.mkdirSync(path.dirname(dest));
      const r = rt(c, ['bundle', '--image', `oci:${img}`, ...(k.copy ? ['--copy'] : []), dest]);
      expect(r.status).toBe(1);
      expect(r.stderr.split('\n')).toHaveLength(2);
      expect(r.stderr).toMatch(/^runts: /);
      expect(r.stderr).toMatch(k.err);
      // nothing left: no DEST, no cache, no mount, nothing written outside
      expect(fs.readdirSync(path.dirname(dest))).toEqual([]);
      expect(mountsIn(base)).toEqual([]);
      if (k.outside) {
        expect(fs.existsSync(path.join(c.work, k.outside))).toBe(false);
        expect(fs.existsSync(path.join(base, k.outside))).toBe(false);
        expect(fs.existsSync(path.join(base, 'sub', k.outside))).toBe(false);
      }
    });
  }

  it('an existing shared cache keeps its complete layers and loses no temporary dir', () => {
    const cache = path.join(c.work, uniq('shared-cache-'));
    const img = path.join(c.work, uniq('img-'));
    ociLayout(img, [{ tar: ok() }, { tar: tarOf([{ name: '../x', data: 'x' }]) }], {});
    fs.mkdirSync(cache);
    const r = rt(c, ['bundle', '--image', `oci:${img}`, '--cache', cache, path.join(c.work, uniq('d-'))]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/a path with "\.\."/);
    expect(fs.readdirSync(path.join(cache, 'sha256'))).toEqual([sha(ok())]);
  });

  it('bad command lines: an unknown transport, a non-empty DEST, --remove of a directory runts did not make', () => {
    const r1 = rt(c, ['bundle', '--image', `docker://busybox`, path.join(c.work, 'y')]);
    expect(r1.stderr).toBe('runts: --image docker://busybox: unknown transport "docker" (oci, oci-archive, docker-archive)\n');
    const full = path.join(c.work, uniq('full-'));
    fs.mkdirSync(full);
    fs.writeFileSync(path.join(full, 'keep'), 'x');
    const r2 = rt(c, ['bundle', '--image', `oci:${layout}:v1`, full]);
    expect(r2.stderr).toBe(`runts: ${full}: exists and is not an empty directory\n`);
    const r3 = rt(c, ['bundle', '--remove', full]);
    expect(r3.status).toBe(1);
    expect(r3.stderr).toBe(`runts: ${full}: not a bundle made by runts bundle (no .runts-bundle)\n`);
    expect(fs.readFileSync(path.join(full, 'keep'), 'utf8')).toBe('x');
    const r4 = rt(c, ['bundle', path.join(c.work, 'z')]);
    expect(r4.stderr).toMatch(/^runts: --image: required/);
  });
});
