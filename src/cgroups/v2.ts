// cgroup v2: writes linux.resources into one cgroup2 directory, converting v1-style values the way runc does
// (shares → cpu.weight, blkio weight → io.weight, memory+swap → memory.swap.max), plus `unified` as given.
import { dirname } from '../paths';
import { logWarn } from '../log';
import { exists, readNum, readOpt, writeFile } from './files';
import { blkioToIoWeight, fieldError, hugePageSize, put, rdmaLine, sharesToWeight } from './fields';
import type { Resources, ThrottleDevice } from './types';

/** The controllers a resource set needs enabled in the parents' cgroup.subtree_control. */
export function controllersFor(r: Resources): string[] {
  const out = new Set<string>();
  const m = r.memory;
  if (m && (m.limit || m.reservation || m.swap)) out.add('memory');
  const c = r.cpu;
  if (c && (c.shares || c.quota || c.period || c.burst !== undefined || c.idle !== undefined)) out.add('cpu');
  if (c && (c.cpus || c.mems)) out.add('cpuset');
  if (r.pids?.limit !== undefined) out.add('pids');
  const b = r.blockIO;
  if (b && (b.weight || b.weightDevice?.length || b.throttleReadBpsDevice?.length || b.throttleWriteBpsDevice?.length ||
    b.throttleReadIOPSDevice?.length || b.throttleWriteIOPSDevice?.length)) out.add('io');
  if (r.hugepageLimits?.length) out.add('hugetlb');
  if (r.rdma && Object.keys(r.rdma).length) out.add('rdma');
  for (const k of Object.keys(r.unified ?? {})) {
    const ctrl = k.split('.')[0];
    if (ctrl !== 'cgroup') out.add(ctrl);
  }
  return [...out];
}

/**
 * Enable `ctrls` from the hierarchy's root down to `dir`'s parent (each level's subtree_control), those that the
 * level offers; what a parent does not offer is left for the writes to report.
 */
export function enableControllers(mount: string, dir: string, ctrls: string[]): void {
  if (!ctrls.length) return;
  const levels: string[] = [];
  for (let d = dirname(dir); d.length >= mount.length && d.startsWith(mount); d = dirname(d)) {
    levels.unshift(d);
    if (d === mount) break;
  }
  for (const d of levels) {
    const offered = new Set((readOpt(d, 'cgroup.controllers') ?? '').split(/\s+/).filter(Boolean));
    const enabled = new Set((readOpt(d, 'cgroup.subtree_control') ?? '').split(/\s+/).filter(Boolean));
    const want = ctrls.filter((c) => offered.has(c) && !enabled.has(c));
    if (want.length) writeFile(d, 'cgroup.subtree_control', want.map((c) => `+${c}`).join(' '));
  }
}

/** memory.swap.max from the spec's memory+swap total (runc's conversion). */
export function swapMax(limit: number | undefined, swap: number | undefined): string | undefined {
  if (swap === undefined || swap === 0) return undefined;
  if (swap === -1) return 'max';
  if (limit === undefined || limit === 0 || limit === -1) {
    throw fieldError('memory.swap', 'on cgroup v2 a swap limit needs a memory limit (swap is memory plus swap)');
  }
  if (swap < limit) throw fieldError('memory.swap', `must be at least memory.limit (it is memory plus swap): ${swap} < ${limit}`);
  return String(swap - limit);
}

/** cpu.max: "quota period", quota "max" when unlimited. Undefined when neither is set. */
export function cpuMax(quota: number | undefined, period: number | undefined, current?: string): string | undefined {
  if (!quota && !period) return undefined;
  const [curQuota = 'max'] = (current ?? '').trim().split(/\s+/);
  const q = quota ? (quota > 0 ? String(quota) : 'max') : curQuota;
  return period ? `${q} ${period}` : q;
}

