// cgroup v1 (also the v1 half of a hybrid host): writes linux.resources into the controllers' files.
// Each value goes to the hierarchy of its controller; a field whose controller is not mounted is an error that
// names the field. `unified` needs cgroup2 and is refused here.
import { logWarn } from '../log';
import { exists, readNum, readOpt, writeFile } from './files';
import { deviceLine, deviceRules, fieldError, hugePageSize, put, rdmaLine } from './fields';
import { controllerDir, type Resources, type SavedCgroup, type ThrottleDevice } from './types';

function need(s: SavedCgroup, controller: string, field: string): string {
  const d = controllerDir(s, controller);
  if (!d) throw fieldError(field, `this host has no ${controller} cgroup v1 hierarchy`);
  return d;
}

/** Apply `r` to the container's v1 cgroups. `update`: changing a running container (runts update). */
export function applyV1(s: SavedCgroup, r: Resources, update: boolean, rootless = false): void {
  if (r.unified && Object.keys(r.unified).length) {
    throw fieldError('unified', 'cgroup v2 files cannot be set on a cgroup v1 host (this host has v1 controllers)');
  }
  // every container gets a device list at create (deny all, its rules, the defaults); update leaves it alone
  // rootless: no device list (writing one needs CAP_SYS_ADMIN; runc ignores it too)
  if (!update && !rootless && controllerDir(s, 'devices')) devices(controllerDir(s, 'devices')!, r);
  else if (!update && !rootless && r.devices?.length) need(s, 'devices', 'devices');
  if (r.memory) memory(need(s, 'memory', 'memory'), r.memory, update);
  if (r.cpu) cpu(s, r.cpu);
  if (r.pids && r.pids.limit !== undefined) {
    put('pids.limit', need(s, 'pids', 'pids.limit'), 'pids.max', r.pids.limit > 0 ? r.pids.limit : 'max');
  }
  if (r.blockIO) blkio(s, r.blockIO);
  (r.hugepageLimits ?? []).forEach((h, i) => {
    const f = `hugepageLimits[${i}]`;
    put(f, need(s, 'hugetlb', f), `hugetlb.${hugePageSize(h.pageSize, `${f}.pageSize`)}.limit_in_bytes`, h.limit);
  });
  if (r.network) {
    if (r.network.classID !== undefined) put('network.classID', need(s, 'net_cls', 'network.classID'), 'net_cls.classid', r.network.classID);
    (r.network.priorities ?? []).forEach((p, i) => {
      const f = `network.priorities[${i}]`;
      put(f, need(s, 'net_prio', f), 'net_prio.ifpriomap', `${p.name} ${p.priority}`);
    });
  }
  for (const [dev, lim] of Object.entries(r.rdma ?? {})) {
    const f = `rdma["${dev}"]`;
    put(f, need(s, 'rdma', f), 'rdma.max', rdmaLine(dev, lim));
  }
}

function devices(dir: string, r: Resources): void {
  deviceRules(r.devices).forEach((rule, i) => {
    // index 0 is runts' own "deny all"; the config's rules follow it
    const field = i === 0 || i > (r.devices?.length ?? 0) ? 'devices' : `devices[${i - 1}]`;
    put(field, dir, rule.allow ? 'devices.allow' : 'devices.deny', deviceLine(rule));
  });
}

