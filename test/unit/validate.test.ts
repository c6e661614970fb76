// config.json and state validation: precompiled schemas plus the rules beyond them, with field-naming messages.
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { beforeAll, describe, expect, it } from 'vitest';
import { badUtf8At, parseJsonBytes } from '../../src/config/json';
import { schemaValidPart, validateConfig, validateState } from '../../src/config/validate';

const REPO = path.resolve(__dirname, '..', '..');

beforeAll(() => {
  if (!fs.existsSync(path.join(REPO, 'dist', 'validators.js'))) {
    execFileSync(process.execPath, [path.join(REPO, 'scripts', 'build-validators.mjs')], { cwd: REPO, stdio: 'inherit' });
  }
});

const CAPS = ['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'];

/** What `runc spec` (runc 1.1) writes. */
function runcDefault(): any {
  return {
    ociVersion: '1.0.2-dev',
    process: {
      terminal: true,
      user: { uid: 0, gid: 0 },
      args: ['sh'],
      env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'TERM=xterm'],
      cwd: '/',
      capabilities: { bounding: CAPS, effective: CAPS, permitted: CAPS, ambient: CAPS },
      rlimits: [{ type: 'RLIMIT_NOFILE', hard: 1024, soft: 1024 }],
      noNewPrivileges: true,
    },
    root: { path: 'rootfs', readonly: true },
    hostname: 'runc',
    mounts: [
      { destination: '/proc', type: 'proc', source: 'proc' },
      { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
      { destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'] },
      { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=65536k'] },
      { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
      { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] },
      { destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['nosuid', 'noexec', 'nodev', 'relatime', 'ro'] },
    ],
    linux: {
      resources: { devices: [{ allow: false, access: 'rwm' }] },
      namespaces: [{ type: 'pid' }, { type: 'network' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' }],
      maskedPaths: ['/proc/acpi', '/proc/asound', '/proc/kcore', '/proc/keys', '/proc/latency_stats', '/proc/timer_list',
        '/proc/timer_stats', '/proc/sched_debug', '/sys/firmware', '/proc/scsi'],
      readonlyPaths: ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'],
    },
  };
}

/** runc's default with a change applied. */
function cfg(change: (c: any) => void): any {
  const c = runcDefault();
  change(c);
  return c;
}

const RUNC = ['/usr/sbin/runc', '/usr/bin/runc', '/usr/local/sbin/runc', '/usr/local/bin/runc'].find((f) => fs.existsSync(f));

describe('validateConfig accepts', () => {
  it('a minimal config', () => {
    expect(validateConfig({ ociVersion: '1.3.0', root: { path: 'rootfs' } })).toEqual([]);
    expect(validateConfig({ ociVersion: '1.3.0', root: { path: 'rootfs' }, process: { cwd: '/', args: ['true'], user: { uid: 0, gid: 0 } } })).toEqual([]);
  });

  it("runc spec's default config (inline copy)", () => {
    expect(validateConfig(runcDefault())).toEqual([]);
  });

  it.skipIf(!RUNC)("the config `runc spec` writes, default and rootless", () => {
    for (const extra of [[], ['--rootless']]) {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'runts-spec-'));
      try {
        execFileSync(RUNC!, ['spec', ...extra], { cwd: dir, stdio: 'ignore' });
        const doc = JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8'));
        expect(validateConfig(doc), extra.join(' ')).toEqual([]);
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    }
  });

  it('a config using most of the v1.3.0 fields', () => {
    const doc = cfg((c) => {
      c.ociVersion = '1.3.0';
      c.domainname = 'example.org';
      c.annotations = { 'com.example.key': 'value' };
      Object.assign(c.process, {
        consoleSize: { height: 25, width: 80 },
        user: { uid: 1000, gid: 1000, umask: 18, additionalGids: [5, 6] },
        oomScoreAdj: -500,
        apparmorProfile: 'p',
        selinuxLabel: 'l',
        ioPriority: { class: 'IOPRIO_CLASS_BE', priority: 4 },
        scheduler: { policy: 'SCHED_DEADLINE', nice: -5, priority: 0, flags: ['SCHED_FLAG_RESET_ON_FORK'], runtime: 1, deadline: 2, period: 3 },
        execCPUAffinity: { initial: '0', final: '0-3' },
      });
      c.hooks = {
        prestart: [{ path: '/bin/true', args: ['true'], env: ['A=1'], timeout: 5 }],
        createRuntime: [{ path: '/bin/true' }],
        createContainer: [{ path: '/bin/true' }],
        startContainer: [{ path: '/bin/true' }],
        poststart: [{ path: '/bin/true' }],
        poststop: [{ path: '/bin/true' }],
      };
      c.mounts.push({ destination: '/data', type: 'none', source: '/v', options: ['rbind'], uidMappings: [{ containerID: 0, hostID: 1000, size: 1 }], gidMappings: [] });
      c.linux.namespaces.push({ type: 'user' }, { type: 'cgroup' }, { type: 'time' });
      Object.assign(c.linux, {
        uidMappings: [{ containerID: 0, hostID: 100000, size: 65536 }],
        gidMappings: [{ containerID: 0, hostID: 100000, size: 65536 }],
        timeOffsets: { monotonic: { secs: -10, nanosecs: 5 }, boottime: { secs: 100 } },
        devices: [{ path: '/dev/fuse', type: 'c', major: 10, minor: 229, fileMode: 438, uid: 0, gid: 0 }, { path: '/dev/fifo', type: 'p' }],
        netDevices: { eth1: { name: 'eth0' } },
        cgroupsPath: '/runts/x',
        sysctl: { 'net.ipv4.ip_forward': '1', 'kernel.domainname': 'x', 'kernel.shmmax': '1', 'vm.overcommit_memory': '1' },
        seccomp: {
          defaultAction: 'SCMP_ACT_ERRNO', defaultErrnoRet: 1, architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86'],
          flags: ['SECCOMP_FILTER_FLAG_LOG'], listenerPath: '/run/agent.sock', listenerMetadata: 'm',
          syscalls: [{ names: ['read', 'write'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 1, valueTwo: 2, op: 'SCMP_CMP_MASKED_EQ' }] }],
        },
        rootfsPropagation: 'slave',
        mountLabel: 'l',
        personality: { domain: 'LINUX32', flags: [] },
        intelRdt: { closID: 'g', l3CacheSchema: 'L3:0=7f0', memBwSchema: 'MB:0=20', schemata: ['L2:0=f'], enableMonitoring: true },
        memoryPolicy: { mode: 'MPOL_BIND', nodes: '0-1', flags: ['MPOL_F_STATIC_NODES'] },
      });
      c.linux.resources = {
        devices: [{ allow: false, access: 'rwm' }, { allow: true, type: 'c', major: 10, minor: 229, access: 'rw' }, { allow: true, type: 'b', major: null, minor: null, access: 'r' }],
        memory: { limit: 536870912, reservation: 1, swap: -1, kernel: -1, kernelTCP: -1, swappiness: 0, disableOOMKiller: false, useHierarchy: true, checkBeforeUpdate: true },
        cpu: { shares: 1024, quota: -1, burst: 0, period: 100000, realtimeRuntime: 0, realtimePeriod: 0, cpus: '0-3', mems: '0', idle: 1 },
        pids: { limit: -1 },
        blockIO: {
          weight: 10, leafWeight: 10,
          weightDevice: [{ major: 8, minor: 0, weight: 500, leafWeight: 300 }],
          throttleReadBpsDevice: [{ major: 8, minor: 0, rate: 600 }],
          throttleWriteIOPSDevice: [{ major: 8, minor: 16, rate: 300 }],
        },
        hugepageLimits: [{ pageSize: '2MB', limit: 9223372036854772000 }],
        network: { classID: 1048577, priorities: [{ name: 'eth0', priority: 500 }] },
        rdma: { mlx5_1: { hcaHandles: 3, hcaObjects: 10000 } },
        unified: { 'io.max': '259:0 rbps=2097152', 'memory.high': 'max' },
      };
    });
    expect(validateConfig(doc)).toEqual([]);
  });

  it('unknown properties, at the top level and inside known objects', () => {
    const doc = cfg((c) => {
      c.solaris = {};
      c.vm = { hypervisor: { path: '/x' } };
      c['org.example.ext'] = [1, 2];
      c.process.futureField = 3;
      c.linux.resources.memory = { limit: 1, somethingNew: 'x' };
    });
    expect(validateConfig(doc)).toEqual([]);
  });

  it('device access in any order and with repeats, as runc takes it', () => {
    for (const access of ['wr', 'mwr', 'rrw', 'mmm', '']) {
      expect(validateConfig(cfg((c) => { c.linux.resources.devices.push({ allow: true, type: 'c', major: 1, minor: 3, access }); })), access).toEqual([]);
    }
  });

  it('a one-component intelRdt closID', () => {
    expect(validateConfig(cfg((c) => { c.linux.intelRdt = { closID: 'group.1' }; }))).toEqual([]);
  });

  it('non-BMP characters (a surrogate pair) in strings', () => {
    expect(validateConfig(cfg((c) => { c.hostname = 'a\ud83d\ude00'; c.process.env.push('X=\u{1F600}'); }))).toEqual([]);
  });

  it('a relative mount destination (deprecated, taken relative to /)', () => {
    expect(validateConfig(cfg((c) => { c.mounts[3].destination = 'dev/shm'; }))).toEqual([]);
  });
});

describe('validateConfig rejects, naming the field', () => {
  const cases: Array<[string, (c: any) => void, string]> = [
    ['a string memory limit', (c) => { c.linux.resources.memory = { limit: '1g' }; }, 'linux.resources.memory.limit: must be an integer'],
    ['a fractional memory limit', (c) => { c.linux.resources.memory = { limit: 1.5 }; }, 'linux.resources.memory.limit: must be an integer'],
    ['a missing process.cwd', (c) => { delete c.process.cwd; }, 'process.cwd: is required'],
    ['a bad namespace type', (c) => { c.linux.namespaces[1].type = 'net'; }, 'linux.namespaces[1].type: must be one of pid, network, mount, ipc, uts, user, cgroup, time'],
    ['a non-string arg', (c) => { c.process.args = [1]; }, 'process.args[0]: must be a string'],
    ['args not an array', (c) => { c.process.args = 'sh'; }, 'process.args: must be an array'],
    ['empty args', (c) => { c.process.args = []; }, 'process.args: must contain at least one element'],
    ['missing args', (c) => { delete c.process.args; }, 'process.args: must contain at least one element'],
    ['a negative uid', (c) => { c.process.user.uid = -1; }, 'process.user.uid: must be >= 0'],
    ['a uid beyond uint32', (c) => { c.process.user.uid = 2 ** 32; }, 'process.user.uid: must be <= 4294967295'],
    ['a missing gid', (c) => { delete c.process.user.gid; }, 'process.user.gid: is required'],
    ['a duplicate namespace', (c) => { c.linux.namespaces.push({ type: 'pid' }); }, 'linux.namespaces[5].type: malformed spec file: duplicated ns "pid"'],
    ['a relative cwd', (c) => { c.process.cwd = 'tmp'; }, 'process.cwd: must be an absolute path'],
    ['an unsupported ociVersion', (c) => { c.ociVersion = '2.0.0'; }, 'ociVersion: unsupported version "2.0.0"'],
    ['a non-semver ociVersion', (c) => { c.ociVersion = 'latest'; }, 'ociVersion: must be a semantic version like 1.3.0 (got "latest")'],
    ['a numeric ociVersion', (c) => { c.ociVersion = 1; }, 'ociVersion: must be a string'],
    ['a missing ociVersion', (c) => { delete c.ociVersion; }, 'ociVersion: is required'],
    ['a missing root', (c) => { delete c.root; }, 'root: is required'],
    ['a root that is a string', (c) => { c.root = 'rootfs'; }, 'root: must be an object'],
    ['a missing root.path', (c) => { c.root = { readonly: true }; }, 'root.path: is required'],
    ['a mount without destination', (c) => { delete c.mounts[0].destination; }, 'mounts[0].destination: is required'],
    ['a non-string mount option', (c) => { c.mounts[1].options.push(true); }, 'mounts[1].options[4]: must be a string'],
    ['a lowercase capability', (c) => { c.process.capabilities.bounding = ['CAP_KILL', 'CAP_CHOWN', 'cap_kill']; }, 'process.capabilities.bounding[2]: must match ^CAP_[A-Z_]+$'],
    ['a bad rlimit type', (c) => { c.process.rlimits[0].type = 'NOFILE'; }, 'process.rlimits[0].type: must match ^RLIMIT_[A-Z]+$'],
    ['a missing rlimit soft', (c) => { delete c.process.rlimits[0].soft; }, 'process.rlimits[0].soft: is required'],
    ['a duplicate rlimit', (c) => { c.process.rlimits.push({ type: 'RLIMIT_NOFILE', hard: 1, soft: 1 }); }, 'process.rlimits[1].type: duplicate rlimit "RLIMIT_NOFILE"'],
    ['an oomScoreAdj out of range', (c) => { c.process.oomScoreAdj = 1001; }, 'process.oomScoreAdj: must be <= 1000'],
    ['a bad ioPriority class', (c) => { c.process.ioPriority = { class: 'RT', priority: 0 }; }, 'process.ioPriority.class: must be one of IOPRIO_CLASS_RT, IOPRIO_CLASS_BE, IOPRIO_CLASS_IDLE'],
    ['a terminal that is a string', (c) => { c.process.terminal = 'yes'; }, 'process.terminal: must be a boolean'],
    ['env not strings', (c) => { c.process.env = { PATH: '/bin' }; }, 'process.env: must be an array'],
    ['a hostname without a uts namespace', (c) => { c.linux.namespaces = c.linux.namespaces.filter((n: any) => n.type !== 'uts'); }, 'hostname: requires a new uts namespace'],
    ['uid mappings without a user namespace', (c) => { c.linux.uidMappings = [{ containerID: 0, hostID: 1000, size: 1 }]; }, 'linux.uidMappings: requires a new user namespace'],
    ['an incomplete uid mapping', (c) => { c.linux.namespaces.push({ type: 'user' }); c.linux.uidMappings = [{ containerID: 0, hostID: 1000 }]; }, 'linux.uidMappings[0].size: is required'],
    ['time offsets without a time namespace', (c) => { c.linux.timeOffsets = { monotonic: { secs: 1 } }; }, 'linux.timeOffsets: requires a new time namespace'],
    ['an unknown clock', (c) => { c.linux.namespaces.push({ type: 'time' }); c.linux.timeOffsets = { realtime: { secs: 1 } }; }, 'linux.timeOffsets.realtime: is not allowed'],
    ['a net sysctl without a network namespace', (c) => { c.linux.namespaces.splice(1, 1); c.linux.sysctl = { 'net.ipv4.ip_forward': '1' }; }, 'linux.sysctl["net.ipv4.ip_forward"]: requires a new network namespace'],
    ['a numeric sysctl value', (c) => { c.linux.sysctl = { 'net.core.somaxconn': 256 }; }, 'linux.sysctl["net.core.somaxconn"]: must be a string'],
    ['a pids resource without limit', (c) => { c.linux.resources.pids = {}; }, 'linux.resources.pids.limit: is required'],
    ['a device rule without allow', (c) => { c.linux.resources.devices[0] = { access: 'rwm' }; }, 'linux.resources.devices[0].allow: is required'],
    ['a device rule with a string major', (c) => { c.linux.resources.devices.push({ allow: true, type: 'c', major: '10' }); }, 'linux.resources.devices[1].major: must be an integer or null'],
    ['a device rule with bad access', (c) => { c.linux.resources.devices[0].access = 'rwx'; }, 'linux.resources.devices[0].access: must match ^[rwm]*$'],
    ['a device of unknown type', (c) => { c.linux.devices = [{ path: '/dev/x', type: 'x', major: 1, minor: 1 }]; }, 'linux.devices[0].type: must be one of c, b, u, p'],
    ['a char device without numbers', (c) => { c.linux.devices = [{ path: '/dev/x', type: 'c', minor: 1 }]; }, 'linux.devices[0].major: is required for a device of type "c"'],
    ['a blkio weight beyond uint16', (c) => { c.linux.resources.blockIO = { weight: 70000 }; }, 'linux.resources.blockIO.weight: must be <= 65535'],
    ['a negative cpu shares', (c) => { c.linux.resources.cpu = { shares: -2 }; }, 'linux.resources.cpu.shares: must be >= 0'],
    ['a seccomp without defaultAction', (c) => { c.linux.seccomp = { syscalls: [] }; }, 'linux.seccomp.defaultAction: is required'],
    ['a seccomp rule with no names', (c) => { c.linux.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: [], action: 'SCMP_ACT_ERRNO' }] }; }, 'linux.seccomp.syscalls[0].names: must contain at least one element'],
    ['a seccomp arg with a bad op', (c) => { c.linux.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['read'], action: 'SCMP_ACT_ERRNO', args: [{ index: 0, value: 0, op: 'EQ' }] }] }; }, 'linux.seccomp.syscalls[0].args[0].op: must be one of SCMP_CMP_NE, SCMP_CMP_LT, SCMP_CMP_LE, SCMP_CMP_EQ, SCMP_CMP_GE, SCMP_CMP_GT, SCMP_CMP_MASKED_EQ'],
    ['a bad rootfsPropagation', (c) => { c.linux.rootfsPropagation = 'recursive'; }, 'linux.rootfsPropagation: must be one of private, shared, slave, unbindable, rprivate, rshared, rslave, runbindable'],
    ['a relative masked path', (c) => { c.linux.maskedPaths.push('proc/kcore'); }, 'linux.maskedPaths[10]: must be an absolute path'],
    ['a hook without path', (c) => { c.hooks = { poststop: [{ args: ['x'] }] }; }, 'hooks.poststop[0].path: is required'],
    ['a relative hook path', (c) => { c.hooks = { prestart: [{ path: 'hook.sh' }] }; }, 'hooks.prestart[0].path: must be an absolute path'],
    ['a zero hook timeout', (c) => { c.hooks = { prestart: [{ path: '/bin/true', timeout: 0 }] }; }, 'hooks.prestart[0].timeout: must be >= 1'],
    ['a non-string annotation', (c) => { c.annotations = { 'com.example.n': 1 }; }, 'annotations["com.example.n"]: must be a string'],
    ['linux that is an array', (c) => { c.linux = []; }, 'linux: must be an object'],
    ['a process without user', (c) => { delete c.process.user; }, 'process.user: is required'],
    ['a closID with a path', (c) => { c.linux.intelRdt = { closID: '../../x' }; }, 'linux.intelRdt.closID: must be a single path component (no "/", not "." or ".."), got "../../x"'],
    ['a closID ".."', (c) => { c.linux.intelRdt = { closID: '..' }; }, 'linux.intelRdt.closID: must be a single path component (no "/", not "." or ".."), got ".."'],
    ['a closID "."', (c) => { c.linux.intelRdt = { closID: '.' }; }, 'linux.intelRdt.closID: must be a single path component (no "/", not "." or ".."), got "."'],
    ['a lone high surrogate in hostname', (c) => { c.hostname = 'a\ud800b'; }, 'hostname: must be valid Unicode (lone surrogate \\ud800)'],
    ['a lone low surrogate in env', (c) => { c.process.env.push('A=\udc00'); }, 'process.env[2]: must be valid Unicode (lone surrogate \\udc00)'],
    ['a lone surrogate in args', (c) => { c.process.args = ['sh', '\ud800']; }, 'process.args[1]: must be valid Unicode (lone surrogate \\ud800)'],
    ['a lone surrogate in cwd', (c) => { c.process.cwd = '/\udfff'; }, 'process.cwd: must be valid Unicode (lone surrogate \\udfff)'],
    ['a lone surrogate in a sysctl key', (c) => { c.linux.sysctl = { 'net.\ud800': '1' }; }, 'linux.sysctl: a key must be valid Unicode (lone surrogate \\ud800)'],
  ];
  for (const [name, change, message] of cases) {
    it(name, () => {
      expect(validateConfig(cfg(change))).toEqual([message]);
    });
  }

  it('a document that is not an object', () => {
    expect(validateConfig('hello')).toEqual(['must be an object']);
    expect(validateConfig(null)).toEqual(['must be an object']);
    expect(validateConfig([])).toEqual(['must be an object']);
  });

  it('every problem, each once, the version first', () => {
    const errs = validateConfig(cfg((c) => {
      c.ociVersion = '2.0.0';
      c.process.args = ['sh', 2];
      c.process.cwd = 'rel';
      c.linux.resources.memory = { limit: '1g', swap: '1g' };
      c.linux.namespaces.push({ type: 'pid' }, { type: 'pid' });
    }));
    expect(errs).toEqual([
      'ociVersion: unsupported version "2.0.0"',
      'process.args[1]: must be a string',
      'linux.resources.memory.limit: must be an integer',
      'linux.resources.memory.swap: must be an integer',
      'process.cwd: must be an absolute path',
      'linux.namespaces[5].type: malformed spec file: duplicated ns "pid"',
    ]);
  });
});

