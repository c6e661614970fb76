import type { Globals } from '../action';
import { RuntimeError, errnoText } from '../errors';
import { readBytes } from '../io';
import { updateContainer, type Resources } from '../container/update';
import { checkRdtFlags } from '../container/rdt';
import { problemText } from '../config/rules';
import { checkResources } from '../config/validate';

/** runc's update flags (commander turns --cpu-period into cpuPeriod). */
export interface UpdateOptions {
  resources?: string;
  blkioWeight?: string; cpuPeriod?: string; cpuQuota?: string; cpuBurst?: string; cpuRtPeriod?: string;
  cpuRtRuntime?: string; cpuShare?: string; cpusetCpus?: string; cpusetMems?: string; cpuIdle?: string;
  kernelMemory?: string; kernelMemoryTcp?: string; memory?: string; memoryReservation?: string;
  memorySwap?: string; pidsLimit?: string; l3CacheSchema?: string; memBwSchema?: string;
}

/** "64m", "1g", "512k", "100" (bytes) or -1, as docker/runc read memory sizes (powers of 1024). */
export function parseBytes(flag: string, v: string): number {
  if (v.trim() === '-1') return -1;
  const m = /^(\d+(?:\.\d+)?)\s*([kmgtp])?i?b?$/i.exec(v.trim());
  if (!m) throw new RuntimeError(`invalid value for ${flag}: "${v}" (a size like 64m, 1g or -1)`);
  const mult = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4, p: 1024 ** 5 }[(m[2] ?? '').toLowerCase()]!;
  return Math.floor(Number(m[1]) * mult);
}

function parseInt64(flag: string, v: string, min = -Infinity): number {
  if (!/^-?\d+$/.test(v.trim()) || Number(v) < min) throw new RuntimeError(`invalid value for ${flag}: "${v}"`);
  return Number(v);
}

/** The resources to change: a linux.resources JSON (--resources FILE or -), else the flags. */
export function requested(o: UpdateOptions): Resources {
  if (o.resources !== undefined) {
    let text: string;
    try {
      text = new TextDecoder().decode(readBytes(o.resources === '-' ? 0 : o.resources));
    } catch (e) {
      throw new RuntimeError(`--resources ${o.resources}: ${errnoText(e)}`);
    }
    let doc: unknown;
    try {
      doc = JSON.parse(text);
    } catch (e) {
      throw new RuntimeError(`--resources: invalid linux.resources JSON: ${(e as Error).message}`);
    }
    if (!doc || typeof doc !== 'object' || Array.isArray(doc)) throw new RuntimeError('--resources: invalid linux.resources JSON: not an object');
    const { resources, problems } = checkResources(doc);
    if (!resources) throw new RuntimeError(`--resources: ${problemText(problems[0])}`);
    return resources;
  }
  const r: Resources = {};
  const mem = (r.memory ??= {});
  if (o.memory !== undefined) mem.limit = parseBytes('--memory', o.memory);
  if (o.memoryReservation !== undefined) mem.reservation = parseBytes('--memory-reservation', o.memoryReservation);
  if (o.memorySwap !== undefined) mem.swap = parseBytes('--memory-swap', o.memorySwap);
  if (o.kernelMemory !== undefined) mem.kernel = parseBytes('--kernel-memory', o.kernelMemory);
  if (o.kernelMemoryTcp !== undefined) mem.kernelTCP = parseBytes('--kernel-memory-tcp', o.kernelMemoryTcp);
  const cpu = (r.cpu ??= {});
  if (o.cpuShare !== undefined) cpu.shares = parseInt64('--cpu-share', o.cpuShare, 0);
  if (o.cpuPeriod !== undefined) cpu.period = parseInt64('--cpu-period', o.cpuPeriod, 0);
  if (o.cpuQuota !== undefined) cpu.quota = parseInt64('--cpu-quota', o.cpuQuota);
  if (o.cpuBurst !== undefined) cpu.burst = parseInt64('--cpu-burst', o.cpuBurst, 0);
  if (o.cpuRtPeriod !== undefined) cpu.realtimePeriod = parseInt64('--cpu-rt-period', o.cpuRtPeriod, 0);
  if (o.cpuRtRuntime !== undefined) cpu.realtimeRuntime = parseInt64('--cpu-rt-runtime', o.cpuRtRuntime);
  if (o.cpuIdle !== undefined) cpu.idle = parseInt64('--cpu-idle', o.cpuIdle);
  if (o.cpusetCpus !== undefined) cpu.cpus = o.cpusetCpus;
  if (o.cpusetMems !== undefined) cpu.mems = o.cpusetMems;
  if (o.pidsLimit !== undefined) r.pids = { limit: parseInt64('--pids-limit', o.pidsLimit) };
  if (o.blkioWeight !== undefined) r.blockIO = { weight: parseInt64('--blkio-weight', o.blkioWeight, 0) };
  if (!Object.keys(mem).length) delete r.memory;
  if (!Object.keys(cpu).length) delete r.cpu;
  return r;
}

/** update: change the cgroup limits of a running (or created, or paused) container, and remember them. */
export function update(g: Globals, id: string, o: UpdateOptions) {
  updateContainer(g.root, id, () => {
    checkRdtFlags(o);
    return requested(o);
  });
}
