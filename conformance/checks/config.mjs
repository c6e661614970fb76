// config.md: root, mounts, process (args, env, cwd, user, capabilities, rlimits, noNewPrivileges, oomScoreAdj,
// terminal), hostname, domainname, extensibility and valid values. Hooks are in hooks.mjs.
import fs from 'node:fs';
import path from 'node:path';
import { capMask, capNames, mountAt, parseMountinfo } from '../lib.mjs';

const SPEC = 'config.md';
const checks = [];
const check = (id, section, level, desc, run) => checks.push({ id, spec: SPEC, section, level, desc, run });

const mountsOf = (p) => parseMountinfo(p.mountinfo ?? []);

// ---------------------------------------------------------------------------------------------------------------
// Root

check('root.readonly', 'Root', 'MUST',
  'with root.readonly the root filesystem is read-only inside the container',
  async (t) => {
    const out = await t.sh('touch /cf-ro-test 2>/dev/null && echo writable || echo read-only; awk \'$5 == "/" { o = $6 } END { print o }\' /proc/self/mountinfo');
    const [w, opts] = out.trim().split('\n');
    t.eq(w, 'read-only', 'creating a file in /');
    t.ok((opts ?? '').split(',').includes('ro'), `mount options of / are ${opts}`);
  });

check('root.writable', 'Root', 'MUST',
  'without root.readonly the root filesystem is writable and writes land in root.path',
  async (t) => {
    const rootfs = t.rootfsCopy();
    const out = await t.sh('echo hello > /cf-rw-test && echo ok', (c) => { c.root = { path: rootfs, readonly: false }; });
    t.eq(out.trim(), 'ok', 'writing /cf-rw-test');
    t.eq(fs.readFileSync(path.join(rootfs, 'cf-rw-test'), 'utf8'), 'hello\n', 'the file in root.path on the host');
  });

check('root.relative-path', 'Root', 'MUST',
  'a relative root.path is taken relative to the bundle directory',
  async (t) => {
    const bundle = t.mkdir('bundle');
    const rootfs = t.rootfsCopy(false, path.join(bundle, 'rootfs'));
    const token = `token-${Date.now()}`;
    fs.writeFileSync(path.join(rootfs, 'cf-marker'), token);
    const cfg = t.config(['cat', '/cf-marker']);
    cfg.root = { path: 'rootfs', readonly: true };
    const { stdout } = await t.run(t.bundle(cfg, bundle));
    t.eq(stdout.trim(), token, 'content of /cf-marker');
  });

// ---------------------------------------------------------------------------------------------------------------
// Mounts

check('mounts.order', 'Mounts', 'MUST',
  'mounts are made in the listed order: a bind mount listed after a tmpfs is mounted inside that tmpfs',
  async (t) => {
    const data = t.mkdir('data');
    fs.writeFileSync(path.join(data, 'token'), 'inside');
    const out = await t.sh('cat /m/inner/token', (c) => {
      c.mounts.push({ destination: '/m', type: 'tmpfs', source: 'tmpfs', options: ['mode=755'] });
      c.mounts.push({ destination: '/m/inner', type: 'bind', source: data, options: ['rbind', 'ro'] });
    });
    t.eq(out.trim(), 'inside', 'content of /m/inner/token');
  });

check('mounts.flags', 'Linux mount options', 'MUST',
  'the options ro, nosuid, nodev and noexec become flags of the mount',
  async (t) => {
    const p = await t.probe((c) => c.mounts.push({ destination: '/m', type: 'tmpfs', source: 'tmpfs', options: ['ro', 'nosuid', 'nodev', 'noexec'] }));
    const m = mountAt(mountsOf(p), '/m');
    t.ok(m, 'no mount at /m');
    t.eq(m.fstype, 'tmpfs', 'type of /m');
    const missing = ['ro', 'nosuid', 'nodev', 'noexec'].filter((o) => !m.opts.has(o));
    t.ok(!missing.length, `/m lacks ${missing.join(', ')} (options ${[...m.opts].join(',')})`);
  });

