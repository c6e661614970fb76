// npm run bench:managers [-- --rounds N]: what users of real managers feel. `podman run --rm` (through conmon)
// and `ctr run --rm` (containerd through containerd-shim-runc-v2) of busybox `true`, with runts and with runc
// taking turns, round by round (after one warm-up round); medians, the middle half, and the ratios.
// Runs under vite-node (package.json) to reuse the end-to-end set-up of test/e2e/e2e.ts: the image built by
// scripts/setup-e2e.sh, and podman and containerd isolated the same way as there (their own config, storage,
// state, sockets and runtime roots in a temp dir; nothing of the host's podman or containerd is used). Do not run
// it while the e2e suites run on the same machine.
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import {
  IMAGE, IMAGE_TAR, cgroupDirs, ensureImage, hardLimit, missingTools, removeDir, removeNewCgroups, runCmd, sleep, until,
  writeContainerdConfig,
} from '../test/e2e/e2e.ts';
import { REPO, scratchDir } from '../test/helpers.ts';

const roundsArg = process.argv.indexOf('--rounds');
const ROUNDS = roundsArg > 0 ? Number(process.argv[roundsArg + 1]) : 10;

const runtimes = [{ name: 'runts', bin: fs.realpathSync(path.join(REPO, 'bin', 'runts')) }];
const runc = ['/usr/sbin/runc', '/usr/bin/runc', '/usr/local/sbin/runc'].find((p) => fs.existsSync(p));
if (runc) runtimes.push({ name: 'runc', bin: runc });
else console.log('runc is not installed: runts only, no ratios');

ensureImage();
const results = {}; // manager -> runtime -> ms[]
const failures = [];

/** One timed call; a failure is recorded and the round's figure left out. */
function timed(manager, rt, cmd, args, opts) {
  const r = runCmd(cmd, args, opts);
  if (r.status !== 0) {
    failures.push(`${manager} ${rt.name}: ${r.cmd}: exit ${r.status}: ${r.stderr.trim().slice(-500)}`);
    return undefined;
  }
  return r.ms;
}

/** Rounds of `one(rt, tag)` for every runtime, in turns (the order alternating), after one warm-up round. */
function rounds(manager, one) {
  results[manager] = Object.fromEntries(runtimes.map((rt) => [rt.name, []]));
  for (let i = -1; i < ROUNDS; i++) {
    for (const rt of i % 2 ? runtimes : [...runtimes].reverse()) {
      const ms = one(rt, `${rt.name}-${i + 1}`);
      if (i >= 0 && ms !== undefined) results[manager][rt.name].push(ms);
    }
  }
}

// --- podman, configured as test/e2e/podman.test.ts does
async function benchPodman() {
  const dir = scratchDir('bench-podman');
  const before = cgroupDirs('libpod_parent');
  const names = new Set();
  fs.mkdirSync(path.join(dir, 'net'));
  fs.mkdirSync(path.join(dir, 'tmp'));
  // rlimits at the hard limits, as the e2e suite: without CAP_SYS_RESOURCE podman's defaults cannot be set
  const nofile = hardLimit('Max open files') ?? 1048576;
  const nproc = Math.min(hardLimit('Max processes') ?? 32768, 32768);
  fs.writeFileSync(path.join(dir, 'containers.conf'), `[containers]
default_ulimits = ["nofile=${nofile}:${nofile}", "nproc=${nproc}:${nproc}"]
netns = "none"
log_driver = "k8s-file"
[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "${dir}/events.log"
tmp_dir = "${dir}/tmp"
volume_path = "${dir}/volumes"
runtime_supports_json = ["crun", "runc", "runts"]
[network]
network_config_dir = "${dir}/net"
`);
  fs.writeFileSync(path.join(dir, 'storage.conf'), `[storage]
driver = "${process.env.E2E_STORAGE_DRIVER || 'overlay'}"
graphroot = "${dir}/root"
runroot = "${dir}/runroot"
`);
  const env = { ...process.env, CONTAINERS_CONF: path.join(dir, 'containers.conf'), CONTAINERS_STORAGE_CONF: path.join(dir, 'storage.conf'), TMPDIR: path.join(dir, 'tmp') };
  const global = (runtime) => ['--root', path.join(dir, 'root'), '--runroot', path.join(dir, 'runroot'), '--tmpdir', path.join(dir, 'tmp'),
    '--runtime', runtime, '--cgroup-manager', 'cgroupfs', '--events-backend', 'file', '--storage-driver', process.env.E2E_STORAGE_DRIVER || 'overlay'];
  const podman = (runtime, args, timeout = 60_000) => runCmd('podman', [...global(runtime), ...args], { env, scratch: dir, timeout });
  try {
    // podman load writes a blob-info cache under /var/lib/containers: a tmpfs over it in a mount namespace of its own
    const hide = fs.existsSync('/var/lib/containers') ? '/var/lib/containers' : '/var/lib';
    const r = runCmd('unshare', ['--mount', '--propagation', 'private', 'sh', '-c',
      'mount -t tmpfs -o size=16m,mode=700 bench-blob-cache "$0" && exec "$@"', hide, 'podman', ...global(runtimes[0].bin),
      'load', '-q', '-i', IMAGE_TAR], { timeout: 120_000, env, scratch: dir });
    if (r.status !== 0) throw new Error(`podman load: ${r.stderr}`);
    rounds('podman run --rm', (rt, tag) => {
      const n = `bench-${process.pid}-${tag}`;
      names.add(n);
      return timed('podman', rt, 'podman', [...global(rt.bin), 'run', '--rm', '--network', 'none', '--name', n, IMAGE, 'true'], { env, scratch: dir, timeout: 60_000 });
    });
  } finally {
    podman(runtimes[0].bin, ['rm', '-a', '-f', '-t', '0']);
    podman(runtimes[0].bin, ['system', 'reset', '-f']);
    removeDir(dir);
    removeNewCgroups('libpod_parent', before, (d) => ['libpod_parent', 'conmon'].includes(path.basename(d)) || /^libpod-(conmon-)?[0-9a-f]{64}$/.test(path.basename(d)));
  }
}

