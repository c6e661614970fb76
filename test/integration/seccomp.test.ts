// linux.seccomp: what the container process sees under its filter, for create/run and exec, and the
// user-notification listener (SCMP_ACT_NOTIFY + listenerPath).
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadNative } from '../../src/native';
import { Ctx, baseConfig, bundle, cleanupContext, context, rt, sh, sleep, spawn, stateOf, cid } from '../helpers';

let c: Ctx;
beforeAll(() => { c = context('seccomp'); });
afterAll(() => cleanupContext(c));

const X86 = os.arch() === 'x64' ? { architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'] } : {};
const MKDIR = ['mkdir', 'mkdirat'];

/** linux.seccomp allowing everything but the given rules */
function filter(syscalls: unknown[], extra: Record<string, unknown> = {}) {
  return { defaultAction: 'SCMP_ACT_ALLOW', ...X86, syscalls, ...extra };
}

function withSeccomp(s: unknown, more?: (cfg: any) => void) {
  return (cfg: any) => { cfg.linux.seccomp = s; more?.(cfg); };
}

const STATUS = 'grep -E "^(Seccomp|Seccomp_filters|NoNewPrivs):" /proc/self/status';
const field = (out: string, name: string) => new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(out)?.[1];

/** Syscalls busybox sh and its applets need (and execve for the stub), for the allowlist tests. */
const BASE_ALLOW = [
  'access', 'arch_prctl', 'brk', 'chdir', 'clone', 'clone3', 'close', 'dup', 'dup2', 'dup3', 'execve', 'exit', 'exit_group',
  'faccessat', 'faccessat2', 'fcntl', 'fork', 'fstat', 'fstatfs', 'futex', 'getcwd', 'getdents64', 'getegid', 'geteuid',
  'getgid', 'getpgid', 'getpgrp', 'getpid', 'getppid', 'getrandom', 'getrlimit', 'getuid', 'ioctl', 'lseek', 'lstat',
  'madvise', 'mmap', 'mprotect', 'munmap', 'newfstatat', 'open', 'openat', 'pipe', 'pipe2', 'poll', 'ppoll',
  'prlimit64', 'read', 'readlink', 'readlinkat', 'rseq', 'rt_sigaction', 'rt_sigprocmask', 'rt_sigreturn', 'set_robust_list',
  'set_tid_address', 'setpgid', 'stat', 'statx', 'sysinfo', 'time', 'uname', 'vfork', 'wait4', 'waitid', 'write', 'writev',
];

describe('actions', () => {
  it('SCMP_ACT_ERRNO with errnoRet: the syscall fails with that errno, the rest works', () => {
    const r = sh(c, `${STATUS}; mkdir /tmp/d 2>&1; echo mkdir=$?; touch /tmp/f && echo touch=0`,
      withSeccomp(filter([{ names: MKDIR, action: 'SCMP_ACT_ERRNO', errnoRet: 18 }])));
    expect(r.status, r.stderr).toBe(0);
    expect(field(r.stdout, 'Seccomp')).toBe('2');
    expect(field(r.stdout, 'Seccomp_filters')).toBe('1');
    expect(r.stdout).toMatch(/mkdir: can't create directory '\/tmp\/d': Invalid cross-device link\nmkdir=1\n/);
    expect(r.stdout).toMatch(/touch=0/);
  });

  it('SCMP_ACT_ERRNO without errnoRet is EPERM', () => {
    const r = sh(c, 'mkdir /tmp/d 2>&1; echo mkdir=$?', withSeccomp(filter([{ names: MKDIR, action: 'SCMP_ACT_ERRNO' }])));
    expect(r.stdout).toMatch(/Operation not permitted\nmkdir=1/);
  });

  it('defaultAction SCMP_ACT_ERRNO with defaultErrnoRet and an allowlist', () => {
    const s = { defaultAction: 'SCMP_ACT_ERRNO', defaultErrnoRet: 13, ...X86, syscalls: [{ names: BASE_ALLOW, action: 'SCMP_ACT_ALLOW' }] };
    const r = sh(c, 'echo allowed; mkdir /tmp/d 2>&1; echo mkdir=$?; cat /proc/self/status | grep ^Seccomp:', withSeccomp(s));
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/^allowed\nmkdir: can't create directory '\/tmp\/d': Permission denied\nmkdir=1\nSeccomp:\s+2\n$/);
  });

  it('SCMP_ACT_TRACE without a tracer: the syscall fails with ENOSYS', () => {
    const r = sh(c, 'mkdir /tmp/d 2>&1; echo mkdir=$?', withSeccomp(filter([{ names: MKDIR, action: 'SCMP_ACT_TRACE', errnoRet: 5 }])));
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/Function not implemented\nmkdir=1/);
  });

  for (const action of ['SCMP_ACT_KILL_PROCESS', 'SCMP_ACT_KILL', 'SCMP_ACT_KILL_THREAD', 'SCMP_ACT_TRAP']) {
    it(`${action}: the process dies by SIGSYS (exit 159)`, () => {
      const cfg = baseConfig(['mkdir', '/tmp/d']);
      cfg.linux.seccomp = filter([{ names: MKDIR, action }]);
      const r = rt(c, ['run', '--bundle', bundle(c, cfg), `kill-${action.toLowerCase().replace(/_/g, '-')}`]);
      expect(r.status, r.stderr).toBe(159);
    });
  }

  it('SCMP_ACT_LOG lets the syscall through; SECCOMP_FILTER_FLAG_LOG logs the refused ones', () => {
    // a marker in the kernel log first: the records that count are the ones after it (the ring buffer rotates)
    const marker = `runts-seccomp-log-test-${process.pid}-${Date.now()}`;
    let canLog = true;
    try { fs.writeFileSync('/dev/kmsg', `${marker}\n`); } catch { canLog = false; }
    const logged = () => {
      const lines = execFileSync('dmesg', { encoding: 'utf8' }).split('\n');
      const from = lines.findIndex((l) => l.includes(marker));
      return from >= 0 && lines.slice(from).some((l) => /type=1326 .*comm="rmdir".* code=0x50000/.test(l));
    };
    const r = sh(c, `${STATUS}; mkdir /tmp/d && echo mkdir=0; rmdir /tmp/d 2>&1; echo rmdir=$?`,
      withSeccomp(filter([{ names: MKDIR, action: 'SCMP_ACT_LOG' }, { names: ['rmdir'], action: 'SCMP_ACT_ERRNO', errnoRet: 38 }],
        { flags: ['SECCOMP_FILTER_FLAG_LOG', 'SECCOMP_FILTER_FLAG_SPEC_ALLOW', 'SECCOMP_FILTER_FLAG_TSYNC'] })));
    expect(r.status, r.stderr).toBe(0);
    expect(field(r.stdout, 'Seccomp')).toBe('2');
    expect(r.stdout).toMatch(/mkdir=0/);
    expect(r.stdout).toMatch(/Function not implemented\nrmdir=1/);
    // the kernel logs an ERRNO action only with the flag (audit record 1326 in the kernel log)
    if (canLog) {
      // kauditd writes the record asynchronously
      let seen = logged();
      for (let i = 0; i < 50 && !seen; i++) { Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20); seen = logged(); }
      expect(seen).toBe(true);
    }
  });

  it('unknown syscall names are skipped; a rule with the default action is harmless', () => {
    const r = sh(c, 'mkdir /tmp/d 2>&1; echo mkdir=$?', withSeccomp(filter([
      { names: ['no_such_syscall_at_all', ...MKDIR, 'another_made_up_one'], action: 'SCMP_ACT_ERRNO', errnoRet: 18 },
      { names: ['read'], action: 'SCMP_ACT_ALLOW' },
    ])));
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/Invalid cross-device link\nmkdir=1/);
  });
});

