// cgroups on this host's real hierarchies (hybrid: v1 controllers plus the unified cgroup2): every resource is
// read back from the container's cgroup files, limits are proven by what the container hits (OOM kill, failing
// fork, refused device), and nothing of ours is left in any hierarchy afterwards.
import * as fs from 'fs';
import * as path from 'path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Ctx, baseConfig, bundle, cleanupContext, context, rt, sleep, spawn, stateOf } from '../helpers';

const CG = '/sys/fs/cgroup';
const TOP = `runts-test-${process.pid}`;
let c: Ctx;
let seq = 0;

/** The v1 hierarchies of this host (memory, cpu, pids, ...; not unified) by a controller they hold. */
function hier(ctrl: string): string {
  for (const name of fs.readdirSync(CG)) {
    if (name === 'unified') continue;
    if (name.split(',').includes(ctrl)) return path.join(CG, name);
  }
  throw new Error(`no ${ctrl} hierarchy`);
}
const read = (ctrl: string, rel: string, file: string) => fs.readFileSync(path.join(hier(ctrl), rel, file), 'utf8').trim();
const readU = (rel: string, file: string) => fs.readFileSync(path.join(CG, 'unified', rel, file), 'utf8').trim();

/** The root disk's major:minor (a device the blkio throttle accepts). */
function rootDisk(): [number, number] {
  for (const line of fs.readFileSync('/proc/partitions', 'utf8').split('\n').slice(2)) {
    const [maj, min, , name] = line.trim().split(/\s+/);
    if (name && fs.existsSync(`/sys/block/${name}`)) return [Number(maj), Number(min)];
  }
  throw new Error('no block device');
}

/** Our directories in every hierarchy (v1 and unified). */
function ours(): string[] {
  const out: string[] = [];
  for (const name of fs.readdirSync(CG)) {
    if (fs.existsSync(path.join(CG, name, TOP))) out.push(path.join(CG, name, TOP));
  }
  return out;
}

/**
 * Files a new v1 cgroup of this host has (some are missing from the root cgroup): the features the tests below
 * need or, where the host lacks one, whose absence they check runts reports. Probed in a cgroup of our own.
 */
function cgroupFiles(ctrl: string): Set<string> {
  const probe = path.join(hier(ctrl), `${TOP}-probe`);
  fs.mkdirSync(probe);
  try {
    return new Set(fs.readdirSync(probe));
  } finally {
    fs.rmdirSync(probe);
  }
}
const mounted = (ctrl: string) => fs.readdirSync(CG).some((n) => n !== 'unified' && n.split(',').includes(ctrl));
const host = (() => {
  const cpu = cgroupFiles('cpu');
  return {
    memsw: cgroupFiles('memory').has('memory.memsw.limit_in_bytes'),
    burst: cpu.has('cpu.cfs_burst_us'),
    idle: cpu.has('cpu.idle'),
    rt: cpu.has('cpu.rt_runtime_us'),
    swap: !/^SwapTotal:\s+0 kB$/m.test(fs.readFileSync('/proc/meminfo', 'utf8')),
  };
})();
/** Print why part of a test does not run here (vitest shows it with the test). */
const lacks = (what: string) => console.log(`this host lacks ${what}`);

interface Started { id: string; rel: string; pid: number }

/** create + start a container running `script` in cgroup /<TOP>/<id>. */
function startCt(script: string, change?: (cfg: any) => void, start = true, env?: NodeJS.ProcessEnv): Started {
  const id = `cg${process.pid}-${++seq}`;
  const rel = `${TOP}/${id}`;
  const cfg = baseConfig(['sh', '-c', script]);
  cfg.linux.cgroupsPath = `/${rel}`;
  change?.(cfg);
  const b = bundle(c, cfg);
  const r = rt(c, ['create', '--bundle', b, id], { env });
  expect(r.status, r.stderr).toBe(0);
  if (start) {
    const s = rt(c, ['start', id]);
    expect(s.status, s.stderr).toBe(0);
  }
  return { id, rel, pid: stateOf(c, id).pid };
}

function remove(ct: Started): void {
  const r = rt(c, ['delete', '--force', ct.id]);
  expect(r.status, r.stderr).toBe(0);
}

/** Run to completion in cgroup /<TOP>/<id>: output and exit status. */
function runCt(script: string, change?: (cfg: any) => void, env?: NodeJS.ProcessEnv) {
  const id = `cg${process.pid}-${++seq}`;
  const cfg = baseConfig(['sh', '-c', script]);
  cfg.linux.cgroupsPath = `/${TOP}/${id}`;
  change?.(cfg);
  return rt(c, ['run', '--bundle', bundle(c, cfg), id], { timeout: 60_000, env });
}

beforeAll(() => { c = context('cgroups'); });
afterAll(() => {
  cleanupContext(c);
  expect(ours()).toEqual([]);
});

