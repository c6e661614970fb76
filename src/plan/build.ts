// config.json → the ordered steps of the launch plan (docs/ARCHITECTURE.md, "Order of steps").
import { RuntimeError } from '../errors';
import type { Hook, Spec } from '../config/types';
import { How, SyncCode, UmountHow } from './ops';
import { HostMount, revealingMounts } from './mountinfo';
import { Step, step, str, strv, u64 } from './encode';
import { CLONE, NsPlan, hasMountNs, idMapText, planNamespaces, timeOffsets } from './namespaces';
import { MS, MountContext, MountSteps, PROPAGATION, mountSteps } from './mounts';
import { deviceSteps, devSymlinks } from './devices';
import { processSteps } from './process';
import { mountContext } from './lsm';
import { affinityPlan } from './procfields';
import { NetAddr, netDeviceSteps, netDevices } from './netdev';
import type { HostFacts } from './facts';
import { CgroupJoin, cgroupJoinSteps } from './cgroups';
import type { LaunchFds } from './fds';
import { execSteps, fdSteps, forkSteps, oomScoreAdjSteps, seccompOf } from './common';

export interface PlanOptions {
  bundle: string;
  rootfs: string;
  noPivot: boolean;
  fds: LaunchFds;
  /** the container id (where its cgroups are, for the cgroup mount) */
  id?: string;
  /** extra environment (LISTEN_FDS...) */
  extraEnv?: string[];
  /** without a mount namespace: the empty directory (in the state dir) the rootfs is bound onto */
  hostRoot?: string;
  /** linux.netDevices: the addresses of each device in runts' network namespace (undefined: no such device) */
  netAddrs?: Record<string, NetAddr[] | undefined>;
  /**
   * rootless with an effective uid other than 0: no capability in the runtime's mount namespace, so bind
   * sources cannot be cloned there (open_tree) and are bound inside the container's namespaces instead
   */
  unprivileged?: boolean;
  /**
   * runts runs in a user namespace other than the initial one (rootless podman's): device nodes are bound from
   * the host as in a container user namespace (runc: RunningInUserNS), mknod would fail with EPERM
   */
  inUserNs?: boolean;
  /** rootless: the v1 hierarchies (mount names) where the container has a cgroup; only these are bound */
  cgroupV1Usable?: string[];
  /** the cgroups the stub joins itself (from cgroups/index.ts:joinPlan) */
  cgroupJoin?: CgroupJoin;
}

export interface Plan {
  steps: Step[];
  ns: NsPlan;
  /** whether create must run prestart/createRuntime hooks on SYNC 1 */
  createHooks: boolean;
}

export function hookStep(h: Hook, name: string): Step {
  return step('RUN_HOOK', str(name), str(h.path), strv(h.args ?? [h.path]), strv(h.env ?? []), u64(h.timeout ?? 0));
}

/** The mount point of the mount that holds `real` (longest matching mount point of the host's mounts). */
export function mountPointOf(mounts: HostMount[], real: string): string {
  let best = '/';
  for (const { mountPoint: mp } of mounts) {
    if (mp && (real === mp || real.startsWith(mp.endsWith('/') ? mp : mp + '/')) && mp.length > best.length) best = mp;
  }
  return best;
}

/** What the step functions below share: the config, the host facts, create's options, and what follows from them. */
interface PlanCtx {
  spec: Spec;
  facts: HostFacts;
  o: PlanOptions;
  ns: NsPlan;
  /** a user namespace is created or joined */
  userns: boolean;
  /** the container has a mount namespace other than the runtime's (hasMountNs) */
  mntns: boolean;
  /** the propagation given to / before the root switch (rootfsPropagation; default rslave) */
  rootProp: number;
}

/**
 * config.json → the launch plan: one call per spec field, in the order the stub runs them (docs/ARCHITECTURE.md,
 * "Order of steps"; crun's container_init_setup). The config passed config/rules.ts's planProblems (create runs
 * them first): nothing here checks it again; a throw here is a host fact's.
 */
