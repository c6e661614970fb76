// linux.netDevices: which devices move into the container's network namespace, under which name, with which
// addresses (config-linux.md "Network Devices"; runc's validation and devChangeNetNamespace). runts moves them
// from its own namespace once the init has its network namespace (launch.ts, at PID); the stub then restores
// the addresses and brings each device up from inside (NETDEV_ADDR, NETDEV_UP). The addresses are facts runts
// reads before the plan is built (launch.ts); here they are only filtered.
import { RuntimeError } from '../errors';
import type { Spec } from '../config/types';
import type { NetAddr } from '../native';
import { Step, step, str, u64 } from './encode';
import { NsPlan, isHostNs } from './namespaces';

export interface NetDevice {
  /** the name in runts' network namespace */
  host: string;
  /** the name in the container's */
  name: string;
}

const IFNAMSIZ = 16;
const IFA_F_PERMANENT = 0x80;
const RT_SCOPE_UNIVERSE = 0;

/** The kernel's dev_valid_name(): 1-15 bytes, not "." or "..", no '/', ':' or whitespace. */
export function validIfName(n: string): boolean {
  if (n.length === 0 || Buffer.byteLength(n) >= IFNAMSIZ) return false;
  if (n === '.' || n === '..') return false;
  return !/[/:\s]/.test(n);
}

/** The devices of linux.netDevices, checked (names, a network namespace that is not runts' own). */
export function netDevices(spec: Spec, ns: NsPlan): NetDevice[] {
  const devs = spec.linux?.netDevices;
  if (!devs || Object.keys(devs).length === 0) return [];
  const joined = ns.join.find((j) => j.type === 'network');
  if (!ns.create.has('network') && !joined)
    throw new RuntimeError('linux.netDevices: moving network devices needs a network namespace (linux.namespaces has no "network")');
  if (joined && isHostNs('network', joined.path))
    throw new RuntimeError(`linux.netDevices: the network namespace ${joined.path} is runts' own; devices cannot move into it`);
  const out: NetDevice[] = [];
  const names = new Set<string>();
  for (const [host, d] of Object.entries(devs)) {
    if (!validIfName(host)) throw new RuntimeError(`linux.netDevices: invalid device name "${host}"`);
    const name = d?.name ? d.name : host;
    if (!validIfName(name)) throw new RuntimeError(`linux.netDevices.${host}.name: invalid device name "${name}"`);
    if (names.has(name)) throw new RuntimeError(`linux.netDevices.${host}.name: "${name}" is given to two devices`);
    names.add(name);
    out.push({ host, name });
  }
  return out;
}

/** The addresses that move with a device: permanent ones of global scope (runc's rule, RFC 3549). */
export function movedAddresses(addrs: NetAddr[]): NetAddr[] {
  return addrs.filter((a) => (a.flags & IFA_F_PERMANENT) !== 0 && a.scope === RT_SCOPE_UNIVERSE);
}

/** The stub's steps inside the container's network namespace: addresses, then up. */
export function netDeviceSteps(devs: Array<NetDevice & { addrs: NetAddr[] }>): Step[] {
  const s: Step[] = [];
  for (const d of devs) {
    for (const a of movedAddresses(d.addrs)) {
      s.push(step('NETDEV_ADDR', str(d.name), u64(a.family), u64(a.prefixlen), str(a.local), str(a.broadcast ?? '')));
    }
    s.push(step('NETDEV_UP', str(d.name)));
  }
  return s;
}