describe('placement', () => {
  it('the init is in the container cgroup of every v1 hierarchy and of unified, and sees it as / in its cgroup namespace', () => {
    const ct = startCt('cat /proc/self/cgroup > /tmp/cg; sleep 30', (cfg) => cfg.linux.namespaces.push({ type: 'cgroup' }));
    try {
      const host = fs.readFileSync(`/proc/${ct.pid}/cgroup`, 'utf8').trim().split('\n');
      for (const line of host) {
        const [, ctrl, p] = line.split(':');
        expect(p, line).toBe(`/${ct.rel}`);
        if (ctrl === '') expect(readU(ct.rel, 'cgroup.procs').split('\n')).toContain(String(ct.pid));
      }
      expect(host.some((l) => l.startsWith('0::'))).toBe(true);
      const r = rt(c, ['exec', ct.id, 'cat', '/proc/self/cgroup']);
      expect(r.status, r.stderr).toBe(0);
      // inside its cgroup namespace every hierarchy shows the container's cgroup as the root
      for (const line of r.stdout.trim().split('\n')) expect(line.split(':')[2], line).toBe('/');
    } finally {
      remove(ct);
    }
    expect(fs.existsSync(path.join(hier('memory'), ct.rel))).toBe(false);
  });

  it('with a user namespace too (the cgroup2 join is then runts\' write, not the stub\'s CLONE_INTO_CGROUP)', () => {
    const ct = startCt('sleep 30', (cfg) => {
      cfg.linux.namespaces.push({ type: 'user' });
      cfg.linux.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
      cfg.linux.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
    });
    try {
      const host = fs.readFileSync(`/proc/${ct.pid}/cgroup`, 'utf8').trim().split('\n');
      for (const line of host) expect(line.split(':')[2], line).toBe(`/${ct.rel}`);
      expect(host.some((l) => l.startsWith('0::'))).toBe(true);
      expect(read('pids', ct.rel, 'cgroup.procs').split('\n')).toEqual([String(ct.pid)]);
    } finally {
      remove(ct);
    }
  });

  it('without cgroupsPath the cgroup is <id> under runts\' own cgroup of each hierarchy', () => {
    const id = `cgdef${process.pid}`;
    const b = bundle(c, baseConfig(['sleep', '30']));
    expect(rt(c, ['run', '-d', '--bundle', b, id]).status).toBe(0);
    try {
      const own = Object.fromEntries(fs.readFileSync('/proc/self/cgroup', 'utf8').trim().split('\n').map((l) => {
        const [, ctrl, p] = l.split(':');
        return [ctrl, p];
      }));
      const pid = stateOf(c, id).pid;
      const seen = Object.fromEntries(fs.readFileSync(`/proc/${pid}/cgroup`, 'utf8').trim().split('\n').map((l) => {
        const [, ctrl, p] = l.split(':');
        return [ctrl, p];
      }));
      for (const ctrl of Object.keys(own)) expect(seen[ctrl], ctrl).toBe(path.posix.join(own[ctrl], id));
    } finally {
      expect(rt(c, ['delete', '--force', id]).status).toBe(0);
    }
    expect(fs.existsSync(path.join(hier('memory'), fs.readFileSync('/proc/self/cgroup', 'utf8').match(/:memory:(.*)/)![1], id))).toBe(false);
  });

  it('a cgroup mount with a cgroup namespace shows the container its own limits at /sys/fs/cgroup', () => {
    const r = runCt('cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/pids/pids.max', (cfg) => {
      cfg.linux.namespaces.push({ type: 'cgroup' });
      cfg.mounts.push({ destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['nosuid', 'noexec', 'nodev', 'ro'] });
      cfg.linux.resources = { memory: { limit: 48 * 1024 * 1024 }, pids: { limit: 33 } };
    });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.trim().split('\n')).toEqual([String(48 * 1024 * 1024), '33']);
  });
});

describe('a cgroup mount without a cgroup namespace', () => {
  const script = 'cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/pids/pids.max; ls /sys/fs/cgroup/memory | grep -c runts-test; grep " /sys/fs/cgroup/memory " /proc/self/mountinfo';
  const change = (cfg: any) => {
    cfg.mounts.push({ destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['nosuid', 'noexec', 'nodev', 'ro'] });
    cfg.linux.resources = { memory: { limit: 40 << 20 }, pids: { limit: 21 } };
  };

  it('shows the container its own cgroup of each hierarchy (a read-only bind, as runc does), not the host\'s tree', () => {
    const r = runCt(script, change);
    expect(r.status, r.stderr).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines.slice(0, 3)).toEqual([String(40 << 20), '21', '0']);
    // the mount's root is the container's cgroup, not the hierarchy's
    expect(lines[3].split(' ')[3]).toMatch(new RegExp(`^/${TOP}/cg`));
    expect(lines[3].split(' ')[5]).toMatch(/^ro,/);
  });

  it('also in a user namespace, where a new cgroup v1 mount is not allowed', () => {
    const r = runCt(script, (cfg) => {
      change(cfg);
      cfg.linux.namespaces.push({ type: 'user' });
      cfg.linux.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
      cfg.linux.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
    });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.trim().split('\n').slice(0, 2)).toEqual([String(40 << 20), '21']);
  });
});