describe('argument conditions', () => {
  it('SCMP_CMP_EQ: personality(PER_LINUX32) refused, personality(PER_LINUX) allowed', () => {
    const r = sh(c, 'linux32 true 2>&1; echo l32=$?; linux64 true 2>&1; echo l64=$?', withSeccomp(filter([
      { names: ['personality'], action: 'SCMP_ACT_ERRNO', errnoRet: 1, args: [{ index: 0, value: 8, op: 'SCMP_CMP_EQ' }] },
    ])));
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/l32=1/);
    expect(r.stdout).toMatch(/l64=0/);
  });

  it('SCMP_CMP_MASKED_EQ: chmod with the setuid bit refused, a plain chmod allowed', () => {
    const suid = (index: number) => ({ index, value: 0o4000, valueTwo: 0o4000, op: 'SCMP_CMP_MASKED_EQ' });
    const r = sh(c, 'touch /tmp/f; chmod 4755 /tmp/f 2>&1; echo suid=$?; chmod 750 /tmp/f; echo plain=$?; stat -c %a /tmp/f', withSeccomp(filter([
      { names: ['chmod'], action: 'SCMP_ACT_ERRNO', args: [suid(1)] },
      { names: ['fchmod'], action: 'SCMP_ACT_ERRNO', args: [suid(1)] },
      { names: ['fchmodat', 'fchmodat2'], action: 'SCMP_ACT_ERRNO', args: [suid(2)] },
    ])));
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/Operation not permitted\nsuid=1\nplain=0\n750\n/);
  });

  it('two conditions on one argument are ORed (one rule each, as runc)', () => {
    // personality(8) or personality(0) refused: both linux32 and linux64 fail
    const r = sh(c, 'linux32 true 2>/dev/null; echo l32=$?; linux64 true 2>/dev/null; echo l64=$?', withSeccomp(filter([
      { names: ['personality'], action: 'SCMP_ACT_ERRNO', args: [{ index: 0, value: 8, op: 'SCMP_CMP_EQ' }, { index: 0, value: 0, op: 'SCMP_CMP_EQ' }] },
    ])));
    expect(r.stdout).toBe('l32=1\nl64=1\n');
  });
});

