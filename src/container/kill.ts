// kill of an existing container, in a module of its own: kill loads neither start's nor delete's code (lifecycle.ts)
import { RuntimeError, errnoText } from '../errors';
import { loadNative } from '../native';
import { checkId } from '../ids';
import { type Saved, canKill, initAlive } from './state';
import { withContainer } from './access';
import { closeFd } from '../io';

/** kill --all needs the cgroups code */
const cgroups = () => require('../cgroups') as typeof import('../cgroups');

/** 0-64 as plain digits (signals.ts's parseSignal's numbers, with the same limit); undefined for anything else */
function plainSignal(s: string): number | undefined {
  if (!s.length || s.length > 2) return undefined;
  for (let k = 0; k < s.length; k++) if (s.charCodeAt(k) < 48 || s.charCodeAt(k) > 57) return undefined;
  const n = Number(s);
  return n > 64 ? undefined : n;
}

/** Signal the init through a pidfd opened before the start-time check, so a reused pid is never hit. */
export function signalInit(s: Saved, sig: number): void {
  const native = loadNative();
  let pidfd: number;
  try {
    pidfd = native.pidfdOpen(s.pid);
  } catch {
    throw new RuntimeError('container not running');
  }
  try {
    if (!initAlive(s)) throw new RuntimeError('container not running');
    native.pidfdSendSignal(pidfd, sig);
  } catch (e) {
    if (e instanceof RuntimeError) throw e;
    if ((e as NodeJS.ErrnoException).code === 'ESRCH') throw new RuntimeError('container not running');
    throw new RuntimeError(`kill: ${errnoText(e)}`);
  } finally {
    closeFd(pidfd);
  }
}

/**
 * `kill ID SIGNAL [--all]`: a signal by name (`KILL`, `SIGKILL`) or number; 0 only checks that the container
 * is alive. `all`: every process in the container's cgroups (the init alone when it has none).
 */
export function killContainer(root: string, id: string, signal: string | number, all = false): void {
  checkId(id);
  // a number (what managers send: 15, 9, 10) without loading signals.ts and its table (docs/performance.md)
  const text = String(signal);
  const sig = plainSignal(text) ?? (require('./signals') as typeof import('./signals')).parseSignal(text);
  withContainer(root, id, (st) => canKill(st, all), ({ saved: s }) => {
    // signal 0 only asks whether the container is alive: its init answers that (no freezing for --all)
    const done = all && sig !== 0 && cgroups().signalAll(s.cgroup, sig);
    if (!done && all && sig !== 0) {
      // no cgroup (rootless, not delegated): every process of the container's own pid namespace
      const pids = (require('./procs') as typeof import('./procs')).pidNsPids(s);
      if (pids.length > 1) {
        for (const p of pids.filter((p) => p !== s.pid)) try { process.kill(p, sig); } catch { /* exited */ }
      }
    }
    if (!done) signalInit(s, sig);
  });
}

