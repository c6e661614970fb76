// The uid/gid maps of a new user namespace, written at USERMAP_REQ while the stub waits (dumpable meanwhile).
// As root (of the host, or of the user namespace runts runs in) runts writes them itself. A rootless caller
// (effective uid not 0) may write only a map of its own id, and a gid map only after `setgroups` is "deny"
// (user_namespaces(7)); any other map goes through the setuid helpers newuidmap/newgidmap (package uidmap),
// which check it against /etc/subuid and /etc/subgid: runc's nsexec does the same.
import { O_TRUNC, X_OK, canAccess, writeText } from '../io';
import { RuntimeError, errnoText } from '../errors';
import type { Spec } from '../config/types';
import { idMapText } from '../plan/namespaces';

type IdMap = { containerID: number; hostID: number; size: number };

/** A map an unprivileged process may write itself: one id, its own. */
export function ownIdOnly(maps: IdMap[] | undefined, id: number): boolean {
  return !!maps && maps.length === 1 && maps[0].size === 1 && maps[0].hostID === id;
}

/** Where a mapping helper is (PATH, then the usual places). */
function findHelper(name: string): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(':').filter(Boolean), '/usr/bin', '/bin', '/usr/sbin', '/sbin'];
  for (const d of dirs) {
    if (canAccess(`${d}/${name}`, X_OK)) return `${d}/${name}`;
  }
  return undefined;
}

function viaHelper(name: 'newuidmap' | 'newgidmap', field: string, pid: number, maps: IdMap[]): void {
  const bin = findHelper(name);
  if (!bin) {
    throw new RuntimeError(`${field}: a rootless user can map only its own id; other ids need ${name} (package uidmap), which is not installed`);
  }
  const args = [String(pid), ...maps.flatMap((m) => [String(m.containerID), String(m.hostID), String(m.size)])];
  const { spawnSync } = require('child_process') as typeof import('child_process');
  const r = spawnSync(bin, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  if (r.error) throw new RuntimeError(`${field}: ${bin}: ${errnoText(r.error)}`);
  if (r.status !== 0) {
    const why = (r.stderr || r.stdout || '').trim().split('\n').pop() || `exit status ${r.status}`;
    throw new RuntimeError(`${field}: ${name} ${args.join(' ')}: ${why} (the ids must be the user's own or in /etc/${name === 'newuidmap' ? 'subuid' : 'subgid'})`);
  }
}

function write(file: string, text: string, field: string): void {
  try {
    writeText(file, text, O_TRUNC);
  } catch (e) {
    throw new RuntimeError(`${field}: write ${file}: ${errnoText(e)}`);
  }
}

/** Does create deny setgroups in the container's user namespace (rootless, gid map of the caller's own gid)? */
export function deniesSetgroups(spec: Spec, rootlessEuid: boolean, egid: number): boolean {
  return rootlessEuid && ownIdOnly(spec.linux?.gidMappings, egid);
}

export function writeIdMaps(pid: number, spec: Spec, rootlessEuid: boolean): void {
  const linux = spec.linux ?? {};
  const uids = linux.uidMappings ?? [];
  const gids = linux.gidMappings ?? [];
  if (!rootlessEuid) {
    write(`/proc/${pid}/uid_map`, idMapText(uids), 'linux.uidMappings');
    write(`/proc/${pid}/gid_map`, idMapText(gids), 'linux.gidMappings');
    return;
  }
  const euid = process.geteuid!();
  const egid = process.getegid!();
  if (ownIdOnly(uids, euid)) write(`/proc/${pid}/uid_map`, idMapText(uids), 'linux.uidMappings');
  else viaHelper('newuidmap', 'linux.uidMappings', pid, uids);
  if (ownIdOnly(gids, egid)) {
    write(`/proc/${pid}/setgroups`, 'deny', 'linux.gidMappings');
    write(`/proc/${pid}/gid_map`, idMapText(gids), 'linux.gidMappings');
  } else {
    viaHelper('newgidmap', 'linux.gidMappings', pid, gids);
  }
}
