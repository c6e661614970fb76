// config `mounts` → MOUNT / MOUNT_SETATTR steps. All flag decisions are made here.
import { normalize, resolve } from '../paths';
import type { Mount, Spec } from '../config/types';
import { How } from './ops';
import { Step, step, str, u64 } from './encode';
import { idMapText } from './namespaces';

export const MS = {
  RDONLY: 0x1, NOSUID: 0x2, NODEV: 0x4, NOEXEC: 0x8, SYNCHRONOUS: 0x10, REMOUNT: 0x20, MANDLOCK: 0x40,
  DIRSYNC: 0x80, NOSYMFOLLOW: 0x100, NOATIME: 0x400, NODIRATIME: 0x800, BIND: 0x1000, MOVE: 0x2000,
  REC: 0x4000, SILENT: 0x8000, UNBINDABLE: 1 << 17, PRIVATE: 1 << 18, SLAVE: 1 << 19, SHARED: 1 << 20,
  RELATIME: 1 << 21, I_VERSION: 1 << 23, STRICTATIME: 1 << 24, LAZYTIME: 1 << 25,
} as const;

export const MOUNT_ATTR = {
  RDONLY: 0x1, NOSUID: 0x2, NODEV: 0x4, NOEXEC: 0x8, _ATIME: 0x70, RELATIME: 0x0, NOATIME: 0x10,
  STRICTATIME: 0x20, NODIRATIME: 0x80, IDMAP: 0x100000, NOSYMFOLLOW: 0x200000,
} as const;

export const PROPAGATION: Record<string, number> = {
  private: MS.PRIVATE, rprivate: MS.PRIVATE | MS.REC,
  shared: MS.SHARED, rshared: MS.SHARED | MS.REC,
  slave: MS.SLAVE, rslave: MS.SLAVE | MS.REC,
  unbindable: MS.UNBINDABLE, runbindable: MS.UNBINDABLE | MS.REC,
};

/**
 * Every mount option runts accepts, and what it does. The planner (parseOptions) and `runts features`
 * (mountOptions) both read this table, so the list cannot drift from what is applied.
 */
type OptionKind =
  /** set (true) or clear (false) a mount(2) flag */
  | { kind: 'flag'; set: boolean; flag: number }
  /** propagation (a separate mount(2) call) */
  | { kind: 'propagation'; flags: number }
  /** recursive mount_setattr(AT_RECURSIVE) attribute: set (true) or clear (false) */
  | { kind: 'rec'; set: boolean; attr: number }
  /** recursive atime mode (mount_setattr with MOUNT_ATTR__ATIME cleared) */
  | { kind: 'recAtime'; attr: number }
  | { kind: 'bind'; recursive: boolean }
  /** id-mapped mount (mount_setattr MOUNT_ATTR_IDMAP), recursive for ridmap */
  | { kind: 'idmap'; recursive: boolean }
  | { kind: 'copyUp' }
  /** a filesystem-specific option that goes to the filesystem in mount(2)'s data, as runc passes it */
  | { kind: 'data' }
  /** meaningful only to mount(8) and fstab; accepted and ignored, as runc does */
  | { kind: 'ignored' };

const flag = (set: boolean, f: number): OptionKind => ({ kind: 'flag', set, flag: f });
const rec = (set: boolean, attr: number): OptionKind => ({ kind: 'rec', set, attr });

