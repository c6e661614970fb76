// Output without process.stdout/stderr: creating those streams costs milliseconds on every call, and a CLI
// that prints one document does not need them. Writes are synchronous and complete (EAGAIN on a
// non-blocking pipe is waited out).
import * as fs from 'fs';

/** Write all of `data` to `fd` (a string as UTF-8). */
export function writeAll(fd: number, data: string | Uint8Array): void {
  let buf = typeof data === 'string' ? Buffer.from(data) : data;
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
