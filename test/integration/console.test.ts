// terminal: true with --console-socket: the pty master arrives over SCM_RIGHTS and drives a shell in the container.
import * as fs from 'fs';
import * as path from 'path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadNative } from '../../src/native';
import { Ctx, RUNTS, baseConfig, bundle, cleanupContext, context, hasProgram, rt, sleep, spawnSync, stateOf, cid } from '../helpers';

let c: Ctx;
beforeAll(() => { c = context('console'); });
afterAll(() => cleanupContext(c));

/** Collect what the master says until `re` matches (or the timeout). fs.read, not a stream: a stream closes the fd. */
function readUntil(master: number, re: RegExp, ms = 5000): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    let done = false;
    const timer = setTimeout(() => { done = true; reject(new Error(`timed out; got ${JSON.stringify(text)}`)); }, ms);
    const buf = Buffer.alloc(4096);
    const next = () => fs.read(master, buf, 0, buf.length, null, (err, n) => {
      if (done) return;
      if (err || n === 0) { done = true; clearTimeout(timer); reject(err ?? new Error(`EOF; got ${JSON.stringify(text)}`)); return; }
      text += buf.subarray(0, n).toString();
      if (re.test(text)) { done = true; clearTimeout(timer); resolve(text); } else next();
    });
    next();
  });
}


/** Everything the master says until the last holder of the slave closes it (EIO), or the timeout. */
function readAll(master: number, ms = 10000): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    let done = false;
    const timer = setTimeout(() => { done = true; reject(new Error(`timed out; got ${JSON.stringify(text)}`)); }, ms);
    const buf = Buffer.alloc(4096);
    const next = () => fs.read(master, buf, 0, buf.length, null, (err, n) => {
      if (done) return;
      if (err || n === 0) { done = true; clearTimeout(timer); resolve(text); return; }
      text += buf.subarray(0, n).toString();
      next();
    });
    next();
  });
}

/** `exec --tty --detach --console-socket` (as podman and the containerd shim call it): the process's terminal output. */
async function execTty(id: string, flags: string[], args: string[]): Promise<{ status: number | null; stderr: string; out: string }> {
  const native = loadNative();
  const sock = path.join(c.work, `exec-${id}-${Date.now()}.sock`);
  const listen = native.unixListen(sock, 1);
  try {
    const r = rt(c, ['exec', '--tty', '--detach', '--console-socket', sock, ...flags, id, ...args]);
    if (r.status !== 0) return { status: r.status, stderr: r.stderr, out: '' };
    const conn = native.unixAccept(listen);
    const { fd: master } = native.recvFd(conn);
    fs.closeSync(conn);
    try {
      return { status: r.status, stderr: r.stderr, out: (await readAll(master)).replace(/\r/g, '') };
    } finally {
      fs.closeSync(master);
    }
  } finally {
    fs.closeSync(listen);
    fs.rmSync(sock, { force: true });
  }
}

/** create with a terminal through --console-socket, start; returns the master (the caller closes it). */
function createTty(id: string, cfg: any): number {
  const native = loadNative();
  const sock = path.join(c.work, `create-${id}.sock`);
  const listen = native.unixListen(sock, 1);
  try {
    const r = rt(c, ['create', '--bundle', bundle(c, cfg), '--console-socket', sock, id]);
    expect(r.status, r.stderr).toBe(0);
    const conn = native.unixAccept(listen);
    const { fd: master } = native.recvFd(conn);
    fs.closeSync(conn);
    expect(rt(c, ['start', id]).status).toBe(0);
    return master;
  } finally {
    fs.closeSync(listen);
    fs.rmSync(sock, { force: true });
  }
}


/**
 * Run a command with a new pty (in raw mode, so bytes pass unchanged; PTY_COOKED=1: as a terminal starts, with
 * echo and output processing) as its stdin, stdout and stderr and its controlling terminal, as a user's shell
 * would; returns its exit status, every byte it wrote, and whether the terminal's modes were the same afterwards.
 */
