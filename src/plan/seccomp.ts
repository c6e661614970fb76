// linux.seccomp → the SECCOMP step (payload in docs/ARCHITECTURE.md). Every name is resolved here to the number
// libseccomp takes (actions, architectures, operators) or the kernel's flag bit, so a bad value fails create
// before anything exists. Syscall names are left to the stub: a name its libseccomp does not know is skipped, as
// runc does (a profile lists syscalls of newer kernels and other architectures).
import { RuntimeError } from '../errors';
import { Step, step, strv, u64, u64v } from './encode';

/** libseccomp's action values (seccomp.h); ERRNO and TRACE carry a 16-bit datum. */
export const SCMP_ACT = {
  KILL_PROCESS: 0x80000000,
  KILL_THREAD: 0x00000000,
  TRAP: 0x00030000,
  ERRNO: 0x00050000,
  NOTIFY: 0x7fc00000,
  TRACE: 0x7ff00000,
  LOG: 0x7ffc0000,
  ALLOW: 0x7fff0000,
} as const;

/** The actions runts takes, as spelled in config.json. SCMP_ACT_KILL is SCMP_ACT_KILL_THREAD (as in libseccomp). */
export const ACTIONS: Record<string, number> = {
  SCMP_ACT_KILL: SCMP_ACT.KILL_THREAD,
  SCMP_ACT_KILL_THREAD: SCMP_ACT.KILL_THREAD,
  SCMP_ACT_KILL_PROCESS: SCMP_ACT.KILL_PROCESS,
  SCMP_ACT_TRAP: SCMP_ACT.TRAP,
  SCMP_ACT_ERRNO: SCMP_ACT.ERRNO,
  SCMP_ACT_TRACE: SCMP_ACT.TRACE,
  SCMP_ACT_ALLOW: SCMP_ACT.ALLOW,
  SCMP_ACT_LOG: SCMP_ACT.LOG,
  SCMP_ACT_NOTIFY: SCMP_ACT.NOTIFY,
};

/**
 * SCMP_ARCH_* → the AUDIT_ARCH_* value seccomp_arch_add() takes. Only what libseccomp 2.5 knows: LOONGARCH64,
 * M68K, SH and SHEB came with 2.6 and are refused (the stub is linked with Debian 12's 2.5.4).
 */
export const ARCHS: Record<string, number> = {
  SCMP_ARCH_X86: 0x40000003,
  SCMP_ARCH_X86_64: 0xc000003e,
  SCMP_ARCH_X32: 0x4000003e,
  SCMP_ARCH_ARM: 0x40000028,
  SCMP_ARCH_AARCH64: 0xc00000b7,
  SCMP_ARCH_MIPS: 0x00000008,
  SCMP_ARCH_MIPS64: 0x80000008,
  SCMP_ARCH_MIPS64N32: 0xa0000008,
  SCMP_ARCH_MIPSEL: 0x40000008,
  SCMP_ARCH_MIPSEL64: 0xc0000008,
  SCMP_ARCH_MIPSEL64N32: 0xe0000008,
  SCMP_ARCH_PPC: 0x00000014,
  SCMP_ARCH_PPC64: 0x80000015,
  SCMP_ARCH_PPC64LE: 0xc0000015,
  SCMP_ARCH_S390: 0x00000016,
  SCMP_ARCH_S390X: 0x80000016,
  SCMP_ARCH_PARISC: 0x0000000f,
  SCMP_ARCH_PARISC64: 0x8000000f,
  SCMP_ARCH_RISCV64: 0xc00000f3,
};
const NEWER_ARCHS = ['SCMP_ARCH_LOONGARCH64', 'SCMP_ARCH_M68K', 'SCMP_ARCH_SH', 'SCMP_ARCH_SHEB'];

/** enum scmp_compare */
export const OPERATORS: Record<string, number> = {
  SCMP_CMP_NE: 1,
  SCMP_CMP_LT: 2,
  SCMP_CMP_LE: 3,
  SCMP_CMP_EQ: 4,
  SCMP_CMP_GE: 5,
  SCMP_CMP_GT: 6,
  SCMP_CMP_MASKED_EQ: 7,
};

/** SECCOMP_FILTER_FLAG_* bits (linux/seccomp.h) runts applies. */
export const FLAGS: Record<string, number> = {
  SECCOMP_FILTER_FLAG_TSYNC: 1,
  SECCOMP_FILTER_FLAG_LOG: 2,
  SECCOMP_FILTER_FLAG_SPEC_ALLOW: 4,
};
/** Known to the spec, not applied: libseccomp < 2.6 has no attribute for it, and runts does not claim it. */
export const WAIT_KILLABLE_RECV = 'SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV';

