// The steps create (build.ts) and exec (exec.ts) plan alike: each written once, named after the field it
// implements.
import type { Spec } from '../config/types';
import { Step, step, str, strv, u64 } from './encode';
import type { StubFds } from './fds';
import type { ProcessOptions, ProcessPlan } from './process';
import { seccompPlan, seccompStep } from './seccomp';

/** The fds the stub must not keep (create and exec): the memfd it was run from, everything above the preserved ones. */
export function fdSteps(fds: StubFds): Step[] {
  return [step('CLOSE', u64(fds.memfd)), step('CLOEXEC_FROM', u64(3 + fds.preserve))];
}

/**
 * process.oomScoreAdj: written by the stub's first process, as root of the host's user namespace (FORK's child
 * inherits the value): in a new user namespace the non-dumpable stub's /proc/self files belong to the host's root
 * (runc writes it there too). Unprivileged: that file is not the caller's to write; runts writes
 * /proc/<stub>/oom_score_adj at USERMAP, while the stub is dumpable.
 */
export function oomScoreAdjSteps(spec: Spec, unprivileged?: boolean): Step[] {
  const v = spec.process!.oomScoreAdj;
  return v !== undefined && !unprivileged ? [step('WRITE_FILE', str('/proc/self/oom_score_adj'), str(String(v)))] : [];
}

/** The init (create) or the exec'd process (exec): forked, into its cgroup2 directory, and waiting for runts. */
export function forkSteps(cgroupJoin: { forkInto: Step[] }): Step[] {
  return [...cgroupJoin.forkInto, step('FORK'), step('WAIT_PARENT')];
}

/** process.args, process.env: the last steps (create and exec), after processSteps' setup and what comes after it. */
export function execSteps(spec: Spec, p: ProcessPlan): Step[] {
  return [...p.beforeExec, step('EXEC', strv(spec.process!.args!), strv(p.env))];
}

/** linux.seccomp: the SECCOMP step, and whether it hands a listener fd to runts (processSteps places it). */
export function seccompOf(spec: Spec): ProcessOptions['seccomp'] {
  const seccomp = spec.linux?.seccomp;
  if (seccomp === undefined) return undefined;
  const sc = seccompPlan(seccomp);
  return { step: seccompStep(sc), notify: sc.notify };
}