check('mounts.data-options', 'Linux mount options', 'SHOULD',
  'options that are not mount flags (mode=, size=) are passed to the filesystem as data',
  async (t) => {
    const p = await t.probe((c) => c.mounts.push({ destination: '/m', type: 'tmpfs', source: 'tmpfs', options: ['mode=0710', 'size=1m'] }));
    const m = mountAt(mountsOf(p), '/m');
    t.ok(m, 'no mount at /m');
    t.ok(m.superOpts.has('mode=710') && m.superOpts.has('size=1024k'), `superblock options of /m are ${[...m.superOpts].join(',')}`);
  });

/** A host dir with a file, and a tmpfs mounted on its subdir `sub` holding `sub/inner`. */
function treeWithSubmount(t) {
  const d = t.mkdir('tree');
  fs.writeFileSync(path.join(d, 'top'), 'top');
  fs.mkdirSync(path.join(d, 'sub'));
  t.hostMount(['-t', 'tmpfs', 'tmpfs', path.join(d, 'sub')]);
  fs.writeFileSync(path.join(d, 'sub', 'inner'), 'inner');
  return d;
}

check('mounts.bind', 'Linux mount options', 'MUST',
  'a "bind" mount shows the host directory but not the mounts below it',
  async (t) => {
    const d = treeWithSubmount(t);
    const out = await t.sh('cat /m/top; echo; cat /m/sub/inner 2>/dev/null || echo no-inner', (c) => {
      c.mounts.push({ destination: '/m', type: 'bind', source: d, options: ['bind'] });
    });
    t.eq(out.trim().split('\n'), ['top', 'no-inner'], 'what /m shows');
  });

check('mounts.rbind', 'Linux mount options', 'MUST',
  'an "rbind" mount shows the host directory and the mounts below it',
  async (t) => {
    const d = treeWithSubmount(t);
    const out = await t.sh('cat /m/top; echo; cat /m/sub/inner 2>/dev/null || echo no-inner', (c) => {
      c.mounts.push({ destination: '/m', type: 'bind', source: d, options: ['rbind'] });
    });
    t.eq(out.trim().split('\n'), ['top', 'inner'], 'what /m shows');
  });

check('mounts.bind-ro', 'Linux mount options', 'MUST',
  'a bind mount with "ro" is read-only in the container and the host directory is not written',
  async (t) => {
    const d = t.mkdir('data', 0o777);
    const out = await t.sh('touch /m/new 2>/dev/null && echo writable || echo read-only', (c) => {
      c.mounts.push({ destination: '/m', type: 'bind', source: d, options: ['rbind', 'ro'] });
    });
    t.eq(out.trim(), 'read-only', 'creating /m/new');
    t.eq(fs.readdirSync(d), [], 'files in the host directory');
  });

check('mounts.rro', 'Linux mount options', 'SHOULD',
  '"rro" makes a recursive bind mount read-only including the mounts below it',
  async (t) => {
    const d = treeWithSubmount(t);
    const out = await t.sh('for f in /m/x /m/sub/x; do touch $f 2>/dev/null && echo writable || echo read-only; done', (c) => {
      c.mounts.push({ destination: '/m', type: 'bind', source: d, options: ['rbind', 'rro'] });
    });
    t.eq(out.trim().split('\n'), ['read-only', 'read-only'], 'writing /m/x and /m/sub/x');
  });

check('mounts.propagation', 'Linux mount options', 'MUST',
  'a propagation option ("rshared") sets the propagation of the bind mount',
  async (t) => {
    const d = t.mkdir('data');
    const p = await t.probe((c) => c.mounts.push({ destination: '/m', type: 'bind', source: d, options: ['rbind', 'rshared'] }));
    const m = mountAt(mountsOf(p), '/m');
    t.ok(m, 'no mount at /m');
    t.ok(m.optional.some((o) => o.startsWith('shared:')), `/m propagation fields are "${m.optional.join(' ')}", not shared`);
  });

check('mounts.relative-source', 'Mounts', 'MUST',
  'a relative bind mount source is taken relative to the bundle directory',
  async (t) => {
    const bundle = t.mkdir('bundle');
    fs.mkdirSync(path.join(bundle, 'vol'));
    fs.writeFileSync(path.join(bundle, 'vol', 'token'), 'from-bundle');
    const cfg = t.config(['cat', '/m/token']);
    cfg.mounts.push({ destination: '/m', type: 'bind', source: 'vol', options: ['rbind'] });
    const { stdout } = await t.run(t.bundle(cfg, bundle));
    t.eq(stdout.trim(), 'from-bundle', 'content of /m/token');
  });

