// AppArmor profile and SELinux labels: applied through /proc/self/attr before exec where the host has the LSM,
// refused with a clear error where it has not (runc fails those containers too, later and less clearly).
import * as fs from 'fs';
import type { Spec } from '../config/types';
import { Step, step, str } from './encode';
import { checkMountLabel, checkProcessLsm, throwFirst } from '../config/rules';

/** Which LSMs this host has (host facts for the rules). */
export function lsmFacts(): { apparmor: boolean; selinux: boolean } {
  return { apparmor: apparmorEnabled(), selinux: selinuxEnabled() };
}

function read(file: string): string {
  try { return fs.readFileSync(file, 'utf8'); } catch { return ''; }
}

export function apparmorEnabled(): boolean {
  return read('/sys/module/apparmor/parameters/enabled').startsWith('Y') && fs.existsSync('/sys/kernel/security/apparmor');
}

export function selinuxEnabled(): boolean {
  return fs.existsSync('/sys/fs/selinux/enforce');
}

/** Steps that set the exec labels of the process (in the container, before it loses its capabilities). */
export function lsmSteps(spec: Spec): Step[] {
  const proc = spec.process!;
  const out: Step[] = [];
  if (proc.apparmorProfile || proc.selinuxLabel) throwFirst(checkProcessLsm(spec, lsmFacts()));
  if (proc.apparmorProfile) {
    // the LSM-specific file of newer kernels, else the shared one
    const file = fs.existsSync('/proc/self/attr/apparmor/exec') ? '/proc/self/attr/apparmor/exec' : '/proc/self/attr/exec';
    out.push(step('WRITE_FILE', str(file), str(`exec ${proc.apparmorProfile}`)));
  }
  if (proc.selinuxLabel) {
    out.push(step('WRITE_FILE', str('/proc/self/attr/exec'), str(proc.selinuxLabel)));
  }
  return out;
}

/** linux.mountLabel: the context= option for the container's non-bind mounts, or an error without SELinux. */
export function mountContext(spec: Spec): string | undefined {
  const label = spec.linux?.mountLabel;
  if (!label) return undefined;
  throwFirst(checkMountLabel(spec, { apparmor: false, selinux: selinuxEnabled() }));
  return `context="${label}"`;
}
