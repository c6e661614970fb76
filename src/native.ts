// The node-addon-api addon (native/addon): the syscalls Node lacks. Loaded lazily, once. node:path and node:fs
// are loaded only on the paths that need them (the embedded fallback, Node's build tree): the short calls load
// the addon beside the executable and use its file functions instead of node:fs (docs/performance.md).
import type { NetAddr } from './plan/netdev';

export interface Native {
  /** copy an executable into a memfd and seal it (write, grow, shrink, seal); returns the fd */
  sealedMemfdFrom(file: string, name: string): number;
  /** the same from bytes (the stub embedded in the single-file executable) */
  sealedMemfdFromBytes(bytes: Uint8Array, name: string): number;
  memfdSeals(fd: number): number;
  /** the init stub `dir/name`, opened O_PATH through a private read-only overlayfs (over `lower`): see stub.ts */
  stubOverlayFd(dir: string, name: string, lower: string): number;
  /** false only when nonblock and the lock is held elsewhere */
  flock(fd: number, how: 'ex' | 'sh' | 'un', nonblock?: boolean): boolean;
  pidfdOpen(pid: number): number;
  pidfdSendSignal(pidfd: number, sig: number): void;
  /** a copy (close-on-exec) of the process's fd number `fd` (pidfd_getfd(2)) */
  pidfdGetfd(pidfd: number, fd: number): number;
  /** true once the process has exited (zombie included), waiting at most ms */
  pollPidfdExited(pidfd: number, ms: number): boolean;
  /** reap the exited child behind a pidfd: false while it still runs */
  reapPidfd(pidfd: number): boolean;
  /** reap a child (or an orphan reparented to us as subreaper) */
  waitPidfd(pidfd: number): Promise<{ code: number | null; signal: number | null }>;
  /** waitPidfd blocking the thread (no worker thread) */
  waitPidfdSync(pidfd: number): { code: number | null; signal: number | null };
  /** from now on send each signal of `mask` (bit n: signal n, 1..31) on to the process behind pidfd; (-1, 0): stop */
  forwardSignals(pidfd: number, mask: number): void;
  /** PR_SET_CHILD_SUBREAPER; returns whether it was set before */
  setChildSubreaper(on: boolean): boolean;
  unixListen(file: string, backlog: number): number;
  unixConnect(file: string): number;
  unixAccept(fd: number): number;
  recvFd(sock: number): { fd: number; data: Buffer };
  sendFd(sock: number, fd: number, data?: string): void;
  getWinsize(fd: number): { rows: number; cols: number };
  setWinsize(fd: number, rows: number, cols: number): void;
  /** raw mode as runc's (cfmakeraw, OPOST off too); returns the previous termios for ttyRestore */
  ttyMakeRaw(fd: number): Buffer;
  ttyRestore(fd: number, saved: Buffer): void;
  statfsType(file: string): number;
  mkfifo(file: string, mode: number): void;
  /** umount2(MNT_DETACH | UMOUNT_NOFOLLOW) */
  detachMount(file: string): void;
  /** mknod(2): `mode` carries the type bits (S_IFCHR, S_IFBLK, S_IFIFO) */
  mknod(file: string, mode: number, major: number, minor: number): void;
  /** lsetxattr(2), on a symlink itself */
  lsetxattr(file: string, name: string, value: Buffer): void;
  /** mount(2) of a new file system with no flags (image bundles: overlay) */
  mountFs(source: string, target: string, fstype: string, data: string): void;
  /** a connected AF_UNIX stream pair, both ends O_CLOEXEC */
  socketPair(): [number, number];
  /** whether the kernel knows a SECCOMP_FILTER_FLAG_* bit (nothing is loaded) */
  seccompFlagSupported(flag: number): boolean;
  /** the libseccomp version the init stub is built with (compile time, same headers) */
  libseccompVersion: string;
  /** load a BPF_PROG_TYPE_CGROUP_DEVICE program and attach it to a cgroup2 directory */
  attachDeviceFilter(cgroupDir: string, insns: Buffer): void;
  /** a network device of runts' network namespace and its addresses (ENODEV when missing) */
  netLinkAddrs(name: string): { index: number; addrs: NetAddr[] };
  /** move a device into the network namespace behind nsFd, renamed to newName (one RTM_NEWLINK) */
  netLinkMove(name: string, newName: string, nsFd: number): void;

