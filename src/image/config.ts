// An image config to a runtime config (image-spec conversion.md, as umoci's convert does it): runts' default
// spec (what `runts spec` writes) with the image's Entrypoint + Cmd, Env, WorkingDir, User (names resolved in
// the image's /etc/passwd and /etc/group, which the caller reads from the rootfs), Labels and the fields
// without a runtime-spec place as org.opencontainers.image.* annotations, Volumes as tmpfs mounts.
// Pure: no I/O here.
import { RuntimeError } from '../errors';
import type { ImageConfig } from './source';

export interface ExecUser { uid: number; gid: number; sgids: number[]; home: string }

interface PwEntry { name: string; uid: number; gid: number; home: string }
interface GrEntry { name: string; gid: number; members: string[] }

function parsePasswd(text: string): PwEntry[] {
  const out: PwEntry[] = [];
  for (const line of text.split('\n')) {
    const f = line.trim().split(':');
    if (f.length < 4 || !/^\d+$/.test(f[2]) || !/^\d+$/.test(f[3])) continue;
    out.push({ name: f[0], uid: Number(f[2]), gid: Number(f[3]), home: f[5] ?? '' });
  }
  return out;
}

function parseGroup(text: string): GrEntry[] {
  const out: GrEntry[] = [];
  for (const line of text.split('\n')) {
    const f = line.trim().split(':');
    if (f.length < 3 || !/^\d+$/.test(f[2])) continue;
    out.push({ name: f[0], gid: Number(f[2]), members: (f[3] ?? '').split(',').filter(Boolean) });
  }
  return out;
}

const MAX_ID = 2 ** 31 - 1;
const numeric = (s: string) => (/^\d+$/.test(s) ? Number(s) : undefined);

/**
 * The user of `User` ("", "name", "uid", "name:group", "uid:gid"), as runc's libcontainer/user GetExecUser
 * resolves it: a name must exist in /etc/passwd, a number need not; without a group, the user's gid and the
 * groups that list the user by name (supplementary); with a group, that group only.
 */
export function resolveUser(spec: string, passwd: string | undefined, group: string | undefined): ExecUser {
  const [userArg, groupArg] = spec.includes(':') ? [spec.slice(0, spec.indexOf(':')), spec.slice(spec.indexOf(':') + 1)] : [spec, ''];
  const u: ExecUser = { uid: 0, gid: 0, sgids: [], home: '' };
  const uidArg = numeric(userArg);
  if (uidArg !== undefined && uidArg > MAX_ID) throw new RuntimeError(`image config User "${spec}": uid out of range`);
  const users = parsePasswd(passwd ?? '').filter((p) => (userArg === '' ? p.uid === u.uid : uidArg !== undefined ? p.uid === uidArg : p.name === userArg));
  let name = '';
  if (users.length) {
    ({ uid: u.uid, gid: u.gid, home: u.home, name } = users[0]);
  } else if (userArg !== '') {
    if (uidArg === undefined) throw new RuntimeError(`image config User "${spec}": no user "${userArg}" in the image's /etc/passwd`);
    u.uid = uidArg;
  }
  const gidArg = numeric(groupArg);
  if (gidArg !== undefined && gidArg > MAX_ID) throw new RuntimeError(`image config User "${spec}": gid out of range`);
  if (groupArg !== '' || name !== '') {
    const groups = parseGroup(group ?? '').filter((g) => (groupArg === '' ? g.members.includes(name) : gidArg !== undefined ? g.gid === gidArg : g.name === groupArg));
    if (groupArg !== '') {
      if (groups.length) u.gid = groups[0].gid;
      else if (gidArg !== undefined) u.gid = gidArg;
      else throw new RuntimeError(`image config User "${spec}": no group "${groupArg}" in the image's /etc/group`);
    } else u.sgids = groups.map((g) => g.gid);
  }
  return u;
}

function setEnv(env: string[], name: string, value: string): void {
  const i = env.findIndex((e) => e.startsWith(`${name}=`));
  if (i >= 0) env[i] = `${name}=${value}`;
  else env.push(`${name}=${value}`);
}

/** The runtime config for an image: `base` (runts' default spec) changed in place and returned. */
export function toRuntimeSpec(base: any, image: ImageConfig, files: { passwd?: string; group?: string }): any {
  const os = image.os ?? 'linux';
  if (os !== 'linux') throw new RuntimeError(`image config os: "${os}" is not supported (linux only)`);
  const c = image.config ?? {};
  const spec = base;
  const p = spec.process;
  p.terminal = false;
  spec.root = { path: 'rootfs', readonly: false };
  p.cwd = c.WorkingDir || '/';
  if (!p.cwd.startsWith('/')) throw new RuntimeError(`image config WorkingDir: "${c.WorkingDir}" is not an absolute path`);
  for (const [i, e] of (c.Env ?? []).entries()) {
    const eq = typeof e === 'string' ? e.indexOf('=') : -1;
    if (eq <= 0) throw new RuntimeError(`image config Env[${i}]: "${e}" is not NAME=VALUE`);
    setEnv(p.env, e.slice(0, eq), e.slice(eq + 1));
  }
  const args = [...(c.Entrypoint ?? []), ...(c.Cmd ?? [])];
  if (args.length) p.args = args;
  const user = resolveUser(c.User ?? '', files.passwd, files.group);
  p.user = { uid: user.uid, gid: user.gid, ...(user.sgids.length ? { additionalGids: user.sgids } : {}) };
  if (user.home) setEnv(p.env, 'HOME', user.home);
  const ann: Record<string, string> = { ...(c.Labels ?? {}) };
  ann['org.opencontainers.image.os'] = os;
  if (image.architecture !== undefined) ann['org.opencontainers.image.architecture'] = image.architecture;
  if (image.author !== undefined) ann['org.opencontainers.image.author'] = image.author;
  if (image.created !== undefined) ann['org.opencontainers.image.created'] = image.created;
  if (c.StopSignal !== undefined) ann['org.opencontainers.image.stopSignal'] = c.StopSignal;
  const ports = Object.keys(c.ExposedPorts ?? {}).sort();
  if (ports.length) ann['org.opencontainers.image.exposedPorts'] = ports.join(',');
  spec.annotations = ann;
  for (const v of Object.keys(c.Volumes ?? {}).sort()) {
    if (!v.startsWith('/')) throw new RuntimeError(`image config Volumes: "${v}" is not an absolute path`);
    spec.mounts.push({ destination: v, type: 'tmpfs', source: 'none', options: ['rw', 'nosuid', 'nodev', 'noexec', 'relatime'] });
  }
  return spec;
}
