// The rules of config.json that a JSON Schema cannot state (cross-field rules, paths, namespaces), each once,
// each a named function returning every problem it finds as { field, message }.
//
// Two callers: `create` (config/validate.ts runs DOC_RULES on every config.json it loads; container/launch.ts runs
// planProblems before the planner, which assumes a config they accept; exec runs checkProcessFields on its
// process) throws the first problem; `runts validate` (commands/validate.ts) collects
// them all. DOC_RULES read the document defensively (it may have failed the schema); the plan rules assume a
// document that passed the schema (validate guards them). Host facts are passed in, never read here.
import { isAbsolute, normalize, resolve } from '../paths';
import { RuntimeError } from '../errors';
import {
  ACTIONS, ARCHS, CAPS, DEVICE_TYPES, FLAGS, IOPRIO_CLASS, MAX_CPU, MAX_NODE, MPOL_FLAGS, MPOL_MODE, NEWER_ARCHS, NS_TYPES, OPERATORS,
  PERSONALITY, PROPAGATION_NAMES, SCHED_FLAGS, SCHED_POLICY, SCMP_ACT, TIME_CLOCKS, WAIT_KILLABLE_RECV, capMask,
} from './tables';
import type { Spec } from './types';

export interface Problem {
  /** the field, as `linux.resources.memory.limit`, `process.args[0]`; empty for the whole document */
  field: string;
  message: string;
}

/** `field: message`, the one-line form create prints and validate's text output uses. */
export function problemText(p: Problem): string {
  return p.field ? `${p.field}: ${p.message}` : p.message;
}

/** create's way: the first problem becomes the error. */
export function throwFirst(problems: readonly Problem[]): void {
  if (problems.length) throw new RuntimeError(problemText(problems[0]));
}

type Seg = string | number;
type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);
const isAbs = (v: unknown): boolean => typeof v === 'string' && v.startsWith('/');

/** `linux.resources.memory.limit`, `process.args[0]`, `linux.sysctl["net.ipv4.ip_forward"]`. */
export function fieldPath(segs: readonly Seg[]): string {
  let out = '';
  for (const s of segs) {
    if (typeof s === 'number') out += `[${s}]`;
    else if (/^[A-Za-z_][A-Za-z0-9_-]*$/.test(s)) out += out ? `.${s}` : s;
    else out += `[${JSON.stringify(s)}]`;
  }
  return out;
}

const at = (segs: readonly Seg[], message: string): Problem => ({ field: fieldPath(segs), message });

// ---------------------------------------------------------------------------------------------------------
// Document rules (every config.json create loads; defensive about types)