export function buildPlan(spec: Spec, facts: HostFacts, o: PlanOptions): Plan {
  const ns = planNamespaces(spec);
  const mntns = hasMountNs(ns, facts);
  const c: PlanCtx = { spec, facts, o, ns, userns: ns.create.has('user') || ns.join.some((j) => j.type === 'user'), mntns, rootProp: rootPropagation(spec) };
  const m = mountsPlan(c);
  const cgroupJoin = cgroupJoinSteps(o.cgroupJoin);
  const p = processSteps(spec, {
    facts, consoleFd: o.fds.console, mountConsole: true, extraEnv: o.extraEnv, readyBeforeExec: true, seccomp: seccompOf(spec),
  });
  const steps: Step[] = [
    // 0. the v1 cgroups, before anything else (the cgroup2 one at FORK)
    ...cgroupJoin.tasks,
    // 1. file descriptors, the stub's own settings
    ...fdSteps(o.fds),
    ...oomScoreAdjSteps(spec, o.unprivileged),
    // bind sources opened here, with the host's credentials, when a user namespace is entered (mounts below)
    ...m.sources,
    // 2. namespaces: join by path (user first), then create
    ...namespacesSteps(ns),
    ...timeOffsetsSteps(c),
    // 3. the container init
    ...forkSteps(cgroupJoin),
    ...netDevicesSteps(c),
    ...initCPUAffinitySteps(),
    ...cgroupNamespaceSteps(ns),
    // 4. rootfs
    ...rootfsPropagationSteps(c),
    ...rootPathSteps(c),
    // 5. mounts, devices, cwd
    ...m.steps,
    ...devicesSteps(c, m),
    ...cwdSteps(spec),
    ...devConsoleSteps(c, m),
    // 6-7. create-time hooks
    ...createRuntimeHooksSteps(spec),
    ...createContainerHooksSteps(spec),
    // 8. the new root, its propagation, names and sysctls (before the masks and read-only paths, which make
    // /proc/sys read-only)
    ...pivotRootSteps(c),
    ...rootfsPropagationAfterPivotSteps(c, false),
    ...hostnameSteps(spec),
    ...domainnameSteps(spec),
    ...sysctlSteps(spec),
    // 9. read-only tmpfs mounts (mounted writable until now), masked and read-only paths, read-only root
    ...m.readonly,
    ...maskedPathsSteps(spec),
    ...readonlyPathsSteps(spec),
    ...rootReadonlySteps(spec),
    ...rootfsPropagationAfterPivotSteps(c, true),
    // 10. the process
    ...p.setup,
    // 11. wait for start, then exec
    step('READY'), step('WAIT_START', u64(o.fds.listen)),
    ...startContainerHooksSteps(spec),
    ...execSteps(spec, p),
  ];
  return { steps, ns, createHooks: createHooksOnSync(spec) };
}

/**
 * linux.namespaces: join by path (user first), then create (user first, then all others in one UNSHARE). The
 * cgroup namespace comes after runts has put the init into its cgroup (cgroupNamespaceSteps), so that cgroup is
 * its root.
 */
function namespacesSteps(ns: NsPlan): Step[] {
  const s: Step[] = [];
  for (const j of ns.join) {
    s.push(step('SETNS', str(j.path), u64(CLONE[j.type])));
    // as runc: root of the joined user namespace (the host's ids are not mapped there: what the stub creates
    // would fail with EOVERFLOW)
    if (j.type === 'user') s.push(step('SETID_ROOT'));
  }
  if (ns.create.has('user')) s.push(step('UNSHARE', u64(CLONE.user)), step('USERMAP'), step('SETID_ROOT'));
  let flags = 0;
  for (const t of ns.create) if (t !== 'user' && t !== 'cgroup') flags |= CLONE[t];
  if (flags) s.push(step('UNSHARE', u64(flags)));
  return s;
}

/** linux.timeOffsets: written to the new time namespace before any process is in it (before FORK). */
function timeOffsetsSteps({ spec, ns }: PlanCtx): Step[] {
  if (!ns.create.has('time')) return [];
  const offs = timeOffsets(spec);
  return offs ? [step('TIMENS_OFFSETS', str(offs))] : [];
}

