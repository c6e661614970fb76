// The container's state directory: <root>/<id>/{state.json, exec.sock, lock}.
// Status is derived each time from the init process, never trusted from the file.
import * as fs from 'fs';
import * as path from 'path';
import { RuntimeError } from '../errors';
import type { Spec } from '../config/types';
import type { SavedCgroup } from '../cgroups';

export const OCI_VERSION = '1.3.0';

export type Status = 'creating' | 'created' | 'running' | 'paused' | 'stopped';

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
  /** the config, as validated at create */
  config: Spec;
}

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
  return path.join(root, id);
}

export function ensureRoot(root: string): void {
  fs.mkdirSync(root, { recursive: true, mode: 0o711 });
}

export function readSaved(dir: string, id: string): Saved {
  let text: string;
  try {
    text = fs.readFileSync(path.join(dir, 'state.json'), 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new RuntimeError(`container "${id}" does not exist`);
    throw e;
  }
  return JSON.parse(text) as Saved;
}

export function exists(dir: string): boolean {
  return fs.existsSync(path.join(dir, 'state.json'));
}

export function writeSaved(dir: string, s: Saved): void {
  const tmp = path.join(dir, `.state.json.${process.pid}`);
  fs.writeFileSync(tmp, JSON.stringify(s), { mode: 0o600 });
  fs.renameSync(tmp, path.join(dir, 'state.json'));
}

/** Parse /proc/<pid>/stat: state letter and start time (field 22), or undefined if gone. */
export function procStat(pid: number): { state: string; startTime: string } | undefined {
  let text: string;
  try {
    text = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // comm may contain spaces and parentheses: fields start after the last ')'
  const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // rest[0] is field 3 (state); field 22 is rest[19]
  return { state: rest[0], startTime: rest[19] };
}

/** Is the container's init still the process we started? */
export function initAlive(s: Saved): boolean {
  if (!s.pid) return false;
  const st = procStat(s.pid);
  if (!st) return false;
  if (st.state === 'Z' || st.state === 'X') return false;
  return st.startTime === s.startTime;
}

export function statusOf(dir: string, s: Saved): Status {
  if (!initAlive(s)) return 'stopped';
  // a frozen container is paused, also one paused before it was started
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  if (s.cgroup && (require('../cgroups') as typeof import('../cgroups')).isPaused(s.cgroup)) return 'paused';
  if (fs.existsSync(path.join(dir, 'exec.sock'))) return 'created';
  return 'running';
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
    fd = fs.openSync(path.join(dir, 'lock'), fs.constants.O_RDWR | fs.constants.O_CREAT, 0o600);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const { loadNative } = require('../native') as typeof import('../native');
  loadNative().flock(fd, 'ex');
  if (!fs.existsSync(dir)) {
    // deleted while we waited for the lock
    fs.closeSync(fd);
    return undefined;
  }
  return fd;
}

export function unlock(fd: number | undefined): void {
  if (fd !== undefined) try { fs.closeSync(fd); } catch { /* already closed */ }
}
