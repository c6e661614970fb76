// The host's cgroup layout, detected once per call: cgroup v1 (controllers under /sys/fs/cgroup/<ctrl>), hybrid
// (v1 plus a cgroup2 at /sys/fs/cgroup/unified) or pure v2 (/sys/fs/cgroup is cgroup2), and where a
// container's cgroupsPath lands in each hierarchy.
import { readText } from '../io';
import { join, normalize } from '../paths';
import { RuntimeError } from '../errors';
import { checkCgroupsPath, throwFirst } from '../config/rules';
import { loadNative } from '../native';

export const CGROUP_ROOT = '/sys/fs/cgroup';
const CGROUP_SUPER_MAGIC = 0x27e0eb;
const CGROUP2_SUPER_MAGIC = 0x63677270;

export interface Hierarchy {
  /** where it is mounted, e.g. /sys/fs/cgroup/memory */
  mount: string;
  /** the mount's root inside the hierarchy (usually "/") */
  root: string;
  /** controllers, as in /proc/self/cgroup ("memory", "cpu", "name=systemd"...) */
  controllers: string[];
  /** this process's cgroup in it, from /proc/self/cgroup */
  own: string;
  /** the super block options (without rw/ro), to mount the same v1 hierarchy again */
  options: string;
}

export interface Layout {
  mode: 'v1' | 'hybrid' | 'v2';
  v1: Hierarchy[];
  /** the cgroup2 hierarchy (all of it on v2, the unified/ one on hybrid) */
  v2?: Hierarchy;
}

function unescape(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, o) => String.fromCharCode(parseInt(o, 8)));
}

/** Parse mountinfo and /proc/self/cgroup (pure: unit-tested with fixtures). */
export function parseLayout(mountinfo: string, selfCgroup: string): Layout {
  const own = new Map<string, string>();
  let ownV2 = '/';
  for (const line of selfCgroup.split('\n')) {
    const m = /^(\d+):([^:]*):(.*)$/.exec(line);
    if (!m) continue;
    if (m[1] === '0' && m[2] === '') ownV2 = m[3];
    else own.set(m[2].split(',').sort().join(','), m[3]);
  }
  const v1: Hierarchy[] = [];
  let v2: Hierarchy | undefined;
  for (const line of mountinfo.split('\n')) {
    const sep = line.indexOf(' - ');
    if (sep < 0) continue;
    const left = line.slice(0, sep).split(' ');
    const [fstype, , superOpts = ''] = line.slice(sep + 3).split(' ');
    const mount = unescape(left[4] ?? '');
    if (mount !== CGROUP_ROOT && !mount.startsWith(CGROUP_ROOT + '/')) continue;
    const root = unescape(left[3] ?? '/');
    if (fstype === 'cgroup2') {
      v2 = { mount, root, controllers: [], own: ownV2, options: '' };
    } else if (fstype === 'cgroup') {
      const controllers = superOpts.split(',').filter((o) => o !== 'rw' && o !== 'ro' && !o.startsWith('release_agent=') &&
        o !== 'clone_children' && o !== 'noprefix' && o !== 'xattr' && o !== 'cpuset_v2_mode');
      if (v1.some((h) => h.mount === mount)) continue;
      const key = [...controllers].sort().join(',');
      const options = superOpts.split(',').filter((o) => o !== 'rw' && o !== 'ro').join(',');
      v1.push({ mount, root, controllers, own: own.get(key) ?? '/', options });
    }
  }
  if (v2 && v2.mount === CGROUP_ROOT) return { mode: 'v2', v1: [], v2 };
  if (v1.length === 0 && !v2) throw new RuntimeError(`no cgroup hierarchy is mounted under ${CGROUP_ROOT}`);
  return { mode: v1.length ? (v2 ? 'hybrid' : 'v1') : 'v2', v1, v2 };
}

let cached: Layout | undefined;

/** The host layout; every hierarchy is checked to really be cgroupfs/cgroup2 before it is used. */
export function hostLayout(): Layout {
  if (cached) return cached;
  let l = parseLayout(readText('/proc/self/mountinfo'), readText('/proc/self/cgroup'));
  // RUNTS_CGROUP_MODE=v2: the cgroup2 manager alone, also on a hybrid host (its unified hierarchy); for tests
  if (process.env.RUNTS_CGROUP_MODE === 'v2') {
    if (!l.v2) throw new RuntimeError('RUNTS_CGROUP_MODE=v2: this host has no cgroup2 hierarchy');
    l = { mode: 'v2', v1: [], v2: l.v2 };
  }
  const native = loadNative();
  const check = (h: Hierarchy, magic: number) => {
    if (native.statfsType(h.mount) !== magic) throw new RuntimeError(`${h.mount} is not a cgroup file system`);
  };
  for (const h of l.v1) check(h, CGROUP_SUPER_MAGIC);
  if (l.v2) check(l.v2, CGROUP2_SUPER_MAGIC);
  cached = l;
  return l;
}

/** The path inside each hierarchy: linux.cgroupsPath, or the container id under the runtime's own cgroup. */
export function containerPath(cgroupsPath: string | undefined, id: string): { path: string; relative: boolean } {
  const p = cgroupsPath ?? '';
  throwFirst(checkCgroupsPath(p));
  if (p === '') return { path: id, relative: true };
  const norm = normalize(p).replace(/\/+$/, '');
  return { path: norm, relative: !p.startsWith('/') };
}

/** Absolute directory of the container's cgroup in hierarchy `h`. */
export function dirIn(h: Hierarchy, p: { path: string; relative: boolean }): string {
  const inHier = p.relative ? join(h.own, p.path) : p.path;
  // the mount shows the hierarchy from h.root down
  let rel = inHier;
  if (h.root !== '/' && (inHier === h.root || inHier.startsWith(h.root + '/'))) rel = inHier.slice(h.root.length) || '/';
  return join(h.mount, rel);
}
