// process.scheduler, process.ioPriority, linux.memoryPolicy and process.execCPUAffinity: what the container's
// process sees (/proc/self/stat, ionice = ioprio_get, /proc/self/numa_maps, Cpus_allowed_list).
import * as fs from 'fs';
import * as path from 'path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Ctx, RUNTS, baseConfig, bundle, cleanupContext, context, rt, runIn, spawnSync } from '../helpers';

let c: Ctx;
beforeAll(() => { c = context('procfields'); });
afterAll(() => cleanupContext(c));

let seq = 0;
const uid = () => `pf${process.pid}-${++seq}`;

/** fields of /proc/self/stat by their number in proc(5) (1 = pid, 19 = nice, 40 = rt_priority, 41 = policy) */
function statFields(text: string): Record<number, string> {
  const after = text.slice(text.lastIndexOf(')') + 2).trim().split(' ');
  const out: Record<number, string> = {};
  after.forEach((v, i) => { out[i + 3] = v; });
  return out;
}

function cfgOf(args: string[], change: (cfg: any) => void): any {
  const cfg = baseConfig(args);
  change(cfg);
  return cfg;
}

/** a failed create: the error names `field`, and no state is left */
function expectRefused(cfg: any, field: RegExp): void {
  const id = uid();
  const r = runIn(c, cfg, id);
  expect(r.status).not.toBe(0);
  expect(r.stderr).toMatch(field);
  expect(r.stderr.trim().split('\n')).toHaveLength(1);
  expect(fs.existsSync(path.join(c.root, id))).toBe(false);
}

// with real-time group scheduling (CONFIG_RT_GROUP_SCHED, cgroup v1 cpu controller) a new group has no
// real-time runtime: SCHED_FIFO/RR need linux.resources.cpu.realtimeRuntime
const rtGroupSched = fs.existsSync('/sys/fs/cgroup/cpu/cpu.rt_runtime_us');

