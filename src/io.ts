// Input and output for the commands managers call on every container, without Node's heavier modules.
// - Output never goes through process.stdout/stderr: creating those streams costs milliseconds, and a CLI that
//   prints one document does not need them. Writes are synchronous and complete (EAGAIN on a non-blocking pipe
//   is waited out).
// - node:fs is loaded on first use, not at start-up: under Bun, loading it (with node:path, which it pulls in)
//   is about 1 ms of a 6 ms call. `state` needs no node:fs at all under Bun: it maps state.json, reads the
//   status files with Bun's own file API and prints through it (docs/performance.md).

/** node:fs, loaded on first use */
export const nodeFs = (): typeof import('fs') => require('fs') as typeof import('fs');

/** The part of Bun's API used here (undefined under Node). */
interface BunIo {
  mmap(file: string): Uint8Array;
  file(file: string): { text(): Promise<string>; stat(): Promise<unknown> };
  write(dest: unknown, data: string): Promise<number>;
  stdout: unknown;
}
const bun = (globalThis as { Bun?: BunIo }).Bun;

/** Write all of `data` to `fd` (a string as UTF-8). */
export function writeAll(fd: number, data: string | Uint8Array): void {
  const fs = nodeFs();
  let buf = typeof data === 'string' ? new TextEncoder().encode(data) : data;
  while (buf.length) {
    try {
      const n = fs.writeSync(fd, buf);
      buf = buf.subarray(n);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EAGAIN') { Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1); continue; }
      if (code === 'EPIPE') return;
      throw e;
    }
  }
}

export const stdout = (text: string): void => writeAll(1, text);
export const stderr = (text: string): void => writeAll(2, text);

/** stdout, through Bun's file API when Bun is the engine (no node:fs); complete when the promise settles. */
export async function print(text: string): Promise<void> {
  if (!bun) return stdout(text);
  try {
    await bun.write(bun.stdout, text);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EPIPE') throw e;
  }
}

/**
 * A regular file's text; errors as readFileSync throws them (code ENOENT...). Under Bun the file is mapped
 * (Bun.mmap is synchronous and needs no node:fs); an empty file cannot be mapped and is read the usual way.
 */
export function readText(file: string): string {
  if (bun) {
    try {
      return new TextDecoder().decode(bun.mmap(file));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EINVAL') throw e;
    }
  }
  return nodeFs().readFileSync(file, 'utf8');
}

/** A file's text, procfs and cgroupfs included, or undefined when it cannot be read. */
export function readOptText(file: string): string | undefined {
  try {
    return nodeFs().readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

/** readOptText, asynchronously with Bun's file API when Bun is the engine. */
export function readOptTextAsync(file: string): Promise<string | undefined> {
  if (!bun) return Promise.resolve(readOptText(file));
  return bun.file(file).text().catch(() => undefined);
}

/** Whether anything (a socket included) is at `file`, asynchronously with Bun's file API under Bun. */
export function existsAsync(file: string): Promise<boolean> {
  if (!bun) return Promise.resolve(nodeFs().existsSync(file));
  // BunFile.exists() is false for a socket; stat() is not
  return bun.file(file).stat().then(() => true, () => false);
}
