// config.json → the ordered steps of the launch plan (docs/ARCHITECTURE.md, "Order of steps").
import { RuntimeError } from '../errors';
import type { Hook, Spec } from '../config/types';
import { How, SyncCode, UmountHow } from './ops';
import { HostMount, revealingMounts } from './mountinfo';
import { Step, step, str, strv, u64, u64v } from './encode';
import { CLONE, NsPlan, hasMountNs, idMapText, planNamespaces, timeOffsets } from './namespaces';
import { MS, MountContext, PROPAGATION, mountSteps } from './mounts';
import { deviceSteps, devSymlinks } from './devices';
import { processSteps } from './process';
import { mountContext } from './lsm';
import { seccompPlan, seccompStep } from './seccomp';
import { affinityPlan } from './procfields';
import { NetAddr, netDeviceSteps, netDevices } from './netdev';
import type { HostFacts } from './facts';
import { CgroupJoin, cgroupJoinSteps } from './cgroups';

export interface LaunchFds {
  /** number of fds passed through to the container (3 .. 3+preserve-1) */
  preserve: number;
  sync: number;
  listen: number;
  memfd: number;
  /** console socket, when process.terminal */
  console?: number;
}

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

export function buildPlan(spec: Spec, facts: HostFacts, o: PlanOptions): Plan {
  // the config passed config/rules.ts's planProblems (create runs them first): nothing here checks it again
  const proc = spec.process!;
  const linux = spec.linux ?? {};
  const ns = planNamespaces(spec);
  const userns = ns.create.has('user') || ns.join.some((j) => j.type === 'user');
  const s: Step[] = [];
  const cgroupJoin = cgroupJoinSteps(o.cgroupJoin);

  // 0. the v1 cgroups, before anything else (the cgroup2 one at FORK)
  s.push(...cgroupJoin.tasks);
  // 1. file descriptors
  s.push(step('CLOSE', u64(o.fds.memfd)));
  s.push(step('CLOEXEC_FROM', u64(3 + o.fds.preserve)));
  // the stub's first process, as root of the host's user namespace (FORK's child inherits the value): in a new
  // user namespace the non-dumpable stub's /proc/self files belong to the host's root (runc writes it there too)
  // (unprivileged: that file is not the caller's to write; runts writes /proc/<stub>/oom_score_adj at USERMAP,
  // while the stub is dumpable)
  if (proc.oomScoreAdj !== undefined && !o.unprivileged) s.push(step('WRITE_FILE', str('/proc/self/oom_score_adj'), str(String(proc.oomScoreAdj))));

  // bind sources opened here, with the host's credentials, when a user namespace is entered (mounts below)
  const sourcesAt = s.length;

  // 2. namespaces: join by path (user first), then create
  for (const j of ns.join) {
    s.push(step('SETNS', str(j.path), u64(CLONE[j.type])));
    // as runc: root of the joined user namespace (the host's ids are not mapped there: what the stub creates
    // would fail with EOVERFLOW)
    if (j.type === 'user') s.push(step('SETID_ROOT'));
  }
  if (ns.create.has('user')) {
    s.push(step('UNSHARE', u64(CLONE.user)), step('USERMAP'), step('SETID_ROOT'));
  }
  let flags = 0;
  // the cgroup namespace comes after runts has put the init into its cgroup (below), so that cgroup is its root
  for (const t of ns.create) if (t !== 'user' && t !== 'cgroup') flags |= CLONE[t];
  if (flags) s.push(step('UNSHARE', u64(flags)));
  if (ns.create.has('time')) {
    const offs = timeOffsets(spec);
    if (offs) s.push(step('TIMENS_OFFSETS', str(offs)));
  }

  // 3. the container init
  s.push(...cgroupJoin.forkInto, step('FORK'), step('WAIT_PARENT'));
  // runts has moved the network devices by now (at PID): their addresses and state, from inside
  const nd = netDevices(spec, ns, facts).map((d) => {
    const addrs = o.netAddrs?.[d.host];
    // a host fact (the devices in runts' network namespace), not a rule of the config
    if (!addrs) throw new RuntimeError(`linux.netDevices: device "${d.host}" does not exist in runts' network namespace`);
    return { ...d, addrs };
  });
  s.push(...netDeviceSteps(nd));
  // the init is in its cgroups: its CPU affinity is reset to every CPU the cpuset allows, not runts' own (as
  // runc); execCPUAffinity is for exec'd processes only (config.md)
  s.push(affinityPlan(undefined).after!);
  if (ns.create.has('cgroup')) s.push(step('UNSHARE', u64(CLONE.cgroup)));

  // 4. rootfs
  // runc's prepareRoot: the configured propagation on / first (default rslave), so that a recursive value reaches
  // the copies of the host's mounts below the rootfs (rshared keeps them peers of the host's: Kubernetes'
  // Bidirectional volumes)
  let rootProp = MS.SLAVE | MS.REC;
  const rp = linux.rootfsPropagation;
  if (rp) {
    // unbindable: private now (an unbindable rootfs cannot be bound onto itself), unbindable after pivot_root
    rootProp = rp.includes('unbindable') ? (PROPAGATION[rp] & MS.REC) | MS.PRIVATE : PROPAGATION[rp];
  }
  const mntns = hasMountNs(ns, facts);
  if (!mntns) {
    // the runtime's mount namespace: "/" and the host's mounts are never touched. The rootfs is bound onto a
    // directory of the state dir and made private at once, so every mount below is a mount of this tree only
    // (nothing propagates to or from the host) and delete removes them all (container/hostmounts.ts).
    // not a rule of the config: create always passes the directory
    if (!o.hostRoot) throw new RuntimeError('linux.namespaces: a container without a mount namespace needs a state directory');
    s.push(step('MOUNT', str(o.rootfs), str(o.hostRoot), str(''), u64(MS.BIND | MS.REC), str(''), u64(0)));
    s.push(step('MOUNT', str(''), str(o.hostRoot), str(''), u64(MS.PRIVATE | MS.REC), str(''), u64(0)));
  } else s.push(step('MOUNT', str(''), str('/'), str(''), u64(rootProp), str(''), u64(0)));
  // the mount holding the rootfs may be shared, which pivot_root refuses and through which the bind below would
  // show on the host: it becomes a slave (runc makes it private; a slave still receives the host's mounts, and so
  // does the rootfs bound from it, for slave; private is applied to the new / after pivot_root). A shared / itself
  // becomes a slave too (MS_MOVE onto a shared / would propagate the rootfs to its peers); mounts below / keep the
  // propagation just set
  if (mntns && (!(rootProp & MS.REC) || (rootProp & MS.SHARED))) {
    const parent = mountPointOf(facts.mounts, facts.rootfsReal);
    if (rootProp & MS.SHARED && parent !== '/') s.push(step('MOUNT', str(''), str('/'), str(''), u64(MS.SLAVE), str(''), u64(0)));
    s.push(step('MOUNT', str(''), str(parent), str(''), u64(MS.SLAVE), str(''), u64(0)));
  }
  if (mntns) s.push(step('MOUNT', str(o.rootfs), str(o.rootfs), str(''), u64(MS.BIND | MS.REC), str(''), u64(0)));
  s.push(step('ROOTFS', str(mntns ? o.rootfs : o.hostRoot!)));

  // 5. mounts, devices, cwd
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
  const m = mountSteps(spec, { bundle: o.bundle, userns, cgroupV1, cgroupBinds, mountContext: mountContext(spec, facts), bindTrees, treePropagation, containerUserns, sysfsBind, cgroup2Bind });
  s.splice(sourcesAt, 0, ...m.sources);
  s.push(...m.steps);
  if (!m.bindDev) {
    s.push(...deviceSteps(spec, userns || !!o.inUserNs, true));
    s.push(...devSymlinks(facts.kcore));
  } else if (linux.devices?.length) {
    s.push(...deviceSteps(spec, userns || !!o.inUserNs, false));
  }
  s.push(step('MKDIR', str(proc.cwd), u64(0o755)));
  // a read-only /dev is made read-only after the console is set up (runc's order): its mount point first
  if (m.roDev && proc.terminal) s.push(step('MKNOD', str('/dev/console'), u64(0o100600), u64(0), u64(0), u64(0)));

  // 6-7. create-time hooks
  const hooks = spec.hooks ?? {};
  const createHooks = !!(hooks.prestart?.length || hooks.createRuntime?.length);
  if (createHooks) s.push(step('SYNC', u64(SyncCode.CREATE_HOOKS)));
  (hooks.createContainer ?? []).forEach((h, i) => s.push(hookStep(h, `createContainer hook #${i}`)));

  // 8. the new root
  if (!mntns) {
    // without a mount namespace: chroot, whatever --no-pivot says (MS_MOVE onto the host's / is out of question)
    s.push(step('CHROOT', str('')));
  } else if (o.noPivot) {
    // no full procfs/sysfs of the host may stay in the container's mount namespace (runc's msMoveRoot)
    for (const p of revealingMounts(facts.mounts, facts.rootfsReal)) s.push(step('UMOUNT', str(p), u64(UmountHow.COVER)));
    s.push(step('MOVE_ROOT'));
  } else {
    s.push(step('PIVOT_ROOT'));
  }
  // the configured propagation on the new / (runc: right after pivot_root); unbindable after the masked and
  // read-only paths, which bind /dev/null and the paths themselves (a bind from an unbindable mount fails).
  // Without a mount namespace the root is private already.
  const finalProp = mntns && rp && step('MOUNT', str(''), str('/'), str(''), u64(PROPAGATION[rp]), str(''), u64(0));
  if (finalProp && !rp.includes('unbindable')) s.push(finalProp);
  // names and sysctls: before the masks and read-only paths, which make /proc/sys read-only
  if (spec.hostname) s.push(step('HOSTNAME', str(spec.hostname)));
  if (spec.domainname) s.push(step('DOMAINNAME', str(spec.domainname)));
  for (const [k, v] of Object.entries(linux.sysctl ?? {})) {
    s.push(step('WRITE_FILE', str('/proc/sys/' + k.replace(/\./g, '/')), str(v)));
  }

  // 9. read-only tmpfs mounts (mounted writable until now), masked and read-only paths, read-only root
  s.push(...m.readonly);
  for (const p of linux.maskedPaths ?? []) s.push(step('MASK', str(p)));
  for (const p of linux.readonlyPaths ?? []) s.push(step('READONLY', str(p)));
  if (spec.root?.readonly) s.push(step('MOUNT', str(''), str('/'), str(''), u64(MS.REMOUNT | MS.BIND | MS.RDONLY), str(''), u64(How.KEEP_LOCKED)));
  if (finalProp && rp.includes('unbindable')) s.push(finalProp);

  // 10. the process
  const sc = linux.seccomp !== undefined ? seccompPlan(linux.seccomp) : undefined;
  const p = processSteps(spec, {
    facts, consoleFd: o.fds.console, mountConsole: true, extraEnv: o.extraEnv, readyBeforeExec: true,
    seccomp: sc && { step: seccompStep(sc), notify: sc.notify },
  });
  s.push(...p.setup);

  // 11. wait for start, then exec
  s.push(step('READY'), step('WAIT_START', u64(o.fds.listen)));
  (hooks.startContainer ?? []).forEach((h, i) => s.push(hookStep(h, `startContainer hook #${i}`)));
  s.push(...p.beforeExec, step('EXEC', strv(proc.args!), strv(p.env)));
  return { steps: s, ns, createHooks };
}