describe('no_new_privs and the user', () => {
  const cases: Array<[string, number, boolean, string[] | undefined]> = [
    ['non-root, noNewPrivileges', 1000, true, undefined],
    ['non-root, no noNewPrivileges (loaded before the uid change)', 1000, false, undefined],
    ['root, no noNewPrivileges (loaded before the capabilities are dropped)', 0, false, undefined],
    ['root with CAP_SYS_ADMIN, no noNewPrivileges', 0, false, ['CAP_SYS_ADMIN', 'CAP_KILL']],
    ['non-root with CAP_SYS_ADMIN, no noNewPrivileges', 1000, false, ['CAP_SYS_ADMIN']],
  ];
  for (const [what, uid, nnp, caps] of cases) {
    it(what, () => {
      const r = sh(c, `${STATUS}; id -u; mkdir /tmp/d 2>&1; echo mkdir=$?`, withSeccomp(filter([{ names: MKDIR, action: 'SCMP_ACT_ERRNO', errnoRet: 18 }]), (cfg) => {
        cfg.process.user = { uid, gid: uid };
        cfg.process.noNewPrivileges = nnp;
        if (caps) cfg.process.capabilities = { bounding: caps, effective: caps, permitted: caps };
      }));
      expect(r.status, r.stderr).toBe(0);
      expect(field(r.stdout, 'Seccomp')).toBe('2');
      expect(field(r.stdout, 'Seccomp_filters')).toBe('1');
      expect(field(r.stdout, 'NoNewPrivs')).toBe(nnp ? '1' : '0');
      expect(r.stdout).toContain(`\n${uid}\n`);
      expect(r.stdout).toMatch(/Invalid cross-device link\nmkdir=1/);
    });
  }

  it('in a new user namespace, without noNewPrivileges', () => {
    const r = sh(c, `${STATUS}; mkdir /tmp/d 2>&1; echo mkdir=$?`, withSeccomp(filter([{ names: MKDIR, action: 'SCMP_ACT_ERRNO', errnoRet: 18 }]), (cfg) => {
      cfg.process.noNewPrivileges = false;
      cfg.process.user = { uid: 1, gid: 1 };
      cfg.linux.namespaces.push({ type: 'user' });
      cfg.linux.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
      cfg.linux.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
      cfg.mounts = cfg.mounts.filter((m: any) => m.destination !== '/sys');
    }));
    expect(r.status, r.stderr).toBe(0);
    expect(field(r.stdout, 'Seccomp')).toBe('2');
    expect(field(r.stdout, 'NoNewPrivs')).toBe('0');
    expect(r.stdout).toMatch(/Invalid cross-device link\nmkdir=1/);
  });
});

