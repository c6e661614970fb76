// cgroups: what the rest of runts uses. The host layout (v1, hybrid, v2) is detected once per call; the v1 and
// v2 writers, the layout parser and the stats reader are loaded only by the commands that need them.
import { RuntimeError } from '../errors';
import { loadNative } from '../native';
import { W_OK, canAccess, exists, readOptText, removeEmptyDir, sleepMs, subdirs, writeText, O_TRUNC } from '../io';
import { basename, dirname, join } from '../paths';
import type { Spec } from '../config/types';
import { makeDir, missingDirs, procs, readOpt, writeFile } from './files';
import { destroyCgroups } from './remove';
import { controllerDir, freezeFile, frozenIn, type Resources, type SavedCgroup } from './types';

export type { SavedCgroup, Resources } from './types';

const layoutMod = () => require('./layout') as typeof import('./layout');
const v1Mod = () => require('./v1') as typeof import('./v1');
const v2Mod = () => require('./v2') as typeof import('./v2');
const systemdMod = () => require('./systemd') as typeof import('./systemd');

/** The file (in the container's state directory) naming the cgroups before they exist: delete --force reads it. */
export const CGROUP_FILE = 'cgroup.json';

/** Every directory of the container's cgroups: the v1 ones, then the cgroup2 one. */
function allDirs(s: SavedCgroup): string[] {
  const dirs = Object.values(s.paths);
  if (s.unified) dirs.push(s.unified);
  return dirs;
}

/** The directory whose process list is the container's: pure v2's only one, else v1 freezer (or pids, or any). */
function mainDir(s: SavedCgroup): string | undefined {
  if (s.version === 2) return s.unified;
  return controllerDir(s, 'freezer') ?? controllerDir(s, 'pids') ?? Object.values(s.paths)[0] ?? s.unified;
}

/**
 * How a new process gets into the container's cgroups. Writing a pid to cgroup.procs takes the kernel's global
 * threadgroup lock, whose first writer waits for an RCU grace period (10-20 ms on this kind of machine), so the
 * stub does it itself where it can: it writes "0" to each v1 hierarchy's `tasks` file (a single-threaded
 * process moving itself skips that lock), and forks the init straight into the cgroup2 directory
 * (clone3 CLONE_INTO_CGROUP). The second needs the stub's own credentials and cgroup namespace: not when the
 * container gets or joins a user namespace, or joins a cgroup namespace; then runts writes the pid (`byRuntime`).
 */
export interface JoinPlan {
  /** v1 `tasks` files the stub writes "0" to, first thing, before it enters any namespace */
  tasks: string[];
  /** the cgroup2 directory the stub forks the init into */
  forkInto?: string;
  /** directories runts moves the pid into itself (joinCgroups) */
  byRuntime: string[];
}

export function joinPlan(s: SavedCgroup, stubMayForkInto: boolean): JoinPlan {
  const tasks = Object.values(s.paths).map((d) => join(d, 'tasks'));
  if (!s.unified) return { tasks, byRuntime: [] };
  return stubMayForkInto ? { tasks, forkInto: s.unified, byRuntime: [] } : { tasks, byRuntime: [s.unified] };
}

/**
 * create, before the init exists: make the container's cgroups and apply linux.resources (the plan is written to
 * `<stateDir>/cgroup.json` before the first mkdir). On failure everything made is removed and the error names the
 * field. The init joins them with joinCgroups while it waits in WAIT_PARENT.
 */
export interface PrepareOptions {
  /** --systemd-cgroup: the systemd driver (a transient scope; startSystemdCgroups makes and applies) */
  systemd?: boolean;
  /** rootless (--rootless): directories the user may not create are dropped or refused (rootlessDirs) */
  rootless?: boolean;
}

/**
 * The container's directory in every hierarchy, made or not (nothing is made): what prepareCgroups makes, and
 * what joinPlan gives the planner before it (rootless, prepareCgroups may drop hierarchies it cannot make).
 */
export function cgroupDirs(spec: Spec, id: string, systemd = false): SavedCgroup {
  const { hostLayout, containerPath, dirIn } = layoutMod();
  const layout = hostLayout();
  // the systemd driver: the scope's directory in every hierarchy, from the root (runc's v1/v2 systemd managers)
  const sp = systemd ? systemdMod().systemdPath(spec.linux?.cgroupsPath, id) : undefined;
  const cp = sp ? { path: join(sp.slicePath, sp.unit), relative: false } : containerPath(spec.linux?.cgroupsPath, id);
  const s: SavedCgroup = { version: layout.mode === 'v2' ? 2 : 1, paths: {}, created: [] };
  for (const h of layout.v1) s.paths[h.controllers.join(',')] = dirIn(h, cp);
  if (layout.v2) s.unified = dirIn(layout.v2, cp);
  if (sp) s.systemd = { unit: sp.unit, slice: sp.slice, started: false };
  return s;
}

