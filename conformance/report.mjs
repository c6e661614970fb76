// The markdown report: header (date, machine, runtimes), summary, then one table per spec file with one row per
// check and one result column per runtime. docs/conformance.md is this file's output; all its prose lives here.
import fs from 'node:fs';
import path from 'node:path';

/** Why a check that every runtime fails is still thought right (it was looked at again, as the suite asks). */
const NOTES = {
  'delete.created': 'runtime.md § Delete says a container that is not `stopped` MUST NOT be deleted, and `created` is not '
    + '`stopped`. runc deletes a created container without `--force` (it kills it first) and containerd relies on that, '
    + 'so a runtime that behaves like runc fails this check knowingly; it stays because the spec says so.',
  'devices.existing-mismatch': 'config-linux.md § Devices: "If a file already exists at `path` that does not match the '
    + 'requested device, the runtime MUST generate an error." Both runtimes leave the regular file in place and carry on.',
  'propagation.slave': 'The rootfs sits on a shared host mount; a bind of it in a new mount namespace made rslave is a '
    + 'slave of the host peer group (checked by hand with `unshare -m --propagation slave` and `mount --bind`), so '
    + '`master:N` on the container\'s `/` is reachable.',
  'propagation.unbindable': 'Making `/` unbindable before the rootfs is bind-mounted onto itself makes that bind fail '
    + '(EINVAL); the spec asks for the rootfs mount to end up unbindable, which is reachable by applying it after '
    + 'pivot_root.',
};

const SPEC_ORDER = ['runtime.md', 'runtime-linux.md', 'config.md', 'config-linux.md'];

function cell(s) {
  return String(s).replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

function resultCell(r) {
  if (!r) return '–';
  if (r.result === 'pass') return 'pass';
  if (r.result === 'skip') return `skip: ${cell(r.reason)}`;
  return `**FAIL**: ${cell(r.reason)}`;
}

function anchor(section) {
  return section.toLowerCase().replace(/[^a-z0-9 -]/g, '').replace(/ /g, '-');
}

export function writeReport(file, { checks, runtimes, machine, date, seconds, argv, filtered, deviations = {} }) {
  const names = runtimes.map((r) => r.name);
  const L = [];
  L.push(`# Runtime-spec conformance: ${names.join(' vs ')}`);
  L.push('');
  L.push(`Generated ${date.toISOString().replace(/\.\d+Z$/, 'Z')} by \`npm run conformance -- ${argv.join(' ')}\` in ${seconds.toFixed(0)} s${filtered ? ' (filtered: not every check ran)' : ''}.`);
  L.push('');
  L.push(`- Machine: ${machine}`);
  for (const r of runtimes) L.push(`- ${r.name}: \`${r.bin}\` (${r.version})`);
  L.push('');
  L.push('The suite lives in `conformance/` and is run with `npm run conformance -- [--runtime PATH] [--compare PATH2]');
  L.push('[--filter REGEX] [--tap] [--report FILE]` as root. Each check writes its own bundle (a `config.json` made for the');
  L.push('case and a busybox rootfs, plus `conformance/probe.c` built statically, which prints what the container sees as');
  L.push('JSON), drives the runtime\'s command line as a container manager does (`create`, `start`, `state`, `kill`,');
  L.push('`delete`, each with its own `--root`), asserts, and cleans up. A check is MUST or SHOULD as the spec words it; a');
  L.push('config field the spec only defines counts as MUST, since runtime.md requires the container to be created');
  L.push('"according to the configuration". MAY checks test runc command-line conventions (socket activation,');
  L.push('`--preserve-fds`) that managers rely on; they never fail the run. A check skips only for a stated host reason.');
  L.push('The exit status is non-zero when a MUST check fails for the first runtime.');
  L.push('');
  L.push('Layout: `conformance/run.mjs` (command line, runner, table/TAP output), `lib.mjs` (the per-check context: bundles,');
  L.push('runtime calls with stdout/stderr to files, waiting on `state`, clean-up of containers, mounts, cgroups and helper');
  L.push('processes), `checks/*.mjs` (the checks, grouped by area), `probe.c` and `recvfd.c` (static helpers: what the');
  L.push('container sees; the manager\'s end of `--console-socket`, receiving the pty master with SCM_RIGHTS), `report.mjs`');
  L.push('(which writes this file). `--list` prints every check; `--filter \'^hooks\\.\'` runs some; `--keep` keeps their temp dirs.');
  L.push('');
  L.push('## Summary');
  L.push('');
  L.push(`| runtime | passed | failed | skipped | MUST failed | SHOULD failed |`);
  L.push('|---|---|---|---|---|---|');
  for (const r of runtimes) {
    const failed = (lvl) => checks.filter((c) => c.level === lvl && r.results[c.id]?.result === 'fail').length;
    L.push(`| ${r.name} | ${r.summary.pass} | ${r.summary.fail} | ${r.summary.skip} | ${failed('MUST')} | ${failed('SHOULD')} |`);
  }
  L.push('');
  L.push('| spec file | checks | MUST | SHOULD | MAY |');
  L.push('|---|---|---|---|---|');
  for (const spec of SPEC_ORDER) {
    const cs = checks.filter((c) => c.spec === spec);
    if (!cs.length) continue;
    const n = (lvl) => cs.filter((c) => c.level === lvl).length;
    L.push(`| ${spec} | ${cs.length} | ${n('MUST')} | ${n('SHOULD')} | ${n('MAY')} |`);
  }
  L.push(`| total | ${checks.length} | | | |`);
  L.push('');

  if (runtimes.length > 1) {
    const both = checks.filter((c) => runtimes.every((r) => r.results[c.id]?.result === 'fail'));
    L.push('## Checks that fail for every runtime');
    L.push('');
    if (!both.length) L.push('None.');
    for (const c of both) L.push(`- \`${c.id}\` (${c.spec} § ${c.section}, ${c.level}): ${cell(c.desc)}`);
    L.push('');
    for (const c of both) {
      if (!NOTES[c.id]) continue;
      L.push(`\`${c.id}\`: ${NOTES[c.id]}`);
      L.push('');
    }
  }

  const dev = Object.entries(deviations);
  if (dev.length) {
    L.push(`## Known deviations of ${names[0]}`);
    L.push('');
    L.push('MUST checks that fail on purpose (listed with `--deviations`; CI fails on any other MUST failure):');
    L.push('');
    for (const [id, why] of dev) L.push(`- \`${id}\` (${resultCell(runtimes[0].results[id]).replace(/\|/g, '/')}): ${cell(why)}`);
    L.push('');
  }

  L.push('## Results');
  for (const spec of SPEC_ORDER) {
    const cs = checks.filter((c) => c.spec === spec);
    if (!cs.length) continue;
    L.push('');
    L.push(`### ${spec}`);
    L.push('');
    L.push(`| check | level | section | what is checked | ${names.join(' | ')} |`);
    L.push(`|---|---|---|---|${names.map(() => '---').join('|')}|`);
    for (const c of cs) {
      const sec = `[${cell(c.section)}](https://github.com/opencontainers/runtime-spec/blob/main/${spec}#${anchor(c.section)})`;
      L.push(`| \`${c.id}\` | ${c.level} | ${sec} | ${cell(c.desc)} | ${runtimes.map((r) => resultCell(r.results[c.id])).join(' | ')} |`);
    }
  }
  L.push('');
  fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  fs.writeFileSync(file, L.join('\n'));
}
