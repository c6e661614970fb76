// exec: the plan for a process that joins a running container. It enters every namespace of the container's
// init (user first, mount last: paths under /proc are resolved before the mount namespace changes), forks so
// the pid and time namespaces apply, waits while runts puts it into the container's cgroups, then sets up the
// process exactly as create does and execs. The sync socket is close-on-exec: EOF there means execve happened.
// One call per spec field, as buildPlan (build.ts); what create does too is common.ts's or process.ts's function.
import type { Process, Spec } from '../config/types';
import type { HostFacts } from './facts';
import { Step, step, str, u64 } from './encode';
import { CLONE, NsType, PROC_NS } from './namespaces';
import { processSteps } from './process';
import { affinityPlan } from './procfields';
import { CgroupJoin, cgroupJoinSteps } from './cgroups';
import type { StubFds } from './fds';
import { execSteps, fdSteps, forkSteps, oomScoreAdjSteps, seccompOf } from './common';

/** exec's fds: no listen socket. */
export type ExecFds = StubFds;

/**
 * `chroot`: the init shares the runtime's mount namespace (a container without one): enter its root instead.
 * `cgroupJoin`: the cgroups the stub joins itself (the rest runts joins at PID).
 */
export function buildExecPlan(config: Spec, facts: Pick<HostFacts, 'lsm' | 'passwd'>, initPid: number, proc: Process, o: { fds: ExecFds; chroot?: boolean; cgroupJoin?: CgroupJoin }): Step[] {
  // the container's config with the exec'd process in place of the init's
  const spec: Spec = { ...config, process: proc };
  const cgroupJoin = cgroupJoinSteps(o.cgroupJoin);
  const affinity = execCPUAffinitySteps(proc);
  // the container's filter applies to every process in it (as runc)
  const p = processSteps(spec, { facts, consoleFd: o.fds.console, seccomp: seccompOf(spec) });
  return [
    ...affinity.initial,
    ...cgroupJoin.tasks,
    ...fdSteps(o.fds),
    // before the user namespace is joined (the non-dumpable stub's /proc/self files belong to the host's root
    // there); FORK's child inherits the value
    ...oomScoreAdjSteps(spec),
    ...namespacesSteps(spec, initPid),
    ...rootSteps(initPid, o.chroot),
    ...forkSteps(cgroupJoin),
    ...affinity.after,
    ...p.setup,
    ...execSteps(spec, p),
  ];
}

/**
 * process.execCPUAffinity: `initial` before the process joins the container's cgroups, `final` (or a reset to
 * every CPU) once it is in them.
 */
function execCPUAffinitySteps(proc: Process): { initial: Step[]; after: Step[] } {
  const aff = affinityPlan(proc.execCPUAffinity);
  return { initial: aff.initial ? [aff.initial] : [], after: aff.after ? [aff.after] : [] };
}

/** linux.namespaces: every one the container lists, the init's, entered through /proc/PID/ns (user first, mount last). */
function namespacesSteps(spec: Spec, initPid: number): Step[] {
  const types = new Set((spec.linux?.namespaces ?? []).map((n) => n.type));
  const order: NsType[] = ['user', 'cgroup', 'ipc', 'uts', 'network', 'pid', 'time', 'mount'];
  return order.filter((t) => types.has(t)).map((t) => step('SETNS', str(`/proc/${initPid}/ns/${PROC_NS[t]}`), u64(CLONE[t])));
}

/** root: without a mount namespace the container's root is the init's chroot, entered the same way. */
function rootSteps(initPid: number, chroot: boolean | undefined): Step[] {
  return chroot ? [step('CHROOT', str(`/proc/${initPid}/root`))] : [];
}
