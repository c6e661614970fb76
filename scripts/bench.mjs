#!/usr/bin/env node
// npm run bench [-- --runs N]: runts vs runc (when installed) on the same busybox bundle, side by side.
// Times each CLI call from spawn to exit: `run` of /bin/true, then create / start / state / kill / delete, the
// `delete --force` of a container that is gone, and the sequence a containerd shim makes per container (create,
// start, delete, delete --force; each a process). Then, with perf(1), the page faults of each call (exact and
// repeatable where times are noisy), the floor of an empty executable of runts' engine, and what a fault costs
// on this machine.
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { fileURLToPath } from 'url';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const runsArg = process.argv.indexOf('--runs');
const RUNS = runsArg > 0 ? Number(process.argv[runsArg + 1]) : 20;

const rootfs = path.join(repo, 'examples', 'busybox', 'rootfs');
if (!fs.existsSync(path.join(rootfs, 'bin', 'busybox'))) {
  spawnSync('bash', [path.join(repo, 'scripts', 'make-rootfs.sh'), rootfs], { stdio: 'inherit' });
}
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'runts-bench-'));

function bundleFor(args) {
  const cfg = JSON.parse(fs.readFileSync(path.join(repo, 'examples', 'busybox', 'config.json'), 'utf8'));
  cfg.root = { path: rootfs, readonly: true };
  cfg.process.args = args;
  cfg.process.terminal = false;
  const dir = fs.mkdtempSync(path.join(work, 'bundle-'));
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(cfg));
  return dir;
}

const runtimes = [{ name: 'runts', bin: fs.realpathSync(path.join(repo, 'bin', 'runts')) }];
const runc = ['/usr/sbin/runc', '/usr/bin/runc', '/usr/local/sbin/runc'].find((p) => fs.existsSync(p));
if (runc) runtimes.push({ name: 'runc', bin: runc });
else console.log('runc is not installed (apt-get install runc, or scripts/setup.sh --with-runc): runts only\n');
// Each runtime runs from a copy written just now. How fast a binary starts depends on how its file sits in the
// page cache: on the machine of docs/performance.md a fresh copy of the same runts executable started 1.2 ms
// sooner than the one built half an hour earlier (0.3 ms for runc), so both start from the same state.
// runts' addon (dist/runts-native-<hash>.node) and init stub (dist/runts-init-<hash>) go beside its copy:
// without them the executable falls back to its embedded copies, which cost every call node:fs, a temporary file
// and a memfd copy (docs/performance.md). The copies sit in a directory of their own, apart from the state roots
// (the stub's directory and the state root are the two layers of the read-only overlayfs it runs from: they must
// not contain each other).
for (const rt of runtimes) {
  const dir = path.join(work, `bin-${rt.name}`);
  fs.mkdirSync(dir);
  const copy = path.join(dir, rt.name);
  fs.copyFileSync(rt.bin, copy);
  fs.chmodSync(copy, 0o755);
  for (const f of fs.readdirSync(path.dirname(rt.bin)).filter((f) => /^runts-(init-[0-9a-f]{16}|native-[0-9a-f]{16}\.node)$/.test(f))) {
    fs.copyFileSync(path.join(path.dirname(rt.bin), f), path.join(dir, f));
    fs.chmodSync(path.join(dir, f), 0o755);
  }
  rt.bin = copy;
}

const devnull = fs.openSync('/dev/null', 'r+');
// stderr goes to a file, not a pipe: a created container inherits it and would hold a pipe open
const errFile = path.join(work, 'stderr');
function call(rt, root, args) {
  const err = fs.openSync(errFile, 'w');
  const t0 = process.hrtime.bigint();
  const r = spawnSync(rt.bin, ['--root', root, ...args], { stdio: ['ignore', devnull, err] });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  fs.closeSync(err);
  if (r.status !== 0) throw new Error(`${rt.name} ${args.join(' ')}: exit ${r.status}: ${fs.readFileSync(errFile, 'utf8')}`);
  return ms;
}