describe('process.scheduler', () => {
  it('SCHED_BATCH with a nice value: policy 3, nice 7 in /proc/self/stat', () => {
    const r = runIn(c, cfgOf(['cat', '/proc/self/stat'], (cfg) => { cfg.process.scheduler = { policy: 'SCHED_BATCH', nice: 7 }; }));
    expect(r.status, r.stderr).toBe(0);
    const f = statFields(r.stdout);
    expect(f[41]).toBe('3');
    expect(f[19]).toBe('7');
  });

  it('SCHED_OTHER with a negative nice (needs CAP_SYS_NICE: set before the capabilities are dropped)', () => {
    const r = runIn(c, cfgOf(['cat', '/proc/self/stat'], (cfg) => {
      cfg.process.scheduler = { policy: 'SCHED_OTHER', nice: -5 };
      cfg.process.user = { uid: 1000, gid: 1000 };
    }));
    expect(r.status, r.stderr).toBe(0);
    const f = statFields(r.stdout);
    expect(f[41]).toBe('0');
    expect(f[19]).toBe('-5');
  });

  it('SCHED_IDLE: policy 5', () => {
    const r = runIn(c, cfgOf(['cat', '/proc/self/stat'], (cfg) => { cfg.process.scheduler = { policy: 'SCHED_IDLE' }; }));
    expect(r.status, r.stderr).toBe(0);
    expect(statFields(r.stdout)[41]).toBe('5');
  });

  it('SCHED_FIFO with realtimeRuntime for its cgroup: policy 1, rt_priority 10', () => {
    const r = runIn(c, cfgOf(['cat', '/proc/self/stat'], (cfg) => {
      cfg.process.scheduler = { policy: 'SCHED_FIFO', priority: 10 };
      cfg.linux.resources = { cpu: { realtimePeriod: 1000000, realtimeRuntime: 10000 } };
    }));
    expect(r.status, r.stderr).toBe(0);
    const f = statFields(r.stdout);
    expect(f[41]).toBe('1');
    expect(f[40]).toBe('10');
  });

  it('SCHED_RR without realtimeRuntime: works, or (real-time group scheduling) a clear error naming the field', () => {
    const cfg = cfgOf(['cat', '/proc/self/stat'], (cfg) => { cfg.process.scheduler = { policy: 'SCHED_RR', priority: 3 }; });
    if (rtGroupSched) {
      console.log('real-time group scheduling: a new cpu cgroup has no real-time runtime, the kernel refuses SCHED_RR');
      expectRefused(cfg, /^runts: process\.scheduler \(SCHED_RR without linux\.resources\.cpu\.realtimeRuntime\): sched_setattr SCHED_RR: operation not permitted$/m);
    } else {
      const r = runIn(c, cfg);
      expect(r.status, r.stderr).toBe(0);
      expect(statFields(r.stdout)[41]).toBe('2');
    }
  });

  it('SCHED_DEADLINE with runtime, deadline and period: policy 6, a budget of at most the runtime in /proc/self/sched', () => {
    const r = runIn(c, cfgOf(['cat', '/proc/self/stat', '/proc/self/sched'], (cfg) => {
      cfg.process.scheduler = { policy: 'SCHED_DEADLINE', runtime: 1000000, deadline: 10000000, period: 20000000 };
    }));
    expect(r.status, r.stderr).toBe(0);
    expect(statFields(r.stdout.split('\n')[0])[41]).toBe('6');
    expect(r.stdout).toMatch(/^policy\s+:\s+6$/m);
    // the deadline entity's budget: at most the configured runtime
    const left = Number(/^dl\.runtime\s+:\s+(\d+)$/m.exec(r.stdout)?.[1]);
    expect(left).toBeGreaterThan(0);
    expect(left).toBeLessThanOrEqual(1000000);
  });

  it('values the kernel refuses (deadline above period) are an error naming the field', () => {
    expectRefused(cfgOf(['true'], (cfg) => {
      cfg.process.scheduler = { policy: 'SCHED_DEADLINE', runtime: 1000000, deadline: 30000000, period: 20000000 };
    }), /^runts: process\.scheduler: sched_setattr SCHED_DEADLINE: invalid argument$/m);
  });

  const v1Cpuset = fs.existsSync('/sys/fs/cgroup/cpuset/cpuset.cpus') && fs.readFileSync('/sys/fs/cgroup/cpuset/cpuset.cpus', 'utf8').trim() === '0-1';
  if (!v1Cpuset) console.log('the SCHED_DEADLINE cpuset case needs a v1 cpuset hierarchy whose root has CPUs 0-1');
  it.skipIf(!v1Cpuset)(
    'SCHED_DEADLINE in a cpuset of fewer CPUs than the root domain: the kernel refuses, and the error says why', () => {
      expectRefused(cfgOf(['true'], (cfg) => {
        cfg.process.scheduler = { policy: 'SCHED_DEADLINE', runtime: 1000000, deadline: 10000000, period: 20000000 };
        cfg.linux.resources = { cpu: { cpus: '0', mems: '0' } };
      }), /^runts: process\.scheduler \(SCHED_DEADLINE with linux\.resources\.cpu\.cpus\): sched_setattr SCHED_DEADLINE: operation not permitted$/m);
    });

  it('bad values are refused before anything runs, naming the field', () => {
    const bad: Array<[any, RegExp]> = [
      [{ policy: 'SCHED_OTHER', nice: 20 }, /process\.scheduler\.nice: must be between -20 and 19, got 20/],
      [{ policy: 'SCHED_OTHER', priority: 5 }, /process\.scheduler\.priority: can only be set for SCHED_FIFO or SCHED_RR/],
      [{ policy: 'SCHED_FIFO' }, /process\.scheduler\.priority: SCHED_FIFO needs a priority between 1 and 99, got 0/],
      [{ policy: 'SCHED_BATCH', runtime: 5 }, /process\.scheduler\.runtime: can only be set for SCHED_DEADLINE/],
      [{ policy: 'SCHED_DEADLINE', deadline: 5 }, /process\.scheduler\.runtime: SCHED_DEADLINE needs a runtime/],
      [{ policy: 'SCHED_ISO' }, /process\.scheduler\.policy: SCHED_ISO is not implemented by Linux/],
      [{ policy: 'SCHED_NOPE' }, /process\.scheduler\.policy/],
      [{ policy: 'SCHED_OTHER', flags: ['SCHED_FLAG_NOPE'] }, /process\.scheduler\.flags/],
    ];
    for (const [s, want] of bad) expectRefused(cfgOf(['true'], (cfg) => { cfg.process.scheduler = s; }), want);
  });
});