/** linux.netDevices: runts has moved the devices by now (at PID): their addresses and state, from inside. */
function netDevicesSteps({ spec, ns, facts, o }: PlanCtx): Step[] {
  const nd = netDevices(spec, ns, facts).map((d) => {
    const addrs = o.netAddrs?.[d.host];
    // a host fact (the devices in runts' network namespace), not a rule of the config
    if (!addrs) throw new RuntimeError(`linux.netDevices: device "${d.host}" does not exist in runts' network namespace`);
    return { ...d, addrs };
  });
  return netDeviceSteps(nd);
}

/**
 * The init is in its cgroups: its CPU affinity is reset to every CPU the cpuset allows, not runts' own (as runc);
 * process.execCPUAffinity is for exec'd processes only (config.md).
 */
function initCPUAffinitySteps(): Step[] {
  return [affinityPlan(undefined).after!];
}

/** linux.namespaces' cgroup namespace, created once the init is in its cgroup. */
function cgroupNamespaceSteps(ns: NsPlan): Step[] {
  return ns.create.has('cgroup') ? [step('UNSHARE', u64(CLONE.cgroup))] : [];
}

/**
 * linux.rootfsPropagation (default rslave) as given to / before the root switch; unbindable: private now (an
 * unbindable rootfs cannot be bound onto itself), unbindable after pivot_root.
 */
function rootPropagation(spec: Spec): number {
  const rp = spec.linux?.rootfsPropagation;
  if (!rp) return MS.SLAVE | MS.REC;
  return rp.includes('unbindable') ? (PROPAGATION[rp] & MS.REC) | MS.PRIVATE : PROPAGATION[rp];
}

/**
 * linux.rootfsPropagation, runc's prepareRoot: the configured propagation on / first, so that a recursive value
 * reaches the copies of the host's mounts below the rootfs (rshared keeps them peers of the host's: Kubernetes'
 * Bidirectional volumes). The mount holding the rootfs may be shared, which pivot_root refuses and through which
 * the rootfs bind would show on the host: it becomes a slave (runc makes it private; a slave still receives the
 * host's mounts, and so does the rootfs bound from it, for slave; private is applied to the new / after
 * pivot_root). A shared / itself becomes a slave too (MS_MOVE onto a shared / would propagate the rootfs to its
 * peers); mounts below / keep the propagation just set. Without a mount namespace nothing of the host's is touched.
 */
function rootfsPropagationSteps({ facts, mntns, rootProp }: PlanCtx): Step[] {
  if (!mntns) return [];
  const s = [step('MOUNT', str(''), str('/'), str(''), u64(rootProp), str(''), u64(0))];
  if (!(rootProp & MS.REC) || (rootProp & MS.SHARED)) {
    const parent = mountPointOf(facts.mounts, facts.rootfsReal);
    if (rootProp & MS.SHARED && parent !== '/') s.push(step('MOUNT', str(''), str('/'), str(''), u64(MS.SLAVE), str(''), u64(0)));
    s.push(step('MOUNT', str(''), str(parent), str(''), u64(MS.SLAVE), str(''), u64(0)));
  }
  return s;
}

/**
 * root.path: bound onto itself (pivot_root needs a mount), and made the stub's root for path resolution (ROOTFS).
 * Without a mount namespace, in the runtime's mount namespace, "/" and the host's mounts are never touched: the
 * rootfs is bound onto a directory of the state dir and made private at once, so every mount below is a mount of
 * this tree only (nothing propagates to or from the host) and delete removes them all (container/hostmounts.ts).
 */