describe('invalid filters fail create before anything exists', () => {
  const cases: Array<[string, unknown, RegExp]> = [
    ['unknown action', filter([{ names: ['read'], action: 'SCMP_ACT_ALLOW' }, { names: ['mkdir'], action: 'SCMP_ACT_BOGUS' }]), /linux\.seccomp\.syscalls\[1\]\.action/],
    ['unknown architecture', { defaultAction: 'SCMP_ACT_ALLOW', architectures: ['SCMP_ARCH_PDP11'] }, /linux\.seccomp\.architectures\[0\]/],
    ['unknown operator', filter([{ names: ['mkdir'], action: 'SCMP_ACT_ERRNO', args: [{ index: 0, value: 1, op: 'SCMP_CMP_ROUGHLY' }] }]), /linux\.seccomp\.syscalls\[0\]\.args\[0\]\.op/],
    ['NOTIFY without listenerPath', filter([{ names: ['mkdir'], action: 'SCMP_ACT_NOTIFY' }]), /linux\.seccomp\.listenerPath: is required/],
    // the stub's handover of the listener is a write(2): refused, as runc does
    ['NOTIFY on write', filter([{ names: ['read', 'write'], action: 'SCMP_ACT_NOTIFY' }], { listenerPath: '/nonexistent.sock' }), /linux\.seccomp\.syscalls\[0\]\.names: SCMP_ACT_NOTIFY cannot be used for write/],
    ['errnoRet on SCMP_ACT_KILL', filter([{ names: ['mkdir'], action: 'SCMP_ACT_KILL', errnoRet: 1 }]), /linux\.seccomp\.syscalls\[0\]\.errnoRet/],
  ];
  for (const [what, s, msg] of cases) {
    it(what, () => {
      const cfg = baseConfig(['true']);
      cfg.linux.seccomp = s;
      const id = `bad-${what.replace(/\W+/g, '-')}`;
      const r = rt(c, ['create', '--bundle', bundle(c, cfg), id]);
      expect(r.status).not.toBe(0);
      expect(r.stderr).toMatch(msg);
      expect(fs.readdirSync(c.root)).not.toContain(id);
    });
  }
});

/** A seccomp agent's socket: accepts connections (queued while runts blocks us in spawnSync) and takes the fd. */
function listener(name: string) {
  const native = loadNative();
  const file = path.join(c.work, `${name}.sock`);
  const lfd = native.unixListen(file, 8);
  return {
    file,
    /** the next connection: the state JSON and the fd it carried (each connection carries exactly one) */
    take(): { msg: any; fd: number; eof: boolean } {
      const conn = native.unixAccept(lfd);
      try {
        const { fd, data } = native.recvFd(conn);
        // then the connection is closed by runts: a read gives EOF
        const rest = Buffer.alloc(16);
        const n = fs.readSync(conn, rest, 0, 16, null);
        return { msg: JSON.parse(data.toString('utf8')), fd, eof: n === 0 };
      } finally {
        fs.closeSync(conn);
      }
    },
    close() { fs.closeSync(lfd); fs.rmSync(file, { force: true }); },
  };
}

function readOr(file: string): string {
  try { return fs.readFileSync(file, 'utf8'); } catch { return ''; }
}

async function waitFor(file: string, re: RegExp, ms = 5000): Promise<string> {
  const end = Date.now() + ms;
  let s = '';
  while (Date.now() < end) {
    try { s = fs.readFileSync(file, 'utf8'); } catch { /* not yet */ }
    if (re.test(s)) return s;
    await sleep(25);
  }
  throw new Error(`${file}: no ${re} in ${JSON.stringify(s)}`);
}