describe('process.ioPriority', () => {
  it('each class and level, as ioprio_get (busybox ionice) reports it', () => {
    const cases: Array<[any, string]> = [
      [{ class: 'IOPRIO_CLASS_BE', priority: 3 }, 'best-effort: prio 3'],
      [{ class: 'IOPRIO_CLASS_RT', priority: 2 }, 'realtime: prio 2'],
      [{ class: 'IOPRIO_CLASS_IDLE' }, 'idle'],
    ];
    for (const [io, want] of cases) {
      const r = runIn(c, cfgOf(['ionice'], (cfg) => { cfg.process.ioPriority = io; cfg.process.user = { uid: 1000, gid: 1000 }; }));
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout.trim()).toBe(want);
    }
  });

  it('a level outside 0-7 is refused, naming the field', () => {
    expectRefused(cfgOf(['true'], (cfg) => { cfg.process.ioPriority = { class: 'IOPRIO_CLASS_BE', priority: 8 }; }),
      /^runts: process\.ioPriority\.priority: must be between 0 and 7, got 8$/m);
  });
});

describe('linux.memoryPolicy', () => {
  const nodes = fs.readFileSync('/sys/devices/system/node/online', 'utf8').trim();
  /** the task's policy as /proc/self/numa_maps prints it for a mapping without a policy of its own */
  function policyOf(mp: any): string {
    const r = runIn(c, cfgOf(['head', '-1', '/proc/self/numa_maps'], (cfg) => { cfg.linux.memoryPolicy = mp; }));
    expect(r.status, r.stderr).toBe(0);
    // "<address> <policy> file=..." (the first mapping is the executable's); "prefer (many):0" has a space
    return / (.*?) file=/.exec(r.stdout)![1];
  }

  it('each mode, with nodes and flags, as the kernel reports it', () => {
    console.log(`online NUMA nodes: ${nodes}; using node 0`);
    expect(policyOf({ mode: 'MPOL_DEFAULT' })).toBe('default');
    expect(policyOf({ mode: 'MPOL_BIND', nodes: '0' })).toBe('bind:0');
    expect(policyOf({ mode: 'MPOL_BIND', nodes: '0', flags: ['MPOL_F_STATIC_NODES'] })).toBe('bind=static:0');
    expect(policyOf({ mode: 'MPOL_INTERLEAVE', nodes: '0', flags: ['MPOL_F_RELATIVE_NODES'] })).toBe('interleave=relative:0');
    expect(policyOf({ mode: 'MPOL_PREFERRED', nodes: '0' })).toBe('prefer:0');
    expect(policyOf({ mode: 'MPOL_LOCAL' })).toBe('local');
    expect(policyOf({ mode: 'MPOL_PREFERRED_MANY', nodes: '0' })).toBe('prefer (many):0');
    expect(policyOf({ mode: 'MPOL_WEIGHTED_INTERLEAVE', nodes: '0' })).toBe('weighted interleave:0');
  });

  it('features lists every mode and flag of the schema', () => {
    const defs = JSON.parse(fs.readFileSync(path.join(__dirname, '../../schema/defs-linux.json'), 'utf8')).definitions.memoryPolicy.properties;
    const f = JSON.parse(rt(c, ['features']).stdout).linux.memoryPolicy;
    expect([...f.modes].sort()).toEqual([...defs.mode.enum].sort());
    expect([...f.flags].sort()).toEqual([...defs.flags.items.enum].sort());
  });

  it('exec applies the container\'s policy too', () => {
    const id = uid();
    const cfg = cfgOf(['sleep', '60'], (cfg) => { cfg.linux.memoryPolicy = { mode: 'MPOL_BIND', nodes: '0' }; });
    expect(rt(c, ['run', '-d', '--bundle', bundle(c, cfg), id]).status).toBe(0);
    const r = rt(c, ['exec', id, 'head', '-1', '/proc/self/numa_maps']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.split(' ')[1]).toBe('bind:0');
    rt(c, ['delete', '--force', id]);
  });

  it('bad values are refused, naming the field (a node that does not exist: by the kernel)', () => {
    const bad: Array<[any, RegExp]> = [
      [{ mode: 'MPOL_BIND' }, /^runts: linux\.memoryPolicy\.nodes: MPOL_BIND needs at least one node$/m],
      [{ mode: 'MPOL_BIND', nodes: '' }, /^runts: linux\.memoryPolicy\.nodes: MPOL_BIND needs at least one node$/m],
      [{ mode: 'MPOL_INTERLEAVE', nodes: '0-' }, /^runts: linux\.memoryPolicy\.nodes: invalid list "0-"/m],
      [{ mode: 'MPOL_LOCAL', nodes: '0' }, /^runts: linux\.memoryPolicy\.nodes: MPOL_LOCAL takes no nodes/m],
      [{ mode: 'MPOL_BIND', nodes: '0', flags: ['MPOL_F_STATIC_NODES', 'MPOL_F_RELATIVE_NODES'] }, /^runts: linux\.memoryPolicy\.flags: .* exclude each other$/m],
      [{ mode: 'MPOL_BIND', nodes: '63' }, /^runts: linux\.memoryPolicy: set_mempolicy MPOL_BIND: invalid argument$/m],
    ];
    for (const [mp, want] of bad) expectRefused(cfgOf(['true'], (cfg) => { cfg.linux.memoryPolicy = mp; }), want);
  });
});