export function prepareCgroups(spec: Spec, id: string, stateDir: string, o: PrepareOptions = {}): SavedCgroup {
  const { systemd = false, rootless = false } = o;
  if (systemd && rootless) {
    throw new RuntimeError('--systemd-cgroup: the systemd cgroup driver is not supported rootless by runts (it talks to the system bus); use the cgroupfs driver');
  }
  const s = cgroupDirs(spec, id, systemd);
  if (s.systemd) {
    // nothing exists before the scope does: startSystemdCgroups makes the rest once the stub's pid is known (the
    // driver has its own guard against a cgroup in use: systemd refuses a unit name that exists)
    writeText(join(stateDir, CGROUP_FILE), JSON.stringify(s), O_TRUNC);
    return s;
  }
  checkUnused(s, spec.linux?.cgroupsPath ?? layoutMod().containerPath(undefined, id).path);
  makeAndApply(s, spec, stateDir, rootless);
  return s;
}

/**
 * A new container's cgroup must not exist or be empty and thawed, as runc (1.2 on) requires: never put the init
 * in another container's cgroup, write limits there, or signal and remove it when the create fails.
 */
function checkUnused(s: SavedCgroup, shown: string): void {
  for (const d of allDirs(s)) {
    const pids = pidsBelow(d);
    if (pids.length) throw new RuntimeError(`linux.cgroupsPath: cgroup "${shown}" is not empty: ${pids.length} process(es) found in ${d}`);
  }
  if (isPaused(s)) throw new RuntimeError(`linux.cgroupsPath: cgroup "${shown}" is frozen`);
}

/** Whether create made the container's own cgroup (the systemd driver: started its unit), not only joined it. */
export function madeOwnCgroup(s: SavedCgroup | undefined): boolean {
  if (!s) return false;
  if (s.systemd) return s.systemd.started;
  const d = mainDir(s);
  return d !== undefined && s.created.includes(d);
}

/**
 * The systemd driver, once the stub runs (it waits for its plan): start the scope with the stub in it (its
 * fork, the init, stays there), then make the directories systemd does not (the v1 hierarchies it does not
 * manage) and write the resources to the files, as the cgroupfs driver does. On failure the unit is stopped
 * and everything made removed.
 */
export function startSystemdCgroups(s: SavedCgroup, spec: Spec, stubPid: number, stateDir: string): void {
  const sd = systemdMod();
  const r: Resources = spec.linux?.resources ?? {};
  sd.startScope(s.systemd!, stubPid, r, s.version === 2);
  s.systemd!.started = true;
  makeAndApply(s, spec, stateDir);
}

/**
 * Make the missing directories (recorded in cgroup.json first) and write linux.resources to the files.
 * `rootless` (cgroupfs driver only): make what the user may, drop the rest (rootlessDirs), no device list.
 */
function makeAndApply(s: SavedCgroup, spec: Spec, stateDir: string, rootless = false): void {
  const layout = layoutMod().hostLayout();
  const r: Resources = spec.linux?.resources ?? {};
  const mounts = new Map<string, string>();
  for (const h of layout.v1) mounts.set(s.paths[h.controllers.join(',')], h.mount);
  if (layout.v2 && s.unified) mounts.set(s.unified, layout.v2.mount);
  for (const [d, mount] of mounts) s.created.push(...missingDirs(d, mount));
  writeText(join(stateDir, CGROUP_FILE), JSON.stringify(s), O_TRUNC);
  try {
    const v1 = s.version === 1 ? v1Mod() : undefined;
    const cpuset = controllerDir(s, 'cpuset');
    const cpusetMount = cpuset && mounts.get(cpuset);
    if (rootless) {
      rootlessDirs(s, mounts, spec.linux?.cgroupsPath, r);
      writeText(join(stateDir, CGROUP_FILE), JSON.stringify(s), O_TRUNC);
      for (const d of s.created) if (cpusetMount && d.startsWith(cpusetMount + '/')) v1!.initCpuset(d, cpusetMount);
    } else {
      for (const d of s.created) {
        makeDir(d);
        if (cpusetMount && d.startsWith(cpusetMount + '/')) v1!.initCpuset(d, cpusetMount);
      }
    }
    if (v1) {
      v1.applyV1(s, r, false, rootless);
    } else if (s.unified) {
      const v2 = v2Mod();
      v2.enableControllers(layout.v2!.mount, s.unified!, v2.controllersFor(r));
      v2.applyV2(s.unified!, r, false);
      // an unprivileged user cannot attach a device program (CAP_SYS_ADMIN/CAP_BPF): runc skips it too; the
      // container's own user namespace keeps it from using devices it was not given anyway
      if (rootless) return;
      // the device list: an eBPF program attached to the cgroup (cgroup2 has no devices files)
      const { deviceProgram } = require('./bpf') as typeof import('./bpf');
      const { deviceRules } = require('./fields') as typeof import('./fields');
      try {
        loadNative().attachDeviceFilter(s.unified!, deviceProgram(deviceRules(r.devices)));
      } catch (e) {
        throw new RuntimeError(`linux.resources.devices: ${(e as Error).message}`);
      }
    }
  } catch (e) {
    try { destroyCgroups(s); } catch { /* the first error is the one to report */ }
    throw e;
  }
}

