import { constants } from 'os';
import { RuntimeError } from '../errors';

/** A signal given as a name (with or without SIG) or a number. */
export function parseSignal(s: string): number {
  if (/^\d+$/.test(s)) {
    const n = Number(s);
    if (n < 1 || n > 64) throw new RuntimeError(`invalid signal: ${s}`);
    return n;
  }
  let name = s.toUpperCase();
  if (!name.startsWith('SIG')) name = 'SIG' + name;
  const rt = /^SIGRTMIN(?:\+(\d+))?$/.exec(name) || /^SIGRTMAX(?:-(\d+))?$/.exec(name);
  if (rt) {
    const off = Number(rt[1] ?? 0);
    const n = name.startsWith('SIGRTMIN') ? 34 + off : 64 - off;
    if (n < 34 || n > 64) throw new RuntimeError(`invalid signal: ${s}`);
    return n;
  }
  const n = (constants.signals as Record<string, number>)[name];
  if (n === undefined) throw new RuntimeError(`invalid signal: ${s}`);
  return n;
}
