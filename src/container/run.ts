// `run`: create + start, then wait for the container's init and return its exit status (128+signal when killed),
// deleting the container unless `keep`. runts makes itself a child subreaper so the init, orphaned when the
// stub's first process exits, is reparented to it and can be waited for; the signals runts gets are forwarded.
import { closeFd } from '../io';
import { loadNative } from '../native';
import { logWarn } from '../log';
import { CreateOptions, createContainer } from './launch';
import { destroy, startCreated } from './lifecycle';
import { readSaved } from './state';
import { withLock } from './access';
import { loadConfig, resolveBundle } from '../config/load';
import { SIGNALS } from './signals';
import type { StopRelay, TtyRelay } from './tty';

export interface RunOptions extends CreateOptions {
  /** return once started (run --detach) */
  detach?: boolean;
  /** keep the container (its state) after it exits (run --keep) */
  keep?: boolean;
  /** false: runts stops being a subreaper once it holds the init (run --no-subreaper) */
  subreaper?: boolean;
}

/** What runts forwards to the container while it waits: SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2 (bit n: signal n). */
const FORWARD_MASK = (1 << SIGNALS.SIGINT) | (1 << SIGNALS.SIGTERM) | (1 << SIGNALS.SIGHUP) | (1 << SIGNALS.SIGQUIT) | (1 << SIGNALS.SIGUSR1) | (1 << SIGNALS.SIGUSR2);

export async function runContainer(o: RunOptions): Promise<number> {
  const native = loadNative();
  // config.json read and validated once, here (createContainer takes it as it is)
  const bundle = resolveBundle(o.bundle);
  o = { ...o, bundle, spec: loadConfig(bundle) };
  if (o.detach) {
    const c = await createContainer(o);
    startCreated(c.dir, c.saved);
    return 0;
  }

  // a terminal without --console-socket: runts holds the pty master and relays it
  let tty: TtyRelay | undefined;
  // (tty.ts loads node:tty and node:os: only then)
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  if (!o.consoleSocket && o.spec!.process?.terminal) tty = (require('./tty') as typeof import('./tty')).openTtyRelay();

  native.setChildSubreaper(true);
  let c;
  try {
    c = await createContainer({ ...o, consoleFd: tty?.conn });
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
  // the signals runts gets go on to the init (a handler in the addon: no event loop needed); without a terminal to
  // relay runts waits blocking, so no worker thread is started either (issue #18)
  native.forwardSignals(pidfd, FORWARD_MASK);
  const wait = () => (relay ? native.waitPidfd(pidfd) : native.waitPidfdSync(pidfd));
  try {
    startCreated(c.dir, c.saved);
  } catch (e) {
    try { native.pidfdSendSignal(pidfd, 9); } catch { /* gone */ }
    try { await wait(); } catch { /* reaped */ }
    native.forwardSignals(-1, 0);
    await relay?.({ untilClosed: true });
    if (!o.keep) destroyLocked(o.root, o.id);
    throw e;
  }
  const r = await wait();
  native.forwardSignals(-1, 0);
  closeFd(pidfd);
  // the init is gone and with it its pid namespace: pass on everything it wrote before deleting
  await relay?.({ untilClosed: true });
  if (!o.keep) destroyLocked(o.root, o.id);
  return r.signal ? 128 + r.signal : (r.code ?? 0);
}

/** Delete the exited container under its lock (a failure is a warning: the container's status is what run returns). */
function destroyLocked(root: string, id: string) {
  withLock(root, id, (dir) => {
    try {
      destroy(dir, readSaved(dir, id));
    } catch (e) {
      logWarn(`delete ${id}: ${(e as Error).message}`);
    }
  }, () => undefined);
}
