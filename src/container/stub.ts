// Driving the init stub: spawn it from a sealed memfd with the given fds, send the plan, and answer it over the
// sync socket (protocol in docs/ARCHITECTURE.md) until it is ready (create) or has exec'd (exec).
import * as fs from 'fs';
import * as path from 'path';
import { spawn, ChildProcess } from 'child_process';
import type { Socket } from 'net';
import { RuntimeError } from '../errors';
import { logDebug } from '../log';
import { embeddedFile, loadNative } from '../native';
import type { Step } from '../plan/encode';
import { FrameReader, encodePlan, frame } from '../plan/encode';
import { Msg } from '../plan/ops';

/** Where the init stub binary is (built by `make -C native`). */
export function stubPath(): string {
  if (process.env.RUNTS_INIT) return process.env.RUNTS_INIT;
  return path.join(__dirname, '..', '..', 'build', 'runts-init');
}

/**
 * A sealed memfd holding the init stub. The single-file executable carries the stub as an embedded file
 * (Bun.embeddedFiles); otherwise it is read from build/runts-init.
 */
export async function stubMemfd(): Promise<number> {
  const native = loadNative();
  const blob = process.env.RUNTS_INIT ? undefined : embeddedFile('runts-init');
  if (blob) return native.sealedMemfdFromBytes(new Uint8Array(await blob.arrayBuffer()), 'runts-init');
  return native.sealedMemfdFrom(stubPath(), 'runts-init');
}

export interface StubRun {
  steps: Step[];
  /** host fds that become the child's 3, 4, ... in order, before the sync socket (see `syncFd`) */
  before: number[];
  /** host fds placed after the sync socket, in order; the last one must be the memfd */
  after: number[];
  /** the sync socket's number in the child (3 + before.length) */
  syncFd: number;
  /** the memfd's number in the child */
  memfdFd: number;
  /** USERMAP_REQ: write the child's uid_map/gid_map */
  onUsermap?: (childPid: number) => void;
  /** PID: the container process's host pid; returns the state JSON sent back with the ACK */
  onPid: (pid: number) => string;
  /** SYNC code: returns the state JSON sent back with the ACK */
  onSync?: (code: number, pid: number) => string;
  /** SECCOMP_FD: the listener fd waits on the seccomp socket; forward it; returns the state JSON sent with the ACK */
  onSeccompFd?: (pid: number) => string;
  /** 'ready': done at READY (create); 'exec': done at EOF of the sync socket after PID (exec) */
  until: 'ready' | 'exec';
}

/**
 * Run the stub to the point `until` names. Resolves with the container process's pid; rejects with the stub's
 * ERROR message (or why it died). The caller kills what is left on failure.
 */
export function runStub(r: StubRun, onChild: (c: ChildProcess) => void): Promise<number> {
  const stdio: Array<'inherit' | 'pipe' | number> = ['inherit', 'inherit', 'inherit', ...r.before, 'pipe', ...r.after];
  const child = spawn(`/proc/self/fd/${r.memfdFd}`, [String(r.syncFd)], { stdio, argv0: 'runts-init' });
  onChild(child);
  const sock = child.stdio[r.syncFd] as Socket;
  let pid: number | undefined;
  return new Promise<number>((resolve, reject) => {
    let done = false;
    const finish = (e?: Error) => {
      if (done) return;
      done = true;
      sock.destroy();
      child.unref();
      if (e) reject(e);
      else resolve(pid!);
    };
    const reply = (type: number, payload?: Buffer) => sock.write(frame(type, payload));
    const reader = new FrameReader((type, payload) => {
      if (done) return;
      try {
        switch (type) {
          case Msg.USERMAP_REQ:
            r.onUsermap!(child.pid!);
            reply(Msg.ACK);
            break;
          case Msg.PID:
            pid = payload.readUInt32LE(0);
            logDebug(`container process pid ${pid}`);
            reply(Msg.ACK, Buffer.from(r.onPid(pid)));
            break;
          case Msg.SYNC:
            if (!r.onSync) throw new RuntimeError(`init: unexpected sync code ${payload.readUInt32LE(0)}`);
            reply(Msg.ACK, Buffer.from(r.onSync(payload.readUInt32LE(0), pid!)));
            break;
          case Msg.SECCOMP_FD:
            if (!r.onSeccompFd || pid === undefined) throw new RuntimeError('init: unexpected seccomp listener');
            reply(Msg.ACK, Buffer.from(r.onSeccompFd(pid)));
            break;
          case Msg.READY:
            if (r.until === 'ready') finish();
            break;
          case Msg.ERROR:
            finish(new RuntimeError(payload.toString('utf8')));
            break;
          default:
            throw new RuntimeError(`init: unexpected message ${type}`);
        }
      } catch (e) {
        try { reply(Msg.ABORT); } catch { /* ignore */ }
        finish(e as Error);
      }
    });
    sock.on('data', (d: Buffer) => reader.push(d));
    sock.on('error', (e) => finish(new RuntimeError(`sync socket: ${e.message}`)));
    // the socket is close-on-exec in the container process: EOF after PID without ERROR means execve happened
    sock.on('end', () => {
      if (r.until === 'exec' && pid !== undefined) finish();
      else finish(new RuntimeError('container init exited before it was ready'));
    });
    sock.on('close', () => finish(new RuntimeError('container init exited before it was ready')));
    child.on('error', (e) => finish(new RuntimeError(`start init: ${e.message}`)));
    sock.write(frame(Msg.PLAN, encodePlan(r.steps)));
  });
}

export function closeQuiet(fd: number | undefined) {
  if (fd !== undefined && fd >= 0) try { fs.closeSync(fd); } catch { /* ignore */ }
}