function memory(dir: string, m: NonNullable<Resources['memory']>, update: boolean): void {
  const limit = m.limit || undefined; // 0 means "not set", as in runc
  let swap = m.swap || undefined;
  // an unlimited memory limit without a swap value makes memory+swap unlimited too (runc's setMemoryAndSwap):
  // the kernel refuses a memory limit above the current memsw limit
  if (limit === -1 && swap === undefined && exists(dir, 'memory.memsw.limit_in_bytes')) swap = -1;
  if (update && m.checkBeforeUpdate && limit !== undefined && limit > 0) {
    const usage = readNum(dir, 'memory.usage_in_bytes') ?? 0;
    if (limit < usage) throw fieldError('memory.limit', `${limit} is below the container's current memory usage (${usage}), and checkBeforeUpdate is set`);
  }
  if (swap !== undefined && !exists(dir, 'memory.memsw.limit_in_bytes')) {
    throw fieldError('memory.swap', 'this kernel does not account swap (no memory.memsw.limit_in_bytes; boot with swapaccount=1)');
  }
  if (swap !== undefined && limit !== undefined && swap !== -1 && limit !== -1 && swap < limit) {
    throw fieldError('memory.swap', `must be at least memory.limit (it is memory plus swap): ${swap} < ${limit}`);
  }
  const setLimit = () => put('memory.limit', dir, 'memory.limit_in_bytes', limit!);
  const setSwap = () => put('memory.swap', dir, 'memory.memsw.limit_in_bytes', swap!);
  if (limit !== undefined && swap !== undefined) {
    // memsw may never be below the memory limit: raise memsw first when it grows
    const cur = readNum(dir, 'memory.limit_in_bytes') ?? 0;
    if (swap === -1 || cur < swap) { setSwap(); setLimit(); } else { setLimit(); setSwap(); }
  } else if (limit !== undefined) {
    setLimit();
  } else if (swap !== undefined) {
    setSwap();
  }
  if (m.reservation) put('memory.reservation', dir, 'memory.soft_limit_in_bytes', m.reservation);
  if (m.kernel) droppedByKernel('memory.kernel', dir, 'memory.kmem.limit_in_bytes', m.kernel);
  if (m.kernelTCP) droppedByKernel('memory.kernelTCP', dir, 'memory.kmem.tcp.limit_in_bytes', m.kernelTCP);
  if (m.swappiness !== undefined && m.swappiness !== -1) {
    if (m.swappiness > 100) throw fieldError('memory.swappiness', `must be between 0 and 100, got ${m.swappiness}`);
    put('memory.swappiness', dir, 'memory.swappiness', m.swappiness);
  }
  if (m.disableOOMKiller) put('memory.disableOOMKiller', dir, 'memory.oom_control', 1);
  if (m.useHierarchy !== undefined) {
    try {
      writeFile(dir, 'memory.use_hierarchy', m.useHierarchy ? 1 : 0);
    } catch (e) {
      // kernels since 5.x always use the hierarchy and refuse 0
      if (m.useHierarchy) throw fieldError('memory.useHierarchy', (e as Error).message);
      logWarn(`linux.resources.memory.useHierarchy: false is not supported by this kernel (it always uses the hierarchy); ignored`);
    }
  }
}

/** Kernel memory limits: gone from recent kernels (the file is missing or the write is refused): a warning. */
function droppedByKernel(field: string, dir: string, file: string, value: number): void {
  if (!exists(dir, file)) {
    logWarn(`linux.resources.${field}: not supported by this kernel; ignored`);
    return;
  }
  try {
    writeFile(dir, file, value);
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code === 'EOPNOTSUPP' || code === 'ENOTSUP' || code === 'EINVAL') {
      logWarn(`linux.resources.${field}: not supported by this kernel; ignored`);
      return;
    }
    throw fieldError(field, (e as Error).message);
  }
}

function cpu(s: SavedCgroup, c: NonNullable<Resources['cpu']>): void {
  const has = c.shares || c.quota || c.period || c.burst !== undefined || c.realtimePeriod || c.realtimeRuntime || c.idle !== undefined;
  if (has) {
    const dir = need(s, 'cpu', 'cpu');
    if (c.shares) put('cpu.shares', dir, 'cpu.shares', c.shares);
    // the period first; when the current quota does not fit the new period, the quota goes first
    if (c.period) {
      try {
        writeFile(dir, 'cpu.cfs_period_us', c.period);
      } catch (e) {
        if (!c.quota) throw fieldError('cpu.period', (e as Error).message);
        put('cpu.quota', dir, 'cpu.cfs_quota_us', c.quota);
        put('cpu.period', dir, 'cpu.cfs_period_us', c.period);
      }
    }
    if (c.quota) put('cpu.quota', dir, 'cpu.cfs_quota_us', c.quota);
    if (c.burst !== undefined) put('cpu.burst', dir, 'cpu.cfs_burst_us', c.burst);
    if (c.realtimeRuntime && c.realtimeRuntime > 0) {
      // a group's real-time runtime comes out of its parent's: the parents runts made get the same budget
      for (const p of s.created) {
        if (p !== dir && dir.startsWith(p + '/')) {
          if (c.realtimePeriod) put('cpu.realtimePeriod', p, 'cpu.rt_period_us', c.realtimePeriod);
          put('cpu.realtimeRuntime', p, 'cpu.rt_runtime_us', c.realtimeRuntime);
        }
      }
    }
    if (c.realtimePeriod) put('cpu.realtimePeriod', dir, 'cpu.rt_period_us', c.realtimePeriod);
    if (c.realtimeRuntime) put('cpu.realtimeRuntime', dir, 'cpu.rt_runtime_us', c.realtimeRuntime);
    if (c.idle !== undefined) put('cpu.idle', dir, 'cpu.idle', c.idle);
  }
  if (c.cpus) put('cpu.cpus', need(s, 'cpuset', 'cpu.cpus'), 'cpuset.cpus', c.cpus);
  if (c.mems) put('cpu.mems', need(s, 'cpuset', 'cpu.mems'), 'cpuset.mems', c.mems);
}

