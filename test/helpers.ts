// Shared helpers for integration tests: a busybox rootfs, bundles, and calls of the runtime binary.
// RUNTS_BIN points the tests at another runtime (e.g. /usr/sbin/runc) to check the checks.
import { execFileSync, spawn, spawnSync, SpawnSyncReturns } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

export const REPO = path.resolve(__dirname, '..');
export const RUNTS = process.env.RUNTS_BIN || path.join(REPO, 'bin', 'runts');
export const TMP = path.join(REPO, 'test', '.tmp');
/**
 * Work dirs of tests (bundles, state roots, sockets) live under a short path, not under the clone: a unix
 * socket path must fit in sun_path (108 bytes; containerd refuses more than 104) and podman refuses a runroot
 * longer than 50 characters, wherever the repository happens to be checked out.
 */
export const SCRATCH = '/tmp/runts-test';

/**
 * The start of a probe script run by Node on dist/ (test/unit/imports.test.ts, test/integration/builtins.test.ts):
 * the Node built-ins loaded after it are recorded in `builtins` (`relative` is there to name the project's modules
 * in require.cache after; loaded before the hook, it is not recorded).
 */
export const RECORD_LOADS = `
  const Module = require('module');
  const { relative } = require('path');
  const builtins = new Set();
  const load = Module._load;
  Module._load = function (request) {
    if (Module.isBuiltin(request)) builtins.add(request.replace(/^node:/, ''));
    return load.apply(this, arguments);
  };`;

/** A new private dir under SCRATCH. */
export function scratchDir(prefix: string): string {
  fs.mkdirSync(SCRATCH, { recursive: true, mode: 0o755 });
  return fs.mkdtempSync(path.join(SCRATCH, `${prefix}-`));
}

/** The shared busybox rootfs (built once by scripts/make-rootfs.sh). */
export function rootfs(): string {
  const dir = path.join(TMP, 'rootfs');
  if (!fs.existsSync(path.join(dir, 'bin', 'busybox'))) {
    fs.mkdirSync(TMP, { recursive: true });
    execFileSync('bash', [path.join(REPO, 'scripts', 'make-rootfs.sh'), dir], { stdio: 'inherit' });
  }
  return dir;
}

export interface Ctx {
  root: string;
  work: string;
}

/**
 * A container id unique to this test process: `name` plus the pid (the same name gives the same id within a test
 * file). Without linux.cgroupsPath a container's cgroup is /<id>: two runs of the suite at once (two clones) must
 * not share one.
 */
export function cid(name: string): string {
  return `${name}-${process.pid}`;
}

/** A fresh state root and work dir for one test file. */
export function context(name: string): Ctx {
  const work = scratchDir(name);
  const root = path.join(work, 'state');
  fs.mkdirSync(root);
  return { root, work };
}

export function cleanupContext(c: Ctx): void {
  // delete every container left behind, then the dirs
  let ids: string[] = [];
  try { ids = fs.readdirSync(c.root); } catch { /* none */ }
  for (const id of ids) rt(c, ['delete', '--force', id]);
  fs.rmSync(c.work, { recursive: true, force: true });
}

export const CAPS_DEFAULT = ['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'];

/** A config like `runc spec`'s, not a terminal, running `args`. */
export function baseConfig(args: string[], rootPath = rootfs()): any {
  return {
    ociVersion: '1.3.0',
    process: {
      terminal: false,
      user: { uid: 0, gid: 0 },
      args,
      env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'TERM=xterm'],
      cwd: '/',
      capabilities: { bounding: CAPS_DEFAULT, effective: CAPS_DEFAULT, permitted: CAPS_DEFAULT },
      rlimits: [{ type: 'RLIMIT_NOFILE', hard: 1024, soft: 1024 }],
      noNewPrivileges: true,
    },
    root: { path: rootPath, readonly: true },
    hostname: 'runts-test',
    mounts: [
      { destination: '/proc', type: 'proc', source: 'proc' },
      { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
      { destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'] },
      { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=65536k'] },
      { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
      { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] },
      { destination: '/tmp', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev'] },
    ],
    linux: {
      namespaces: [{ type: 'pid' }, { type: 'network' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' }],
      maskedPaths: ['/proc/acpi', '/proc/kcore', '/proc/keys', '/proc/timer_list', '/sys/firmware', '/proc/scsi'],
      readonlyPaths: ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'],
    },
  };
}

let bundleSeq = 0;
/** Write a bundle dir holding config.json; returns its path. */
export function bundle(c: Ctx, config: unknown): string {
  const dir = path.join(c.work, `bundle-${++bundleSeq}`);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(config, null, 2));
  return dir;
}

export type Result = SpawnSyncReturns<string>;

let outSeq = 0;
/**
 * Call the runtime with --root set to the context's state dir. Output goes through files, not pipes:
 * a detached container inherits them, and a pipe would stay open as long as the container lives.
 */
export function rt(c: Ctx, args: string[], opts: { input?: string; timeout?: number; cwd?: string; env?: NodeJS.ProcessEnv } = {}): Result {
  const base = path.join(c.work, `.out-${process.pid}-${++outSeq}`);
  const out = fs.openSync(`${base}.1`, 'w+');
  const err = fs.openSync(`${base}.2`, 'w+');
  try {
    const r = spawnSync(RUNTS, ['--root', c.root, ...args], {
      encoding: 'utf8',
      input: opts.input ?? '',
      stdio: ['pipe', out, err],
      timeout: opts.timeout ?? 30_000,
      cwd: opts.cwd,
      env: opts.env ?? process.env,
    });
    r.stdout = fs.readFileSync(`${base}.1`, 'utf8');
    r.stderr = fs.readFileSync(`${base}.2`, 'utf8');
    r.output = [null, r.stdout, r.stderr];
    return r;
  } finally {
    fs.closeSync(out);
    fs.closeSync(err);
    fs.rmSync(`${base}.1`, { force: true });
    fs.rmSync(`${base}.2`, { force: true });
  }
}

/** Run a container to completion (`run`), returning its output and exit status. */
export function runIn(c: Ctx, config: unknown, id = `t${process.pid}-${++bundleSeq}`): Result {
  const b = bundle(c, config);
  return rt(c, ['run', '--bundle', b, id]);
}

/** The output of `sh -c script` run in a container with the base config plus changes. */
export function sh(c: Ctx, script: string, change?: (cfg: any) => void): Result {
  const cfg = baseConfig(['sh', '-c', script]);
  change?.(cfg);
  return runIn(c, cfg);
}

export function stateOf(c: Ctx, id: string): any {
  const r = rt(c, ['state', id]);
  if (r.status !== 0) throw new Error(`state ${id}: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

/**
 * The host's mount points, sorted; with `under`, only those at or below these paths (other test runs on the
 * same machine mount and unmount elsewhere meanwhile).
 */
export function mountsSnapshot(under?: string[]): string {
  const all = fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').map((l) => l.split(' ').slice(4, 5).join(' '));
  const keep = under ? all.filter((m) => under.some((u) => m === u || m.startsWith(`${u}/`))) : all;
  return keep.sort().join('\n');
}

/** Whether a program is on PATH (tests that run host tools such as script(1) or cc skip without them). */
export function hasProgram(name: string): boolean {
  return (process.env.PATH ?? '/usr/bin:/bin').split(':').some((d) => {
    try { fs.accessSync(path.join(d, name), fs.constants.X_OK); return true; } catch { return false; }
  });
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

export { spawn, spawnSync, os };
