// update: change the cgroup limits of a live container (created, running or paused) and remember them in its
// saved config, under its lock.
import { RuntimeError } from '../errors';
import { updateResources, type Resources } from '../cgroups';
import { writeSaved, canUpdate } from './state';
import { withContainer } from './access';

export type { Resources };

/** `delta` over `base`: each object of linux.resources field by field (rdma per device), lists and values replaced. */
export function mergeResources(base: Resources, delta: Resources): Resources {
  const out: Resources = { ...base, ...delta };
  if (base.memory && delta.memory) out.memory = { ...base.memory, ...delta.memory };
  if (base.cpu && delta.cpu) out.cpu = { ...base.cpu, ...delta.cpu };
  if (base.pids && delta.pids) out.pids = { ...base.pids, ...delta.pids };
  if (base.blockIO && delta.blockIO) out.blockIO = { ...base.blockIO, ...delta.blockIO };
  if (base.network && delta.network) out.network = { ...base.network, ...delta.network };
  if (base.unified && delta.unified) out.unified = { ...base.unified, ...delta.unified };
  if (base.rdma && delta.rdma) {
    const rdma = { ...base.rdma };
    for (const [dev, limits] of Object.entries(delta.rdma)) rdma[dev] = { ...rdma[dev], ...limits };
    out.rdma = rdma;
  }
  return out;
}

/**
 * Apply the resources `requested()` returns (called once the container's status is checked, so a stopped
 * container is reported before a bad flag) to container `id`'s cgroups and save them.
 */
export function updateContainer(root: string, id: string, requested: () => Resources): void {
  withContainer(root, id, canUpdate, ({ dir, saved: s }) => {
    if (!s.cgroup) throw new RuntimeError('container has no cgroups to update');
    const delta = requested();
    const linux = (s.config.linux ??= {});
    const before: Resources = linux.resources ?? {};
    // device rules are fixed at create (as in runc); memory and swap move together (memsw >= limit)
    delete delta.devices;
    // (an unlimited memory limit makes the swap total unlimited as well, as in runc)
    if (delta.memory?.limit !== undefined && delta.memory.swap === undefined && before.memory?.swap) {
      delta.memory.swap = delta.memory.limit === -1 ? -1 : before.memory.swap;
    }
    updateResources(s.cgroup, delta);
    linux.resources = mergeResources(before, delta);
    writeSaved(dir, s);
  });
}
