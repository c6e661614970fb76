// The OCI lifecycle through the CLI: create, start, state, kill, delete, run, list.
import * as fs from 'fs';
import * as path from 'path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Ctx, RUNTS, baseConfig, bundle, cleanupContext, context, rt, sleep, spawn, spawnSync, stateOf, cid } from '../helpers';

let c: Ctx;
beforeAll(() => { c = context('lifecycle'); });
afterAll(() => cleanupContext(c));

async function waitStatus(id: string, status: string, ms = 5000) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const r = rt(c, ['state', id]);
    if (r.status === 0 && JSON.parse(r.stdout).status === status) return;
    await sleep(50);
  }
  throw new Error(`${id} never became ${status}: ${JSON.stringify(stateOf(c, id))}`);
}

describe('create / start / state / kill / delete', () => {
  it('goes created → running → stopped, and delete removes it', async () => {
    const b = bundle(c, baseConfig(['sleep', '30']));
    const pidFile = path.join(c.work, 'lc1.pid');
    const cr = rt(c, ['create', '--bundle', b, '--pid-file', pidFile, cid('lc1')]);
    expect(cr.stderr).toBe('');
    expect(cr.status).toBe(0);
    const s1 = stateOf(c, cid('lc1'));
    expect(s1).toMatchObject({ ociVersion: '1.3.0', id: cid('lc1'), status: 'created', bundle: b });
    expect(s1.pid).toBeGreaterThan(1);
    expect(Number(fs.readFileSync(pidFile, 'utf8'))).toBe(s1.pid);
    expect(typeof s1.created).toBe('string');
    expect(s1.rootfs).toBeTruthy();
    // the init waits: its command line is still the stub's
    expect(fs.readFileSync(`/proc/${s1.pid}/cmdline`, 'utf8')).toContain('runts-init');
    // ... run from a sealed memfd or from a private read-only overlayfs, not from a file on the host
    // (CVE-2019-5736 class; security.test.ts writes through it)
    expect(fs.readlinkSync(`/proc/${s1.pid}/exe`)).toMatch(/^\/(memfd:runts-init|runts-init(-[0-9a-f]{16})?$)/);
    // every fd it holds besides stdio is close-on-exec
    for (const fd of fs.readdirSync(`/proc/${s1.pid}/fd`).filter((f) => Number(f) > 2)) {
      const flags = parseInt(/flags:\s+(\d+)/.exec(fs.readFileSync(`/proc/${s1.pid}/fdinfo/${fd}`, 'utf8'))![1], 8);
      expect(flags & 0o2000000, `fd ${fd} -> ${fs.readlinkSync(`/proc/${s1.pid}/fd/${fd}`)}`).not.toBe(0);
    }

    expect(rt(c, ['start', cid('lc1')]).status).toBe(0);
    const s2 = stateOf(c, cid('lc1'));
    expect(s2.status).toBe('running');
    expect(fs.readFileSync(`/proc/${s2.pid}/cmdline`, 'utf8').split('\0')[0]).toBe('sleep');
    // no host fd reached the container process
    expect(fs.readdirSync(`/proc/${s2.pid}/fd`).sort()).toEqual(['0', '1', '2']);

    const st = rt(c, ['start', cid('lc1')]);
    expect(st.status).not.toBe(0);
    expect(st.stderr).toMatch(/already running/);

    const del = rt(c, ['delete', cid('lc1')]);
    expect(del.status).not.toBe(0);
    expect(del.stderr).toMatch(/not stopped/);
    expect(stateOf(c, cid('lc1')).status).toBe('running');

    expect(rt(c, ['kill', cid('lc1'), 'KILL']).status).toBe(0);
    await waitStatus(cid('lc1'), 'stopped');
    expect(stateOf(c, cid('lc1')).pid).toBe(0);
    const k = rt(c, ['kill', cid('lc1')]);
    expect(k.status).not.toBe(0);
    expect(k.stderr).toMatch(/not running/);
    const st2 = rt(c, ['start', cid('lc1')]);
    expect(st2.status).not.toBe(0);
    expect(st2.stderr).toMatch(/stopped/);

    expect(rt(c, ['delete', cid('lc1')]).status).toBe(0);
    expect(fs.existsSync(path.join(c.root, cid('lc1')))).toBe(false);
    const gone = rt(c, ['state', cid('lc1')]);
    expect(gone.status).not.toBe(0);
    expect(gone.stderr).toMatch(/does not exist/);
  });

  it('kill accepts names with and without SIG and numbers; default is SIGTERM', async () => {
    const script = 'trap "echo got-usr1 >> /tmp/sigs" USR1; trap "echo got-term >> /tmp/sigs; exit 7" TERM; while true; do sleep 0.05; done';
    const cfg = baseConfig(['sh', '-c', script]);
    const b = bundle(c, cfg);
    expect(rt(c, ['create', '--bundle', b, cid('lc2')]).status).toBe(0);
    expect(rt(c, ['start', cid('lc2')]).status).toBe(0);
    const pid = stateOf(c, cid('lc2')).pid;
    await sleep(200);
    // the container's /tmp is its own tmpfs: read it through the init's root
    const sigs = () => { try { return fs.readFileSync(`/proc/${pid}/root/tmp/sigs`, 'utf8').trim().split('\n'); } catch { return []; } };
    // one signal at a time: pending signals of one kind coalesce
    for (const [i, name] of ['USR1', 'SIGUSR1', '10'].entries()) {
      expect(rt(c, ['kill', cid('lc2'), name]).status).toBe(0);
      const end = Date.now() + 3000;
      while (sigs().length < i + 1 && Date.now() < end) await sleep(20);
    }
    expect(sigs()).toEqual(['got-usr1', 'got-usr1', 'got-usr1']);
    expect(rt(c, ['kill', cid('lc2')]).status).toBe(0);
    await waitStatus(cid('lc2'), 'stopped');
    expect(rt(c, ['kill', cid('lc2'), 'NOTASIG']).stderr).toMatch(/invalid signal/);
    expect(rt(c, ['delete', cid('lc2')]).status).toBe(0);
  });

  // issue #15: runc sends signal 0 to ask whether the container is alive
  it('kill ID 0 succeeds while the container is created or running, fails once it has stopped', async () => {
    expect(rt(c, ['create', '--bundle', bundle(c, baseConfig(['sleep', '30'])), cid('lc-sig0')]).status).toBe(0);
    const created = rt(c, ['kill', cid('lc-sig0'), '0']);
    expect(created.stderr).toBe('');
    expect(created.status).toBe(0);
    expect(rt(c, ['start', cid('lc-sig0')]).status).toBe(0);
    const running = rt(c, ['kill', cid('lc-sig0'), '0']);
    expect(running.stderr).toBe('');
    expect(running.status).toBe(0);
    expect(rt(c, ['kill', '--all', cid('lc-sig0'), '0']).status).toBe(0);
    expect(stateOf(c, cid('lc-sig0')).status).toBe('running'); // signal 0 changed nothing
    expect(rt(c, ['kill', cid('lc-sig0'), 'KILL']).status).toBe(0);
    await waitStatus(cid('lc-sig0'), 'stopped');
    const stopped = rt(c, ['kill', cid('lc-sig0'), '0']);
    expect(stopped.status).not.toBe(0);
    expect(stopped.stderr).toMatch(/not running/);
    expect(rt(c, ['delete', cid('lc-sig0')]).status).toBe(0);
  });

  it('delete of a created container kills the waiting init', () => {
    const b = bundle(c, baseConfig(['true']));
    expect(rt(c, ['create', '--bundle', b, cid('lc3')]).status).toBe(0);
    const pid = stateOf(c, cid('lc3')).pid;
    expect(rt(c, ['delete', cid('lc3')]).status).toBe(0);
    expect(fs.existsSync(`/proc/${pid}/cmdline`) && fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('runts-init')).toBe(false);
  });

  it('delete --force kills a running container; on a missing container it succeeds', () => {
    const b = bundle(c, baseConfig(['sleep', '60']));
    expect(rt(c, ['run', '--detach', '--bundle', b, cid('lc4')]).status).toBe(0);
    expect(stateOf(c, cid('lc4')).status).toBe('running');
    expect(rt(c, ['delete', '--force', cid('lc4')]).status).toBe(0);
    expect(fs.existsSync(path.join(c.root, cid('lc4')))).toBe(false);
    expect(rt(c, ['delete', '--force', cid('lc4')]).status).toBe(0);
    const plain = rt(c, ['delete', cid('lc4')]);
    expect(plain.status).not.toBe(0);
    expect(plain.stderr).toMatch(/does not exist/);
  });

  it('kill on a created container with SIGKILL stops it', async () => {
    const b = bundle(c, baseConfig(['true']));
    expect(rt(c, ['create', '--bundle', b, cid('lc5')]).status).toBe(0);
    expect(rt(c, ['kill', cid('lc5'), '9']).status).toBe(0);
    await waitStatus(cid('lc5'), 'stopped');
    expect(rt(c, ['delete', cid('lc5')]).status).toBe(0);
  });

  it('rejects a duplicate id and leaves the first container alone', () => {
    const b = bundle(c, baseConfig(['true']));
    expect(rt(c, ['create', '--bundle', b, cid('dup')]).status).toBe(0);
    const again = rt(c, ['create', '--bundle', b, cid('dup')]);
    expect(again.status).not.toBe(0);
    expect(again.stderr).toMatch(/exists/);
    expect(stateOf(c, cid('dup')).status).toBe('created');
    expect(rt(c, ['delete', cid('dup')]).status).toBe(0);
  });

  it('list shows containers as a table, json and quiet', () => {
    const b = bundle(c, baseConfig(['true']));
    expect(rt(c, ['create', '--bundle', b, cid('ls1')]).status).toBe(0);
    const t = rt(c, ['list']);
    expect(t.stdout.split('\n')[0]).toMatch(/^ID\s+PID\s+STATUS\s+BUNDLE\s+CREATED\s+OWNER/);
    expect(t.stdout).toMatch(new RegExp(`${cid('ls1')}\\s+\\d+\\s+created`));
    const j = JSON.parse(rt(c, ['list', '--format', 'json']).stdout);
    expect(j.find((x: any) => x.id === cid('ls1'))).toMatchObject({ status: 'created', bundle: b });
    expect(rt(c, ['list', '-q']).stdout.split('\n')).toContain(cid('ls1'));
    expect(rt(c, ['delete', '--force', cid('ls1')]).status).toBe(0);
  });
});