const PTYRUN = `
import os, pty, sys, tty, json, fcntl, termios
master, slave = pty.openpty()
if not os.environ.get('PTY_COOKED'): tty.setraw(slave)
name = os.ttyname(slave)
before = termios.tcgetattr(slave)
pid = os.fork()
if pid == 0:
    os.setsid()
    fcntl.ioctl(slave, termios.TIOCSCTTY, 0)
    for fd in (0, 1, 2): os.dup2(slave, fd)
    os.close(master); os.close(slave)
    os.execvp(sys.argv[1], sys.argv[1:])
os.close(slave)
out = b''
while True:
    try:
        d = os.read(master, 65536)
    except OSError:
        break
    if not d: break
    out += d
_, st = os.waitpid(pid, 0)
fd = os.open(name, os.O_RDWR | os.O_NOCTTY)
after = termios.tcgetattr(fd)
print(json.dumps({'status': os.waitstatus_to_exitcode(st), 'out': out.hex(), 'restored': after == before}))
`;
function onPty(args: string[], cooked = false): { status: number; out: Buffer; restored: boolean } {
  const env = cooked ? { ...process.env, PTY_COOKED: '1' } : process.env;
  const r = spawnSync('python3', ['-c', PTYRUN, ...args], { encoding: 'utf8', timeout: 30_000, env });
  if (r.status !== 0) throw new Error(`python3 pty: ${r.status} ${r.stderr}`);
  const j = JSON.parse(r.stdout);
  return { status: j.status, out: Buffer.from(j.out, 'hex'), restored: j.restored };
}
const HAVE_PYTHON = spawnSync('python3', ['-c', 'import pty']).status === 0;
if (!HAVE_PYTHON) console.log('skipped: the terminal relay tests need python3 (its pty module gives runts a terminal)');

