// config `mounts` → MOUNT / MOUNT_SETATTR steps. All flag decisions are made here.
import * as path from 'path';
import { RuntimeError } from '../errors';
import type { Mount, Spec } from '../config/types';
import { How } from './ops';
import { Step, step, str, u64 } from './encode';

export const MS = {
  RDONLY: 0x1, NOSUID: 0x2, NODEV: 0x4, NOEXEC: 0x8, SYNCHRONOUS: 0x10, REMOUNT: 0x20, MANDLOCK: 0x40,
  DIRSYNC: 0x80, NOSYMFOLLOW: 0x100, NOATIME: 0x400, NODIRATIME: 0x800, BIND: 0x1000, MOVE: 0x2000,
  REC: 0x4000, SILENT: 0x8000, UNBINDABLE: 1 << 17, PRIVATE: 1 << 18, SLAVE: 1 << 19, SHARED: 1 << 20,
  RELATIME: 1 << 21, STRICTATIME: 1 << 24, LAZYTIME: 1 << 25,
} as const;

export const MOUNT_ATTR = {
  RDONLY: 0x1, NOSUID: 0x2, NODEV: 0x4, NOEXEC: 0x8, _ATIME: 0x70, RELATIME: 0x0, NOATIME: 0x10,
  STRICTATIME: 0x20, NODIRATIME: 0x80, NOSYMFOLLOW: 0x200000,
} as const;

/** options that set (true) or clear (false) a mount(2) flag */
const FLAG_OPTS: Record<string, [boolean, number]> = {
  ro: [true, MS.RDONLY], rw: [false, MS.RDONLY],
  nosuid: [true, MS.NOSUID], suid: [false, MS.NOSUID],
  nodev: [true, MS.NODEV], dev: [false, MS.NODEV],
  noexec: [true, MS.NOEXEC], exec: [false, MS.NOEXEC],
  sync: [true, MS.SYNCHRONOUS], async: [false, MS.SYNCHRONOUS],
  dirsync: [true, MS.DIRSYNC],
  remount: [true, MS.REMOUNT],
  mand: [true, MS.MANDLOCK], nomand: [false, MS.MANDLOCK],
  noatime: [true, MS.NOATIME], atime: [false, MS.NOATIME],
  nodiratime: [true, MS.NODIRATIME], diratime: [false, MS.NODIRATIME],
  relatime: [true, MS.RELATIME], norelatime: [false, MS.RELATIME],
  strictatime: [true, MS.STRICTATIME], nostrictatime: [false, MS.STRICTATIME],
  lazytime: [true, MS.LAZYTIME], nolazytime: [false, MS.LAZYTIME],
  silent: [true, MS.SILENT], loud: [false, MS.SILENT],
  nosymfollow: [true, MS.NOSYMFOLLOW], symfollow: [false, MS.NOSYMFOLLOW],
};

export const PROPAGATION: Record<string, number> = {
  private: MS.PRIVATE, rprivate: MS.PRIVATE | MS.REC,
  shared: MS.SHARED, rshared: MS.SHARED | MS.REC,
  slave: MS.SLAVE, rslave: MS.SLAVE | MS.REC,
  unbindable: MS.UNBINDABLE, runbindable: MS.UNBINDABLE | MS.REC,
};

/** recursive options (mount_setattr with AT_RECURSIVE): [set?, attr] */
const REC_OPTS: Record<string, [boolean, number]> = {
  rro: [true, MOUNT_ATTR.RDONLY], rrw: [false, MOUNT_ATTR.RDONLY],
  rnosuid: [true, MOUNT_ATTR.NOSUID], rsuid: [false, MOUNT_ATTR.NOSUID],
  rnodev: [true, MOUNT_ATTR.NODEV], rdev: [false, MOUNT_ATTR.NODEV],
  rnoexec: [true, MOUNT_ATTR.NOEXEC], rexec: [false, MOUNT_ATTR.NOEXEC],
  rnodiratime: [true, MOUNT_ATTR.NODIRATIME], rdiratime: [false, MOUNT_ATTR.NODIRATIME],
  rnosymfollow: [true, MOUNT_ATTR.NOSYMFOLLOW], rsymfollow: [false, MOUNT_ATTR.NOSYMFOLLOW],
};
const REC_ATIME: Record<string, number> = {
  rrelatime: MOUNT_ATTR.RELATIME, rnoatime: MOUNT_ATTR.NOATIME, rstrictatime: MOUNT_ATTR.STRICTATIME,
};
/** options that only make sense to other tools and are ignored, as runc does */
const IGNORED = new Set(['defaults', 'auto', 'noauto', 'user', 'nouser', 'users', 'nofail', '_netdev', 'x-systemd']);

export interface ParsedOptions {
  flags: number;
  clear: number;
  propagation: number[];
  recSet: number;
  recClr: number;
  recAtime?: number;
  data: string[];
  bind: boolean;
  recursiveBind: boolean;
  /** tmpcopyup: the new tmpfs starts with a copy of what the target directory held */
  copyUp: boolean;
}

