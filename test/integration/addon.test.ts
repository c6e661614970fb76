// Where dist/runts loads its addon from: the file the same build wrote beside it (dist/runts-native-<hash>.node,
// dlopened by its absolute path next to the real executable), else its embedded copy (a lone copy of the
// executable still works). Which file the dynamic loader opens is read from LD_DEBUG=files.
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RUNTS, baseConfig, bundle, cleanupContext, context, type Ctx } from '../helpers';
import { loadNative } from '../../src/native';

const compiled = fs.existsSync(RUNTS) && fs.readFileSync(RUNTS).subarray(0, 4).toString('latin1') === '\x7fELF';
const real = compiled ? fs.realpathSync(RUNTS) : '';
const side = compiled ? fs.readdirSync(path.dirname(real)).filter((f) => /^runts-native-[0-9a-f]{16}\.node$/.test(f)) : [];
const why = !compiled ? `${RUNTS} is not a compiled executable` : side.length !== 1 ? `no single addon beside ${real} (${side.join(', ') || 'none'})` : '';
if (why) console.log(`addon.test: skipped: ${why}`);

/**
 * Run `exe` (LD_DEBUG=files): its status, stdout, stderr without the loader's lines, and the files the dynamic
 * loader loaded for dlopen. Output goes through files: a created container inherits them (a pipe would stay open).
 */
function call(exe: string, c: Ctx, args: string[]): { status: number | null; stdout: string; stderr: string; dlopened: string[] } {
  const base = path.join(c.work, `.out-${process.pid}`);
  const out = fs.openSync(`${base}.1`, 'w+');
  const err = fs.openSync(`${base}.2`, 'w+');
  try {
    const r = spawnSync(exe, ['--root', c.root, ...args], { env: { ...process.env, LD_DEBUG: 'files' }, stdio: ['ignore', out, err], timeout: 30_000 });
    const all = fs.readFileSync(`${base}.2`, 'utf8');
    const dlopened = [...all.matchAll(/file=(\S+) \[0\];\s+dynamically loaded by/g)].map((m) => m[1]).filter((f) => !/\.so(\.\d+)*$/.test(f));
    const stderr = all.split('\n').filter((l) => !/^\s*\d+:/.test(l) && l.trim()).join('\n');
    return { status: r.status, stdout: fs.readFileSync(`${base}.1`, 'utf8'), stderr, dlopened };
  } finally {
    fs.closeSync(out);
    fs.closeSync(err);
  }
}

describe.skipIf(!!why)('the addon beside the executable', () => {
  let c: Ctx;
  let b: string;
  beforeAll(() => {
    c = context('addon');
    b = bundle(c, baseConfig(['sleep', '60']));
  });
  afterAll(() => cleanupContext(c));

  /** create, start, state, kill 0, kill KILL, delete through `exe`; returns what `kill 0` dlopened */
  function lifecycle(exe: string, id: string): string[] {
    const ok = (args: string[]) => {
      const r = call(exe, c, args);
      expect([r.status, r.stderr]).toEqual([0, '']);
      return r;
    };
    ok(['create', '--bundle', b, id]);
    ok(['start', id]);
    expect(JSON.parse(ok(['state', id]).stdout)).toMatchObject({ id, status: 'running' });
    const k = ok(['kill', id, '0']);
    ok(['kill', id, 'KILL']);
    for (let i = 0; i < 100 && JSON.parse(ok(['state', id]).stdout).status !== 'stopped'; i++) spawnSync('sleep', ['0.02']);
    ok(['delete', id]);
    expect(fs.existsSync(path.join(c.root, id))).toBe(false);
    return k.dlopened;
  }

  it('dist/runts dlopens the addon of its own build, by absolute path beside its real file (bin/runts is a link)', () => {
    expect(lifecycle(RUNTS, `side${process.pid}`)).toEqual([path.join(path.dirname(real), side[0])]);
  });

  it('a lone copy of the executable falls back to its embedded addon, and works', () => {
    const dir = fs.mkdtempSync(path.join(c.work, 'lone-'));
    const exe = path.join(dir, 'runts');
    fs.copyFileSync(real, exe);
    fs.chmodSync(exe, 0o755);
    const got = lifecycle(exe, `lone${process.pid}`);
    // it looked beside itself, found nothing, and loaded the embedded bytes from an unnamed file
    expect(got).toEqual([path.join(dir, side[0]), expect.stringMatching(/^\/proc\/self\/fd\/\d+$/)]);
  });

  it('an addon of another build beside a copy (another hash) is never loaded', () => {
    const dir = fs.mkdtempSync(path.join(c.work, 'stale-'));
    const exe = path.join(dir, 'runts');
    fs.copyFileSync(real, exe);
    fs.chmodSync(exe, 0o755);
    const stale = 'runts-native-0000000000000000.node';
    fs.copyFileSync(path.join(path.dirname(real), side[0]), path.join(dir, stale));
    const got = lifecycle(exe, `stale${process.pid}`);
    expect(got).not.toContain(path.join(dir, stale));
    expect(got.at(-1)).toMatch(/^\/proc\/self\/fd\/\d+$/);
  });

  it('a copy with the addon copied beside it uses that one', () => {
    const dir = fs.mkdtempSync(path.join(c.work, 'copy-'));
    const exe = path.join(dir, 'runts');
    fs.copyFileSync(real, exe);
    fs.chmodSync(exe, 0o755);
    fs.copyFileSync(path.join(path.dirname(real), side[0]), path.join(dir, side[0]));
    expect(lifecycle(exe, `copy${process.pid}`)).toEqual([path.join(dir, side[0])]);
  });
});

// start reads the init's socket with fsReadToEnd: nothing (EOF at once) in the usual case, an ERROR frame's bytes
// otherwise (binary header: one char per byte, as latin1)
describe('fsReadToEnd', () => {
  it('reads a socket to EOF as a latin1 string: empty at once, and binary bytes unchanged', () => {
    const native = loadNative();
    const [a, b] = native.socketPair();
    native.fsClose(b);
    expect(native.fsReadToEnd(a)).toBe('');
    native.fsClose(a);
    const [c, d] = native.socketPair();
    const bytes = new Uint8Array(10000);
    for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 7) & 255;
    let off = 0;
    while (off < bytes.length) off += native.fsWrite(d, bytes.subarray(off));
    native.fsClose(d);
    const got = native.fsReadToEnd(c);
    native.fsClose(c);
    expect(Buffer.from(got, 'latin1').equals(Buffer.from(bytes))).toBe(true);
    expect(() => native.fsReadToEnd(c)).toThrow(expect.objectContaining({ code: 'EBADF' }));
  });
});