export const MOUNT_OPTIONS: Record<string, OptionKind> = {
  ro: flag(true, MS.RDONLY), rw: flag(false, MS.RDONLY),
  nosuid: flag(true, MS.NOSUID), suid: flag(false, MS.NOSUID),
  nodev: flag(true, MS.NODEV), dev: flag(false, MS.NODEV),
  noexec: flag(true, MS.NOEXEC), exec: flag(false, MS.NOEXEC),
  sync: flag(true, MS.SYNCHRONOUS), async: flag(false, MS.SYNCHRONOUS),
  dirsync: flag(true, MS.DIRSYNC),
  remount: flag(true, MS.REMOUNT),
  mand: flag(true, MS.MANDLOCK), nomand: flag(false, MS.MANDLOCK),
  noatime: flag(true, MS.NOATIME), atime: flag(false, MS.NOATIME),
  nodiratime: flag(true, MS.NODIRATIME), diratime: flag(false, MS.NODIRATIME),
  relatime: flag(true, MS.RELATIME), norelatime: flag(false, MS.RELATIME),
  strictatime: flag(true, MS.STRICTATIME), nostrictatime: flag(false, MS.STRICTATIME),
  lazytime: flag(true, MS.LAZYTIME), nolazytime: flag(false, MS.LAZYTIME),
  // MS_I_VERSION, as runc maps them (the filesystem decides whether it keeps i_version)
  iversion: flag(true, MS.I_VERSION), noiversion: flag(false, MS.I_VERSION),
  silent: flag(true, MS.SILENT), loud: flag(false, MS.SILENT),
  nosymfollow: flag(true, MS.NOSYMFOLLOW), symfollow: flag(false, MS.NOSYMFOLLOW),
  ...Object.fromEntries(Object.entries(PROPAGATION).map(([k, v]) => [k, { kind: 'propagation', flags: v } as OptionKind])),
  rro: rec(true, MOUNT_ATTR.RDONLY), rrw: rec(false, MOUNT_ATTR.RDONLY),
  rnosuid: rec(true, MOUNT_ATTR.NOSUID), rsuid: rec(false, MOUNT_ATTR.NOSUID),
  rnodev: rec(true, MOUNT_ATTR.NODEV), rdev: rec(false, MOUNT_ATTR.NODEV),
  rnoexec: rec(true, MOUNT_ATTR.NOEXEC), rexec: rec(false, MOUNT_ATTR.NOEXEC),
  rnodiratime: rec(true, MOUNT_ATTR.NODIRATIME), rdiratime: rec(false, MOUNT_ATTR.NODIRATIME),
  rnosymfollow: rec(true, MOUNT_ATTR.NOSYMFOLLOW), rsymfollow: rec(false, MOUNT_ATTR.NOSYMFOLLOW),
  rrelatime: { kind: 'recAtime', attr: MOUNT_ATTR.RELATIME },
  rnoatime: { kind: 'recAtime', attr: MOUNT_ATTR.NOATIME },
  rstrictatime: { kind: 'recAtime', attr: MOUNT_ATTR.STRICTATIME },
  // atime is one mode of three for mount_setattr: "not noatime" is the kernel's default, relatime
  ratime: { kind: 'recAtime', attr: MOUNT_ATTR.RELATIME },
  // "do not use relatime" (mount(8)): full atime updates; "not strictatime": back to the default, relatime
  rnorelatime: { kind: 'recAtime', attr: MOUNT_ATTR.STRICTATIME },
  rnostrictatime: { kind: 'recAtime', attr: MOUNT_ATTR.RELATIME },
  bind: { kind: 'bind', recursive: false }, rbind: { kind: 'bind', recursive: true },
  idmap: { kind: 'idmap', recursive: false }, ridmap: { kind: 'idmap', recursive: true },
  tmpcopyup: { kind: 'copyUp' },
  // ACLs are a filesystem's option (runc passes them as data too: MS_POSIXACL is not for mount(2))
  acl: { kind: 'data' }, noacl: { kind: 'data' },
  defaults: { kind: 'ignored' }, auto: { kind: 'ignored' }, noauto: { kind: 'ignored' }, user: { kind: 'ignored' },
  nouser: { kind: 'ignored' }, users: { kind: 'ignored' }, nofail: { kind: 'ignored' }, _netdev: { kind: 'ignored' },
};

/** the options `runts features` lists: every named option of the table */
export function knownMountOptions(): string[] {
  return Object.keys(MOUNT_OPTIONS).sort();
}

