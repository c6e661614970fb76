// AppArmor profile and SELinux labels: applied through /proc/self/attr before exec where the host has the LSM,
// refused with a clear error where it has not (runc fails those containers too, later and less clearly).
import type { Spec } from '../config/types';
import { Step, step, str } from './encode';
import type { HostFacts } from './facts';
import { checkMountLabel, checkProcessLsm, throwFirst } from '../config/rules';

/** Steps that set the exec labels of the process (in the container, before it loses its capabilities). */
export function lsmSteps(spec: Spec, lsm: HostFacts['lsm']): Step[] {
  const proc = spec.process!;
  const out: Step[] = [];
  // a host fact (which LSMs this host has), not a rule of the config: checked here, where the facts are
  if (proc.apparmorProfile || proc.selinuxLabel) throwFirst(checkProcessLsm(spec, lsm));
  if (proc.apparmorProfile) {
    out.push(step('WRITE_FILE', str(lsm.apparmorExecFile), str(`exec ${proc.apparmorProfile}`)));
  }
  if (proc.selinuxLabel) {
    out.push(step('WRITE_FILE', str('/proc/self/attr/exec'), str(proc.selinuxLabel)));
  }
  return out;
}

/** linux.mountLabel: the context= option for the container's non-bind mounts, or an error without SELinux. */
export function mountContext(spec: Spec, facts: Pick<HostFacts, 'lsm'>): string | undefined {
  const label = spec.linux?.mountLabel;
  if (!label) return undefined;
  // a host fact (SELinux or not), not a rule of the config
  throwFirst(checkMountLabel(spec, { apparmor: false, selinux: facts.lsm.selinux }));
  return `context="${label}"`;
}
