// Pure parts of `runts bundle`: the tar reader, entry names, the image User resolution, the config conversion.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { execFileSync } from 'child_process';
import { describe, expect, it } from 'vitest';
import { bufferSource, entries } from '../../src/image/tar';
import { entryPath } from '../../src/image/unpack';
import { resolveUser, toRuntimeSpec } from '../../src/image/config';

describe('tar reader', () => {
  it('reads what GNU tar writes in pax and gnu formats: long names, links, modes, owners, mtimes, xattrs', () => {
    const d = fs.mkdtempSync(path.join(os.tmpdir(), 'runts-tar-'));
    try {
      const long = `${'a'.repeat(80)}/${'b'.repeat(90)}`;
      fs.mkdirSync(path.join(d, 'src', 'a'.repeat(80)), { recursive: true });
      fs.writeFileSync(path.join(d, 'src', long), 'long\n');
      fs.symlinkSync(`../${'t'.repeat(120)}`, path.join(d, 'src', 'ln'));
      fs.linkSync(path.join(d, 'src', long), path.join(d, 'src', 'hard'));
      for (const format of ['posix', 'gnu']) {
        const tar = execFileSync('tar', ['-C', path.join(d, 'src'), `--format=${format}`, '--owner=1234', '--group=5678', '--mode=u+s', '--mtime=@1600000000', '--sort=name', '-cf', '-', '.']);
        const list = [...entries(bufferSource(tar))];
        const byName = new Map(list.map((e) => [e.name.replace(/^\.\//, '').replace(/\/$/, ''), e]));
        const f = byName.get(long)!;
        expect(f.type).toBe('file');
        expect(tar.subarray(f.offset, f.offset + f.size).toString()).toBe('long\n');
        expect([f.uid, f.gid, f.mtime, f.mode & 0o4000]).toEqual([1234, 5678, 1600000000, 0o4000]);
        expect(byName.get('ln')).toMatchObject({ type: 'symlink', linkname: `../${'t'.repeat(120)}` });
        const h = byName.get('hard') ?? byName.get(long)!;
        expect(['hardlink', 'file']).toContain(h.type);
        expect(byName.get('a'.repeat(80))!.type).toBe('dir');
      }
    } finally {
      fs.rmSync(d, { recursive: true, force: true });
    }
  });

  it('refuses a bad checksum and a truncated archive', () => {
    const tar = execFileSync('tar', ['-C', '/etc', '-cf', '-', 'hostname']);
    const bad = Buffer.from(tar);
    bad[0] ^= 1;
    expect(() => [...entries(bufferSource(bad))]).toThrow(/bad tar header checksum/);
    expect(() => [...entries(bufferSource(tar.subarray(0, 600)))]).toThrow(/truncated/);
  });
});

describe('layer entry names', () => {
  it('strips ./ and /, refuses ..', () => {
    expect(entryPath('./a//b/', 'l')).toEqual(['a', 'b']);
    expect(entryPath('/etc/passwd', 'l')).toEqual(['etc', 'passwd']);
    expect(entryPath('./', 'l')).toEqual([]);
    expect(() => entryPath('a/../../b', 'l')).toThrow('l: "a/../../b": a path with ".." (would leave the rootfs)');
  });
});

describe('image User', () => {
  const passwd = 'root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000::/home/app:/bin/sh\n';
  const group = 'root:x:0:\napp:x:1000:\nextra:x:1001:app,other\nmore:x:1002:app\n';
  it('resolves names and numbers as runc\'s GetExecUser does', () => {
    expect(resolveUser('', passwd, group)).toEqual({ uid: 0, gid: 0, sgids: [], home: '/root' });
    expect(resolveUser('app', passwd, group)).toEqual({ uid: 1000, gid: 1000, sgids: [1001, 1002], home: '/home/app' });
    expect(resolveUser('1000', passwd, group)).toEqual({ uid: 1000, gid: 1000, sgids: [1001, 1002], home: '/home/app' });
    expect(resolveUser('app:extra', passwd, group)).toEqual({ uid: 1000, gid: 1001, sgids: [], home: '/home/app' });
    expect(resolveUser('4242:4343', passwd, group)).toEqual({ uid: 4242, gid: 4343, sgids: [], home: '' });
    expect(resolveUser('4242', undefined, undefined)).toEqual({ uid: 4242, gid: 0, sgids: [], home: '' });
    expect(() => resolveUser('nope', passwd, group)).toThrow('image config User "nope": no user "nope" in the image\'s /etc/passwd');
    expect(() => resolveUser('app:nogroup', passwd, group)).toThrow('image config User "app:nogroup": no group "nogroup" in the image\'s /etc/group');
  });

  it('converts the config: args, env, cwd, annotations, volumes; refuses another os', () => {
    const base = () => ({ process: { args: ['sh'], env: ['PATH=/usr/bin', 'TERM=xterm'], cwd: '/', terminal: true, user: { uid: 0, gid: 0 } }, root: { path: 'rootfs', readonly: true }, mounts: [] as unknown[] });
    const s = toRuntimeSpec(base(), { os: 'linux', config: { Cmd: ['a'], Entrypoint: ['e'], Env: ['PATH=/x', 'A=b=c'], Volumes: { '/data': {} } } }, {});
    expect(s.process).toMatchObject({ args: ['e', 'a'], env: ['PATH=/x', 'TERM=xterm', 'A=b=c'], cwd: '/', terminal: false });
    expect(s.mounts).toEqual([{ destination: '/data', type: 'tmpfs', source: 'none', options: ['rw', 'nosuid', 'nodev', 'noexec', 'relatime'] }]);
    expect(toRuntimeSpec(base(), { config: {} }, {}).process.args).toEqual(['sh']);
    expect(() => toRuntimeSpec(base(), { os: 'windows' }, {})).toThrow('image config os: "windows" is not supported (linux only)');
    expect(() => toRuntimeSpec(base(), { config: { Env: ['NOEQ'] } }, {})).toThrow('image config Env[0]: "NOEQ" is not NAME=VALUE');
    expect(() => toRuntimeSpec(base(), { config: { WorkingDir: 'rel' } }, {})).toThrow('image config WorkingDir: "rel" is not an absolute path');
  });
});
