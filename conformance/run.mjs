#!/usr/bin/env node
// runtime-spec conformance suite: runs every check against a runtime binary (and optionally a second one).
//
//   npm run conformance -- [--runtime PATH] [--compare PATH2] [--filter REGEX] [--tap] [--report FILE] [--keep]
//
// See docs/conformance.md for what is checked and how. Needs root, a C compiler with a static libc
// (build-essential) and Debian's busybox-static (scripts/make-rootfs.sh).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Fail, REPO, Skip, T, buildRootfs, buildStatic, hostNs, machineLine, runtimeVersion, unmountUnder } from './lib.mjs';
import runtimeChecks from './checks/runtime.mjs';
import hookChecks from './checks/hooks.mjs';
import runtimeLinuxChecks from './checks/runtime-linux.mjs';
import configChecks from './checks/config.mjs';
import configLinuxChecks from './checks/config-linux.mjs';
import v13Checks from './checks/v1.3.mjs';
import { writeReport } from './report.mjs';

export const ALL_CHECKS = [...runtimeChecks, ...hookChecks, ...runtimeLinuxChecks, ...configChecks, ...configLinuxChecks, ...v13Checks];
const CHECK_TIMEOUT_MS = 60_000;

const USAGE = `usage: npm run conformance -- [options]
  --runtime PATH   the runtime to check (default bin/runts)
  --compare PATH   also run every check against this runtime (e.g. /usr/sbin/runc); the report shows both
  --filter REGEX   only the checks whose id matches
  --tap            print TAP instead of a table
  --report FILE    write a markdown report
  --keep           keep the temp dirs (for debugging a check)
  --list           list the checks and exit
  --deviations FILE  JSON {"check-id": "reason"}: MUST failures of --runtime that are known and explained; they
                   do not fail the run, but one that passes is reported as stale and does
Exit status: 1 when a MUST check fails for --runtime (not a listed deviation) or a deviation is stale, 2 on a
usage or set-up error, 0 otherwise.`;

function parseArgs(argv) {
  const o = { runtime: path.join(REPO, 'bin', 'runts'), compare: undefined, filter: undefined, tap: false, report: undefined, keep: false, list: false, deviations: {} };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const val = () => {
      if (i + 1 >= argv.length) usage(`${a} needs a value`);
      return argv[++i];
    };
    if (a === '--runtime') o.runtime = val();
    else if (a === '--compare') o.compare = val();
    else if (a === '--filter') o.filter = new RegExp(val());
    else if (a === '--report') o.report = val();
    else if (a === '--tap') o.tap = true;
    else if (a === '--keep') o.keep = true;
    else if (a === '--list') o.list = true;
    else if (a === '--deviations') {
      const f = val();
      try { o.deviations = JSON.parse(fs.readFileSync(f, 'utf8')); } catch (e) { usage(`--deviations ${f}: ${e.message}`); }
    }
    else if (a === '--help' || a === '-h') { console.log(USAGE); process.exit(0); }
    else usage(`unknown argument ${a}`);
  }
  return o;
}

function usage(msg) {
  console.error(`conformance: ${msg}\n${USAGE}`);
  process.exit(2);
}

/** A runtime argument as an absolute path: a path with a slash is taken as is, a bare name is looked up in PATH. */
function resolveRuntime(p) {
  let abs;
  if (p.includes('/')) abs = path.resolve(p);
  else abs = (process.env.PATH ?? '').split(':').map((d) => path.join(d, p)).find((f) => fs.existsSync(f));
  if (!abs || !fs.existsSync(abs)) usage(`runtime ${p} not found`);
  try { fs.accessSync(abs, fs.constants.X_OK); } catch { usage(`runtime ${abs} is not executable`); }
  return abs;
}

function runtimeName(abs) {
  return path.basename(fs.realpathSync(abs)).replace(/-node$/, '');
}

async function runCheck(suite, runtime, check) {
  const dir = fs.mkdtempSync(path.join(suite.tmp, `${check.id}-`));
  fs.chmodSync(dir, 0o755); // a container in a user namespace must be able to reach its rootfs and bundle
  const t = new T(suite, runtime, dir);
  const started = Date.now();
  let res;
  let timer;
  try {
    await Promise.race([
      check.run(t),
      new Promise((_, rej) => { timer = setTimeout(() => rej(new Fail(`check did not finish within ${CHECK_TIMEOUT_MS / 1000} s`)), CHECK_TIMEOUT_MS); }),
    ]);
    res = { result: 'pass' };
  } catch (e) {
    if (e instanceof Skip) res = { result: 'skip', reason: e.message };
    else if (e instanceof Fail) res = { result: 'fail', reason: e.message };
    else res = { result: 'fail', reason: `the check itself crashed: ${String(e?.stack ?? e).split('\n').slice(0, 2).join(' ')}` };
  } finally {
    clearTimeout(timer);
    try { await t.cleanup(); } catch (e) { res.reason = `${res.reason ?? ''} (cleanup: ${e.message})`.trim(); }
  }
  res.ms = Date.now() - started;
  return res;
}

function pad(s, n) {
  s = String(s);
  return s.length >= n ? s : s + ' '.repeat(n - s.length);
}

function summaryOf(results) {
  const vals = Object.values(results);
  const n = (r) => vals.filter((v) => v.result === r).length;
  return { pass: n('pass'), fail: n('fail'), skip: n('skip') };
}

function summaryLine(s) {
  return `${s.pass} passed, ${s.fail} failed, ${s.skip} skipped`;
}

