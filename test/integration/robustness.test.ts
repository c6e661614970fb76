// Bad input gets a clear error and leaves nothing behind; concurrent calls are serialized.
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Ctx, RUNTS, baseConfig, bundle, cleanupContext, context, mountsSnapshot, rootfs, rt, stateOf, cid } from '../helpers';

let c: Ctx;
beforeAll(() => { c = context('robust'); });
afterAll(() => cleanupContext(c));

/**
 * Every runtime this file calls (and the stubs they start) inherits this mark in its environment, so that the
 * stubs of other test runs on the same machine are not taken for ours.
 */
const MARK = `RUNTS_TEST_OWNER=${process.pid}-${Date.now()}`;
process.env.RUNTS_TEST_OWNER = MARK.split('=')[1];

/** Our processes whose command line names the stub: leftovers of a failed create would show here. */
function stubProcs(): number[] {
  const out: number[] = [];
  for (const p of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(p)) continue;
    try {
      if (!fs.readFileSync(`/proc/${p}/cmdline`, 'utf8').startsWith('runts-init')) continue;
      if (fs.readFileSync(`/proc/${p}/environ`, 'utf8').split('\0').includes(MARK)) out.push(Number(p));
    } catch { /* gone */ }
  }
  return out;
}

/** Mounts under our work dir (bundles, state) and the rootfs: others' tests mount elsewhere meanwhile. */
const ourMounts = () => mountsSnapshot([c.work, rootfs(), '/run/runts']);

function expectNoLeftovers(before: { mounts: string; root: string[]; procs: number[] }) {
  expect(fs.readdirSync(c.root)).toEqual(before.root);
  expect(ourMounts()).toBe(before.mounts);
  expect(stubProcs()).toEqual(before.procs);
}

function snapshot() {
  return { mounts: ourMounts(), root: fs.readdirSync(c.root), procs: stubProcs() };
}

function writeBundle(config: string | Buffer | undefined): string {
  const dir = fs.mkdtempSync(path.join(c.work, 'b-'));
  if (config !== undefined) fs.writeFileSync(path.join(dir, 'config.json'), config);
  return dir;
}

const cfg = (change: (c: any) => void) => {
  const x = baseConfig(['true']);
  change(x);
  return JSON.stringify(x);
};

// ids are unique on the machine: a container without cgroupsPath gets the cgroup <runts' own>/<id>, which other
// test runs (other clones) would share
const BAD = `bad${process.pid}`;

