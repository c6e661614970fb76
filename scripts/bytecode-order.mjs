// The order of dist/runts' bytecode (`bun build --bytecode-order`): the functions the calls managers make run
// first are laid out together, so that a call touches fewer pages of the executable (docs/performance.md: about
// 10 page faults less per call). scripts/compile.mjs compiles once, runs that executable with
// BUN_BYTECODE_ORDER_OUT on the calls below, and compiles again with what they wrote.
//
// The calls need no container, no root and no rootfs, so every build orders the same way: made-up state
// directories in a temporary root (written by create's own state writer), one of them "created" (its init is
// this process, and exec.sock a socket this script answers), and create and run of a bundle whose rootfs does
// not exist (they load, read, validate and fail before anything is made). Most important first: the containerd
// shim's per-container calls, then create, run and exec.
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import { createRequire } from 'module';
import { repo } from './bun-compile.mjs';

/** One call of `exe` with the order written to `out`; resolves with its exit status. */
function call(exe, args, out) {
  return new Promise((resolve, reject) => {
    const c = spawn(exe, args, { stdio: 'ignore', env: { ...process.env, BUN_BYTECODE_ORDER_OUT: out } });
    c.on('error', reject);
    c.on('exit', (code) => resolve(code));
  });
}

/** The state directory of a made-up container, written by create's own writer (dist/container/state.js). */
function container(root, id, pid, startTime, extra = {}) {
  const { writeSaved } = createRequire(import.meta.url)(path.join(repo, 'dist', 'container', 'state.js'));
  const dir = path.join(root, id);
  fs.mkdirSync(dir, { recursive: true });
  writeSaved(dir, {
    ociVersion: '1.3.0', id, pid, startTime, bundle: '/b', rootfs: '/b/rootfs', created: '2026-01-01T00:00:00Z',
    owner: '', config: { ociVersion: '1.3.0', root: { path: 'rootfs' } }, ...extra,
  });
  return dir;
}

/**
 * Run `exe` (a dist/runts just compiled, its side files beside it) on the training calls; returns the order files,
 * most important first. Throws when a call could not be made (the caller compiles without an order then).
 */
export async function trainOrder(exe) {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'runts-order-'));
  let server;
  try {
    const root = path.join(work, 'root');
    const self = fs.readFileSync('/proc/self/stat', 'utf8');
    const startTime = self.slice(self.lastIndexOf(')') + 2).split(' ')[19];
    // "created": its init is this process, waiting on exec.sock (start writes the start frame, this closes)
    const created = container(root, 'created', process.pid, startTime);
    server = net.createServer((s) => { s.on('data', () => s.end()); s.on('error', () => undefined); });
    await new Promise((resolve) => server.listen(path.join(created, 'exec.sock'), resolve));
    container(root, 'running', process.pid, startTime);
    // "stopped": pid 0, and a cgroup that is a plain directory of ours (delete removes it)
    const cg = path.join(work, 'cg');
    fs.mkdirSync(cg);
    container(root, 'stopped', 0, '0', { cgroup: { version: 1, paths: { pids: cg }, created: [cg] } });
    const bundle = path.join(work, 'bundle');
    fs.mkdirSync(bundle);
    fs.writeFileSync(path.join(bundle, 'config.json'), JSON.stringify({
      ociVersion: '1.3.0', root: { path: 'rootfs' },
      process: { args: ['true'], cwd: '/', user: { uid: 0, gid: 0 }, env: ['PATH=/bin'] },
      linux: { namespaces: [{ type: 'pid' }, { type: 'mount' }, { type: 'ipc' }, { type: 'uts' }, { type: 'network' }] },
    }));
    const g = ['--root', root];
    // [name, arguments, the exit status that shows the call went the way it should]
    const calls = [
      ['start', [...g, 'start', 'created'], 0],
      ['kill', [...g, 'kill', 'running', '0'], 0],
      ['state', [...g, 'state', 'running'], 0],
      ['delete', [...g, 'delete', 'stopped'], 0],
      ['gone', [...g, 'delete', '--force', 'gone'], 0],
      ['create', [...g, 'create', '--bundle', bundle, 'new'], 1],
      ['run', [...g, 'run', '--bundle', bundle, 'new'], 1],
      ['exec', [...g, 'exec', 'gone', 'true'], 255],
    ];
    const files = [];
    for (const [name, args, expected] of calls) {
      const out = path.join(work, `${name}.order`);
      const status = await call(exe, args, out);
      if (status !== expected) throw new Error(`${name}: exit status ${status}, expected ${expected}`);
      if (!fs.existsSync(out)) throw new Error(`${name}: no order written`);
      files.push(out);
    }
    // kept until the second compile has read them: the caller removes `work`
    return { files, work };
  } catch (e) {
    fs.rmSync(work, { recursive: true, force: true });
    throw e;
  } finally {
    server?.close();
  }
}
