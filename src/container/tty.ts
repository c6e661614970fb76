// A terminal for `run -t` / `exec -t` without --console-socket: runts receives the pty master over a private
// socket pair and relays between its own terminal and the container's (raw mode, window size, SIGWINCH).
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { isatty } from 'tty';
import { loadNative } from '../native';
import { sleepMs } from '../io';

export interface TtyRelay {
  /** the connected end to give the stub as its console socket */
  conn: number;
  /** receive the master and start relaying; returns the function that stops and restores the terminal */
  relay(): StopRelay;
  /** give up (set-up failed) */
  close(): void;
}

/**
 * Stop relaying once the process has exited, after everything it wrote has been passed on: with `untilClosed`
 * (run: the container's pid namespace is gone, so nothing holds the pty any more) until the master reports the
 * other side closed; otherwise (exec: a background process may still hold it) until then or until the pty has been
 * quiet for a moment.
 */
export type StopRelay = (o: { untilClosed: boolean }) => Promise<void>;

export function openTtyRelay(): TtyRelay {
  const native = loadNative();
  const sockDir = fs.mkdtempSync(path.join(os.tmpdir(), 'runts-tty-'));
  const listen = native.unixListen(path.join(sockDir, 'console.sock'), 1);
  const conn = native.unixConnect(path.join(sockDir, 'console.sock'));
  const close = () => {
    for (const fd of [listen, conn]) try { fs.closeSync(fd); } catch { /* ignore */ }
    fs.rmSync(sockDir, { recursive: true, force: true });
  };
  return {
    conn,
    close,
    relay() {
      const peer = native.unixAccept(listen);
      const { fd: master } = native.recvFd(peer);
      fs.closeSync(peer);
      close();
      return relayTerminal(master);
    },
  };
}

/** Write all of `b` to fd 1 now (stdout may be non-blocking: retry EAGAIN), so nothing is left in a queue at exit. */
function writeOut(b: Buffer): void {
  let off = 0;
  while (off < b.length) {
    try {
      off += fs.writeSync(1, b, off, b.length - off);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EAGAIN' || code === 'EINTR') { sleepMs(1); continue; }
      return; // stdout is gone: nothing more to do with the output
    }
  }
}

const QUIET_MS = 250;
const MAX_WAIT_MS = 5000;

function relayTerminal(master: number): StopRelay {
  const native = loadNative();
  const stdin = process.stdin;
  const resize = () => {
    if (process.stdout.isTTY) try { native.setWinsize(master, process.stdout.rows, process.stdout.columns); } catch { /* ignore */ }
  };
  resize();
  process.on('SIGWINCH', resize);
  // raw mode as runc sets it (containerd/console's MakeRaw): not Node's setRawMode, which keeps output processing
  // (OPOST, ONLCR), so a cooked terminal turned the container pty's \r\n into \r\r\n
  const term = [0, 1].find((fd) => isatty(fd));
  let saved: Buffer | undefined;
  if (term !== undefined) try { saved = native.ttyMakeRaw(term); } catch { /* not a terminal after all */ }
  // fs.read in a loop, not a read stream: a stream would close the master when destroyed. The loop runs until the
  // master says the other side is closed (EIO); every chunk is written out synchronously.
  let ended = false;
  let lastData = Date.now();
  let onChange: (() => void) | undefined;
  const buf = Buffer.alloc(16384);
  const pump = () => fs.read(master, buf, 0, buf.length, null, (err, n) => {
    if (err || n === 0) {
      ended = true; // EIO once every holder of the container side has closed it
    } else {
      writeOut(Buffer.from(buf.subarray(0, n)));
      lastData = Date.now();
      pump();
    }
    onChange?.();
  });
  pump();
  const onIn = (d: Buffer) => { try { fs.writeSync(master, d); } catch { /* closed */ } };
  stdin.on('data', onIn);
  return async ({ untilClosed }) => {
    process.off('SIGWINCH', resize);
    stdin.off('data', onIn);
    const t0 = Date.now();
    await new Promise<void>((resolve) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const check = () => {
        const now = Date.now();
        if (ended || now - t0 >= MAX_WAIT_MS || (!untilClosed && now - lastData >= QUIET_MS && now - t0 >= QUIET_MS)) {
          if (timer) clearTimeout(timer);
          onChange = undefined;
          resolve();
          return;
        }
        if (timer) clearTimeout(timer);
        timer = setTimeout(check, untilClosed ? MAX_WAIT_MS - (now - t0) : Math.min(QUIET_MS, MAX_WAIT_MS - (now - t0)));
      };
      onChange = check;
      check();
    });
    if (saved) try { native.ttyRestore(term!, saved); } catch { /* the terminal is gone */ }
    stdin.pause();
    // a read still pending uses the fd number: closing it could let that read hit a file opened later
    if (ended) try { fs.closeSync(master); } catch { /* ignore */ }
  };
}
