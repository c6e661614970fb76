// cgroups logic without the kernel: the host layout parser, cgroupsPath resolution, value conversions, the
// eBPF device program (run by a small interpreter here), and the v2 writer against a fake cgroup2 tree.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { containerPath, dirIn, parseLayout } from '../../src/cgroups/layout';
import { blkioToIoWeight, deviceLine, deviceRules, hugePageSize, sharesToWeight } from '../../src/cgroups/fields';
import { applyV2, controllersFor, cpuMax, enableControllers, swapMax } from '../../src/cgroups/v2';
import { deviceProgram } from '../../src/cgroups/bpf';
import { parseBytes, requested } from '../../src/commands/update';
import { parseDuration } from '../../src/commands/events';
import { joinPlan } from '../../src/cgroups';
import { buildPlan } from '../../src/plan/build';
import { baseSpec, fakeFacts, planOpts } from './fakefacts';

const HYBRID_MOUNTINFO = `
25 30 0:23 / /sys rw,nosuid,nodev,noexec,relatime shared:7 - sysfs sysfs rw
26 25 0:24 / /sys/fs/cgroup ro,nosuid,nodev,noexec shared:8 - tmpfs tmpfs ro,mode=755
27 26 0:25 / /sys/fs/cgroup/unified rw,nosuid,nodev,noexec,relatime shared:9 - cgroup2 cgroup2 rw,nsdelegate
28 26 0:26 / /sys/fs/cgroup/systemd rw,nosuid,nodev,noexec,relatime shared:10 - cgroup cgroup rw,xattr,name=systemd
31 26 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid,nodev,noexec,relatime shared:13 - cgroup cgroup rw,cpu,cpuacct
32 26 0:30 / /sys/fs/cgroup/memory rw,nosuid,nodev,noexec,relatime shared:14 - cgroup cgroup rw,memory
33 26 0:31 /sub /sys/fs/cgroup/pids rw,nosuid,nodev,noexec,relatime shared:15 - cgroup cgroup rw,pids
`;
const HYBRID_SELF = `5:pids:/sub/x
4:memory:/user.slice/me
3:cpu,cpuacct:/
1:name=systemd:/user.slice
0::/user.slice
`;

describe('layout', () => {
  it('parses a hybrid host: v1 hierarchies with their own cgroup, and the unified cgroup2', () => {
    const l = parseLayout(HYBRID_MOUNTINFO, HYBRID_SELF);
    expect(l.mode).toBe('hybrid');
    expect(l.v1.map((h) => [h.mount, h.controllers.join(','), h.own])).toEqual([
      ['/sys/fs/cgroup/systemd', 'name=systemd', '/user.slice'],
      ['/sys/fs/cgroup/cpu,cpuacct', 'cpu,cpuacct', '/'],
      ['/sys/fs/cgroup/memory', 'memory', '/user.slice/me'],
      ['/sys/fs/cgroup/pids', 'pids', '/sub/x'],
    ]);
    expect(l.v2).toMatchObject({ mount: '/sys/fs/cgroup/unified', own: '/user.slice' });
  });

  it('parses a pure v2 host and a pure v1 host', () => {
    const v2 = parseLayout('30 26 0:25 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw\n', '0::/init.scope\n');
    expect(v2.mode).toBe('v2');
    expect(v2.v2).toMatchObject({ mount: '/sys/fs/cgroup', own: '/init.scope' });
    const v1 = parseLayout('32 26 0:30 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n', '4:memory:/\n');
    expect(v1.mode).toBe('v1');
    expect(() => parseLayout('', '')).toThrow(/no cgroup hierarchy/);
  });

  it('cgroupsPath: relative under our own cgroup, absolute from the root, the mount root taken off', () => {
    const l = parseLayout(HYBRID_MOUNTINFO, HYBRID_SELF);
    const mem = l.v1.find((h) => h.controllers.includes('memory'))!;
    const pids = l.v1.find((h) => h.controllers.includes('pids'))!;
    expect(dirIn(mem, containerPath(undefined, 'ct1'))).toBe('/sys/fs/cgroup/memory/user.slice/me/ct1');
    expect(dirIn(mem, containerPath('/a/b', 'ct1'))).toBe('/sys/fs/cgroup/memory/a/b');
    expect(dirIn(mem, containerPath('rel/x', 'ct1'))).toBe('/sys/fs/cgroup/memory/user.slice/me/rel/x');
    // the pids mount shows the hierarchy from /sub down
    expect(dirIn(pids, containerPath('/sub/ct', 'ct1'))).toBe('/sys/fs/cgroup/pids/ct');
    expect(() => containerPath('/a/../../etc', 'x')).toThrow(/linux\.cgroupsPath: must not contain/);
    expect(() => containerPath('system.slice:runts:x', 'x')).toThrow(/systemd/);
    expect(() => containerPath('/', 'x')).toThrow(/root cgroup/);
  });
});