  // Files, synchronously, for the short calls (state, kill, start, delete) and create, run, exec (io.ts): node:fs costs them ~140 page
  // faults under Bun. Errors carry `code` (ENOENT...) as node:fs's do; every fd is O_CLOEXEC.
  /** open(2); `mode` defaults to 0o666 */
  fsOpen(file: string, flags: number, mode?: number): number;
  fsClose(fd: number): void;
  /** one read(2) into buf: the byte count, 0 at EOF */
  fsRead(fd: number, buf: Uint8Array): number;
  /** read to EOF (ECONNRESET taken as EOF): the bytes as a latin1 string (one char per byte) */
  fsReadToEnd(fd: number): string;
  /** one write(2) of buf: the byte count */
  fsWrite(fd: number, buf: Uint8Array): number;
  /** all of text (UTF-8) to fd, EAGAIN waited out */
  fsWriteAll(fd: number, text: string): void;
  /** a whole file's text, read to EOF (procfs and cgroupfs included); `orUndefined`: undefined when unreadable */
  fsReadText(file: string): string;
  fsReadText(file: string, orUndefined: true): string | undefined;
  /** open(file, flags | O_WRONLY | O_CREAT, mode), write all of text, close (flags: O_TRUNC, O_APPEND...) */
  fsWriteFile(file: string, text: string, flags: number, mode: number): void;
  /** stat(2) succeeds: anything is there (a socket included; symlinks followed) */
  fsExists(file: string): boolean;
  fsRename(from: string, to: string): void;
  fsUnlink(file: string): void;
  fsRmdir(dir: string): void;
  /** rm -rf without following symlinks; nothing there is fine */
  fsRemoveTree(file: string): void;
  /** the names of a directory's sub-directories (symlinks not followed) */
  fsSubdirs(dir: string): string[];
  /** [mode, dev, ino] of stat(2), lstat(2) (`nofollow`) or fstat(2) (an fd) */
  fsStat(file: string | number, nofollow?: boolean): [number, number, number];
  /** one mkdir(2) */
  fsMkdir(dir: string, mode: number): void;
  /** realpath(3) */
  fsRealpath(file: string): string;
  /** whether access(2) allows `mode` (W_OK 2, X_OK 1) */
  fsAccess(file: string, mode: number): boolean;
}

let cached: Native | undefined;
let triedCheap = false;

/** The addon's file name beside the executable: scripts/compile.mjs bakes it into dist/runts (--define). */
declare const __RUNTS_ADDON__: string | undefined;

/** A file embedded in the single-file executable (Bun.embeddedFiles) whose name starts with `prefix`. */
export function embeddedFile(prefix: string): (Blob & { name?: string }) | undefined {
  const embedded = (globalThis as { Bun?: { embeddedFiles?: Array<Blob & { name?: string }> } }).Bun?.embeddedFiles;
  return embedded?.find((f) => f.name?.startsWith(prefix));
}

/** The addon's name among the single-file executable's embedded files (scripts/compile.mjs puts it there). */
export const EMBEDDED_ADDON = 'runts_native.addon';

/**
 * The addon, when it loads without node:fs (otherwise undefined, and the caller uses node:fs): RUNTS_NATIVE_ADDON,
 * the file beside the executable (dist/runts), or the build tree's (Node). Tried once.
 */
export function cheapNative(): Native | undefined {
  if (cached || triedCheap) return cached;
  triedCheap = true;
  const file = process.env.RUNTS_NATIVE_ADDON;
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  if (file) return (cached = require((require('path') as typeof import('path')).resolve(file)) as Native);
  if (typeof __RUNTS_ADDON__ === 'string') return (cached = loadBeside(__RUNTS_ADDON__));
  if (embeddedFile(EMBEDDED_ADDON)) return undefined;
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  return (cached = require(`${__dirname}/../native/addon/build/Release/runts_native.node`) as Native);
}

export function loadNative(): Native {
  return cheapNative() ?? (cached = loadEmbedded()!);
}

/**
 * dist/runts' addon, written beside it by the same build: `name` carries the hash of its bytes, so only the addon
 * of this very build matches, and the directory is the executable's own (its real path, symlinks resolved), as
 * trusted as the executable itself; never a shared writable directory. Missing (a lone copy of the executable):
 * undefined, and the embedded bytes are loaded instead.
 */
function loadBeside(name: string): Native | undefined {
  const exe = process.execPath;
  const m = { exports: {} as Native };
  try {
    process.dlopen(m, exe.slice(0, exe.lastIndexOf('/') + 1) + name);
    return m.exports;
  } catch {
    return undefined;
  }
}

/**
 * The single-file executable carries the addon as plain bytes, not as a `.node` require: Bun would write such an
 * addon to a fixed name in /tmp once and dlopen whatever is at that name on every later call (a file a container
 * with the host's /tmp mounted could replace). Here the bytes go into an unnamed O_TMPFILE inode that only this
 * process holds, and that is what is dlopened (through /proc/self/fd). A directory on a noexec mount cannot be
 * mapped executable, so a few are tried.
 */
function loadEmbedded(): Native | undefined {
  if (!embeddedFile(EMBEDDED_ADDON)) return undefined;
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const fs = require('fs') as typeof import('fs');
  const bytes = fs.readFileSync(`/$bunfs/root/${EMBEDDED_ADDON}`);
  const O_TMPFILE = 0o20200000;
  const errors: string[] = [];
  for (const dir of ['/tmp', '/var/tmp', '/run', '/dev/shm']) {
    let fd = -1;
    try {
      fd = fs.openSync(dir, O_TMPFILE | fs.constants.O_RDWR, 0o700);
      fs.writeSync(fd, bytes);
      const m = { exports: {} as Native };
      process.dlopen(m, `/proc/self/fd/${fd}`);
      return m.exports;
    } catch (e) {
      errors.push(`${dir}: ${(e as Error).message}`);
    } finally {
      if (fd >= 0) fs.closeSync(fd);
    }
  }
  throw new Error(`cannot load the embedded addon (${errors.join('; ')})`);
}