describe('bad input', () => {
  afterEach(() => { rt(c, ['delete', '--force', BAD]); });

  it('an unknown capability is ignored with a warning, as runc does', () => {
    const r = rt(c, ['create', '--bundle', writeBundle(cfg((x) => { x.process.capabilities.bounding = ['CAP_NOPE', 'CAP_KILL']; })), BAD]);
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(/warning: process\.capabilities\.bounding: unknown capability "CAP_NOPE" ignored/);
  });

  const cases: Array<[string, () => string, RegExp]> = [
    ['missing bundle', () => path.join(c.work, 'no-such-bundle'), /no-such-bundle: no such file or directory/],
    ['missing config.json', () => writeBundle(undefined), /config\.json.*no such file or directory/],
    ['invalid JSON', () => writeBundle('{"ociVersion": '), /config\.json: invalid JSON/],
    ['a string memory limit', () => writeBundle(cfg((x) => { x.linux.resources = { memory: { limit: '1g' } }; })), /linux\.resources\.memory\.limit: must be an integer/],
    ['an unknown namespace type', () => writeBundle(cfg((x) => { x.linux.namespaces.push({ type: 'bogus' }); })), /linux\.namespaces\[5\]\.type: must be one of/],
    ['a namespace listed twice (an error in runc too)', () => writeBundle(cfg((x) => { x.linux.namespaces.push({ type: 'pid' }); })), /linux\.namespaces\[5\]\.type: malformed spec file: duplicated ns "pid"/],
    ['a namespace listed twice, once by path', () => writeBundle(cfg((x) => { x.linux.namespaces.push({ type: 'uts', path: '/proc/1/ns/uts' }); })), /linux\.namespaces\[5\]\.type: malformed spec file: duplicated ns "uts"/],
    ['a non-string arg', () => writeBundle(cfg((x) => { x.process.args = ['sh', 3]; })), /process\.args\[1\]: must be a string/],
    ['a relative cwd', () => writeBundle(cfg((x) => { x.process.cwd = 'tmp'; })), /process\.cwd: must be an absolute path/],
    ['an unknown mount option', () => writeBundle(cfg((x) => { x.mounts[6].options = ['nosuid', 'bogusopt']; })), /^runts: mounts\[6\]: mount tmpfs on \/tmp: option "bogusopt": invalid argument$/m],
    ['a relative root.path outside the bundle', () => writeBundle(cfg((x) => { x.root.path = '../../..'; })), /root\.path: .*outside the bundle/],
    ['a missing rootfs', () => writeBundle(cfg((x) => { x.root.path = 'nope'; })), /root\.path: .*no such file or directory/],
    ['no process', () => writeBundle(cfg((x) => { delete x.process; })), /process/],
    ['a missing executable', () => writeBundle(cfg((x) => { x.process.args = ['/bin/nope']; })), /exec.*\/bin\/nope.*no such file/],
    ['a process without user', () => writeBundle(cfg((x) => { delete x.process.user; })), /^runts: config\.json: process\.user: is required$/m],
    ['an intelRdt closID that is a path', () => writeBundle(cfg((x) => { x.linux.intelRdt = { closID: '../../x' }; })), /linux\.intelRdt\.closID: must be a single path component/],
    ['invalid UTF-8 in hostname', () => writeBundle(Buffer.from(cfg((x) => { x.hostname = 'a#b'; }).replace('a#b', 'a\xffb'), 'latin1')), /config\.json: hostname: must be valid UTF-8 \(byte 0xff at offset \d+\)/],
    ['a lone surrogate in env', () => writeBundle(cfg((x) => { x.process.env.push('X=\ud800'); })), /config\.json: process\.env\[2\]: must be valid Unicode \(lone surrogate \\ud800\)/],
    ['an rlimit hard of 2^64', () => writeBundle(cfg((x) => { x.process.rlimits[0].hard = 424242; }).replace('424242', '18446744073709551616')), /process\.rlimits\[0\]\.hard: must be <= 18446744073709551615 \(got 18446744073709551616\)/],
    ['a mount that fails', () => writeBundle(cfg((x) => { x.mounts.push({ destination: '/mnt', type: 'bind', source: path.join(c.work, 'nonexistent-src'), options: ['bind'] }); })), /mount .*nonexistent-src.*no such file or directory/],
  ];
  for (const [name, make, msg] of cases) {
    it(`${name}: clear error, non-zero exit, nothing left`, () => {
      const before = snapshot();
      const b = make();
      const r = rt(c, ['create', '--bundle', b, BAD]);
      expect(r.status).not.toBe(0);
      expect(r.stderr).toMatch(msg);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expectNoLeftovers(before);
    });
  }

  /** The cgroups create would make for `id` (no cgroupsPath: below runts' own, which is ours), in each hierarchy. */
  function cgroupsOf(id: string): string[] {
    return fs.readFileSync('/proc/self/cgroup', 'utf8').trim().split('\n').map((l) => {
      const [, ctl, p] = l.split(':');
      const dir = ctl === '' ? 'unified' : ctl.replace(/^name=/, '');
      return path.join('/sys/fs/cgroup', dir, p, id);
    }).filter((d) => fs.existsSync(d));
  }

  it('rootfsPropagation [r]private with --no-pivot: refused as runc does ("not safe without pivot_root"), nothing left', () => {
    for (const rp of ['private', 'rprivate']) {
      const before = snapshot();
      const r = rt(c, ['create', '--no-pivot', '--bundle', writeBundle(cfg((x) => { x.linux.rootfsPropagation = rp; })), BAD]);
      expect(r.status, rp).not.toBe(0);
      expect(r.stderr.trim()).toBe(`runts: linux.rootfsPropagation: "${rp}" is not safe without pivot_root (--no-pivot), as in runc`);
      expectNoLeftovers(before);
      expect(cgroupsOf(BAD)).toEqual([]);
    }
    // with pivot_root the same config runs, and so does another propagation with --no-pivot
    for (const [rp, flags] of [['rprivate', []], ['rslave', ['--no-pivot']]] as const) {
      const r = rt(c, ['run', ...flags, '--bundle', writeBundle(cfg((x) => { x.linux.rootfsPropagation = rp; })), BAD]);
      expect(r.status, `${rp} ${flags.join(' ')}: ${r.stderr}`).toBe(0);
    }
  });

  it('invalid ids are rejected before anything is created', () => {
    const b = writeBundle(cfg(() => undefined));
    for (const id of ['', '.', '..', 'a/b', 'a b', 'x'.repeat(1025), 'a:b', 'é']) {
      const before = snapshot();
      const r = rt(c, ['create', '--bundle', b, '--', id]);
      expect(r.status, id).not.toBe(0);
      expect(r.stderr, id).toMatch(/invalid container id|container id/);
      expectNoLeftovers(before);
    }
  });

  it('an id that starts with "-" (valid for runc) is named after `--` by every command', () => {
    const b = writeBundle(cfg((x) => { x.process.args = ['sleep', '30']; }));
    const id = `-rf${process.pid}`;
    try {
      for (const args of [['create', '--bundle', b, '--', id], ['start', '--', id], ['exec', '--', id, 'true'], ['ps', '--', id],
        ['pause', '--', id], ['resume', '--', id], ['update', '--pids-limit', '9', '--', id], ['events', '--stats', '--', id],
        ['kill', '--', id, 'KILL']]) {
        const r = rt(c, args);
        expect(r.status, `${args.join(' ')}: ${r.stderr}`).toBe(0);
      }
      const st = rt(c, ['state', '--', id]);
      expect(st.status, st.stderr).toBe(0);
      expect(JSON.parse(st.stdout).id).toBe(id);
      // flags before `--`, the id after
      expect(rt(c, ['kill', '-a', '--', id, 'KILL']).status).toBe(0);
    } finally {
      const d = rt(c, ['delete', '-f', '--', id]);
      expect(d.status, d.stderr).toBe(0);
    }
    expect(fs.existsSync(path.join(c.root, id))).toBe(false);
  });

  it('commands on a nonexistent container fail with runc\'s message', () => {
    for (const cmd of [['state', 'ghost'], ['start', 'ghost'], ['kill', 'ghost'], ['delete', 'ghost']]) {
      const r = rt(c, cmd);
      expect(r.status, cmd.join(' ')).not.toBe(0);
      expect(r.stderr).toMatch(/container "?ghost"? does not exist/);
    }
  });

  it('an unknown signal is rejected and the container is untouched', () => {
    const b = writeBundle(cfg((x) => { x.process.args = ['sleep', '30']; }));
    const sig = `sig${process.pid}`;
    expect(rt(c, ['create', '--bundle', b, sig]).status).toBe(0);
    const r = rt(c, ['kill', sig, 'SIGNOPE']);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/SIGNOPE/);
    expect(stateOf(c, sig).status).toBe('created');
    expect(rt(c, ['delete', '--force', sig]).status).toBe(0);
  });

  it('a crashed create (state dir without state.json) is removed by delete --force', () => {
    fs.mkdirSync(path.join(c.root, 'crashed'));
    fs.writeFileSync(path.join(c.root, 'crashed', 'lock'), '');
    const r = rt(c, ['delete', 'crashed']);
    expect(r.status).not.toBe(0);
    expect(rt(c, ['delete', '--force', 'crashed']).status).toBe(0);
    expect(fs.existsSync(path.join(c.root, 'crashed'))).toBe(false);
  });

  it('a state dir with a corrupt state.json (or no lock file yet) is removed by delete --force', () => {
    for (const [id, files] of [[`corrupt${process.pid}`, { lock: '', 'state.json': '{"id": "trunc' }], [`nolock${process.pid}`, {}]] as const) {
      fs.mkdirSync(path.join(c.root, id));
      for (const [f, text] of Object.entries(files)) fs.writeFileSync(path.join(c.root, id, f), text);
      const r = rt(c, ['delete', id]);
      expect(r.status).not.toBe(0);
      expect(r.stderr).toMatch(/unknown state/);
      expect(fs.existsSync(path.join(c.root, id))).toBe(true);
      expect(rt(c, ['delete', '--force', id]).status).toBe(0);
      expect(fs.existsSync(path.join(c.root, id))).toBe(false);
    }
  });
});

