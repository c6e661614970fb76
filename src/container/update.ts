// update: change the cgroup limits of a live container (created, running or paused) and remember them in its
// saved config, under its lock.
import { RuntimeError } from '../errors';
import { updateResources, type Resources } from '../cgroups';
import { writeSaved, canUpdate } from './state';
import { withContainer } from './access';

export type { Resources };

/** Merge `delta` into `base` (objects field by field; arrays and values replaced). */
function merge<T extends Record<string, unknown>>(base: T | undefined, delta: T): T {
  const out: Record<string, unknown> = { ...(base ?? {}) };
  for (const [k, v] of Object.entries(delta)) {
    if (v === undefined || v === null) continue;
    const b = out[k];
    out[k] = v && typeof v === 'object' && !Array.isArray(v) && b && typeof b === 'object' && !Array.isArray(b)
      ? merge(b as Record<string, unknown>, v as Record<string, unknown>) : v;
  }
  return out as T;
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
    const before = (linux.resources ?? {}) as Resources;
    // device rules are fixed at create (as in runc); memory and swap move together (memsw >= limit)
    delete delta.devices;
    // (an unlimited memory limit makes the swap total unlimited as well, as in runc)
    if (delta.memory?.limit !== undefined && delta.memory.swap === undefined && before.memory?.swap) {
      delta.memory.swap = delta.memory.limit === -1 ? -1 : before.memory.swap;
    }
    updateResources(s.cgroup, delta);
    linux.resources = merge(before as Record<string, unknown>, delta as Record<string, unknown>);
    writeSaved(dir, s);
  });
}
