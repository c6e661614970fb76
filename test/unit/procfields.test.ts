// The planner's half of process.scheduler, process.ioPriority, linux.memoryPolicy and process.execCPUAffinity:
// checks with errors naming the field, the values the syscalls take, and where the steps go.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildExecPlan } from '../../src/plan/exec';
import { gatherFacts } from '../../src/container/facts';
import {
  affinityPlan, ioPriorityStep, maskWords, memoryPolicyStep, parseList, procFieldSteps, schedulerStep,
} from '../../src/plan/procfields';
import type { Step } from '../../src/plan/encode';

const vals = (s: Step | undefined) => s!.args.map((a) => a.v);

describe('parseList', () => {
  it('reads "0-3,7" style lists, sorted and without duplicates', () => {
    expect(parseList('0-3,7', 'f', 100)).toEqual([0, 1, 2, 3, 7]);
    expect(parseList('5,1-2,2', 'f', 100)).toEqual([1, 2, 5]);
    expect(parseList('4', 'f', 100)).toEqual([4]);
  });
  it('refuses what is not such a list, naming the field', () => {
    for (const bad of ['', '1,', ',1', '1-', '-1', 'a', '1 -2', ' 1', '1-2-3', '0x1']) {
      expect(() => parseList(bad, 'x.y', 100)).toThrow(/^x\.y: invalid list/);
    }
    expect(() => parseList('3-1', 'x.y', 100)).toThrow('x.y: invalid list "3-1": range "3-1" ends before it starts');
    expect(() => parseList('0-101', 'x.y', 100)).toThrow('x.y: invalid list "0-101": 101 is above the maximum 100');
  });
  it('maskWords: 64 bits a word, lowest first', () => {
    expect(maskWords([])).toEqual([]);
    expect(maskWords([0, 1, 63])).toEqual([(1n << 63n) | 3n]);
    expect(maskWords([64, 130])).toEqual([0n, 1n, 4n]);
  });
});

describe('schedulerStep', () => {
  it('policy, flags, nice (two\'s complement), priority, runtime, deadline, period', () => {
    expect(vals(schedulerStep({ policy: 'SCHED_BATCH', nice: -3, flags: ['SCHED_FLAG_RESET_ON_FORK', 'SCHED_FLAG_KEEP_PARAMS'] }, {})))
      .toEqual(['process.scheduler: sched_setattr SCHED_BATCH', 3, 0x11, 2n ** 64n - 3n, 0, 0, 0, 0]);
    expect(vals(schedulerStep({ policy: 'SCHED_DEADLINE', runtime: 1, deadline: 2, period: 3 }, {})).slice(1))
      .toEqual([6, 0, 0n, 0, 1, 2, 3]);
  });
  it('a real-time policy without realtimeRuntime says so in the error the kernel may give', () => {
    expect(vals(schedulerStep({ policy: 'SCHED_FIFO', priority: 1 }, {}))[0])
      .toBe('process.scheduler (SCHED_FIFO without linux.resources.cpu.realtimeRuntime): sched_setattr SCHED_FIFO');
    expect(vals(schedulerStep({ policy: 'SCHED_RR', priority: 99 }, { resources: { cpu: { realtimeRuntime: 5 } } }))[0])
      .toBe('process.scheduler: sched_setattr SCHED_RR');
    expect(vals(schedulerStep({ policy: 'SCHED_DEADLINE', runtime: 1, deadline: 2 }, { resources: { cpu: { cpus: '0' } } }))[0])
      .toBe('process.scheduler (SCHED_DEADLINE with linux.resources.cpu.cpus): sched_setattr SCHED_DEADLINE');
  });
  // the rules themselves (nice, priority, deadline fields, flags): checkScheduler in config/rules.ts (rules.test.ts)
});