describe('process.execCPUAffinity', () => {
  const cpus = fs.readFileSync('/sys/devices/system/cpu/online', 'utf8').trim();
  const two = /^0-(\d+)$/.test(cpus) && Number(cpus.slice(2)) >= 1;
  if (!two) console.log(`execCPUAffinity tests need CPUs 0 and 1 online; this host has ${cpus}`);
  // the cgroup2 manager alone: on a hybrid host that hierarchy has no cpuset, so joining it leaves the affinity
  // as it was (a v1 cpuset join sets it to the cpuset's CPUs, hiding what happened before)
  const V2 = { ...process.env, RUNTS_CGROUP_MODE: 'v2' };

  /** Cpus_allowed_list of a process started by `runts exec` (itself run under `taskset -c pin` when given) */
  function execAffinity(id: string, proc: any, env: NodeJS.ProcessEnv, pin?: string): string {
    const file = path.join(c.work, `${id}-process.json`);
    fs.writeFileSync(file, JSON.stringify({ cwd: '/', user: { uid: 0, gid: 0 }, args: ['grep', 'Cpus_allowed_list', '/proc/self/status'], ...proc }));
    const argv = ['--root', c.root, 'exec', '--process', file, id];
    const r = pin ? spawnSync('taskset', ['-c', pin, RUNTS, ...argv], { encoding: 'utf8', env }) : rt(c, argv.slice(2), { env });
    expect(r.status, r.stderr).toBe(0);
    return r.stdout.trim().split(/\s+/)[1];
  }

  it.skipIf(!two)('exec: final is what the process runs with; initial alone is kept; neither resets runts\' own affinity', () => {
    const id = uid();
    expect(rt(c, ['run', '-d', '--bundle', bundle(c, baseConfig(['sleep', '60'])), id], { env: V2 }).status).toBe(0);
    expect(execAffinity(id, { execCPUAffinity: { initial: '0', final: '1' } }, V2)).toBe('1');
    expect(execAffinity(id, { execCPUAffinity: { final: '0-1' } }, V2, '0')).toBe('0-1');
    expect(execAffinity(id, { execCPUAffinity: { initial: '1' } }, V2)).toBe('1');
    expect(execAffinity(id, { execCPUAffinity: { initial: '1', final: '' } }, V2)).toBe('1');
    expect(execAffinity(id, {}, V2, '1')).toBe('0-1');
    rt(c, ['delete', '--force', id], { env: V2 });
  });

  it.skipIf(!two)('exec with v1 cgroups: final after the cpuset join', () => {
    const id = uid();
    expect(rt(c, ['run', '-d', '--bundle', bundle(c, baseConfig(['sleep', '60'])), id]).status).toBe(0);
    expect(execAffinity(id, { execCPUAffinity: { initial: '0', final: '1' } }, process.env)).toBe('1');
    expect(execAffinity(id, { execCPUAffinity: { final: '0' } }, process.env)).toBe('0');
    rt(c, ['delete', '--force', id]);
  });

  it.skipIf(!two)('the container\'s init does not inherit runts\' own affinity, and the config\'s execCPUAffinity is for exec only', () => {
    const id = uid();
    const cfg = baseConfig(['grep', 'Cpus_allowed_list', '/proc/self/status']);
    cfg.process.execCPUAffinity = { initial: '1', final: '1' };
    const r = spawnSync('taskset', ['-c', '0', RUNTS, '--root', c.root, 'run', '--bundle', bundle(c, cfg), id], { encoding: 'utf8', env: V2 });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.trim().split(/\s+/)[1]).toBe('0-1');
  });

  it('a list that does not parse is refused at create and at exec, naming the field', () => {
    expectRefused(cfgOf(['true'], (cfg) => { cfg.process.execCPUAffinity = { initial: '1-0' }; }),
      /^runts: process\.execCPUAffinity\.initial: invalid list "1-0": range "1-0" ends before it starts$/m);
    expectRefused(cfgOf(['true'], (cfg) => { cfg.process.execCPUAffinity = { final: '0,,1' }; }),
      /^runts: process\.execCPUAffinity\.final: invalid list "0,,1"/m);
    const id = uid();
    expect(rt(c, ['run', '-d', '--bundle', bundle(c, baseConfig(['sleep', '60'])), id]).status).toBe(0);
    const file = path.join(c.work, `${id}-bad.json`);
    fs.writeFileSync(file, JSON.stringify({ cwd: '/', user: { uid: 0, gid: 0 }, args: ['true'], execCPUAffinity: { final: 'x' } }));
    const r = rt(c, ['exec', '--process', file, id]);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/^runts: process\.execCPUAffinity\.final: invalid list "x"/m);
    rt(c, ['delete', '--force', id]);
  });

  it.skipIf(!two)('a CPU that is not online: the kernel\'s refusal names the field', () => {
    const id = uid();
    expect(rt(c, ['run', '-d', '--bundle', bundle(c, baseConfig(['sleep', '60'])), id]).status).toBe(0);
    const file = path.join(c.work, `${id}-off.json`);
    fs.writeFileSync(file, JSON.stringify({ cwd: '/', user: { uid: 0, gid: 0 }, args: ['true'], execCPUAffinity: { final: '4000' } }));
    const r = rt(c, ['exec', '--process', file, id]);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/^runts: process\.execCPUAffinity\.final: sched_setaffinity 4000: invalid argument$/m);
    rt(c, ['delete', '--force', id]);
  });
});