export interface ParsedOptions {
  flags: number;
  clear: number;
  propagation: Array<{ flags: number; option: string }>;
  recSet: number;
  recClr: number;
  recAtime?: number;
  /** the recursive options given (for messages) */
  recOptions: string[];
  data: string[];
  /** the options that go to the mount(2) call itself (flags and data, for messages) */
  mountOptions: string[];
  bind: boolean;
  recursiveBind: boolean;
  /** tmpcopyup: the new tmpfs starts with a copy of what the target directory held */
  copyUp: boolean;
  /** idmap / ridmap: the option given (undefined: none) */
  idmap?: { option: string; index: number; recursive: boolean };
}

export function parseOptions(options: string[] | undefined, field: string, isBind: boolean): ParsedOptions {
  const p: ParsedOptions = {
    flags: 0, clear: 0, propagation: [], recSet: 0, recClr: 0, recOptions: [], data: [], mountOptions: [],
    bind: isBind || (options ?? []).some((o) => o === 'bind' || o === 'rbind'), recursiveBind: false, copyUp: false,
  };
  (options ?? []).forEach((o, i) => {
    const k = Object.prototype.hasOwnProperty.call(MOUNT_OPTIONS, o) ? MOUNT_OPTIONS[o] : undefined;
    if (!k) {
      if (o.startsWith('x-')) return; // userspace (fstab) options, ignored as runc does
      p.data.push(o);
      p.mountOptions.push(o);
      return;
    }
    switch (k.kind) {
      case 'flag':
        if (k.set) { p.flags |= k.flag; p.clear &= ~k.flag; } else { p.flags &= ~k.flag; p.clear |= k.flag; }
        if (o !== 'remount') p.mountOptions.push(o);
        return;
      case 'propagation': p.propagation.push({ flags: k.flags, option: o }); return;
      case 'rec':
        if (k.set) { p.recSet |= k.attr; p.recClr &= ~k.attr; } else { p.recClr |= k.attr; p.recSet &= ~k.attr; }
        p.recOptions.push(o);
        return;
      case 'recAtime': p.recAtime = k.attr; p.recOptions.push(o); return;
      case 'bind': if (k.recursive) p.recursiveBind = true; return;
      case 'idmap': p.idmap = { option: o, index: i, recursive: k.recursive }; return;
      case 'copyUp': p.copyUp = true; return;
      case 'data': p.data.push(o); p.mountOptions.push(o); return;
      case 'ignored': return;
    }
  });
  // a bind mount keeps its data options (mode=755, size=1k...): runc passes them to mount(2), which ignores
  // them for MS_BIND
  return p;
}

