// create: spawn the init stub from a sealed memfd, send it the plan, and answer it over the sync socket
// until the container is set up and waits for start (protocol in docs/ARCHITECTURE.md).
import { O_CREAT, O_RDONLY, O_TRUNC, O_WRONLY, closeFd, isDirMode, makeDir, openFile, removeTree, statFile, writeText } from '../io';
import { join as pathJoin, resolve } from '../paths';
import { RuntimeError, errnoText } from '../errors';
import { checkRootPath, planProblems, throwFirst } from '../config/rules';
import { logWarn } from '../log';
import { JoinPlan, SavedCgroup, cgroupDirs, destroyCgroups, joinCgroups, joinPlan, madeOwnCgroup, prepareCgroups, rootlessV1Hierarchies, signalAll, startSystemdCgroups } from '../cgroups';
import { loadConfig, resolveBundle } from '../config/load';
import type { Spec } from '../config/types';
import { buildPlan } from '../plan/build';
import { SyncCode } from '../plan/ops';
import { hasMountNs, planNamespaces } from '../plan/namespaces';
import { nsFacts } from '../plan/facts';
import { checkUnprivileged, isRootless, rootlessEuid, runtimeInUserNs, unprivilegedFacts } from '../rootless';
import { deniesSetgroups, writeIdMaps } from './usermap';
import { hostRootOf, removeHostMounts } from './hostmounts';
import { NetDevice, netDevices } from '../plan/netdev';
import type { NetAddr } from '../plan/netdev';
import { gatherFacts } from './facts';
import { loadNative } from '../native';
import { runHooks, runHooksWarn } from './hooks';
import { checkIntelRdt } from './rdt';
import { closeQuiet, stubFds } from './stub';
import { Launched, checkPreserved, connectConsole, killProcess, launchStub } from './launchstub';
import { OCI_VERSION, Saved, containerDir, ensureRoot, hookState, procStat, writePidFile, writeSaved } from './state';

export interface CreateOptions {
  id: string;
  root: string;
  bundle?: string;
  pidFile?: string;
  consoleSocket?: string;
  /** an already connected console socket fd (run -t without --console-socket) */
  consoleFd?: number;
  noPivot?: boolean;
  preserveFds?: number;
  /** --pidfd-socket: where a pidfd of the init goes */
  pidfdSocket?: string;
  /** --systemd-cgroup: the cgroup is a transient systemd scope */
  systemdCgroup?: boolean;
  /** config.json of `bundle` (a resolved path), already read and validated by loadConfig (run: read once) */
  spec?: Spec;
}

export interface Created {
  saved: Saved;
  dir: string;
}

function rootfsOf(spec: Spec, bundle: string): string {
  throwFirst(checkRootPath(spec, bundle));
  const rootfs = resolve(bundle, spec.root!.path);
  let st: { mode: number };
  try {
    st = statFile(rootfs);
  } catch (e) {
    throw new RuntimeError(`root.path: stat ${rootfs}: ${errnoText(e)}`);
  }
  if (!isDirMode(st.mode)) throw new RuntimeError(`root.path: ${rootfs} is not a directory`);
  return rootfs;
}

/** LISTEN_FDS handed to us by socket activation, as runc honours them. */
function listenFds(): number {
  const n = Number(process.env.LISTEN_FDS ?? '');
  if (!Number.isInteger(n) || n <= 0) return 0;
  if (process.env.LISTEN_PID && Number(process.env.LISTEN_PID) !== process.pid) return 0;
  return n;
}

/** How long a failed create waits for the killed init to exit (before its cgroups are removed). */
const INIT_EXIT_WAIT_MS = 5000;

/** Kill what create started (the init when it got that far: launchStub kills it when the launch itself fails) and remove the state directory. */
function cleanup(dir: string, init: Launched | undefined, cgroup: SavedCgroup | undefined) {
  // a cgroup that existed before (empty: prepareCgroups checked) is not ours to signal; the init dies by its pidfd
  if (madeOwnCgroup(cgroup)) signalAll(cgroup, 9);
  if (init) killProcess(init.pid, init.pidfd, INIT_EXIT_WAIT_MS, false);
  try { destroyCgroups(cgroup); } catch (e) { logWarn((e as Error).message); }
  try {
    removeHostMounts(dir);
  } catch (e) {
    logWarn(`${(e as Error).message}; ${dir} is kept for delete --force`);
    return;
  }
  removeTree(dir);
}

