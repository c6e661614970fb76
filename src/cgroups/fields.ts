// Helpers shared by the v1 and v2 resource writers: errors that name the config field, value formats, and the
// device rules every container gets.
import { RuntimeError } from '../errors';
import { writeFile } from './files';
import type { DeviceRule } from './types';

/** Write a value for config field `field` (e.g. "memory.limit"); an error names linux.resources.<field>. */
export function put(field: string, dir: string, file: string, value: string | number): void {
  try {
    writeFile(dir, file, value);
  } catch (e) {
    throw new RuntimeError(`linux.resources.${field}: ${(e as Error).message}`);
  }
}

export function fieldError(field: string, msg: string): RuntimeError {
  return new RuntimeError(`linux.resources.${field}: ${msg}`);
}

/** "8:0" for a device; wildcard "*" where the rule leaves major/minor out (or -1, as runc writes them). */
export function devNum(n: number | null | undefined): string {
  return n === undefined || n === null || n < 0 ? '*' : String(n);
}

/** Devices every container may use, after the config's own rules (runc's list, in its order). */
export const DEFAULT_DEVICE_RULES: Required<DeviceRule>[] = [
  { allow: true, type: 'c', major: -1, minor: -1, access: 'm' },
  { allow: true, type: 'b', major: -1, minor: -1, access: 'm' },
  { allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' }, // /dev/null
  { allow: true, type: 'c', major: 1, minor: 8, access: 'rwm' }, // /dev/random
  { allow: true, type: 'c', major: 1, minor: 7, access: 'rwm' }, // /dev/full
  { allow: true, type: 'c', major: 5, minor: 0, access: 'rwm' }, // /dev/tty
  { allow: true, type: 'c', major: 1, minor: 5, access: 'rwm' }, // /dev/zero
  { allow: true, type: 'c', major: 1, minor: 9, access: 'rwm' }, // /dev/urandom
  { allow: true, type: 'c', major: 136, minor: -1, access: 'rwm' }, // /dev/pts/*
  { allow: true, type: 'c', major: 5, minor: 2, access: 'rwm' }, // /dev/ptmx
  { allow: true, type: 'c', major: 10, minor: 200, access: 'rwm' }, // /dev/net/tun
];

/**
 * The full rule list a container's device cgroup enforces: deny everything, then the config's rules in order,
 * then the defaults. Without a devices list in the config, runc's default applies as well (deny all, then the
 * defaults), so a container never gets the host's devices by accident.
 */
export function deviceRules(rules: DeviceRule[] | undefined): Required<DeviceRule>[] {
  const out: Required<DeviceRule>[] = [{ allow: false, type: 'a', major: -1, minor: -1, access: 'rwm' }];
  (rules ?? []).forEach((r, i) => {
    const access = r.access ?? 'rwm';
    if (!/^[rwm]*$/.test(access)) throw fieldError(`devices[${i}].access`, `must be made of r, w and m, got "${access}"`);
    out.push({ allow: r.allow, type: r.type || 'a', major: r.major ?? -1, minor: r.minor ?? -1, access: normalAccess(access) || 'rwm' });
  });
  return out.concat(DEFAULT_DEVICE_RULES);
}

/** An access string as runc takes it (any order, repeats: "wrr") in the kernel's order without repeats ("rw"). */
export function normalAccess(access: string): string {
  return ['r', 'w', 'm'].filter((c) => access.includes(c)).join('');
}

/** A v1 devices.allow/deny line. */
export function deviceLine(r: Required<DeviceRule>): string {
  if (r.type === 'a') return 'a';
  return `${r.type} ${devNum(r.major)}:${devNum(r.minor)} ${r.access}`;
}

/** v2 cpu.weight from v1 cpu.shares (2..262144 → 1..10000), as runc converts it. */
export function sharesToWeight(shares: number): number {
  if (shares === 0) return 0;
  return Math.floor(1 + ((shares - 2) * 9999) / 262142);
}

/** v2 io.weight from v1 blkio.weight (10..1000 → 1..10000), as runc converts it. */
export function blkioToIoWeight(w: number): number {
  if (w === 0) return 0;
  return Math.floor(1 + ((w - 10) * 9999) / 990);
}

/** Page sizes as the kernel names them in hugetlb files: "2MB", "1GB", "64KB". */
export function hugePageSize(s: string, field: string): string {
  const m = /^(\d+)(KB|MB|GB|TB|PB)$/i.exec(s.trim());
  if (!m) throw fieldError(field, `"${s}" is not a page size like 2MB or 1GB`);
  return `${Number(m[1])}${m[2].toUpperCase()}`;
}

/** An rdma.max line. */
export function rdmaLine(dev: string, lim: { hcaHandles?: number; hcaObjects?: number }): string {
  const parts = [dev];
  if (lim.hcaHandles !== undefined) parts.push(`hca_handle=${lim.hcaHandles}`);
  if (lim.hcaObjects !== undefined) parts.push(`hca_object=${lim.hcaObjects}`);
  return parts.join(' ');
}
