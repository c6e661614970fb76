// Process-level scheduling fields: process.scheduler (sched_setattr), process.ioPriority (ioprio_set),
// linux.memoryPolicy (set_mempolicy) and process.execCPUAffinity (sched_setaffinity). Everything is checked
// here, with errors naming the field, and turned into SCHEDULER / IOPRIO / MEMPOLICY / AFFINITY steps whose
// values are what the syscalls take. Each step carries the field's name, which the stub puts in front of a
// refusal from the kernel.
import { RuntimeError } from '../errors';
import type { ExecCPUAffinity, IoPriority, Linux, MemoryPolicy, Process, Scheduler } from '../config/types';
import { Step, step, str, u64, u64v } from './encode';

export const SCHED_POLICY: Record<string, number> = {
  SCHED_OTHER: 0, SCHED_FIFO: 1, SCHED_RR: 2, SCHED_BATCH: 3, SCHED_IDLE: 5, SCHED_DEADLINE: 6,
};
export const SCHED_FLAGS: Record<string, number> = {
  SCHED_FLAG_RESET_ON_FORK: 0x01, SCHED_FLAG_RECLAIM: 0x02, SCHED_FLAG_DL_OVERRUN: 0x04,
  SCHED_FLAG_KEEP_POLICY: 0x08, SCHED_FLAG_KEEP_PARAMS: 0x10, SCHED_FLAG_UTIL_CLAMP_MIN: 0x20,
  SCHED_FLAG_UTIL_CLAMP_MAX: 0x40,
};
export const IOPRIO_CLASS: Record<string, number> = { IOPRIO_CLASS_RT: 1, IOPRIO_CLASS_BE: 2, IOPRIO_CLASS_IDLE: 3 };
export const MPOL_MODE: Record<string, number> = {
  MPOL_DEFAULT: 0, MPOL_PREFERRED: 1, MPOL_BIND: 2, MPOL_INTERLEAVE: 3, MPOL_LOCAL: 4, MPOL_PREFERRED_MANY: 5,
  MPOL_WEIGHTED_INTERLEAVE: 6,
};
export const MPOL_FLAGS: Record<string, number> = {
  MPOL_F_NUMA_BALANCING: 1 << 13, MPOL_F_RELATIVE_NODES: 1 << 14, MPOL_F_STATIC_NODES: 1 << 15,
};
/** highest CPU number a list may name (runc's limit), and highest NUMA node (the kernel's MAX_NUMNODES at most) */
export const MAX_CPU = 8191;
export const MAX_NODE = 1023;


/** "0-3,7" → [0, 1, 2, 3, 7] (sorted, unique); an error names `field`. */
export function parseList(text: string, field: string, max: number): number[] {
  const out = new Set<number>();
  for (const item of text.split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(item);
    if (!m) throw new RuntimeError(`${field}: invalid list "${text}": "${item}" is not a number or a range like 0-3`);
    const a = Number(m[1]);
    const b = m[2] === undefined ? a : Number(m[2]);
    if (a > b) throw new RuntimeError(`${field}: invalid list "${text}": range "${item}" ends before it starts`);
    if (b > max) throw new RuntimeError(`${field}: invalid list "${text}": ${b} is above the maximum ${max}`);
    for (let i = a; i <= b; i++) out.add(i);
  }
  return [...out].sort((x, y) => x - y);
}

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

