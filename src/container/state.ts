// The container's state directory: <root>/<id>/{state.json, config.json, exec.sock, lock}.
// Status is derived each time from the init process, never trusted from the file.
// Files go through io.ts (the addon's file functions, node:fs only as the fallback) and node:path is not loaded:
// state, kill, start and delete load neither.
import { RuntimeError, errnoText } from '../errors';
import { checkId } from '../ids';
import type { Spec } from '../config/types';
import { freezeFile, frozenIn, type SavedCgroup } from '../cgroups/types';
import { O_CREAT, O_RDWR, O_TRUNC, closeFd, exists as fileExists, makeDirs, nodeFs, openFile, readOptText, readText, removeTree, renameFile, writeText } from '../io';

export const OCI_VERSION = '1.3.0';

export type Status = 'creating' | 'created' | 'running' | 'paused' | 'stopped';

// The transitions each operation allows (youki's can_start, can_pause...): the one place that says which status
// an operation accepts. withContainer (access.ts) checks them under the container's lock.
/** start: only a created container (its init waits in WAIT_START). */
export const canStart = (s: Status): boolean => s === 'created';
/** pause: a running container, or a created one (frozen before start, as runc does). */
export const canPause = (s: Status): boolean => s === 'running' || s === 'created';
/** resume: only a paused container. */
export const canResume = (s: Status): boolean => s === 'paused';
/** update: any container whose init is alive (created, running, paused). */
export const canUpdate = (s: Status): boolean => s !== 'stopped';
/** delete: a stopped or created one (created: its init is killed first); --force takes any. */
export const canDelete = (s: Status, force = false): boolean => force || s === 'stopped' || s === 'created';
/** exec: a live container, a paused one only with --ignore-paused. */
export const canExec = (s: Status, ignorePaused = false): boolean => s !== 'stopped' && (s !== 'paused' || ignorePaused);
/** kill: a live container; --all also a stopped one (its cgroups may still hold processes, as in runc). */
export const canKill = (s: Status, all = false): boolean => all || s !== 'stopped';

/** What runts keeps on disk about a container. */
export interface Saved {
  ociVersion: string;
  id: string;
  pid: number;
  /** field 22 of /proc/<pid>/stat at create: a different value means the pid was reused */
  startTime: string;
  bundle: string;
  rootfs: string;
  created: string;
  owner: string;
  annotations?: Record<string, string>;
  /** the container's cgroups (src/cgroups), removed by delete */
  cgroup?: SavedCgroup;
  /**
   * the config, as validated at create; kept in config.json beside state.json and read on first use (state.json
   * says `"config": "config.json"`; a state.json of the earlier form holds it as an object)
   */
  config: Spec;
  /** the config's hooks, also in state.json: start and delete need only them (savedHooks) */
  hooks?: Spec['hooks'];
}

/** The file of the state directory that holds the config (Saved.config). */
const CONFIG_FILE = 'config.json';

/** The `state` output: the OCI state plus runc's extra fields. */
export interface StateView {
  ociVersion: string;
  id: string;
  pid: number;
  status: Status;
  bundle: string;
  rootfs: string;
  created: string;
  owner: string;
  annotations?: Record<string, string>;
}

export function containerDir(root: string, id: string): string {
  return root.endsWith('/') ? root + id : `${root}/${id}`;
}

export function ensureRoot(root: string): void {
  makeDirs(root, 0o711);
}

export function readSaved(dir: string, id: string): Saved {
  let text: string;
  try {
    text = readText(`${dir}/state.json`);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new RuntimeError(`container "${id}" does not exist`);
    throw e;
  }
  const s = JSON.parse(text) as Saved;
  if ((s.config as unknown) === CONFIG_FILE) {
    // read on first use: start, kill and delete do not need it, and reading and parsing a config (a seccomp
    // profile: 10-20 KB) costs them ≈ 20-45 page faults (docs/performance.md); exec and update do
    let config: Spec | undefined;
    Object.defineProperty(s, 'config', {
      get: (): Spec => (config ??= JSON.parse(readText(`${dir}/${CONFIG_FILE}`))),
      set: (v: Spec) => { config = v; },
      enumerable: true,
      configurable: true,
    });
  }
  return s;
}

/** The config's hooks without reading config.json (state.json has them; a Saved not read from a file: its config). */
export function savedHooks(s: Saved): Spec['hooks'] {
  return 'hooks' in s ? s.hooks : s.config.hooks;
}

export function exists(dir: string): boolean {
  return fileExists(`${dir}/state.json`);
}

export function writeSaved(dir: string, s: Saved): void {
  // the config first (state.json names it), each through a temporary file and a rename
  const config = s.config;
  const tmpConfig = `${dir}/.${CONFIG_FILE}.${process.pid}`;
  writeText(tmpConfig, JSON.stringify(config), O_TRUNC, 0o600);
  renameFile(tmpConfig, `${dir}/${CONFIG_FILE}`);
  const out: Record<string, unknown> = {};
  for (const k in s) if (k !== 'config' && k !== 'hooks') out[k] = s[k as keyof Saved];
  out.hooks = config.hooks ?? {};
  out.config = CONFIG_FILE;
  const tmp = `${dir}/.state.json.${process.pid}`;
  writeText(tmp, JSON.stringify(out), O_TRUNC, 0o600);
  renameFile(tmp, `${dir}/state.json`);
}

