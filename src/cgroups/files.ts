// Reading and writing cgroup interface files, creating and removing cgroup directories.
// Every write opens the file without O_CREAT: a missing interface file means the kernel lacks the feature.
import { RuntimeError, errnoText } from '../errors';
import { O_WRONLY, closeFd, exists as fileExists, makeDir as mkdir, openFile, readOptText, readText, writeAll } from '../io';
import { dirname, join } from '../paths';

export class CgroupFileError extends RuntimeError {
  constructor(message: string, public readonly code: string | undefined) {
    super(message);
  }
}

/** Write `value` to `dir/file`; the error names the file, the value and the errno text. */
export function writeFile(dir: string, file: string, value: string | number): void {
  const p = join(dir, file);
  let fd: number;
  try {
    fd = openFile(p, O_WRONLY);
  } catch (e) {
    throw new CgroupFileError(`open ${p}: ${errnoText(e)}`, (e as NodeJS.ErrnoException).code);
  }
  try {
    writeAll(fd, String(value));
  } catch (e) {
    throw new CgroupFileError(`write ${JSON.stringify(String(value))} to ${p}: ${errnoText(e)}`, (e as NodeJS.ErrnoException).code);
  } finally {
    closeFd(fd);
  }
}

export function readFile(dir: string, file: string): string {
  return readText(join(dir, file));
}

/** The file's content, or undefined when it does not exist. */
export function readOpt(dir: string, file: string): string | undefined {
  return readOptText(join(dir, file));
}

export function exists(dir: string, file: string): boolean {
  return fileExists(join(dir, file));
}

/** A number from a one-value file ("max" → undefined). */
export function readNum(dir: string, file: string): number | undefined {
  const t = readOpt(dir, file)?.trim();
  if (t === undefined || t === '' || t === 'max') return undefined;
  const n = Number(t);
  return Number.isFinite(n) ? n : undefined;
}

/** "key value" lines (memory.stat, cpu.stat, cgroup.events...) as a map. */
export function readKeyed(dir: string, file: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of (readOpt(dir, file) ?? '').split('\n')) {
    const [k, v] = line.trim().split(/\s+/);
    if (k && v !== undefined && Number.isFinite(Number(v))) out[k] = Number(v);
  }
  return out;
}

/** The pids in cgroup.procs (empty when the cgroup is gone). */
export function procs(dir: string): number[] {
  const t = readOpt(dir, 'cgroup.procs') ?? '';
  return t.split('\n').filter(Boolean).map(Number);
}

/** The directories of `dir` and its parents that do not exist yet, outermost first (below `stop`). */
export function missingDirs(dir: string, stop: string): string[] {
  const out: string[] = [];
  let d = dir;
  while (d.length > stop.length && d.startsWith(stop + '/') && !fileExists(d)) {
    out.unshift(d);
    d = dirname(d);
  }
  return out;
}

export function makeDir(d: string): boolean {
  try {
    mkdir(d, 0o755);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw new RuntimeError(`mkdir ${d}: ${errnoText(e)}`);
  }
}

