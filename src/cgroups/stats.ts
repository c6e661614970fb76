// Resource usage in runc's `events` JSON shape (type "stats"), read from v1 or v2 cgroup files, and the OOM-kill
// counter that `events` watches.
import * as fs from 'fs';
import { readKeyed, readNum, readOpt } from './files';
import { controllerDir, type SavedCgroup } from './types';

/** USER_HZ: cpuacct.stat counts in clock ticks of 1/100 s */
const NS_PER_TICK = 1e9 / 100;

export interface MemoryEntry { limit: number; usage?: number; max?: number; failcnt: number }
export interface BlkioEntry { major?: number; minor?: number; op?: string; value?: number }

export interface Stats {
  cpu: {
    usage: { total?: number; percpu?: number[]; kernel: number; user: number };
    throttling: { periods?: number; throttledPeriods?: number; throttledTime?: number };
  };
  memory: { cache?: number; usage?: MemoryEntry; swap?: MemoryEntry; kernel?: MemoryEntry; kernelTCP?: MemoryEntry; raw?: Record<string, number> };
  pids: { current?: number; limit?: number };
  blkio: { ioServiceBytesRecursive?: BlkioEntry[]; ioServicedRecursive?: BlkioEntry[] };
  hugetlb: Record<string, { usage?: number; max?: number; failcnt: number }>;
}

/** Drop undefined fields (runc's omitempty). */
function clean<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

/** v1 limits of "unlimited" read as a huge number; runc reports them as they are. */
function entryV1(dir: string | undefined, prefix: string): MemoryEntry | undefined {
  if (!dir || readOpt(dir, `${prefix}.usage_in_bytes`) === undefined) return undefined;
  return clean({
    limit: readNum(dir, `${prefix}.limit_in_bytes`) ?? 0,
    usage: readNum(dir, `${prefix}.usage_in_bytes`),
    max: readNum(dir, `${prefix}.max_usage_in_bytes`),
    failcnt: readNum(dir, `${prefix}.failcnt`) ?? 0,
  });
}

/** "8:0 Read 4096" lines of a v1 blkio file. */
function blkioV1(dir: string, file: string): BlkioEntry[] | undefined {
  const t = readOpt(dir, file);
  if (t === undefined) return undefined;
  const out: BlkioEntry[] = [];
  for (const line of t.split('\n')) {
    const m = /^(\d+):(\d+) (\S+) (\d+)$/.exec(line.trim());
    if (m) out.push({ major: Number(m[1]), minor: Number(m[2]), op: m[3], value: Number(m[4]) });
  }
  return out;
}

/** Hugepage sizes the kernel offers, from /sys/kernel/mm/hugepages (hugepages-2048kB → 2MB). */
function hugeSizes(): string[] {
  let names: string[] = [];
  try { names = fs.readdirSync('/sys/kernel/mm/hugepages'); } catch { return []; }
  return names.map((n) => Number(/^hugepages-(\d+)kB$/.exec(n)?.[1] ?? 0)).filter(Boolean).map((kb) =>
    kb >= 1 << 20 ? `${kb >> 20}GB` : kb >= 1024 ? `${kb >> 10}MB` : `${kb}KB`);
}

function statsV1(s: SavedCgroup): Stats {
  const acct = controllerDir(s, 'cpuacct');
  const cpu = controllerDir(s, 'cpu');
  const mem = controllerDir(s, 'memory');
  const pids = controllerDir(s, 'pids');
  const blkio = controllerDir(s, 'blkio');
  const hugetlb = controllerDir(s, 'hugetlb');
  const ticks = acct ? readKeyed(acct, 'cpuacct.stat') : {};
  const cstat = cpu ? readKeyed(cpu, 'cpu.stat') : {};
  const raw = mem ? readKeyed(mem, 'memory.stat') : undefined;
  const out: Stats = {
    cpu: {
      usage: clean({
        total: acct ? readNum(acct, 'cpuacct.usage') : undefined,
        percpu: acct ? (readOpt(acct, 'cpuacct.usage_percpu') ?? '').trim().split(/\s+/).filter(Boolean).map(Number) : undefined,
        kernel: (ticks.system ?? 0) * NS_PER_TICK,
        user: (ticks.user ?? 0) * NS_PER_TICK,
      }),
      throttling: clean({ periods: cstat.nr_periods, throttledPeriods: cstat.nr_throttled, throttledTime: cstat.throttled_time }),
    },
    memory: clean({
      cache: raw ? raw.total_cache ?? raw.cache : undefined,
      usage: entryV1(mem, 'memory'),
      swap: entryV1(mem, 'memory.memsw'),
      kernel: entryV1(mem, 'memory.kmem'),
      kernelTCP: entryV1(mem, 'memory.kmem.tcp'),
      raw,
    }),
    pids: pids ? clean({ current: readNum(pids, 'pids.current'), limit: readNum(pids, 'pids.max') }) : {},
    blkio: blkio ? clean({
      ioServiceBytesRecursive: blkioV1(blkio, 'blkio.throttle.io_service_bytes_recursive'),
      ioServicedRecursive: blkioV1(blkio, 'blkio.throttle.io_serviced_recursive'),
    }) : {},
    hugetlb: {},
  };
  if (hugetlb) {
    for (const size of hugeSizes()) {
      out.hugetlb[size] = clean({
        usage: readNum(hugetlb, `hugetlb.${size}.usage_in_bytes`),
        max: readNum(hugetlb, `hugetlb.${size}.max_usage_in_bytes`),
        failcnt: readNum(hugetlb, `hugetlb.${size}.failcnt`) ?? 0,
      });
    }
  }
  return out;
}