describe('SCMP_ACT_NOTIFY', () => {
  it('the listener fd and the container process state go to listenerPath; the syscall waits for the agent', async () => {
    const l = listener('agent');
    const out = path.join(c.work, 'notify-out');
    fs.mkdirSync(out);
    const cfg = baseConfig(['sh', '-c', 'echo started > /out/log; mkdir /tmp/d 2>>/out/log; echo mkdir=$? >> /out/log; sleep 300']);
    cfg.mounts.push({ destination: '/out', type: 'bind', source: out, options: ['rbind', 'rw'] });
    cfg.linux.seccomp = filter([{ names: MKDIR, action: 'SCMP_ACT_NOTIFY' }], { listenerPath: l.file, listenerMetadata: 'MKDIR=please' });
    cfg.annotations = { 'org.example.k': 'v' };
    const b = bundle(c, cfg);
    try {
      const cr = rt(c, ['create', '--bundle', b, cid('notify')]);
      expect(cr.status, cr.stderr).toBe(0);
      const st = stateOf(c, cid('notify'));
      const { msg, fd, eof } = l.take();
      expect(eof).toBe(true);
      expect(msg).toEqual({
        ociVersion: '1.3.0', fds: ['seccompFd'], pid: st.pid, metadata: 'MKDIR=please',
        state: { ociVersion: '1.3.0', id: cid('notify'), status: 'creating', pid: st.pid, bundle: b, annotations: { 'org.example.k': 'v' } },
      });
      expect(fs.readlinkSync(`/proc/self/fd/${fd}`)).toBe('anon_inode:seccomp notify');

      expect(rt(c, ['start', cid('notify')]).status).toBe(0);
      await waitFor(path.join(out, 'log'), /started/);
      // mkdir is parked in the kernel until the agent answers
      await sleep(300);
      expect(fs.readFileSync(path.join(out, 'log'), 'utf8')).toBe('started\n');
      // the agent goes away without answering: pending and later notifications fail with ENOSYS
      fs.closeSync(fd);
      const log = await waitFor(path.join(out, 'log'), /mkdir=/);
      expect(log).toMatch(/Function not implemented\nmkdir=1\n/);

      // exec: the new process gets the container's filter and its own listener, handed over the same way
      const ex = rt(c, ['exec', '-d', cid('notify'), 'sh', '-c', 'mkdir /tmp/e 2>>/out/exec.log; echo mkdir=$? >> /out/exec.log']);
      expect(ex.status, ex.stderr).toBe(0);
      const second = l.take();
      expect(second.eof).toBe(true);
      expect(second.msg.fds).toEqual(['seccompFd']);
      expect(second.msg.state).toMatchObject({ id: cid('notify'), status: 'running', pid: st.pid });
      expect(second.msg.pid).toBeGreaterThan(0);
      expect(second.msg.pid).not.toBe(st.pid);
      expect(fs.readlinkSync(`/proc/self/fd/${second.fd}`)).toBe('anon_inode:seccomp notify');
      await sleep(200);
      expect(readOr(path.join(out, 'exec.log'))).toBe(''); // mkdir not done
      fs.closeSync(second.fd);
      expect(await waitFor(path.join(out, 'exec.log'), /mkdir=/)).toMatch(/Function not implemented\nmkdir=1\n/);
    } finally {
      rt(c, ['delete', '--force', cid('notify')]);
      l.close();
    }
  });

  it('a listenerPath nobody listens on fails create, naming it, and leaves nothing behind', () => {
    const cfg = baseConfig(['true']);
    cfg.linux.seccomp = filter([{ names: MKDIR, action: 'SCMP_ACT_NOTIFY' }], { listenerPath: path.join(c.work, 'nobody.sock') });
    const r = rt(c, ['create', '--bundle', bundle(c, cfg), cid('notify-nobody')]);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/linux\.seccomp\.listenerPath .*nobody\.sock: no such file or directory/);
    expect(fs.readdirSync(c.root)).not.toContain(cid('notify-nobody'));
  });
});

/** A C compiler, for the helpers these tests build (an agent that answers notifications, a raw syscall). */
const CC = (() => { try { execFileSync('cc', ['--version'], { stdio: 'ignore' }); return true; } catch { return false; } })();
if (!CC) console.log('seccomp tests: no C compiler (cc): the agent and raw-syscall tests are skipped');
const X64 = os.arch() === 'x64';
if (!X64) console.log('seccomp tests: not x86_64: the tests that check syscall numbers are skipped');
const FIXTURES = path.join(__dirname, 'fixtures');