const EPERM = 1;
const ENOSYS = 38;
const MAX_ARGS = 6;
/**
 * The one syscall the stub makes between loading the filter and handing the listener over (the SECCOMP_FD frame):
 * NOTIFY on it would wait for an agent that has no fd yet. runc refuses the same.
 */
const NO_NOTIFY = ['write'];

interface SeccompArg { index: number; value: number | bigint; valueTwo?: number | bigint; op: string }
interface SeccompSyscall { names: string[]; action: string; errnoRet?: number; args?: SeccompArg[] }
export interface SeccompConfig {
  defaultAction: string;
  defaultErrnoRet?: number;
  architectures?: string[];
  flags?: string[];
  listenerPath?: string;
  listenerMetadata?: string;
  syscalls?: SeccompSyscall[];
}

export interface SeccompPlan {
  defaultAction: number;
  archs: number[];
  flags: number;
  names: string[];
  /** per entry: count of its names, action, count of conditions, then index, value, valueTwo, operator each */
  rules: bigint[];
  /**
   * runc's ENOSYS prefix: a syscall number above the largest one the profile names (per architecture) fails with
   * ENOSYS instead of the default action. Only when the default action refuses (not ALLOW, LOG, TRACE, nor
   * already ERRNO(ENOSYS)), as runc's patchbpf decides.
   */
  enosys: boolean;
  /** names of rules dropped for having the default action: they count for the ENOSYS bound only */
  boundNames: string[];
  /** some rule uses SCMP_ACT_NOTIFY: the listener fd goes to listenerPath */
  notify: boolean;
}

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function fail(field: string, msg: string): never {
  throw new RuntimeError(`${field}: ${msg}`);
}

function errnoOf(v: unknown, field: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 0xffff) fail(field, `must be an errno between 0 and 65535, got ${JSON.stringify(v)}`);
  return v;
}

/** An action name (and its errno) as libseccomp's value. */
export function actionValue(name: unknown, errnoRet: unknown, field: string, errnoField: string): number {
  if (typeof name !== 'string' || !(name in ACTIONS)) fail(field, `unknown action ${JSON.stringify(name)}`);
  const base = ACTIONS[name];
  if (base === SCMP_ACT.ERRNO || base === SCMP_ACT.TRACE) {
    const e = errnoRet === undefined ? EPERM : errnoOf(errnoRet, errnoField);
    return (base | e) >>> 0;
  }
  if (errnoRet !== undefined) fail(errnoField, `${name} does not take an errno (only SCMP_ACT_ERRNO and SCMP_ACT_TRACE do)`);
  return base;
}

function u64Of(v: unknown, field: string): bigint {
  if (typeof v === 'bigint') {
    if (v < 0n || v > 0xffffffffffffffffn) fail(field, `out of range: ${v}`);
    return v;
  }
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) fail(field, `must be an unsigned integer, got ${JSON.stringify(v)}`);
  // config.json is read with JSON.parse: above 2^53 the number is no longer the one written, and a filter
  // comparing against another value than the one asked for is worse than no container
  if (!Number.isSafeInteger(v)) fail(field, `${v} is above 2^53 and cannot be read exactly`);
  return BigInt(v);
}

