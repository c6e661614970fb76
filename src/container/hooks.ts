// Hooks run by runts itself, in the runtime namespace: prestart, createRuntime, poststart, poststop.
// (createContainer and startContainer run inside the container, from the init stub.)
import type { Hook } from '../config/types';
import { RuntimeError } from '../errors';
import { logWarn } from '../log';
import { SIGNALS } from './signals';

export function runHook(h: Hook, name: string, state: string): void {
  const { spawnSync } = require('child_process') as typeof import('child_process');
  const args = h.args && h.args.length ? h.args : [h.path];
  const env: Record<string, string> = {};
  for (const e of h.env ?? []) {
    const i = e.indexOf('=');
    if (i > 0) env[e.slice(0, i)] = e.slice(i + 1);
  }
  const r = spawnSync(h.path, args.slice(1), {
    argv0: args[0],
    input: state,
    env,
    timeout: h.timeout ? h.timeout * 1000 : undefined,
    killSignal: 'SIGKILL',
    stdio: ['pipe', 'pipe', 'pipe'],
    maxBuffer: 1 << 20,
  });
  const out = `${r.stdout?.toString() ?? ''}${r.stderr?.toString() ?? ''}`.trim().slice(0, 2048);
  const tail = out ? `: ${out}` : '';
  if (r.error) {
    const err = r.error as NodeJS.ErrnoException;
    if (err.code === 'ETIMEDOUT') throw new RuntimeError(`${name}: timed out after ${h.timeout}s${tail}`);
    if (err.code === 'ENOENT') throw new RuntimeError(`${name}: exec ${h.path}: no such file or directory`);
    if (err.code === 'EACCES') throw new RuntimeError(`${name}: exec ${h.path}: permission denied`);
    throw new RuntimeError(`${name}: ${err.message}`);
  }
  if (r.signal) {
    if (h.timeout && r.signal === 'SIGKILL') throw new RuntimeError(`${name}: timed out after ${h.timeout}s${tail}`);
    throw new RuntimeError(`${name}: killed by signal ${SIGNALS[r.signal]}${tail}`);
  }
  if (r.status !== 0) throw new RuntimeError(`${name}: exit status ${r.status}${tail}`);
}

/** Run every hook of a kind; the first failure throws. */
export function runHooks(hooks: Hook[] | undefined, kind: string, state: string): void {
  (hooks ?? []).forEach((h, i) => runHook(h, `${kind} hook #${i}`, state));
}

/** Run every hook of a kind; failures are only warnings (poststart, poststop). */
export function runHooksWarn(hooks: Hook[] | undefined, kind: string, state: string): void {
  (hooks ?? []).forEach((h, i) => {
    try {
      runHook(h, `${kind} hook #${i}`, state);
    } catch (e) {
      logWarn((e as Error).message);
    }
  });
}
