// run: create + start, then wait for the container's init and exit with its status (128+signal when
// killed), deleting the container unless --keep. runts makes itself a child subreaper so the init,
// orphaned when the stub's first process exits, is reparented to it and can be waited for.
import * as fs from 'fs';
import * as path from 'path';
import type { Globals } from '../action';
import { checkId } from '../ids';
import { loadNative } from '../native';
import { createContainer } from '../container/launch';
import { destroy, startCreated } from '../container/lifecycle';
import { containerDir, lockDir, readSaved, unlock } from '../container/state';
import { loadConfig, resolveBundle } from '../config/load';
import { SIGNALS } from '../container/signals';
import { logWarn } from '../log';
import { StopRelay, TtyRelay, openTtyRelay } from '../container/tty';

interface RunOpts { bundle: string; detach: boolean; pidFile?: string; consoleSocket?: string; pivot: boolean; preserveFds: number; keep: boolean; pidfdSocket?: string; subreaper?: boolean }

const FORWARD = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2'] as const;

export async function run(g: Globals, id: string, o: RunOpts): Promise<number> {
  checkId(id);
  const native = loadNative();
  const base = { id, root: g.root, bundle: o.bundle, pidFile: o.pidFile, consoleSocket: o.consoleSocket, noPivot: !o.pivot, preserveFds: o.preserveFds, pidfdSocket: o.pidfdSocket, systemdCgroup: g.systemdCgroup };
  if (o.detach) {
    const c = await createContainer(base);
    startCreated(c.dir, c.saved);
    return 0;
  }

  // a terminal without --console-socket: runts holds the pty master and relays it
  let tty: TtyRelay | undefined;
  if (!o.consoleSocket && loadConfig(resolveBundle(o.bundle)).process?.terminal) tty = openTtyRelay();

  native.setChildSubreaper(true);
  let c;
  try {
    c = await createContainer({ ...base, consoleFd: tty?.conn });
  } catch (e) {
    tty?.close();
    throw e;
  }
  // --no-subreaper: runts adopted the init when the stub's first process exited (it must, to wait for it); it
  // reaps nothing else: processes the container orphans later go to the next subreaper up, as with runc's flag
  if (o.subreaper === false) native.setChildSubreaper(false);
  const pidfd = native.pidfdOpen(c.saved.pid);
  let relay: StopRelay | undefined;
  if (tty) relay = tty.relay();
  const handlers = FORWARD.map((sig) => {
    const h = () => { try { native.pidfdSendSignal(pidfd, SIGNALS[sig]); } catch { /* gone */ } };
    process.on(sig, h);
    return [sig, h] as const;
  });
  try {
    startCreated(c.dir, c.saved);
  } catch (e) {
    try { native.pidfdSendSignal(pidfd, 9); } catch { /* gone */ }
    await native.waitPidfd(pidfd).catch(() => undefined);
    await relay?.({ untilClosed: true });
    if (!o.keep) destroyLocked(c.dir, id);
    throw e;
  }
  const r = await native.waitPidfd(pidfd);
  for (const [sig, h] of handlers) process.off(sig, h);
  fs.closeSync(pidfd);
  // the init is gone and with it its pid namespace: pass on everything it wrote before deleting
  await relay?.({ untilClosed: true });
  if (!o.keep) destroyLocked(c.dir, id);
  return r.signal ? 128 + r.signal : (r.code ?? 0);
}

function destroyLocked(dir: string, id: string) {
  const lock = lockDir(dir);
  if (lock === undefined) return;
  try {
    destroy(dir, readSaved(dir, id));
  } catch (e) {
    logWarn(`delete ${id}: ${(e as Error).message}`);
  } finally {
    unlock(lock);
  }
}

