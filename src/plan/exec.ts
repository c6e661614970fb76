// exec: the plan for a process that joins a running container. It enters every namespace of the container's
// init (user first, mount last: paths under /proc are resolved before the mount namespace changes), forks so
// the pid and time namespaces apply, waits while runts puts it into the container's cgroups, then sets up the
// process exactly as create does and execs. The sync socket is close-on-exec: EOF there means execve happened.
import type { Process, Spec } from '../config/types';
import type { HostFacts } from './facts';
import { Step, step, str, strv, u64 } from './encode';
import { CLONE, NsType, PROC_NS } from './namespaces';
import { processSteps } from './process';
import { seccompPlan, seccompStep } from './seccomp';
import { affinityPlan } from './procfields';
import { CgroupJoin, cgroupJoinSteps } from './cgroups';

export interface ExecFds {
  preserve: number;
  sync: number;
  memfd: number;
  console?: number;
}

/**
 * `chroot`: the init shares the runtime's mount namespace (a container without one): enter its root instead.
 * `cgroupJoin`: the cgroups the stub joins itself (the rest runts joins at PID).
 */
export function buildExecPlan(config: Spec, facts: Pick<HostFacts, 'lsm' | 'passwd'>, initPid: number, proc: Process, o: { fds: ExecFds; chroot?: boolean; cgroupJoin?: CgroupJoin }): Step[] {
  const s: Step[] = [];
  const cgroupJoin = cgroupJoinSteps(o.cgroupJoin);
  // execCPUAffinity: `initial` before the process joins the container's cgroups, `final` (or a reset to every
  // CPU) once it is in them
  const aff = affinityPlan(proc.execCPUAffinity);
  if (aff.initial) s.push(aff.initial);
  s.push(...cgroupJoin.tasks);
  s.push(step('CLOSE', u64(o.fds.memfd)));
  s.push(step('CLOEXEC_FROM', u64(3 + o.fds.preserve)));
  // before the user namespace is joined (the non-dumpable stub's /proc/self files belong to the host's root
  // there); FORK's child inherits the value
  if (proc.oomScoreAdj !== undefined) s.push(step('WRITE_FILE', str('/proc/self/oom_score_adj'), str(String(proc.oomScoreAdj))));
  const types = new Set((config.linux?.namespaces ?? []).map((n) => n.type));
  const order: NsType[] = ['user', 'cgroup', 'ipc', 'uts', 'network', 'pid', 'time', 'mount'];
  for (const t of order) {
    if (types.has(t)) s.push(step('SETNS', str(`/proc/${initPid}/ns/${PROC_NS[t]}`), u64(CLONE[t])));
  }
  // no mount namespace: the container's root is the init's chroot, entered the same way
  if (o.chroot) s.push(step('CHROOT', str(`/proc/${initPid}/root`)));
  s.push(...cgroupJoin.forkInto, step('FORK'), step('WAIT_PARENT'));
  if (aff.after) s.push(aff.after);
  // the container's filter applies to every process in it (as runc)
  const seccomp = config.linux?.seccomp;
  const sc = seccomp !== undefined ? seccompPlan(seccomp) : undefined;
  const p = processSteps({ ...config, process: proc }, {
    facts, consoleFd: o.fds.console,
    seccomp: sc && { step: seccompStep(sc), notify: sc.notify },
  });
  s.push(...p.setup, ...p.beforeExec, step('EXEC', strv(proc.args!), strv(p.env)));
  return s;
}
