// Shared machinery of the conformance suite: building the probe and the rootfs, the per-check context (T) that
// writes bundles and calls the runtime the way a manager does, and small parsers (mountinfo, capabilities).
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const HERE = path.dirname(fileURLToPath(import.meta.url));
export const REPO = path.resolve(HERE, '..');

/** A check failed: the message is the one-line reason. */
export class Fail extends Error {}
/** A check cannot run on this host: the message is the host reason. */
export class Skip extends Error {}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** The most telling line of a runtime's stderr, shortened: the last non-empty one. */
export function lastLine(s, max = 200) {
  const lines = String(s ?? '').split('\n').map((l) => l.trim()).filter(Boolean);
  let l = lines.pop() ?? '';
  // runc-style logrus lines: keep the message
  const m = l.match(/level=(?:error|fatal) msg="((?:[^"\\]|\\.)*)"/);
  if (m) { try { l = JSON.parse(`"${m[1]}"`); } catch { l = m[1]; } }
  // the end of an error usually names the cause (": invalid argument"): keep both ends
  return l.length > max ? `${l.slice(0, max - 61)}…${l.slice(-60)}` : l;
}

/** Where the probe lives inside every rootfs the suite builds. */
export const PROBE_IN_ROOT = '/opt/conformance/probe';
/** The startContainer hook script inside the rootfs (the path must resolve in the container). */
export const HOOK_IN_ROOT = '/opt/conformance/hook.sh';
/** Mount points the checks use, created in the shared rootfs up front so runtimes need not create them. */
const MOUNT_POINTS = ['shared', 'hooks', 'data', 'm', 'a', 'cf-rel'];

const HOOK_SCRIPT = `#!/bin/sh
# A hook that runs inside the container: records its name, the state it got on stdin and its network namespace.
# usage: hook.sh NAME DIR [EXIT]
name=$1
dir=$2
cat > "$dir/$name.json"
readlink /proc/self/ns/net > "$dir/$name.netns"
echo "$name" >> "$dir/log"
exit "\${3:-0}"
`;

// ---------------------------------------------------------------------------------------------------------------
// Build steps, once per run.

/** Compile a C helper statically, cached in conformance/.build by the hash of its source. */
export function buildStatic(name) {
  const src = path.join(HERE, `${name}.c`);
  const hash = crypto.createHash('sha256').update(fs.readFileSync(src)).digest('hex').slice(0, 12);
  const dir = path.join(HERE, '.build');
  const out = path.join(dir, `${name}-${hash}`);
  if (!fs.existsSync(out)) {
    fs.mkdirSync(dir, { recursive: true });
    const tmp = `${out}.tmp.${process.pid}`;
    const r = spawnSync('cc', ['-static', '-O2', '-Wall', '-o', tmp, src], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`cc -static ${name}.c failed (install build-essential/libc6-dev): ${r.error?.message ?? r.stderr}`);
    fs.renameSync(tmp, out);
  }
  return out;
}

/** The shared busybox rootfs (scripts/make-rootfs.sh) with the probe and the hook script added. */
export function buildRootfs(dir, probe) {
  const r = spawnSync('bash', [path.join(REPO, 'scripts', 'make-rootfs.sh'), dir], {
    encoding: 'utf8',
    env: { ...process.env, EXTRA_FILES: `${probe}:${PROBE_IN_ROOT.slice(1)}` },
  });
  if (r.status !== 0) throw new Error(`scripts/make-rootfs.sh failed: ${r.stderr}`);
  fs.writeFileSync(path.join(dir, HOOK_IN_ROOT), HOOK_SCRIPT, { mode: 0o755 });
  for (const m of MOUNT_POINTS) fs.mkdirSync(path.join(dir, m), { recursive: true });
  return dir;
}

// ---------------------------------------------------------------------------------------------------------------
// Host facts.

