// Resource usage in runc's `events` JSON shape (type "stats"), read from v1 or v2 cgroup files, and the OOM-kill
// counter that `events` watches. Counters are 64-bit: a value beyond 2^53 is kept as a bigint and printed
// exactly (jsonExact), as runc's uint64 fields are (an unlimited v1 limit is 9223372036854771712).
import * as fs from 'fs';
import { readKeyed, readOpt } from './files';
import { controllerDir, type SavedCgroup } from './types';

/** A counter: a number while it is exact, a bigint beyond 2^53. */
export type Num = number | bigint;

/** USER_HZ: cpuacct.stat counts in clock ticks of 1/100 s */
const NS_PER_TICK = 10_000_000;
/** runc reports a v2 memory limit of "max" as the largest uint64 */
const MAX_UINT64 = 2n ** 64n - 1n;

/** An integer as text, exactly (undefined: not an integer). */
export function exactNum(t: string): Num | undefined {
  t = t.trim();
  if (!/^-?\d+$/.test(t)) return undefined;
  const n = Number(t);
  return Number.isSafeInteger(n) ? n : BigInt(t);
}

/** a * k, exact */
export function mulExact(a: Num, k: number): Num {
  if (typeof a === 'number' && Number.isSafeInteger(a * k)) return a * k;
  const p = BigInt(a) * BigInt(k);
  return p <= BigInt(Number.MAX_SAFE_INTEGER) && p >= BigInt(Number.MIN_SAFE_INTEGER) ? Number(p) : p;
}

/** JSON.stringify that writes bigints as exact JSON numbers. */
export function jsonExact(v: unknown): string {
  return JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? `\u0000big:${x}` : x)).replace(/"\\u0000big:(-?\d+)"/g, '$1');
}

/** A one-value file, exactly ("max" → undefined, or `max` when given). */
function readNum(dir: string, file: string, max?: Num): Num | undefined {
  const t = readOpt(dir, file)?.trim();
  if (t === undefined) return undefined;
  if (t === 'max') return max;
  return exactNum(t);
}

/** "key value" lines, exactly. */
function readKeyedExact(dir: string, file: string): Record<string, Num> {
  const out: Record<string, Num> = {};
  for (const line of (readOpt(dir, file) ?? '').split('\n')) {
    const [k, v] = line.trim().split(/\s+/);
    const n = v === undefined ? undefined : exactNum(v);
    if (k && n !== undefined) out[k] = n;
  }
  return out;
}

export interface MemoryEntry { limit: Num; usage?: Num; max?: Num; failcnt: Num }
export interface BlkioEntry { major?: number; minor?: number; op?: string; value?: Num }

export interface Stats {
  cpu: {
    usage: { total?: Num; percpu?: Num[]; kernel: Num; user: Num };
    throttling: { periods?: Num; throttledPeriods?: Num; throttledTime?: Num };
  };
  memory: { cache?: Num; usage?: MemoryEntry; swap?: MemoryEntry; kernel?: MemoryEntry; kernelTCP?: MemoryEntry; raw?: Record<string, Num> };
  pids: { current?: Num; limit?: Num };
  blkio: { ioServiceBytesRecursive?: BlkioEntry[]; ioServicedRecursive?: BlkioEntry[] };
  hugetlb: Record<string, { usage?: Num; max?: Num; failcnt: Num }>;
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
    if (m) out.push({ major: Number(m[1]), minor: Number(m[2]), op: m[3], value: exactNum(m[4]) });
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
  const ticks = acct ? readKeyedExact(acct, 'cpuacct.stat') : {};
  const cstat = cpu ? readKeyedExact(cpu, 'cpu.stat') : {};
  const raw = mem ? readKeyedExact(mem, 'memory.stat') : undefined;
  const out: Stats = {
    cpu: {
      usage: clean({
        total: acct ? readNum(acct, 'cpuacct.usage') : undefined,
        percpu: acct ? (readOpt(acct, 'cpuacct.usage_percpu') ?? '').trim().split(/\s+/).filter(Boolean).map((v) => exactNum(v) ?? 0) : undefined,
        kernel: mulExact(ticks.system ?? 0, NS_PER_TICK),
        user: mulExact(ticks.user ?? 0, NS_PER_TICK),
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
  const c = readKeyedExact(dir, 'cpu.stat');
  const raw = readOpt(dir, 'memory.stat') !== undefined ? readKeyedExact(dir, 'memory.stat') : undefined;
  const usec = (v: Num | undefined) => (v === undefined ? undefined : mulExact(v, 1000));
  const events = readKeyedExact(dir, 'memory.events');
  const out: Stats = {
    cpu: {
      usage: clean({ total: usec(c.usage_usec), kernel: usec(c.system_usec) ?? 0, user: usec(c.user_usec) ?? 0 }),
      throttling: clean({ periods: c.nr_periods, throttledPeriods: c.nr_throttled, throttledTime: usec(c.throttled_usec) }),
    },
    memory: clean({
      cache: raw?.file,
      usage: readOpt(dir, 'memory.current') !== undefined
        ? clean({ limit: readNum(dir, 'memory.max', MAX_UINT64) ?? 0, usage: readNum(dir, 'memory.current'), max: readNum(dir, 'memory.peak'), failcnt: events.max ?? 0 })
        : undefined,
      swap: readOpt(dir, 'memory.swap.current') !== undefined
        ? clean({ limit: readNum(dir, 'memory.swap.max', MAX_UINT64) ?? 0, usage: readNum(dir, 'memory.swap.current'), failcnt: 0 })
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
      const kv: Record<string, Num | undefined> = Object.fromEntries(m[3].split(/\s+/).map((p) => p.split('=')).map(([k, v]) => [k, exactNum(v ?? '')]));
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
      failcnt: readKeyedExact(dir, `hugetlb.${size}.events`).max ?? 0,
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