/**
 * --pid-file: the pid written to a temp file beside it and renamed (a manager never reads half a pid); an error
 * names the flag and leaves no temp file.
 */
export function writePidFile(file: string, pid: number): void {
  // loaded here: state, kill, start and delete need no path module
  const { basename, dirname, join, resolve } = require('../paths') as typeof import('../paths');
  const pf = resolve(file);
  const tmp = join(dirname(pf), `.${basename(pf)}.${process.pid}`);
  try {
    writeText(tmp, String(pid), O_TRUNC);
    renameFile(tmp, pf);
  } catch (e) {
    try { removeTree(tmp); } catch { /* ignore */ }
    throw new RuntimeError(`--pid-file ${file}: ${errnoText(e)}`);
  }
}

/** /proc/<pid>/stat's state letter and start time (field 22); undefined for no text (the process is gone). */
export function parseStat(text: string | undefined): { state: string; startTime: string } | undefined {
  if (text === undefined) return undefined;
  // comm may contain spaces and parentheses: fields start after the last ')'
  const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // rest[0] is field 3 (state); field 22 is rest[19]
  return { state: rest[0], startTime: rest[19] };
}

export function procStat(pid: number): { state: string; startTime: string } | undefined {
  return parseStat(readOptText(`/proc/${pid}/stat`));
}

/** Is the container's init still the process we started? (`stat`: its /proc/<pid>/stat) */
function aliveFrom(s: Saved, stat: string | undefined): boolean {
  const st = parseStat(stat);
  return !!st && st.state !== 'Z' && st.state !== 'X' && st.startTime === s.startTime;
}

export function initAlive(s: Saved): boolean {
  return !!s.pid && aliveFrom(s, readOptText(`/proc/${s.pid}/stat`));
}

/**
 * The status from what three files say, each read only while the answer still depends on it (a stopped container:
 * one read): the init's /proc/<pid>/stat (gone, a zombie or another process: stopped), the cgroup's freeze state
 * (paused, also when paused before start) and exec.sock (created: the init still waits for start).
 */
export function statusOf(dir: string, s: Saved): Status {
  if (!s.pid || !aliveFrom(s, readOptText(`/proc/${s.pid}/stat`))) return 'stopped';
  const freeze = freezeFile(s.cgroup);
  if (frozenIn(freeze && readOptText(freeze))) return 'paused';
  return fileExists(`${dir}/exec.sock`) ? 'created' : 'running';
}

export function view(s: Saved, status: Status): StateView {
  const v: StateView = {
    ociVersion: s.ociVersion,
    id: s.id,
    pid: status === 'stopped' ? 0 : s.pid,
    status,
    bundle: s.bundle,
    rootfs: s.rootfs,
    created: s.created,
    owner: s.owner,
  };
  if (s.annotations && Object.keys(s.annotations).length) v.annotations = s.annotations;
  return v;
}

/** `state ID`: the OCI state of a container. No lock, as in runc: a state is a snapshot. */
export function containerState(root: string, id: string): StateView {
  checkId(id);
  const dir = containerDir(root, id);
  const s = readSaved(dir, id);
  return view(s, statusOf(dir, s));
}

/** `list`: the state of every container under root, by id; those being created or deleted are left out. */
export function listContainers(root: string): StateView[] {
  let ids: string[] = [];
  try {
    ids = nodeFs().readdirSync(root, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name).sort();
  } catch { /* no root yet: no containers */ }
  const rows: StateView[] = [];
  for (const id of ids) {
    const dir = containerDir(root, id);
    try {
      const s = readSaved(dir, id);
      rows.push(view(s, statusOf(dir, s)));
    } catch { /* being created or deleted */ }
  }
  return rows;
}

/** The OCI state given to hooks on stdin. */
export function hookState(s: { id: string; pid: number; bundle: string; annotations?: Record<string, string> }, status: Status): string {
  const o: Record<string, unknown> = { ociVersion: OCI_VERSION, id: s.id, status, pid: s.pid, bundle: s.bundle };
  if (status === 'stopped' && !s.pid) delete o.pid;
  o.annotations = s.annotations ?? {};
  return JSON.stringify(o);
}

/**
 * Take the container's exclusive lock (serializes every operation on one container).
 * Returns the lock fd (closing it releases the lock), or undefined when the container directory is gone.
 */
export function lockDir(dir: string): number | undefined {
  let fd: number;
  try {
    fd = openFile(`${dir}/lock`, O_RDWR | O_CREAT, 0o600);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const { loadNative } = require('../native') as typeof import('../native');
  loadNative().flock(fd, 'ex');
  if (!fileExists(dir)) {
    // deleted while we waited for the lock
    closeFd(fd);
    return undefined;
  }
  return fd;
}

export function unlock(fd: number | undefined): void {
  if (fd !== undefined) try { closeFd(fd); } catch { /* already closed */ }
}