export function hostNs() {
  const ns = {};
  for (const t of ['cgroup', 'ipc', 'mnt', 'net', 'pid', 'time', 'user', 'uts']) {
    try { ns[t] = fs.readlinkSync(`/proc/self/ns/${t}`); } catch { /* not supported */ }
  }
  return ns;
}

export function cgroupVersion() {
  return fs.existsSync('/sys/fs/cgroup/cgroup.controllers') ? 2 : 1;
}

/** Mount point of a cgroup v1 controller in the runner's mount namespace, or undefined. */
export function v1Mount(controller) {
  for (const m of parseMountinfo(fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n'))) {
    if (m.fstype === 'cgroup' && m.superOpts.has(controller)) return m.mountPoint;
  }
  return undefined;
}

/** Every cgroup directory (v1: one per mounted controller; v2: one) that `cgroupsPath` would name. */
export function cgroupDirsFor(cgPath) {
  const rel = cgPath.replace(/^\/+/, '');
  if (cgroupVersion() === 2) return [path.join('/sys/fs/cgroup', rel)];
  const dirs = [];
  for (const m of parseMountinfo(fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n'))) {
    if (m.fstype === 'cgroup') dirs.push(path.join(m.mountPoint, rel));
  }
  return dirs;
}

/**
 * The cgroup directory of `pid` for a controller (v1) or the unified one (v2), from /proc/PID/cgroup.
 * Returns { dir, path } or undefined when the controller is not there.
 */
export function cgroupOf(pid, controller) {
  const lines = fs.readFileSync(`/proc/${pid}/cgroup`, 'utf8').trim().split('\n');
  if (cgroupVersion() === 2) {
    const l = lines.find((x) => x.startsWith('0::'));
    if (!l) return undefined;
    const p = l.slice(3);
    return { path: p, dir: path.join('/sys/fs/cgroup', p) };
  }
  const mount = v1Mount(controller);
  if (!mount) return undefined;
  for (const l of lines) {
    const [, ctrls, p] = l.match(/^\d+:([^:]*):(.*)$/) ?? [];
    if (ctrls !== undefined && ctrls.split(',').includes(controller)) return { path: p, dir: path.join(mount, p) };
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------------------------
// Parsers.

function unescapeMount(s) {
  return s.replace(/\\([0-7]{3})/g, (_, o) => String.fromCharCode(parseInt(o, 8)));
}

/** /proc/PID/mountinfo lines → [{ id, parent, root, mountPoint, opts:Set, optional:[], fstype, source, superOpts:Set }]. */
export function parseMountinfo(lines) {
  const out = [];
  for (const line of lines) {
    if (!line.trim()) continue;
    const parts = line.split(' ');
    const dash = parts.indexOf('-');
    if (dash < 6) continue;
    out.push({
      id: Number(parts[0]),
      parent: Number(parts[1]),
      root: unescapeMount(parts[3]),
      mountPoint: unescapeMount(parts[4]),
      opts: new Set(parts[5].split(',')),
      optional: parts.slice(6, dash),
      fstype: parts[dash + 1],
      source: parts[dash + 2],
      superOpts: new Set((parts[dash + 3] ?? '').split(',')),
    });
  }
  return out;
}

/** The mount visible at `mountPoint` (the last one mounted there). */
export function mountAt(mounts, mountPoint) {
  const all = mounts.filter((m) => m.mountPoint === mountPoint);
  return all[all.length - 1];
}

export const CAP_BITS = {
  CAP_CHOWN: 0, CAP_DAC_OVERRIDE: 1, CAP_DAC_READ_SEARCH: 2, CAP_FOWNER: 3, CAP_FSETID: 4, CAP_KILL: 5, CAP_SETGID: 6,
  CAP_SETUID: 7, CAP_SETPCAP: 8, CAP_LINUX_IMMUTABLE: 9, CAP_NET_BIND_SERVICE: 10, CAP_NET_BROADCAST: 11,
  CAP_NET_ADMIN: 12, CAP_NET_RAW: 13, CAP_IPC_LOCK: 14, CAP_IPC_OWNER: 15, CAP_SYS_MODULE: 16, CAP_SYS_RAWIO: 17,
  CAP_SYS_CHROOT: 18, CAP_SYS_PTRACE: 19, CAP_SYS_PACCT: 20, CAP_SYS_ADMIN: 21, CAP_SYS_BOOT: 22, CAP_SYS_NICE: 23,
  CAP_SYS_RESOURCE: 24, CAP_SYS_TIME: 25, CAP_SYS_TTY_CONFIG: 26, CAP_MKNOD: 27, CAP_LEASE: 28, CAP_AUDIT_WRITE: 29,
  CAP_AUDIT_CONTROL: 30, CAP_SETFCAP: 31, CAP_MAC_OVERRIDE: 32, CAP_MAC_ADMIN: 33, CAP_SYSLOG: 34, CAP_WAKE_ALARM: 35,
  CAP_BLOCK_SUSPEND: 36, CAP_AUDIT_READ: 37, CAP_PERFMON: 38, CAP_BPF: 39, CAP_CHECKPOINT_RESTORE: 40,
};

export function capMask(names) {
  let m = 0n;
  for (const n of names) m |= 1n << BigInt(CAP_BITS[n]);
  return m;
}

/** A capability mask as names, for messages. */
export function capNames(mask) {
  const names = Object.entries(CAP_BITS).filter(([, b]) => (mask >> BigInt(b)) & 1n).map(([n]) => n.replace(/^CAP_/, ''));
  const known = Object.values(CAP_BITS).reduce((m, b) => m | (1n << BigInt(b)), 0n);
  if (mask & ~known) names.push(`0x${(mask & ~known).toString(16)}`);
  return names.length ? names.join(',') : '(none)';
}

// ---------------------------------------------------------------------------------------------------------------
// The per-check context.

let idSeq = 0;

export class T {
  /**
   * @param suite { tmp, rootfs, probe, recvfd, hostNs, keep }
   * @param runtime absolute path of the runtime binary
   * @param dir this check's own temp dir (removed by cleanup)
   */
  constructor(suite, runtime, dir) {
    this.suite = suite;
    this.runtime = runtime;
    this.dir = dir;
    this.root = path.join(dir, 'root');
    fs.mkdirSync(this.root, { recursive: true });
    this.cleanups = [];
    this.children = [];
    this.cgroupPaths = [];
    this.seq = 0;
  }

  fail(msg) { throw new Fail(msg); }
  skip(msg) { throw new Skip(msg); }
  ok(cond, msg) { if (!cond) throw new Fail(msg); }
  eq(actual, expected, what) {
    const a = JSON.stringify(actual);
    const e = JSON.stringify(expected);
    if (a !== e) throw new Fail(`${what}: got ${a}, expected ${e}`);
  }

  /** A fresh container id. */
  id(tag = 'c') {
    return `cf${process.pid}-${++idSeq}-${tag}`;
  }

  /** A fresh directory inside the check's temp dir. */
  mkdir(name, mode = 0o755) {
    const d = path.join(this.dir, `${name}-${++this.seq}`);
    fs.mkdirSync(d, { recursive: true, mode });
    fs.chmodSync(d, mode);
    return d;
  }

  /** A copy of the shared rootfs (hard links; `deep` for a real copy when the check must not share inodes). */
  rootfsCopy(deep = false, into) {
    const d = into ?? path.join(this.dir, `rootfs-${++this.seq}`);
    execFileSync('cp', [deep ? '-a' : '-al', this.suite.rootfs, d], { stdio: ['ignore', 'ignore', 'pipe'] });
    return d;
  }

  /** A config like `runc spec` writes (not a terminal), running `args` in the shared read-only rootfs. */
  config(args = ['true']) {
    return baseConfig(args, this.suite.rootfs);
  }

  /** Write a bundle dir with config.json; returns its path. */
  bundle(cfg, dir) {
    const b = dir ?? this.mkdir('bundle');
    fs.writeFileSync(path.join(b, 'config.json'), JSON.stringify(cfg, null, 2));
    return b;
  }

  /** Bind a host directory into the container at `dest` (read-write); returns the host path. */
  share(cfg, dest = '/shared', mode = 0o777) {
    const d = this.mkdir('share', mode);
    cfg.mounts.push({ destination: dest, type: 'bind', source: d, options: ['rbind', 'rw'] });
    return d;
  }

  /**
   * Call the runtime with this check's --root, stdin from /dev/null, stdout and stderr to files (a detached
   * container inherits them: a pipe would stay open as long as it lives). `prefix` runs a shell snippet in the
   * process that then execs the runtime (umask, LISTEN_PID, oom_score_adj); `fds` are passed as fds 3, 4, ...
   */
  rt(args, { env, cwd, fds = [], prefix, timeout = 20000 } = {}) {
    const n = ++this.seq;
    const outPath = path.join(this.dir, `rt-${n}.out`);
    const errPath = path.join(this.dir, `rt-${n}.err`);
    const out = fs.openSync(outPath, 'w');
    const err = fs.openSync(errPath, 'w');
    const inp = fs.openSync('/dev/null', 'r');
    let cmd = this.runtime;
    let argv = ['--root', this.root, ...args];
    if (prefix) {
      argv = ['-c', `${prefix}\nexec "$0" "$@"`, cmd, ...argv];
      cmd = '/bin/sh';
    }
    const started = Date.now();
    let r;
    try {
      r = spawnSync(cmd, argv, {
        stdio: [inp, out, err, ...fds],
        env: { ...process.env, CONFORMANCE_LEAK: 'leaked-from-the-runtime-environment', ...env },
        cwd: cwd ?? this.dir,
        timeout,
        killSignal: 'SIGKILL',
      });
    } finally {
      fs.closeSync(inp);
      fs.closeSync(out);
      fs.closeSync(err);
    }
    return {
      status: r.status,
      signal: r.signal,
      timedOut: r.error?.code === 'ETIMEDOUT',
      ms: Date.now() - started,
      outPath,
      errPath,
      get stdout() { return fs.readFileSync(outPath, 'utf8'); },
      get stderr() { return fs.readFileSync(errPath, 'utf8'); },
      get reason() {
        if (this.timedOut) return `timed out after ${timeout} ms`;
        return lastLine(this.stderr) || `exit status ${this.status}`;
      },
    };
  }

  /** create; fails the check unless it succeeds. `cfg` is a config object or a bundle path. */
  create(cfg, { id = this.id(), args = [], ...opts } = {}) {
    const bundle = typeof cfg === 'string' ? cfg : this.bundle(cfg);
    const r = this.rt(['create', '--bundle', bundle, ...args, id], opts);
    if (r.status !== 0) this.fail(`create failed: ${r.reason}`);
    return { id, bundle, r };
  }

  start(id) {
    const r = this.rt(['start', id]);
    if (r.status !== 0) this.fail(`start failed: ${r.reason}`);
    return r;
  }

  /** state ID as an object; { error } when the runtime reports an error. */
  stateMaybe(id) {
    const r = this.rt(['state', id]);
    if (r.status !== 0) return { error: r.reason, r };
    try {
      return { state: JSON.parse(r.stdout), r };
    } catch {
      return { error: `state output is not JSON: ${lastLine(r.stdout)}`, r };
    }
  }

  state(id) {
    const s = this.stateMaybe(id);
    if (s.error) this.fail(`state ${id} failed: ${s.error}`);
    return s.state;
  }

  /** Poll `state` until the status is `want`; fails the check after `ms`. */
  async waitStatus(id, want, ms = 5000) {
    const end = Date.now() + ms;
    let last;
    for (;;) {
      last = this.stateMaybe(id);
      if (last.state?.status === want) return last.state;
      if (Date.now() > end) this.fail(`status did not become "${want}" within ${ms} ms (last: ${last.state?.status ?? last.error})`);
      await sleep(20);
    }
  }

  /** Wait for a host file to exist; false after `ms`. */
  async waitFile(p, ms = 3000) {
    const end = Date.now() + ms;
    while (!fs.existsSync(p)) {
      if (Date.now() > end) return false;
      await sleep(15);
    }
    return true;
  }

  /**
   * Run a container to the end as a manager would: create, start, wait for "stopped", delete.
   * Returns what the process wrote (its stdout and stderr are the files create was given).
   */
  async run(cfg, opts = {}) {
    const c = this.create(cfg, opts);
    this.start(c.id);
    await this.waitStatus(c.id, 'stopped', opts.waitMs ?? 10000);
    const stdout = fs.readFileSync(c.r.outPath, 'utf8');
    const stderr = fs.readFileSync(c.r.errPath, 'utf8');
    this.rt(['delete', c.id]);
    return { stdout, stderr, id: c.id, bundle: c.bundle };
  }

  /** Run the probe in a container (base config changed by `change`) and parse what it prints. */
  async probe(change, opts) {
    const cfg = this.config([PROBE_IN_ROOT]);
    change?.(cfg);
    const { stdout, stderr } = await this.run(cfg, opts);
    try {
      return JSON.parse(stdout);
    } catch {
      this.fail(`probe printed no JSON (stdout ${JSON.stringify(stdout.slice(0, 80))}, stderr ${JSON.stringify(lastLine(stderr))})`);
    }
  }

  /** Run `sh -c script` in a container (base config changed by `change`); returns its stdout. */
  async sh(script, change, opts) {
    const cfg = this.config(['sh', '-c', script]);
    change?.(cfg);
    return (await this.run(cfg, opts)).stdout;
  }

  /**
   * A terminal container (`sh`) driven through --console-socket by recvfd: recvfd receives the pty master, types
   * `input` into it and collects what comes back until the marker CF-DONE-42 (type `echo "CF-DONE-$((40+2))"`).
   * Returns what recvfd printed; its first line is "fd: <what the received descriptor is>".
   */
  async terminal(input, change) {
    const cfg = this.config(['sh']);
    cfg.process.terminal = true;
    change?.(cfg);
    const sock = path.join(this.dir, 'console.sock');
    const outPath = path.join(this.dir, 'recvfd.out');
    const out = fs.openSync(outPath, 'w');
    const child = spawn(this.suite.recvfd, [sock, '8000', input, 'CF-DONE-42'], { stdio: ['ignore', out, out] });
    fs.closeSync(out);
    this.children.push(child);
    const exited = new Promise((res) => child.on('exit', (code) => res(code)));
    if (!(await this.waitFile(sock, 3000))) this.fail('recvfd did not start listening');
    const c = this.create(cfg, { args: ['--console-socket', sock] });
    this.start(c.id);
    const code = await Promise.race([exited, sleep(10000).then(() => 'timeout')]);
    const text = fs.readFileSync(outPath, 'utf8');
    if (code === 2) this.fail(`no pty master arrived on the console socket (${lastLine(text)})`);
    if (code !== 0) this.fail(`the shell on the pty did not answer (got ${JSON.stringify(text.slice(-120))})`);
    return text;
  }

  /** Mount on the host (for the check's own fixtures); unmounted at cleanup. */
  hostMount(args) {
    execFileSync('mount', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  }

  /** A background host process (e.g. a namespace holder), killed at cleanup. */
  background(cmd, args) {
    const child = spawn(cmd, args, { stdio: 'ignore' });
    this.children.push(child);
    return child;
  }

  onCleanup(fn) { this.cleanups.push(fn); }

  /** Register a cgroupsPath whose directories must not outlive the check. */
  cgroupPath(p) { this.cgroupPaths.push(p); return p; }

  async cleanup() {
    for (const fn of this.cleanups.reverse()) {
      try { await fn(); } catch { /* best effort */ }
    }
    let ids = [];
    try { ids = fs.readdirSync(this.root); } catch { /* none */ }
    for (const id of ids) {
      if (fs.statSync(path.join(this.root, id)).isDirectory()) this.rt(['delete', '--force', id], { timeout: 10000 });
    }
    for (const c of this.children) {
      if (c.exitCode === null && c.signalCode === null) {
        try { process.kill(c.pid, 'SIGKILL'); } catch { /* gone */ }
      }
    }
    for (const p of this.cgroupPaths) {
      for (const d of cgroupDirsFor(p).reverse()) rmCgroup(d);
    }
    unmountUnder(this.dir);
    if (!this.suite.keep) fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

function rmCgroup(dir) {
  let entries = [];
  try { entries = fs.readdirSync(dir, { withFileTypes: true }); } catch { return; }
  for (const e of entries) if (e.isDirectory()) rmCgroup(path.join(dir, e.name));
  try { fs.rmdirSync(dir); } catch { /* busy or gone */ }
}

/** Lazily unmount everything mounted at or below `dir` (deepest first), so rm -rf cannot cross into a mount. */
export function unmountUnder(dir) {
  for (let round = 0; round < 5; round++) {
    const mounts = parseMountinfo(fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n'))
      .map((m) => m.mountPoint)
      .filter((p) => p === dir || p.startsWith(`${dir}/`))
      .sort((a, b) => b.length - a.length);
    if (!mounts.length) return;
    for (const p of mounts) spawnSync('umount', ['-l', p], { stdio: 'ignore' });
  }
}

export const DEFAULT_CAPS = ['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'];

export function baseConfig(args, rootPath) {
  return {
    ociVersion: '1.0.2',
    process: {
      terminal: false,
      user: { uid: 0, gid: 0 },
      args,
      env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'HOME=/root', 'TERM=xterm'],
      cwd: '/',
      capabilities: { bounding: [...DEFAULT_CAPS], effective: [...DEFAULT_CAPS], permitted: [...DEFAULT_CAPS] },
      noNewPrivileges: true,
    },
    root: { path: rootPath, readonly: true },
    hostname: 'conformance',
    mounts: [
      { destination: '/proc', type: 'proc', source: 'proc' },
      { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
      { destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'] },
      { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=65536k'] },
      { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
      { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] },
    ],
    linux: {
      namespaces: [{ type: 'pid' }, { type: 'network' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' }],
    },
  };
}

/** The runtime's --version, first line (or a note that it has none). */
export function runtimeVersion(bin) {
  const r = spawnSync(bin, ['--version'], { encoding: 'utf8', timeout: 5000 });
  const lines = `${r.stdout ?? ''}`.trim().split('\n').filter(Boolean);
  return lines.length ? lines.join('; ') : '(no --version output)';
}

/** A line describing the machine, for reports. */
export function machineLine() {
  let distro = '';
  try {
    distro = fs.readFileSync('/etc/os-release', 'utf8').match(/^PRETTY_NAME="?([^"\n]*)"?/m)?.[1] ?? '';
  } catch { /* none */ }
  const cg = cgroupVersion() === 2 ? 'cgroup v2' : (fs.existsSync('/sys/fs/cgroup/unified') ? 'cgroup v1 (hybrid)' : 'cgroup v1');
  const selinux = fs.existsSync('/sys/fs/selinux/enforce') ? 'SELinux' : 'no SELinux';
  return `${os.hostname()}: Linux ${os.release()} ${os.machine()}${distro ? `, ${distro}` : ''}, ${os.cpus().length} CPUs, ${cg}, ${selinux}`;
}
