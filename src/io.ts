// Output without process.stdout/stderr: creating those streams costs milliseconds on every call, and a CLI
// that prints one document does not need them. Writes are synchronous and complete (EAGAIN on a
// non-blocking pipe is waited out).
import * as fs from 'fs';

function writeAll(fd: number, text: string): void {
  let buf = Buffer.from(text);
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
