// exec: a new process in a running container, joining its namespaces, with runc's flags.
import * as fs from 'fs';
import * as path from 'path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadNative } from '../../src/native';
import { Ctx, RUNTS, baseConfig, bundle, cleanupContext, context, rt, spawn, stateOf, cid } from '../helpers';

let c: Ctx;
let initPid: number;
beforeAll(() => {
  c = context('exec');
  const cfg = baseConfig(['sleep', '300']);
  cfg.process.env.push('FROM_CONFIG=1');
  expect(rt(c, ['run', '-d', '--bundle', bundle(c, cfg), cid('ex')]).status).toBe(0);
  initPid = stateOf(c, cid('ex')).pid;
});
afterAll(() => cleanupContext(c));

describe('exec', () => {
  it('runs in every namespace of the container and returns the exit status', () => {
    const r = rt(c, ['exec', cid('ex'), 'sh', '-c', 'for n in mnt pid net ipc uts; do readlink /proc/self/ns/$n; done; echo pid=$$; hostname; exit 7']);
    expect(r.status).toBe(7);
    const lines = r.stdout.trim().split('\n');
    const want = ['mnt', 'pid', 'net', 'ipc', 'uts'].map((n) => fs.readlinkSync(`/proc/${initPid}/ns/${n}`));
    expect(lines.slice(0, 5)).toEqual(want);
    expect(Number(lines[5].slice(4))).toBeGreaterThan(1); // a pid inside the container's pid namespace
    expect(lines[6]).toBe('runts-test');
  });

  it('takes the container process as the template: env, caps, no_new_privs, cwd', () => {
    const r = rt(c, ['exec', cid('ex'), 'sh', '-c', 'echo $FROM_CONFIG; pwd; grep -E "^(CapEff|NoNewPrivs)" /proc/self/status']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^1\n\/\nCapEff:\s+0000000020000420\nNoNewPrivs:\s+1\n$/);
  });

  it('applies --env, --cwd, --user, --additional-gids and --cap', () => {
    const r = rt(c, ['exec', '--env', 'A=b', '--cwd', '/tmp', '--user', '1000:1001', '--additional-gids', '5', '--cap', 'CAP_CHOWN', cid('ex'),
      'sh', '-c', 'echo $A; pwd; grep -E "^(Uid|Gid|Groups|CapBnd)" /proc/self/status']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^b\n\/tmp\n/);
    expect(r.stdout).toMatch(/Uid:\s+1000\s+1000\s+1000\s+1000/);
    expect(r.stdout).toMatch(/Gid:\s+1001\s+1001\s+1001\s+1001/);
    expect(r.stdout).toMatch(/Groups:\s+5\s*\n/);
    expect(r.stdout).toMatch(/CapBnd:\s+0000000020000421/); // CAP_CHOWN (bit 0) added
  });

  it('--process reads a process.json', () => {
    const file = path.join(c.work, 'process.json');
    fs.writeFileSync(file, JSON.stringify({ args: ['sh', '-c', 'echo $X; id -u'], env: ['X=from-file', 'PATH=/bin:/usr/bin'], cwd: '/', user: { uid: 42, gid: 42 } }));
    const r = rt(c, ['exec', '--process', file, cid('ex')]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toBe('from-file\n42\n');
    fs.writeFileSync(file, JSON.stringify({ args: ['true'], cwd: '/', user: { uid: 'root', gid: 0 } }));
    const bad = rt(c, ['exec', '--process', file, cid('ex')]);
    expect(bad.status).not.toBe(0);
    expect(bad.stderr).toMatch(/process\.user\.uid: must be an integer/);
  });

  it('--detach returns at once and writes the pid file', () => {
    const pidFile = path.join(c.work, 'exec.pid');
    const t0 = Date.now();
    const r = rt(c, ['exec', '--detach', '--pid-file', pidFile, cid('ex'), 'sleep', '30']);
    expect(r.status, r.stderr).toBe(0);
    expect(Date.now() - t0).toBeLessThan(5000);
    const pid = Number(fs.readFileSync(pidFile, 'utf8'));
    expect(fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8')).toBe('sleep\x0030\x00');
    expect(fs.readlinkSync(`/proc/${pid}/ns/pid`)).toBe(fs.readlinkSync(`/proc/${initPid}/ns/pid`));
    process.kill(pid, 'SIGKILL');
  });

  it('a missing executable is a clear error', () => {
    const r = rt(c, ['exec', cid('ex'), '/bin/nope']);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/exec "\/bin\/nope": no such file or directory/);
  });

  it('--tty with --console-socket sends the pty master', async () => {
    const native = loadNative();
    const sock = path.join(c.work, 'exec-console.sock');
    const listen = native.unixListen(sock, 1);
    const r = rt(c, ['exec', '--tty', '--detach', '--console-socket', sock, cid('ex'), 'sh', '-c', 'tty; sleep 2']);
    expect(r.status, r.stderr).toBe(0);
    const conn = native.unixAccept(listen);
    const { fd: master } = native.recvFd(conn);
    fs.closeSync(conn);
    fs.closeSync(listen);
    const out = await new Promise<string>((resolve) => {
      let text = '';
      const buf = Buffer.alloc(1024);
      const next = () => fs.read(master, buf, 0, buf.length, null, (err, n) => {
        if (err || n === 0) return resolve(text);
        text += buf.subarray(0, n).toString();
        if (text.includes('\n')) resolve(text); else next();
      });
      next();
    });
    expect(out).toMatch(/^\/dev\/pts\/\d+/);
    fs.closeSync(master);
  });

  // issue #15: runc exits 255 when exec itself fails, so callers can tell that from the process's status
  it('exits 255 on its own failures: no such container, a bad --process, a pid file it cannot write', () => {
    const ghost = rt(c, ['exec', 'ghost', 'true']);
    expect(ghost.stderr).toMatch(/does not exist/);
    expect(ghost.status).toBe(255);
    const file = path.join(c.work, 'bad-process.json');
    fs.writeFileSync(file, '{ not json');
    const bad = rt(c, ['exec', '--process', file, cid('ex')]);
    expect(bad.stderr).toMatch(/--process .*invalid JSON/);
    expect(bad.status).toBe(255);
    const missing = rt(c, ['exec', '--process', path.join(c.work, 'nope.json'), cid('ex')]);
    expect(missing.stderr).toMatch(/no such file or directory/);
    expect(missing.status).toBe(255);
    const pidFile = path.join(c.work, 'no-such-dir', 'exec.pid');
    const pf = rt(c, ['exec', '--detach', '--pid-file', pidFile, cid('ex'), 'sleep', '4242']);
    expect(pf.stderr).toMatch(/^runts: --pid-file .*no-such-dir\/exec\.pid: no such file or directory\n$/);
    expect(pf.status).toBe(255);
    // the process it started is gone
    const ns = fs.readlinkSync(`/proc/${initPid}/ns/pid`);
    const left = fs.readdirSync('/proc').filter((p) => /^\d+$/.test(p)).filter((p) => {
      try { return fs.readlinkSync(`/proc/${p}/ns/pid`) === ns && fs.readFileSync(`/proc/${p}/cmdline`, 'utf8') === 'sleep\x004242\x00'; } catch { return false; }
    });
    expect(left).toEqual([]);
    // the process's own status is still its own
    expect(rt(c, ['exec', cid('ex'), 'sh', '-c', 'exit 3']).status).toBe(3);
  });

  // issue #14 item 4: exec --ignore-paused kept the container's lock while its (frozen) process could not run,
  // so resume waited on the lock forever and the exec with it
  it('exec --ignore-paused into a paused container: resume returns at once, then the exec completes', async () => {
    expect(rt(c, ['run', '-d', '--bundle', bundle(c, baseConfig(['sleep', '300'])), cid('ex-frozen')]).status).toBe(0);
    expect(rt(c, ['pause', cid('ex-frozen')]).status).toBe(0);
    expect(stateOf(c, cid('ex-frozen')).status).toBe('paused');
    const child = spawn(RUNTS, ['--root', c.root, 'exec', '--ignore-paused', cid('ex-frozen'), 'sh', '-c', 'echo hi-from-frozen'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout!.on('data', (d) => { out += d; });
    child.stderr!.on('data', (d) => { err += d; });
    const done = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      await new Promise((r) => setTimeout(r, 700)); // the exec is under way, its process frozen
      expect(child.exitCode, err).toBe(null);
      const t0 = Date.now();
      const r = rt(c, ['resume', cid('ex-frozen')], { timeout: 8000 });
      expect(r.error, 'resume hung').toBeUndefined();
      expect(r.status, r.stderr).toBe(0);
      expect(Date.now() - t0).toBeLessThan(5000);
      const code = await Promise.race([done, new Promise((r) => setTimeout(() => r('timeout'), 8000))]);
      expect(code, err).toBe(0);
      expect(out).toBe('hi-from-frozen\n');
      expect(stateOf(c, cid('ex-frozen')).status).toBe('running');
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      rt(c, ['resume', cid('ex-frozen')], { timeout: 8000 });
      rt(c, ['delete', '--force', cid('ex-frozen')], { timeout: 15000 });
    }
  }, 40_000);

  it('refuses a stopped container', () => {
    expect(rt(c, ['run', '-d', '--bundle', bundle(c, baseConfig(['true'])), 'ex-stopped']).status).toBe(0);
    const end = Date.now() + 5000;
    while (stateOf(c, 'ex-stopped').status !== 'stopped' && Date.now() < end) { /* wait */ }
    const r = rt(c, ['exec', 'ex-stopped', 'true']);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/cannot exec in a stopped container/);
    expect(rt(c, ['exec', 'ghost', 'true']).stderr).toMatch(/does not exist/);
  });
});
