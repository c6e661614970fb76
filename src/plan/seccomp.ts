// linux.seccomp → the SECCOMP step (payload in docs/ARCHITECTURE.md). Every name is resolved here to the number
// libseccomp takes (actions, architectures, operators) or the kernel's flag bit, so a bad value fails create
// before anything exists. Syscall names are left to the stub: a name its libseccomp does not know is skipped, as
// runc does (a profile lists syscalls of newer kernels and other architectures).
import { ACTIONS, ARCHS, FLAGS, OPERATORS, SCMP_ACT } from '../config/tables';
import { seccompErrno } from '../config/rules';
import type { Seccomp } from '../config/types';
import { Step, step, strv, u64, u64v } from './encode';

export { ACTIONS, ARCHS, FLAGS, OPERATORS, SCMP_ACT, WAIT_KILLABLE_RECV } from '../config/tables';

const ENOSYS = 38;
const MAX_ARGS = 6;

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

/** An action name (and its errno) as libseccomp's value (the name checked by seccompProblems). */
export function actionValue(name: string, errnoRet: number | undefined): number {
  const base = ACTIONS[name];
  return base === SCMP_ACT.ERRNO || base === SCMP_ACT.TRACE ? (base | seccompErrno(errnoRet)) >>> 0 : base;
}

const u64Of = (v: number | bigint): bigint => (typeof v === 'bigint' ? v : BigInt(v));

/** Convert linux.seccomp (checked by config/rules.ts's checkSeccomp: seccompProblems). */
export function seccompPlan(c: Seccomp): SeccompPlan {
  const def = actionValue(c.defaultAction, c.defaultErrnoRet);

  const archs: number[] = [];
  for (const a of c.architectures ?? []) if (!archs.includes(ARCHS[a])) archs.push(ARCHS[a]);

  let flags = 0;
  for (const fl of c.flags ?? []) flags |= FLAGS[fl];

  const names: string[] = [];
  const rules: bigint[] = [];
  const boundNames: string[] = [];
  let notify = false;
  for (const sc of c.syscalls ?? []) {
    const action = actionValue(sc.action, sc.errnoRet);
    const conds: bigint[][] = [];
    const perIndex = new Array<number>(MAX_ARGS).fill(0);
    for (const a of sc.args ?? []) {
      perIndex[a.index]++;
      conds.push([BigInt(a.index), u64Of(a.value), a.valueTwo === undefined ? 0n : u64Of(a.valueTwo), BigInt(OPERATORS[a.op])]);
    }
    if (sc.action === 'SCMP_ACT_NOTIFY') notify = true;
    // a rule with the default action is redundant, and libseccomp refuses it: skipped (as runc); its names still
    // count for the ENOSYS bound, as in runc
    if (action === def) { boundNames.push(...sc.names); continue; }
    // libseccomp ANDs conditions on distinct arguments only; two on the same argument become one rule each (as runc)
    const groups = perIndex.some((n) => n > 1) ? conds.map((cd) => [cd]) : [conds];
    for (const g of groups) {
      names.push(...sc.names);
      rules.push(BigInt(sc.names.length), BigInt(action), BigInt(g.length), ...g.flat());
    }
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