/** Compile a fixture (static: it may run inside the busybox rootfs) into the work dir, once. */
function compiled(name: string): string {
  const out = path.join(c.work, name);
  if (!fs.existsSync(out)) execFileSync('cc', ['-static', '-O2', '-o', out, path.join(FIXTURES, `${name}.c`)]);
  return out;
}

/** The test agent (fixtures/seccomp-agent.c) as a separate process: it answers every notification with CONTINUE. */
async function startAgent(name: string) {
  const sock = path.join(c.work, `${name}.sock`);
  const log = path.join(c.work, `${name}.log`);
  const p = spawn(compiled('seccomp-agent'), [sock, log], { stdio: 'ignore' });
  await waitFor(log, /listening/);
  return {
    sock,
    /** the notified syscall numbers so far, and how many listeners it received */
    seen() {
      const lines = readOr(log).split('\n');
      return { nrs: new Set(lines.filter((l) => l.startsWith('nr ')).map((l) => Number(l.slice(3)))), fds: lines.filter((l) => l.startsWith('fd ')).length };
    },
    stop() { p.kill('SIGKILL'); },
  };
}

/** x86_64 numbers of the syscalls the tests notify on */
const NR: Record<string, number> = { read: 0, write: 1, open: 2, close: 3, execve: 59, sendmsg: 46, openat: 257 };

describe.skipIf(!CC || !X64)('SCMP_ACT_NOTIFY on syscalls the runtime itself makes (the agent answers CONTINUE)', () => {
  // runc's tests/integration/seccomp-notify.bats cases, plus each syscall alone, and a non-root user without
  // no_new_privs (the filter is loaded before USER: every later step of the stub runs under it)
  const cases: Array<[string[], boolean, number]> = [
    [['close'], false, 0],
    [['read'], false, 0],
    [['read'], true, 0],
    [['sendmsg'], false, 0],
    [['execve', 'openat', 'open', 'read', 'close'], false, 0],
    [['execve', 'openat', 'open', 'read', 'close'], true, 0],
    [['read', 'close', 'sendmsg'], false, 1000],
  ];
  for (const [names, nnp, uid] of cases) {
    it(`run: ${names.join(', ')} (noNewPrivileges ${nnp}, uid ${uid})`, async () => {
      const a = await startAgent(`agent-${names[0]}-${nnp}-${uid}`);
      const id = `nt-${names[0]}-${names.length}-${nnp}-${uid}`;
      try {
        const cfg = baseConfig(['sh', '-c', 'echo hi; cat /proc/self/status | grep ^Seccomp:']);
        cfg.process.noNewPrivileges = nnp;
        cfg.process.user = { uid, gid: uid };
        cfg.linux.seccomp = filter([{ names, action: 'SCMP_ACT_NOTIFY' }], { listenerPath: a.sock });
        const r = rt(c, ['run', '--bundle', bundle(c, cfg), id], { timeout: 15_000 });
        expect(r.error, 'runts hung').toBeUndefined();
        expect(r.status, r.stderr).toBe(0);
        expect(r.stdout).toMatch(/^hi\nSeccomp:\s+2\n$/);
        const seen = a.seen();
        expect(seen.fds).toBe(1);
        // the runtime's own calls and the container's reached the agent, which let them through
        // (busybox opens with openat; sendmsg is the stub's READY)
        for (const n of names) if (n !== 'open') expect([...seen.nrs], n).toContain(NR[n]);
      } finally {
        a.stop();
        rt(c, ['delete', '--force', id]);
      }
    });
  }

  it('in a new user namespace: runts takes the listener from a process of another user namespace', async () => {
    const a = await startAgent('agent-userns');
    try {
      const cfg = baseConfig(['sh', '-c', 'echo hi']);
      cfg.linux.namespaces.push({ type: 'user' });
      cfg.linux.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
      cfg.linux.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
      cfg.mounts = cfg.mounts.filter((m: any) => m.destination !== '/sys');
      cfg.linux.seccomp = filter([{ names: ['read', 'close'], action: 'SCMP_ACT_NOTIFY' }], { listenerPath: a.sock });
      const r = rt(c, ['run', '--bundle', bundle(c, cfg), cid('nt-userns')], { timeout: 15_000 });
      expect(r.error, 'runts hung').toBeUndefined();
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toBe('hi\n');
      expect([...a.seen().nrs]).toEqual(expect.arrayContaining([NR.read, NR.close]));
    } finally {
      a.stop();
      rt(c, ['delete', '--force', cid('nt-userns')]);
    }
  });

  it('exec: read, close, execve notified; the exec\'d process runs to completion', async () => {
    const a = await startAgent('agent-exec');
    try {
      const cfg = baseConfig(['sleep', '300']);
      cfg.linux.seccomp = filter([{ names: ['read', 'close', 'execve'], action: 'SCMP_ACT_NOTIFY' }], { listenerPath: a.sock });
      const cr = rt(c, ['run', '-d', '--bundle', bundle(c, cfg), cid('nt-exec')], { timeout: 15_000 });
      expect(cr.error, 'runts hung').toBeUndefined();
      expect(cr.status, cr.stderr).toBe(0);
      const r = rt(c, ['exec', cid('nt-exec'), 'sh', '-c', 'echo from-exec'], { timeout: 15_000 });
      expect(r.error, 'runts hung').toBeUndefined();
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toBe('from-exec\n');
      expect(a.seen().fds).toBe(2);
      expect([...a.seen().nrs]).toEqual(expect.arrayContaining([NR.read, NR.close, NR.execve]));
    } finally {
      a.stop();
      rt(c, ['delete', '--force', cid('nt-exec')]);
    }
  });
});