function waitStopped(rt, root, id) {
  for (let i = 0; i < 500; i++) {
    const r = spawnSync(rt.bin, ['--root', root, 'state', id], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    if (r.status === 0 && JSON.parse(r.stdout).status === 'stopped') return;
    spawnSync('sleep', ['0.01']);
  }
  throw new Error(`${rt.name}: ${id} did not stop`);
}

const OPS = ['run /bin/true', 'create', 'start', 'state', 'kill', 'delete', 'delete --force (gone)', 'shim sequence'];
const SEQ_OP = `${Number(process.env.BENCH_SEQ ?? 100)} sequential runs`;
const trueBundle = bundleFor(['true']);
const sleepBundle = bundleFor(['sleep', '60']);
const results = {};
const rss = {};
for (const rt of runtimes) {
  rt.root = path.join(work, `root-${rt.name}`);
  fs.mkdirSync(rt.root);
  results[rt.name] = Object.fromEntries([...OPS, SEQ_OP].map((o) => [o, []]));
}
// The runtimes take turns, round by round (and in alternating order), so that a slow minute of a shared machine
// falls on both alike. One warm-up round is not counted.
for (let i = -1; i < RUNS; i++) {
  for (const rt of i % 2 ? runtimes : [...runtimes].reverse()) {
    const t = results[rt.name];
    const rec = (op, ms) => { if (i >= 0) t[op].push(ms); };
    const id = `${rt.name}-${i + 1}`;
    rec('run /bin/true', call(rt, rt.root, ['run', '--bundle', trueBundle, `${id}-run`]));
    rec('create', call(rt, rt.root, ['create', '--bundle', sleepBundle, id]));
    rec('start', call(rt, rt.root, ['start', id]));
    rec('state', call(rt, rt.root, ['state', id]));
    rec('kill', call(rt, rt.root, ['kill', id, 'KILL']));
    waitStopped(rt, rt.root, id);
    rec('delete', call(rt, rt.root, ['delete', id]));
    rec('delete --force (gone)', call(rt, rt.root, ['delete', '--force', id]));
    // the containerd shim's calls for a short-lived container: create, start, (its wait), delete, delete --force
    const sid = `${id}-shim`;
    let seq = call(rt, rt.root, ['create', '--bundle', trueBundle, sid]);
    seq += call(rt, rt.root, ['start', sid]);
    waitStopped(rt, rt.root, sid);
    seq += call(rt, rt.root, ['delete', sid]);
    seq += call(rt, rt.root, ['delete', '--force', sid]);
    rec('shim sequence', seq);
  }
}
// SEQ sequential containers, `run` of /bin/true each (run --rm equivalent), in blocks of 10 taken in turns; the
// total is the sum of a runtime's blocks, the spread that of its blocks scaled to SEQ
const SEQ = Number(process.env.BENCH_SEQ ?? 100);
const BLOCK = Math.min(10, SEQ);
for (let b = 0; b * BLOCK < SEQ; b++) {
  for (const rt of b % 2 ? runtimes : [...runtimes].reverse()) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < BLOCK; i++) call(rt, rt.root, ['run', '--bundle', trueBundle, `${rt.name}-seq-${b}-${i}`]);
    results[rt.name][SEQ_OP].push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
}
for (const rt of runtimes) {
  // memory of a created container: the init waiting for start
  call(rt, rt.root, ['create', '--bundle', sleepBundle, 'rss']);
  const pid = JSON.parse(spawnSync(rt.bin, ['--root', rt.root, 'state', 'rss'], { encoding: 'utf8' }).stdout).pid;
  rss[rt.name] = Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))[1]);
  call(rt, rt.root, ['delete', '--force', 'rss']);
}

// Page faults per call (perf stat: exact, unlike times), median of 3 sequences per runtime
const FAULT_OPS = ['run /bin/true', 'create', 'start', 'state', 'kill', 'delete', 'delete --force (gone)'];
const faults = {};
const havePerf = spawnSync('perf', ['--version'], { stdio: 'ignore' }).status === 0;
// perf writes its count to a file, and the call's stderr goes to one: a created container inherits the
// runtime's stdio, and a pipe would never see EOF
function faultsOf(bin, args) {
  const out = path.join(work, 'perf.out');
  const err = fs.openSync(errFile, 'w');
  const r = spawnSync('perf', ['stat', '-x,', '-e', 'page-faults', '-o', out, '--', bin, ...args], { stdio: ['ignore', devnull, err] });
  fs.closeSync(err);
  const line = fs.readFileSync(out, 'utf8').split('\n').find((l) => l.includes('page-faults'));
  if (r.status !== 0 || !line) throw new Error(`perf stat ${bin} ${args.join(' ')}: exit ${r.status}: ${fs.readFileSync(errFile, 'utf8')}`);
  return Number(line.split(',')[0]);
}
let emptyFaults;
let faultCost;
if (havePerf) {
  for (const rt of runtimes) {
    const f = (faults[rt.name] = Object.fromEntries(FAULT_OPS.map((o) => [o, []])));
    const g = ['--root', rt.root];
    for (let i = 0; i < 3; i++) {
      const id = `${rt.name}-pf-${i}`;
      f['run /bin/true'].push(faultsOf(rt.bin, [...g, 'run', '--bundle', trueBundle, `${id}-run`]));
      f.create.push(faultsOf(rt.bin, [...g, 'create', '--bundle', sleepBundle, id]));
      f.start.push(faultsOf(rt.bin, [...g, 'start', id]));
      f.state.push(faultsOf(rt.bin, [...g, 'state', id]));
      f.kill.push(faultsOf(rt.bin, [...g, 'kill', id, 'KILL']));
      waitStopped(rt, rt.root, id);
      f.delete.push(faultsOf(rt.bin, [...g, 'delete', id]));
      f['delete --force (gone)'].push(faultsOf(rt.bin, [...g, 'delete', '--force', id]));
    }
  }
  // the floor: an executable of the same engine and compile flags that does nothing
  try {
    const { compileEmpty } = await import('./bun-compile.mjs');
    const empty = path.join(work, 'empty');
    compileEmpty(empty);
    emptyFaults = [0, 1, 2].map(() => faultsOf(empty, []));
  } catch (e) {
    console.log(`no empty executable to compare with: ${e.message}`);
  }
}
// What a page fault costs here: a small C program touching fresh anonymous pages, ms per 1000 faults
{
  const src = path.join(work, 'touch.c');
  fs.writeFileSync(src, `#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>
int main(void) {
  const long n = 20000;
  double best[7];
  for (int k = 0; k < 7; k++) {
    char *p = mmap(0, n * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    for (long i = 0; i < n; i++) p[i * 4096] = 1;
    clock_gettime(CLOCK_MONOTONIC, &b);
    munmap(p, n * 4096);
    best[k] = ((b.tv_sec - a.tv_sec) * 1e3 + (b.tv_nsec - a.tv_nsec) / 1e6) / (n / 1000.0);
  }
  for (int i = 0; i < 7; i++) for (int j = i + 1; j < 7; j++) if (best[j] < best[i]) { double t = best[i]; best[i] = best[j]; best[j] = t; }
  printf("%.3f %.3f %.3f\\n", best[3], best[1], best[5]);
  return 0;
}
`);
  const exe = path.join(work, 'touch');
  if (spawnSync('cc', ['-O2', '-o', exe, src], { stdio: 'ignore' }).status === 0) {
    const [median, lo, hi] = spawnSync(exe, [], { encoding: 'utf8' }).stdout.trim().split(' ').map(Number);
    faultCost = { median, lo, hi };
  }
}
fs.rmSync(work, { recursive: true, force: true });