describe('console socket', () => {
  it('sends the pty master; the shell sees a tty on stdio and /dev/console', async () => {
    const native = loadNative();
    const sockPath = path.join(c.work, 'console.sock');
    const listen = native.unixListen(sockPath, 1);
    const cfg = baseConfig(['sh']);
    cfg.process.terminal = true;
    cfg.process.consoleSize = { height: 33, width: 101 };
    const r = rt(c, ['create', '--bundle', bundle(c, cfg), '--console-socket', sockPath, cid('con1')]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const conn = native.unixAccept(listen);
    const { fd: master } = native.recvFd(conn);
    fs.closeSync(conn);
    fs.closeSync(listen);
    // the master is a pty master (ptmx, major 5)
    expect(fs.readlinkSync(`/proc/self/fd/${master}`)).toMatch(/ptmx$/);
    expect(rt(c, ['start', cid('con1')]).status).toBe(0);
    fs.writeSync(master, 'tty; stty size; ls -l /dev/console; readlink /proc/self/fd/0; echo "done-$((40+2))"\n');
    const out = await readUntil(master, /done-42/);
    expect(out).toMatch(/\/dev\/pts\/0/);
    expect(out).toMatch(/33 101/);
    expect(out).toMatch(/c[rw-]{9}\s.*136,\s*0.*\/dev\/console/);
    fs.writeSync(master, 'exit 0\n');
    const end = Date.now() + 5000;
    while (stateOf(c, cid('con1')).status !== 'stopped' && Date.now() < end) await new Promise((res) => setTimeout(res, 50));
    expect(stateOf(c, cid('con1')).status).toBe('stopped');
    fs.closeSync(master);
    expect(rt(c, ['delete', cid('con1')]).status).toBe(0);
  });

  it('terminal without --console-socket fails create cleanly', () => {
    const cfg = baseConfig(['sh']);
    cfg.process.terminal = true;
    const r = rt(c, ['create', '--bundle', bundle(c, cfg), cid('con2')]);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/console.socket/);
    expect(fs.existsSync(path.join(c.root, cid('con2')))).toBe(false);
  });

  it('--console-socket to nowhere fails create cleanly', () => {
    const cfg = baseConfig(['sh']);
    cfg.process.terminal = true;
    const r = rt(c, ['create', '--bundle', bundle(c, cfg), '--console-socket', path.join(c.work, 'nope.sock'), cid('con3')]);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/nope\.sock/);
    expect(fs.existsSync(path.join(c.root, cid('con3')))).toBe(false);
  });

  if (!hasProgram('script')) console.log('script(1) (util-linux) is not installed: the terminal relay under script is not checked');
  it.skipIf(!hasProgram('script'))('run with a terminal and no --console-socket relays the pty to the caller (under script(1))', () => {
    const cfg = baseConfig(['sh', '-c', 'tty; stty size; exit 5']);
    cfg.process.terminal = true;
    cfg.process.consoleSize = { height: 20, width: 70 };
    const b = bundle(c, cfg);
    const cmd = `${RUNTS} --root ${c.root} run --bundle ${b} con4`;
    const r = spawnSync('script', ['-qec', cmd, '/dev/null'], { encoding: 'utf8', timeout: 20_000, input: '' });
    expect(r.stdout).toMatch(/\/dev\/pts\/0/);
    expect(r.status, r.stdout + r.stderr).toBe(5);
    expect(fs.existsSync(path.join(c.root, 'con4'))).toBe(false);
  });
  // issue #15: every exec -t bound its pty over /dev/console and left it there, so the next one failed
  // ("mount /dev/pts/0 on /dev/console: no such file or directory"). The console is the first process's only.
  it('exec --tty twice: both work, /dev/console stays the init\'s terminal', async () => {
    const cfg = baseConfig(['sleep', '300']);
    cfg.process.terminal = true;
    const master = createTty(cid('con-exec2'), cfg);
    try {
      const probe = ['sh', '-c', 'tty; stat -c "console %t,%T" /dev/console; grep -c " /dev/console " /proc/self/mountinfo'];
      for (let i = 0; i < 2; i++) {
        const r = await execTty(cid('con-exec2'), [], probe);
        expect(r.stderr, `exec #${i + 1}`).toBe('');
        expect(r.status, `exec #${i + 1}`).toBe(0);
        // the exec's own pty is not pts/0; /dev/console is still pts/0 (136,0), mounted once
        expect(r.out, `exec #${i + 1}`).toMatch(/^\/dev\/pts\/[1-9]\d*\nconsole 88,0\n1\n$/);
      }
    } finally {
      fs.closeSync(master);
      rt(c, ['delete', '--force', cid('con-exec2')]);
    }
  });

  it('exec --tty into a container without a terminal leaves /dev/console alone', async () => {
    expect(rt(c, ['run', '-d', '--bundle', bundle(c, baseConfig(['sleep', '300'])), cid('con-exec3')]).status).toBe(0);
    try {
      for (let i = 0; i < 2; i++) {
        const r = await execTty(cid('con-exec3'), [], ['sh', '-c', 'tty; ls /dev/console 2>&1; grep -c " /dev/console " /proc/self/mountinfo']);
        expect(r.status, r.stderr).toBe(0);
        expect(r.out, `exec #${i + 1}`).toMatch(/^\/dev\/pts\/\d+\n.*No such file or directory\n0\n$/);
      }
    } finally {
      rt(c, ['delete', '--force', cid('con-exec3')]);
    }
  });

  // issue #15: the terminal belongs to process.user (uid), its group stays devpts' gid= (5 here), as with runc
  it('the terminal is owned by process.user, group from devpts (create and exec)', async () => {
    const cfg = baseConfig(['sh', '-c', 'stat -c "owner %u:%g" $(tty); sleep 300']);
    cfg.process.terminal = true;
    cfg.process.user = { uid: 1000, gid: 1000 };
    const master = createTty(cid('con-owner'), cfg);
    try {
      expect((await readUntil(master, /owner \d+:\d+/)).replace(/\r/g, '')).toMatch(/owner 1000:5\n/);
      const r = await execTty(cid('con-owner'), ['--user', '1001:1001'], ['sh', '-c', 'stat -c "owner %u:%g" $(tty)']);
      expect(r.status, r.stderr).toBe(0);
      expect(r.out).toBe('owner 1001:5\n');
      const root = await execTty(cid('con-owner'), ['--user', '0:0'], ['sh', '-c', 'stat -c "owner %u:%g" $(tty)']);
      expect(root.out).toBe('owner 0:5\n');
    } finally {
      fs.closeSync(master);
      rt(c, ['delete', '--force', cid('con-owner')]);
    }
  });
  // issue #14 item 6: the relay closed the pty without draining it: nothing, a truncated line or a lone NUL
  // Each loop yields to the event loop between runs: vitest's worker must answer its runner within 60 s, and a
  // loaded machine can stretch these loops past that (an unhandled "Timeout calling onTaskUpdate" fails the run).
  it.skipIf(!HAVE_PYTHON)('run with a terminal relays every byte of 30 short containers', async () => {
    const line = 'L'.repeat(50) + '-0123456789'.repeat(10);
    const cfg = baseConfig(['echo', line]);
    cfg.process.terminal = true;
    const b = bundle(c, cfg);
    const bad: string[] = [];
    for (let i = 0; i < 30; i++) {
      const r = onPty([RUNTS, '--root', c.root, 'run', '--bundle', b, `con-relay-${i}`]);
      // the container's pty turned \n into \r\n; nothing else may change
      if (r.status !== 0 || r.out.toString('latin1') !== `${line}\r\n`) bad.push(`#${i}: status ${r.status}, ${JSON.stringify(r.out.toString('latin1'))}`);
      await sleep(0);
    }
    expect(bad).toEqual([]);
  }, 300_000);

  // runts' own terminal in raw mode as runc's (OPOST off): Node's setRawMode kept OPOST|ONLCR, so on a cooked
  // terminal the container pty's \r\n came out as \r\r\n. The terminal's modes are back as they were afterwards.
  it.skipIf(!HAVE_PYTHON)('run and exec -t on a cooked terminal: output not translated twice, the terminal restored', () => {
    const cfg = baseConfig(['sh', '-c', 'echo one; echo two']);
    cfg.process.terminal = true;
    const once = bundle(c, cfg);
    const r = onPty([RUNTS, '--root', c.root, 'run', '--bundle', once, 'con-cooked'], true);
    expect(r.status).toBe(0);
    expect(r.out.toString('latin1')).toBe('one\r\ntwo\r\n');
    expect(r.restored).toBe(true);
    expect(rt(c, ['run', '-d', '--bundle', bundle(c, baseConfig(['sleep', '300'])), cid('con-cooked-exec')]).status).toBe(0);
    try {
      const e = onPty([RUNTS, '--root', c.root, 'exec', '-t', cid('con-cooked-exec'), 'sh', '-c', 'echo one; echo two; exit 4'], true);
      expect(e.status).toBe(4);
      expect(e.out.toString('latin1')).toBe('one\r\ntwo\r\n');
      expect(e.restored).toBe(true);
    } finally {
      rt(c, ['delete', '--force', cid('con-cooked-exec')]);
    }
  });

  it.skipIf(!HAVE_PYTHON)('exec --tty without --console-socket relays every byte, also with a background process holding the pty', async () => {
    expect(rt(c, ['run', '-d', '--bundle', bundle(c, baseConfig(['sleep', '300'])), cid('con-relay-exec')]).status).toBe(0);
    try {
      const line = 'E'.repeat(40) + '-abcdefghij'.repeat(12);
      const bad: string[] = [];
      for (let i = 0; i < 10; i++) {
        const script = i % 2 ? `echo ${line}; exit 3` : `sleep 2 & echo ${line}; exit 3`;
        const r = onPty([RUNTS, '--root', c.root, 'exec', '-t', cid('con-relay-exec'), 'sh', '-c', script]);
        if (r.status !== 3 || r.out.toString('latin1') !== `${line}\r\n`) bad.push(`#${i}: status ${r.status}, ${JSON.stringify(r.out.toString('latin1'))}`);
        await sleep(0);
      }
      expect(bad).toEqual([]);
    } finally {
      rt(c, ['delete', '--force', cid('con-relay-exec')]);
    }
  }, 120_000);
});
