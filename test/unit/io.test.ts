// src/io.ts's file functions that create, run and exec use instead of node:fs, through the addon (the build
// tree's under vitest), against what node:fs reports for the same files.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { afterAll, describe, expect, it } from 'vitest';
import { W_OK, X_OK, canAccess, isDirMode, isLinkMode, makeDirs, readBytes, realPath, statFile } from '../../src/io';
import { cheapNative } from '../../src/native';

const skip = !cheapNative();
if (skip) console.log('io.test: skipped: the addon is not built (npm run build)');

describe.skipIf(skip)('io file functions (addon) against node:fs', () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'runts-io-'));
  afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('statFile: mode, dev, ino of stat, lstat and fstat; ENOENT/ENOTDIR as codes', () => {
    fs.writeFileSync(path.join(tmp, 'f'), 'x');
    fs.symlinkSync('f', path.join(tmp, 'l'));
    for (const [p, nofollow] of [[tmp, false], [path.join(tmp, 'l'), false], [path.join(tmp, 'l'), true], ['/proc/self/ns/net', false]] as const) {
      const st = nofollow ? fs.lstatSync(p) : fs.statSync(p);
      expect(statFile(p, nofollow)).toEqual({ mode: st.mode, dev: st.dev, ino: st.ino });
    }
    expect(isLinkMode(statFile(path.join(tmp, 'l'), true).mode)).toBe(true);
    expect(isDirMode(statFile(tmp).mode)).toBe(true);
    const fd = fs.openSync(path.join(tmp, 'f'), 'r');
    try { expect(statFile(fd).ino).toBe(fs.fstatSync(fd).ino); } finally { fs.closeSync(fd); }
    expect(() => statFile(path.join(tmp, 'nope'))).toThrow(expect.objectContaining({ code: 'ENOENT' }));
    expect(() => statFile(path.join(tmp, 'f', 'x'))).toThrow(expect.objectContaining({ code: 'ENOTDIR' }));
    expect(() => statFile(987654)).toThrow(expect.objectContaining({ code: 'EBADF' }));
  });

  it('makeDirs: mkdir -p with the mode on each new level; an existing directory is fine, a file is EEXIST', () => {
    const d = path.join(tmp, 'a', 'b', 'c');
    const old = process.umask(0);
    try {
      makeDirs(d, 0o711);
      makeDirs(d, 0o711);
    } finally {
      process.umask(old);
    }
    for (const p of [path.join(tmp, 'a'), path.join(tmp, 'a', 'b'), d]) expect(fs.statSync(p).mode & 0o777).toBe(0o711);
    expect(() => makeDirs(path.join(tmp, 'f'), 0o700)).toThrow(expect.objectContaining({ code: 'EEXIST' }));
    expect(() => makeDirs(path.join(tmp, 'f', 'x'), 0o700)).toThrow(expect.objectContaining({ code: 'ENOTDIR' }));
  });

  it('realPath, canAccess and readBytes as node:fs', () => {
    expect(realPath(path.join(tmp, 'l'))).toBe(fs.realpathSync(path.join(tmp, 'l')));
    expect(() => realPath(path.join(tmp, 'nope'))).toThrow(expect.objectContaining({ code: 'ENOENT' }));
    expect(canAccess(tmp, W_OK)).toBe(true);
    expect(canAccess(path.join(tmp, 'f'), X_OK)).toBe(false);
    expect(canAccess('/bin/sh', X_OK)).toBe(true);
    const big = Buffer.alloc(100_000, 'ab');
    fs.writeFileSync(path.join(tmp, 'big'), big);
    expect(Buffer.from(readBytes(path.join(tmp, 'big'))).equals(big)).toBe(true);
    expect(readBytes(path.join(tmp, 'f'))).toEqual(new Uint8Array([120]));
    expect(() => readBytes(path.join(tmp, 'nope'))).toThrow(expect.objectContaining({ code: 'ENOENT' }));
  });
});