describe('ioPriorityStep, memoryPolicyStep', () => {
  it('ioprio: class << 13 | level', () => {
    expect(vals(ioPriorityStep({ class: 'IOPRIO_CLASS_RT', priority: 7 }))[1]).toBe((1 << 13) | 7);
    expect(vals(ioPriorityStep({ class: 'IOPRIO_CLASS_IDLE' }))[1]).toBe(3 << 13);
  });
  it('mempolicy: mode | flags and the node mask', () => {
    expect(vals(memoryPolicyStep({ mode: 'MPOL_BIND', nodes: '0-1,3', flags: ['MPOL_F_STATIC_NODES'] })).slice(1))
      .toEqual([2 | (1 << 15), [0b1011n]]);
    expect(vals(memoryPolicyStep({ mode: 'MPOL_PREFERRED' })).slice(1)).toEqual([1, []]);
    expect(vals(memoryPolicyStep({ mode: 'MPOL_LOCAL', nodes: '' })).slice(1)).toEqual([4, []]);
  });
  // the node and flag rules: checkMemoryPolicy in config/rules.ts (rules.test.ts)
  it('procFieldSteps: memory policy, I/O priority, then scheduler', () => {
    const steps = procFieldSteps({ user: { uid: 0, gid: 0 }, cwd: '/', scheduler: { policy: 'SCHED_BATCH' }, ioPriority: { class: 'IOPRIO_CLASS_BE' } },
      { memoryPolicy: { mode: 'MPOL_LOCAL' } });
    expect(steps.map((s) => s.op)).toEqual(['MEMPOLICY', 'IOPRIO', 'SCHEDULER']);
  });
});

describe('execCPUAffinity in the plans', () => {
  it('affinityPlan: initial and final; an empty string is absent; neither means a reset', () => {
    const p = affinityPlan({ initial: '0', final: '1-2' });
    expect(vals(p.initial)).toEqual(['process.execCPUAffinity.initial: sched_setaffinity 0', [1n]]);
    expect(vals(p.after)).toEqual(['process.execCPUAffinity.final: sched_setaffinity 1-2', [6n]]);
    expect(affinityPlan({ initial: '3', final: '' }).after).toBeUndefined();
    expect(vals(affinityPlan({ initial: '', final: '' }).after)).toEqual(['', []]);
    expect(affinityPlan(undefined).initial).toBeUndefined();
  });

  const rootfs = fs.mkdtempSync(path.join(os.tmpdir(), 'runts-pf-'));
  afterAll(() => fs.rmSync(rootfs, { recursive: true, force: true }));
  const config = { ociVersion: '1.3.0', root: { path: rootfs }, linux: { namespaces: [{ type: 'pid' }, { type: 'mount' }] } };
  const fds = { preserve: 0, sync: 3, memfd: 4 };

  it('exec: initial before the cgroup joins, final right after WAIT_PARENT (runts has moved it into cgroup2 by then)', () => {
    const proc = { user: { uid: 0, gid: 0 }, cwd: '/', args: ['true'], execCPUAffinity: { initial: '0', final: '1' } };
    const steps = buildExecPlan(config, gatherFacts(config, { rootfs }), 1, proc, { fds, cgroupJoin: { tasks: ['/sys/fs/cgroup/cpuset/x/tasks'] } });
    const ops = steps.map((s) => s.op);
    expect(ops.slice(0, 2)).toEqual(['AFFINITY', 'CGROUP_JOIN']);
    expect(ops.slice(ops.indexOf('WAIT_PARENT'), ops.indexOf('WAIT_PARENT') + 2)).toEqual(['WAIT_PARENT', 'AFFINITY']);
    expect(ops.filter((o) => o === 'AFFINITY')).toHaveLength(2);
    // the container's memory policy applies to an exec'd process too, before the user switch
    const withMp = buildExecPlan({ ...config, linux: { ...config.linux, memoryPolicy: { mode: 'MPOL_LOCAL' } } }, gatherFacts(config, { rootfs }), 1, proc, { fds }).map((s) => s.op);
    expect(withMp.indexOf('MEMPOLICY')).toBeGreaterThan(withMp.indexOf('WAIT_PARENT'));
    expect(withMp.indexOf('MEMPOLICY')).toBeLessThan(withMp.indexOf('USER'));
  });

  it('exec without execCPUAffinity: a reset after WAIT_PARENT, nothing before the joins', () => {
    const proc = { user: { uid: 0, gid: 0 }, cwd: '/', args: ['true'] };
    const steps = buildExecPlan(config, gatherFacts(config, { rootfs }), 1, proc, { fds, cgroupJoin: { tasks: ['/t'] } });
    expect(steps[0].op).toBe('CGROUP_JOIN');
    const i = steps.findIndex((s) => s.op === 'WAIT_PARENT');
    expect(vals(steps[i + 1])).toEqual(['', []]);
  });
});