describe('conversions', () => {
  it('shares → cpu.weight and blkio weight → io.weight as runc converts them', () => {
    expect(sharesToWeight(2)).toBe(1);
    expect(sharesToWeight(1024)).toBe(39);
    expect(sharesToWeight(262144)).toBe(10000);
    expect(blkioToIoWeight(10)).toBe(1);
    expect(blkioToIoWeight(500)).toBe(4950);
    expect(blkioToIoWeight(1000)).toBe(10000);
  });

  it('memory.swap.max is the swap part of memory+swap; cpu.max keeps the current quota for a new period', () => {
    expect(swapMax(100, 300)).toBe('200');
    expect(swapMax(100, -1)).toBe('max');
    expect(swapMax(100, undefined)).toBeUndefined();
    expect(() => swapMax(300, 100)).toThrow(/linux\.resources\.memory\.swap: must be at least/);
    expect(() => swapMax(undefined, 100)).toThrow(/needs a memory limit/);
    expect(cpuMax(50000, 100000)).toBe('50000 100000');
    expect(cpuMax(-1, undefined)).toBe('max');
    expect(cpuMax(undefined, 200000, '30000 100000\n')).toBe('30000 200000');
    expect(cpuMax(undefined, undefined)).toBeUndefined();
  });

  it('page sizes, device lines, the default device list', () => {
    expect(hugePageSize('2MB', 'f')).toBe('2MB');
    expect(hugePageSize('1gb', 'f')).toBe('1GB');
    expect(() => hugePageSize('2M', 'hugepageLimits[0].pageSize')).toThrow(/linux\.resources\.hugepageLimits\[0\]\.pageSize/);
    const rules = deviceRules([{ allow: true, type: 'c', major: 10, minor: 229, access: 'r' }]);
    expect(rules.map(deviceLine).slice(0, 3)).toEqual(['a', 'c 10:229 r', 'c *:* m']);
    expect(rules.map(deviceLine)).toContain('c 136:* rwm');
    expect(() => deviceRules([{ allow: true, access: 'x' }])).toThrow(/linux\.resources\.devices\[0\]\.access/);
    // an empty type means all devices, as an unset one (runc: "" is "a")
    expect(deviceRules([{ allow: true, type: '' as any, access: 'rwm' }])[1]).toEqual({ allow: true, type: 'a', major: -1, minor: -1, access: 'rwm' });
    // access as runc takes it (any order, repeats) goes to the kernel in its order, once each
    const any = deviceRules([{ allow: true, type: 'c', major: 1, minor: 3, access: 'wr' }, { allow: false, type: 'b', major: 8, minor: 0, access: 'mmwrw' }, { allow: true, type: 'c', major: 5, minor: 1, access: 'rrr' }]);
    expect(any.slice(1, 4).map(deviceLine)).toEqual(['c 1:3 rw', 'b 8:0 rwm', 'c 5:1 r']);
  });

  it('update flags: sizes with units, -1, and bad values named', () => {
    expect(parseBytes('--memory', '64m')).toBe(64 << 20);
    expect(parseBytes('--memory', '1g')).toBe(1 << 30);
    expect(parseBytes('--memory', '512k')).toBe(512 << 10);
    expect(parseBytes('--memory', '100')).toBe(100);
    expect(parseBytes('--memory-swap', '-1')).toBe(-1);
    expect(() => parseBytes('--memory', 'lots')).toThrow(/--memory/);
    expect(requested({ memory: '1m', pidsLimit: '5', cpuQuota: '-1' })).toEqual({ memory: { limit: 1 << 20 }, cpu: { quota: -1 }, pids: { limit: 5 } });
    expect(() => requested({ cpuShare: 'x' })).toThrow(/--cpu-share/);
    expect(parseDuration('5s')).toBe(5000);
    expect(parseDuration('1m30s')).toBe(90000);
    expect(parseDuration('250ms')).toBe(250);
    expect(() => parseDuration('5')).toThrow(/--interval/);
  });
});