describe('resources are written to the cgroup files', () => {
  it('memory, cpu, cpuset, pids, blkio throttle and devices, read back', () => {
    const [maj, min] = rootDisk();
    const ct = startCt('sleep 30', (cfg) => {
      cfg.linux.resources = {
        memory: { limit: 64 << 20, reservation: 32 << 20, ...(host.memsw && { swap: 128 << 20 }), swappiness: 17, disableOOMKiller: true, useHierarchy: true },
        cpu: { shares: 512, quota: 40000, period: 200000, ...(host.burst && { burst: 1000 }), cpus: '0', mems: '0', ...(host.idle && { idle: 0 }) },
        pids: { limit: 42 },
        blockIO: {
          throttleReadBpsDevice: [{ major: maj, minor: min, rate: 1048576 }],
          throttleWriteBpsDevice: [{ major: maj, minor: min, rate: 2097152 }],
          throttleReadIOPSDevice: [{ major: maj, minor: min, rate: 100 }],
          throttleWriteIOPSDevice: [{ major: maj, minor: min, rate: 200 }],
        },
        devices: [{ allow: false, access: 'rwm' }, { allow: true, type: 'c', major: 1, minor: 11, access: 'r' }],
      };
    });
    try {
      const mem = (f: string) => read('memory', ct.rel, f);
      expect(mem('memory.limit_in_bytes')).toBe(String(64 << 20));
      expect(mem('memory.soft_limit_in_bytes')).toBe(String(32 << 20));
      if (host.memsw) expect(mem('memory.memsw.limit_in_bytes')).toBe(String(128 << 20));
      expect(mem('memory.swappiness')).toBe('17');
      expect(mem('memory.oom_control')).toMatch(/^oom_kill_disable 1$/m);
      expect(mem('memory.use_hierarchy')).toBe('1');
      expect(read('cpu', ct.rel, 'cpu.shares')).toBe('512');
      expect(read('cpu', ct.rel, 'cpu.cfs_period_us')).toBe('200000');
      expect(read('cpu', ct.rel, 'cpu.cfs_quota_us')).toBe('40000');
      if (host.burst) expect(read('cpu', ct.rel, 'cpu.cfs_burst_us')).toBe('1000');
      if (host.idle) expect(read('cpu', ct.rel, 'cpu.idle')).toBe('0');
      expect(read('cpuset', ct.rel, 'cpuset.cpus')).toBe('0');
      expect(read('cpuset', ct.rel, 'cpuset.mems')).toBe('0');
      expect(read('pids', ct.rel, 'pids.max')).toBe('42');
      expect(read('blkio', ct.rel, 'blkio.throttle.read_bps_device')).toBe(`${maj}:${min} 1048576`);
      expect(read('blkio', ct.rel, 'blkio.throttle.write_bps_device')).toBe(`${maj}:${min} 2097152`);
      expect(read('blkio', ct.rel, 'blkio.throttle.read_iops_device')).toBe(`${maj}:${min} 100`);
      expect(read('blkio', ct.rel, 'blkio.throttle.write_iops_device')).toBe(`${maj}:${min} 200`);
      // deny all, the config's rule, then the defaults every container gets
      const list = read('devices', ct.rel, 'devices.list').split('\n');
      expect(list).toContain('c 1:11 r');
      expect(list).toContain('c 1:3 rwm');
      expect(list).toContain('c 136:* rwm');
      expect(list).not.toContain('a *:* rwm');
      expect(fs.readFileSync(`/proc/${ct.pid}/status`, 'utf8')).toMatch(/^Cpus_allowed_list:\s+0$/m);
    } finally {
      remove(ct);
    }
  });

  const lacking = ([
    [!host.memsw, 'swap accounting (memory.memsw.*)', { memory: { limit: 64 << 20, swap: 128 << 20 } }, /linux\.resources\.memory\.swap: /],
    [!host.burst, 'cpu.cfs_burst_us', { cpu: { burst: 1000 } }, /linux\.resources\.cpu\.burst: /],
    [!host.idle, 'cpu.idle', { cpu: { idle: 1 } }, /linux\.resources\.cpu\.idle: /],
  ] as const).filter(([missing]) => missing);
  if (!lacking.length) console.log('this host has memory.memsw.*, cpu.cfs_burst_us and cpu.idle: the errors for their absence are not reachable');
  it.skipIf(!lacking.length)('a resource whose cgroup file this kernel lacks is an error naming the field (swap accounting, CFS burst, cpu.idle)', () => {
    for (const [, what, resources, msg] of lacking) {
      lacks(what);
      const r = runCt('true', (cfg) => { cfg.linux.resources = resources; });
      expect(r.status).not.toBe(0);
      expect(r.stderr).toMatch(msg);
      expect(ours()).toEqual([]);
    }
  });

  it('realtime period and runtime', () => {
    if (!host.rt) {
      lacks('cpu.rt_* (CONFIG_RT_GROUP_SCHED): checking the error instead');
      const r = runCt('true', (cfg) => { cfg.linux.resources = { cpu: { realtimePeriod: 1000000, realtimeRuntime: 1000 } }; });
      expect(r.status).not.toBe(0);
      expect(r.stderr).toMatch(/linux\.resources\.cpu\.realtime(Period|Runtime): /);
      return;
    }
    const ct = startCt('sleep 30', (cfg) => { cfg.linux.resources = { cpu: { realtimePeriod: 1000000, realtimeRuntime: 1000 } }; });
    try {
      expect(read('cpu', ct.rel, 'cpu.rt_period_us')).toBe('1000000');
      expect(read('cpu', ct.rel, 'cpu.rt_runtime_us')).toBe('1000');
    } finally {
      remove(ct);
    }
  });

  it('pids.limit -1 and 0 mean unlimited', () => {
    for (const limit of [-1, 0]) {
      const ct = startCt('sleep 30', (cfg) => { cfg.linux.resources = { pids: { limit } }; });
      try {
        expect(read('pids', ct.rel, 'pids.max')).toBe('max');
      } finally {
        remove(ct);
      }
    }
  });

  it.skipIf(!host.idle)('cpu.idle 1 puts the group under SCHED_IDLE', () => {
    const ct = startCt('sleep 30', (cfg) => { cfg.linux.resources = { cpu: { idle: 1 } }; });
    try {
      expect(read('cpu', ct.rel, 'cpu.idle')).toBe('1');
    } finally {
      remove(ct);
    }
  });

  it('block IO weight (CFQ or BFQ file); a per-device weight where the device\'s scheduler takes one', () => {
    const [maj, min] = rootDisk();
    // blkio.weight (CFQ, gone since 5.0) or blkio.bfq.weight (BFQ, when the kernel has it): on a kernel with
    // neither, runts must refuse the field clearly instead of writing nowhere
    // (BFQ has no weight file in the root cgroup: look in a child of our own)
    const probe = path.join(hier('blkio'), `${TOP}-probe`);
    fs.mkdirSync(probe);
    let weightFile: string | undefined;
    try {
      weightFile = ['blkio.weight', 'blkio.bfq.weight'].find((f) => fs.existsSync(path.join(probe, f)));
    } finally {
      fs.rmdirSync(probe);
    }
    if (!weightFile) {
      console.log('block IO weight: this kernel has neither blkio.weight nor blkio.bfq.weight; checking the error instead');
      for (const [resources, field] of [[{ weight: 300 }, 'weight'], [{ weightDevice: [{ major: maj, minor: min, weight: 200 }] }, 'weightDevice\\[0\\]']] as const) {
        const r = runCt('true', (cfg) => { cfg.linux.resources = { blockIO: resources }; });
        expect(r.status).not.toBe(0);
        expect(r.stderr).toMatch(new RegExp(`linux\\.resources\\.blockIO\\.${field}: this kernel has no blkio weight files`));
        expect(ours()).toEqual([]);
      }
      return;
    }
    const ct = startCt('sleep 30', (cfg) => { cfg.linux.resources = { blockIO: { weight: 300 } }; });
    try {
      expect(read('blkio', ct.rel, weightFile)).toMatch(/(^|\s)300$/m);
    } finally {
      remove(ct);
    }
    const disk = fs.readdirSync('/sys/block').find((n) => fs.readFileSync(`/sys/block/${n}/dev`, 'utf8').trim() === `${maj}:${min}`)!;
    const sched = fs.readFileSync(`/sys/block/${disk}/queue/scheduler`, 'utf8');
    const r = runCt('true', (cfg) => { cfg.linux.resources = { blockIO: { weightDevice: [{ major: maj, minor: min, weight: 200 }] } }; });
    if (/\[(bfq|cfq)\]/.test(sched)) expect(r.status, r.stderr).toBe(0);
    else {
      // this host's disk has no weight-based scheduler: the kernel refuses, and the error says where
      expect(r.status).not.toBe(0);
      expect(r.stderr).toMatch(/linux\.resources\.blockIO\.weightDevice\[0\]: write "\d+:\d+ 200" to .*weight_device: /);
    }
  });

  it('leafWeight, which only CFQ had, is an error naming the field', () => {
    const blk = path.join(CG, 'blkio');
    const r = runCt('true', (cfg) => { cfg.linux.resources = { blockIO: { leafWeight: 300 } }; });
    if (fs.existsSync(path.join(blk, 'blkio.leaf_weight'))) expect(r.status, r.stderr).toBe(0);
    else {
      expect(r.status).not.toBe(0);
      expect(r.stderr).toMatch(/linux\.resources\.blockIO\.leafWeight: /);
    }
  });
});

