// Shared helpers for the end-to-end tests: real managers (podman through conmon, containerd through
// containerd-shim-runc-v2) drive the runtime under test.
//
// E2E_RUNTIME picks the runtime (an absolute path, e.g. /usr/sbin/runc); default bin/runts.
// E2E_TRACE=0 turns off the trace wrapper (by default every runtime call is logged, see makeWrapper).
// E2E_KEEP=1 keeps the temp dirs (/tmp/runts-test/<manager>-XXXXXX) for a look after the run.
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { REPO, TMP } from '../helpers';

export const RUNTIME = path.resolve(process.env.E2E_RUNTIME || path.join(REPO, 'bin', 'runts'));
export const E2E_DIR = path.join(TMP, 'e2e');
export const IMAGE = 'localhost/runts-e2e/busybox:latest';
export const IMAGE_TAR = path.join(E2E_DIR, 'busybox.tar');
export const TRACE = process.env.E2E_TRACE !== '0';
export const KEEP = process.env.E2E_KEEP === '1';

/**
 * containerd's whole configuration for a daemon of a suite's own (containerd.test.ts, cri.test.ts,
 * scripts/bench-managers.mjs): root, state and opt dir under `dir` (the caller makes them), its sockets `sock` and
 * `sock`.ttrpc, no debug or metrics socket, nothing of the host's containerd. Without `cri` (the CRI plugin's
 * TOML sections) the CRI plugin is disabled. Written to `dir`/config.toml, whose path is returned.
 */
export function writeContainerdConfig(dir: string, sock: string, o: { by: string; cri?: string }): string {
  const config = path.join(dir, 'config.toml');
  fs.writeFileSync(config, `# e2e: containerd's whole configuration (${o.by})
version = 2
root = "${dir}/root"
state = "${dir}/state"
${o.cri ? '' : 'disabled_plugins = ["io.containerd.grpc.v1.cri"]\n'}
[grpc]
  address = "${sock}"

[ttrpc]
  address = "${sock}.ttrpc"

[debug]
  address = ""

[metrics]
  address = ""

[plugins."io.containerd.internal.v1.opt"]
  path = "${dir}/opt"
${o.cri ? `\n${o.cri}` : ''}`);
  return config;
}

/** The tools of `tools` that are not on PATH. */
export function missingTools(tools: string[]): string[] {
  return tools.filter((t) => spawnSync('sh', ['-c', `command -v "$1" >/dev/null`, 'sh', t]).status !== 0);
}

/**
 * Why this manager's suite is skipped (a line printed once), or undefined when it runs. Only a missing
 * manager skips: a missing runtime binary is a failure.
 */
export function skipReason(manager: string, tools: string[]): string | undefined {
  const missing = missingTools(tools);
  if (missing.length === 0) return undefined;
  const reason = `e2e ${manager} suite skipped: ${missing.join(', ')} not installed (bash scripts/setup-e2e.sh installs them)`;
  console.warn(reason);
  return reason;
}

/** Build the image tarball when missing (setup-e2e.sh is idempotent; the packages are there). */
export function ensureImage(): void {
  const r = spawnSync('bash', [path.join(REPO, 'scripts', 'setup-e2e.sh'), '--quiet'], { encoding: 'utf8', timeout: 300_000 });
  if (r.status !== 0) throw new Error(`scripts/setup-e2e.sh failed (${r.status ?? r.signal}):\n${r.stdout}${r.stderr}`);
  if (!fs.existsSync(IMAGE_TAR)) throw new Error(`${IMAGE_TAR} missing after scripts/setup-e2e.sh`);
  if (!fs.existsSync(RUNTIME)) throw new Error(`runtime ${RUNTIME} not found (npm run build, or set E2E_RUNTIME)`);
}

export interface Res {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** the command line, for messages */
  cmd: string;
  ms: number;
}

let outSeq = 0;
/**
 * Run a command to completion. Output goes through files, not pipes: conmon and the shims outlive the command
 * and may keep inherited descriptors, and a pipe would then never reach EOF.
 */
