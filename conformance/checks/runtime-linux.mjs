// runtime-linux.md: file descriptors and the /dev symlinks.
import fs from 'node:fs';
import path from 'node:path';

const SPEC = 'runtime-linux.md';
const checks = [];
const check = (id, section, level, desc, run) => checks.push({ id, spec: SPEC, section, level, desc, run });

/** Two host files opened for passing to the runtime as fds 3 and 4. */
function extraFiles(t) {
  const a = path.join(t.dir, 'extra-a');
  const b = path.join(t.dir, 'extra-b');
  fs.writeFileSync(a, 'a');
  fs.writeFileSync(b, 'b');
  const fds = [fs.openSync(a, 'r'), fs.openSync(b, 'r')];
  t.onCleanup(() => fds.forEach((fd) => fs.closeSync(fd)));
  return { paths: [a, b], fds };
}

check('fds.stdio-only', 'File descriptors', 'MUST',
  'the container process has only stdin, stdout and stderr open, even when the runtime itself was given more',
  async (t) => {
    const { fds } = extraFiles(t);
    const p = await t.probe(undefined, { fds });
    t.eq(Object.keys(p.fds).map(Number).sort((x, y) => x - y), [0, 1, 2], 'open descriptors');
  });

check('fds.preserve-fds', 'File descriptors', 'MAY',
  'with --preserve-fds N the runtime passes its fds 3..3+N-1 on to the container process (runc\'s CLI)',
  async (t) => {
    const { paths, fds } = extraFiles(t);
    const p = await t.probe(undefined, { fds, args: ['--preserve-fds', '2'] });
    t.eq(Object.keys(p.fds).map(Number).sort((x, y) => x - y), [0, 1, 2, 3, 4], 'open descriptors');
    // the container sees the host files through its own mount namespace: compare the names only
    t.eq([p.fds['3'], p.fds['4']].map((x) => path.basename(x)), paths.map((x) => path.basename(x)), 'files behind fds 3 and 4');
  });

check('fds.listen-fds', 'File descriptors', 'MAY',
  'socket activation: with LISTEN_FDS=1 and LISTEN_PID naming the runtime, fd 3 is passed on and LISTEN_FDS reaches the process',
  async (t) => {
    const { paths, fds } = extraFiles(t);
    const p = await t.probe(undefined, { fds: [fds[0]], env: { LISTEN_FDS: '1' }, prefix: 'export LISTEN_PID=$$' });
    t.eq(Object.keys(p.fds).map(Number).sort((x, y) => x - y), [0, 1, 2, 3], 'open descriptors');
    t.eq(path.basename(p.fds['3']), path.basename(paths[0]), 'file behind fd 3');
    t.ok(p.env.includes('LISTEN_FDS=1'), `LISTEN_FDS=1 is not in the process environment (${p.env.filter((e) => e.startsWith('LISTEN')).join(' ') || 'no LISTEN_*'})`);
  });

check('dev.symlinks', 'Dev symbolic links', 'MUST',
  '/dev/fd, /dev/stdin, /dev/stdout and /dev/stderr are symlinks to /proc/self/fd, /proc/self/fd/0, 1 and 2',
  async (t) => {
    const out = await t.sh('for f in fd stdin stdout stderr; do echo "$f=$(readlink /dev/$f)"; done');
    const got = Object.fromEntries(out.trim().split('\n').map((l) => l.split('=')));
    t.eq(got, { fd: '/proc/self/fd', stdin: '/proc/self/fd/0', stdout: '/proc/self/fd/1', stderr: '/proc/self/fd/2' }, '/dev symlinks');
  });

export default checks;
