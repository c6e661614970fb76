// linux.intelRdt and update --l3-cache-schema/--mem-bw-schema. runts does not write resctrl groups; like runc
// (its validator since runc#4829), a config that sets intelRdt where no resctrl filesystem is mounted is an
// error, and where one is mounted it is refused too rather than silently ignored.
import { readText } from '../io';
import { RuntimeError } from '../errors';
import { checkIntelRdtSupport, intelRdtWhy, throwFirst } from '../config/rules';
import type { IntelRdt } from '../config/types';

/** The resctrl mount point, from mountinfo (undefined: not mounted). */
export function resctrlMount(): string | undefined {
  for (const line of readText('/proc/self/mountinfo').split('\n')) {
    const f = line.split(' ');
    const sep = f.indexOf('-');
    if (sep > 0 && f[sep + 1] === 'resctrl') return f[4];
  }
  return undefined;
}

function why(): string {
  return intelRdtWhy({ resctrl: resctrlMount() });
}

/** create: linux.intelRdt, when present, cannot be honoured (checkIntelRdtSupport). */
export function checkIntelRdt(rdt: IntelRdt | undefined): void {
  if (rdt === undefined) return;
  throwFirst(checkIntelRdtSupport({ linux: { intelRdt: rdt } }, { resctrl: resctrlMount() }));
}

/** update: the Intel RDT flags, when given, cannot be honoured. */
export function checkRdtFlags(o: { l3CacheSchema?: string; memBwSchema?: string }): void {
  if (o.l3CacheSchema !== undefined) throw new RuntimeError(`--l3-cache-schema: ${why()}`);
  if (o.memBwSchema !== undefined) throw new RuntimeError(`--mem-bw-schema: ${why()}`);
}