check('mounts.source', 'Mounts', 'MUST',
  'the source of a mount that is not a bind mount is given to mount(2) as is, not resolved against the bundle',
  async (t) => {
    const p = await t.probe((c) => c.mounts.push({ destination: '/m', type: 'tmpfs', source: 'cf-source' }));
    const m = mountAt(mountsOf(p), '/m');
    t.ok(m, 'no mount at /m');
    t.eq(m.source, 'cf-source', 'source of the tmpfs at /m');
  });

check('mounts.relative-destination', 'Mounts', 'MUST',
  'a relative mount destination (deprecated) is taken relative to /',
  async (t) => {
    const p = await t.probe((c) => c.mounts.push({ destination: 'cf-rel', type: 'tmpfs', source: 'tmpfs' }));
    t.ok(mountAt(mountsOf(p), '/cf-rel'), 'no mount at /cf-rel');
  });

// ---------------------------------------------------------------------------------------------------------------
// Process

check('process.args', 'Process', 'MUST',
  'args run as given, args[0] looked up in the PATH of process.env like execvp does',
  async (t) => {
    const p = await t.probe((c) => {
      c.process.args = ['probe', 'one', 'two words', ''];
      c.process.env = ['PATH=/bin:/opt/conformance'];
    });
    t.eq(p.args, ['probe', 'one', 'two words', ''], 'argv');
  });

check('process.env', 'Process', 'MUST',
  'the process environment holds the configured variables and nothing from the runtime\'s own environment',
  async (t) => {
    const env = ['PATH=/bin', 'HOME=/root', 'CF_A=1', 'CF_B=with space', 'CF_EMPTY='];
    const p = await t.probe((c) => { c.process.env = env; });
    const missing = env.filter((e) => !p.env.includes(e));
    t.ok(!missing.length, `missing from the environment: ${missing.join(' ')}`);
    const leaked = p.env.filter((e) => e.startsWith('CONFORMANCE_LEAK='));
    t.ok(!leaked.length, 'the runtime\'s own environment leaked into the process');
  });

check('process.cwd', 'Process', 'MUST',
  'the process starts in cwd',
  async (t) => {
    const p = await t.probe((c) => { c.process.cwd = '/home/user'; });
    t.eq(p.cwd, '/home/user', 'working directory');
  });

check('process.user', 'POSIX-platform User', 'MUST',
  'the process runs with user.uid, user.gid and user.additionalGids (real, effective and saved ids)',
  async (t) => {
    const p = await t.probe((c) => { c.process.user = { uid: 1000, gid: 1000, additionalGids: [2000, 3000] }; });
    t.eq(p.uid, [1000, 1000, 1000], 'uids');
    t.eq(p.gid, [1000, 1000, 1000], 'gids');
    const groups = [...new Set(p.groups)].sort((a, b) => a - b);
    t.ok([2000, 3000].every((g) => groups.includes(g)) && groups.every((g) => [1000, 2000, 3000].includes(g)),
      `supplementary groups are ${JSON.stringify(groups)}, expected 2000 and 3000`);
  });

check('process.umask', 'POSIX-platform User', 'MUST',
  'the process gets user.umask',
  async (t) => {
    const p = await t.probe((c) => { c.process.user.umask = 0o027; });
    t.eq(p.umask, '0027', 'umask');
  });

function capsOf(p) {
  const m = {};
  for (const k of ['CapInh', 'CapPrm', 'CapEff', 'CapBnd', 'CapAmb']) m[k] = BigInt(`0x${p.status[k]}`);
  return m;
}

function expectCaps(t, p, want) {
  const got = capsOf(p);
  const bad = Object.entries(want).filter(([k, v]) => got[k] !== capMask(v)).map(([k, v]) => `${k} is ${capNames(got[k])}, expected ${capNames(capMask(v))}`);
  t.ok(!bad.length, bad.join('; '));
}