describe('run', () => {
  it('exits with the container exit code and deletes the container', () => {
    const b = bundle(c, baseConfig(['sh', '-c', 'echo out; echo err >&2; exit 3']));
    const r = rt(c, ['run', '--bundle', b, cid('run1')]);
    expect(r.stdout).toBe('out\n');
    expect(r.stderr).toBe('err\n');
    expect(r.status).toBe(3);
    expect(fs.existsSync(path.join(c.root, cid('run1')))).toBe(false);
  });

  it('exits with 128+signal when the container is killed by a signal', async () => {
    // a signal from inside cannot kill a pid-namespace init, so kill it from outside
    const b = bundle(c, baseConfig(['sleep', '30']));
    const p = spawn(RUNTS, ['--root', c.root, 'run', '--bundle', b, cid('run2')], { stdio: 'ignore' });
    const exited = new Promise<number | null>((r) => p.on('exit', (code) => r(code)));
    await waitStatus(cid('run2'), 'running');
    expect(rt(c, ['kill', cid('run2'), 'KILL']).status).toBe(0);
    expect(await exited).toBe(137);
    expect(fs.existsSync(path.join(c.root, cid('run2')))).toBe(false);
  });

  // runc forwards the signals it gets to the container's process; run exits with the container's status
  it('forwards SIGTERM and SIGINT to the container and exits with its status', async () => {
    const script = 'trap "echo got-term; exit 7" TERM; trap "echo got-int" INT; echo ready; while :; do sleep 0.1; done';
    const b = bundle(c, baseConfig(['sh', '-c', script]));
    const p = spawn(RUNTS, ['--root', c.root, 'run', '--bundle', b, cid('run-fwd')], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    p.stdout!.on('data', (d) => { out += d; });
    const exited = new Promise<[number | null, string | null]>((r) => p.on('exit', (code, sig) => r([code, sig])));
    for (let i = 0; i < 100 && !out.includes('ready'); i++) await sleep(50);
    expect(out).toBe('ready\n');
    p.kill('SIGINT');
    for (let i = 0; i < 100 && !out.includes('got-int'); i++) await sleep(50);
    expect(out).toBe('ready\ngot-int\n'); // runts itself did not die of it
    p.kill('SIGTERM');
    expect(await exited).toEqual([7, null]);
    expect(out).toBe('ready\ngot-int\ngot-term\n');
    expect(fs.existsSync(path.join(c.root, cid('run-fwd')))).toBe(false);
  });

  it('exits with 128+15 when the forwarded SIGTERM kills the container process', async () => {
    // without a pid namespace the process is no namespace init: SIGTERM's default action kills it
    const cfg = baseConfig(['sleep', '30']);
    cfg.linux.namespaces = cfg.linux.namespaces.filter((n: any) => n.type !== 'pid');
    const b = bundle(c, cfg);
    const p = spawn(RUNTS, ['--root', c.root, 'run', '--bundle', b, cid('run-term')], { stdio: 'ignore' });
    const exited = new Promise<[number | null, string | null]>((r) => p.on('exit', (code, sig) => r([code, sig])));
    await waitStatus(cid('run-term'), 'running');
    p.kill('SIGTERM');
    expect(await exited).toEqual([143, null]);
    expect(fs.existsSync(path.join(c.root, cid('run-term')))).toBe(false);
  });

  it('--keep leaves a stopped container to delete', () => {
    const b = bundle(c, baseConfig(['true']));
    expect(rt(c, ['run', '--keep', '--bundle', b, cid('run3')]).status).toBe(0);
    expect(stateOf(c, cid('run3')).status).toBe('stopped');
    expect(rt(c, ['delete', cid('run3')]).status).toBe(0);
  });

  it('--bundle defaults to the current directory', () => {
    const b = bundle(c, baseConfig(['echo', 'from-cwd']));
    const r = rt(c, ['run', cid('run4')], { cwd: b });
    expect(r.stdout).toBe('from-cwd\n');
    expect(r.status).toBe(0);
  });
});

describe('cli', () => {
  it('--version and --help', () => {
    const v = rt(c, ['--version']);
    expect(v.status).toBe(0);
    expect(v.stdout).toMatch(/runts version \d+\.\d+\.\d+/);
    expect(v.stdout).toMatch(/spec: 1\.3\.0/);
    const h = rt(c, ['--help']);
    for (const cmd of ['create', 'start', 'state', 'kill', 'delete', 'run', 'list', 'spec', 'features', 'exec', 'ps', 'pause', 'resume', 'update', 'events']) {
      expect(h.stdout).toMatch(new RegExp(`^\\s+${cmd}\\b`, 'm'));
    }
  });

  it('writes errors as JSON lines to --log with --log-format json', () => {
    const log = path.join(c.work, 'log.json');
    const r = rt(c, ['--log', log, '--log-format', 'json', 'state', 'nope']);
    expect(r.status).not.toBe(0);
    const lines = fs.readFileSync(log, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.at(-1)).toMatchObject({ level: 'error', msg: expect.stringMatching(/does not exist/) });
    expect(lines.at(-1).time).toBeTruthy();
    const r2 = rt(c, ['--log-format=json', `--log=${log}`, 'kill', 'nope', '9']);
    expect(r2.status).not.toBe(0);
  });

  it('spec writes a default config.json that runs', () => {
    const dir = path.join(c.work, 'specdir');
    fs.mkdirSync(dir);
    expect(rt(c, ['spec', '--bundle', dir]).status).toBe(0);
    const cfg = JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8'));
    expect(cfg.process.args).toEqual(['sh']);
    expect(cfg.root.path).toBe('rootfs');
    expect(rt(c, ['spec', '--bundle', dir]).status).not.toBe(0);
    const rl = path.join(c.work, 'specdir-rootless');
    fs.mkdirSync(rl);
    expect(rt(c, ['spec', '--rootless', '--bundle', rl]).status).toBe(0);
    const r = JSON.parse(fs.readFileSync(path.join(rl, 'config.json'), 'utf8'));
    expect(r.linux.namespaces.map((n: any) => n.type)).toContain('user');
    expect(r.linux.uidMappings).toHaveLength(1);
  });

  it('features reports spec features', () => {
    const f = JSON.parse(rt(c, ['features']).stdout);
    expect(f.ociVersionMax).toBe('1.3.0');
    expect(f.hooks).toContain('createContainer');
    expect(f.linux.namespaces).toContain('pid');
    expect(f.mountOptions).toContain('rbind');
  });
});

describe('file descriptors', () => {
  it('--preserve-fds passes fds 3.. through; LISTEN_FDS is honoured and rewritten for pid 1', () => {
    const b = bundle(c, baseConfig(['sh', '-c', 'ls /proc/self/fd | sort -n | tr "\\n" " "; echo; cat <&3; echo "LISTEN_FDS=$LISTEN_FDS LISTEN_PID=$LISTEN_PID"']));
    const file = path.join(c.work, 'preserved.txt');
    fs.writeFileSync(file, 'through fd 3\n');
    const fd = fs.openSync(file, 'r');
    const out = path.join(c.work, 'preserve.out');
    const o = fs.openSync(out, 'w');
    const r = spawnSync(RUNTS, ['--root', c.root, 'run', '--preserve-fds', '1', '--bundle', b, 'pfd'], { stdio: ['ignore', o, o, fd] });
    fs.closeSync(fd);
    fs.closeSync(o);
    const text = fs.readFileSync(out, 'utf8');
    expect(r.status, text).toBe(0);
    // 0-2, the preserved 3, and the fd ls itself opens for /proc/self/fd
    expect(text.split('\n')[0].trim().split(' ').slice(0, 4)).toEqual(['0', '1', '2', '3']);
    expect(text).toContain('through fd 3');
    expect(text).toContain('LISTEN_FDS= LISTEN_PID=');

    const fd2 = fs.openSync(file, 'r');
    const o2 = fs.openSync(out, 'w');
    const r2 = spawnSync('sh', ['-c', `LISTEN_PID=$$ LISTEN_FDS=1 exec ${RUNTS} --root ${c.root} run --bundle ${b} pfd2`], { stdio: ['ignore', o2, o2, fd2] });
    fs.closeSync(fd2);
    fs.closeSync(o2);
    const text2 = fs.readFileSync(out, 'utf8');
    expect(r2.status, text2).toBe(0);
    expect(text2).toContain('through fd 3');
    expect(text2).toContain('LISTEN_FDS=1 LISTEN_PID=1');
  });
});

