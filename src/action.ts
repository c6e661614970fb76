// What every command shares: the global flags, and runc's error behaviour (one line on stderr and, with --log,
// a line in the log file; exit status 1 unless the command chose another).
import { configureLog, logError, touchLog } from './log';
import { RuntimeError } from './errors';
import { readOptText, stderr } from './io';
import { configureRootless, defaultRoot, isRootless } from './rootless';

export interface Globals {
  /** --root; empty when not given (runAction fills in the default, which depends on --rootless) */
  root: string;
  log?: string;
  logFormat: 'text' | 'json';
  debug: boolean;
  systemdCgroup: boolean;
  rootless: string;
}

export const VERSION = '0.1.0';
export const SPEC_VERSION = '1.3.0';

export const DEFAULT_GLOBALS: Globals = { root: '', logFormat: 'text', debug: false, systemdCgroup: false, rootless: 'auto' };

export type CommandFn = (g: Globals, ...a: any[]) => Promise<number | void> | number | void;

/**
 * Run a command: process.exitCode is set when it settles. A command that returns synchronously (state, start,
 * kill, delete) settles at once and nothing returned is a promise (the promise machinery costs a short call
 * page faults, docs/performance.md); an asynchronous one gives back a promise that settles with it.
 */
export function runAction(g: Globals, load: () => CommandFn, args: unknown[]): Promise<void> | void {
  configureLog({ file: g.log, format: g.logFormat, debug: g.debug });
  try {
    if (g.rootless !== 'auto' && g.rootless !== 'true' && g.rootless !== 'false') throw new RuntimeError(`--rootless: must be auto, true or false, got "${g.rootless}"`);
    resolveRootless(g);
    touchLog();
    const code = load()(g, ...args);
    if (code && typeof (code as Promise<unknown>).then === 'function') {
      return (code as Promise<number | void>).then((c) => { process.exitCode = typeof c === 'number' ? c : 0; }, (e) => failed(g, e));
    }
    process.exitCode = typeof code === 'number' ? code : 0;
  } catch (e) {
    failed(g, e);
  }
}

/** runc's error behaviour: the message on stderr and in the log, exit status 1 unless the error carries one. */
function failed(g: Globals, e: unknown): void {
  const err = e as Error & { exitCode?: number };
  logError(err && err.message ? err.message : String(e));
  if (g.debug && err && err.stack && err.name !== 'RuntimeError') stderr(err.stack + '\n');
  process.exitCode = err && typeof err.exitCode === 'number' ? err.exitCode : 1;
}

/**
 * --rootless (runc's auto: euid not 0, or inside a user namespace that is not the initial one) and, without
 * --root, the default state root that goes with it. A missing default is an error only for commands that use the
 * root (spec and features do not).
 */
export function resolveRootless(g: Globals): void {
  const euid = process.geteuid ? process.geteuid() : 0;
  configureRootless(g.rootless, euid, () => readOptText('/proc/self/uid_map'));
  if (g.root) return;
  // without XDG_RUNTIME_DIR the default does not depend on the decision (so it is not made here)
  const xdg = process.env.XDG_RUNTIME_DIR;
  try {
    g.root = defaultRoot(xdg ? isRootless() : false, euid, xdg);
  } catch (e) {
    Object.defineProperty(g, 'root', { get: () => { throw e; } });
  }
}
