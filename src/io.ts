// Input and output for the commands managers call on every container, without Node's heavier modules.
// - Output never goes through process.stdout/stderr: creating those streams costs milliseconds, and a CLI that
//   prints one document does not need them. Writes are synchronous and complete (EAGAIN on a non-blocking pipe
//   is waited out).
// - Files go through the addon's synchronous file functions when the addon loads without node:fs (dist/runts with
//   its addon beside it, or Node): under Bun, node:fs costs ~140 page faults of a ~900-fault call. Otherwise (a
//   lone copy of the executable) node:fs, loaded on first use. Errors carry `code` (ENOENT...) either way
//   (docs/performance.md).
import { cheapNative } from './native';

/** node:fs, loaded on first use */
export const nodeFs = (): typeof import('fs') => require('fs') as typeof import('fs');

/** open(2) flags (Linux's values, as fs.constants has them) */
export const O_RDONLY = 0;
export const O_WRONLY = 1;
export const O_RDWR = 2;
export const O_CREAT = 0o100;
export const O_TRUNC = 0o1000;
export const O_APPEND = 0o2000;

/** Block this thread for `ms` milliseconds (a short wait in a synchronous retry loop). */
export function sleepMs(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** Write all of `data` to `fd` (a string as UTF-8); a closed pipe (EPIPE) is not an error. */
export function writeAll(fd: number, data: string | Uint8Array): void {
  const n = cheapNative();
  if (n && typeof data === 'string') {
    try {
      n.fsWriteAll(fd, data);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EPIPE') throw e;
    }
    return;
  }
  const write = n ? (b: Uint8Array) => n.fsWrite(fd, b) : (b: Uint8Array) => nodeFs().writeSync(fd, b);
  let buf = typeof data === 'string' ? new TextEncoder().encode(data) : data;
  while (buf.length) {
    try {
      buf = buf.subarray(write(buf));
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EAGAIN') { sleepMs(1); continue; }
      if (code === 'EPIPE') return;
      throw e;
    }
  }
}

export const stdout = (text: string): void => writeAll(1, text);
export const stderr = (text: string): void => writeAll(2, text);

/** A file's text (opened read-only), procfs and cgroupfs included; errors as readFileSync throws them (code ENOENT...). */
export function readText(file: string): string {
  const n = cheapNative();
  return n ? n.fsReadText(file) : nodeFs().readFileSync(file, 'utf8');
}

/** A file's text, or undefined when it cannot be read. */
export function readOptText(file: string): string | undefined {
  const n = cheapNative();
  // no error thrown and caught for a file that is not there (a stopped container's /proc/<pid>/stat)
  if (n) return n.fsReadText(file, true);
  try {
    return readText(file);
  } catch {
    return undefined;
  }
}

/** Whether anything (a socket included) is at `file` (symlinks followed). */
export function exists(file: string): boolean {
  const n = cheapNative();
  return n ? n.fsExists(file) : nodeFs().existsSync(file);
}

/** open(2), close-on-exec; returns the fd. */
export function openFile(file: string, flags: number, mode = 0o666): number {
  const n = cheapNative();
  return n ? n.fsOpen(file, flags, mode) : nodeFs().openSync(file, flags, mode);
}

export function closeFd(fd: number): void {
  const n = cheapNative();
  if (n) n.fsClose(fd);
  else nodeFs().closeSync(fd);
}

/** One read from `fd` into `buf`: the byte count, 0 at end of file. */
export function readFd(fd: number, buf: Uint8Array): number {
  const n = cheapNative();
  return n ? n.fsRead(fd, buf) : nodeFs().readSync(fd, buf, 0, buf.length, null);
}

/** One write of `buf` to `fd`: the byte count. */
export function writeFd(fd: number, buf: Uint8Array): number {
  const n = cheapNative();
  return n ? n.fsWrite(fd, buf) : nodeFs().writeSync(fd, buf);
}

/** Write `text` to a file opened with O_WRONLY | O_CREAT | `flags` (O_TRUNC to replace, O_APPEND to add). */
export function writeText(file: string, text: string, flags: number, mode = 0o666): void {
  const n = cheapNative();
  if (n) return n.fsWriteFile(file, text, flags, mode);
  const fs = nodeFs();
  if (flags & O_APPEND) fs.appendFileSync(file, text, { mode });
  else fs.writeFileSync(file, text, { mode });
}

export function renameFile(from: string, to: string): void {
  const n = cheapNative();
  if (n) n.fsRename(from, to);
  else nodeFs().renameSync(from, to);
}

export function unlinkFile(file: string): void {
  const n = cheapNative();
  if (n) n.fsUnlink(file);
  else nodeFs().unlinkSync(file);
}

/** rm -rf, never following a symlink; nothing there is fine. */
export function removeTree(file: string): void {
  const n = cheapNative();
  if (n) n.fsRemoveTree(file);
  else nodeFs().rmSync(file, { recursive: true, force: true });
}

export function removeEmptyDir(dir: string): void {
  const n = cheapNative();
  if (n) n.fsRmdir(dir);
  else nodeFs().rmdirSync(dir);
}

/** The names of a directory's sub-directories (symlinks not followed). */
export function subdirs(dir: string): string[] {
  const n = cheapNative();
  if (n) return n.fsSubdirs(dir);
  return nodeFs().readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name);
}