const SEMVER = /^(\d+)\.(\d+)\.(\d+)(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$/;

/** ociVersion: a semantic version of major version 1. */
export function checkVersion(doc: Obj): Problem[] {
  const v = doc.ociVersion;
  if (typeof v !== 'string') return [];
  const m = SEMVER.exec(v);
  if (!m) return [at(['ociVersion'], `must be a semantic version like 1.3.0 (got ${JSON.stringify(v)})`)];
  if (m[1] !== '1') return [at(['ociVersion'], `unsupported version ${JSON.stringify(v)}`)];
  return [];
}

/** root.path: not empty. */
export function checkRoot(doc: Obj): Problem[] {
  return isObj(doc.root) && doc.root.path === '' ? [at(['root', 'path'], 'must not be empty')] : [];
}

/** A process's cwd (config.json's process.cwd, exec's --cwd or process.json): an absolute path. */
export function checkCwd(cwd: unknown, field = 'process.cwd'): Problem[] {
  return typeof cwd === 'string' && !isAbs(cwd) ? [{ field, message: 'must be an absolute path' }] : [];
}

/** process.args: at least one element; process.cwd: absolute. */
export function checkProcess(doc: Obj): Problem[] {
  const proc = doc.process;
  if (!isObj(proc)) return [];
  const out: Problem[] = [];
  if (proc.args === undefined || (Array.isArray(proc.args) && proc.args.length === 0)) {
    out.push(at(['process', 'args'], 'must contain at least one element'));
  }
  out.push(...checkCwd(proc.cwd));
  return out;
}

/** process.rlimits: each type once. */
export function checkRlimitDuplicates(doc: Obj): Problem[] {
  const proc = doc.process;
  if (!isObj(proc) || !Array.isArray(proc.rlimits)) return [];
  const out: Problem[] = [];
  const seen = new Set<string>();
  proc.rlimits.forEach((r, i) => {
    if (!isObj(r) || typeof r.type !== 'string') return;
    if (seen.has(r.type)) out.push(at(['process', 'rlimits', i, 'type'], `duplicate rlimit ${JSON.stringify(r.type)}`));
    seen.add(r.type);
  });
  return out;
}

/** the hooks runts runs (config.md); `runts features` lists them */
export const HOOK_KINDS = ['prestart', 'createRuntime', 'createContainer', 'startContainer', 'poststart', 'poststop'];

/** hooks.*[].path: absolute. */
export function checkHooks(doc: Obj): Problem[] {
  const out: Problem[] = [];
  if (!isObj(doc.hooks)) return out;
  for (const kind of HOOK_KINDS) {
    const list = doc.hooks[kind];
    if (Array.isArray(list)) list.forEach((h, i) => { if (isObj(h) && typeof h.path === 'string' && !isAbs(h.path)) out.push(at(['hooks', kind, i, 'path'], 'must be an absolute path')); });
  }
  return out;
}

/** annotations: no empty key. */
export function checkAnnotations(doc: Obj): Problem[] {
  return isObj(doc.annotations) && Object.prototype.hasOwnProperty.call(doc.annotations, '') ? [at(['annotations'], 'keys must not be empty')] : [];
}

/** The namespace a sysctl needs (runc's list), or undefined when the sysctl is not namespaced. */
export function sysctlNamespace(key: string): 'ipc' | 'network' | 'uts' | undefined {
  const k = key.replace(/\//g, '.');
  const ipc = ['kernel.msgmax', 'kernel.msgmnb', 'kernel.msgmni', 'kernel.sem', 'kernel.shmall', 'kernel.shmmax', 'kernel.shmmni', 'kernel.shm_rmid_forced'];
  if (ipc.includes(k) || k.startsWith('fs.mqueue.')) return 'ipc';
  if (k.startsWith('net.')) return 'network';
  if (k === 'kernel.hostname' || k === 'kernel.domainname') return 'uts';
  return undefined;
}

/** The namespace types listed, or undefined when linux or its namespaces have the wrong type (the schema said so). */
function listedNamespaces(doc: Obj): Map<string, { path?: unknown }> | undefined {
  if (doc.linux !== undefined && !isObj(doc.linux)) return undefined;
  const list = isObj(doc.linux) ? doc.linux.namespaces : undefined;
  if (list !== undefined && !Array.isArray(list)) return undefined;
  const out = new Map<string, { path?: unknown }>();
  for (const ns of list ?? []) if (isObj(ns) && typeof ns.type === 'string' && !out.has(ns.type)) out.set(ns.type, ns);
  return out;
}

/**
 * linux.namespaces: each type once, paths absolute; the settings that need a namespace of their own have it
 * (hostname and domainname: uts; id mappings: user; time offsets: a new time namespace).
 */
export function checkNamespaces(doc: Obj): Problem[] {
  const out: Problem[] = [];
  const linux = isObj(doc.linux) ? doc.linux : {};
  if (Array.isArray(linux.namespaces)) {
    const seen = new Set<string>();
    const reported = new Set<string>();
    linux.namespaces.forEach((ns, i) => {
      if (!isObj(ns) || typeof ns.type !== 'string') return;
      if (seen.has(ns.type) && !reported.has(ns.type)) {
        // an error, as in runc ("malformed spec file: duplicated ns"), also when one of them has a path
        out.push(at(['linux', 'namespaces', i, 'type'], `malformed spec file: duplicated ns ${JSON.stringify(ns.type)}`));
        reported.add(ns.type);
      }
      seen.add(ns.type);
      if (typeof ns.path === 'string' && !isAbs(ns.path)) out.push(at(['linux', 'namespaces', i, 'path'], 'must be an absolute path'));
    });
  }
  const listed = listedNamespaces(doc);
  if (!listed) return out;
  const needs = (segs: Seg[], ns: string, created = false) => {
    const e = listed.get(ns);
    if (!e || (created && e.path)) out.push(at(segs, `requires a new ${ns} namespace`));
  };
  if (typeof doc.hostname === 'string' && doc.hostname !== '') needs(['hostname'], 'uts');
  if (typeof doc.domainname === 'string' && doc.domainname !== '') needs(['domainname'], 'uts');
  for (const key of ['uidMappings', 'gidMappings']) {
    const v = linux[key];
    if (Array.isArray(v) && v.length > 0) needs(['linux', key], 'user');
  }
  // offsets are written before any process is in the namespace: a namespace joined by path cannot take them
  if (isObj(linux.timeOffsets) && Object.keys(linux.timeOffsets).length > 0) needs(['linux', 'timeOffsets'], 'time', true);
  return out;
}

/** linux.sysctl: a namespaced sysctl needs that namespace in linux.namespaces. */
export function checkSysctlNamespaces(doc: Obj): Problem[] {
  const linux = isObj(doc.linux) ? doc.linux : undefined;
  const listed = listedNamespaces(doc);
  if (!linux || !isObj(linux.sysctl) || !listed) return [];
  const out: Problem[] = [];
  for (const key of Object.keys(linux.sysctl)) {
    const ns = sysctlNamespace(key);
    if (ns && !listed.has(ns)) out.push(at(['linux', 'sysctl', key], `requires a new ${ns} namespace`));
  }
  return out;
}

/** linux.devices: absolute paths without "..", major and minor for every type but p. */
export function checkDevices(doc: Obj): Problem[] {
  const linux = isObj(doc.linux) ? doc.linux : undefined;
  if (!linux || !Array.isArray(linux.devices)) return [];
  const out: Problem[] = [];
  linux.devices.forEach((d, i) => {
    if (!isObj(d)) return;
    if (typeof d.path === 'string') {
      if (!isAbs(d.path)) out.push(at(['linux', 'devices', i, 'path'], 'must be an absolute path'));
      else if (d.path.split('/').includes('..')) out.push(at(['linux', 'devices', i, 'path'], 'must not contain ".."'));
    }
    if (typeof d.type === 'string' && d.type !== 'p') {
      for (const k of ['major', 'minor']) {
        if (d[k] === undefined) out.push(at(['linux', 'devices', i, k], `is required for a device of type "${d.type}"`));
      }
    }
  });
  return out;
}

/** linux.maskedPaths, linux.readonlyPaths: absolute. */
export function checkMaskedPaths(doc: Obj): Problem[] {
  const linux = isObj(doc.linux) ? doc.linux : undefined;
  const out: Problem[] = [];
  for (const key of ['maskedPaths', 'readonlyPaths']) {
    const list = linux?.[key];
    if (Array.isArray(list)) list.forEach((p, i) => { if (typeof p === 'string' && !isAbs(p)) out.push(at(['linux', key, i], 'must be an absolute path')); });
  }
  return out;
}

/** linux.intelRdt.closID: a directory name under /sys/fs/resctrl, one path component, as runc checks it. */
export function checkIntelRdt(doc: Obj): Problem[] {
  const rdt = isObj(doc.linux) ? doc.linux.intelRdt : undefined;
  if (!isObj(rdt) || typeof rdt.closID !== 'string') return [];
  const id = rdt.closID;
  if (id === '.' || id === '..' || id.includes('/')) return [at(['linux', 'intelRdt', 'closID'], `must be a single path component (no "/", not "." or ".."), got ${JSON.stringify(id)}`)];
  return [];
}

/** linux.seccomp.listenerMetadata goes with a listenerPath. */
export function checkSeccompListener(doc: Obj): Problem[] {
  const sc = isObj(doc.linux) ? doc.linux.seccomp : undefined;
  if (isObj(sc) && sc.listenerMetadata !== undefined && sc.listenerPath === undefined) {
    return [at(['linux', 'seccomp', 'listenerMetadata'], 'requires linux.seccomp.listenerPath')];
  }
  return [];
}

/** The rules config/validate.ts applies to every config.json, in order. */
export const DOC_RULES: ReadonlyArray<(doc: Obj) => Problem[]> = [
  checkRoot, checkProcess, checkRlimitDuplicates, checkHooks, checkAnnotations, checkNamespaces, checkSysctlNamespaces,
  checkDevices, checkMaskedPaths, checkIntelRdt, checkSeccompListener,
];

// ---------------------------------------------------------------------------------------------------------
// Plan rules (a document that passed the schema; run by create before the planner, see planProblems)

/** The facts of the host some rules need (gathered by the caller). */
export interface HostNsFacts {
  /** whether the namespace file at `nsPath` is the runtime's own namespace of that type */
  isHostNs(type: string, nsPath: string): boolean;
}

/** process: create needs one. */
export function checkProcessPresent(spec: Spec): Problem[] {
  return spec.process ? [] : [{ field: 'process', message: 'is required to create a container' }];
}

/** Resource limit names and their numbers (setrlimit(2)). */
export const RLIMITS: Record<string, number> = {
  RLIMIT_CPU: 0, RLIMIT_FSIZE: 1, RLIMIT_DATA: 2, RLIMIT_STACK: 3, RLIMIT_CORE: 4, RLIMIT_RSS: 5, RLIMIT_NPROC: 6,
  RLIMIT_NOFILE: 7, RLIMIT_MEMLOCK: 8, RLIMIT_AS: 9, RLIMIT_LOCKS: 10, RLIMIT_SIGPENDING: 11, RLIMIT_MSGQUEUE: 12,
  RLIMIT_NICE: 13, RLIMIT_RTPRIO: 14, RLIMIT_RTTIME: 15,
};
const INFINITY = (1n << 64n) - 1n;
/** An rlimit value as the kernel takes it (negative or beyond 2^53: unlimited). */
export const rlimitValue = (v: number): bigint => (v < 0 || v >= Number.MAX_SAFE_INTEGER ? INFINITY : BigInt(v));

/** process.rlimits: known types, soft not above hard. */
export function checkRlimits(spec: Spec): Problem[] {
  const out: Problem[] = [];
  (spec.process?.rlimits ?? []).forEach((r, i) => {
    if (!(r.type in RLIMITS)) out.push({ field: `process.rlimits[${i}].type`, message: `unknown rlimit "${r.type}"` });
    else if (rlimitValue(r.soft) > rlimitValue(r.hard)) out.push({ field: `process.rlimits[${i}]`, message: `soft limit ${r.soft} is above the hard limit ${r.hard}` });
  });
  return out;
}

/** A new user namespace needs both id mappings (runts writes them). */
export function checkUserNamespace(spec: Spec): Problem[] {
  const linux = spec.linux ?? {};
  const creates = (linux.namespaces ?? []).some((ns) => ns.type === 'user' && !ns.path);
  if (creates && !(linux.uidMappings?.length && linux.gidMappings?.length)) {
    return [{ field: 'linux.uidMappings', message: 'a new user namespace needs uidMappings and gidMappings' }];
  }
  return [];
}

/** Whether a namespace of `type` other than the host's is listed (created, or joined by a path not the host's). */
function ownsNamespace(spec: Spec, type: string, facts?: HostNsFacts): boolean {
  const ns = (spec.linux?.namespaces ?? []).find((n) => n.type === type);
  return !!ns && (!ns.path || !facts || !facts.isHostNs(type, ns.path));
}

/** linux.sysctl: valid keys, each namespaced, in a namespace that is not the host's (runc's rule). */
export function checkSysctl(spec: Spec, facts?: HostNsFacts): Problem[] {
  const out: Problem[] = [];
  for (const k of Object.keys(spec.linux?.sysctl ?? {})) {
    if (!/^[A-Za-z0-9_.\-/]+$/.test(k) || k.includes('..')) { out.push({ field: 'linux.sysctl', message: `invalid key "${k}"` }); continue; }
    const key = k.replace(/\//g, '.');
    const ns = sysctlNamespace(key);
    if (!ns) out.push({ field: 'linux.sysctl', message: `"${key}" is not in a separate kernel namespace` });
    // a namespace joined by path counts unless it is the host's own (runc: "not allowed in host ... namespace");
    // one that is not listed at all is checkSysctlNamespaces' finding
    else if ((spec.linux?.namespaces ?? []).some((n) => n.type === ns) && !ownsNamespace(spec, ns, facts)) {
      out.push({ field: 'linux.sysctl', message: `"${key}" needs a new ${ns} namespace` });
    }
  }
  return out;
}

/**
 * linux.rootfsPropagation: a known value; without a mount namespace of its own the container's mounts stay
 * private; [r]private is refused with --no-pivot (`noPivot`), as runc does ("not safe without pivot_root").
 */
export function checkRootfsPropagation(spec: Spec, facts?: HostNsFacts, o: { noPivot?: boolean } = {}): Problem[] {
  const field = 'linux.rootfsPropagation';
  const rp = spec.linux?.rootfsPropagation;
  if (!rp) return [];
  if (!PROPAGATION_NAMES.includes(rp)) return [{ field, message: `must be one of ${PROPAGATION_NAMES.join(', ')}` }];
  if (o.noPivot && (rp === 'private' || rp === 'rprivate')) return [{ field, message: `"${rp}" is not safe without pivot_root (--no-pivot), as in runc` }];
  if (rp === 'private' || rp === 'rprivate' || ownsNamespace(spec, 'mount', facts)) return [];
  return [{ field, message: `"${rp}" needs a mount namespace (without one the container's mounts are kept private)` }];
}

/** linux.namespaces[].type: a type runts knows. */
export function checkNamespaceTypes(spec: Spec): Problem[] {
  const out: Problem[] = [];
  (spec.linux?.namespaces ?? []).forEach((ns, i) => {
    if (!NS_TYPES.includes(ns.type)) out.push({ field: `linux.namespaces[${i}].type`, message: `unknown namespace type "${ns.type}"` });
  });
  return out;
}

/** linux.timeOffsets: the clocks a time namespace has (monotonic, boottime). */
export function checkTimeOffsets(spec: Spec): Problem[] {
  const out: Problem[] = [];
  for (const clock of Object.keys(spec.linux?.timeOffsets ?? {})) {
    if (!TIME_CLOCKS.includes(clock)) out.push({ field: 'linux.timeOffsets', message: `unknown clock "${clock}" (monotonic or boottime)` });
  }
  return out;
}

/** linux.devices[].type: c, b, u or p. */
export function checkDeviceTypes(spec: Spec): Problem[] {
  const out: Problem[] = [];
  (spec.linux?.devices ?? []).forEach((d, i) => {
    if (!DEVICE_TYPES.includes(d.type)) out.push({ field: `linux.devices[${i}].type`, message: `must be one of c, b, u, p, got "${d.type}"` });
  });
  return out;
}

/** linux.personality.domain: LINUX or LINUX32. */
export function checkPersonality(spec: Spec): Problem[] {
  const p = spec.linux?.personality;
  if (!p || p.domain in PERSONALITY) return [];
  return [{ field: 'linux.personality.domain', message: `must be LINUX or LINUX32, got "${p.domain}"` }];
}

/** process.terminal: create needs somewhere to send the terminal (`console`: a console socket or fd was given). */
export function checkConsoleSocket(spec: Spec, o: { console?: boolean }): Problem[] {
  if (!spec.process?.terminal || o.console !== false) return [];
  return [{ field: '', message: 'cannot allocate tty if runts will detach without setting console socket' }];
}

/** A CPU or NUMA node list ("0-3,7"), each number at most `max`; a problem names `field`. */
export function listProblems(text: string, field: string, max: number): Problem[] {
  for (const item of text.split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(item);
    if (!m) return [{ field, message: `invalid list "${text}": "${item}" is not a number or a range like 0-3` }];
    const a = Number(m[1]);
    const b = m[2] === undefined ? a : Number(m[2]);
    if (a > b) return [{ field, message: `invalid list "${text}": range "${item}" ends before it starts` }];
    if (b > max) return [{ field, message: `invalid list "${text}": ${b} is above the maximum ${max}` }];
  }
  return [];
}

/** "0-3,7" → [0, 1, 2, 3, 7] (sorted, unique); throws listProblems' first, naming `field`. */
export function parseList(text: string, field: string, max: number): number[] {
  throwFirst(listProblems(text, field, max));
  const out = new Set<number>();
  for (const item of text.split(',')) {
    const [a, b = a] = item.split('-').map(Number);
    for (let i = a; i <= b; i++) out.add(i);
  }
  return [...out].sort((x, y) => x - y);
}

/**
 * process.scheduler (runc's rules): a policy Linux implements, nice in -20..19, a priority in 1..99 for FIFO/RR
 * and none for the others, runtime/deadline/period only for DEADLINE (which needs runtime and deadline), known flags.
 */
export function checkScheduler(spec: Spec): Problem[] {
  const s = spec.process?.scheduler;
  if (!s) return [];
  const f = 'process.scheduler';
  if (s.policy === 'SCHED_ISO') return [{ field: `${f}.policy`, message: 'SCHED_ISO is not implemented by Linux' }];
  if (SCHED_POLICY[s.policy] === undefined) return [{ field: `${f}.policy`, message: `unknown policy "${s.policy}"` }];
  const out: Problem[] = [];
  const nice = s.nice ?? 0;
  if (nice < -20 || nice > 19) out.push({ field: `${f}.nice`, message: `must be between -20 and 19, got ${nice}` });
  const rt = s.policy === 'SCHED_FIFO' || s.policy === 'SCHED_RR';
  const prio = s.priority ?? 0;
  if (rt && (prio < 1 || prio > 99)) out.push({ field: `${f}.priority`, message: `${s.policy} needs a priority between 1 and 99, got ${prio}` });
  if (!rt && prio !== 0) out.push({ field: `${f}.priority`, message: `can only be set for SCHED_FIFO or SCHED_RR, not ${s.policy}` });
  const dl = s.policy === 'SCHED_DEADLINE';
  for (const k of ['runtime', 'deadline', 'period'] as const) {
    if (!dl && (s[k] ?? 0) !== 0) out.push({ field: `${f}.${k}`, message: `can only be set for SCHED_DEADLINE, not ${s.policy}` });
  }
  if (dl && !s.runtime) out.push({ field: `${f}.runtime`, message: 'SCHED_DEADLINE needs a runtime (nanoseconds)' });
  if (dl && !s.deadline) out.push({ field: `${f}.deadline`, message: 'SCHED_DEADLINE needs a deadline (nanoseconds)' });
  (s.flags ?? []).forEach((name, i) => {
    if (SCHED_FLAGS[name] === undefined) out.push({ field: `${f}.flags[${i}]`, message: `unknown flag "${name}"` });
  });
  return out;
}

/** process.ioPriority: a known class, a level in 0..7. */
export function checkIoPriority(spec: Spec): Problem[] {
  const p = spec.process?.ioPriority;
  if (!p) return [];
  if (IOPRIO_CLASS[p.class] === undefined) return [{ field: 'process.ioPriority.class', message: `unknown class "${p.class}"` }];
  const level = p.priority ?? 0;
  if (level < 0 || level > 7) return [{ field: 'process.ioPriority.priority', message: `must be between 0 and 7, got ${level}` }];
  return [];
}

/**
 * linux.memoryPolicy: a known mode; a node list that parses, none for DEFAULT and LOCAL, at least one for the modes
 * that need nodes; known flags, STATIC and RELATIVE not together, none for DEFAULT and LOCAL.
 */
export function checkMemoryPolicy(spec: Spec): Problem[] {
  const m = spec.linux?.memoryPolicy;
  if (!m) return [];
  const f = 'linux.memoryPolicy';
  if (MPOL_MODE[m.mode] === undefined) return [{ field: `${f}.mode`, message: `unknown mode "${m.mode}"` }];
  const bad = m.nodes ? listProblems(m.nodes, `${f}.nodes`, MAX_NODE) : [];
  if (bad.length) return bad;
  const none = m.mode === 'MPOL_DEFAULT' || m.mode === 'MPOL_LOCAL';
  if (none && m.nodes) return [{ field: `${f}.nodes`, message: `${m.mode} takes no nodes, got "${m.nodes}"` }];
  if (['MPOL_BIND', 'MPOL_INTERLEAVE', 'MPOL_WEIGHTED_INTERLEAVE', 'MPOL_PREFERRED_MANY'].includes(m.mode) && !m.nodes) {
    return [{ field: `${f}.nodes`, message: `${m.mode} needs at least one node` }];
  }
  let flags = 0;
  for (const [i, name] of (m.flags ?? []).entries()) {
    const v = MPOL_FLAGS[name];
    if (v === undefined) return [{ field: `${f}.flags[${i}]`, message: `unknown flag "${name}"` }];
    flags |= v;
  }
  if ((flags & MPOL_FLAGS.MPOL_F_STATIC_NODES) && (flags & MPOL_FLAGS.MPOL_F_RELATIVE_NODES)) {
    return [{ field: `${f}.flags`, message: 'MPOL_F_STATIC_NODES and MPOL_F_RELATIVE_NODES exclude each other' }];
  }
  if (flags && none) return [{ field: `${f}.flags`, message: `${m.mode} takes no flags` }];
  return [];
}

/** process.execCPUAffinity: initial and final, when not empty, CPU lists that parse. */
export function checkExecCPUAffinity(spec: Spec): Problem[] {
  const a = spec.process?.execCPUAffinity;
  const f = 'process.execCPUAffinity';
  return [
    ...(a?.initial ? listProblems(a.initial, `${f}.initial`, MAX_CPU) : []),
    ...(a?.final ? listProblems(a.final, `${f}.final`, MAX_CPU) : []),
  ];
}

/** The rules of a process, create's init and exec's alike (exec runs them on the process it is given). */
export function checkProcessFields(spec: Spec): Problem[] {
  return [...checkRlimits(spec), ...checkCapabilities(spec), ...checkScheduler(spec), ...checkIoPriority(spec), ...checkExecCPUAffinity(spec)];
}

/** process.capabilities: effective within permitted, inheritable within bounding (capset(2)'s rules). */
export function checkCapabilities(spec: Spec): Problem[] {
  const caps = spec.process?.capabilities;
  if (!caps) return [];
  const out: Problem[] = [];
  const m = (names?: string[]) => capMask(names, '', false);
  const check = (sub: bigint, sup: bigint, field: string, what: string) => {
    for (let i = 0; i < CAPS.length; i++) {
      const bit = 1n << BigInt(i);
      if ((sub & bit) && !(sup & bit)) out.push({ field: `process.capabilities.${field}`, message: `${CAPS[i]} is not in the ${what} set` });
    }
  };
  check(m(caps.effective), m(caps.permitted), 'effective', 'permitted');
  check(m(caps.inheritable), m(caps.bounding), 'inheritable', 'bounding');
  return out;
}

/** Whether a mount is a bind mount (its type, or a bind/rbind option). */
export function isBindMount(m: { type?: string; options?: string[] }): boolean {
  return m.type === 'bind' || (m.options ?? []).some((o) => o === 'bind' || o === 'rbind');
}

/**
 * mounts[i]'s id mapping (idmap/ridmap, or the mount's own uidMappings/gidMappings): both mappings or none; not a
 * cgroup mount; in a container's user namespace only bind mounts (the kernel id-maps a filesystem only for a caller
 * privileged over its owner and the mapping's namespace); without mappings of its own, a user namespace for the
 * container to take them from (as runc does).
 */
function mountIdmapProblems(spec: Spec, m: NonNullable<Spec['mounts']>[number], field: string): Problem[] {
  const uid = !!m.uidMappings?.length;
  const gid = !!m.gidMappings?.length;
  let opt: { option: string; index: number } | undefined;
  (m.options ?? []).forEach((o, index) => { if (o === 'idmap' || o === 'ridmap') opt = { option: o, index }; });
  if (!opt && !uid && !gid) return [];
  if (uid !== gid) return [{ field: `${field}.${uid ? 'gidMappings' : 'uidMappings'}`, message: `is required with ${uid ? 'uidMappings' : 'gidMappings'}` }];
  const at = (message: string): Problem => opt
    ? { field: `${field}.options[${opt.index}]`, message: `${JSON.stringify(opt.option)}: ${message}` }
    : { field: `${field}.uidMappings`, message };
  if (m.type === 'cgroup') return [at('a cgroup mount cannot be id-mapped')];
  const userns = (spec.linux?.namespaces ?? []).some((ns) => ns.type === 'user');
  if (!isBindMount(m) && userns) return [at(`in a user namespace only bind mounts can be id-mapped (a ${m.type} made there belongs to the container's namespace)`)];
  if (!(uid && gid) && !userns) return [at('needs the mount\'s uidMappings and gidMappings, or a user namespace for the container')];
  return [];
}

/** mounts[]: a destination without "..", a valid id mapping, a source for a bind mount, a type for the others, tmpcopyup only on tmpfs. */
export function checkMounts(spec: Spec): Problem[] {
  const out: Problem[] = [];
  (spec.mounts ?? []).forEach((m, i) => {
    const field = `mounts[${i}]`;
    if (!m.destination) out.push({ field: `${field}.destination`, message: 'is required' });
    else if (normalize('/' + m.destination).split('/').includes('..')) out.push({ field: `${field}.destination`, message: 'must not contain ".."' });
    out.push(...mountIdmapProblems(spec, m, field));
    const type = m.type ?? '';
    if (isBindMount(m)) {
      if (!m.source) out.push({ field: `${field}.source`, message: 'is required for a bind mount' });
    } else if (type !== 'cgroup') {
      if (!type) out.push({ field: `${field}.type`, message: 'is required for a mount that is not a bind mount' });
      else if (type !== 'tmpfs' && (m.options ?? []).includes('tmpcopyup')) out.push({ field: `${field}.options`, message: '"tmpcopyup" is only for tmpfs mounts' });
    }
  });
  return out;
}

/** A systemd slice unit name ("a-b.slice"), as runc's ExpandSlice accepts it; "-.slice" is the root slice. */
export function sliceNameValid(slice: string): boolean {
  if (!slice.endsWith('.slice') || slice.length <= 6 || slice.includes('/')) return false;
  const name = slice.slice(0, -6);
  return name === '-' || !name.split('-').includes('');
}

/**
 * linux.cgroupsPath for the systemd cgroup driver, as runc parses it: "slice:prefix:name" (empty: the default
 * slice and a unit named after the container), a valid slice; a name ending in .slice a child of that slice.
 */
export function checkSystemdCgroupsPath(p: string | undefined): Problem[] {
  const field = 'linux.cgroupsPath';
  if (!p) return [];
  const parts = p.split(':');
  if (parts.length !== 3) return [{ field, message: `expected "slice:prefix:name" for the systemd cgroup driver, got "${p}"` }];
  const [slice, prefix, name] = parts;
  if (name === '') return [{ field, message: `the name in "${p}" is empty` }];
  if (/[/\\\s]/.test(name) || /[/\\\s]/.test(prefix)) return [{ field, message: `"${p}" names an invalid unit` }];
  if (slice !== '' && !sliceNameValid(slice)) return [{ field, message: `invalid slice name "${slice}"` }];
  if (name.endsWith('.slice')) {
    // a slice as the unit (runc): runc puts it at <parent's path>/<name>, systemd by its name alone ("a-b-c.slice"
    // in "a-b.slice"): the two must agree
    if (!sliceNameValid(name)) return [{ field, message: `invalid slice name "${name}"` }];
    const parent = slice || 'system.slice';
    const stem = name.slice(0, -6);
    const cut = stem.lastIndexOf('-');
    const placed = cut < 0 ? '-.slice' : `${stem.slice(0, cut)}.slice`;
    if (placed !== parent) {
      const want = parent === '-.slice' ? `${stem.slice(cut + 1)}.slice` : `${parent.slice(0, -6)}-${stem.slice(cut + 1)}.slice`;
      return [{ field, message: `the slice "${name}" is not a child of "${parent}" (systemd puts it in "${placed}"); name it "${want}"` }];
    }
  }
  return [];
}

/**
 * linux.cgroupsPath: with the cgroupfs driver a path (not systemd's slice:prefix:name), without "..", not the
 * root cgroup; with the systemd driver (--systemd-cgroup) checkSystemdCgroupsPath's form.
 */
export function checkCgroupsPath(p: string | undefined, systemd = false): Problem[] {
  if (systemd) return checkSystemdCgroupsPath(p);
  const field = 'linux.cgroupsPath';
  if (!p) return [];
  if (p.includes(':') && !p.startsWith('/')) {
    return [{ field, message: `"${p}" is a systemd path (slice:prefix:name), which needs the systemd cgroup driver (--systemd-cgroup)` }];
  }
  if (p.split('/').includes('..')) return [{ field, message: `must not contain "..", got "${p}"` }];
  const norm = normalize(p).replace(/\/+$/, '');
  if (norm === '' || norm === '/' || norm === '.') return [{ field, message: `"${p}" is the root cgroup` }];
  return [];
}

/** root.path: given, and inside the bundle when relative. */
export function checkRootPath(spec: Spec, bundle: string): Problem[] {
  if (!spec.root || !spec.root.path) return [{ field: 'root.path', message: 'is required' }];
  const p = spec.root.path;
  const rootfs = resolve(bundle, p);
  if (!isAbsolute(p) && !(rootfs + '/').startsWith(bundle + '/')) return [{ field: 'root.path', message: `"${p}" is outside the bundle` }];
  return [];
}

/** The security modules the host has (read by the caller). */
export interface LsmFacts {
  apparmor: boolean;
  selinux: boolean;
}

/** process.apparmorProfile, process.selinuxLabel: only where the host has that LSM. */
export function checkProcessLsm(spec: Spec, host: LsmFacts): Problem[] {
  const out: Problem[] = [];
  const proc = spec.process;
  if (proc?.apparmorProfile && !host.apparmor) out.push({ field: 'process.apparmorProfile', message: `"${proc.apparmorProfile}" is set, but AppArmor is not enabled on this host` });
  if (proc?.selinuxLabel && !host.selinux) out.push({ field: 'process.selinuxLabel', message: 'a SELinux label is set, but SELinux is disabled or not supported on this host' });
  return out;
}

/** linux.mountLabel: only where the host has SELinux. */
export function checkMountLabel(spec: Spec, host: LsmFacts): Problem[] {
  if (spec.linux?.mountLabel && !host.selinux) return [{ field: 'linux.mountLabel', message: 'a SELinux mount label is set, but SELinux is disabled or not supported on this host' }];
  return [];
}

/** The kernel's dev_valid_name(): 1-15 bytes, not "." or "..", no '/', ':' or whitespace. */
export function validIfName(n: string): boolean {
  if (n.length === 0 || Buffer.byteLength(n) >= 16) return false;
  if (n === '.' || n === '..') return false;
  return !/[/:\s]/.test(n);
}

/** linux.netDevices: a network namespace that is not runts' own, valid names, each name given once (runc's rules). */
export function checkNetDevices(spec: Spec, facts?: HostNsFacts): Problem[] {
  const devs = spec.linux?.netDevices;
  if (!devs || Object.keys(devs).length === 0) return [];
  const field = 'linux.netDevices';
  const net = (spec.linux?.namespaces ?? []).find((n) => n.type === 'network');
  if (!net) return [{ field, message: 'moving network devices needs a network namespace (linux.namespaces has no "network")' }];
  if (net.path && facts?.isHostNs('network', net.path)) return [{ field, message: `the network namespace ${net.path} is runts' own; devices cannot move into it` }];
  const out: Problem[] = [];
  const names = new Set<string>();
  for (const [host, d] of Object.entries(devs)) {
    if (!validIfName(host)) { out.push({ field, message: `invalid device name "${host}"` }); continue; }
    const name = d?.name ? d.name : host;
    if (!validIfName(name)) out.push({ field: `${field}.${host}.name`, message: `invalid device name "${name}"` });
    else if (names.has(name)) out.push({ field: `${field}.${host}.name`, message: `"${name}" is given to two devices` });
    names.add(name);
  }
  return out;
}

/** linux.intelRdt: runts writes no resctrl groups, so a config that sets it is refused (as runc where resctrl is not mounted). */
export function checkIntelRdtSupport(spec: Pick<Spec, 'linux'>, host: { resctrl?: string }): Problem[] {
  if (spec.linux?.intelRdt === undefined || spec.linux.intelRdt === null) return [];
  return [{ field: 'linux.intelRdt', message: `is set, but ${intelRdtWhy(host)}` }];
}

/** Why Intel RDT cannot be honoured on this host (resctrl's mount point, if any). */
export function intelRdtWhy(host: { resctrl?: string }): string {
  return host.resctrl ? `Intel RDT (resctrl at ${host.resctrl}) is not supported by runts` : 'Intel RDT is not enabled on this host (no resctrl filesystem mounted)';
}

const EPERM_ERRNO = 1;
const SECCOMP_MAX_ARGS = 6;
/**
 * The one syscall the stub makes between loading the filter and handing the listener over (the SECCOMP_FD frame):
 * NOTIFY on it would wait for an agent that has no fd yet. runc refuses the same.
 */
const NO_NOTIFY = ['write'];

/** A seccomp action name and its errno (ERRNO and TRACE carry a 16-bit one, the others none). */
function seccompActionProblems(name: unknown, errnoRet: unknown, field: string, errnoField: string): Problem[] {
  if (typeof name !== 'string' || !(name in ACTIONS)) return [{ field, message: `unknown action ${JSON.stringify(name)}` }];
  const base = ACTIONS[name];
  if (base === SCMP_ACT.ERRNO || base === SCMP_ACT.TRACE) {
    if (errnoRet !== undefined && (typeof errnoRet !== 'number' || !Number.isInteger(errnoRet) || errnoRet < 0 || errnoRet > 0xffff)) {
      return [{ field: errnoField, message: `must be an errno between 0 and 65535, got ${JSON.stringify(errnoRet)}` }];
    }
    return [];
  }
  if (errnoRet !== undefined) return [{ field: errnoField, message: `${name} does not take an errno (only SCMP_ACT_ERRNO and SCMP_ACT_TRACE do)` }];
  return [];
}

/** A comparison value of a seccomp condition: an unsigned 64-bit integer, read exactly. */
function seccompU64Problems(v: unknown, field: string): Problem[] {
  if (typeof v === 'bigint') return v < 0n || v > 0xffffffffffffffffn ? [{ field, message: `out of range: ${v}` }] : [];
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) return [{ field, message: `must be an unsigned integer, got ${JSON.stringify(v)}` }];
  // config.json is read with JSON.parse: above 2^53 the number is no longer the one written, and a filter
  // comparing against another value than the one asked for is worse than no container
  if (!Number.isSafeInteger(v)) return [{ field, message: `${v} is above 2^53 and cannot be read exactly` }];
  return [];
}

/**
 * linux.seccomp as the filter builder (plan/seccomp.ts) takes it: known actions, architectures (of the stub's
 * libseccomp), flags and operators; errnos in range; argument indexes 0-5; exact 64-bit values; NOTIFY neither the
 * default action nor on write, and with a listenerPath.
 */
export function seccompProblems(config: unknown): Problem[] {
  const F = 'linux.seccomp';
  if (!isObj(config)) return [{ field: F, message: 'must be an object' }];
  const c = config;
  const out: Problem[] = [];
  if (c.defaultAction === 'SCMP_ACT_NOTIFY') out.push({ field: `${F}.defaultAction`, message: 'SCMP_ACT_NOTIFY cannot be the default action' });
  else out.push(...seccompActionProblems(c.defaultAction, c.defaultErrnoRet, `${F}.defaultAction`, `${F}.defaultErrnoRet`));
  if (Array.isArray(c.architectures)) {
    c.architectures.forEach((a, i) => {
      const field = `${F}.architectures[${i}]`;
      if (typeof a === 'string' && NEWER_ARCHS.includes(a)) out.push({ field, message: `${a} is not supported by this build (libseccomp 2.5)` });
      else if (typeof a !== 'string' || !(a in ARCHS)) out.push({ field, message: `unknown architecture ${JSON.stringify(a)}` });
    });
  }
  if (Array.isArray(c.flags)) {
    c.flags.forEach((fl, i) => {
      const field = `${F}.flags[${i}]`;
      if (fl === WAIT_KILLABLE_RECV) out.push({ field, message: `${fl} is not supported by runts (it needs libseccomp 2.6)` });
      else if (typeof fl !== 'string' || !(fl in FLAGS)) out.push({ field, message: `unknown flag ${JSON.stringify(fl)}` });
    });
  }
  let notify = false;
  if (Array.isArray(c.syscalls)) {
    c.syscalls.forEach((sc, i) => {
      const f = `${F}.syscalls[${i}]`;
      if (!isObj(sc)) { out.push({ field: f, message: 'must be an object' }); return; }
      if (!Array.isArray(sc.names) || sc.names.length === 0) { out.push({ field: `${f}.names`, message: 'must list at least one syscall' }); return; }
      const names = sc.names;
      names.forEach((n, k) => {
        if (typeof n !== 'string' || n === '' || n.includes('\0')) out.push({ field: `${f}.names[${k}]`, message: `invalid syscall name ${JSON.stringify(n)}` });
      });
      out.push(...seccompActionProblems(sc.action, sc.errnoRet, `${f}.action`, `${f}.errnoRet`));
      if (Array.isArray(sc.args)) {
        sc.args.forEach((a, k) => {
          const af = `${f}.args[${k}]`;
          if (!isObj(a)) { out.push({ field: af, message: 'must be an object' }); return; }
          if (typeof a.index !== 'number' || !Number.isInteger(a.index) || a.index < 0 || a.index >= SECCOMP_MAX_ARGS) {
            out.push({ field: `${af}.index`, message: `must be between 0 and ${SECCOMP_MAX_ARGS - 1}, got ${JSON.stringify(a.index)}` });
          }
          if (typeof a.op !== 'string' || !(a.op in OPERATORS)) out.push({ field: `${af}.op`, message: `unknown operator ${JSON.stringify(a.op)}` });
          out.push(...seccompU64Problems(a.value, `${af}.value`));
          if (a.valueTwo !== undefined) out.push(...seccompU64Problems(a.valueTwo, `${af}.valueTwo`));
        });
      }
      if (sc.action === 'SCMP_ACT_NOTIFY') {
        const bad = names.find((n) => NO_NOTIFY.includes(n as string));
        if (bad) out.push({ field: `${f}.names`, message: `SCMP_ACT_NOTIFY cannot be used for ${bad}: runts needs it to hand over the listener` });
        notify = true;
      }
    });
  }
  if (notify && (typeof c.listenerPath !== 'string' || c.listenerPath === '')) {
    out.push({ field: `${F}.listenerPath`, message: 'is required when a rule uses SCMP_ACT_NOTIFY' });
  }
  return out;
}

/** linux.seccomp: seccompProblems of the document's filter. */
export function checkSeccomp(spec: Spec): Problem[] {
  return spec.linux?.seccomp === undefined ? [] : seccompProblems(spec.linux.seccomp);
}

/** The errno of a seccomp action that carries one: the given one, else EPERM. */
export const seccompErrno = (errnoRet: number | undefined): number => errnoRet ?? EPERM_ERRNO;

/** What create knows beyond the document that some rules depend on. */
export interface RuleOptions {
  /** --systemd-cgroup: linux.cgroupsPath is systemd's slice:prefix:name */
  systemdCgroup?: boolean;
  /** --no-pivot */
  noPivot?: boolean;
  /** create: whether a console socket (or fd) was given; undefined (validate): not known, not checked */
  console?: boolean;
}

/**
 * Every plan rule (create throws the first, `runts validate` lists them all): the document passed the schema and
 * the document rules (DOC_RULES), or a rule that cannot read a field the schema refused says nothing. The planner
 * (src/plan/) assumes a config these rules accept.
 */
export function planProblems(spec: Spec, bundle: string, facts: HostNsFacts, o: RuleOptions = {}): Problem[] {
  const rules: Array<() => Problem[]> = [
    () => checkRootPath(spec, bundle),
    () => checkProcessPresent(spec),
    () => checkConsoleSocket(spec, o),
    () => checkProcessFields(spec),
    () => checkNamespaceTypes(spec),
    () => checkUserNamespace(spec),
    () => checkTimeOffsets(spec),
    () => checkRootfsPropagation(spec, facts, o),
    () => checkMounts(spec),
    () => checkDeviceTypes(spec),
    () => checkSysctl(spec, facts),
    () => checkPersonality(spec),
    () => checkMemoryPolicy(spec),
    () => checkCgroupsPath(spec.linux?.cgroupsPath, o.systemdCgroup),
    () => checkNetDevices(spec, facts),
    () => checkSeccomp(spec),
  ];
  return rules.flatMap((rule) => {
    try { return rule(); } catch { return []; }
  });
}