export function parseOptions(options: string[] | undefined, field: string, isBind: boolean): ParsedOptions {
  const p: ParsedOptions = { flags: 0, clear: 0, propagation: [], recSet: 0, recClr: 0, data: [], bind: isBind, recursiveBind: false, copyUp: false };
  (options ?? []).forEach((o, i) => {
    if (o === 'bind') { p.bind = true; return; }
    if (o === 'rbind') { p.bind = true; p.recursiveBind = true; return; }
    if (o in FLAG_OPTS) {
      const [set, f] = FLAG_OPTS[o];
      if (set) { p.flags |= f; p.clear &= ~f; } else { p.flags &= ~f; p.clear |= f; }
      return;
    }
    if (o in PROPAGATION) { p.propagation.push(PROPAGATION[o]); return; }
    if (o in REC_OPTS) {
      const [set, a] = REC_OPTS[o];
      if (set) { p.recSet |= a; p.recClr &= ~a; } else { p.recClr |= a; p.recSet &= ~a; }
      return;
    }
    if (o in REC_ATIME) { p.recAtime = REC_ATIME[o]; return; }
    if (o === 'ratime') { p.recAtime = MOUNT_ATTR.RELATIME; return; }
    if (IGNORED.has(o) || o.startsWith('x-')) return;
    if (o === 'idmap' || o === 'ridmap') throw new RuntimeError(`${field}.options[${i}]: "${o}" (id-mapped mounts) is not supported by runts yet`);
    if (o === 'tmpcopyup') { p.copyUp = true; return; }
    p.data.push(o);
  });
  // a bind mount keeps its data options (mode=755, size=1k...): runc passes them to mount(2), which ignores
  // them for MS_BIND
  return p;
}

function cleanDest(dest: string, field: string): string {
  if (!dest) throw new RuntimeError(`${field}.destination: is required`);
  // relative destinations are deprecated in the spec and taken relative to "/", as runc does
  const d = path.posix.normalize('/' + dest);
  if (d.split('/').includes('..')) throw new RuntimeError(`${field}.destination: must not contain ".."`);
  return d;
}

export interface MountContext {
  bundle: string;
  /** new user namespace: flags that the kernel locks on bind mounts must be kept */
  userns: boolean;
  /** the host's cgroup v1 hierarchies (name → mount options), empty on a pure v2 host */
  cgroupV1: Array<{ name: string; options: string }>;
  /**
   * v1 without a new cgroup namespace: the container's own cgroup directory in each hierarchy (name → host
   * path), bind-mounted as runc does instead of a fresh mount that would show the whole hierarchy (and that
   * a user namespace may not make)
   */
  cgroupBinds?: Array<{ name: string; source: string }>;
  /** linux.mountLabel as a context= option (SELinux hosts only) */
  mountContext?: string;
  /**
   * a new user and mount namespace: bind sources are opened on the host side, with the host's credentials,
   * before the user namespace (OPEN_TREE), and attached later (MOUNT_TREE), as runc does; the value is the
   * propagation the clones get (that of the container's root: MS_SLAVE or MS_PRIVATE)
   */
  bindTrees?: number;
}

const TARGET = How.TARGET_IN_ROOT;

export interface MountSteps {
  steps: Step[];
  /** OPEN_TREE steps, to run before the user namespace is entered */
  sources: Step[];
  /**
   * read-only remounts of tmpfs mounts, which are mounted writable so that what belongs under them (devices,
   * links, mount points, a tmpcopyup) can still be made; they go after the rest of the set-up, as runc does
   */
  readonly: Step[];
  /** a read-only tmpfs on /dev */
  roDev: boolean;
  hasDev: boolean;
  bindDev: boolean;
}