/** A tiny interpreter for the instructions deviceProgram emits (enough to check what the program decides). */
function runProgram(prog: Buffer, type: 'c' | 'b', major: number, minor: number, access: string): number {
  const acc = (access.includes('m') ? 1 : 0) | (access.includes('r') ? 2 : 0) | (access.includes('w') ? 4 : 0);
  const ctx = [(acc << 16) | (type === 'c' ? 2 : 1), major, minor];
  const r = new Array<number>(11).fill(0);
  for (let pc = 0, steps = 0; steps < 10000; pc++, steps++) {
    const o = pc * 8;
    if (o >= prog.length) throw new Error('fell off the end');
    const code = prog.readUInt8(o);
    const dst = prog.readUInt8(o + 1) & 0xf;
    const src = prog.readUInt8(o + 1) >> 4;
    const off = prog.readInt16LE(o + 2);
    const imm = prog.readInt32LE(o + 4);
    switch (code) {
      case 0x61: r[dst] = ctx[off / 4] >>> 0; break;
      case 0xbc: r[dst] = r[src] >>> 0; break;
      case 0x54: r[dst] = (r[dst] & imm) >>> 0; break;
      case 0x74: r[dst] = r[dst] >>> imm; break;
      case 0xb7: r[dst] = imm; break;
      case 0x55: if (r[dst] !== imm) pc += off; break;
      case 0x15: if (r[dst] === imm) pc += off; break;
      case 0x95: return r[0];
      default: throw new Error(`opcode 0x${code.toString(16)}`);
    }
  }
  throw new Error('no exit');
}

describe('eBPF device program', () => {
  const prog = deviceProgram(deviceRules([
    { allow: true, type: 'c', major: 10, minor: 229, access: 'rw' },
    { allow: false, type: 'c', major: 10, minor: 229, access: 'w' },
    { allow: true, type: 'b', major: 8, minor: null, access: 'r' },
  ]));

  it('denies what no rule allows, allows the defaults, and a later deny overrides an earlier allow', () => {
    expect(runProgram(prog, 'c', 1, 3, 'rw')).toBe(1); // /dev/null
    expect(runProgram(prog, 'c', 136, 7, 'rw')).toBe(1); // a pts
    expect(runProgram(prog, 'c', 4, 1, 'r')).toBe(0); // a host tty
    expect(runProgram(prog, 'c', 7, 0, 'm')).toBe(1); // mknod of any char device
    expect(runProgram(prog, 'c', 10, 229, 'r')).toBe(1);
    expect(runProgram(prog, 'c', 10, 229, 'w')).toBe(0);
    expect(runProgram(prog, 'c', 10, 229, 'rw')).toBe(0);
    expect(runProgram(prog, 'b', 8, 3, 'r')).toBe(1); // major wildcard minor
    expect(runProgram(prog, 'b', 8, 3, 'rw')).toBe(0);
    expect(runProgram(prog, 'c', 8, 3, 'r')).toBe(0); // the block rule is not for char devices
  });

  it('an allow-all rule ends the program (nothing after it is reachable), and an empty list denies all but the defaults', () => {
    const all = deviceProgram(deviceRules([{ allow: true, access: 'rwm' }]));
    expect(runProgram(all, 'c', 4, 1, 'rw')).toBe(1);
    expect(runProgram(all, 'b', 8, 0, 'rwm')).toBe(1);
    const none = deviceProgram(deviceRules(undefined));
    expect(runProgram(none, 'c', 4, 1, 'r')).toBe(0);
    expect(runProgram(none, 'c', 1, 5, 'r')).toBe(1);
  });
});