/** Run the runtime asynchronously (output to a file so a detached container cannot hold a pipe). */
function rtAsync(args: string[]): Promise<{ code: number | null; out: string }> {
  const file = path.join(c.work, `.async-${Math.random().toString(36).slice(2)}`);
  const fd = fs.openSync(file, 'w+');
  return new Promise((resolve) => {
    const p = spawn(RUNTS, ['--root', c.root, ...args], { stdio: ['ignore', fd, fd] });
    p.on('exit', (code) => {
      fs.closeSync(fd);
      const out = fs.readFileSync(file, 'utf8');
      fs.rmSync(file);
      resolve({ code, out });
    });
  });
}

describe('concurrency', () => {
  it('creates and deletes 20 containers concurrently', async () => {
    const b = bundle(c, baseConfig(['sleep', '60']));
    const ids = Array.from({ length: 20 }, (_, i) => `cc${process.pid}-${i}`);
    const created = await Promise.all(ids.map((id) => rtAsync(['create', '--bundle', b, id])));
    for (const r of created) expect(r, r.out).toMatchObject({ code: 0 });
    const list = JSON.parse(rt(c, ['list', '--format', 'json']).stdout);
    expect(list.filter((x: any) => ids.includes(x.id)).map((x: any) => x.status)).toEqual(ids.map(() => 'created'));
    const pids = new Set(list.filter((x: any) => ids.includes(x.id)).map((x: any) => x.pid));
    expect(pids.size).toBe(20);
    const deleted = await Promise.all(ids.map((id) => rtAsync(['delete', '--force', id])));
    for (const r of deleted) expect(r, r.out).toMatchObject({ code: 0 });
    expect(fs.readdirSync(c.root).filter((x) => ids.includes(x))).toEqual([]);
    // every init is gone (or a zombie waiting for the host's init to reap it)
    const alive = [...pids].filter((pid) => {
      try { return !/^State:\s+Z/m.test(fs.readFileSync(`/proc/${pid}/status`, 'utf8')); } catch { return false; }
    });
    expect(alive).toEqual([]);
  });

  it('serializes racing start and delete --force on one container', async () => {
    const b = bundle(c, baseConfig(['sleep', '60']));
    for (let round = 0; round < 3; round++) {
      const id = `race${process.pid}-${round}`;
      expect(rt(c, ['create', '--bundle', b, id]).status).toBe(0);
      const [s, d1, d2] = await Promise.all([rtAsync(['start', id]), rtAsync(['delete', '--force', id]), rtAsync(['delete', '--force', id])]);
      // start either won (and the container was then killed) or found it gone; deletes always succeed
      expect(d1.code, d1.out).toBe(0);
      expect(d2.code, d2.out).toBe(0);
      if (s.code !== 0) expect(s.out).toMatch(/does not exist|stopped/);
      expect(fs.existsSync(path.join(c.root, id))).toBe(false);
    }
  });

  it('two creates with the same id: exactly one wins', async () => {
    const b = bundle(c, baseConfig(['sleep', '60']));
    const dup = `dup${process.pid}`;
    const rs = await Promise.all([rtAsync(['create', '--bundle', b, dup]), rtAsync(['create', '--bundle', b, dup])]);
    expect(rs.map((r) => r.code).sort()).toEqual([0, 1]);
    expect(rs.find((r) => r.code !== 0)!.out).toMatch(new RegExp(`container with id exists: ${dup}`));
    expect(stateOf(c, dup).status).toBe('created');
    expect(rt(c, ['delete', '--force', dup]).status).toBe(0);
  });
});

describe('the working directory is not configuration', () => {
  // runc is often called from inside the bundle (`cd bundle && runc run id`), a directory the caller may not
  // control. A bunfig.toml there could preload code into the runtime, a .env could set the variables runts
  // reads (RUNTS_INIT names the init binary): the executable is built to load neither.
  it('ignores bunfig.toml and .env in the current directory', () => {
    const dir = bundle(c, baseConfig(['true']));
    const marker = path.join(c.work, 'preloaded');
    fs.writeFileSync(path.join(dir, 'preload.js'), `require('fs').writeFileSync(${JSON.stringify(marker)}, 'ran');\n`);
    fs.writeFileSync(path.join(dir, 'bunfig.toml'), 'preload = ["./preload.js"]\n');
    fs.writeFileSync(path.join(dir, '.env'), `RUNTS_INIT=${path.join(dir, 'no-such-init')}\n`);
    const env = { ...process.env };
    delete env.RUNTS_INIT;
    const r = rt(c, ['run', cid('cwd-config')], { cwd: dir, env });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(fs.existsSync(marker)).toBe(false);
  });
});