/** S_IFMT bits of a mode */
export const S_IFMT = 0o170000;
export const S_IFDIR = 0o040000;
export const S_IFLNK = 0o120000;
/** access(2) modes */
export const W_OK = 2;
export const X_OK = 1;

/** stat(2) (lstat(2) with `nofollow`, fstat(2) of an fd): mode, dev and ino; errors as statSync throws them. */
export function statFile(file: string | number, nofollow = false): { mode: number; dev: number; ino: number } {
  const n = cheapNative();
  if (n) {
    const [mode, dev, ino] = n.fsStat(file, nofollow);
    return { mode, dev, ino };
  }
  const fs = nodeFs();
  return typeof file === 'number' ? fs.fstatSync(file) : nofollow ? fs.lstatSync(file) : fs.statSync(file);
}

export const isDirMode = (mode: number): boolean => (mode & S_IFMT) === S_IFDIR;
export const isLinkMode = (mode: number): boolean => (mode & S_IFMT) === S_IFLNK;

/** One directory (not recursive). */
export function makeDir(dir: string, mode: number): void {
  const n = cheapNative();
  if (n) n.fsMkdir(dir, mode);
  else nodeFs().mkdirSync(dir, { mode });
}

/** mkdir -p: `dir` and its missing parents, each made with `mode`; a directory already there is fine. */
export function makeDirs(dir: string, mode: number): void {
  const n = cheapNative();
  if (!n) {
    nodeFs().mkdirSync(dir, { recursive: true, mode });
    return;
  }
  const mkdir = (): string | undefined => {
    try {
      n.fsMkdir(dir, mode);
      return undefined;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EEXIST' && isDirMode(n.fsStat(dir)[0])) return undefined;
      if (code === 'ENOENT') return code;
      throw e;
    }
  };
  if (!mkdir()) return;
  const parent = dir.slice(0, dir.lastIndexOf('/'));
  if (!parent) n.fsMkdir(dir, mode); // throws ENOENT again
  makeDirs(parent, mode);
  // another call may have made it meanwhile (EEXIST of a directory is fine)
  if (mkdir()) n.fsMkdir(dir, mode);
}

export function realPath(file: string): string {
  const n = cheapNative();
  return n ? n.fsRealpath(file) : nodeFs().realpathSync(file);
}

/** Whether access(2) allows `mode` (W_OK, X_OK). */
export function canAccess(file: string, mode: number): boolean {
  const n = cheapNative();
  if (n) return n.fsAccess(file, mode);
  try {
    nodeFs().accessSync(file, mode);
    return true;
  } catch {
    return false;
  }
}

/** A file's bytes (a path, or an open fd such as 0, read to its end); errors as readFileSync throws them. */
export function readBytes(file: string | number): Uint8Array {
  const n = cheapNative();
  if (!n) return nodeFs().readFileSync(file);
  const fd = typeof file === 'number' ? file : n.fsOpen(file, O_RDONLY);
  try {
    let buf = new Uint8Array(16384);
    let len = 0;
    for (;;) {
      if (len === buf.length) {
        const bigger = new Uint8Array(buf.length * 2);
        bigger.set(buf);
        buf = bigger;
      }
      const got = n.fsRead(fd, buf.subarray(len));
      if (got === 0) return buf.subarray(0, len);
      len += got;
    }
  } finally {
    if (typeof file !== 'number') n.fsClose(fd);
  }
}