export function mountSteps(spec: Spec, ctx: MountContext): MountSteps {
  const steps: Step[] = [];
  const sources: Step[] = [];
  const readonly: Step[] = [];
  let roDev = false;
  let hasDev = false;
  let bindDev = false;
  (spec.mounts ?? []).forEach((m: Mount, i: number) => {
    const field = `mounts[${i}]`;
    const dest = cleanDest(m.destination, field);
    const type = m.type ?? '';
    const p = parseOptions(m.options, field, type === 'bind');
    if (dest === '/dev') { hasDev = true; bindDev = p.bind; }
    if (p.bind) {
      if (!m.source) throw new RuntimeError(`${field}.source: is required for a bind mount`);
      const src = path.resolve(ctx.bundle, m.source);
      if (ctx.bindTrees !== undefined) {
        const slot = sources.length;
        sources.push(step('OPEN_TREE', str(src), str(dest), u64(slot), u64(p.recursiveBind ? 1 : 0), u64(ctx.bindTrees)));
        steps.push(step('MOUNT_TREE', u64(slot), str(dest), u64(TARGET | How.MKDIR | How.MKFILE)));
      } else {
        // data options (mode=, size=...) go along as runc passes them; mount(2) ignores them for MS_BIND (and
        // open_tree above takes none)
        steps.push(step('MOUNT', str(src), str(dest), str(''), u64(MS.BIND | (p.recursiveBind ? MS.REC : 0)), str(p.data.join(',')),
          u64(TARGET | How.MKDIR | How.MKFILE)));
      }
      const remountFlags = p.flags & ~MS.REMOUNT;
      if (remountFlags || p.clear) {
        // a bind mount takes its flags only on a remount; flags locked by the kernel are kept by the stub
        steps.push(step('MOUNT', str(''), str(dest), str(''), u64(MS.REMOUNT | MS.BIND | remountFlags), str(''), u64(TARGET | How.KEEP_LOCKED)));
      }
    } else if (type === 'cgroup') {
      steps.push(...cgroupMount(dest, p, ctx));
    } else {
      if (!type) throw new RuntimeError(`${field}.type: is required for a mount that is not a bind mount`);
      // only bind sources are paths relative to the bundle; any other source goes to mount(2) as is
      const source = m.source ?? type;
      if (p.copyUp && type !== 'tmpfs') throw new RuntimeError(`${field}.options: "tmpcopyup" is only for tmpfs mounts`);
      // the SELinux mount label goes to the file systems that take one (not proc, sysfs, cgroup)
      const data = ctx.mountContext && !['proc', 'sysfs', 'cgroup', 'cgroup2'].includes(type) ? [...p.data, ctx.mountContext] : p.data;
      let flags = p.flags;
      if (type === 'tmpfs' && (flags & MS.RDONLY)) {
        flags &= ~MS.RDONLY;
        readonly.push(step('MOUNT', str(''), str(dest), str(''), u64(MS.REMOUNT | MS.BIND | MS.RDONLY | (flags & ~MS.REMOUNT)), str(''), u64(TARGET | How.KEEP_LOCKED)));
        if (dest === '/dev') roDev = true;
      }
      steps.push(step('MOUNT', str(source), str(dest), str(type), u64(flags), str(data.join(',')), u64(TARGET | How.MKDIR | (p.copyUp ? How.COPY_UP : 0))));
    }
    for (const prop of p.propagation) steps.push(step('MOUNT', str(''), str(dest), str(''), u64(prop), str(''), u64(TARGET)));
    if (p.recSet || p.recClr || p.recAtime !== undefined) {
      let set = p.recSet;
      let clr = p.recClr;
      if (p.recAtime !== undefined) { set |= p.recAtime; clr |= MOUNT_ATTR._ATIME; }
      steps.push(step('MOUNT_SETATTR', str(dest), u64(TARGET), u64(set), u64(clr), u64(0), u64(1)));
    }
  });
  return { steps, sources, readonly, roDev, hasDev, bindDev };
}

/** A `cgroup` mount: a tmpfs with each host hierarchy mounted below it (v1), or cgroup2 (v2). */
function cgroupMount(dest: string, p: ParsedOptions, ctx: MountContext): Step[] {
  const out: Step[] = [];
  const ro = (p.flags & MS.RDONLY) !== 0;
  const base = p.flags & ~MS.RDONLY;
  if (ctx.cgroupV1.length === 0) {
    out.push(step('MOUNT', str('cgroup'), str(dest), str('cgroup2'), u64(p.flags | MS.NOSUID | MS.NODEV | MS.NOEXEC), str(''), u64(TARGET | How.MKDIR)));
    return out;
  }
  out.push(step('MOUNT', str('tmpfs'), str(dest), str('tmpfs'), u64(base | MS.NOSUID | MS.NODEV | MS.NOEXEC), str('mode=755'), u64(TARGET | How.MKDIR)));
  if (ctx.cgroupBinds) {
    const flags = MS.NOSUID | MS.NODEV | MS.NOEXEC | (ro ? MS.RDONLY : 0);
    for (const b of ctx.cgroupBinds) {
      out.push(step('MOUNT', str(b.source), str(`${dest}/${b.name}`), str(''), u64(MS.BIND | MS.REC), str(''), u64(TARGET | How.MKDIR)));
      out.push(step('MOUNT', str(''), str(`${dest}/${b.name}`), str(''), u64(MS.REMOUNT | MS.BIND | flags), str(''), u64(TARGET | How.KEEP_LOCKED)));
    }
  } else for (const h of ctx.cgroupV1) {
    out.push(step('MOUNT', str('cgroup'), str(`${dest}/${h.name}`), str('cgroup'), u64(base | MS.NOSUID | MS.NODEV | MS.NOEXEC | (ro ? MS.RDONLY : 0)), str(h.options), u64(TARGET | How.MKDIR)));
  }
  // hybrid hosts: the cgroup2 at unified/ is not mounted in the container (as runc does); a cgroup2 mount
  // also costs the kernel ~20 ms
  if (ro) out.push(step('MOUNT', str(''), str(dest), str(''), u64(MS.REMOUNT | MS.RDONLY | base | MS.NOSUID | MS.NODEV | MS.NOEXEC), str('mode=755'), u64(TARGET)));
  return out;
}
