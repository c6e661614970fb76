// create: spawn the init stub from a sealed memfd, send it the plan, and answer it over the sync socket
// until the container is set up and waits for start (protocol in docs/ARCHITECTURE.md).
import * as fs from 'fs';
import * as path from 'path';
import { spawn } from 'child_process';
import type { Socket } from 'net';
import { RuntimeError, errnoText } from '../errors';
import { logDebug, logWarn } from '../log';
import { SavedCgroup, destroyCgroups, setupCgroups, signalAll } from '../cgroups';
import { loadConfig, resolveBundle } from '../config/load';
import type { Spec } from '../config/types';
import { buildPlan, LaunchFds } from '../plan/build';
import { encodePlan, frame } from '../plan/encode';
import { Msg, SyncCode } from '../plan/ops';
import { idMapText } from '../plan/namespaces';
import { loadNative } from '../native';
import { runHooks } from './hooks';
import { OCI_VERSION, Saved, containerDir, ensureRoot, hookState, procStat, writeSaved } from './state';

export interface CreateOptions {
  id: string;
  root: string;
  bundle?: string;
  pidFile?: string;
  consoleSocket?: string;
  /** an already connected console socket fd (run -t without --console-socket) */
  consoleFd?: number;
  noPivot?: boolean;
  preserveFds?: number;
}

export interface Created {
  saved: Saved;
  dir: string;
}

/** Where the init stub binary is (built by `make -C native`). */
export function stubPath(): string {
  if (process.env.RUNTS_INIT) return process.env.RUNTS_INIT;
  return path.join(__dirname, '..', '..', 'build', 'runts-init');
}

/**
 * A sealed memfd holding the init stub. The single-file executable carries the stub as an embedded file
 * (Bun.embeddedFiles); otherwise it is read from build/runts-init.
 */
async function stubMemfd(): Promise<number> {
  const native = loadNative();
  const embedded = (globalThis as { Bun?: { embeddedFiles?: Array<Blob & { name?: string }> } }).Bun?.embeddedFiles;
  const blob = process.env.RUNTS_INIT ? undefined : embedded?.find((f) => f.name?.startsWith('runts-init'));
  if (blob) return native.sealedMemfdFromBytes(new Uint8Array(await blob.arrayBuffer()), 'runts-init');
  return native.sealedMemfdFrom(stubPath(), 'runts-init');
}

function rootfsOf(spec: Spec, bundle: string): string {
  if (!spec.root || !spec.root.path) throw new RuntimeError('root.path: is required');
  const p = spec.root.path;
  const rootfs = path.resolve(bundle, p);
  if (!path.isAbsolute(p) && !(rootfs + '/').startsWith(bundle + '/')) {
    throw new RuntimeError(`root.path: "${p}" is outside the bundle`);
  }
  let st: fs.Stats;
  try {
    st = fs.statSync(rootfs);
  } catch (e) {
    throw new RuntimeError(`root.path: stat ${rootfs}: ${errnoText(e)}`);
  }
  if (!st.isDirectory()) throw new RuntimeError(`root.path: ${rootfs} is not a directory`);
  return rootfs;
}

/** LISTEN_FDS handed to us by socket activation, as runc honours them. */
function listenFds(): number {
  const n = Number(process.env.LISTEN_FDS ?? '');
  if (!Number.isInteger(n) || n <= 0) return 0;
  if (process.env.LISTEN_PID && Number(process.env.LISTEN_PID) !== process.pid) return 0;
  return n;
}

/** Frames from a stream socket. */
class FrameReader {
  private buf: Buffer = Buffer.alloc(0);
  constructor(private onFrame: (type: number, payload: Buffer) => void) {}
  push(chunk: Buffer) {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    while (this.buf.length >= 8) {
      const len = this.buf.readUInt32LE(4);
      if (this.buf.length < 8 + len) break;
      const type = this.buf.readUInt32LE(0);
      const payload = this.buf.subarray(8, 8 + len);
      this.buf = this.buf.subarray(8 + len);
      this.onFrame(type, payload);
    }
  }
}

