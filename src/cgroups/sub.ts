// exec --cgroup: run the exec'd process in an existing sub-cgroup of the container's, as runc does. Arguments are
// `PATH` (one only: every hierarchy, the cgroup2 one included) or `CONTROLLER[,CONTROLLER]:PATH` (repeatable: the
// v1 hierarchies holding those controllers). PATH is relative to the container's cgroup and must exist.
import * as fs from 'fs';
import * as path from 'path';
import { RuntimeError } from '../errors';
import type { SavedCgroup } from './types';

/** "--cgroup" arguments → controller ("" = all) → sub-path; errors name the flag. */
export function parseSubCgroups(args: string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const a of args) {
    const colon = a.indexOf(':');
    const [ctrls, sub] = colon < 0 ? [[''], a] : [a.slice(0, colon).split(','), a.slice(colon + 1)];
    if (colon < 0 && args.length !== 1) throw new RuntimeError(`--cgroup ${a}: a path without "controller:" must be the only --cgroup`);
    const parts = sub.split('/').filter((p) => p !== '' && p !== '.');
    if (!parts.length || parts.includes('..')) throw new RuntimeError(`--cgroup ${a}: the path must name a sub-cgroup of the container's, without ".."`);
    for (const c of ctrls) {
      if (colon >= 0 && c === '') throw new RuntimeError(`--cgroup ${a}: empty controller name`);
      if (out.has(c)) throw new RuntimeError(`--cgroup ${a}: controller ${c} is given more than once`);
      out.set(c, parts.join('/'));
    }
  }
  return out;
}

/** The container's cgroups with the sub-cgroups put in their place; each must exist. */
export function withSubCgroups(s: SavedCgroup, args: string[]): SavedCgroup {
  const subs = parseSubCgroups(args);
  if (!subs.size) return s;
  const all = subs.get('');
  const used = new Set<string>();
  const pick = (dir: string, sub: string | undefined, flag: string): string => {
    if (sub === undefined) return dir;
    const d = path.join(dir, sub);
    let st: fs.Stats;
    try { st = fs.statSync(d); } catch { throw new RuntimeError(`--cgroup ${flag}: ${d} does not exist`); }
    if (!st.isDirectory()) throw new RuntimeError(`--cgroup ${flag}: ${d} is not a cgroup directory`);
    return d;
  };
  const paths: Record<string, string> = {};
  for (const [key, dir] of Object.entries(s.paths)) {
    const ctrl = key.split(',').find((c) => subs.has(c));
    if (ctrl) key.split(',').forEach((c) => used.add(c));
    const sub = ctrl !== undefined ? subs.get(ctrl) : all;
    paths[key] = pick(dir, sub, ctrl !== undefined ? `${ctrl}:${sub}` : String(all));
  }
  for (const c of subs.keys()) {
    if (c !== '' && !used.has(c)) throw new RuntimeError(`--cgroup ${c}:${subs.get(c)}: the container has no cgroup of controller ${c}${s.version === 2 ? ' (cgroup v2: give --cgroup PATH)' : ''}`);
  }
  return { ...s, paths, unified: s.unified && pick(s.unified, all, String(all)) };
}