describe('cpuset below a parent that exists but is empty (a pod cgroup made by a manager)', () => {
  it('the empty parents are filled from the nearest ancestor with values, and the container runs', () => {
    const cpuset = hier('cpuset');
    const pod = `${TOP}-pod`;
    // two levels the test makes itself: a new cpuset directory starts with empty cpus and mems
    const dirs = [path.join(cpuset, pod), path.join(cpuset, pod, 'inner')];
    for (const d of dirs) fs.mkdirSync(d);
    let id = '';
    try {
      expect(fs.readFileSync(path.join(dirs[1], 'cpuset.cpus'), 'utf8').trim()).toBe('');
      id = `cg${process.pid}-${++seq}`;
      const cfg = baseConfig(['cat', '/proc/self/status']);
      cfg.linux.cgroupsPath = `/${pod}/inner/${id}`;
      const r = rt(c, ['run', '--bundle', bundle(c, cfg), id], { timeout: 60_000 });
      expect(r.status, r.stderr).toBe(0);
      const want = fs.readFileSync(path.join(cpuset, 'cpuset.cpus'), 'utf8').trim();
      expect(r.stdout).toMatch(new RegExp(`^Cpus_allowed_list:\\s+${want}$`, 'm'));
      for (const d of dirs) expect(fs.readFileSync(path.join(d, 'cpuset.mems'), 'utf8').trim()).not.toBe('');
    } finally {
      if (id) rt(c, ['delete', '--force', id]);
      // runts removed what it made (the container's directories, the parents in the other hierarchies)
      for (const name of fs.readdirSync(CG)) {
        if (name !== 'cpuset' && !name.split(',').includes('cpuset')) expect(fs.existsSync(path.join(CG, name, pod))).toBe(false);
      }
      for (const d of [...dirs].reverse()) fs.rmdirSync(d);
    }
  });
});

describe('limits hold', () => {
  if (!host.memsw && host.swap) lacks('swap accounting while swap is on: a memory hog would be paged out, not OOM-killed');
  it.skipIf(!host.memsw && host.swap)('a memory hog is OOM-killed (exit 137) and events reports the oom', async () => {
    // without swap accounting the limit covers memory only: a host with swap would page the hog out instead
    const memory = host.memsw ? { limit: 16 << 20, swap: 16 << 20 } : { limit: 16 << 20 };
    const ct = startCt('sleep 0.5; dd if=/dev/zero of=/dev/null bs=64M count=1; echo survived', (cfg) => {
      cfg.linux.resources = { memory };
    }, false);
    const ev = spawn(process.env.RUNTS_BIN || path.resolve(__dirname, '../../bin/runts'), ['--root', c.root, 'events', '--interval', '10s', ct.id]);
    let out = '';
    ev.stdout.on('data', (d) => { out += d; });
    const exited = new Promise<number | null>((res) => ev.on('exit', (code) => res(code)));
    try {
      await sleep(150);
      expect(rt(c, ['start', ct.id]).status).toBe(0);
      for (let i = 0; i < 100 && stateOf(c, ct.id).status !== 'stopped'; i++) await sleep(100);
      expect(stateOf(c, ct.id).status).toBe('stopped');
      // the events stream ends with the container
      expect(await exited).toBe(0);
      const events = out.trim().split('\n').map((l) => JSON.parse(l));
      expect(events).toContainEqual({ type: 'oom', id: ct.id });
      expect(events[0].type).toBe('stats');
    } finally {
      ev.kill();
      remove(ct);
    }
    // the exit status the manager sees
    const r = runCt('exec dd if=/dev/zero of=/dev/null bs=64M count=1', (cfg) => {
      cfg.linux.resources = { memory };
    });
    expect(r.status).toBe(137);
  });

  it('pids.limit makes fork fail', () => {
    const r = runCt('for i in 1 2 3 4 5 6 7 8; do sleep 5 & done; echo forked; kill $(jobs -p) 2>/dev/null; true', (cfg) => {
      cfg.linux.resources = { pids: { limit: 4 } };
    });
    expect(r.stderr).toMatch(/fork|Resource temporarily unavailable/i);
    const ok = runCt('for i in 1 2 3; do sleep 0.1 & done; wait; echo forked', (cfg) => {
      cfg.linux.resources = { pids: { limit: 4 } };
    });
    expect(ok.status, ok.stderr).toBe(0);
    expect(ok.stdout).toContain('forked');
  });

  it('the device list: a node the rules do not allow cannot be opened, an allowed one can (for the allowed access)', () => {
    // /dev/fuse (10:229): not in the defaults, and opening it needs no capability
    const dev = { path: '/dev/fusex', type: 'c', major: 10, minor: 229, fileMode: 0o666 };
    const denied = runCt('head -c 0 /dev/fusex && echo opened', (cfg) => { cfg.linux.devices = [dev]; });
    expect(denied.stdout).not.toContain('opened');
    expect(denied.stderr).toMatch(/Operation not permitted/);
    const allowed = runCt('head -c 0 /dev/fusex && echo opened; echo x > /dev/fusex || echo write-refused', (cfg) => {
      cfg.linux.devices = [dev];
      cfg.linux.resources = { devices: [{ allow: false, access: 'rwm' }, { allow: true, type: 'c', major: 10, minor: 229, access: 'r' }] };
    });
    expect(allowed.stdout).toContain('opened');
    expect(allowed.stdout).toContain('write-refused');
    expect(allowed.stderr).toMatch(/Operation not permitted/);
    // access in another order and repeated, as runc takes it: written as the kernel's "rw"
    const unordered = startCt('sleep 30', (cfg) => {
      cfg.linux.devices = [dev];
      cfg.linux.resources = { devices: [{ allow: false, access: 'rwm' }, { allow: true, type: 'c', major: 10, minor: 229, access: 'wwr' }] };
    });
    try {
      expect(read('devices', unordered.rel, 'devices.list').split('\n')).toContain('c 10:229 rw');
      // the device cgroup decides at open(): for reading and for writing both allowed
      const r = rt(c, ['exec', unordered.id, 'sh', '-c', 'head -c 0 /dev/fusex && echo read-opened; (exec 3>/dev/fusex) && echo write-opened']);
      expect(r.stdout, r.stderr).toBe('read-opened\nwrite-opened\n');
    } finally {
      remove(unordered);
    }
    // a later deny takes back what an earlier allow gave
    const taken = runCt('head -c 0 /dev/fusex && echo opened', (cfg) => {
      cfg.linux.devices = [dev];
      cfg.linux.resources = { devices: [{ allow: true, type: 'c', major: 10, minor: 229, access: 'rwm' }, { allow: false, type: 'c', major: 10, minor: 229, access: 'r' }] };
    });
    expect(taken.stdout).not.toContain('opened');
    // the defaults: /dev/null, /dev/zero, /dev/urandom work in every container
    const defaults = runCt('echo x > /dev/null && head -c 4 /dev/zero | wc -c && head -c 4 /dev/urandom | wc -c');
    expect(defaults.stdout.trim().split(/\s+/)).toEqual(['4', '4']);
  });
});

