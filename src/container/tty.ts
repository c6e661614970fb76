// A terminal for `run -t` / `exec -t` without --console-socket: runts receives the pty master over a private
// socket pair and relays between its own terminal and the container's (raw mode, window size, SIGWINCH).
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { loadNative } from '../native';

export interface TtyRelay {
  /** the connected end to give the stub as its console socket */
  conn: number;
  /** receive the master and start relaying; returns the function that stops and restores the terminal */
  relay(): () => void;
  /** give up (set-up failed) */
  close(): void;
}

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

function relayTerminal(master: number): () => void {
  const native = loadNative();
  const stdin = process.stdin;
  const wasRaw = stdin.isTTY ? stdin.isRaw : false;
  const resize = () => {
    if (process.stdout.isTTY) try { native.setWinsize(master, process.stdout.rows, process.stdout.columns); } catch { /* ignore */ }
  };
  resize();
  process.on('SIGWINCH', resize);
  if (stdin.isTTY) stdin.setRawMode(true);
  // fs.read in a loop, not a read stream: a stream would close the master when destroyed
  let stopped = false;
  const buf = Buffer.alloc(16384);
  const pump = () => fs.read(master, buf, 0, buf.length, null, (err, n) => {
    if (stopped || err || n === 0) return; // EIO once the container side is closed
    process.stdout.write(Buffer.from(buf.subarray(0, n)), () => pump());
  });
  pump();
  const onIn = (d: Buffer) => { try { fs.writeSync(master, d); } catch { /* closed */ } };
  stdin.on('data', onIn);
  return () => {
    process.off('SIGWINCH', resize);
    stdin.off('data', onIn);
    if (stdin.isTTY) stdin.setRawMode(wasRaw);
    stdin.pause();
    stopped = true;
    try { fs.closeSync(master); } catch { /* ignore */ }
  };
}