describe('config.json bytes: UTF-8 and 64-bit integers exactly as written', () => {
  const bytes = (doc: any) => Buffer.from(JSON.stringify(doc));
  /** The document's text with a placeholder number replaced by the exact digits `n`. */
  const withNumber = (change: (c: any) => void, n: string) => Buffer.from(JSON.stringify(cfg(change)).replace('424242', n));
  const check = (b: Buffer) => {
    const { doc, exact } = parseJsonBytes(b, 'config.json');
    return validateConfig(doc, exact);
  };

  it('uint64: 2^64-1 is accepted, 2^64 (which a double cannot tell from 2^64-1) is not', () => {
    const rl = (c: any) => { c.process.rlimits[0].hard = 424242; };
    expect(check(withNumber(rl, '18446744073709551615'))).toEqual([]);
    expect(check(withNumber(rl, '18446744073709551616'))).toEqual(['process.rlimits[0].hard: must be <= 18446744073709551615 (got 18446744073709551616)']);
    expect(check(withNumber(rl, '100000000000000000000000'))).toEqual(['process.rlimits[0].hard: must be <= 18446744073709551615 (got 100000000000000000000000)']);
  });

  it('int64: 2^63-1 and -2^63 are accepted, 2^63 and -2^63-1 are not', () => {
    const lim = (c: any) => { c.linux.resources.memory = { limit: 424242 }; };
    expect(check(withNumber(lim, '9223372036854775807'))).toEqual([]);
    expect(check(withNumber(lim, '-9223372036854775808'))).toEqual([]);
    expect(check(withNumber(lim, '9223372036854775808'))).toEqual(['linux.resources.memory.limit: must be <= 9223372036854775807 (got 9223372036854775808)']);
    expect(check(withNumber(lim, '-9223372036854775809'))).toEqual(['linux.resources.memory.limit: must be >= -9223372036854775808 (got -9223372036854775809)']);
    // a uint64 above int64's range is fine where the field is a uint64
    expect(check(withNumber((c) => { c.linux.resources.cpu = { period: 424242 }; }, '9223372036854775808'))).toEqual([]);
  });

  it('the document keeps the (rounded) number after the check', () => {
    const { doc, exact } = parseJsonBytes(withNumber((c) => { c.process.rlimits[0].hard = 424242; }, '18446744073709551615'), 'config.json');
    expect(validateConfig(doc, exact)).toEqual([]);
    expect((doc as any).process.rlimits[0].hard).toBe(2 ** 64);
  });

  it('invalid UTF-8 in a string is an error naming the field and the byte', () => {
    const b = Buffer.concat([Buffer.from('{"ociVersion":"1.3.0","root":{"path":"r"},"hostname":"a'), Buffer.from([0xff]), Buffer.from('b"}')]);
    expect(() => parseJsonBytes(b, 'config.json')).toThrow(`config.json: hostname: must be valid UTF-8 (byte 0xff at offset ${b.indexOf(0xff)})`);
    const env = bytes(cfg(() => undefined));
    const at = env.indexOf('TERM=xterm') + 5;
    env[at] = 0xc3; // a lead byte followed by an ASCII letter
    expect(() => parseJsonBytes(env, 'config.json')).toThrow(`config.json: process.env[1]: must be valid UTF-8 (byte 0xc3 at offset ${at})`);
  });

  it('invalid UTF-8 outside strings, an encoded surrogate, a byte order mark', () => {
    expect(() => parseJsonBytes(Buffer.from([0xff, 0x7b, 0x7d]), 'config.json')).toThrow('config.json: invalid UTF-8 (byte 0xff at offset 0)');
    const cesu = Buffer.concat([Buffer.from('{"hostname":"'), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from('"}')]);
    expect(() => parseJsonBytes(cesu, 'config.json')).toThrow('config.json: hostname: must be valid UTF-8 (byte 0xed at offset 13)');
    expect(() => parseJsonBytes(Buffer.from('\ufeff{}'), 'config.json')).toThrow(/config\.json: invalid JSON/);
  });

  it('badUtf8At', () => {
    expect(badUtf8At(Buffer.from('héllo 😀 ✓'))).toBe(-1);
    for (const [b, at] of [[[0x80], 0], [[0x61, 0xc0, 0x80], 1], [[0xe0, 0x80, 0x80], 0], [[0xf4, 0x90, 0x80, 0x80], 0], [[0x61, 0xe2, 0x82], 1], [[0xf5, 0x80, 0x80, 0x80], 0]] as Array<[number[], number]>) {
      expect(badUtf8At(Uint8Array.from(b)), JSON.stringify(b)).toBe(at);
    }
  });
});