export function parseFrames(data: Buffer): Array<{ type: number; payload: Buffer }> {
  const out: Array<{ type: number; payload: Buffer }> = [];
  new FrameReader((type, payload) => out.push({ type, payload })).push(data);
  return out;
}

function closeQuiet(fd: number | undefined) {
  if (fd !== undefined && fd >= 0) try { fs.closeSync(fd); } catch { /* ignore */ }
}

/** Kill what create started and remove the state directory. */
function cleanup(dir: string, initPid: number | undefined, pidfd: number | undefined, cgroup: SavedCgroup | undefined) {
  const native = loadNative();
  signalAll(cgroup, 9);
  if (pidfd !== undefined) {
    try { native.pidfdSendSignal(pidfd, 9); } catch { /* gone */ }
    try { native.pollPidfdExited(pidfd, 5000); } catch { /* ignore */ }
    closeQuiet(pidfd);
  } else if (initPid) {
    try { process.kill(initPid, 'SIGKILL'); } catch { /* gone */ }
  }
  try { destroyCgroups(cgroup); } catch (e) { logWarn((e as Error).message); }
  fs.rmSync(dir, { recursive: true, force: true });
}

export async function createContainer(o: CreateOptions): Promise<Created> {
  const native = loadNative();
  const bundle = resolveBundle(o.bundle);
  const spec = loadConfig(bundle);
  const rootfs = rootfsOf(spec, bundle);
  const nListen = listenFds();
  const preserve = nListen + (o.preserveFds ?? 0);
  const terminal = !!spec.process?.terminal;
  const hasConsole = terminal && (o.consoleSocket !== undefined || o.consoleFd !== undefined);
  // child-side fd numbers
  const fds: LaunchFds = { preserve, sync: 3 + preserve, listen: 4 + preserve, memfd: 0 };
  let next = 5 + preserve;
  if (hasConsole) fds.console = next++;
  fds.memfd = next;
  const extraEnv = nListen ? [`LISTEN_FDS=${nListen}`, 'LISTEN_PID=1'] : [];
  const plan = buildPlan(spec, { bundle, rootfs, noPivot: !!o.noPivot, fds, extraEnv });
  for (let fd = 3; fd < 3 + preserve; fd++) {
    try { fs.fstatSync(fd); } catch { throw new RuntimeError(`--preserve-fds: fd ${fd} is not open`); }
  }

  ensureRoot(o.root);
  const dir = containerDir(o.root, o.id);
  try {
    fs.mkdirSync(dir, { mode: 0o711 });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') throw new RuntimeError(`container with id exists: ${o.id}`);
    throw new RuntimeError(`mkdir ${dir}: ${errnoText(e)}`);
  }
  const lockFd = fs.openSync(path.join(dir, 'lock'), 'w', 0o600);
  native.flock(lockFd, 'ex');

  let initPid: number | undefined;
  let pidfd: number | undefined;
  let listenFd: number | undefined;
  let consoleFd: number | undefined;
  let memfd: number | undefined;
  let sock: Socket | undefined;
  let child: ReturnType<typeof spawn> | undefined;
  let cgroup: SavedCgroup | undefined;
  try {
    listenFd = native.unixListen(path.join(dir, "exec.sock"), 1) as number;
    if (hasConsole) {
      if (o.consoleFd !== undefined) consoleFd = o.consoleFd;
      else {
        try {
          consoleFd = native.unixConnect(o.consoleSocket!);
        } catch (e) {
          throw new RuntimeError(`connect to console socket ${o.consoleSocket}: ${errnoText(e)}`);
        }
      }
    }
    memfd = await stubMemfd();
    const stdio: Array<'inherit' | 'pipe' | number> = ['inherit', 'inherit', 'inherit'];
    for (let fd = 3; fd < 3 + preserve; fd++) stdio.push(fd);
    stdio.push("pipe", listenFd as number);
    if (consoleFd !== undefined) stdio.push(consoleFd);
    stdio.push(memfd as number);

    const created = new Date().toISOString();
    const base = { id: o.id, bundle, annotations: spec.annotations };
    child = spawn(`/proc/self/fd/${fds.memfd}`, [String(fds.sync)], { stdio, argv0: 'runts-init' });
    const c = child;
    sock = child.stdio[fds.sync] as Socket;
    const s = sock;
    await new Promise<void>((resolve, reject) => {
      let done = false;
      const fail = (e: Error) => { if (!done) { done = true; reject(e); } };
      const reply = (type: number, payload?: Buffer) => s.write(frame(type, payload));
      const reader = new FrameReader((type, payload) => {
        if (done) return;
        try {
          switch (type) {
            case Msg.USERMAP_REQ: {
              const linux = spec.linux ?? {};
              fs.writeFileSync(`/proc/${c.pid}/uid_map`, idMapText(linux.uidMappings ?? []));
              fs.writeFileSync(`/proc/${c.pid}/gid_map`, idMapText(linux.gidMappings ?? []));
              reply(Msg.ACK);
              break;
            }
            case Msg.PID: {
              initPid = payload.readUInt32LE(0);
              logDebug(`container init pid ${initPid}`);
              pidfd = native.pidfdOpen(initPid);
              // into its cgroups while it waits, before it unshares the cgroup namespace or runs anything
              cgroup = setupCgroups(spec, o.id, initPid);
              reply(Msg.ACK, Buffer.from(hookState({ ...base, pid: initPid }, 'creating')));
              break;
            }
            case Msg.SYNC: {
              const code = payload.readUInt32LE(0);
              if (code !== SyncCode.CREATE_HOOKS) throw new RuntimeError(`init: unexpected sync code ${code}`);
              const st = hookState({ ...base, pid: initPid! }, 'creating');
              runHooks(spec.hooks?.prestart, 'prestart', st);
              runHooks(spec.hooks?.createRuntime, 'createRuntime', st);
              reply(Msg.ACK, Buffer.from(st));
              break;
            }
            case Msg.READY:
              done = true;
              resolve();
              break;
            case Msg.ERROR:
              fail(new RuntimeError(payload.toString('utf8')));
              break;
            default:
              throw new RuntimeError(`init: unexpected message ${type}`);
          }
        } catch (e) {
          try { reply(Msg.ABORT); } catch { /* ignore */ }
          fail(e as Error);
        }
      });
      s.on('data', (d: Buffer) => reader.push(d));
      s.on('error', (e) => fail(new RuntimeError(`sync socket: ${e.message}`)));
      s.on('close', () => fail(new RuntimeError('container init exited before it was ready')));
      c.on('error', (e) => fail(new RuntimeError(`start init: ${e.message}`)));
      s.write(frame(Msg.PLAN, encodePlan(plan.steps)));
    });

    const st = procStat(initPid!);
    if (!st) throw new RuntimeError('container init exited before it was ready');
    const saved: Saved = {
      ociVersion: OCI_VERSION,
      id: o.id,
      pid: initPid!,
      startTime: st.startTime,
      bundle,
      rootfs,
      created,
      owner: '',
      annotations: spec.annotations,
      cgroup,
      config: spec,
    };
    writeSaved(dir, saved);
    if (o.pidFile) {
      const pf = path.resolve(o.pidFile);
      const tmp = path.join(path.dirname(pf), `.${path.basename(pf)}.${process.pid}`);
      fs.writeFileSync(tmp, String(initPid));
      fs.renameSync(tmp, pf);
    }
    return { saved, dir };
  } catch (e) {
    child?.kill('SIGKILL');
    cleanup(dir, initPid, pidfd, cgroup);
    pidfd = undefined;
    throw e;
  } finally {
    sock?.destroy();
    closeQuiet(pidfd);
    closeQuiet(listenFd);
    if (o.consoleFd === undefined) closeQuiet(consoleFd);
    closeQuiet(memfd);
    closeQuiet(lockFd);
    child?.unref();
  }
}
