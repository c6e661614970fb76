// Process-level scheduling fields: process.scheduler (sched_setattr), process.ioPriority (ioprio_set),
// linux.memoryPolicy (set_mempolicy) and process.execCPUAffinity (sched_setaffinity), checked by config/rules.ts
// (checkScheduler, checkIoPriority, checkMemoryPolicy, checkExecCPUAffinity) and turned here into SCHEDULER /
// IOPRIO / MEMPOLICY / AFFINITY steps whose values are what the syscalls take. Each step carries the field's name, which the stub puts in front of a
// refusal from the kernel.
import type { ExecCPUAffinity, IoPriority, Linux, MemoryPolicy, Process, Scheduler } from '../config/types';
import { IOPRIO_CLASS, MAX_CPU, MAX_NODE, MPOL_FLAGS, MPOL_MODE, SCHED_FLAGS, SCHED_POLICY } from '../config/tables';
import { parseList } from '../config/rules';
import { Step, step, str, u64, u64v } from './encode';

export { IOPRIO_CLASS, MAX_CPU, MAX_NODE, MPOL_FLAGS, MPOL_MODE, SCHED_FLAGS, SCHED_POLICY, parseList };


/** the bit mask of a list as 64-bit words, lowest first (an unsigned long array on a 64-bit kernel) */
export function maskWords(list: number[]): bigint[] {
  const words: bigint[] = [];
  for (const n of list) {
    const w = Math.floor(n / 64);
    while (words.length <= w) words.push(0n);
    words[w] |= 1n << BigInt(n % 64);
  }
  return words;
}

/** process.scheduler → SCHEDULER (checkScheduler has refused what runc refuses). */
export function schedulerStep(s: Scheduler | undefined, linux: Linux): Step | undefined {
  if (!s) return undefined;
  const f = 'process.scheduler';
  const policy = SCHED_POLICY[s.policy];
  const nice = s.nice ?? 0;
  const rt = s.policy === 'SCHED_FIFO' || s.policy === 'SCHED_RR';
  const prio = s.priority ?? 0;
  const dl = s.policy === 'SCHED_DEADLINE';
  let flags = 0;
  for (const name of s.flags ?? []) flags |= SCHED_FLAGS[name];
  // with real-time group scheduling (cgroup v1 cpu controller) a group gets no real-time time unless given some;
  // a deadline task must be allowed every CPU of its root domain, which a cpuset narrower than that is not
  const cpu = (linux.resources as { cpu?: { realtimeRuntime?: number; cpus?: string } } | undefined)?.cpu;
  const rtHint = rt && cpu?.realtimeRuntime === undefined ? ` (${s.policy} without linux.resources.cpu.realtimeRuntime)`
    : dl && cpu?.cpus ? ' (SCHED_DEADLINE with linux.resources.cpu.cpus)' : '';
  return step('SCHEDULER', str(`${f}${rtHint}: sched_setattr ${s.policy}`), u64(policy), u64(flags),
    u64(BigInt.asUintN(64, BigInt(nice))), u64(prio), u64(s.runtime ?? 0), u64(s.deadline ?? 0), u64(s.period ?? 0));
}

/** process.ioPriority → IOPRIO (the value ioprio_set takes: class << 13 | level; checked by checkIoPriority). */
export function ioPriorityStep(p: IoPriority | undefined): Step | undefined {
  if (!p) return undefined;
  const level = p.priority ?? 0;
  return step('IOPRIO', str(`process.ioPriority: ioprio_set ${p.class} ${level}`), u64((IOPRIO_CLASS[p.class] << 13) | level));
}

/** linux.memoryPolicy → MEMPOLICY (mode | flags, the node mask; checked by checkMemoryPolicy). */
export function memoryPolicyStep(m: MemoryPolicy | undefined): Step | undefined {
  if (!m) return undefined;
  const f = 'linux.memoryPolicy';
  const nodes = m.nodes ? parseList(m.nodes, `${f}.nodes`, MAX_NODE) : [];
  let flags = 0;
  for (const name of m.flags ?? []) flags |= MPOL_FLAGS[name];
  return step('MEMPOLICY', str(`${f}: set_mempolicy ${m.mode}`), u64(MPOL_MODE[m.mode] | flags), u64v(maskWords(nodes)));
}

export interface AffinityPlan {
  /** before the process joins the container's cgroups */
  initial?: Step;
  /** once it is in them: the final list, or a reset to every CPU when execCPUAffinity sets neither */
  after?: Step;
}

/**
 * process.execCPUAffinity → AFFINITY steps. An empty string counts as absent (config.md). With neither list the
 * process's affinity is reset to every CPU once it is in its cgroups (the kernel narrows it to the cpuset), so
 * it does not inherit runts' own (runc's tryResetCPUAffinity); with only `initial` it keeps that one.
 */
export function affinityPlan(a: ExecCPUAffinity | undefined): AffinityPlan {
  const f = 'process.execCPUAffinity';
  const initial = a?.initial ? parseList(a.initial, `${f}.initial`, MAX_CPU) : undefined;
  const fin = a?.final ? parseList(a.final, `${f}.final`, MAX_CPU) : undefined;
  const reset = step('AFFINITY', str(''), u64v([]));
  return {
    initial: initial && step('AFFINITY', str(`${f}.initial: sched_setaffinity ${a!.initial}`), u64v(maskWords(initial))),
    after: fin ? step('AFFINITY', str(`${f}.final: sched_setaffinity ${a!.final}`), u64v(maskWords(fin)))
      : initial ? undefined : reset,
  };
}

/** The steps for the process itself (create and exec), in the order they run: before the user switch. */
export function procFieldSteps(proc: Process, linux: Linux): Step[] {
  const out: Step[] = [];
  const s = schedulerStep(proc.scheduler, linux);
  const io = ioPriorityStep(proc.ioPriority);
  const mp = memoryPolicyStep(linux.memoryPolicy);
  if (mp) out.push(mp);
  if (io) out.push(io);
  if (s) out.push(s);
  return out;
}
