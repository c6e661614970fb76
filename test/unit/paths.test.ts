// src/paths.ts against node:path.posix on many inputs (absolute and relative, `.`, `..`, trailing and double
// slashes, empty): the create/run/exec graphs use paths.ts instead of node:path, so it must compute the same.
import * as path from 'path';
import { describe, expect, it } from 'vitest';
import * as paths from '../../src/paths';

const SEGS = ['', '.', '..', '/', '//', 'a', 'a/', '/a', 'a//b', 'a/./b', 'a/../b', '../a', './a', 'a/b/..', '/..', '/../a',
  '///a//b///', 'a/../..', '//a', '//a/b', '..a', 'a..', '.a', 'a/.', '/a/b/../../..', 'config.json', 'etc/passwd', '/run/runts/id'];

describe('paths (the subset of node:path.posix that create, run and exec use)', () => {
  it('normalize, isAbsolute, dirname, basename as node:path.posix', () => {
    for (const p of SEGS) {
      expect([p, paths.normalize(p)]).toEqual([p, path.posix.normalize(p)]);
      expect([p, paths.isAbsolute(p)]).toEqual([p, path.posix.isAbsolute(p)]);
      expect([p, paths.dirname(p)]).toEqual([p, path.posix.dirname(p)]);
      expect([p, paths.basename(p)]).toEqual([p, path.posix.basename(p)]);
    }
  });

  it('join and resolve of every pair and some triples as node:path.posix', () => {
    for (const a of SEGS) {
      for (const b of SEGS) {
        expect([a, b, paths.join(a, b)]).toEqual([a, b, path.posix.join(a, b)]);
        expect([a, b, paths.resolve(a, b)]).toEqual([a, b, path.posix.resolve(a, b)]);
        expect([a, b, paths.join(a, b, '..', 'x')]).toEqual([a, b, path.posix.join(a, b, '..', 'x')]);
        expect([a, b, paths.resolve('/base', a, b)]).toEqual([a, b, path.posix.resolve('/base', a, b)]);
      }
    }
    expect(paths.join()).toBe(path.posix.join());
    expect(paths.resolve()).toBe(path.posix.resolve());
  });
});
