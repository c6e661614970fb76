#!/usr/bin/env node
// Drives the init stub (build/runts-init) with hand-built launch plans and checks what it does, for real:
// namespaces, mounts, devices, pivot_root, identity, capabilities, hooks, the terminal, the start socket and
// the error messages. Plain Node ESM, no dependencies. Run as root:  node test/native/driver.mjs
//
// A small C helper (test/native/helpers.c, compiled on the fly) is the subreaper that reaps the container
// processes (so they are not left as zombies and their exit codes are known) and plays the console socket.
import { spawn, execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const REPO = path.resolve(HERE, '..', '..');
const STUB = process.env.RUNTS_INIT || path.join(REPO, 'build', 'runts-init');
const VERBOSE = !!process.env.VERBOSE;

// ---------------------------------------------------------------------------------------------------------------
// numbers: native/init/plan.h, checked against src/plan/ops.ts

function headerNumbers() {
  const text = fs.readFileSync(path.join(REPO, 'native', 'init', 'plan.h'), 'utf8');
  const out = { OP: {}, MSG: {}, HOW: {}, SYNC: {}, CHDIR: {} };
  for (const m of text.matchAll(/#define RT_(OP|MSG|HOW|SYNC|CHDIR)_(\w+)\s+(\d+)/g)) out[m[1]][m[2]] = Number(m[3]);
  return out;
}

function tsNumbers() {
  const text = fs.readFileSync(path.join(REPO, 'src', 'plan', 'ops.ts'), 'utf8');
  const block = (name) => {
    const m = text.match(new RegExp(`export const ${name} = \\{([\\s\\S]*?)\\}`));
    const o = {};
    if (m) for (const e of m[1].matchAll(/(\w+):\s*(\d+)/g)) o[e[1]] = Number(e[2]);
    return o;
  };
  return { OP: block('Op'), MSG: block('Msg'), HOW: block('How'), SYNC: block('SyncCode'), CHDIR: block('ChdirHow') };
}

const N = headerNumbers();
const Op = N.OP;
const Msg = N.MSG;
const How = N.HOW;
const ChdirHow = N.CHDIR;

// mount(2) flags, clone flags, capabilities
const MS = {
  RDONLY: 0x1, NOSUID: 0x2, NODEV: 0x4, NOEXEC: 0x8, REMOUNT: 0x20, NOATIME: 0x400, BIND: 0x1000, MOVE: 0x2000,
  REC: 0x4000, PRIVATE: 1 << 18, SLAVE: 1 << 19, SHARED: 1 << 20, RELATIME: 1 << 21, STRICTATIME: 1 << 24,
};
const CLONE = { NEWNS: 0x20000, NEWCGROUP: 0x2000000, NEWUTS: 0x4000000, NEWIPC: 0x8000000, NEWUSER: 0x10000000, NEWPID: 0x20000000, NEWNET: 0x40000000 };
const CAP = { CHOWN: 0, DAC_OVERRIDE: 1, FOWNER: 3, FSETID: 4, KILL: 5, SETGID: 6, SETUID: 7, SETPCAP: 8, NET_BIND_SERVICE: 10, NET_RAW: 13, SYS_CHROOT: 18, SYS_ADMIN: 21, MKNOD: 27, AUDIT_WRITE: 29, SETFCAP: 31 };
const capMask = (...names) => names.reduce((m, n) => m | (1n << BigInt(CAP[n])), 0n);
const hex16 = (v) => v.toString(16).padStart(16, '0');
const MOUNT_ATTR = { RDONLY: 0x1, NOSUID: 0x2, NODEV: 0x4, NOEXEC: 0x8 };
const makedev = (ma, mi) => (BigInt(mi) & 0xffn) | ((BigInt(ma) & 0xfffn) << 8n) | ((BigInt(mi) & ~0xffn) << 12n) | ((BigInt(ma) & ~0xfffn) << 32n);

// ---------------------------------------------------------------------------------------------------------------
// the plan encoder (docs/ARCHITECTURE.md, "Plan format"), written independently of src/plan/encode.ts

const U = (v) => ({ t: 'u64', v });
const S = (v) => ({ t: 'str', v });
const V = (v) => ({ t: 'strv', v });
const W = (v) => ({ t: 'u64v', v });
const step = (op, ...args) => {
  if (Op[op] === undefined) throw new Error(`no op ${op}`);
  return { op, args };
};

function u32(n) { const b = Buffer.alloc(4); b.writeUInt32LE(n >>> 0); return b; }
function u64(n) { const b = Buffer.alloc(8); b.writeBigUInt64LE(BigInt.asUintN(64, BigInt(n))); return b; }
function strb(s) { const body = Buffer.from(s, 'utf8'); return Buffer.concat([u32(body.length), body, Buffer.from([0])]); }
function value(v) {
  switch (v.t) {
    case 'u64': return u64(v.v);
    case 'str': return strb(v.v);
    case 'strv': return Buffer.concat([u32(v.v.length), ...v.v.map(strb)]);
    case 'u64v': return Buffer.concat([u32(v.v.length), ...v.v.map(u64)]);
  }
  throw new Error('bad value');
}
function encodeStep(s) {
  const payload = Buffer.concat(s.args.map(value));
  return Buffer.concat([u32(typeof s.op === 'number' ? s.op : Op[s.op]), u32(payload.length), payload]);
}
function encodePlan(steps) {
  return Buffer.concat([Buffer.from('RTPL'), u32(1), ...steps.map(encodeStep)]);
}
function frame(type, payload = Buffer.alloc(0)) {
  return Buffer.concat([u32(type), u32(payload.length), payload]);
}

class FrameReader {
  constructor(onFrame) { this.buf = Buffer.alloc(0); this.onFrame = onFrame; }
  push(chunk) {
    this.buf = Buffer.concat([this.buf, chunk]);
    while (this.buf.length >= 8) {
      const len = this.buf.readUInt32LE(4);
      if (this.buf.length < 8 + len) break;
      const type = this.buf.readUInt32LE(0);
      const payload = this.buf.subarray(8, 8 + len);
      this.buf = this.buf.subarray(8 + len);
      this.onFrame(type, payload);
    }
  }
}

// ---------------------------------------------------------------------------------------------------------------
// fixtures

const WORK = fs.mkdtempSync(path.join(os.tmpdir(), 'runts-init-test-'));
fs.chmodSync(WORK, 0o755); // the container's root (uid 100000 in the user namespace test) must get through
const HELPERS = path.join(WORK, 'helpers');
const cleanups = [];

function log(...a) { if (VERBOSE) console.error('  #', ...a); }

function buildHelpers() {
  execFileSync('cc', ['-O2', '-Wall', '-o', HELPERS, path.join(HERE, 'helpers.c')], { stdio: 'inherit' });
}

/** A busybox rootfs with relative applet links (busybox --install -s would link to the host path). */
function makeRootfs(dir, owner) {
  for (const d of ['bin', 'proc', 'sys', 'dev', 'tmp', 'etc', 'mnt', 'root']) fs.mkdirSync(path.join(dir, d), { recursive: true });
  fs.copyFileSync('/bin/busybox', path.join(dir, 'bin', 'busybox'));
  fs.chmodSync(path.join(dir, 'bin', 'busybox'), 0o755);
  const applets = execFileSync('/bin/busybox', ['--list'], { encoding: 'utf8' }).split('\n').filter(Boolean);
  for (const a of applets) if (a !== 'busybox') fs.symlinkSync('busybox', path.join(dir, 'bin', a));
  fs.writeFileSync(path.join(dir, 'etc', 'passwd'), 'root:x:0:0:root:/root:/bin/sh\nuser:x:1000:1000:user:/home/user:/bin/sh\n');
  fs.writeFileSync(path.join(dir, 'etc', 'group'), 'root:x:0:\nuser:x:1000:\n');
  fs.writeFileSync(path.join(dir, 'etc', 'marker'), 'rootfs-etc-marker\n');
  fs.writeFileSync(path.join(dir, 'etc', 'not-executable'), 'data\n');
  fs.chmodSync(dir, 0o755);
  if (owner !== undefined) execFileSync('chown', ['-R', '-h', `${owner}:${owner}`, dir]);
}

/** A listening unix socket whose fd can be handed to the stub; connect() to `.path`. */
async function listenSocket(name) {
  const p = path.join(WORK, `${name}.sock`);
  const server = net.createServer();
  await new Promise((res, rej) => { server.once('error', rej); server.listen(p, res); });
  const fd = server._handle.fd;
  // Node would accept connections itself: after the stub got its copy of the fd the server is closed, which
  // unlinks the path, so keep a hard link to the socket to connect through.
  const link = path.join(WORK, `${name}.link.sock`);
  fs.linkSync(p, link);
  return { fd, path: link, close: () => new Promise((res) => server.close(() => res())) };
}

const hostMountsOf = (s) => fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => l.includes(s));

// ---------------------------------------------------------------------------------------------------------------
// one run of the stub

/**
 * Runs a plan. Options:
 *   plan           steps
 *   raw            a Buffer to send instead of an encoded plan
 *   maps           {uid, gid}: answer USERMAP_REQ by writing them
 *   state          object: ACK payload after PID (pid added)
 *   start          connect to the listen socket after READY (default true when listen is given)
 *   listen         a listenSocket() to pass at fd 4
 *   consoleFd      fd passed at 5
 *   afterReady     async (run) => ... instead of connecting
 *   abortOn        message type answered with ABORT
 * Result: { frames, error, startError, stdout, stderr, exits: Map(pid → {code|signal}), stubPid, initPid }
 */
async function runStub(o) {
  const r = { frames: [], error: undefined, startError: undefined, stdout: '', stderr: '', exits: new Map(), stubPid: 0, initPid: 0, startClosed: false };
  // fds of the stub: [preserved fd at 3], sync, listen, console; the reaper's report pipe at 9
  const stdio = ['ignore', 'pipe', 'pipe'];
  if (o.preserveFd !== undefined) stdio.push(o.preserveFd);
  const syncIndex = stdio.length;
  stdio.push('pipe', o.listen ? o.listen.fd : 'ignore', o.consoleFd ?? 'ignore');
  while (stdio.length < 9) stdio.push('ignore');
  stdio.push('pipe');
  const child = spawn(HELPERS, ['reap', '9', STUB, String(syncIndex)], { stdio });
  if (o.listen) await o.listen.close();
  const sock = child.stdio[syncIndex];
  const report = child.stdio[9];
  let spawned;
  const spawnedP = new Promise((res) => { spawned = res; });
  let doneResolve;
  const done = new Promise((res) => { doneResolve = res; });
  let reportBuf = '';
  report.on('data', (d) => {
    reportBuf += d.toString();
    let i;
    while ((i = reportBuf.indexOf('\n')) >= 0) {
      const line = reportBuf.slice(0, i).split(' ');
      reportBuf = reportBuf.slice(i + 1);
      if (line[0] === 'spawned') { r.stubPid = Number(line[1]); spawned(); }
      if (line[0] === 'exit') r.exits.set(Number(line[1]), { code: Number(line[2]) });
      if (line[0] === 'signal') r.exits.set(Number(line[1]), { signal: Number(line[2]) });
      if (line[0] === 'done') doneResolve();
    }
  });
  child.stdout.on('data', (d) => { r.stdout += d; });
  child.stderr.on('data', (d) => { r.stderr += d; });
  const exited = new Promise((res) => child.on('exit', res));
  await spawnedP;

  const reply = (type, payload) => { try { sock.write(frame(type, payload)); } catch { /* gone */ } };
  let startP = Promise.resolve();
  const reader = new FrameReader((type, payload) => {
    r.frames.push({ type, payload });
    if (type === Msg.PID) r.initPid = payload.readUInt32LE(0);
    log('frame', type, payload.length ? payload.toString().slice(0, 200) : '');
    if (o.abortOn === type) { reply(Msg.ABORT); return; }
    if (o.closeOn === type) { sock.end(); return; }
    switch (type) {
      case Msg.USERMAP_REQ:
        fs.writeFileSync(`/proc/${r.stubPid}/uid_map`, o.maps.uid);
        fs.writeFileSync(`/proc/${r.stubPid}/gid_map`, o.maps.gid);
        reply(Msg.ACK);
        break;
      case Msg.PID:
        r.initPid = payload.readUInt32LE(0);
        reply(Msg.ACK, Buffer.from(JSON.stringify({ ...(o.state ?? {}), pid: r.initPid, status: 'creating' })));
        break;
      case Msg.SYNC:
        r.syncCode = payload.readUInt32LE(0);
        reply(Msg.ACK, Buffer.from(JSON.stringify({ ...(o.state ?? {}), pid: r.initPid, status: 'created' })));
        break;
      case Msg.READY:
        r.ready = true;
        if (o.afterReady) startP = o.afterReady(r);
        else if (o.listen && o.start !== false) startP = start(o.listen.path, r);
        break;
      case Msg.ERROR:
        r.error = payload.toString();
        break;
    }
  });
  sock.on('data', (d) => reader.push(d));
  sock.on('error', () => {});
  sock.write(o.raw ?? frame(Msg.PLAN, encodePlan(o.plan)));

  const timer = setTimeout(() => {
    r.timedOut = true;
    for (const pid of [r.initPid, r.stubPid]) if (pid) try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
  }, o.timeoutMs ?? 30000);
  await done;
  await exited;
  await startP;
  clearTimeout(timer);
  sock.destroy();
  return r;
}

/** `runts start`: connect to the exec socket; EOF means execve happened, an ERROR frame means it did not. */
function start(sockPath, r) {
  return new Promise((resolve) => {
    const c = net.connect(sockPath);
    const reader = new FrameReader((type, payload) => { if (type === Msg.ERROR) r.startError = payload.toString(); });
    c.on('data', (d) => reader.push(d));
    c.on('connect', () => c.write(frame(Msg.ACK, Buffer.from(JSON.stringify({ ociVersion: '1.3.0', id: 'drv', status: 'created', pid: r.initPid ?? 1, bundle: '/' })))));
    c.on('error', (e) => { r.startError = `connect: ${e.message}`; resolve(); });
    c.on('close', () => { r.startClosed = true; resolve(); });
  });
}

// ---------------------------------------------------------------------------------------------------------------
// checks

const results = [];
let current = '';
function check(name, ok, detail) {
  results.push({ test: current, name, ok: !!ok, detail });
  if (!ok || VERBOSE) console.log(`  ${ok ? 'ok  ' : 'FAIL'} ${name}${!ok && detail !== undefined ? `\n         ${String(detail).split('\n').join('\n         ')}` : ''}`);
}
const has = (text, re) => (typeof re === 'string' ? text.includes(re) : re.test(text));
function section(out, name) {
  const m = out.match(new RegExp(`== ${name} ==\\n([\\s\\S]*?)(?=\\n== |$)`));
  return m ? m[1] : '';
}

async function test(name, fn) {
  current = name;
  console.log(`${name}`);
  try {
    await fn();
  } catch (e) {
    check('no exception', false, e.stack);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// plans

const DEVICES = [['null', 1, 3], ['zero', 1, 5], ['full', 1, 7], ['random', 1, 8], ['urandom', 1, 9], ['tty', 5, 0]];
const S_IFCHR = 0o020000;
const S_IFIFO = 0o010000;
const DEV_LINKS = [['/proc/self/fd', '/dev/fd'], ['/proc/self/fd/0', '/dev/stdin'], ['/proc/self/fd/1', '/dev/stdout'], ['/proc/self/fd/2', '/dev/stderr'], ['/proc/kcore', '/dev/core'], ['pts/ptmx', '/dev/ptmx']];
const T = How.TARGET_IN_ROOT;

function standardMounts({ userns }) {
  const s = [
    step('MOUNT', S('proc'), S('/proc'), S('proc'), U(MS.NOSUID | MS.NOEXEC | MS.NODEV), S(''), U(T | How.MKDIR)),
    step('MOUNT', S('tmpfs'), S('/dev'), S('tmpfs'), U(MS.NOSUID | MS.STRICTATIME), S('mode=755,size=65536k'), U(T | How.MKDIR)),
    step('MOUNT', S('devpts'), S('/dev/pts'), S('devpts'), U(MS.NOSUID | MS.NOEXEC), S(`newinstance,ptmxmode=0666,mode=0620${userns ? '' : ',gid=5'}`), U(T | How.MKDIR)),
    step('MOUNT', S('shm'), S('/dev/shm'), S('tmpfs'), U(MS.NOSUID | MS.NOEXEC | MS.NODEV), S('mode=1777,size=65536k'), U(T | How.MKDIR)),
    step('MOUNT', S('mqueue'), S('/dev/mqueue'), S('mqueue'), U(MS.NOSUID | MS.NOEXEC | MS.NODEV), S(''), U(T | How.MKDIR)),
    step('MOUNT', S('sysfs'), S('/sys'), S('sysfs'), U(MS.NOSUID | MS.NOEXEC | MS.NODEV | MS.RDONLY), S(''), U(T | How.MKDIR)),
    step('MOUNT', S('tmpfs'), S('/tmp'), S('tmpfs'), U(MS.NOSUID | MS.NODEV), S('mode=1777'), U(T | How.MKDIR)),
  ];
  return s;
}

function deviceSteps({ userns }) {
  const s = [];
  for (const [n, ma, mi] of DEVICES) {
    if (userns) s.push(step('BIND_DEVICE', S(`/dev/${n}`), S(`/dev/${n}`)));
    else s.push(step('MKNOD', S(`/dev/${n}`), U(S_IFCHR | 0o666), U(makedev(ma, mi)), U(0), U(0)));
  }
  for (const [t, l] of DEV_LINKS) s.push(step('SYMLINK', S(t), S(l)));
  return s;
}

// ---------------------------------------------------------------------------------------------------------------

async function main() {
  if (process.getuid() !== 0) { console.error('must run as root'); process.exit(2); }
  if (!fs.existsSync(STUB)) { console.error(`${STUB} missing: run make -C native`); process.exit(2); }
  buildHelpers();
  // the host's mount points, less those other test runs on this machine make meanwhile (their work dirs in /tmp,
  // their runtime dirs in /run); ours under WORK count
  const hostMountPoints = () => fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').map((l) => l.split(' ')[4] ?? '')
    .filter((m) => m.startsWith(WORK) || !(m.startsWith('/tmp/') || m.startsWith('/run/'))).sort().join(' ');
  const hostMountsBefore = hostMountPoints();

  await test('plan.h numbers equal src/plan/ops.ts', async () => {
    const ts = tsNumbers();
    for (const k of ['OP', 'MSG', 'HOW', 'SYNC', 'CHDIR']) {
      check(`${k} numbers`, JSON.stringify(Object.entries(N[k]).sort()) === JSON.stringify(Object.entries(ts[k]).sort()), `${JSON.stringify(N[k])}\n${JSON.stringify(ts[k])}`);
    }
  });

  await test('encoder agrees with src/plan/encode.ts', async () => {
    const out = path.join(WORK, 'tsplan');
    const tsc = path.join(REPO, 'node_modules', '.bin', 'tsc');
    if (!fs.existsSync(tsc)) { check('tsc available (skipped)', true); return; }
    try {
      execFileSync(tsc, ['--outDir', out, '--module', 'commonjs', '--target', 'es2022', '--skipLibCheck', '--types', 'node',
        path.join(REPO, 'src/plan/ops.ts'), path.join(REPO, 'src/plan/encode.ts')], { stdio: 'pipe' });
    } catch (e) { check('tsc compiles ops.ts + encode.ts', false, String(e.stdout ?? e)); return; }
    fs.writeFileSync(path.join(out, 'package.json'), '{"type":"commonjs"}');
    const { createRequire } = await import('node:module');
    const enc = createRequire(import.meta.url)(path.join(out, 'encode.js'));
    const mine = [
      step('MOUNT', S('proc'), S('/proc'), S('proc'), U(14), S('x=ü'), U(3)),
      step('USER', U(1000), U(1000), U(1), W([10, 20])),
      step('RUN_HOOK', S('h'), S('/bin/sh'), V(['sh', '-c', 'x']), V([]), U(0)),
      step('RLIMIT', U(7), U(-1n), U((1n << 64n) - 1n)),
      step('READY'),
    ];
    const theirs = mine.map((s) => enc.step(s.op, ...s.args.map((a) => ({ u64: enc.u64, str: enc.str, strv: enc.strv, u64v: enc.u64v })[a.t](a.v))));
    check('same bytes', encodePlan(mine).equals(enc.encodePlan(theirs)));
    check('same frame bytes', frame(1, Buffer.from('ab')).equals(enc.frame(1, Buffer.from('ab'))));
  });

  // ---------------------------------------------------------------------------------------------------------
  await test('container as root: namespaces, mounts, devices, pivot_root, hooks, identity, start', async () => {
    const R = path.join(WORK, 'rootfs');
    makeRootfs(R);
    fs.mkdirSync(path.join(R, 'opt'));
    fs.symlinkSync('../../../../../../../../opt', path.join(R, 'escape')); // must stay inside R
    fs.symlinkSync('/nonexistent-dir', path.join(R, 'dangling'));
    fs.symlinkSync('/etc', path.join(R, 'etclink'));
    const hostFile = path.join(WORK, 'hostfile.txt');
    fs.writeFileSync(hostFile, 'host-file-content\n');
    const hostDir = path.join(WORK, 'hostdir');
    fs.mkdirSync(hostDir);
    fs.writeFileSync(path.join(hostDir, 'inner'), 'inner-content\n');
    fs.copyFileSync('/bin/busybox', path.join(hostDir, 'bb'));
    fs.chmodSync(path.join(hostDir, 'bb'), 0o755);
    const out = path.join(WORK, 'hookout');
    fs.mkdirSync(out);
    const listen = await listenSocket('exec1');
    const bounding = capMask('CHOWN', 'DAC_OVERRIDE', 'FSETID', 'FOWNER', 'MKNOD', 'NET_RAW', 'SETGID', 'SETUID', 'SETFCAP', 'SETPCAP', 'NET_BIND_SERVICE', 'SYS_CHROOT', 'KILL', 'AUDIT_WRITE');
    const amb = capMask('NET_BIND_SERVICE');
    const script = [
      'echo "== hostname =="; hostname; cat /proc/sys/kernel/domainname',
      'echo "== id =="; id; echo pid=$$',
      'echo "== status =="; grep -E "^(Cap|Uid|Gid|Groups|NoNewPrivs)" /proc/self/status',
      'echo "== umask =="; umask; pwd; ulimit -n',
      'echo "== fds =="; ls /proc/self/fd',
      'echo "== dev =="; ls -ln /dev',
      'echo "== files =="; cat /etc/hostdata /mnt/data/sub/inner /mnt/etc2/marker; cat /tmp/start-state.json; echo',
      'echo "== masked =="; wc -c < /proc/timer_list; ls -A /proc/acpi | wc -l; (touch /proc/acpi/x) 2>&1',
      'echo "== writes =="; (echo 1 > /proc/sys/net/ipv4/ip_forward) 2>&1; (touch /newfile) 2>&1; (touch /mnt/data/sub/x) 2>&1; cat /proc/sys/net/ipv4/ip_forward',
      'echo "== noexec =="; /mnt/data/sub/bb true 2>&1; echo rc=$?',
      'echo "== mountinfo =="; cat /proc/self/mountinfo',
    ].join('; ');
    const plan = [
      step('CLOEXEC_FROM', U(3)),
      step('UNSHARE', U(CLONE.NEWNS | CLONE.NEWUTS | CLONE.NEWIPC | CLONE.NEWPID | CLONE.NEWNET | CLONE.NEWCGROUP)),
      step('FORK'),
      step('WAIT_PARENT'),
      step('WRITE_FILE', S('/proc/self/oom_score_adj'), S('123')),
      step('MOUNT', S(''), S('/'), S(''), U(MS.SLAVE | MS.REC), S(''), U(0)),
      step('MOUNT', S(R), S(R), S(''), U(MS.BIND | MS.REC), S(''), U(0)),
      step('ROOTFS', S(R)),
      ...standardMounts({ userns: false }),
      // a file bind onto a missing target ("create like the source"), then read-only
      step('MOUNT', S(hostFile), S('/etc/hostdata'), S(''), U(MS.BIND), S(''), U(T | How.MKDIR | How.MKFILE)),
      step('MOUNT', S(''), S('/etc/hostdata'), S(''), U(MS.REMOUNT | MS.BIND | MS.RDONLY), S(''), U(T | How.KEEP_LOCKED)),
      // a directory bind onto missing parents, made read-only + noexec recursively with mount_setattr
      step('MOUNT', S(hostDir), S('/mnt/data/sub'), S(''), U(MS.BIND | MS.REC), S(''), U(T | How.MKDIR | How.MKFILE)),
      step('MOUNT_SETATTR', S('/mnt/data/sub'), U(T), U(MOUNT_ATTR.RDONLY | MOUNT_ATTR.NOEXEC), U(0), U(0), U(1)),
      step('MOUNT', S(''), S('/mnt/data/sub'), S(''), U(MS.PRIVATE), S(''), U(T)),
      // source in root, through an absolute symlink that must resolve inside the rootfs
      step('MOUNT', S('/etclink'), S('/mnt/etc2'), S(''), U(MS.BIND), S(''), U(T | How.SOURCE_IN_ROOT | How.MKDIR)),
      // a symlink pointing far out of the rootfs: the directory is created inside it
      step('MOUNT', S('tmpfs'), S('/escape/escape-sub'), S('tmpfs'), U(0), S('size=1m'), U(T | How.MKDIR)),
      // ignore-missing source and target
      step('MOUNT', S('/nonexistent/source'), S('/mnt/x'), S(''), U(MS.BIND), S(''), U(T | How.IGNORE_MISSING)),
      step('MOUNT', S('tmpfs'), S('/nonexistent/target'), S('tmpfs'), U(0), S(''), U(T | How.IGNORE_MISSING)),
      ...deviceSteps({ userns: false }),
      step('MKNOD', S('/dev/myfifo'), U(S_IFIFO | 0o666), U(0), U(1000), U(1000)),
      step('MKNOD', S('/dev/null'), U(S_IFCHR | 0o600), U(makedev(1, 3)), U(5), U(5)), // exists: left alone
      step('MKDIR', S('/work/dir'), U(0o750)),
      step('SYNC', U(N.SYNC.CREATE_HOOKS)),
      step('RUN_HOOK', S('createContainer hook #0'), S('/bin/sh'),
        V(['sh', '-c', `cat > ${out}/state.json; echo "$FOO" > ${out}/env; ls -d ${R}/dev/pts > ${out}/before-pivot`]), V(['FOO=bar', 'PATH=/usr/bin:/bin']), U(5)),
      step('PIVOT_ROOT'),
      step('MASK', S('/proc/kcore')), // missing on this kernel: skipped
      step('MASK', S('/proc/timer_list')),
      step('MASK', S('/proc/acpi')),
      step('MASK', S('/proc/does-not-exist')),
      step('MOUNT', S('/dev/null'), S('/proc/keys'), S(''), U(MS.BIND), S(''), U(How.IGNORE_MISSING)),
      step('MOUNT', S('/dev/null'), S('/proc/not-there'), S(''), U(MS.BIND), S(''), U(How.IGNORE_MISSING)),
      step('HOSTNAME', S('runts-test')),
      step('DOMAINNAME', S('example.org')),
      step('WRITE_FILE', S('/proc/sys/net/ipv4/ip_forward'), S('1')),
      step('READONLY', S('/proc/sys')),
      step('READONLY', S('/proc/sysrq-trigger')),
      step('READONLY', S('/proc/nope')),
      step('MOUNT', S(''), S('/'), S(''), U(MS.REMOUNT | MS.BIND | MS.RDONLY), S(''), U(How.KEEP_LOCKED)),
      step('RLIMIT', U(7), U(1024), U(2048)),
      step('RLIMIT', U(4), U(-1n), U(-1n)),
      step('PERSONALITY', U(0)),
      step('CAPS_BOUNDING', U(bounding)),
      step('USER', U(1000), U(1000), U(1), W([10, 20])),
      step('CAPS', U(bounding), U(bounding), U(amb), U(amb)),
      step('NO_NEW_PRIVS'),
      step('UMASK', U(0o027)),
      step('CHDIR', S('/work/dir'), U(0)),
      step('LOOKUP', S('sh'), S('/usr/bin:/bin')),
      step('READY'),
      step('WAIT_START', U(4)),
      step('RUN_HOOK', S('startContainer hook #0'), S('/bin/sh'), V(['sh', '-c', 'cat > /tmp/start-state.json']), V([]), U(0)),
      step('EXEC', V(['sh', '-c', script]), V(['PATH=/bin', 'HOME=/root'])),
    ];
    const r = await runStub({ plan, listen, state: { ociVersion: '1.0.2', id: 'c1' } });
    log(r.stdout);
    if (r.stderr) log('stderr:', r.stderr);
    check('no ERROR frame', !r.error && !r.startError, r.error ?? r.startError);
    const types = r.frames.map((f) => f.type);
    check('frames PID, SYNC, READY in order', JSON.stringify(types) === JSON.stringify([Msg.PID, Msg.SYNC, Msg.READY]), JSON.stringify(types));
    check('SYNC code 1', r.syncCode === 1);
    check('stub exited 0 after PID', r.exits.get(r.stubPid)?.code === 0, JSON.stringify([...r.exits]));
    check('start connection closed by exec (EOF, no error)', r.startClosed && !r.startError);
    check('container exited 0', r.exits.get(r.initPid)?.code === 0, JSON.stringify([...r.exits]));
    const o = r.stdout;
    check('hostname and domainname', section(o, 'hostname').trim() === 'runts-test\nexample.org', section(o, 'hostname'));
    check('pid 1 in the new pid namespace', has(section(o, 'id'), 'pid=1'), section(o, 'id'));
    check('uid, gid and groups', has(section(o, 'id'), /uid=1000\(user\) gid=1000\(user\) groups=10,20$/m), section(o, 'id'));
    const st = section(o, 'status');
    check('CapBnd is the kept set', has(st, `CapBnd:\t${hex16(bounding)}`), st);
    check('CapAmb/CapInh/CapEff = NET_BIND_SERVICE (ambient across exec as uid 1000)',
      has(st, `CapAmb:\t${hex16(amb)}`) && has(st, `CapInh:\t${hex16(amb)}`) && has(st, `CapEff:\t${hex16(amb)}`) && has(st, `CapPrm:\t${hex16(amb)}`), st);
    check('NoNewPrivs', has(st, /NoNewPrivs:\s+1/), st);
    check('Uid/Gid all 1000', has(st, /Uid:\s+1000\s+1000\s+1000\s+1000/) && has(st, /Gid:\s+1000\s+1000\s+1000\s+1000/), st);
    const um = section(o, 'umask').trim().split('\n');
    check('umask 0027, cwd /work/dir, RLIMIT_NOFILE 1024', um[0] === '0027' && um[1] === '/work/dir' && um[2] === '1024', um.join('|'));
    check('only fds 0, 1, 2 (+ ls own dir fd) reach the container', section(o, 'fds').trim().split('\n').join(' ') === '0 1 2 3', section(o, 'fds'));
    const dev = section(o, 'dev');
    check('device nodes with mode and owner', has(dev, /crw-rw-rw-\s+1 0\s+0\s+1,\s+3 .* null/) && has(dev, /crw-rw-rw-\s+1 0\s+0\s+5,\s+0 .* tty/), dev);
    check('fifo 0666 (umask did not reduce it), owned by 1000:1000', has(dev, /prw-rw-rw-\s+1 1000\s+1000 .* myfifo/), dev);
    check('dev symlinks', has(dev, /ptmx -> pts\/ptmx/) && has(dev, /fd -> \/proc\/self\/fd/), dev);
    const files = section(o, 'files');
    check('file bind, dir bind, source in root via symlink', has(files, 'host-file-content') && has(files, 'inner-content') && has(files, 'rootfs-etc-marker'), files);
    const st1 = JSON.parse(fs.readFileSync(path.join(out, 'state.json'), 'utf8'));
    check('createContainer hook got the state from the last ACK on stdin', st1.pid === r.initPid && st1.status === 'created', JSON.stringify(st1));
    check('createContainer hook env', fs.readFileSync(path.join(out, 'env'), 'utf8') === 'bar\n');
    check('createContainer hook ran before pivot_root', fs.existsSync(path.join(out, 'before-pivot')));
    check('startContainer hook got the state', has(files, `"pid":${r.initPid}`), files);
    check('masked file reads empty, masked dir is an empty read-only tmpfs', /^0\n0\n.*Read-only file system$/.test(section(o, 'masked').trim()), section(o, 'masked'));
    const wr = section(o, 'writes');
    check('sysctl written before READONLY (ip_forward=1); writes to /proc/sys, / and the ro bind fail', wr.trim().split('\n').length === 4 && /\n1$/.test(wr.trim()), wr);
    check('noexec by mount_setattr', has(section(o, 'noexec'), /Permission denied[\s\S]*rc=126/), section(o, 'noexec'));
    const mi = section(o, 'mountinfo');
    check('mountinfo: / ro', has(mi, / \/ ro[,\s]/), mi);
    check('mountinfo: /proc/sys ro,nosuid,nodev,noexec', has(mi, / \/proc\/sys ro,nosuid,nodev,noexec/), mi);
    check('mountinfo: /proc/timer_list and /proc/keys masked by /dev/null, /proc/acpi by tmpfs ro', has(mi, /\/null \/proc\/timer_list /) && has(mi, /\/null \/proc\/keys /) && has(mi, / \/proc\/acpi ro[, ].* - tmpfs /), mi);
    check('mountinfo: /mnt/data/sub ro,noexec', has(mi, / \/mnt\/data\/sub ro,[^ ]*noexec/), mi);
    check('mountinfo: /etc/hostdata ro', has(mi, / \/etc\/hostdata ro[, ]/), mi);
    const points = mi.trim().split('\n').map((l) => l.split(' ')[4]);
    check('mountinfo: nothing of the host root left (pivot_root detached it)', points[0] === '/' && !points.some((p) => p.startsWith(WORK) || p.includes('sandboxing')), points.join(' '));
    check('escape symlink resolved inside the rootfs', !fs.existsSync('/opt/escape-sub') && fs.existsSync(path.join(R, 'opt/escape-sub')));
    check('MKDIR created /work/dir', fs.statSync(path.join(R, 'work/dir')).isDirectory());
    check('no mounts leaked to the host', hostMountsOf(R).length === 0, hostMountsOf(R).join('\n'));
  });

  // ---------------------------------------------------------------------------------------------------------
  await test('container in a user namespace: USERMAP, SETID_ROOT, BIND_DEVICE, locked flags', async () => {
    const R = path.join(WORK, 'rootfs-userns');
    makeRootfs(R, 100000);
    const listen = await listenSocket('exec2');
    const script = [
      'echo "== maps =="; cat /proc/self/uid_map /proc/self/gid_map',
      'echo "== id =="; id; echo pid=$$',
      'echo "== dev =="; ls -ln /dev; echo hi > /dev/null && echo devnull-ok; head -c 4 /dev/zero | wc -c',
      'echo "== writes =="; (touch /newfile) 2>&1; (echo 1 > /proc/sys/kernel/ns_last_pid) 2>&1',
      'echo "== mountinfo =="; cat /proc/self/mountinfo',
    ].join('; ');
    const plan = [
      step('CLOEXEC_FROM', U(3)),
      step('UNSHARE', U(CLONE.NEWUSER)),
      step('USERMAP'),
      step('SETID_ROOT'),
      step('UNSHARE', U(CLONE.NEWNS | CLONE.NEWUTS | CLONE.NEWIPC | CLONE.NEWPID | CLONE.NEWNET)),
      step('FORK'),
      step('WAIT_PARENT'),
      step('MOUNT', S(''), S('/'), S(''), U(MS.SLAVE | MS.REC), S(''), U(0)),
      step('MOUNT', S(R), S(R), S(''), U(MS.BIND | MS.REC), S(''), U(0)),
      step('ROOTFS', S(R)),
      ...standardMounts({ userns: true }),
      ...deviceSteps({ userns: true }),
      step('PIVOT_ROOT'),
      step('MASK', S('/proc/timer_list')),
      step('MASK', S('/proc/acpi')),
      step('READONLY', S('/proc/sys')),
      step('MOUNT', S(''), S('/'), S(''), U(MS.REMOUNT | MS.BIND | MS.RDONLY), S(''), U(How.KEEP_LOCKED)),
      step('HOSTNAME', S('userns')),
      step('USER', U(0), U(0), U(1), W([])),
      step('LOOKUP', S('/bin/sh'), S('')),
      step('READY'),
      step('WAIT_START', U(4)),
      step('EXEC', V(['sh', '-c', script]), V(['PATH=/bin'])),
    ];
    const r = await runStub({ plan, listen, maps: { uid: '0 100000 65536\n', gid: '0 100000 65536\n' } });
    log(r.stdout);
    check('no ERROR frame', !r.error && !r.startError, r.error ?? r.startError);
    check('frames USERMAP_REQ, PID, READY', JSON.stringify(r.frames.map((f) => f.type)) === JSON.stringify([Msg.USERMAP_REQ, Msg.PID, Msg.READY]), JSON.stringify(r.frames.map((f) => f.type)));
    check('container exited 0', r.exits.get(r.initPid)?.code === 0, JSON.stringify([...r.exits]) + r.stderr);
    const o = r.stdout;
    check('uid_map/gid_map', has(section(o, 'maps'), /^\s*0\s+100000\s+65536\n\s*0\s+100000\s+65536/), section(o, 'maps'));
    check('root in the namespace, pid 1', has(section(o, 'id'), /uid=0\(root\) gid=0\(root\)/) && has(section(o, 'id'), 'pid=1'), section(o, 'id'));
    const dev = section(o, 'dev');
    check('bound host devices (nobody-owned host nodes), usable', has(dev, /crw-rw-rw-\s+1 65534\s+65534\s+1,\s+3 .* null/) && has(dev, 'devnull-ok') && has(dev, /^4$/m), dev);
    check('/ and /proc/sys read-only in the user namespace', has(section(o, 'writes'), /Read-only file system[\s\S]*Read-only file system/), section(o, 'writes'));
    const mi = section(o, 'mountinfo');
    check('mountinfo: /proc/sys ro,nosuid,nodev,noexec (locked flags kept)', has(mi, / \/proc\/sys ro,nosuid,nodev,noexec/), mi);
    check('mountinfo: /dev/null bind', has(mi, / \/dev\/null rw/), mi);
    check('mountinfo: masks in the user namespace', has(mi, /\/null \/proc\/timer_list /) && has(mi, / \/proc\/acpi ro[, ].* - tmpfs /), mi);
    check('no mounts leaked to the host', hostMountsOf(R).length === 0);
  });

  // ---------------------------------------------------------------------------------------------------------
  await test('terminal: CONSOLE with MOVE_ROOT (--no-pivot)', async () => {
    const R = path.join(WORK, 'rootfs-console');
    makeRootfs(R);
    const csock = path.join(WORK, 'console.sock');
    const helper = spawn(HELPERS, ['console', csock], { stdio: ['ignore', 'pipe', 'inherit'] });
    let hout = '';
    await new Promise((res) => helper.stdout.on('data', (d) => { hout += d; if (hout.includes('ready\n')) res(); }));
    const helperDone = new Promise((res) => helper.on('exit', res));
    const conn = net.connect(csock);
    await new Promise((res) => conn.on('connect', res));
    const listen = await listenSocket('exec3');
    const plan = [
      step('CLOEXEC_FROM', U(3)),
      step('UNSHARE', U(CLONE.NEWNS | CLONE.NEWUTS | CLONE.NEWIPC | CLONE.NEWPID)),
      step('FORK'),
      step('WAIT_PARENT'),
      step('MOUNT', S(''), S('/'), S(''), U(MS.PRIVATE | MS.REC), S(''), U(0)),
      step('MOUNT', S(R), S(R), S(''), U(MS.BIND | MS.REC), S(''), U(0)),
      step('ROOTFS', S(R)),
      ...standardMounts({ userns: false }),
      ...deviceSteps({ userns: false }),
      step('MOVE_ROOT'),
      step('CONSOLE', U(5), U(24), U(80), U(1), U(0)),
      step('LOOKUP', S('sh'), S('')),
      step('READY'),
      step('WAIT_START', U(4)),
      step('EXEC', V(['sh', '-c', 'tty; stty size; ls -l /dev/console | cut -c1; grep " /dev/console " /proc/self/mountinfo | cut -d" " -f4,5; echo pid=$$']), V(['PATH=/bin', 'TERM=xterm'])),
    ];
    const r = await runStub({ plan, listen, consoleFd: conn._handle.fd });
    conn.destroy();
    await helperDone;
    log(hout);
    check('no ERROR frame', !r.error && !r.startError, r.error ?? r.startError);
    check('master received with the slave name', has(hout, /console \/dev\/pts\/0\n/), hout);
    check('stdio is the pty', has(hout, '/dev/pts/0\r\n'), hout);
    check('window size 24x80', has(hout, '24 80'), hout);
    check('/dev/console is a bind of /dev/pts/0', has(hout, /\/0 \/dev\/console/), hout);
    check('container exited 0', r.exits.get(r.initPid)?.code === 0, JSON.stringify([...r.exits]));
  });

  // ---------------------------------------------------------------------------------------------------------
  await test('time namespace, joining a namespace by path, preserved fds', async () => {
    const hostUp = Number(fs.readFileSync('/proc/uptime', 'utf8').split(' ')[0]);
    const r = await runStub({ plan: [
      step('CLOEXEC_FROM', U(3)),
      step('UNSHARE', U(0x80)),
      step('TIMENS_OFFSETS', S('monotonic 1000 0\nboottime 2000 0')),
      step('FORK'), step('WAIT_PARENT'),
      step('LOOKUP', S('cat'), S('/usr/bin:/bin')),
      step('EXEC', V(['cat', '/proc/uptime']), V([])),
    ] });
    const up = Number(r.stdout.split(' ')[0]);
    check('boottime offset of 2000s seen in the container', !r.error && up - hostUp > 1990 && up - hostUp < 2010, `${r.error} host ${hostUp} container ${up}`);

    const other = spawn('unshare', ['-u', 'sh', '-c', 'hostname other-uts; echo ok; exec sleep 30'], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise((res) => other.stdout.once('data', res));
    try {
      const r2 = await runStub({ plan: [step('SETNS', S(`/proc/${other.pid}/ns/uts`), U(CLONE.NEWUTS)), step('EXEC', V(['/bin/hostname']), V([]))] });
      check('SETNS joined the uts namespace of another process', !r2.error && r2.stdout.trim() === 'other-uts', `${r2.error} ${r2.stdout}`);
    } finally {
      other.kill('SIGKILL');
    }

    const file = path.join(WORK, 'preserved.txt');
    fs.writeFileSync(file, '');
    const pfd = fs.openSync(file, 'r');
    const r3 = await runStub({ preserveFd: pfd, plan: [
      step('CLOEXEC_FROM', U(4)),
      step('EXEC', V(['/bin/sh', '-c', 'readlink /proc/self/fd/3; readlink /proc/self/fd/4 || echo no-fd-4']), V([])),
    ] });
    fs.closeSync(pfd);
    check('fd 3 preserved, the sync socket at 4 is not inherited', !r3.error && r3.stdout === `${file}\nno-fd-4\n`, `${r3.error} ${JSON.stringify(r3.stdout)}`);
  });

  await test('UMOUNT: rslave + detach, a missing path skipped, a locked mount (user namespace) covered with a tmpfs', async () => {
    const a = path.join(WORK, 'um-a'); // a full proc mount: detached
    const b = path.join(WORK, 'um-b'); // a bind that becomes locked in the user namespace: umount gives EINVAL
    const src = path.join(WORK, 'um-src');
    for (const d of [a, b, src]) fs.mkdirSync(d);
    fs.writeFileSync(path.join(src, 'bound'), 'x');
    const lockedB = [
      step('UNSHARE', U(CLONE.NEWNS)),
      step('MOUNT', S(''), S('/'), S(''), U(MS.SLAVE | MS.REC), S(''), U(0)),
      step('MOUNT', S('proc'), S(a), S('proc'), U(0), S(''), U(0)),
      step('MOUNT', S(src), S(b), S(''), U(MS.BIND), S(''), U(0)),
      step('UMOUNT', S(a), U(0)),
      step('UMOUNT', S(path.join(WORK, 'um-missing')), U(0)),
      step('UNSHARE', U(CLONE.NEWUSER)), step('USERMAP'), step('SETID_ROOT'),
      step('UNSHARE', U(CLONE.NEWNS)),
    ];
    const maps = { uid: '0 0 65536\n', gid: '0 0 65536\n' };
    const r = await runStub({ maps, plan: [
      ...lockedB,
      step('UMOUNT', S(b), U(1)),
      step('LOOKUP', S('/bin/sh'), S('')),
      step('EXEC', V(['/bin/sh', '-c', `grep -c " ${a} " /proc/self/mountinfo; grep " ${b} " /proc/self/mountinfo | cut -d" " -f9 | tail -1; ls ${b}`]), V([])),
    ] });
    check('no ERROR frame', !r.error, r.error);
    check('proc detached, the locked bind covered by a tmpfs', r.stdout === '0\ntmpfs\n', JSON.stringify(r.stdout));
    const r2 = await runStub({ maps, plan: [...lockedB, step('UMOUNT', S(b), U(0))] });
    check('without the cover bit a refused unmount is an error', r2.error === `unmount ${b}: invalid argument`, r2.error);
    check('nothing leaked to the host', hostMountsOf(WORK + '/um-').length === 0);
  });

  await test('plans built by src/plan/build.ts (best effort: skipped when it does not compile)', async () => {
    const out = path.join(WORK, 'tsbuild');
    const tsc = path.join(REPO, 'node_modules', '.bin', 'tsc');
    try {
      execFileSync(tsc, ['--outDir', out, '--module', 'commonjs', '--target', 'es2022', '--skipLibCheck', '--esModuleInterop', '--types', 'node',
        path.join(REPO, 'src/plan/build.ts')], { stdio: 'pipe' });
    } catch (e) { console.log(`  skip: src/plan/build.ts does not compile: ${String(e.stdout ?? e).split('\n')[0]}`); return; }
    fs.writeFileSync(path.join(out, 'package.json'), '{"type":"commonjs"}');
    const { createRequire } = await import('node:module');
    const req = createRequire(import.meta.url);
    // the compiled copy lives elsewhere: point its addon loader (the cgroup layout's statfs checks) at the build
    process.env.RUNTS_NATIVE_ADDON ??= path.join(REPO, 'native', 'addon', 'build', 'Release', 'runts_native.node');
    const build = req(path.join(out, 'plan', 'build.js'));
    const { encodePlan: tsEncode } = req(path.join(out, 'plan', 'encode.js'));
    const example = JSON.parse(fs.readFileSync(path.join(REPO, 'examples', 'busybox', 'config.json'), 'utf8'));
    const hookOut = path.join(WORK, 'ts-hook-out');
    fs.mkdirSync(hookOut);
    fs.chmodSync(hookOut, 0o777); // written by the hook as root of the user namespace (uid 100000 outside)
    const bindSrc = path.join(WORK, 'ts-bind');
    fs.mkdirSync(bindSrc);
    fs.writeFileSync(path.join(bindSrc, 'f'), 'bound\n');

    const variants = [
      { name: 'root', userns: false },
      { name: 'user namespace', userns: true },
    ];
    for (const v of variants) {
      const bundle = path.join(WORK, `ts-bundle-${v.userns ? 'userns' : 'root'}`);
      const R = path.join(bundle, 'rootfs');
      fs.mkdirSync(bundle);
      fs.chmodSync(bundle, 0o755);
      makeRootfs(R, v.userns ? 100000 : undefined);
      const spec = JSON.parse(JSON.stringify(example));
      spec.process.args = ['sh', '-c', 'echo "== out =="; hostname; id -u; grep -E "^Cap(Bnd|Eff)" /proc/self/status; cat /data/f; (touch /x) 2>&1; cat /proc/self/mountinfo | cut -d" " -f5 | sort | tr "\\n" " "'];
      spec.mounts.push({ destination: '/data', type: 'bind', source: bindSrc, options: ['rbind', 'ro'] });
      spec.hooks = {
        createContainer: [{ path: '/bin/sh', args: ['sh', '-c', `cat > ${hookOut}/${v.userns ? 'u' : 'r'}.json`] }],
        startContainer: [{ path: '/bin/true' }],
      };
      if (v.userns) {
        spec.linux.namespaces.push({ type: 'user' });
        spec.linux.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
        spec.linux.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
        spec.mounts = spec.mounts.filter((m) => m.type !== 'cgroup');
      }
      const listen = await listenSocket(`ts-${v.userns ? 'u' : 'r'}`);
      const memfd = fs.openSync('/dev/null', 'r');
      let plan;
      try {
        plan = build.buildPlan(spec, { bundle, rootfs: R, noPivot: false, fds: { preserve: 0, sync: 3, listen: 4, memfd: 5 } });
      } catch (e) { check(`${v.name}: buildPlan`, false, e.stack); continue; }
      log(plan.steps.map((st) => st.op).join(' '));
      const maps = { uid: '0 100000 65536\n', gid: '0 100000 65536\n' };
      const r = await runStub({ raw: frame(Msg.PLAN, tsEncode(plan.steps)), listen, consoleFd: memfd, maps });
      fs.closeSync(memfd);
      log(r.stdout);
      check(`${v.name}: no ERROR frame`, !r.error && !r.startError, r.error ?? r.startError);
      check(`${v.name}: container exited 0`, r.exits.get(r.initPid)?.code === 0, JSON.stringify([...r.exits]));
      const o = section(r.stdout, 'out');
      check(`${v.name}: hostname, bound file, read-only root`, has(o, /^runts\n0\n/) && has(o, 'bound') && has(o, 'Read-only file system'), o);
      check(`${v.name}: capabilities`, has(o, 'CapBnd:\t0000000020000420') && has(o, 'CapEff:\t0000000020000420'), o);
      check(`${v.name}: createContainer hook ran`, fs.existsSync(path.join(hookOut, `${v.userns ? 'u' : 'r'}.json`)));
      check(`${v.name}: no mounts leaked to the host`, hostMountsOf(bundle).length === 0);
    }
  });

  await test('signals while waiting for start', async () => {
    const listen = await listenSocket('exec4');
    const plan = [
      step('CLOEXEC_FROM', U(3)),
      step('UNSHARE', U(CLONE.NEWPID | CLONE.NEWNS)),
      step('FORK'),
      step('WAIT_PARENT'),
      step('READY'),
      step('WAIT_START', U(4)),
      step('EXEC', V(['/bin/true']), V([])),
    ];
    const r = await runStub({
      plan, listen,
      afterReady: async (run) => { await new Promise((res) => setTimeout(res, 200)); process.kill(run.initPid, 'SIGTERM'); },
    });
    check('pid 1 of a pid namespace exits 143 on SIGTERM from outside', r.exits.get(r.initPid)?.code === 143, JSON.stringify([...r.exits]));
  });

  // ---------------------------------------------------------------------------------------------------------
  await test('CHDIR: what a refused chdir means is in the step (no state of the stub)', async () => {
    // a directory only root may enter (mode 0700): uid 1000 gets EACCES
    const dir = path.join(WORK, 'chdir-private');
    fs.mkdirSync(dir, { mode: 0o700 });
    fs.chmodSync(dir, 0o700);
    const user = step('USER', U(1000), U(1000), U(1), W([]));
    const pwd = step('EXEC', V(['/bin/sh', '-c', 'pwd']), V(['PATH=/bin:/usr/bin']));
    const run = async (name, plan, want) => {
      const r = await runStub({ plan });
      if (want instanceof RegExp || want.startsWith('chdir ')) {
        check(`${name}: error`, typeof want === 'string' ? r.error === want : want.test(r.error ?? ''), `got: ${r.error}`);
        check(`${name}: exit status 1`, r.exits.get(r.stubPid)?.code === 1, JSON.stringify([...r.exits]));
      } else {
        check(`${name}: no error`, !r.error, r.error);
        check(`${name}: cwd ${want}`, r.stdout === `${want}\n`, `stdout: ${r.stdout} stderr: ${r.stderr}`);
      }
    };
    const denied = `chdir ${dir}: permission denied`;
    // runc's order as the planner writes it: as root first, again as the user
    await run('before USER, then again after it', [step('CHDIR', S(dir), U(ChdirHow.REFUSAL_OK)), user, step('CHDIR', S(dir), U(ChdirHow.SAME_OK)), pwd], dir);
    // REFUSAL_OK skips a refusal also after USER: the step says so, not whether USER ran
    await run('REFUSAL_OK after USER: skipped', [user, step('CHDIR', S(dir), U(ChdirHow.REFUSAL_OK)), pwd], process.cwd());
    await run('no flag after USER: refused', [user, step('CHDIR', S(dir), U(0))], denied);
    // SAME_OK only where the cwd already is that directory
    await run('SAME_OK elsewhere: refused', [user, step('CHDIR', S(dir), U(ChdirHow.SAME_OK))], denied);
    await run('no flag when already there: refused', [step('CHDIR', S(dir), U(0)), user, step('CHDIR', S(dir), U(0))], denied);
    // a refusal is the only thing the flags forgive
    await run('REFUSAL_OK and a missing directory', [step('CHDIR', S(path.join(WORK, 'nope')), U(ChdirHow.REFUSAL_OK | ChdirHow.SAME_OK))],
      `chdir ${path.join(WORK, 'nope')}: no such file or directory`);
  });

  await test('error messages', async () => {
    const E = async (name, plan, want, extra = {}) => {
      const r = await runStub({ plan, ...extra });
      const got = extra.listen ? r.startError : r.error;
      const ok = typeof want === 'string' ? got === want : want.test(got ?? '');
      check(`${name}: ${typeof want === 'string' ? want : want.source}`, ok, `got: ${got}`);
      const pid = r.initPid || r.stubPid;
      check(`${name}: exit status 1`, r.exits.get(pid)?.code === 1, JSON.stringify([...r.exits]));
      return r;
    };
    const priv = [step('UNSHARE', U(CLONE.NEWNS)), step('MOUNT', S(''), S('/'), S(''), U(MS.SLAVE | MS.REC), S(''), U(0))];
    await E('mount of an unknown fstype', [...priv, step('MOUNT', S(''), S('/mnt'), S('nosuchfs'), U(0), S(''), U(0))], 'mount nosuchfs on /mnt: no such device');
    await E('mount of proc without permission', [
      step('UNSHARE', U(CLONE.NEWUSER)), step('MOUNT', S('proc'), S('/proc'), S('proc'), U(0), S(''), U(0)),
    ], 'mount proc on /proc: operation not permitted');
    await E('LOOKUP of a missing path', [step('LOOKUP', S('/bin/nope'), S(''))], 'exec "/bin/nope": no such file or directory');
    await E('LOOKUP in PATH', [step('LOOKUP', S('nosuchcommand'), S('/usr/bin:/bin'))], 'exec: "nosuchcommand": executable file not found in $PATH');
    await E('LOOKUP of a non-executable', [step('LOOKUP', S(path.join(WORK, 'rootfs/etc/not-executable')), S(''))], `exec "${path.join(WORK, 'rootfs/etc/not-executable')}": permission denied`);
    await E('EXEC failure', [step('EXEC', V([path.join(WORK, 'rootfs/etc/not-executable')]), V([]))], `exec "${path.join(WORK, 'rootfs/etc/not-executable')}": permission denied`);
    await E('SETNS', [step('SETNS', S('/proc/1/ns/nope'), U(0))], 'join namespace at /proc/1/ns/nope: no such file or directory');
    await E('CHDIR', [step('CHDIR', S('/nope'), U(0))], 'chdir /nope: no such file or directory');
    await E('RLIMIT', [step('RLIMIT', U(7), U(100), U(10))], 'setrlimit RLIMIT_NOFILE: invalid argument');
    await E('RLIMIT raise as non-root', [step('USER', U(1000), U(1000), U(1), W([])), step('RLIMIT', U(7), U(-1n), U(-1n))], 'setrlimit RLIMIT_NOFILE: operation not permitted');
    await E('setresuid without privilege', [step('USER', U(1000), U(1000), U(1), W([])), step('USER', U(0), U(0), U(0), W([]))], 'setresgid 0: operation not permitted');
    await E('capset beyond permitted', [step('CAPS', U(0), U(capMask('KILL')), U(0), U(0)), step('CAPS', U(capMask('SYS_ADMIN')), U(capMask('SYS_ADMIN')), U(0), U(0))], 'capset: operation not permitted');
    await E('drop from the bounding set without CAP_SETPCAP', [step('CAPS', U(0), U(0), U(0), U(0)), step('CAPS_BOUNDING', U(0))], 'drop CAP_CHOWN from the bounding set: operation not permitted');
    await E('UNSHARE', [step('USER', U(1000), U(1000), U(1), W([])), step('UNSHARE', U(CLONE.NEWNS | CLONE.NEWNET))], 'unshare mnt,net: operation not permitted');
    await E('sethostname outside a uts namespace owned by us', [step('UNSHARE', U(CLONE.NEWUSER)), step('HOSTNAME', S('x'))], 'sethostname: operation not permitted');
    await E('WRITE_FILE after READONLY /proc/sys (order of ARCHITECTURE.md steps 8/9)', [
      step('UNSHARE', U(CLONE.NEWNS | CLONE.NEWNET)), step('MOUNT', S(''), S('/'), S(''), U(MS.SLAVE | MS.REC), S(''), U(0)),
      step('READONLY', S('/proc/sys')), step('WRITE_FILE', S('/proc/sys/net/ipv4/ip_forward'), S('1')),
    ], 'write /proc/sys/net/ipv4/ip_forward: read-only file system');
    const fake = path.join(WORK, 'fake-hostname');
    fs.writeFileSync(fake, 'x');
    await E('WRITE_FILE under /proc/ on another filesystem', [...priv,
      step('MOUNT', S(fake), S('/proc/sys/kernel/hostname'), S(''), U(MS.BIND), S(''), U(0)),
      step('WRITE_FILE', S('/proc/sys/kernel/hostname'), S('evil')),
    ], 'write /proc/sys/kernel/hostname: not on procfs');
    check('the fake file was not written', fs.readFileSync(fake, 'utf8') === 'x');
    await E('MKNOD without ROOTFS', [step('MKNOD', S('/dev/x'), U(S_IFCHR | 0o666), U(makedev(1, 3)), U(0), U(0))], /^plan: MKNOD: a path in the rootfs is used before ROOTFS$/);
    await E('mkdir through a file', [...priv, step('ROOTFS', S(path.join(WORK, 'rootfs'))),
      step('MOUNT', S('tmpfs'), S('/etc/marker/sub'), S('tmpfs'), U(0), S(''), U(T | How.MKDIR))], 'mkdir /etc/marker: not a directory');
    // a symlink to a missing path is followed and that path created (test/integration/rootfs.test.ts); through a file it fails
    fs.symlinkSync('/etc/marker/x', path.join(WORK, 'rootfs', 'dangling-file'));
    await E('mkdir through a symlink onto a file', [...priv, step('ROOTFS', S(path.join(WORK, 'rootfs'))),
      step('MKDIR', S('/dangling-file/sub'), U(0o755))], 'mkdir /dangling-file: not a directory');
    await E('SYMLINK parent is a file', [...priv, step('ROOTFS', S(path.join(WORK, 'rootfs'))),
      step('SYMLINK', S('x'), S('/etc/marker/link'))], 'symlink x /etc/marker/link: not a directory');
    await E('hook exit status', [step('RUN_HOOK', S('createContainer hook #0'), S('/bin/sh'), V(['sh', '-c', 'echo some output; echo boom >&2; exit 3']), V([]), U(0))],
      'createContainer hook #0: exit status 3: some output\nboom');
    await E('hook timeout', [step('RUN_HOOK', S('h1'), S('/bin/sleep'), V(['sleep', '10']), V([]), U(1))], 'h1: timed out after 1s');
    await E('hook killed', [step('RUN_HOOK', S('h2'), S('/bin/sh'), V(['sh', '-c', 'kill -9 $$']), V([]), U(0))], 'h2: killed by signal 9');
    await E('hooks do not inherit the sync socket (no CLOEXEC_FROM step)', [step('RUN_HOOK', S('h5'), S('/bin/sh'), V(['sh', '-c', 'ls -l /proc/self/fd | grep -c socket; exit 7']), V([]), U(0))], 'h5: exit status 7: 0');
    await E('hook missing', [step('RUN_HOOK', S('h3'), S('/nonexistent/hook'), V(['x']), V([]), U(0))], 'h3: exec /nonexistent/hook: no such file or directory');
    // a big state that the hook never reads must not block us
    await E('hook ignoring a large stdin', [step('WAIT_PARENT'), step('RUN_HOOK', S('h4'), S('/bin/sh'), V(['sh', '-c', 'exit 4']), V([]), U(5))], 'h4: exit status 4', {
      raw: Buffer.concat([frame(Msg.PLAN, encodePlan([step('WAIT_PARENT'), step('RUN_HOOK', S('h4'), S('/bin/sh'), V(['sh', '-c', 'exit 4']), V([]), U(5))])), frame(Msg.ACK, Buffer.alloc(1 << 20, 0x41))]),
    });
    const listen = await listenSocket('exec5');
    await E('errors after WAIT_START go to the start connection', [
      step('CLOEXEC_FROM', U(3)), step('READY'), step('WAIT_START', U(4)),
      step('RUN_HOOK', S('startContainer hook #0'), S('/bin/false'), V(['false']), V([]), U(0)),
    ], 'startContainer hook #0: exit status 1', { listen });
    // SECCOMP: U64 default action, U64V archs, U64 flags, STRV names, U64V rules, U64 enosys, STRV bound names
    const ALLOW = 0x7fff0000, EPERM_ = 0x00050001;
    const seccomp = (def, names, rules, flags = 0) => step('SECCOMP', U(def), W([]), U(flags), V(names), W(rules), U(0), V([]));
    await E('SECCOMP rules that do not add up', [seccomp(ALLOW, ['mkdir'], [2, EPERM_, 0])], 'plan: SECCOMP: rules truncated or out of range');
    await E('SECCOMP names without rules', [seccomp(ALLOW, ['mkdir', 'rmdir'], [1, EPERM_, 0])], 'plan: SECCOMP: 2 syscall names but rules for 1');
    await E('SECCOMP with a bad operator', [seccomp(ALLOW, ['mkdir'], [1, EPERM_, 1, 0, 1, 0, 9])], 'plan: SECCOMP: condition out of range');
    await E('SECCOMP with an invalid default action', [seccomp(0x12345678, [], [])], 'seccomp: invalid default action 0x12345678');
    await E('SECCOMP with WAIT_KILLABLE_RECV', [seccomp(ALLOW, [], [], 32)], /^seccomp: SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV is not supported by libseccomp/);
    await E('SECCOMP_LOAD without SECCOMP', [step('SECCOMP_LOAD')], 'plan: SECCOMP_LOAD without SECCOMP');
    await E('SECCOMP twice', [seccomp(ALLOW, [], []), seccomp(ALLOW, [], [])], 'plan: SECCOMP: a filter is already waiting for SECCOMP_LOAD');
    await E('SECCOMP without no_new_privs or CAP_SYS_ADMIN', [step('USER', U(1000), U(1000), U(1), W([])), seccomp(ALLOW, ['mkdir'], [1, EPERM_, 0]), step('SECCOMP_LOAD')],
      'seccomp: load the filter: permission denied');
    const sr = await runStub({ plan: [step('NO_NEW_PRIVS'), seccomp(ALLOW, ['no_such_syscall', 'mkdir', 'mkdirat'], [3, EPERM_, 0]), step('SECCOMP_LOAD'),
      step('EXEC', V(['/bin/mkdir', path.join(WORK, 'seccomp-dir')]), V([]))] });
    check('SECCOMP: an unknown name is skipped, mkdir is refused with EPERM', !sr.error && sr.exits.get(sr.stubPid)?.code === 1 &&
      /Operation not permitted/.test(sr.stderr) && !fs.existsSync(path.join(WORK, 'seccomp-dir')), `${sr.error} ${sr.stderr} ${JSON.stringify([...sr.exits])}`);
    await E('unknown op', [step('READY'), { op: 99, args: [] }], 'plan: unknown op 99');
    // plan format errors
    const bad = async (name, raw, want) => {
      const r = await runStub({ raw });
      check(`${name}: ${want}`, r.error === want, `got: ${r.error}`);
      check(`${name}: nothing ran`, r.frames.length === 1);
    };
    const good = encodePlan([step('CHDIR', S('/'), U(0))]);
    await bad('truncated header', frame(Msg.PLAN, Buffer.from('RTPL')), 'plan: truncated');
    await bad('bad magic', frame(Msg.PLAN, Buffer.from('XXXX\x01\x00\x00\x00')), 'plan: bad magic');
    await bad('bad version', frame(Msg.PLAN, Buffer.concat([Buffer.from('RTPL'), u32(2)])), 'plan: unsupported version 2');
    await bad('truncated step', frame(Msg.PLAN, good.subarray(0, good.length - 3)), 'plan: truncated');
    await bad('truncated string', frame(Msg.PLAN, Buffer.concat([Buffer.from('RTPL'), u32(1), u32(Op.CHDIR), u32(6), u32(9), Buffer.from('/x')])), 'plan: step 0 (CHDIR): truncated');
    await bad('string without NUL', frame(Msg.PLAN, Buffer.concat([Buffer.from('RTPL'), u32(1), u32(Op.CHDIR), u32(7), u32(2), Buffer.from('/xy')])), 'plan: step 0 (CHDIR): string is not NUL-terminated');
    await bad('trailing bytes', frame(Msg.PLAN, Buffer.concat([Buffer.from('RTPL'), u32(1), u32(Op.READY), u32(1), Buffer.from('z')])), 'plan: step 0 (READY): trailing bytes in the payload');
    await bad('huge vector count', frame(Msg.PLAN, Buffer.concat([Buffer.from('RTPL'), u32(1), u32(Op.EXEC), u32(8), u32(0xffffffff), u32(0)])), 'plan: step 0 (EXEC): truncated');
    await bad('wrong first frame', frame(Msg.ACK), 'sync: expected PLAN, got message 3');
    // ABORT: exit 1 without a message
    const r = await runStub({ plan: [step('FORK'), step('WAIT_PARENT'), step('CHDIR', S('/nope'), U(0))], abortOn: Msg.PID });
    check('ABORT: exit 1, no ERROR frame', r.exits.get(r.initPid)?.code === 1 && !r.error, JSON.stringify([...r.exits]) + r.error);
    // EOF on the sync socket: exit 1
    const r2 = await runStub({ plan: [step('FORK'), step('WAIT_PARENT'), step('CHDIR', S('/nope'), U(0))], closeOn: Msg.PID });
    check('EOF instead of ACK: exit 1, no ERROR frame', r2.exits.get(r2.initPid)?.code === 1 && !r2.error, JSON.stringify([...r2.exits]) + r2.error);
    const r3 = await runStub({ plan: [step('FORK'), step('WAIT_PARENT')] });
    check('a plan without EXEC: exit 0 at its end', r3.exits.get(r3.initPid)?.code === 0, JSON.stringify([...r3.exits]));
  });

  await test('cleanup', async () => {
    const after = hostMountPoints();
    check('host mount table unchanged', after === hostMountsBefore, `${hostMountsBefore} -> ${after}`);
    check('no leftover processes running the stub', execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' }).split('\n').filter((l) => l.startsWith(STUB)).length === 0);
  });
}

try {
  await main();
} finally {
  for (const c of cleanups) try { c(); } catch { /* ignore */ }
  try { fs.rmSync(WORK, { recursive: true, force: true }); } catch (e) { console.error(`cleanup of ${WORK}: ${e.message}`); }
}
const failed = results.filter((r) => !r.ok);
console.log(`\n${failed.length ? 'FAIL' : 'PASS'}: ${results.length - failed.length}/${results.length} checks passed`);
for (const f of failed) console.log(`  FAIL [${f.test}] ${f.name}`);
process.exit(failed.length ? 1 : 0);