describe.skipIf(!CC || !X64)('ENOSYS for syscalls newer than the profile (runc\'s patchbpf prefix)', () => {
  // x86_64 numbers: acct 163 (known, not listed), getpriority 140 (listed: errno 18), process_madvise 440 (newer
  // than the largest listed, faccessat2 439), 1000 (no such syscall); x32 ones with bit 30 set
  const X32 = 0x40000000;
  const CALLS = ['163', '140', '440', '1000', '39'];
  // only where the profile lists SCMP_ARCH_X32: libseccomp kills x32 calls of other profiles (bad architecture)
  const CALLS_X32 = [...CALLS, `${X32 | 163}`, `${X32 | 1000}`];
  function run(id: string, seccomp: Record<string, unknown>, calls = CALLS) {
    const bin = compiled('seccomp-syscall');
    const cfg = baseConfig(['/sysno', ...calls]);
    cfg.mounts.push({ destination: '/sysno', type: 'bind', source: bin, options: ['bind', 'ro'] });
    cfg.linux.seccomp = seccomp;
    const r = rt(c, ['run', '--bundle', bundle(c, cfg), id]);
    expect(r.status, r.stderr).toBe(0);
    return Object.fromEntries(r.stdout.trim().split('\n').map((l) => l.split('=')));
  }
  const syscalls = [{ names: BASE_ALLOW, action: 'SCMP_ACT_ALLOW' }, { names: ['getpriority'], action: 'SCMP_ACT_ERRNO', errnoRet: 18 }];

  it('default SCMP_ACT_ERRNO: an unknown or newer syscall fails with ENOSYS, a known unlisted one with the default errno', () => {
    const got = run('enosys-errno', { defaultAction: 'SCMP_ACT_ERRNO', ...X86, syscalls }, CALLS_X32);
    expect(got).toEqual({
      163: '1', 140: '18', 440: '38', 1000: '38', 39: 'ok',
      // x32 calls: the same rule with the x32 numbers (the profile lists SCMP_ARCH_X32)
      [X32 | 163]: '1', [X32 | 1000]: '38',
    });
  });

  it('default SCMP_ACT_KILL_PROCESS: an unknown syscall fails with ENOSYS instead of killing', () => {
    const got = run('enosys-kill', { defaultAction: 'SCMP_ACT_KILL_PROCESS', architectures: ['SCMP_ARCH_X86_64'],
      syscalls: [...syscalls, { names: ['acct'], action: 'SCMP_ACT_ERRNO', errnoRet: 5 }] });
    expect(got).toMatchObject({ 163: '5', 140: '18', 440: '38', 1000: '38', 39: 'ok' });
  });

  it('no prefix where runc adds none: a default that allows, or a profile without architectures', () => {
    const allow = run('enosys-allow', { defaultAction: 'SCMP_ACT_ALLOW', ...X86, syscalls: [{ names: ['acct', 'getpriority'], action: 'SCMP_ACT_ERRNO', errnoRet: 18 }] });
    expect(allow).toMatchObject({ 163: '18', 140: '18', 1000: '38' });
    const noArch = run('enosys-noarch', { defaultAction: 'SCMP_ACT_ERRNO', syscalls });
    expect(noArch).toMatchObject({ 163: '1', 140: '18', 440: '1', 1000: '1', 39: 'ok' });
  });
});