describe('v2 writer on a fake cgroup2 tree', () => {
  let root: string;
  let dir: string;
  const files = ['cgroup.procs', 'memory.max', 'memory.low', 'memory.swap.max', 'memory.current', 'cpu.weight', 'cpu.max', 'cpu.max.burst',
    'cpu.idle', 'cpuset.cpus', 'cpuset.mems', 'pids.max', 'io.weight', 'io.max', 'hugetlb.2MB.max', 'hugetlb.2MB.rsvd.max', 'rdma.max', 'memory.oom.group'];
  const get = (f: string) => fs.readFileSync(path.join(dir, f), 'utf8');

  beforeAll(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'runts-cg2-'));
    fs.writeFileSync(path.join(root, 'cgroup.controllers'), 'cpuset cpu io memory hugetlb pids rdma\n');
    fs.writeFileSync(path.join(root, 'cgroup.subtree_control'), 'memory\n');
    fs.mkdirSync(path.join(root, 'a'));
    fs.writeFileSync(path.join(root, 'a', 'cgroup.controllers'), 'memory pids\n');
    fs.writeFileSync(path.join(root, 'a', 'cgroup.subtree_control'), '');
    dir = path.join(root, 'a', 'ct');
    fs.mkdirSync(dir);
    for (const f of files) fs.writeFileSync(path.join(dir, f), '');
    fs.writeFileSync(path.join(dir, 'cpu.max'), 'max 100000\n');
  });
  afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

  it('writes each field to its v2 file with runc\'s conversions', () => {
    applyV2(dir, {
      memory: { limit: 100 << 20, reservation: 50 << 20, swap: 300 << 20 },
      cpu: { shares: 1024, quota: 50000, period: 100000, burst: 1000, idle: 1, cpus: '0-1', mems: '0' },
      pids: { limit: 0 },
      blockIO: { weight: 500, weightDevice: [{ major: 8, minor: 0, weight: 1000 }], throttleReadBpsDevice: [{ major: 8, minor: 0, rate: 1000 }] },
      hugepageLimits: [{ pageSize: '2MB', limit: 4 << 20 }],
      rdma: { mlx5_1: { hcaHandles: 3, hcaObjects: 10000 } },
      unified: { 'memory.oom.group': '1' },
    }, false);
    expect(get('memory.max')).toBe(String(100 << 20));
    expect(get('memory.low')).toBe(String(50 << 20));
    expect(get('memory.swap.max')).toBe(String(200 << 20));
    expect(get('cpu.weight')).toBe('39');
    expect(get('cpu.max')).toBe('50000 100000');
    expect(get('cpu.max.burst')).toBe('1000');
    expect(get('cpu.idle')).toBe('1');
    expect(get('cpuset.cpus')).toBe('0-1');
    expect(get('pids.max')).toBe('max');
    // a fake file keeps the last write: the device's weight line came after the default weight
    expect(get('io.weight')).toBe('8:0 10000');
    expect(get('io.max')).toBe('8:0 rbps=1000');
    expect(get('hugetlb.2MB.max')).toBe(String(4 << 20));
    expect(get('hugetlb.2MB.rsvd.max')).toBe(String(4 << 20));
    expect(get('rdma.max')).toBe('mlx5_1 hca_handle=3 hca_object=10000');
    expect(get('memory.oom.group')).toBe('1');
  });

  it('refuses what v2 does not have, naming the field', () => {
    expect(() => applyV2(dir, { memory: { swappiness: 10 } }, false)).toThrow(/linux\.resources\.memory\.swappiness/);
    expect(() => applyV2(dir, { cpu: { realtimeRuntime: 1000 } }, false)).toThrow(/linux\.resources\.cpu\.realtimeRuntime/);
    expect(() => applyV2(dir, { network: { classID: 1 } }, false)).toThrow(/linux\.resources\.network/);
    expect(() => applyV2(dir, { unified: { 'memory.nope': '1' } }, false)).toThrow(/linux\.resources\.unified\["memory\.nope"\]: no such cgroup file/);
    expect(() => applyV2(dir, { unified: { '../x': '1' } }, false)).toThrow(/must name a file/);
  });

  it('checkBeforeUpdate refuses a limit below the current usage', () => {
    fs.writeFileSync(path.join(dir, 'memory.current'), String(80 << 20));
    expect(() => applyV2(dir, { memory: { limit: 10 << 20, checkBeforeUpdate: true } }, true)).toThrow(/below the container's current memory usage/);
    fs.writeFileSync(path.join(dir, 'memory.max'), ''); // kernel files replace their value; a plain file needs emptying
    applyV2(dir, { memory: { limit: 90 << 20, checkBeforeUpdate: true } }, true);
    expect(get('memory.max')).toBe(String(90 << 20));
  });

  it('enables the needed controllers from the root down, only those each level offers', () => {
    const want = controllersFor({ memory: { limit: 1 }, pids: { limit: 3 }, cpu: { cpus: '0' }, unified: { 'io.max': 'x' } });
    expect(want.sort()).toEqual(['cpuset', 'io', 'memory', 'pids']);
    enableControllers(root, dir, want);
    // the root had memory already: the rest is added (one write: the fake file keeps it)
    expect(fs.readFileSync(path.join(root, 'cgroup.subtree_control'), 'utf8')).toBe('+cpuset +io +pids');
    expect(fs.readFileSync(path.join(root, 'a', 'cgroup.subtree_control'), 'utf8')).toBe('+memory +pids');
  });
});