export function runCmd(
  cmd: string,
  args: string[],
  opts: { timeout?: number; input?: string; env?: NodeJS.ProcessEnv; scratch: string },
): Res {
  const base = path.join(opts.scratch, `.out-${process.pid}-${++outSeq}`);
  const out = fs.openSync(`${base}.1`, 'w+');
  const err = fs.openSync(`${base}.2`, 'w+');
  const t0 = Date.now();
  try {
    const r = spawnSync(cmd, args, {
      encoding: 'utf8',
      input: opts.input ?? '',
      stdio: ['pipe', out, err],
      timeout: opts.timeout ?? 30_000,
      killSignal: 'SIGKILL',
      env: opts.env ?? process.env,
    });
    return {
      status: r.status,
      signal: r.signal,
      stdout: fs.readFileSync(`${base}.1`, 'utf8'),
      stderr: fs.readFileSync(`${base}.2`, 'utf8') + (r.error ? `\n[spawn: ${r.error.message}]` : ''),
      cmd: [cmd, ...args].join(' '),
      ms: Date.now() - t0,
    };
  } finally {
    fs.closeSync(out);
    fs.closeSync(err);
    fs.rmSync(`${base}.1`, { force: true });
    fs.rmSync(`${base}.2`, { force: true });
  }
}

export interface Wrapper {
  /** what the manager is told the runtime is */
  path: string;
  /** `TIME PID ARGV...` per runtime call, `TIME PID exit N` when it returns, `TIME PID log: ...` lines of its --log on failure */
  log: string;
  /** config.json of every create/run and process.json of every exec, as the manager wrote them */
  keep: string;
}

/**
 * A wrapper script named like the runtime (podman decides "supports JSON errors" by the runtime's base name)
 * that logs every call and copies the bundle's config.json / the exec's process.json, then runs the runtime
 * as its child and reports its exit status. It touches no standard stream (the container's stdio is the
 * runtime's stdio on create) and keeps the runtime's pid-file and console-socket behaviour: the container's
 * processes are reparented to the manager's subreaper as with the bare runtime.
 */
export function makeWrapper(dir: string, runtime = RUNTIME): Wrapper {
  const bin = path.join(dir, 'wrap');
  const keep = path.join(dir, 'calls');
  fs.mkdirSync(bin, { recursive: true });
  fs.mkdirSync(keep, { recursive: true });
  const log = path.join(dir, 'runtime-calls.log');
  fs.writeFileSync(log, '');
  if (!TRACE) return { path: runtime, log, keep };
  const wrapper = path.join(bin, path.basename(runtime));
  const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  fs.writeFileSync(wrapper, `#!/bin/bash
# e2e trace wrapper (test/e2e/e2e.ts): log the call, keep config.json/process.json, run the runtime.
log=${q(log)}
keep=${q(keep)}
rt=${q(runtime)}
n=$(date +%s%N)
{ printf '%s %d' "$(date +%H:%M:%S.%3N)" $$; printf ' %q' "$@"; printf '\\n'; } >>"$log"
bundle= proc= ocilog= prev=
for a in "$@"; do
  case $prev in --bundle|-b) bundle=$a ;; --process|-p) proc=$a ;; --log) ocilog=$a ;; esac
  case $a in --bundle=*) bundle=\${a#*=} ;; --process=*) proc=\${a#*=} ;; --log=*) ocilog=\${a#*=} ;; esac
  prev=$a
done
id=\${!#}
[ -z "$bundle" ] || [ ! -f "$bundle/config.json" ] || cp "$bundle/config.json" "$keep/config-\${id:0:16}-$n.json"
[ -z "$proc" ] || [ "$proc" = - ] || [ ! -f "$proc" ] || cp "$proc" "$keep/process-\${id:0:16}-$n.json"
loglen=0
[ -z "$ocilog" ] || [ ! -f "$ocilog" ] || loglen=$(stat -c %s "$ocilog")
"$rt" "$@"
rc=$?
{
  printf '%s %d exit %d\\n' "$(date +%H:%M:%S.%3N)" $$ $rc
  if [ $rc != 0 ] && [ -n "$ocilog" ] && [ -f "$ocilog" ]; then tail -c +$((loglen + 1)) "$ocilog" | sed "s/^/$(date +%H:%M:%S.%3N) $$ log: /"; fi
} >>"$log"
exit $rc
`, { mode: 0o755 });
  return { path: wrapper, log, keep };
}

/** The trace lines (and the error logs under them) of calls that mention `needle` (a container id or name). */
export function traceOf(w: Wrapper, needle?: string): string {
  let text = '';
  try { text = fs.readFileSync(w.log, 'utf8'); } catch { return ''; }
  if (!needle) return text;
  const lines = text.split('\n');
  const pids = new Set<string>();
  for (const l of lines) if (l.includes(needle)) pids.add(l.split(' ')[1]);
  return lines.filter((l) => pids.has(l.split(' ')[1])).join('\n');
}

/** Owner, mode and device number of host device nodes a runtime may bind-mount into a container. */
export const HOST_DEVICES = ['/dev/null', '/dev/zero', '/dev/full', '/dev/random', '/dev/urandom', '/dev/tty'];
export function hostDevices(): Record<string, string> {
  const o: Record<string, string> = {};
  for (const d of HOST_DEVICES) {
    const s = fs.statSync(d);
    o[d] = `uid=${s.uid} gid=${s.gid} mode=${s.mode.toString(8)} rdev=${s.rdev}`;
  }
  return o;
}

