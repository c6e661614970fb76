// linux.netDevices: which devices move into the container's network namespace, under which name, with which
// addresses (config-linux.md "Network Devices"; runc's validation and devChangeNetNamespace). runts moves them
// from its own namespace once the init has its network namespace (launch.ts, at PID); the stub then restores
// the addresses and brings each device up from inside (NETDEV_ADDR, NETDEV_UP). The addresses are facts runts
// reads before the plan is built (launch.ts); here they are only filtered.
import { validIfName } from '../config/rules';
import type { Spec } from '../config/types';
import type { HostFacts } from './facts';
import { Step, step, str, u64 } from './encode';
import type { NsPlan } from './namespaces';

export interface NetDevice {
  /** the name in runts' network namespace */
  host: string;
  /** the name in the container's */
  name: string;
}

/** An address of a device, as the addon's netLinkAddrs reads it (src/native.ts uses this type). */
export interface NetAddr {
  /** AF_INET (2) or AF_INET6 (10) */
  family: number;
  prefixlen: number;
  /** IFA_F_* (IFA_FLAGS when the kernel sends it) */
  flags: number;
  /** RT_SCOPE_* (0 universe = global) */
  scope: number;
  /** the address, as text */
  local: string;
  broadcast?: string;
}

const IFA_F_PERMANENT = 0x80;
const RT_SCOPE_UNIVERSE = 0;

export { validIfName };

/** The devices of linux.netDevices, checked by checkNetDevices (config/rules.ts). */
export function netDevices(spec: Spec, _ns: NsPlan, _facts: Pick<HostFacts, 'ownNamespaces'>): NetDevice[] {
  const devs = spec.linux?.netDevices;
  if (!devs || Object.keys(devs).length === 0) return [];
  return Object.entries(devs).map(([host, d]) => ({ host, name: d?.name ? d.name : host }));
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