/**
 * Rootless: the v1 hierarchies (by mount name) where the container's cgroup will exist, i.e. where the nearest
 * existing ancestor of its directory is writable by runts (a delegated subtree). The planner binds only these
 * into a `cgroup` mount; prepareCgroups drops the others.
 */
export function rootlessV1Hierarchies(spec: Spec, id: string): string[] {
  const { hostLayout, containerPath, dirIn } = layoutMod();
  const cp = containerPath(spec.linux?.cgroupsPath, id);
  return hostLayout().v1.filter((h) => {
    let d = dirIn(h, cp);
    while (!exists(d) && d.length > h.mount.length) d = dirname(d);
    return canAccess(d, W_OK);
  }).map((h) => basename(h.mount));
}

/** The fields of linux.resources that ask for a limit (devices aside: a rootless container gets no device list). */
export function limitFields(r: Resources): string[] {
  return Object.entries(r).filter(([k, v]) => {
    if (k === 'devices' || v === undefined || v === null) return false;
    if (Array.isArray(v)) return v.length > 0;
    if (typeof v === 'object') return Object.values(v as object).some((x) => x !== undefined && x !== null);
    return true;
  }).map(([k]) => k);
}

/**
 * Rootless: make the container's directories where the user may (a delegated subtree it owns), drop the
 * hierarchies where it may not, as runc does: that is allowed only when the config names no cgroupsPath and asks
 * for no limits; otherwise the error names the field. `s` keeps only what exists for the container.
 */
function rootlessDirs(s: SavedCgroup, mounts: Map<string, string>, cgroupsPath: string | undefined, r: Resources): void {
  const denied: string[] = [];
  for (const [d, mount] of mounts) {
    const mine = s.created.filter((c) => c === d || (c.startsWith(mount + '/') && d.startsWith(c + '/')));
    const made: string[] = [];
    try {
      for (const c of mine) if (makeDir(c)) made.push(c);
      continue;
    } catch (e) {
      if (!/permission denied|operation not permitted|read-only file system/.test((e as Error).message)) throw e;
      for (const c of made.reverse()) try { removeEmptyDir(c); } catch { /* left for delete */ }
      denied.push(`${(e as Error).message}`);
    }
    s.created = s.created.filter((c) => !mine.includes(c));
    if (s.unified === d) delete s.unified;
    for (const [k, v] of Object.entries(s.paths)) if (v === d) delete s.paths[k];
  }
  if (!denied.length) return;
  const why = `rootless without a delegated cgroup (${denied[0]})`;
  const limits = limitFields(r);
  if (limits.length) throw new RuntimeError(`linux.resources.${limits[0]}: cannot set limits: ${why}`);
  if (cgroupsPath) throw new RuntimeError(`linux.cgroupsPath: cannot create "${cgroupsPath}": ${why}`);
}

/** Move `pid` into the container's cgroups that the stub does not join itself (joinPlan's `byRuntime`). */
export function joinCgroups(pid: number, dirs: string[]): void {
  for (const d of dirs) {
    try {
      writeFile(d, 'cgroup.procs', pid);
    } catch (e) {
      throw new RuntimeError(`join cgroup ${d}: ${(e as Error).message}`);
    }
  }
}

/** The cgroups that create planned for a container whose state.json was never written (a crashed create). */
export function plannedCgroups(stateDir: string): SavedCgroup | undefined {
  const t = readOpt(stateDir, CGROUP_FILE);
  if (!t) return undefined;
  try {
    return JSON.parse(t) as SavedCgroup;
  } catch {
    return undefined;
  }
}