function rootPathSteps({ o, mntns }: PlanCtx): Step[] {
  if (mntns) {
    return [step('MOUNT', str(o.rootfs), str(o.rootfs), str(''), u64(MS.BIND | MS.REC), str(''), u64(0)), step('ROOTFS', str(o.rootfs))];
  }
  // not a rule of the config: create always passes the directory
  if (!o.hostRoot) throw new RuntimeError('linux.namespaces: a container without a mount namespace needs a state directory');
  return [
    step('MOUNT', str(o.rootfs), str(o.hostRoot), str(''), u64(MS.BIND | MS.REC), str(''), u64(0)),
    step('MOUNT', str(''), str(o.hostRoot), str(''), u64(MS.PRIVATE | MS.REC), str(''), u64(0)),
    step('ROOTFS', str(o.hostRoot)),
  ];
}

/** mounts: what mountSteps (mounts.ts) needs from the namespaces, the host's cgroup hierarchies and the LSMs. */
function mountsPlan({ spec, facts, o, ns, userns, rootProp }: PlanCtx): MountSteps {
  const linux = spec.linux ?? {};
  // a cgroup mount needs the host's hierarchies
  let cgroupV1: MountContext['cgroupV1'] = [];
  let cgroupBinds: MountContext['cgroupBinds'];
  let cgroup2Bind: string | undefined;
  if ((spec.mounts ?? []).some((m) => m.type === 'cgroup')) {
    const v1 = facts.cgroupV1;
    if (!v1.length && userns && !ns.create.has('cgroup')) cgroup2Bind = facts.cgroup2Mount;
    cgroupV1 = v1.map((h) => ({ name: h.name, options: h.options }));
    if (v1.length && !ns.create.has('cgroup') && o.id) {
      cgroupBinds = v1.map((h) => ({ name: h.name, source: h.dir! }))
        .filter((b) => !o.cgroupV1Usable || o.cgroupV1Usable.includes(b.name));
    }
  }
  // the clones of bind sources get the propagation the root's copy gives the other mounts
  const bindTrees = userns && ns.create.has('mount') && !o.unprivileged ? ((rootProp & MS.PRIVATE) ? MS.PRIVATE : MS.SLAVE) : undefined;
  const treePropagation = (rootProp & MS.PRIVATE) ? MS.PRIVATE : MS.SLAVE;
  const joinedUser = ns.join.find((j) => j.type === 'user');
  const containerUserns = ns.create.has('user')
    ? { uidMap: idMapText(linux.uidMappings ?? []), gidMap: idMapText(linux.gidMappings ?? []), path: '' }
    : joinedUser ? { uidMap: '', gidMap: '', path: joinedUser.path } : undefined;
  // sysfs needs a network namespace owned by the user namespace: with the runtime's own (none listed), /sys is
  // bound instead (runc's fallback for rootless containers); a joined one is taken to be the container's
  const sysfsBind = userns && !ns.create.has('network') && !ns.join.some((j) => j.type === 'network');
  return mountSteps(spec, { bundle: o.bundle, userns, cgroupV1, cgroupBinds, mountContext: mountContext(spec, facts), bindTrees, treePropagation, containerUserns, sysfsBind, cgroup2Bind });
}

/**
 * linux.devices, with the default devices and the /dev symlinks when /dev is not bound from the host; in a user
 * namespace (the container's, or the one runts runs in) the host's nodes are bound instead of made.
 */
function devicesSteps({ spec, facts, o, userns }: PlanCtx, m: MountSteps): Step[] {
  const bind = userns || !!o.inUserNs;
  if (!m.bindDev) return [...deviceSteps(spec, bind, true), ...devSymlinks(facts.kcore)];
  return spec.linux?.devices?.length ? deviceSteps(spec, bind, false) : [];
}

/** process.cwd: made in the rootfs when missing (entered by the process steps). */
function cwdSteps(spec: Spec): Step[] {
  return [step('MKDIR', str(spec.process!.cwd), u64(0o755))];
}

/** process.terminal with a read-only /dev: its /dev/console mount point made now (runc's order: ro after the console). */
function devConsoleSteps({ spec }: PlanCtx, m: MountSteps): Step[] {
  return m.roDev && spec.process!.terminal ? [step('MKNOD', str('/dev/console'), u64(0o100600), u64(0), u64(0), u64(0))] : [];
}