check('process.capabilities-root', 'Linux Process', 'MUST',
  'a root process gets exactly the configured bounding, effective and permitted sets and no inheritable or ambient ones',
  async (t) => {
    const caps = ['CAP_CHOWN', 'CAP_KILL', 'CAP_NET_RAW', 'CAP_SETUID'];
    const p = await t.probe((c) => { c.process.capabilities = { bounding: caps, effective: caps, permitted: caps }; });
    expectCaps(t, p, { CapBnd: caps, CapEff: caps, CapPrm: caps, CapInh: [], CapAmb: [] });
  });

check('process.capabilities-ambient', 'Linux Process', 'MUST',
  'a non-root process gets the bounding, inheritable and ambient sets, and its ambient capability is effective after exec',
  async (t) => {
    const p = await t.probe((c) => {
      c.process.user = { uid: 1000, gid: 1000 };
      c.process.capabilities = {
        bounding: ['CAP_CHOWN', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'],
        permitted: ['CAP_KILL', 'CAP_NET_BIND_SERVICE'],
        effective: ['CAP_KILL', 'CAP_NET_BIND_SERVICE'],
        inheritable: ['CAP_NET_BIND_SERVICE'],
        ambient: ['CAP_NET_BIND_SERVICE'],
      };
    });
    // execve as non-root: permitted and effective become the ambient set
    expectCaps(t, p, {
      CapBnd: ['CAP_CHOWN', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'],
      CapInh: ['CAP_NET_BIND_SERVICE'],
      CapAmb: ['CAP_NET_BIND_SERVICE'],
      CapPrm: ['CAP_NET_BIND_SERVICE'],
      CapEff: ['CAP_NET_BIND_SERVICE'],
    });
  });

check('process.capabilities-unknown', 'Linux Process', 'SHOULD',
  'a capability the kernel does not know is not a reason to fail (the runtime warns and goes on)',
  async (t) => {
    const out = await t.sh('echo ran', (c) => {
      for (const set of ['bounding', 'effective', 'permitted']) c.process.capabilities[set].push('CAP_CONFORMANCE_UNKNOWN');
    });
    t.eq(out.trim(), 'ran', 'output');
  });

check('process.rlimits', 'POSIX process', 'MUST',
  'each configured rlimit is the process\'s soft and hard limit',
  async (t) => {
    const rl = [
      { type: 'RLIMIT_NOFILE', soft: 512, hard: 1024 },
      { type: 'RLIMIT_CORE', soft: 0, hard: 4096 },
      { type: 'RLIMIT_MSGQUEUE', soft: 4096, hard: 8192 },
    ];
    const p = await t.probe((c) => { c.process.rlimits = rl; });
    const bad = rl.filter((r) => JSON.stringify(p.rlimits[r.type]) !== JSON.stringify([r.soft, r.hard]))
      .map((r) => `${r.type} is ${JSON.stringify(p.rlimits[r.type])}, expected ${JSON.stringify([r.soft, r.hard])}`);
    t.ok(!bad.length, bad.join('; '));
  });

check('process.rlimits-duplicate', 'POSIX process', 'MUST',
  'two rlimits of the same type are an error',
  async (t) => {
    const cfg = t.config();
    cfg.process.rlimits = [{ type: 'RLIMIT_NOFILE', soft: 512, hard: 1024 }, { type: 'RLIMIT_NOFILE', soft: 256, hard: 256 }];
    const id = t.id();
    t.ok(t.rt(['create', '--bundle', t.bundle(cfg), id]).status !== 0, 'create with a duplicated rlimit succeeded');
    t.ok(t.stateMaybe(id).error, 'a container exists after the failed create');
  });

check('process.rlimits-unknown', 'POSIX process', 'MUST',
  'an rlimit type that maps to no kernel resource is an error',
  async (t) => {
    const cfg = t.config();
    cfg.process.rlimits = [{ type: 'RLIMIT_CONFORMANCE', soft: 1, hard: 1 }];
    const id = t.id();
    t.ok(t.rt(['create', '--bundle', t.bundle(cfg), id]).status !== 0, 'create with an unknown rlimit type succeeded');
    t.ok(t.stateMaybe(id).error, 'a container exists after the failed create');
  });

check('process.no-new-privileges', 'Linux Process', 'MUST',
  'noNewPrivileges true sets the no_new_privs bit of the process',
  async (t) => {
    const p = await t.probe((c) => { c.process.noNewPrivileges = true; });
    t.eq(p.status.NoNewPrivs, '1', 'NoNewPrivs');
  });

check('process.no-new-privileges-off', 'Linux Process', 'MUST',
  'noNewPrivileges false leaves the no_new_privs bit clear',
  async (t) => {
    const p = await t.probe((c) => { c.process.noNewPrivileges = false; });
    t.eq(p.status.NoNewPrivs, '0', 'NoNewPrivs');
  });

check('process.oom-score-adj', 'Linux Process', 'MUST',
  'oomScoreAdj is written to the process\'s oom_score_adj',
  async (t) => {
    const p = await t.probe((c) => { c.process.oomScoreAdj = 500; });
    t.eq(p.oomScoreAdj, '500', 'oom_score_adj');
  });

check('process.oom-score-adj-unset', 'Linux Process', 'MUST',
  'without oomScoreAdj the process keeps the oom_score_adj of the runtime that created it',
  async (t) => {
    const p = await t.probe(undefined, { prefix: 'echo 123 > /proc/self/oom_score_adj' });
    t.eq(p.oomScoreAdj, '123', 'oom_score_adj (the runtime ran with 123)');
  });

const DONE = 'echo "CF-DONE-$((40+2))"\n';

check('process.terminal', 'Process', 'MUST',
  'with terminal, the pty master is sent to --console-socket and the pty is the process\'s stdin, stdout and stderr',
  async (t) => {
    const text = await t.terminal( `for i in 0 1 2; do echo "FD$i=$(readlink /proc/$$/fd/$i)"; done; ${DONE}`);
    t.ok(/^fd: .*ptmx/m.test(text), `the descriptor received is not a pty master (${text.split('\n')[0]})`);
    for (const i of [0, 1, 2]) {
      const m = text.match(new RegExp(`FD${i}=(\\S+)`));
      t.ok(m && /^\/dev\/pts\/\d+$/.test(m[1]), `fd ${i} of the process is ${m?.[1] ?? '(unknown)'}, not a pty`);
    }
  });

check('process.console-size', 'Process', 'MUST',
  'consoleSize sets the size of the terminal',
  async (t) => {
    const text = await t.terminal( `echo "SIZE=$(stty size)"; ${DONE}`, (c) => { c.process.consoleSize = { height: 33, width: 101 }; });
    t.eq(text.match(/SIZE=(\d+ \d+)/)?.[1], '33 101', 'stty size');
  });

check('process.console-size-ignored', 'Process', 'MUST',
  'consoleSize without terminal is ignored: the container runs normally',
  async (t) => {
    const out = await t.sh('echo ran', (c) => { c.process.consoleSize = { height: 33, width: 101 }; });
    t.eq(out.trim(), 'ran', 'output');
  });

// ---------------------------------------------------------------------------------------------------------------
// Hostname, domainname

check('hostname', 'Hostname', 'MUST',
  'hostname is the container\'s host name',
  async (t) => {
    const p = await t.probe((c) => { c.hostname = 'cf-hostname'; });
    t.eq(p.hostname, 'cf-hostname', 'hostname');
  });

check('domainname', 'Domainname', 'MUST',
  'domainname is the container\'s NIS domain name',
  async (t) => {
    const p = await t.probe((c) => { c.domainname = 'cf.example'; });
    t.eq(p.domainname, 'cf.example', 'domainname');
  });

// ---------------------------------------------------------------------------------------------------------------
// Extensibility, valid values

check('config.unknown-properties', 'Extensibility', 'MUST',
  'unknown properties (top level, in process, in linux) are ignored, not errors',
  async (t) => {
    const out = await t.sh('echo ran', (c) => {
      c['org.example.conformance'] = { any: ['thing'] };
      c.process.conformanceUnknown = true;
      c.linux.conformanceUnknown = 'x';
    });
    t.eq(out.trim(), 'ran', 'output');
  });

check('config.invalid-value', 'Valid values', 'MUST',
  'an invalid value (a namespace type that does not exist) is an error and nothing is created',
  async (t) => {
    const cfg = t.config();
    cfg.linux.namespaces.push({ type: 'conformance' });
    const id = t.id();
    t.ok(t.rt(['create', '--bundle', t.bundle(cfg), id]).status !== 0, 'create with namespace type "conformance" succeeded');
    t.ok(t.stateMaybe(id).error, 'a container exists after the failed create');
  });

export default checks;