/** process.scheduler → SCHEDULER (runc's rules: nice in -20..19, priority only for FIFO/RR, runtime/deadline/period only for DEADLINE). */
export function schedulerStep(s: Scheduler | undefined, linux: Linux): Step | undefined {
  if (!s) return undefined;
  const f = 'process.scheduler';
  if (s.policy === 'SCHED_ISO') throw new RuntimeError(`${f}.policy: SCHED_ISO is not implemented by Linux`);
  const policy = SCHED_POLICY[s.policy];
  if (policy === undefined) throw new RuntimeError(`${f}.policy: unknown policy "${s.policy}"`);
  const nice = s.nice ?? 0;
  if (nice < -20 || nice > 19) throw new RuntimeError(`${f}.nice: must be between -20 and 19, got ${nice}`);
  const rt = s.policy === 'SCHED_FIFO' || s.policy === 'SCHED_RR';
  const prio = s.priority ?? 0;
  if (rt && (prio < 1 || prio > 99)) throw new RuntimeError(`${f}.priority: ${s.policy} needs a priority between 1 and 99, got ${prio}`);
  if (!rt && prio !== 0) throw new RuntimeError(`${f}.priority: can only be set for SCHED_FIFO or SCHED_RR, not ${s.policy}`);
  const dl = s.policy === 'SCHED_DEADLINE';
  for (const k of ['runtime', 'deadline', 'period'] as const) {
    if (!dl && (s[k] ?? 0) !== 0) throw new RuntimeError(`${f}.${k}: can only be set for SCHED_DEADLINE, not ${s.policy}`);
  }
  if (dl && !s.runtime) throw new RuntimeError(`${f}.runtime: SCHED_DEADLINE needs a runtime (nanoseconds)`);
  if (dl && !s.deadline) throw new RuntimeError(`${f}.deadline: SCHED_DEADLINE needs a deadline (nanoseconds)`);
  let flags = 0;
  (s.flags ?? []).forEach((name, i) => {
    const v = SCHED_FLAGS[name];
    if (v === undefined) throw new RuntimeError(`${f}.flags[${i}]: unknown flag "${name}"`);
    flags |= v;
  });
  // with real-time group scheduling (cgroup v1 cpu controller) a group gets no real-time time unless given some;
  // a deadline task must be allowed every CPU of its root domain, which a cpuset narrower than that is not
  const cpu = (linux.resources as { cpu?: { realtimeRuntime?: number; cpus?: string } } | undefined)?.cpu;
  const rtHint = rt && cpu?.realtimeRuntime === undefined ? ` (${s.policy} without linux.resources.cpu.realtimeRuntime)`
    : dl && cpu?.cpus ? ' (SCHED_DEADLINE with linux.resources.cpu.cpus)' : '';
  return step('SCHEDULER', str(`${f}${rtHint}: sched_setattr ${s.policy}`), u64(policy), u64(flags),
    u64(BigInt.asUintN(64, BigInt(nice))), u64(prio), u64(s.runtime ?? 0), u64(s.deadline ?? 0), u64(s.period ?? 0));
}

/** process.ioPriority → IOPRIO (the value ioprio_set takes: class << 13 | level). */
export function ioPriorityStep(p: IoPriority | undefined): Step | undefined {
  if (!p) return undefined;
  const cls = IOPRIO_CLASS[p.class];
  if (cls === undefined) throw new RuntimeError(`process.ioPriority.class: unknown class "${p.class}"`);
  const level = p.priority ?? 0;
  if (level < 0 || level > 7) throw new RuntimeError(`process.ioPriority.priority: must be between 0 and 7, got ${level}`);
  return step('IOPRIO', str(`process.ioPriority: ioprio_set ${p.class} ${level}`), u64((cls << 13) | level));
}

/** linux.memoryPolicy → MEMPOLICY (mode | flags, the node mask). */
export function memoryPolicyStep(m: MemoryPolicy | undefined): Step | undefined {
  if (!m) return undefined;
  const f = 'linux.memoryPolicy';
  const mode = MPOL_MODE[m.mode];
  if (mode === undefined) throw new RuntimeError(`${f}.mode: unknown mode "${m.mode}"`);
  const nodes = m.nodes ? parseList(m.nodes, `${f}.nodes`, MAX_NODE) : [];
  if ((m.mode === 'MPOL_DEFAULT' || m.mode === 'MPOL_LOCAL') && nodes.length) {
    throw new RuntimeError(`${f}.nodes: ${m.mode} takes no nodes, got "${m.nodes}"`);
  }
  if (['MPOL_BIND', 'MPOL_INTERLEAVE', 'MPOL_WEIGHTED_INTERLEAVE', 'MPOL_PREFERRED_MANY'].includes(m.mode) && !nodes.length) {
    throw new RuntimeError(`${f}.nodes: ${m.mode} needs at least one node`);
  }
  let flags = 0;
  (m.flags ?? []).forEach((name, i) => {
    const v = MPOL_FLAGS[name];
    if (v === undefined) throw new RuntimeError(`${f}.flags[${i}]: unknown flag "${name}"`);
    flags |= v;
  });
  if ((flags & MPOL_FLAGS.MPOL_F_STATIC_NODES) && (flags & MPOL_FLAGS.MPOL_F_RELATIVE_NODES)) {
    throw new RuntimeError(`${f}.flags: MPOL_F_STATIC_NODES and MPOL_F_RELATIVE_NODES exclude each other`);
  }
  if (flags && (m.mode === 'MPOL_DEFAULT' || m.mode === 'MPOL_LOCAL')) {
    throw new RuntimeError(`${f}.flags: ${m.mode} takes no flags`);
  }
  return step('MEMPOLICY', str(`${f}: set_mempolicy ${m.mode}`), u64(mode | flags), u64v(maskWords(nodes)));
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