/** Unmount everything mounted at or under `dir` (deepest first), lazily. */
export function unmountUnder(dir: string): string[] {
  const prefix = fs.realpathSync(dir);
  const points = fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n')
    .map((l) => l.split(' ')[4])
    .filter((p): p is string => !!p)
    .map((p) => p.replace(/\\(\d{3})/g, (_, o) => String.fromCharCode(parseInt(o, 8))))
    .filter((p) => p === prefix || p.startsWith(prefix + '/'));
  const done: string[] = [];
  for (const p of [...new Set(points)].sort((a, b) => b.length - a.length)) {
    for (let i = 0; i < 8; i++) {
      if (spawnSync('umount', ['-l', p]).status !== 0) break;
      done.push(p);
    }
  }
  return done;
}

/** Remove a temp dir after unmounting what is under it (kept with E2E_KEEP=1). */
export function removeDir(dir: string): void {
  unmountUnder(dir);
  if (!KEEP) fs.rmSync(dir, { recursive: true, force: true });
  else console.warn(`e2e: kept ${dir}`);
}

/** The hard limit of RLIMIT_NOFILE / RLIMIT_NPROC of this process ("unlimited" → undefined). */
export function hardLimit(name: 'Max open files' | 'Max processes'): number | undefined {
  const line = fs.readFileSync('/proc/self/limits', 'utf8').split('\n').find((l) => l.startsWith(name));
  const hard = line?.slice(26).trim().split(/\s+/)[1];
  return hard && /^\d+$/.test(hard) ? Number(hard) : undefined;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Poll `f` until it returns a truthy value or `ms` passes; returns the last value. */
export async function until<T>(f: () => T, ms = 10_000, step = 100): Promise<T> {
  const end = Date.now() + ms;
  let v = f();
  while (!v && Date.now() < end) {
    await sleep(step);
    v = f();
  }
  return v;
}

/** A message for a failed expectation: the command, its result, and the runtime calls behind it. */
export function explain(r: Res, trace: string): string {
  return `${r.cmd}\n=> status ${r.status}${r.signal ? ` signal ${r.signal}` : ''} in ${r.ms} ms\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}\n--- runtime calls\n${trace}`;
}

/** Every cgroup directory at or under `rel` (e.g. "libpod_parent") in each mounted hierarchy, deepest first. */
export function cgroupDirs(rel: string): string[] {
  const found: string[] = [];
  const walk = (d: string): void => {
    let ents: fs.Dirent[];
    try { ents = fs.readdirSync(d, { withFileTypes: true }); } catch { return; }
    for (const e of ents) if (e.isDirectory()) walk(path.join(d, e.name));
    found.push(d);
  };
  let hier: string[] = [];
  try { hier = fs.readdirSync('/sys/fs/cgroup'); } catch { /* no cgroupfs */ }
  for (const h of hier) {
    const top = path.join('/sys/fs/cgroup', h, rel);
    if (fs.existsSync(top)) walk(top);
  }
  // also a cgroup2-only host: /sys/fs/cgroup/<rel>
  const unified = path.join('/sys/fs/cgroup', rel);
  if (fs.existsSync(path.join(unified, 'cgroup.procs')) && !found.includes(unified)) walk(unified);
  return found.sort((a, b) => b.length - a.length);
}

/**
 * Remove the cgroups under `rel` that did not exist in `before` (a cgroupDirs() snapshot) and that `ours`
 * accepts (by default all), deepest first. rmdir only succeeds on an empty cgroup without processes: anything
 * still in use is left alone and returned. `ours` keeps a suite away from what another run of it (another
 * checkout, at the same time) is making under the same parent.
 */
export function removeNewCgroups(rel: string, before: string[], ours: (dir: string) => boolean = () => true): string[] {
  const keep = new Set(before);
  const left: string[] = [];
  for (const d of cgroupDirs(rel)) {
    if (keep.has(d) || !ours(d)) continue;
    try { fs.rmdirSync(d); } catch { left.push(d); }
  }
  return left;
}

/** The container ids the runtime was asked to create (from the trace wrapper's log). */
export function createdIds(w: Wrapper): string[] {
  let text = '';
  try { text = fs.readFileSync(w.log, 'utf8'); } catch { return []; }
  const ids = new Set<string>();
  for (const l of text.split('\n')) {
    const argv = l.split(' ');
    if (argv.includes('create') || argv.includes('run')) ids.add(argv[argv.length - 1]);
  }
  return [...ids];
}
