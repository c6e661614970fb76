// The `delete --force` answer for a container that is already gone (src/gone.ts): taken only for the exact forms
// the full path would answer with exit 0 and nothing done; anything else falls through.
import { describe, expect, it } from 'vitest';
import { deleteForceOfGone } from '../../src/gone';

/** A fake Bun.mmap over a set of existing paths (directories among them) that records what it was asked. */
function fs(files: string[], dirs: string[] = []) {
  const asked: string[] = [];
  const mmap = (f: string): Uint8Array => {
    asked.push(f);
    const err = (code: string) => Object.assign(new Error(code), { code });
    if (dirs.includes(f)) throw err('EISDIR');
    if (!files.includes(f)) throw err('ENOENT');
    return new Uint8Array(1);
  };
  return { mmap, asked };
}

describe('deleteForceOfGone', () => {
  it('the containerd shim\'s and conmon\'s calls for a gone container', () => {
    const f = fs(['/s/id/log.json', '/x/oci-log'], ['/run/containerd/runc/default']);
    expect(deleteForceOfGone(['--root', '/run/containerd/runc/default', '--log', '/s/id/log.json', '--log-format', 'json', 'delete', '--force', 'c1'], f.mmap)).toBe(true);
    expect(f.asked).toEqual(['/s/id/log.json', '/run/containerd/runc/default/c1']);
    expect(deleteForceOfGone(['--log-format=json', '--log=/x/oci-log', 'delete', '--force', 'c2'], f.mmap, '/run/runts')).toBe(true);
    expect(f.asked.at(-1)).toBe('/run/runts/c2');
    expect(deleteForceOfGone(['--root=/r/', 'delete', 'c3', '-f'], f.mmap)).toBe(true);
    expect(f.asked.at(-1)).toBe('/r/c3');
  });

  it('falls through when the container directory exists (a file there too)', () => {
    expect(deleteForceOfGone(['--root', '/r', 'delete', '--force', 'c1'], fs([], ['/r/c1']).mmap)).toBe(false);
    expect(deleteForceOfGone(['--root', '/r', 'delete', '--force', 'c1'], fs(['/r/c1']).mmap)).toBe(false);
    const notDir = fs([]);
    notDir.mmap = (f: string) => { throw Object.assign(new Error(f), { code: 'ENOTDIR' }); };
    expect(deleteForceOfGone(['--root', '/r', 'delete', '--force', 'c1'], notDir.mmap)).toBe(false);
  });

  it('without --root: /run/runts only where --rootless cannot move it (root, no XDG_RUNTIME_DIR), else falls through', () => {
    const f = fs([]);
    expect(deleteForceOfGone(['delete', '--force', 'c1'], f.mmap, '/run/runts')).toBe(true);
    expect(f.asked).toEqual(['/run/runts/c1']);
    // a rootless user's containers are under $XDG_RUNTIME_DIR/runts: never answered from /run/runts
    expect(deleteForceOfGone(['delete', '--force', 'c1'], f.mmap, null)).toBe(false);
    expect(deleteForceOfGone(['--log-format', 'json', 'delete', '--force', 'c1'], f.mmap, null)).toBe(false);
    expect(deleteForceOfGone(['--root', '/r', 'delete', '--force', 'c1'], f.mmap, null)).toBe(true);
    expect(f.asked).toEqual(['/run/runts/c1', '/r/c1']);
  });

  it('falls through when the log file is missing: the full path creates it', () => {
    expect(deleteForceOfGone(['--log', '/nolog', 'delete', '--force', 'c1'], fs([]).mmap)).toBe(false);
    expect(deleteForceOfGone(['--log', '', 'delete', '--force', 'c1'], fs([]).mmap)).toBe(false);
  });

  it('falls through for anything else: other commands and flags, no --force, bad or flag-like ids, no Bun', () => {
    const { mmap } = fs([]);
    for (const argv of [
      ['delete', 'c1'], ['delete', '--force'], ['delete', '--force', 'c1', 'c2'], ['kill', '--force', 'c1'],
      ['--debug', 'delete', '--force', 'c1'], ['--systemd-cgroup', 'delete', '--force', 'c1'],
      ['--rootless', 'true', 'delete', '--force', 'c1'], ['--log-format', 'xml', 'delete', '--force', 'c1'],
      ['--root'], ['delete', '--force', '-rf'], ['delete', '-f', '--', 'c1'], ['delete', '--force', '--force'],
      ['delete', '--force', '..'], ['delete', '--force', 'a/b'], ['delete', '--force', 'a b'], ['delete', '--force', ''],
      ['delete', '--force', 'x'.repeat(1025)], ['delete', '-rf', 'c1'], ['delete', '--force=true', 'c1'],
    ]) expect(deleteForceOfGone(argv, mmap), argv.join(' ')).toBe(false);
    expect(deleteForceOfGone(['delete', '--force', 'c1'], undefined)).toBe(false);
    expect(deleteForceOfGone(['delete', '--force', 'A-z_0.9+'], mmap, '/run/runts')).toBe(true);
  });
});