function statsV2(dir: string): Stats {
  const c = readKeyed(dir, 'cpu.stat');
  const raw = readOpt(dir, 'memory.stat') !== undefined ? readKeyed(dir, 'memory.stat') : undefined;
  const usec = (v: number | undefined) => (v === undefined ? undefined : v * 1000);
  const events = readKeyed(dir, 'memory.events');
  const out: Stats = {
    cpu: {
      usage: clean({ total: usec(c.usage_usec), kernel: usec(c.system_usec) ?? 0, user: usec(c.user_usec) ?? 0 }),
      throttling: clean({ periods: c.nr_periods, throttledPeriods: c.nr_throttled, throttledTime: usec(c.throttled_usec) }),
    },
    memory: clean({
      cache: raw?.file,
      usage: readOpt(dir, 'memory.current') !== undefined
        ? clean({ limit: readNum(dir, 'memory.max') ?? 0, usage: readNum(dir, 'memory.current'), max: readNum(dir, 'memory.peak'), failcnt: events.max ?? 0 })
        : undefined,
      swap: readOpt(dir, 'memory.swap.current') !== undefined
        ? clean({ limit: readNum(dir, 'memory.swap.max') ?? 0, usage: readNum(dir, 'memory.swap.current'), failcnt: 0 })
        : undefined,
      raw,
    }),
    pids: clean({ current: readNum(dir, 'pids.current'), limit: readNum(dir, 'pids.max') }),
    blkio: {},
    hugetlb: {},
  };
  const io = readOpt(dir, 'io.stat');
  if (io !== undefined) {
    const bytes: BlkioEntry[] = [];
    const ios: BlkioEntry[] = [];
    for (const line of io.split('\n')) {
      const m = /^(\d+):(\d+) (.*)$/.exec(line.trim());
      if (!m) continue;
      const kv = Object.fromEntries(m[3].split(/\s+/).map((p) => p.split('=')).map(([k, v]) => [k, Number(v)]));
      const dev = { major: Number(m[1]), minor: Number(m[2]) };
      bytes.push({ ...dev, op: 'Read', value: kv.rbytes ?? 0 }, { ...dev, op: 'Write', value: kv.wbytes ?? 0 });
      ios.push({ ...dev, op: 'Read', value: kv.rios ?? 0 }, { ...dev, op: 'Write', value: kv.wios ?? 0 });
    }
    out.blkio = { ioServiceBytesRecursive: bytes, ioServicedRecursive: ios };
  }
  for (const size of hugeSizes()) {
    if (readOpt(dir, `hugetlb.${size}.current`) === undefined) continue;
    out.hugetlb[size] = clean({
      usage: readNum(dir, `hugetlb.${size}.current`),
      failcnt: readKeyed(dir, `hugetlb.${size}.events`).max ?? 0,
    });
  }
  return out;
}

export function readStats(s: SavedCgroup): Stats {
  return s.version === 2 ? statsV2(s.unified!) : statsV1(s);
}

/** How many times the OOM killer has killed in the container's memory cgroup (undefined: not available). */
export function oomKills(s: SavedCgroup): number | undefined {
  if (s.version === 2) return readKeyed(s.unified!, 'memory.events').oom_kill;
  const mem = controllerDir(s, 'memory');
  return mem ? readKeyed(mem, 'memory.oom_control').oom_kill : undefined;
}
