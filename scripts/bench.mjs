#!/usr/bin/env node
// npm run bench [-- --runs N]: runts vs runc (when installed) on the same busybox bundle, side by side.
// Times each CLI call from spawn to exit: `run` of /bin/true, then create / start / state / kill / delete.
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
for (const rt of runtimes) {
  const copy = path.join(work, `${rt.name}-bin`);
  fs.copyFileSync(rt.bin, copy);
  fs.chmodSync(copy, 0o755);
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

const OPS = ['run /bin/true', 'create', 'start', 'state', 'kill', 'delete'];
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
const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
console.log(`${RUNS} rounds, runtimes in turns (after one warm-up round); ${SEQ} sequential runs in blocks of ${BLOCK}; ${os.cpus().length} cpus, ${os.release()}\n`);
rows.forEach((r, j) => {
  console.log(r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  '));
  if (j === 0) console.log(widths.map((w) => '-'.repeat(w)).join('  '));
});