/** hooks.prestart and hooks.createRuntime: run by runts in its own namespaces, when the stub says SYNC. */
function createHooksOnSync(spec: Spec): boolean {
  const hooks = spec.hooks ?? {};
  return !!(hooks.prestart?.length || hooks.createRuntime?.length);
}

function createRuntimeHooksSteps(spec: Spec): Step[] {
  return createHooksOnSync(spec) ? [step('SYNC', u64(SyncCode.CREATE_HOOKS))] : [];
}

/** hooks.createContainer: in the container's namespaces, before the root switch. */
function createContainerHooksSteps(spec: Spec): Step[] {
  return (spec.hooks?.createContainer ?? []).map((h, i) => hookStep(h, `createContainer hook #${i}`));
}

/**
 * The root switch: pivot_root; with --no-pivot MS_MOVE and chroot, after covering the host's full procfs and
 * sysfs (runc's msMoveRoot); without a mount namespace chroot, whatever --no-pivot says (MS_MOVE onto the host's
 * / is out of question).
 */
function pivotRootSteps({ facts, o, mntns }: PlanCtx): Step[] {
  if (!mntns) return [step('CHROOT', str(''))];
  if (!o.noPivot) return [step('PIVOT_ROOT')];
  return [...revealingMounts(facts.mounts, facts.rootfsReal).map((p) => step('UMOUNT', str(p), u64(UmountHow.COVER))), step('MOVE_ROOT')];
}

/**
 * linux.rootfsPropagation on the new / (runc: right after pivot_root); unbindable (`unbindable` true) after the
 * masked and read-only paths, which bind /dev/null and the paths themselves (a bind from an unbindable mount
 * fails). Without a mount namespace the root is private already.
 */
function rootfsPropagationAfterPivotSteps({ spec, mntns }: PlanCtx, unbindable: boolean): Step[] {
  const rp = spec.linux?.rootfsPropagation;
  if (!mntns || !rp || rp.includes('unbindable') !== unbindable) return [];
  return [step('MOUNT', str(''), str('/'), str(''), u64(PROPAGATION[rp]), str(''), u64(0))];
}

/** hostname (checkNamespaces: in a new uts namespace). */
function hostnameSteps(spec: Spec): Step[] {
  return spec.hostname ? [step('HOSTNAME', str(spec.hostname))] : [];
}

/** domainname (checkNamespaces: in a new uts namespace). */
function domainnameSteps(spec: Spec): Step[] {
  return spec.domainname ? [step('DOMAINNAME', str(spec.domainname))] : [];
}

/** linux.sysctl: written under /proc/sys (checkSysctl: namespaced keys, in the container's namespaces). */
function sysctlSteps(spec: Spec): Step[] {
  return Object.entries(spec.linux?.sysctl ?? {}).map(([k, v]) => step('WRITE_FILE', str('/proc/sys/' + k.replace(/\./g, '/')), str(v)));
}

/** linux.maskedPaths: /dev/null over a file, an empty read-only tmpfs over a directory. */
function maskedPathsSteps(spec: Spec): Step[] {
  return (spec.linux?.maskedPaths ?? []).map((p) => step('MASK', str(p)));
}

/** linux.readonlyPaths: bound onto themselves read-only. */
function readonlyPathsSteps(spec: Spec): Step[] {
  return (spec.linux?.readonlyPaths ?? []).map((p) => step('READONLY', str(p)));
}

/** root.readonly: / remounted read-only, keeping the flags the kernel locks. */
function rootReadonlySteps(spec: Spec): Step[] {
  return spec.root?.readonly ? [step('MOUNT', str(''), str('/'), str(''), u64(MS.REMOUNT | MS.BIND | MS.RDONLY), str(''), u64(How.KEEP_LOCKED))] : [];
}

/** hooks.startContainer: in the container, after start, right before the process is executed. */
function startContainerHooksSteps(spec: Spec): Step[] {
  return (spec.hooks?.startContainer ?? []).map((h, i) => hookStep(h, `startContainer hook #${i}`));
}