describe('joinPlan and the stub\'s join steps', () => {
  const hybrid = { version: 1 as const, paths: { pids: '/sys/fs/cgroup/pids/x', memory: '/sys/fs/cgroup/memory/x' }, unified: '/sys/fs/cgroup/unified/x', created: [] };
  const plan = (cgroupJoin: ReturnType<typeof joinPlan>) => buildPlan(baseSpec(), fakeFacts(), { ...planOpts, cgroupJoin }).steps;

  it('v1 joins come first (before any namespace), the cgroup2 target right before the first FORK only', () => {
    const j = joinPlan(hybrid, true);
    expect(j).toEqual({ tasks: ['/sys/fs/cgroup/pids/x/tasks', '/sys/fs/cgroup/memory/x/tasks'], forkInto: '/sys/fs/cgroup/unified/x', byRuntime: [] });
    expect(plan(j).map((s) => s.op).slice(0, 7)).toEqual(['CGROUP_JOIN', 'CGROUP_JOIN', 'CLOSE', 'CLOEXEC_FROM', 'UNSHARE', 'CGROUP_FORK_INTO', 'FORK']);
  });

  it('where the stub may not fork into cgroup2, runts writes the pid there', () => {
    const j = joinPlan(hybrid, false);
    expect(j.forkInto).toBeUndefined();
    expect(j.byRuntime).toEqual(['/sys/fs/cgroup/unified/x']);
    expect(plan(j).map((s) => s.op)).not.toContain('CGROUP_FORK_INTO');
  });

  it('pure v2: no v1 joins', () => {
    const j = joinPlan({ version: 2, paths: {}, unified: '/sys/fs/cgroup/x', created: [] }, true);
    expect(j).toEqual({ tasks: [], forkInto: '/sys/fs/cgroup/x', byRuntime: [] });
  });
});

describe('events --stats numbers', () => {
  it('exactNum keeps 64-bit counters exact; jsonExact prints them as JSON numbers', async () => {
    const { exactNum, jsonExact, mulExact } = await import('../../src/cgroups/stats');
    expect(exactNum('9223372036854771712')).toBe(9223372036854771712n);
    expect(exactNum('18446744073709551615')).toBe(18446744073709551615n);
    expect(exactNum('4096\n')).toBe(4096);
    expect(exactNum('max')).toBeUndefined();
    expect(mulExact(2 ** 50, 1000)).toBe(1125899906842624000n);
    expect(mulExact(12, 1000)).toBe(12000);
    const text = jsonExact({ a: { limit: 9223372036854771712n, usage: 12, s: 'x"\u0000big:1"' }, l: [18446744073709551615n] });
    expect(text).toBe('{"a":{"limit":9223372036854771712,"usage":12,"s":"x\\"\\u0000big:1\\""},"l":[18446744073709551615]}');
  });
});

describe('events --stats on cgroup v2 files', () => {
  it('an unlimited memory.max is the largest uint64, as runc reports it; big counters stay exact', async () => {
    const { readStats, jsonExact } = await import('../../src/cgroups/stats');
    const fs = await import('fs');
    const os = await import('os');
    const path = await import('path');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'runts-stats-'));
    try {
      const files: Record<string, string> = {
        'cpu.stat': 'usage_usec 9007199254740993\nuser_usec 1\nsystem_usec 2\n',
        'memory.current': '4096\n', 'memory.max': 'max\n', 'memory.events': 'max 0\noom_kill 0\n',
        'memory.stat': 'file 18446744073709551000\n', 'pids.current': '1\n', 'pids.max': 'max\n',
      };
      for (const [f, t] of Object.entries(files)) fs.writeFileSync(path.join(dir, f), t);
      const text = jsonExact(readStats({ version: 2, unified: dir } as any));
      expect(text).toContain('"usage":{"limit":18446744073709551615,"usage":4096,"failcnt":0}');
      expect(text).toContain('"total":9007199254740993000');
      expect(text).toContain('"cache":18446744073709551000');
      expect(text).toContain('"pids":{"current":1}');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('destroyCgroups on a directory tree', () => {
  it('removes an empty leaf at once, and a leaf with directories below it (listed only then), and its empty parent', async () => {
    const { destroyCgroups } = await import('../../src/cgroups/remove');
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'runts-cgrm-'));
    try {
      const parent = path.join(root, 'pod');
      const [a, b] = [path.join(parent, 'a'), path.join(root, 'b')];
      fs.mkdirSync(path.join(a, 'x', 'y'), { recursive: true });
      fs.mkdirSync(b);
      destroyCgroups({ version: 1, paths: { cpu: a, pids: b }, created: [parent, a, b] } as never);
      expect(fs.readdirSync(root)).toEqual([]);
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });
});