function blkio(s: SavedCgroup, b: NonNullable<Resources['blockIO']>): void {
  const dir = need(s, 'blkio', 'blockIO');
  // CFQ's files, or BFQ's (the only weight scheduler of recent kernels)
  const weightFile = exists(dir, 'blkio.weight') ? 'blkio.weight' : exists(dir, 'blkio.bfq.weight') ? 'blkio.bfq.weight' : undefined;
  const noWeight = (f: string) => fieldError(f, 'this kernel has no blkio weight files (neither CFQ\'s blkio.weight nor BFQ\'s blkio.bfq.weight)');
  if (b.weight) {
    if (!weightFile) throw noWeight('blockIO.weight');
    put('blockIO.weight', dir, weightFile, b.weight);
  }
  if (b.leafWeight) {
    if (!exists(dir, 'blkio.leaf_weight')) throw fieldError('blockIO.leafWeight', 'this kernel has no blkio.leaf_weight (CFQ only)');
    put('blockIO.leafWeight', dir, 'blkio.leaf_weight', b.leafWeight);
  }
  (b.weightDevice ?? []).forEach((d, i) => {
    const f = `blockIO.weightDevice[${i}]`;
    if (d.weight) {
      if (!weightFile) throw noWeight(f);
      put(f, dir, `${weightFile}_device`, `${d.major}:${d.minor} ${d.weight}`);
    }
    if (d.leafWeight) {
      if (!exists(dir, 'blkio.leaf_weight_device')) throw fieldError(f, 'this kernel has no blkio.leaf_weight_device (CFQ only)');
      put(f, dir, 'blkio.leaf_weight_device', `${d.major}:${d.minor} ${d.leafWeight}`);
    }
  });
  const throttle = (list: ThrottleDevice[] | undefined, name: string, file: string) =>
    (list ?? []).forEach((d, i) => put(`blockIO.${name}[${i}]`, dir, file, `${d.major}:${d.minor} ${d.rate}`));
  throttle(b.throttleReadBpsDevice, 'throttleReadBpsDevice', 'blkio.throttle.read_bps_device');
  throttle(b.throttleWriteBpsDevice, 'throttleWriteBpsDevice', 'blkio.throttle.write_bps_device');
  throttle(b.throttleReadIOPSDevice, 'throttleReadIOPSDevice', 'blkio.throttle.read_iops_device');
  throttle(b.throttleWriteIOPSDevice, 'throttleWriteIOPSDevice', 'blkio.throttle.write_iops_device');
}

/**
 * A new cpuset cgroup starts with no cpus and no mems, and nothing can join a cpuset without them. `dir` gets its
 * parent's values; a parent that exists but is empty (a pod cgroup a manager made) is filled first from the nearest
 * ancestor below `mount` that has values, each empty level from the one above it (runc's cpusetEnsureParent).
 */
export function initCpuset(dir: string, mount: string): void {
  const chain: string[] = [];
  for (let d = dir; d.startsWith(mount + '/'); d = d.slice(0, d.lastIndexOf('/'))) chain.unshift(d);
  for (const d of chain) {
    const parent = d.slice(0, d.lastIndexOf('/'));
    for (const f of ['cpuset.cpus', 'cpuset.mems']) {
      if ((readOpt(d, f) ?? '').trim() === '') writeFile(d, f, (readOpt(parent, f) ?? '').trim());
    }
  }
}
