// AppArmor profile and SELinux labels: applied through /proc/self/attr before exec where the host has the LSM,
// refused with a clear error where it has not (runc fails those containers too, later and less clearly).
import * as fs from 'fs';
import { RuntimeError } from '../errors';
import type { Spec } from '../config/types';
import { Step, step, str } from './encode';

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
  if (proc.apparmorProfile) {
    if (!apparmorEnabled()) throw new RuntimeError(`process.apparmorProfile: "${proc.apparmorProfile}" is set, but AppArmor is not enabled on this host`);
    // the LSM-specific file of newer kernels, else the shared one
    const file = fs.existsSync('/proc/self/attr/apparmor/exec') ? '/proc/self/attr/apparmor/exec' : '/proc/self/attr/exec';
    out.push(step('WRITE_FILE', str(file), str(`exec ${proc.apparmorProfile}`)));
  }
  if (proc.selinuxLabel) {
    if (!selinuxEnabled()) throw new RuntimeError('process.selinuxLabel: a SELinux label is set, but SELinux is disabled or not supported on this host');
    out.push(step('WRITE_FILE', str('/proc/self/attr/exec'), str(proc.selinuxLabel)));
  }
  return out;
}

/** linux.mountLabel: the context= option for the container's non-bind mounts, or an error without SELinux. */
export function mountContext(spec: Spec): string | undefined {
  const label = spec.linux?.mountLabel;
  if (!label) return undefined;
  if (!selinuxEnabled()) throw new RuntimeError('linux.mountLabel: a SELinux mount label is set, but SELinux is disabled or not supported on this host');
  return `context="${label}"`;
}