export async function createContainer(o: CreateOptions): Promise<Created> {
  const native = loadNative();
  const bundle = o.spec ? o.bundle! : resolveBundle(o.bundle);
  const spec = o.spec ?? loadConfig(bundle);
  const rootfs = rootfsOf(spec, bundle);
  const nListen = listenFds();
  const preserve = nListen + (o.preserveFds ?? 0);
  const terminal = !!spec.process?.terminal;
  const hasConsole = terminal && (o.consoleSocket !== undefined || o.consoleFd !== undefined);
  const fds = stubFds({ preserve, listen: true, console: hasConsole });
  const extraEnv = nListen ? [`LISTEN_FDS=${nListen}`, 'LISTEN_PID=1'] : [];
  checkIntelRdt(spec.linux?.intelRdt);
  const dir = containerDir(o.root, o.id);
  // the host facts the planner decides from (container/facts.ts; read when it needs them)
  const facts = gatherFacts(spec, { rootfs, id: o.id });
  // every rule of config/rules.ts, once: the planner below assumes a config they accept
  throwFirst(planProblems(spec, bundle, nsFacts(facts), { systemdCgroup: o.systemdCgroup, noPivot: o.noPivot, console: hasConsole }));
  const devs = netDevices(spec, planNamespaces(spec), facts);
  if (isRootless()) checkRootless(spec, !!o.systemdCgroup);
  const netAddrs = readNetAddrs(devs);
  const cgroupV1Usable = isRootless() && (spec.mounts ?? []).some((m) => m.type === 'cgroup') ? rootlessV1Hierarchies(spec, o.id) : undefined;
  const planWith = (cgroupJoin: JoinPlan) => buildPlan(spec, facts, { id: o.id, bundle, rootfs, noPivot: !!o.noPivot, fds, extraEnv,
    hostRoot: hostRootOf(dir), netAddrs, unprivileged: rootlessEuid(), inUserNs: runtimeInUserNs(), cgroupV1Usable, cgroupJoin });
  // planned before anything is made (a bad config leaves nothing behind), with the cgroups the stub will join
  const mayForkInto = stubMayForkInto(spec);
  const plannedJoin = joinPlan(cgroupDirs(spec, o.id, !!o.systemdCgroup), mayForkInto);
  let plan = planWith(plannedJoin);
  checkPreserved(preserve);

  ensureRoot(o.root);
  try {
    makeDir(dir, 0o711);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') throw new RuntimeError(`container with id exists: ${o.id}`);
    throw new RuntimeError(`mkdir ${dir}: ${errnoText(e)}`);
  }
  const lockFd = openFile(pathJoin(dir, 'lock'), O_WRONLY | O_CREAT | O_TRUNC, 0o600);
  // no mount namespace: the container's mounts go below this directory (hostmounts.ts); made before any of them
  if (!hasMountNs(plan.ns, facts)) makeDir(hostRootOf(dir), 0o755);
  native.flock(lockFd, 'ex');

  let init: Launched | undefined;
  let listenFd: number | undefined;
  let consoleFd: number | undefined;
  let cgroup: SavedCgroup | undefined;
  let hooksStarted = false;
  const base = { id: o.id, bundle, annotations: spec.annotations };
  try {
    listenFd = native.unixListen(pathJoin(dir, "exec.sock"), 1) as number;
    if (hasConsole) consoleFd = o.consoleFd ?? connectConsole(o.consoleSocket!);
    // the cgroups exist before the init does; the stub's start-up overlaps the kernel's first-migration wait
    cgroup = prepareCgroups(spec, o.id, dir, { systemd: !!o.systemdCgroup, rootless: isRootless() });
    const join = joinPlan(cgroup, mayForkInto);
    // rootless: the hierarchies whose directory could not be made are dropped; the stub must not join those
    if (!sameJoin(join, plannedJoin)) plan = planWith(join);
    const created = new Date().toISOString();
    init = await launchStub({
      steps: plan.steps, fds, listenFd, consoleFd, root: o.root, until: 'ready', failWaitMs: INIT_EXIT_WAIT_MS,
      pidfdSocket: o.pidfdSocket ? { path: o.pidfdSocket, message: 'standard' } : undefined,
      seccomp: spec.linux?.seccomp,
      state: (pid) => hookState({ ...base, pid }, 'creating'),
      onUsermap: (childPid) => {
        writeIdMaps(childPid, spec, rootlessEuid());
        // unprivileged: the planner left it to us (the dumpable stub's file is the caller's now); FORK's child
        // inherits it
        const adj = spec.process?.oomScoreAdj;
        if (rootlessEuid() && adj !== undefined) {
          try {
            writeText(`/proc/${childPid}/oom_score_adj`, String(adj), O_TRUNC);
          } catch (e) {
            throw new RuntimeError(`process.oomScoreAdj: write /proc/${childPid}/oom_score_adj: ${errnoText(e)}`);
          }
        }
      },
      onPid: (pid) => {
        // into its cgroups while it waits, before it unshares the cgroup namespace or runs anything
        joinCgroups(pid, join.byRuntime);
        moveNetDevices(devs, pid);
      },
      onSync: (code, pid) => {
        if (code !== SyncCode.CREATE_HOOKS) throw new RuntimeError(`init: unexpected sync code ${code}`);
        const st = hookState({ ...base, pid }, 'creating');
        hooksStarted = true;
        runHooks(spec.hooks?.prestart, 'prestart', st);
        runHooks(spec.hooks?.createRuntime, 'createRuntime', st);
        return st;
      },
      onChild: (c) => {
        // the systemd driver: the scope starts with the stub in it, which is waiting for its plan
        if (cgroup?.systemd) startSystemdCgroups(cgroup, spec, c.pid, dir);
      },
    });

    const initPid = init.pid;
    const st = procStat(initPid);
    if (!st) throw new RuntimeError('container init exited before it was ready');
    const saved: Saved = {
      ociVersion: OCI_VERSION,
      id: o.id,
      pid: initPid,
      startTime: st.startTime,
      bundle,
      rootfs,
      created,
      owner: '',
      annotations: spec.annotations,
      cgroup,
      config: spec,
    };
    writeSaved(dir, saved);
    if (o.pidFile) writePidFile(o.pidFile, initPid);
    closeQuiet(init.pidfd);
    return { saved, dir };
  } catch (e) {
    cleanup(dir, init, cgroup);
    // a failing create-time hook: the lifecycle goes on with destroy and the poststop hooks (runtime.md)
    if (hooksStarted) runHooksWarn(spec.hooks?.poststop, 'poststop', hookState({ ...base, pid: 0 }, 'stopped'));
    throw e;
  } finally {
    closeQuiet(listenFd);
    if (o.consoleFd === undefined) closeQuiet(consoleFd);
    closeQuiet(lockFd);
  }
}