async function main() {
  const o = parseArgs(process.argv.slice(2));
  const checks = ALL_CHECKS.filter((c) => !o.filter || o.filter.test(c.id));
  const ids = new Set();
  for (const c of ALL_CHECKS) {
    if (ids.has(c.id)) throw new Error(`duplicate check id ${c.id}`);
    ids.add(c.id);
  }
  if (o.list) {
    for (const c of checks) console.log(`${pad(c.id, 34)} ${pad(c.level, 6)} ${pad(`${c.spec} § ${c.section}`, 44)} ${c.desc}`);
    return 0;
  }
  if (!checks.length) usage('no check matches --filter');
  if (process.getuid() !== 0) {
    console.error('conformance: the suite creates containers and must run as root');
    return 2;
  }

  const runtimes = [resolveRuntime(o.runtime)];
  if (o.compare) runtimes.push(resolveRuntime(o.compare));
  const names = runtimes.map(runtimeName);
  if (names.length === 2 && names[0] === names[1]) names[1] = `${names[1]} (2)`;

  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'runts-conformance-'));
  fs.chmodSync(tmp, 0o755);
  let suite;
  try {
    const probe = buildStatic('probe');
    const recvfd = buildStatic('recvfd');
    const rootfs = buildRootfs(path.join(tmp, 'rootfs'), probe);
    suite = { tmp, rootfs, probe, recvfd, hostNs: hostNs(), keep: o.keep };
  } catch (e) {
    console.error(`conformance: set-up failed: ${e.message}`);
    fs.rmSync(tmp, { recursive: true, force: true });
    return 2;
  }

  const log = o.tap ? () => {} : (s) => process.stdout.write(`${s}\n`);
  const results = names.map(() => ({}));
  const started = Date.now();
  let tapN = 0;
  if (o.tap) {
    console.log('TAP version 13');
    console.log(`1..${checks.length * runtimes.length}`);
  }
  const W = { id: Math.max(...checks.map((c) => c.id.length)) + 1, sec: 42 };
  for (let ri = 0; ri < runtimes.length; ri++) {
    log(`\n== ${names[ri]}: ${runtimes[ri]} (${runtimeVersion(runtimes[ri])})`);
    log(`${pad('ID', W.id)} ${pad('LEVEL', 6)} ${pad('SECTION', W.sec)} ${pad('RESULT', 6)} REASON`);
    const t0 = Date.now();
    for (const c of checks) {
      const r = await runCheck(suite, runtimes[ri], c);
      results[ri][c.id] = r;
      if (o.tap) {
        tapN++;
        const desc = `${names.length > 1 ? `${names[ri]}: ` : ''}${c.id} [${c.level}] ${c.desc}`;
        if (r.result === 'pass') console.log(`ok ${tapN} - ${desc}`);
        else if (r.result === 'skip') console.log(`ok ${tapN} - ${desc} # SKIP ${r.reason}`);
        else {
          console.log(`not ok ${tapN} - ${desc}`);
          console.log(`  ---\n  reason: ${JSON.stringify(r.reason)}\n  spec: ${JSON.stringify(`${c.spec} § ${c.section}`)}\n  ...`);
        }
      } else {
        log(`${pad(c.id, W.id)} ${pad(c.level, 6)} ${pad(`${c.spec} § ${c.section}`, W.sec)} ${pad(r.result, 6)} ${r.reason ?? ''}`);
      }
    }
    const s = summaryOf(results[ri]);
    log(`${names[ri]}: ${summaryLine(s)} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
  }

  unmountUnder(tmp);
  if (!o.keep) fs.rmSync(tmp, { recursive: true, force: true });
  else log(`kept ${tmp}`);

  const failed = checks.filter((c) => c.level === 'MUST' && results[0][c.id].result === 'fail');
  const known = failed.filter((c) => o.deviations[c.id] !== undefined);
  const mustFails = failed.filter((c) => o.deviations[c.id] === undefined);
  const stale = checks.filter((c) => o.deviations[c.id] !== undefined && results[0][c.id].result === 'pass');
  if (o.tap) {
    for (let ri = 0; ri < runtimes.length; ri++) console.log(`# ${names[ri]}: ${summaryLine(summaryOf(results[ri]))}`);
  } else {
    log('');
    for (let ri = 0; ri < runtimes.length; ri++) log(`${names[ri]}: ${summaryLine(summaryOf(results[ri]))}`);
    if (mustFails.length) log(`${names[0]} fails ${mustFails.length} MUST check(s): ${mustFails.map((c) => c.id).join(', ')}`);
    for (const c of known) log(`${names[0]} fails ${c.id}, a known deviation: ${o.deviations[c.id]}`);
    for (const c of stale) log(`${names[0]} passes ${c.id}, listed as a deviation: remove it from the --deviations file`);
  }

  if (o.report) {
    writeReport(o.report, {
      checks,
      runtimes: runtimes.map((bin, i) => ({ name: names[i], bin, version: runtimeVersion(bin), results: results[i], summary: summaryOf(results[i]) })),
      machine: machineLine(),
      date: new Date(),
      seconds: (Date.now() - started) / 1000,
      argv: process.argv.slice(2),
      filtered: Boolean(o.filter),
      deviations: o.deviations,
    });
    if (!o.tap) log(`report written to ${o.report}`);
  }
  return mustFails.length || stale.length ? 1 : 0;
}

// A check that throws from a callback (a child's error event...) must not take the suite down.
process.on('unhandledRejection', (e) => { console.error(`conformance: unhandled rejection: ${e?.stack ?? e}`); });

main().then((code) => { process.exitCode = code; }, (e) => {
  console.error(`conformance: ${e?.stack ?? e}`);
  process.exitCode = 2;
});