describe('pause, resume, ps, update, kill --all', () => {
  it('pause freezes a busy container (no CPU used, state paused), resume thaws it', async () => {
    const ct = startCt('while :; do :; done');
    const usage = () => Number(read('cpuacct', ct.rel, 'cpuacct.usage'));
    try {
      expect(rt(c, ['pause', ct.id]).status).toBe(0);
      expect(stateOf(c, ct.id).status).toBe('paused');
      expect(read('freezer', ct.rel, 'freezer.state')).toBe('FROZEN');
      // a task stopped by the v1 freezer shows as D
      expect(fs.readFileSync(`/proc/${ct.pid}/status`, 'utf8')).toMatch(/^State:\s+D/m);
      const a = usage();
      await sleep(300);
      expect(usage() - a).toBeLessThan(5e6);
      const again = rt(c, ['pause', ct.id]);
      expect(again.status).not.toBe(0);
      expect(again.stderr).toContain('container not running');
      expect(rt(c, ['resume', ct.id]).status).toBe(0);
      expect(stateOf(c, ct.id).status).toBe('running');
      const b = usage();
      await sleep(300);
      expect(usage() - b).toBeGreaterThan(50e6);
      const r = rt(c, ['resume', ct.id]);
      expect(r.status).not.toBe(0);
      expect(r.stderr).toContain('container not paused');
    } finally {
      remove(ct);
    }
  });

  it('pause a created container: state paused; start fails until resumed', () => {
    const ct = startCt('echo hi', undefined, false);
    try {
      expect(rt(c, ['pause', ct.id]).status).toBe(0);
      expect(stateOf(c, ct.id).status).toBe('paused');
      expect(rt(c, ['start', ct.id]).status).not.toBe(0);
      expect(rt(c, ['resume', ct.id]).status).toBe(0);
      expect(stateOf(c, ct.id).status).toBe('created');
    } finally {
      remove(ct);
    }
  });

  it('ps lists the container\'s processes (json: host pids; table: ps rows)', async () => {
    const ct = startCt('sleep 31 & sleep 32 & wait');
    try {
      await sleep(200);
      const j = rt(c, ['ps', '--format', 'json', ct.id]);
      expect(j.status, j.stderr).toBe(0);
      const pids: number[] = JSON.parse(j.stdout);
      expect(pids).toContain(ct.pid);
      expect(pids.length).toBe(3);
      expect([...pids].sort()).toEqual(read('pids', ct.rel, 'cgroup.procs').split('\n').map(Number).sort());
      const t = rt(c, ['ps', ct.id]);
      expect(t.status, t.stderr).toBe(0);
      const lines = t.stdout.trim().split('\n');
      expect(lines[0]).toMatch(/PID/);
      expect(lines.length).toBe(4);
      expect(t.stdout).toContain('sleep 31');
      const custom = rt(c, ['ps', ct.id, '-o', 'pid,comm']);
      expect(custom.stdout.trim().split('\n').slice(1).map((l) => l.trim().split(/\s+/)[1]).sort()).toEqual(['sh', 'sleep', 'sleep']);
    } finally {
      remove(ct);
    }
  });

  it('update changes the limits of a running container (flags, and --resources from stdin), and state keeps them', () => {
    const ct = startCt('sleep 30', (cfg) => { cfg.linux.resources = { memory: { limit: 64 << 20 }, pids: { limit: 10 } }; });
    try {
      let r = rt(c, ['update', '--memory', '100m', '--memory-swap', '200m', '--cpu-quota', '30000', '--cpu-period', '100000',
        '--cpu-share', '256', '--pids-limit', '20', '--cpuset-cpus', '0', '--memory-reservation', '50m', ct.id]);
      expect(r.status, r.stderr).toBe(0);
      expect(read('memory', ct.rel, 'memory.limit_in_bytes')).toBe(String(100 << 20));
      expect(read('memory', ct.rel, 'memory.memsw.limit_in_bytes')).toBe(String(200 << 20));
      expect(read('memory', ct.rel, 'memory.soft_limit_in_bytes')).toBe(String(50 << 20));
      expect(read('cpu', ct.rel, 'cpu.cfs_quota_us')).toBe('30000');
      expect(read('cpu', ct.rel, 'cpu.shares')).toBe('256');
      expect(read('pids', ct.rel, 'pids.max')).toBe('20');
      r = rt(c, ['update', '--resources', '-', ct.id], { input: JSON.stringify({ pids: { limit: 77 }, cpu: { quota: -1 } }) });
      expect(r.status, r.stderr).toBe(0);
      expect(read('pids', ct.rel, 'pids.max')).toBe('77');
      expect(read('cpu', ct.rel, 'cpu.cfs_quota_us')).toBe('-1');
      // a lower memory limit keeps the swap total
      r = rt(c, ['update', '--memory', '80m', ct.id]);
      expect(r.status, r.stderr).toBe(0);
      expect(read('memory', ct.rel, 'memory.limit_in_bytes')).toBe(String(80 << 20));
      expect(read('memory', ct.rel, 'memory.memsw.limit_in_bytes')).toBe(String(200 << 20));
      const saved = JSON.parse(fs.readFileSync(path.join(c.root, ct.id, 'config.json'), 'utf8')).linux.resources;
      expect(saved.memory.limit).toBe(80 << 20);
      expect(saved.pids.limit).toBe(77);
      r = rt(c, ['update', '--memory', 'lots', ct.id]);
      expect(r.status).not.toBe(0);
      expect(r.stderr).toContain('--memory');
      r = rt(c, ['update', '--memory-swap', '10m', ct.id]);
      expect(r.status).not.toBe(0);
      expect(r.stderr).toContain('linux.resources.memory.swap');
    } finally {
      remove(ct);
    }
  });

  it('update --memory -1 with a swap limit set makes memory and memory+swap unlimited (runc sets both)', () => {
    const ct = startCt('sleep 30', (cfg) => { cfg.linux.resources = { memory: { limit: 64 << 20, swap: 128 << 20 } }; });
    try {
      const unlimited = read('memory', '', 'memory.limit_in_bytes'); // the root's value: "no limit" on this kernel
      const r = rt(c, ['update', '--memory', '-1', ct.id]);
      expect(r.status, r.stderr).toBe(0);
      expect(read('memory', ct.rel, 'memory.limit_in_bytes')).toBe(unlimited);
      expect(read('memory', ct.rel, 'memory.memsw.limit_in_bytes')).toBe(read('memory', '', 'memory.memsw.limit_in_bytes'));
      const saved = JSON.parse(fs.readFileSync(path.join(c.root, ct.id, 'config.json'), 'utf8')).linux.resources;
      expect(saved.memory).toMatchObject({ limit: -1, swap: -1 });
    } finally {
      remove(ct);
    }
  });

  it('kill --all reaches every process; delete removes the cgroups', async () => {
    const ct = startCt('trap "" TERM; (trap "" TERM; sleep 60) & sleep 60 & wait');
    await sleep(200);
    const pids = JSON.parse(rt(c, ['ps', '--format', 'json', ct.id]).stdout) as number[];
    expect(pids.length).toBeGreaterThanOrEqual(3);
    expect(rt(c, ['kill', '--all', ct.id, 'KILL']).status).toBe(0);
    for (let i = 0; i < 50 && pids.some((p) => fs.existsSync(`/proc/${p}`)); i++) await sleep(50);
    expect(pids.filter((p) => fs.existsSync(`/proc/${p}/stat`) && !/\) Z /.test(fs.readFileSync(`/proc/${p}/stat`, 'utf8')))).toEqual([]);
    expect(rt(c, ['delete', ct.id]).status).toBe(0);
    for (const ctrl of ['memory', 'cpu', 'pids', 'freezer', 'devices']) expect(fs.existsSync(path.join(hier(ctrl), ct.rel)), ctrl).toBe(false);
    expect(fs.existsSync(path.join(CG, 'unified', ct.rel))).toBe(false);
  });

  it('events --stats prints one stats event in runc\'s shape', () => {
    const ct = startCt('sleep 30', (cfg) => { cfg.linux.resources = { memory: { limit: 64 << 20 }, pids: { limit: 9 } }; });
    try {
      const r = rt(c, ['events', '--stats', ct.id]);
      expect(r.status, r.stderr).toBe(0);
      const e = JSON.parse(r.stdout);
      expect(e.type).toBe('stats');
      expect(e.id).toBe(ct.id);
      expect(e.data.pids).toEqual({ current: 1, limit: 9 });
      expect(e.data.memory.usage.limit).toBe(64 << 20);
      expect(e.data.memory.usage.usage).toBeGreaterThan(0);
      expect(typeof e.data.cpu.usage.total).toBe('number');
      expect(e.data.memory.raw.total_rss).toBeGreaterThanOrEqual(0);
    } finally {
      remove(ct);
    }
  });

  it('events --stats prints 64-bit counters exactly (an unlimited memory limit, as the kernel has it)', () => {
    const ct = startCt('sleep 30');
    try {
      const r = rt(c, ['events', '--stats', ct.id]);
      expect(r.status, r.stderr).toBe(0);
      const limit = read('memory', ct.rel, 'memory.limit_in_bytes');
      expect(BigInt(limit)).toBeGreaterThan(BigInt(Number.MAX_SAFE_INTEGER));
      expect(r.stdout).toContain(`"usage":{"limit":${limit},`);
    } finally {
      remove(ct);
    }
  });
});