// --- containerd, its own daemon as in test/e2e/containerd.test.ts
async function benchContainerd() {
  const dir = scratchDir('bench-containerd');
  const NS = `runts-bench-${process.pid}`;
  const sock = path.join(dir, 'containerd.sock');
  for (const d of ['root', 'state', 'opt', 'fifo', ...runtimes.map((r) => `runc-${r.name}`)]) fs.mkdirSync(path.join(dir, d));
  const config = writeContainerdConfig(dir, sock, { by: 'scripts/bench-managers.mjs' });
  const SHIM_DIRS = ['/run/containerd/s', '/run/containerd'];
  const shimDirsBefore = SHIM_DIRS.filter((d) => fs.existsSync(d));
  const ctr = (args, timeout = 60_000) => runCmd('ctr', ['--address', sock, '--namespace', NS, ...args], { scratch: dir, timeout });
  const log = fs.openSync(path.join(dir, 'containerd.log'), 'w');
  const daemon = spawn('containerd', ['--config', config], { stdio: ['ignore', log, log] });
  fs.closeSync(log);
  try {
    const up = await until(() => daemon.exitCode === null && ctr(['version'], 5_000).status === 0, 20_000, 100);
    if (!up) throw new Error(`containerd did not come up: ${fs.readFileSync(path.join(dir, 'containerd.log'), 'utf8').slice(-2000)}`);
    const r = ctr(['images', 'import', IMAGE_TAR], 120_000);
    if (r.status !== 0) throw new Error(`ctr images import: ${r.stderr}`);
    rounds('ctr run --rm', (rt, tag) => timed('containerd', rt, 'ctr', ['--address', sock, '--namespace', NS, 'run', '--rm',
      '--runc-binary', rt.bin, '--runc-root', path.join(dir, `runc-${rt.name}`), '--fifo-dir', path.join(dir, 'fifo'),
      IMAGE, `bench-${tag}`, 'true'], { scratch: dir, timeout: 60_000 }));
  } finally {
    if (daemon.exitCode === null) {
      for (const l of ctr(['containers', 'list', '--quiet']).stdout.split('\n')) {
        if (!l.trim()) continue;
        ctr(['task', 'delete', '--force', l.trim()]);
        ctr(['containers', 'delete', l.trim()]);
      }
      ctr(['images', 'remove', IMAGE]);
      const exited = new Promise((res) => daemon.once('exit', res));
      daemon.kill('SIGTERM');
      await Promise.race([exited, sleep(10_000)]);
      if (daemon.exitCode === null && daemon.signalCode === null) daemon.kill('SIGKILL');
    }
    // shims of our socket left behind (never any other process)
    for (const p of fs.readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
      let argv = [];
      try { argv = fs.readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0'); } catch { continue; }
      if (argv[0]?.endsWith('containerd-shim-runc-v2') && argv.includes(sock)) try { process.kill(Number(p), 'SIGKILL'); } catch { /* gone */ }
    }
    removeDir(dir);
    for (const d of SHIM_DIRS) if (!shimDirsBefore.includes(d)) try { fs.rmdirSync(d); } catch { /* in use or gone */ }
    removeNewCgroups(NS, []);
  }
}

if (missingTools(['podman', 'conmon']).length === 0) await benchPodman().catch((e) => failures.push(`podman: ${e.message}`));
else console.log('podman or conmon is not installed (bash scripts/setup-e2e.sh): no podman figures');
if (missingTools(['containerd', 'ctr', 'containerd-shim-runc-v2']).length === 0) await benchContainerd().catch((e) => failures.push(`containerd: ${e.message}`));
else console.log('containerd is not installed (bash scripts/setup-e2e.sh): no containerd figures');

const quantile = (a, q) => { const s = [...a].sort((x, y) => x - y); return s[Math.min(s.length - 1, Math.floor(s.length * q))]; };
const fmt = (a) => (a.length ? `${quantile(a, 0.5).toFixed(1)} ms (${quantile(a, 0.25).toFixed(1)}-${quantile(a, 0.75).toFixed(1)})` : 'n/a');
const rows = [['manager call', ...runtimes.map((r) => `${r.name} median (p25-p75)`), ...(runc ? ['runts / runc'] : [])]];
for (const [manager, byRt] of Object.entries(results)) {
  const a = runtimes.map((r) => byRt[r.name]);
  const ratio = runc && a[0].length && a[1].length ? `${(quantile(a[0], 0.5) / quantile(a[1], 0.5)).toFixed(2)}x` : 'n/a';
  rows.push([manager, ...a.map(fmt), ...(runc ? [ratio] : [])]);
}
console.log(`\n${ROUNDS} rounds, runtimes in turns (after one warm-up round); ${os.cpus().length} cpus, ${os.release()}; busybox \`true\`\n`);
const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
rows.forEach((r, j) => {
  console.log(r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  '));
  if (j === 0) console.log(widths.map((w) => '-'.repeat(w)).join('  '));
});
if (failures.length) {
  console.log(`\n${failures.length} call(s) failed and were left out:\n${failures.slice(0, 5).join('\n')}`);
  process.exitCode = 1;
}