/**
 * CLONE_INTO_CGROUP is checked against the forking process's credentials and cgroup namespace: the stub may use
 * it unless the container gets or joins a user namespace (the host's cgroup files are not its own there) or
 * joins a cgroup namespace by path (the target may be outside it).
 */
function stubMayForkInto(spec: Spec): boolean {
  return !(spec.linux?.namespaces ?? []).some((n) => n.type === 'user' || (n.type === 'cgroup' && n.path));
}

function sameJoin(a: JoinPlan, b: JoinPlan): boolean {
  return a.forkInto === b.forkInto && a.tasks.join('\n') === b.tasks.join('\n');
}

/** The addresses of each device of linux.netDevices in runts' network namespace (undefined: no such device). */
function readNetAddrs(devs: NetDevice[]): Record<string, NetAddr[] | undefined> {
  const out: Record<string, NetAddr[] | undefined> = {};
  if (!devs.length) return out;
  const native = loadNative();
  for (const d of devs) {
    try {
      out[d.host] = native.netLinkAddrs(d.host).addrs;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENODEV') throw new RuntimeError(`linux.netDevices: ${errnoText(e)}`);
    }
  }
  return out;
}

/**
 * Move the devices into the init's network namespace, renamed (runc's devChangeNetNamespace, from runts' side,
 * once the init has its namespace and before it goes on). They are never moved back: when the namespace goes, a
 * virtual device goes with it and a physical one returns to the host's initial namespace (config-linux.md).
 */
function moveNetDevices(devs: NetDevice[], pid: number): void {
  if (!devs.length) return;
  const native = loadNative();
  const nsFd = openFile(`/proc/${pid}/ns/net`, O_RDONLY);
  try {
    for (const d of devs) {
      try {
        native.netLinkMove(d.host, d.name, nsFd);
      } catch (e) {
        const as = d.name !== d.host ? ` as "${d.name}"` : '';
        throw new RuntimeError(`linux.netDevices.${d.host}: move into the container's network namespace${as}: ${errnoText(e)}`);
      }
    }
  } finally {
    closeFd(nsFd);
  }
}

/**
 * What a rootless create cannot do, refused before anything is made, with the field named: no user namespace
 * (an unprivileged user needs one for every mount and id change; root of a user namespace, rootless podman's,
 * may run without a new one), an oomScoreAdj or rlimit above what the caller has, supplementary groups where
 * setgroups is denied.
 */
function checkRootless(spec: Spec, systemd: boolean): void {
  const linux = spec.linux ?? {};
  if (systemd) {
    throw new RuntimeError('--systemd-cgroup: the systemd cgroup driver is not supported rootless by runts (it talks to the system bus); use the cgroupfs driver');
  }
  if (rootlessEuid()) {
    if (!(linux.namespaces ?? []).some((n) => n.type === 'user')) {
      throw new RuntimeError('linux.namespaces: a rootless container needs a user namespace (runts spec --rootless writes one)');
    }
    if (deniesSetgroups(spec, true, process.getegid!()) && spec.process?.user?.additionalGids?.length) {
      throw new RuntimeError('process.user.additionalGids: setgroups is denied in a user namespace whose gid map is the caller\'s own gid only; map a range from /etc/subgid (newgidmap) to use additional groups');
    }
  }
  checkUnprivileged(spec.process, unprivilegedFacts());
}