describe('validateState', () => {
  const state = { ociVersion: '1.3.0', id: 'x', status: 'created', pid: 12, bundle: '/b', annotations: {} };

  it('accepts a state document', () => {
    expect(validateState(state)).toEqual([]);
    expect(validateState({ ociVersion: '1.3.0', id: 'x', status: 'stopped', bundle: '/b' })).toEqual([]);
  });

  it('rejects a bad status', () => {
    expect(validateState({ ...state, status: 'bogus' })).toEqual(['status: must be one of creating, created, running, stopped']);
  });

  it('rejects missing fields and bad types', () => {
    const { id: _id, ...noId } = state;
    expect(validateState(noId)).toEqual(['id: is required']);
    expect(validateState({ ...state, pid: '12' })).toEqual(['pid: must be an integer']);
    const { pid: _pid, ...noPid } = state;
    expect(validateState({ ...noPid, status: 'running' })).toEqual(['pid: is required when status is "running"']);
  });
});

describe('schemaValidPart (what runts validate gives the plan rules)', () => {
  it('drops each refused value with the object field that holds it, arrays whole; the rest is a valid Spec', () => {
    const doc = runcDefault();
    doc.linux.resources = { memory: { limit: '1g', swap: 5 }, pids: { limit: 3 } };
    doc.process.rlimits = [{ type: 'NOFILE', soft: 1, hard: 1 }];
    doc.mounts.push('not a mount');
    const part = schemaValidPart(doc)!;
    expect(part).toBeDefined();
    expect(validateConfig(part)).toEqual([]);
    expect(part.linux!.resources).toEqual({ memory: { swap: 5 }, pids: { limit: 3 } });
    expect(part.process!.rlimits).toBeUndefined();
    expect(part.mounts).toBeUndefined();
    expect(part.hostname).toBe('runc');
    // the document itself is left as it was
    expect(doc.linux.resources.memory.limit).toBe('1g');
    expect(doc.mounts).toHaveLength(8);
  });

  it('nothing when a required top-level field is refused, or the document is not an object', () => {
    const doc = runcDefault();
    doc.root = 'rootfs';
    expect(schemaValidPart(doc)).toBeUndefined();
    expect(schemaValidPart([])).toBeUndefined();
    expect(schemaValidPart(runcDefault())).toEqual(runcDefault());
  });
});