// delete: destroyCgroups lives in remove.ts (loaded alone by delete, without node:fs)
export { destroyCgroups } from './remove';

/** All pids in the container's cgroup (and in cgroups the container made below it). */
export function allPids(s: SavedCgroup | undefined): number[] {
  const d = s && mainDir(s);
  return d ? pidsBelow(d) : [];
}

/** The pids in `d` and in every cgroup below it (none when it does not exist). */
function pidsBelow(d: string): number[] {
  const out: number[] = [];
  const walk = (dir: string) => {
    out.push(...procs(dir));
    let names: string[] = [];
    try { names = subdirs(dir); } catch { /* gone */ }
    for (const name of names) walk(join(dir, name));
  };
  walk(d);
  return [...new Set(out)];
}

/** Is the container frozen? (pause, resume and signalAll; `state` reads the same file through container/state) */
export function isPaused(s: SavedCgroup | undefined): boolean {
  const file = freezeFile(s);
  return frozenIn(file && readOptText(file));
}


/** Freeze (true) or thaw (false) every process, and wait until the kernel says it is done. */
export function setFrozen(s: SavedCgroup, frozen: boolean, timeoutMs = 10000): void {
  const end = Date.now() + timeoutMs;
  const v1dir = s.version === 1 ? controllerDir(s, 'freezer') : undefined;
  if (v1dir) {
    const want = frozen ? 'FROZEN' : 'THAWED';
    for (let i = 0; ; i++) {
      // writing again helps a freeze that raced with a fork
      if (i % 25 === 0) writeFile(v1dir, 'freezer.state', want);
      const cur = (readOpt(v1dir, 'freezer.state') ?? '').trim();
      if (cur === want) return;
      if (Date.now() > end) {
        if (frozen) writeFile(v1dir, 'freezer.state', 'THAWED');
        throw new RuntimeError(`cgroup ${v1dir}: still ${cur} after ${timeoutMs / 1000}s`);
      }
      sleepMs(i < 10 ? 1 : 10);
    }
  }
  if (!s.unified || readOpt(s.unified, 'cgroup.freeze') === undefined) {
    throw new RuntimeError('the container has no freezer cgroup (no v1 freezer hierarchy, no cgroup.freeze)');
  }
  writeFile(s.unified, 'cgroup.freeze', frozen ? 1 : 0);
  for (let i = 0; ; i++) {
    if (/^frozen (\d)$/m.exec(readOpt(s.unified, 'cgroup.events') ?? '')?.[1] === (frozen ? '1' : '0')) return;
    if (Date.now() > end) {
      if (frozen) writeFile(s.unified, 'cgroup.freeze', 0);
      throw new RuntimeError(`cgroup ${s.unified}: not ${frozen ? 'frozen' : 'thawed'} after ${timeoutMs / 1000}s`);
    }
    sleepMs(i < 10 ? 1 : 10);
  }
}

/**
 * kill --all, delete --force: signal every process in the container's cgroups, so none escapes by forking.
 * SIGKILL uses cgroup.kill where the kernel has it; otherwise freeze, signal each, thaw. False when the
 * container has no cgroup to go by.
 */
export function signalAll(s: SavedCgroup | undefined, sig: number): boolean {
  // a scope systemd refused to start for us (one of that name exists) is another container's
  if (!s || (s.systemd && !s.systemd.started)) return false;
  const main = mainDir(s);
  if (!main || !exists(main)) return false;
  if (sig === 9 && s.unified && readOpt(s.unified, 'cgroup.kill') !== undefined) {
    // hybrid hosts have it too: every process of the container is in the unified directory as well
    writeFile(s.unified, 'cgroup.kill', 1);
    // a task frozen by the v1 freezer dies only once thawed
    if (isPaused(s)) setFrozen(s, false);
    return true;
  }
  let frozen = false;
  try {
    if (!isPaused(s)) {
      try { setFrozen(s, true, 2000); frozen = true; } catch { /* signal anyway */ }
    }
    for (const p of allPids(s)) {
      try { process.kill(p, sig); } catch { /* exited */ }
    }
  } finally {
    // what we froze is thawed; a paused container stays paused, unless it is being killed
    if (frozen || (sig === 9 && isPaused(s))) try { setFrozen(s, false); } catch { /* best effort */ }
  }
  return true;
}

/** update: apply new limits to a running container's cgroups. */
export function updateResources(s: SavedCgroup, r: Resources): void {
  if (s.systemd) systemdMod().setScopeProperties(s.systemd.unit, r, s.version === 2);
  if (s.version === 1) v1Mod().applyV1(s, r, true);
  else v2Mod().applyV2(s.unified!, r, true);
}