describe('features', () => {
  it('reports seccomp: the actions, operators, architectures and flags runts takes', () => {
    const f = JSON.parse(rt(c, ['features']).stdout).linux.seccomp;
    expect(f.enabled).toBe(true);
    expect(f.actions).toEqual(['SCMP_ACT_ALLOW', 'SCMP_ACT_ERRNO', 'SCMP_ACT_KILL', 'SCMP_ACT_KILL_PROCESS', 'SCMP_ACT_KILL_THREAD', 'SCMP_ACT_LOG', 'SCMP_ACT_NOTIFY', 'SCMP_ACT_TRACE', 'SCMP_ACT_TRAP']);
    expect(f.operators).toHaveLength(7);
    expect(f.archs).toContain('SCMP_ARCH_X86_64');
    expect(f.archs).not.toContain('SCMP_ARCH_LOONGARCH64');
    expect(f.knownFlags).toEqual(['SECCOMP_FILTER_FLAG_TSYNC', 'SECCOMP_FILTER_FLAG_LOG', 'SECCOMP_FILTER_FLAG_SPEC_ALLOW']);
    // this kernel knows all three; WAIT_KILLABLE_RECV is neither known nor supported
    expect(f.supportedFlags).toEqual(f.knownFlags);
  });

  it('names the libseccomp the stub is built with (the embedded addon reports it)', () => {
    const a = JSON.parse(rt(c, ['features']).stdout).annotations;
    expect(a['io.github.seccomp.libseccomp.version']).toMatch(/^\d+\.\d+\.\d+$/);
  });
});

describe('exec', () => {
  it('the exec\'d process runs under the container\'s filter', () => {
    const cfg = baseConfig(['sleep', '300']);
    cfg.linux.seccomp = filter([{ names: MKDIR, action: 'SCMP_ACT_ERRNO', errnoRet: 18 }]);
    expect(rt(c, ['run', '-d', '--bundle', bundle(c, cfg), cid('exf')]).status).toBe(0);
    try {
      const r = rt(c, ['exec', cid('exf'), 'sh', '-c', `${STATUS}; mkdir /tmp/d 2>&1; echo mkdir=$?`]);
      expect(r.status, r.stderr).toBe(0);
      expect(field(r.stdout, 'Seccomp')).toBe('2');
      expect(field(r.stdout, 'Seccomp_filters')).toBe('1');
      expect(r.stdout).toMatch(/Invalid cross-device link\nmkdir=1/);
      // also as a non-root user without no_new_privs (the filter is loaded before the uid change)
      const file = path.join(c.work, 'exf-process.json');
      fs.writeFileSync(file, JSON.stringify({ args: ['sh', '-c', `${STATUS}; mkdir /tmp/e 2>&1; echo mkdir=$?`], env: ['PATH=/bin:/usr/bin'], cwd: '/', user: { uid: 1000, gid: 1000 }, noNewPrivileges: false }));
      const u = rt(c, ['exec', '--process', file, cid('exf')]);
      expect(u.status, u.stderr).toBe(0);
      expect(field(u.stdout, 'Seccomp')).toBe('2');
      expect(field(u.stdout, 'NoNewPrivs')).toBe('0');
      expect(u.stdout).toMatch(/Invalid cross-device link\nmkdir=1/);
    } finally {
      rt(c, ['delete', '--force', cid('exf')]);
    }
  });
});