describe('errors leave nothing behind', () => {
  const fails = (resources: unknown, msg: RegExp, cgroupsPath?: string) => {
    const id = `cgbad${process.pid}-${++seq}`;
    const cfg = baseConfig(['true']);
    cfg.linux.cgroupsPath = cgroupsPath ?? `/${TOP}/${id}`;
    cfg.linux.resources = resources;
    const r = rt(c, ['run', '--bundle', bundle(c, cfg), id]);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(msg);
    expect(fs.existsSync(path.join(c.root, id))).toBe(false);
    expect(ours()).toEqual([]);
  };

  it('unified on a v1/hybrid host', () => fails({ unified: { 'memory.max': '1000000' } }, /linux\.resources\.unified: /));
  // no host has a CPU 9999 (NR_CPUS is at most 8192)
  it('a value the kernel refuses names the field', () => fails({ cpu: { cpus: '9999' } }, /linux\.resources\.cpu\.cpus: write "9999" to .*cpuset\.cpus: /));
  it('swap below the memory limit', () => fails({ memory: { limit: 64 << 20, swap: 32 << 20 } }, /linux\.resources\.memory\.swap: must be at least/));
  if (mounted('net_cls')) lacks('an unmounted net_cls (it is mounted here): the error for a missing controller is not reachable');
  it.skipIf(mounted('net_cls'))('a controller the host does not mount', () => fails({ network: { classID: 1 } }, /linux\.resources\.network\.classID: this host has no net_cls/));
  it('a systemd cgroupsPath', () => fails({}, /systemd/, 'system.slice:runts:x'));

  // runc (1.2+) refuses a cgroup that has processes: "container's cgroup is not empty". Before, runts put the new
  // init in the other container's cgroup, wrote its limits there, and a failed create SIGKILLed that cgroup.
  it('a cgroupsPath another container\'s processes are in: refused naming the field; the other runs on, its cgroup untouched', () => {
    const a = startCt('sleep 60');
    try {
      const pidsMax = read('pids', a.rel, 'pids.max');
      const procsA = read('pids', a.rel, 'cgroup.procs');
      expect(procsA.split('\n')).toContain(String(a.pid));
      // plain, and with a create-time hook that fails (whose clean-up signalled and removed the cgroup)
      for (const hooks of [{ createRuntime: [{ path: '/bin/false' }] }, undefined]) {
        const id = `cgtaken${process.pid}-${++seq}`;
        const cfg = baseConfig(['true']);
        cfg.linux.cgroupsPath = `/${a.rel}`;
        cfg.linux.resources = { pids: { limit: 7 } };
        if (hooks) cfg.hooks = hooks;
        const r = rt(c, ['create', '--bundle', bundle(c, cfg), id]);
        expect(r.status, r.stderr).not.toBe(0);
        expect(r.stderr.trim()).toMatch(new RegExp(`^runts: linux\\.cgroupsPath: cgroup "/${a.rel}" is not empty: \\d+ process\\(es\\) found in ${CG}/[^ ]+/${a.rel}$`));
        expect(fs.existsSync(path.join(c.root, id))).toBe(false);
        expect(stateOf(c, a.id).status).toBe('running');
        for (const line of fs.readFileSync(`/proc/${a.pid}/cgroup`, 'utf8').trim().split('\n')) expect(line.split(':')[2], line).toBe(`/${a.rel}`);
        expect(read('pids', a.rel, 'cgroup.procs')).toBe(procsA);
        expect(read('pids', a.rel, 'pids.max')).toBe(pidsMax);
      }
    } finally {
      remove(a);
    }
  });

  it('a cgroupsPath whose cgroup exists frozen (and empty): refused naming the field, the cgroup left as it was', () => {
    const rel = `${TOP}/frozen${process.pid}`;
    const made = [path.join(hier('freezer'), TOP), path.join(hier('freezer'), rel)].filter((d) => !fs.existsSync(d));
    for (const d of made) fs.mkdirSync(d);
    try {
      fs.writeFileSync(path.join(hier('freezer'), rel, 'freezer.state'), 'FROZEN');
      const id = `cgfrozen${process.pid}`;
      const cfg = baseConfig(['true']);
      cfg.linux.cgroupsPath = `/${rel}`;
      const r = rt(c, ['create', '--bundle', bundle(c, cfg), id], { timeout: 10_000 });
      expect(r.stderr.trim()).toBe(`runts: linux.cgroupsPath: cgroup "/${rel}" is frozen`);
      expect(r.status).toBe(1);
      expect(fs.existsSync(path.join(c.root, id))).toBe(false);
      expect(read('freezer', rel, 'freezer.state')).toBe('FROZEN');
      expect(read('freezer', rel, 'cgroup.procs')).toBe('');
    } finally {
      fs.writeFileSync(path.join(hier('freezer'), rel, 'freezer.state'), 'THAWED');
      for (const d of made.reverse()) fs.rmdirSync(d);
    }
    expect(ours()).toEqual([]);
  });

  it('a create killed half way: delete --force removes its cgroups', async () => {
    const id = `cgcrash${process.pid}`;
    const cfg = baseConfig(['true']);
    cfg.linux.cgroupsPath = `/${TOP}/${id}`;
    // the hook kills runts itself while the init sits in its cgroups
    cfg.hooks = { createRuntime: [{ path: '/bin/sh', args: ['sh', '-c', 'kill -9 $PPID'] }] };
    const r = rt(c, ['create', '--bundle', bundle(c, cfg), id]);
    expect(r.signal ?? r.status).toBeTruthy();
    expect(fs.existsSync(path.join(hier('memory'), TOP, id))).toBe(true);
    expect(fs.existsSync(path.join(c.root, id, 'state.json'))).toBe(false);
    const d = rt(c, ['delete', '--force', id]);
    expect(d.status, d.stderr).toBe(0);
    expect(fs.existsSync(path.join(c.root, id))).toBe(false);
    expect(ours()).toEqual([]);
  });
});