export function applyV2(dir: string, r: Resources, update: boolean): void {
  // the device list is an eBPF program, attached by cgroups/index through the addon
  const m = r.memory;
  if (m) {
    const limit = m.limit || undefined;
    if (update && m.checkBeforeUpdate && limit !== undefined && limit > 0) {
      const usage = readNum(dir, 'memory.current') ?? 0;
      if (limit < usage) throw fieldError('memory.limit', `${limit} is below the container's current memory usage (${usage}), and checkBeforeUpdate is set`);
    }
    const swap = swapMax(limit, m.swap || undefined);
    // a lower swap.max first never conflicts; memory.max has no ordering rule against it on v2
    if (swap !== undefined) put('memory.swap', dir, 'memory.swap.max', swap);
    if (limit !== undefined) put('memory.limit', dir, 'memory.max', limit === -1 ? 'max' : limit);
    if (m.reservation) put('memory.reservation', dir, 'memory.low', m.reservation === -1 ? 'max' : m.reservation);
    if (m.kernel || m.kernelTCP) logWarn('linux.resources.memory.kernel/kernelTCP: cgroup v2 has no kernel memory limits; ignored');
    if (m.swappiness !== undefined && m.swappiness !== -1) throw fieldError('memory.swappiness', 'cgroup v2 has no per-cgroup swappiness');
    if (m.disableOOMKiller) throw fieldError('memory.disableOOMKiller', 'cgroup v2 cannot disable the OOM killer');
  }
  const c = r.cpu;
  if (c) {
    if (c.shares) put('cpu.shares', dir, 'cpu.weight', sharesToWeight(c.shares));
    const max = cpuMax(c.quota, c.period, readOpt(dir, 'cpu.max'));
    if (max !== undefined) put(c.quota ? 'cpu.quota' : 'cpu.period', dir, 'cpu.max', max);
    if (c.burst !== undefined) put('cpu.burst', dir, 'cpu.max.burst', c.burst);
    if (c.idle !== undefined) put('cpu.idle', dir, 'cpu.idle', c.idle);
    if (c.realtimePeriod || c.realtimeRuntime) {
      throw fieldError(c.realtimeRuntime ? 'cpu.realtimeRuntime' : 'cpu.realtimePeriod', 'cgroup v2 has no real-time CPU limits');
    }
    if (c.cpus) put('cpu.cpus', dir, 'cpuset.cpus', c.cpus);
    if (c.mems) put('cpu.mems', dir, 'cpuset.mems', c.mems);
  }
  if (r.pids?.limit !== undefined) put('pids.limit', dir, 'pids.max', r.pids.limit > 0 ? r.pids.limit : 'max');
  const b = r.blockIO;
  if (b) {
    // BFQ takes the v1 range as is; io.weight gets the converted value
    if (b.weight) {
      if (exists(dir, 'io.bfq.weight')) put('blockIO.weight', dir, 'io.bfq.weight', b.weight);
      else put('blockIO.weight', dir, 'io.weight', blkioToIoWeight(b.weight));
    }
    if (b.leafWeight) throw fieldError('blockIO.leafWeight', 'cgroup v2 has no leaf weights');
    (b.weightDevice ?? []).forEach((d, i) => {
      const f = `blockIO.weightDevice[${i}]`;
      if (d.leafWeight) throw fieldError(`${f}.leafWeight`, 'cgroup v2 has no leaf weights');
      if (d.weight) {
        if (exists(dir, 'io.bfq.weight')) put(f, dir, 'io.bfq.weight', `${d.major}:${d.minor} ${d.weight}`);
        else put(f, dir, 'io.weight', `${d.major}:${d.minor} ${blkioToIoWeight(d.weight)}`);
      }
    });
    const throttle = (list: ThrottleDevice[] | undefined, name: string, key: string) =>
      (list ?? []).forEach((d, i) => put(`blockIO.${name}[${i}]`, dir, 'io.max', `${d.major}:${d.minor} ${key}=${d.rate === 0 ? 'max' : d.rate}`));
    throttle(b.throttleReadBpsDevice, 'throttleReadBpsDevice', 'rbps');
    throttle(b.throttleWriteBpsDevice, 'throttleWriteBpsDevice', 'wbps');
    throttle(b.throttleReadIOPSDevice, 'throttleReadIOPSDevice', 'riops');
    throttle(b.throttleWriteIOPSDevice, 'throttleWriteIOPSDevice', 'wiops');
  }
  (r.hugepageLimits ?? []).forEach((h, i) => {
    const f = `hugepageLimits[${i}]`;
    const size = hugePageSize(h.pageSize, `${f}.pageSize`);
    put(f, dir, `hugetlb.${size}.max`, h.limit);
    // reservations follow the limit where the kernel has them
    if (exists(dir, `hugetlb.${size}.rsvd.max`)) put(f, dir, `hugetlb.${size}.rsvd.max`, h.limit);
  });
  if (r.network && (r.network.classID !== undefined || r.network.priorities?.length)) {
    throw fieldError('network', 'cgroup v2 has no net_cls/net_prio controllers');
  }
  for (const [dev, lim] of Object.entries(r.rdma ?? {})) {
    put(`rdma["${dev}"]`, dir, 'rdma.max', rdmaLine(dev, lim));
  }
  for (const [k, v] of Object.entries(r.unified ?? {})) {
    const f = `unified["${k}"]`;
    if (k.includes('/') || k === '' || k === '.' || k === '..') throw fieldError(f, 'must name a file of the cgroup directory');
    if (!exists(dir, k)) throw fieldError(f, `no such cgroup file (is the "${k.split('.')[0]}" controller enabled?)`);
    put(f, dir, k, v);
  }
}