function cleanDest(dest: string): string {
  // relative destinations are deprecated in the spec and taken relative to "/", as runc does
  return normalize('/' + dest);
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
  /** the propagation of clones of bind sources opened for other reasons (id-mapped mounts) */
  treePropagation?: number;
  /** the container's user namespace (created: its maps; joined: its path), for idmap without mappings */
  containerUserns?: IdmapNs;
  /**
   * a user namespace without a network namespace of its own: the kernel refuses a sysfs mount there, so a
   * `sysfs` mount becomes a recursive bind of the host's /sys with its options (runc's fallback, rootless)
   */
  sysfsBind?: boolean;
  /**
   * cgroup v2 in a user namespace without a new cgroup namespace: the kernel refuses a cgroup2 mount there, so
   * this host mount of cgroup2 is bound instead (runc's fallback, rootless)
   */
  cgroup2Bind?: string;
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

/** `mounts[i]: option "a"` / `mounts[i]: options "a", "b"`: the context of a step's error messages */
function optionsLabel(field: string, opts: string[]): string {
  if (!opts.length) return field;
  return `${field}: ${opts.length === 1 ? 'option' : 'options'} ${opts.map((o) => JSON.stringify(o)).join(', ')}`;
}

/** the user namespace an id-mapped mount gets: its maps (uid_map, gid_map text) or a path */
interface IdmapNs { uidMap: string; gidMap: string; path: string }

/**
 * The id mapping of mount i, if any: the mount's own uidMappings/gidMappings, else (idmap/ridmap without them)
 * the container's user namespace, created or joined, as runc does. Mappings without the option are applied
 * too (non-recursively), as runc does.
 */
function mountIdmap(m: Mount, field: string, p: ParsedOptions, ctx: MountContext): { ns: IdmapNs; recursive: boolean; label: string } | undefined {
  const uid = m.uidMappings?.length ? m.uidMappings : undefined;
  const gid = m.gidMappings?.length ? m.gidMappings : undefined;
  if (!p.idmap && !uid && !gid) return undefined;
  // checkMounts (config/rules.ts) has refused the mappings that cannot be: one of the two only, a cgroup
  // mount, a filesystem made in the container's user namespace, no mappings and no user namespace
  const label = p.idmap ? `${field}: option "${p.idmap.option}"` : `${field}.uidMappings`;
  const ns: IdmapNs = uid && gid ? { uidMap: idMapText(uid), gidMap: idMapText(gid), path: '' } : ctx.containerUserns!;
  return { ns, recursive: p.idmap?.recursive ?? false, label };
}

export function mountSteps(spec: Spec, ctx: MountContext): MountSteps {
  const steps: Step[] = [];
  const sources: Step[] = [];
  const readonly: Step[] = [];
  let roDev = false;
  let hasDev = false;
  let bindDev = false;
  let trees = 0;
  const nsSlots = new Map<string, number>();
  /** the step that last uses each user namespace slot: it closes the namespace's fd (swapped in at the end) */
  const lastUse = new Map<number, { list: Step[]; at: number; make: (close: number) => Step }>();
  const useNs = (list: Step[], make: (close: number) => Step, ns: number) => {
    lastUse.set(ns, { list, at: list.length, make });
    list.push(make(0));
  };
  /** the user namespace slot for these mappings, made (with the host's credentials, among the sources) once */
  const nsSlot = (ns: IdmapNs): number => {
    const key = `${ns.uidMap}|${ns.gidMap}|${ns.path}`;
    let slot = nsSlots.get(key);
    if (slot === undefined) {
      slot = nsSlots.size;
      nsSlots.set(key, slot);
      sources.push(step('USERNS', u64(slot), str(ns.uidMap), str(ns.gidMap), str(ns.path)));
    }
    return slot;
  };
  const errctx = (label: string) => step('ERRCTX', str(label));
  (spec.mounts ?? []).forEach((given: Mount, i: number) => {
    const field = `mounts[${i}]`;
    const m: Mount = ctx.sysfsBind && given.type === 'sysfs'
      ? { destination: given.destination, type: 'bind', source: '/sys', options: ['rbind', ...(given.options ?? [])] }
      : given;
    const dest = cleanDest(m.destination!);
    const type = m.type ?? '';
    const p = parseOptions(m.options, field, type === 'bind');
    const idmap = mountIdmap(m, field, p, ctx);
    if (dest === '/dev') { hasDev = true; bindDev = p.bind; }
    // the options of the mount(2) call: the stub names the filesystem option it refuses itself, if any
    steps.push(errctx(optionsLabel(field, p.bind || p.data.length ? [] : p.mountOptions)));
    if (p.bind) {
      const src = resolve(ctx.bundle, m.source!);
      if (ctx.bindTrees !== undefined || idmap) {
        const slot = trees++;
        sources.push(errctx(idmap ? idmap.label : field));
        sources.push(step('OPEN_TREE', str(src), str(dest), u64(slot), u64(p.recursiveBind ? 1 : 0), u64(ctx.bindTrees ?? ctx.treePropagation ?? MS.SLAVE)));
        if (idmap) {
          const ns = nsSlot(idmap.ns);
          useNs(sources, (close) => step('IDMAP_TREE', u64(slot), u64(ns), u64(idmap.recursive ? 1 : 0), u64(close)), ns);
        }
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
        steps.push(errctx(optionsLabel(field, p.mountOptions)));
        steps.push(step('MOUNT', str(''), str(dest), str(''), u64(MS.REMOUNT | MS.BIND | remountFlags), str(''), u64(TARGET | How.KEEP_LOCKED)));
      }
    } else if (type === 'cgroup') {
      steps.push(...cgroupMount(dest, p, ctx));
    } else {
      // only bind sources are paths relative to the bundle; any other source goes to mount(2) as is
      const source = m.source ?? type;
      // the SELinux mount label goes to the file systems that take one (not proc, sysfs, cgroup)
      const data = ctx.mountContext && !['proc', 'sysfs', 'cgroup', 'cgroup2'].includes(type) ? [...p.data, ctx.mountContext] : p.data;
      let flags = p.flags;
      if (type === 'tmpfs' && (flags & MS.RDONLY)) {
        flags &= ~MS.RDONLY;
        readonly.push(errctx(optionsLabel(field, ['ro'])));
        readonly.push(step('MOUNT', str(''), str(dest), str(''), u64(MS.REMOUNT | MS.BIND | MS.RDONLY | (flags & ~MS.REMOUNT)), str(''), u64(TARGET | How.KEEP_LOCKED)));
        readonly.push(errctx(''));
        if (dest === '/dev') roDev = true;
      }
      steps.push(step('MOUNT', str(source), str(dest), str(type), u64(flags), str(data.join(',')), u64(TARGET | How.MKDIR | (p.copyUp ? How.COPY_UP : 0))));
      if (idmap) {
        // the new mount is cloned, the clone id-mapped and put in its place
        sources.push(errctx(idmap.label));
        const ns = nsSlot(idmap.ns);
        steps.push(errctx(idmap.label));
        useNs(steps, (close) => step('IDMAP_MOUNT', str(dest), u64(ns), u64(idmap.recursive ? 1 : 0), u64(close)), ns);
      }
    }
    for (const prop of p.propagation) {
      steps.push(errctx(optionsLabel(field, [prop.option])));
      steps.push(step('MOUNT', str(''), str(dest), str(''), u64(prop.flags), str(''), u64(TARGET)));
    }
    if (p.recSet || p.recClr || p.recAtime !== undefined) {
      let set = p.recSet;
      let clr = p.recClr;
      if (p.recAtime !== undefined) { set |= p.recAtime; clr |= MOUNT_ATTR._ATIME; }
      steps.push(errctx(optionsLabel(field, p.recOptions)));
      steps.push(step('MOUNT_SETATTR', str(dest), u64(TARGET), u64(set), u64(clr), u64(0), u64(1)));
    }
  });
  for (const u of lastUse.values()) u.list[u.at] = u.make(1);
  if (steps.length) steps.push(errctx(''));
  if (sources.length) sources.push(errctx(''));
  return { steps, sources, readonly, roDev, hasDev, bindDev };
}

/** A `cgroup` mount: a tmpfs with each host hierarchy mounted below it (v1), or cgroup2 (v2). */
function cgroupMount(dest: string, p: ParsedOptions, ctx: MountContext): Step[] {
  const out: Step[] = [];
  const ro = (p.flags & MS.RDONLY) !== 0;
  const base = p.flags & ~MS.RDONLY;
  if (ctx.cgroupV1.length === 0 && ctx.cgroup2Bind) {
    out.push(step('MOUNT', str(ctx.cgroup2Bind), str(dest), str(''), u64(MS.BIND | MS.REC), str(''), u64(TARGET | How.MKDIR)));
    out.push(step('MOUNT', str(''), str(dest), str(''), u64(MS.REMOUNT | MS.BIND | p.flags | MS.NOSUID | MS.NODEV | MS.NOEXEC), str(''), u64(TARGET | How.KEEP_LOCKED)));
    return out;
  }
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