/** Convert and check linux.seccomp; throws naming the field at fault. */
export function seccompPlan(config: unknown): SeccompPlan {
  const F = 'linux.seccomp';
  if (!isObj(config)) fail(F, 'must be an object');
  const c = config as Partial<SeccompConfig> & Record<string, unknown>;
  if (c.defaultAction === 'SCMP_ACT_NOTIFY') fail(`${F}.defaultAction`, 'SCMP_ACT_NOTIFY cannot be the default action');
  const def = actionValue(c.defaultAction, c.defaultErrnoRet, `${F}.defaultAction`, `${F}.defaultErrnoRet`);

  const archs: number[] = [];
  (c.architectures ?? []).forEach((a, i) => {
    const f = `${F}.architectures[${i}]`;
    if (typeof a === 'string' && NEWER_ARCHS.includes(a)) fail(f, `${a} is not supported by this build (libseccomp 2.5)`);
    if (typeof a !== 'string' || !(a in ARCHS)) fail(f, `unknown architecture ${JSON.stringify(a)}`);
    if (!archs.includes(ARCHS[a])) archs.push(ARCHS[a]);
  });

  let flags = 0;
  (c.flags ?? []).forEach((fl, i) => {
    const f = `${F}.flags[${i}]`;
    if (fl === WAIT_KILLABLE_RECV) fail(f, `${fl} is not supported by runts (it needs libseccomp 2.6)`);
    if (typeof fl !== 'string' || !(fl in FLAGS)) fail(f, `unknown flag ${JSON.stringify(fl)}`);
    flags |= FLAGS[fl];
  });

  const names: string[] = [];
  const rules: bigint[] = [];
  const boundNames: string[] = [];
  let notify = false;
  (c.syscalls ?? []).forEach((sc, i) => {
    const f = `${F}.syscalls[${i}]`;
    if (!isObj(sc)) fail(f, 'must be an object');
    if (!Array.isArray(sc.names) || sc.names.length === 0) fail(`${f}.names`, 'must list at least one syscall');
    sc.names.forEach((n, k) => {
      if (typeof n !== 'string' || n === '' || n.includes('\0')) fail(`${f}.names[${k}]`, `invalid syscall name ${JSON.stringify(n)}`);
    });
    const action = actionValue(sc.action, sc.errnoRet, `${f}.action`, `${f}.errnoRet`);
    const conds: bigint[][] = [];
    const perIndex = new Array<number>(MAX_ARGS).fill(0);
    (sc.args ?? []).forEach((a, k) => {
      const af = `${f}.args[${k}]`;
      if (!isObj(a)) fail(af, 'must be an object');
      if (typeof a.index !== 'number' || !Number.isInteger(a.index) || a.index < 0 || a.index >= MAX_ARGS) {
        fail(`${af}.index`, `must be between 0 and ${MAX_ARGS - 1}, got ${JSON.stringify(a.index)}`);
      }
      if (typeof a.op !== 'string' || !(a.op in OPERATORS)) fail(`${af}.op`, `unknown operator ${JSON.stringify(a.op)}`);
      perIndex[a.index]++;
      conds.push([BigInt(a.index), u64Of(a.value, `${af}.value`), a.valueTwo === undefined ? 0n : u64Of(a.valueTwo, `${af}.valueTwo`), BigInt(OPERATORS[a.op])]);
    });
    if (sc.action === 'SCMP_ACT_NOTIFY') {
      const bad = sc.names.find((n) => NO_NOTIFY.includes(n));
      if (bad) fail(`${f}.names`, `SCMP_ACT_NOTIFY cannot be used for ${bad}: runts needs it to hand over the listener`);
      notify = true;
    }
    // a rule with the default action is redundant, and libseccomp refuses it: skipped (as runc); its names still
    // count for the ENOSYS bound, as in runc
    if (action === def) { boundNames.push(...sc.names); return; }
    // libseccomp ANDs conditions on distinct arguments only; two on the same argument become one rule each (as runc)
    const groups = perIndex.some((n) => n > 1) ? conds.map((cd) => [cd]) : [conds];
    for (const g of groups) {
      names.push(...sc.names);
      rules.push(BigInt(sc.names.length), BigInt(action), BigInt(g.length), ...g.flat());
    }
  });
  if (notify && (typeof c.listenerPath !== 'string' || c.listenerPath === '')) {
    fail(`${F}.listenerPath`, 'is required when a rule uses SCMP_ACT_NOTIFY');
  }
  return { defaultAction: def, archs, flags, names, rules, notify, enosys: refusesByDefault(def), boundNames };
}

/** Whether runc's ENOSYS prefix applies to a filter with this default action (libseccomp's value). */
export function refusesByDefault(def: number): boolean {
  const kind = (def & 0xffff0000) >>> 0;
  // TRACE counts as allowing: a tracer handles newer syscalls itself (runc's isAllowAction)
  if (def === SCMP_ACT.ALLOW || def === SCMP_ACT.LOG || kind === SCMP_ACT.TRACE) return false;
  return def !== ((SCMP_ACT.ERRNO | ENOSYS) >>> 0);
}

/** The SECCOMP step. */
export function seccompStep(p: SeccompPlan): Step {
  return step('SECCOMP', u64(p.defaultAction), u64v(p.archs), u64(p.flags), strv(p.names), u64v(p.rules),
    u64(p.enosys ? 1 : 0), strv(p.enosys ? p.boundNames : []));
}