describe('the cgroup2 manager, for real on this host\'s unified hierarchy (RUNTS_CGROUP_MODE=v2)', () => {
  const V2 = { ...process.env, RUNTS_CGROUP_MODE: 'v2' };
  const U = path.join(CG, 'unified');
  const offered = fs.readFileSync(path.join(U, 'cgroup.controllers'), 'utf8').trim().split(/\s+/).filter(Boolean);
  let rootControl = '';
  beforeAll(() => { rootControl = fs.readFileSync(path.join(U, 'cgroup.subtree_control'), 'utf8'); });
  afterAll(() => {
    // put back the root's controllers as they were: runts enables what a container needs, the test undoes it
    const before = new Set(rootControl.trim().split(/\s+/).filter(Boolean));
    const now = fs.readFileSync(path.join(U, 'cgroup.subtree_control'), 'utf8').trim().split(/\s+/).filter(Boolean);
    const extra = now.filter((x) => !before.has(x));
    if (extra.length) fs.writeFileSync(path.join(U, 'cgroup.subtree_control'), extra.map((x) => `-${x}`).join(' '));
  });

  it('places the init in the cgroup2 directory only, with the eBPF device program enforcing the list', () => {
    const dev = { path: '/dev/fusex', type: 'c', major: 10, minor: 229, fileMode: 0o666 };
    const r = runCt('cat /proc/self/cgroup; head -c 0 /dev/fusex && echo fuse-opened; head -c 3 /dev/zero | wc -c; echo x > /dev/null && echo null-ok', (cfg) => {
      cfg.linux.devices = [dev];
    }, V2);
    expect(r.status, r.stderr).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines.find((l) => l.startsWith('0::'))).toMatch(new RegExp(`^0::/${TOP}/`));
    // no v1 cgroup was made for it: it stays where runts was
    expect(lines.filter((l) => !l.startsWith('0::') && l.includes(TOP))).toEqual([]);
    expect(r.stdout).not.toContain('fuse-opened');
    expect(r.stderr).toMatch(/fusex: Operation not permitted/);
    expect(lines).toContain('3');
    expect(lines).toContain('null-ok');
    const allowed = runCt('head -c 0 /dev/fusex && echo fuse-opened; echo x > /dev/fusex || echo write-refused', (cfg) => {
      cfg.linux.devices = [dev];
      cfg.linux.resources = { devices: [{ allow: false, access: 'rwm' }, { allow: true, type: 'c', major: 10, minor: 229, access: 'r' }] };
    }, V2);
    expect(allowed.stdout).toContain('fuse-opened');
    expect(allowed.stdout).toContain('write-refused');
  });

  if (!offered.includes('hugetlb')) console.log('this host\'s cgroup2 hierarchy does not offer hugetlb: hugepageLimits on v2 not checked');
  it.skipIf(!offered.includes('hugetlb'))('hugepageLimits → hugetlb.<size>.max (and rsvd.max), the controller enabled down the path', () => {
    const ct = startCt('sleep 30', (cfg) => { cfg.linux.resources = { hugepageLimits: [{ pageSize: '2MB', limit: 4 << 20 }] }; }, true, V2);
    try {
      expect(readU(ct.rel, 'hugetlb.2MB.max')).toBe(String(4 << 20));
      if (fs.existsSync(path.join(U, ct.rel, 'hugetlb.2MB.rsvd.max'))) expect(readU(ct.rel, 'hugetlb.2MB.rsvd.max')).toBe(String(4 << 20));
      expect(readU(TOP, 'cgroup.subtree_control').split(/\s+/)).toContain('hugetlb');
    } finally {
      remove(ct);
    }
  });

  const missing = ['memory', 'pids', 'cpu'].find((x) => !offered.includes(x));
  if (!missing) console.log('this host\'s cgroup2 hierarchy offers memory, pids and cpu: the error for a missing controller is not reachable');
  it.skipIf(!missing)('a controller the cgroup2 hierarchy does not offer: an error naming the field, nothing left', () => {
    const resources = { memory: { memory: { limit: 1 << 26 } }, pids: { pids: { limit: 5 } }, cpu: { cpu: { shares: 512 } } }[missing!];
    const id = `cgbad2${process.pid}`;
    const cfg = baseConfig(['true']);
    cfg.linux.cgroupsPath = `/${TOP}/${id}`;
    cfg.linux.resources = resources;
    const r = rt(c, ['run', '--bundle', bundle(c, cfg), id], { env: V2 });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(new RegExp(`linux\\.resources\\.${missing}\\.`));
    expect(fs.existsSync(path.join(U, TOP, id))).toBe(false);
  });

  it('pause/resume through cgroup.freeze (a busy loop stops using CPU), ps, kill --all through cgroup.kill', async () => {
    const ct = startCt('sleep 60 & while :; do :; done', undefined, true, V2);
    const usage = () => Number(/^usage_usec (\d+)$/m.exec(readU(ct.rel, 'cpu.stat'))![1]);
    try {
      expect(rt(c, ['pause', ct.id]).status).toBe(0);
      expect(stateOf(c, ct.id).status).toBe('paused');
      expect(readU(ct.rel, 'cgroup.events')).toMatch(/^frozen 1$/m);
      const a = usage();
      await sleep(300);
      expect(usage() - a).toBeLessThan(5000);
      expect(rt(c, ['resume', ct.id]).status).toBe(0);
      expect(stateOf(c, ct.id).status).toBe('running');
      const b = usage();
      await sleep(300);
      expect(usage() - b).toBeGreaterThan(50000);
      const pids = JSON.parse(rt(c, ['ps', '--format', 'json', ct.id]).stdout) as number[];
      expect(pids.length).toBe(2);
      expect(pids.sort()).toEqual(readU(ct.rel, 'cgroup.procs').split('\n').map(Number).sort());
      const ev = JSON.parse(rt(c, ['events', '--stats', ct.id]).stdout);
      expect(ev.data.cpu.usage.total).toBeGreaterThan(0);
      expect(rt(c, ['kill', '--all', ct.id, 'KILL']).status).toBe(0);
      for (let i = 0; i < 50 && stateOf(c, ct.id).status !== 'stopped'; i++) await sleep(20);
      expect(stateOf(c, ct.id).status).toBe('stopped');
      expect(pids.filter((p) => fs.existsSync(`/proc/${p}/stat`) && !/\) Z /.test(fs.readFileSync(`/proc/${p}/stat`, 'utf8')))).toEqual([]);
    } finally {
      remove(ct);
    }
    expect(fs.existsSync(path.join(U, ct.rel))).toBe(false);
  });
});