const quantile = (a, q) => { const s = [...a].sort((x, y) => x - y); return s[Math.min(s.length - 1, Math.floor(s.length * q))]; };
// median, and the spread as the middle half of the runs (25th to 75th percentile)
const summary = (a, scale = 1) => ({ median: quantile(a, 0.5) * scale, lo: quantile(a, 0.25) * scale, hi: quantile(a, 0.75) * scale });
const fmt = (s) => `${s.median.toFixed(1)} ms (${s.lo.toFixed(1)}-${s.hi.toFixed(1)})`;
const rows = [['operation', ...runtimes.map((r) => `${r.name} median (p25-p75)`), ...(runc ? ['runts / runc'] : [])]];
for (const op of [...OPS, SEQ_OP]) {
  const scale = op === SEQ_OP ? SEQ / BLOCK : 1;
  const m = runtimes.map((r) => summary(results[r.name][op], scale));
  rows.push([op, ...m.map(fmt), ...(runc ? [`${(m[0].median / m[1].median).toFixed(2)}x`] : [])]);
}
const kb = runtimes.map((r) => rss[r.name]);
rows.push(['RSS of a created container', ...kb.map((k) => `${(k / 1024).toFixed(2)} MiB`), ...(runc ? [`${(kb[0] / kb[1]).toFixed(2)}x`] : [])]);
console.log(`${RUNS} rounds, runtimes in turns (after one warm-up round); ${SEQ} sequential runs in blocks of ${BLOCK}; ${os.cpus().length} cpus, ${os.release()}\n`);
const table = (rows) => {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  rows.forEach((r, j) => {
    console.log(r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  '));
    if (j === 0) console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  });
};
table(rows);
console.log('\nshim sequence: create, start, delete, delete --force of a container running /bin/true, each a process (the wait for its exit is not counted)');
if (havePerf) {
  const med = (a) => quantile(a, 0.5);
  const floor = emptyFaults ? med(emptyFaults) : undefined;
  const frows = [['page faults per call (median of 3)', ...runtimes.map((r) => r.name), ...(runc ? ['runts - runc'] : []), ...(floor ? ['runts - empty'] : [])]];
  if (floor) frows.push(['empty executable of runts\' engine', String(floor), ...(runc ? ['', ''] : []), '0']);
  for (const op of FAULT_OPS) {
    const m = runtimes.map((r) => med(faults[r.name][op]));
    frows.push([op, ...m.map(String), ...(runc ? [String(m[0] - m[1])] : []), ...(floor ? [String(m[0] - floor)] : [])]);
  }
  console.log('');
  table(frows);
} else {
  console.log('\nperf is not installed: no page fault counts (apt-get install linux-perf)');
}
if (faultCost) console.log(`\na page fault here (touching fresh anonymous memory): ${faultCost.median.toFixed(2)} ms per 1000 faults (${faultCost.lo.toFixed(2)}-${faultCost.hi.toFixed(2)} over 7 runs of 20000)`);
