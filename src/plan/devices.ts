// /dev: default device nodes, linux.devices, and the standard symlinks.
import type { Device, Spec } from '../config/types';
import { Step, step, str, u64 } from './encode';

const S_IFCHR = 0o020000;
const S_IFBLK = 0o060000;
const S_IFIFO = 0o010000;

export const DEFAULT_DEVICES: Device[] = [
  { type: 'c', path: '/dev/null', major: 1, minor: 3, fileMode: 0o666, uid: 0, gid: 0 },
  { type: 'c', path: '/dev/zero', major: 1, minor: 5, fileMode: 0o666, uid: 0, gid: 0 },
  { type: 'c', path: '/dev/full', major: 1, minor: 7, fileMode: 0o666, uid: 0, gid: 0 },
  { type: 'c', path: '/dev/random', major: 1, minor: 8, fileMode: 0o666, uid: 0, gid: 0 },
  { type: 'c', path: '/dev/urandom', major: 1, minor: 9, fileMode: 0o666, uid: 0, gid: 0 },
  { type: 'c', path: '/dev/tty', major: 5, minor: 0, fileMode: 0o666, uid: 0, gid: 0 },
];

export function makedev(major: number, minor: number): bigint {
  const ma = BigInt(major);
  const mi = BigInt(minor);
  return (mi & 0xffn) | ((ma & 0xfffn) << 8n) | ((mi & ~0xffn) << 12n) | ((ma & ~0xfffn) << 32n);
}

/** The file type of a device node (c and u: character; checkDeviceTypes, config/rules.ts, refuses the others). */
function typeBits(d: Device): number {
  return d.type === 'b' ? S_IFBLK : d.type === 'p' ? S_IFIFO : S_IFCHR;
}

/**
 * Device steps. In a new user namespace mknod is not allowed: the host node at the same path is
 * bind-mounted instead (never chowned).
 */
export function deviceSteps(spec: Spec, userns: boolean, withDefaults: boolean): Step[] {
  const out: Step[] = [];
  const list: Device[] = [];
  const configured = spec.linux?.devices ?? [];
  const seen = new Set<string>();
  for (const d of configured) {
    seen.add(d.path);
    list.push(d);
  }
  if (withDefaults) for (const d of DEFAULT_DEVICES) if (!seen.has(d.path)) list.push(d);
  for (const d of list) {
    const type = typeBits(d);
    if (userns) {
      out.push(step('BIND_DEVICE', str(d.path), str(d.path)));
    } else {
      const mode = type | ((d.fileMode ?? 0o666) & 0o7777);
      out.push(step('MKNOD', str(d.path), u64(mode), u64(d.type === 'p' ? 0 : makedev(d.major!, d.minor!)), u64(d.uid ?? 0), u64(d.gid ?? 0)));
    }
  }
  return out;
}

/** `kcore`: whether the host has /proc/kcore (HostFacts.kcore). */
export function devSymlinks(kcore: boolean): Step[] {
  const links: Array<[string, string]> = [
    ['/proc/self/fd', '/dev/fd'],
    ['/proc/self/fd/0', '/dev/stdin'],
    ['/proc/self/fd/1', '/dev/stdout'],
    ['/proc/self/fd/2', '/dev/stderr'],
  ];
  // /proc/kcore exists only with CONFIG_PROC_KCORE: no dangling /dev/core without it (as runc)
  if (kcore) links.push(['/proc/kcore', '/dev/core']);
  links.push(['pts/ptmx', '/dev/ptmx']);
  return links.map(([target, link]) => step('SYMLINK', str(target), str(link)));
}
