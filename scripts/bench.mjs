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

const runtimes = [{ name: 'runts', bin: path.join(repo, 'bin', 'runts') }];
const runc = ['/usr/sbin/runc', '/usr/bin/runc', '/usr/local/sbin/runc'].find((p) => fs.existsSync(p));
if (runc) runtimes.push({ name: 'runc', bin: runc });
else console.log('runc is not installed (apt-get install runc, or scripts/setup.sh --with-runc): runts only\n');

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
  const root = path.join(work, `root-${rt.name}`);
  fs.mkdirSync(root);
  const t = Object.fromEntries(OPS.map((o) => [o, []]));
  // one warm-up round, not counted
  for (let i = -1; i < RUNS; i++) {
    const rec = (op, ms) => { if (i >= 0) t[op].push(ms); };
    const id = `bench-${i + 1}`;
    rec('run /bin/true', call(rt, root, ['run', '--bundle', trueBundle, `${id}-run`]));
    rec('create', call(rt, root, ['create', '--bundle', sleepBundle, id]));
    rec('start', call(rt, root, ['start', id]));
    rec('state', call(rt, root, ['state', id]));
    rec('kill', call(rt, root, ['kill', id, 'KILL']));
    waitStopped(rt, root, id);
    rec('delete', call(rt, root, ['delete', id]));
  }
  // 100 sequential containers, `run` of /bin/true each (run --rm equivalent)
  const SEQ = Number(process.env.BENCH_SEQ ?? 100);
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < SEQ; i++) call(rt, root, ['run', '--bundle', trueBundle, `seq-${i}`]);
  t[`${SEQ} sequential runs`] = [Number(process.hrtime.bigint() - t0) / 1e6];
  // memory of a created container: the init waiting for start
  call(rt, root, ['create', '--bundle', sleepBundle, 'rss']);
  const pid = JSON.parse(spawnSync(rt.bin, ['--root', root, 'state', 'rss'], { encoding: 'utf8' }).stdout).pid;
  const rssKb = Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))[1]);
  call(rt, root, ['delete', '--force', 'rss']);
  rss[rt.name] = rssKb;
  results[rt.name] = t;
}
fs.rmSync(work, { recursive: true, force: true });

const median = (a) => { const s = [...a].sort((x, y) => x - y); return s[Math.floor(s.length / 2)]; };
const fmt = (ms) => `${ms.toFixed(1)} ms`;
const rows = [['operation', ...runtimes.map((r) => `${r.name} (median)`), ...(runc ? ['runts / runc'] : [])]];
for (const op of [...OPS, SEQ_OP]) {
  const m = runtimes.map((r) => median(results[r.name][op]));
  rows.push([op, ...m.map(fmt), ...(runc ? [`${(m[0] / m[1]).toFixed(2)}x`] : [])]);
}
const kb = runtimes.map((r) => rss[r.name]);
rows.push(['RSS of a created container', ...kb.map((k) => `${(k / 1024).toFixed(2)} MiB`), ...(runc ? [`${(kb[0] / kb[1]).toFixed(2)}x`] : [])]);
const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
console.log(`${RUNS} runs each (median, after one warm-up round), ${os.cpus().length} cpus, ${os.release()}\n`);
rows.forEach((r, j) => {
  console.log(r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  '));
  if (j === 0) console.log(widths.map((w) => '-'.repeat(w)).join('  '));
});
