import { RuntimeError } from '../errors';

/**
 * Linux's signal numbers (x86-64 and arm64 share them), as os.constants.signals has them: a table here keeps
 * node:os out of kill, which managers call for every container.
 */
export const SIGNALS: Readonly<Record<string, number>> = {
  SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGILL: 4, SIGTRAP: 5, SIGABRT: 6, SIGIOT: 6, SIGBUS: 7, SIGFPE: 8,
  SIGKILL: 9, SIGUSR1: 10, SIGSEGV: 11, SIGUSR2: 12, SIGPIPE: 13, SIGALRM: 14, SIGTERM: 15, SIGSTKFLT: 16,
  SIGCHLD: 17, SIGCONT: 18, SIGSTOP: 19, SIGTSTP: 20, SIGTTIN: 21, SIGTTOU: 22, SIGURG: 23, SIGXCPU: 24,
  SIGXFSZ: 25, SIGVTALRM: 26, SIGPROF: 27, SIGWINCH: 28, SIGIO: 29, SIGPOLL: 29, SIGPWR: 30, SIGSYS: 31,
};

/** s is one or more ASCII digits (a loop: a call's first regular expression costs page faults, docs/performance.md) */
function digits(s: string): boolean {
  if (!s.length) return false;
  for (let k = 0; k < s.length; k++) if (s.charCodeAt(k) < 48 || s.charCodeAt(k) > 57) return false;
  return true;
}

/** SIGRTMIN, SIGRTMIN+N, SIGRTMAX, SIGRTMAX-N: [base name, N as text], or undefined */
function realtime(name: string): [string, string] | undefined {
  for (const [base, sep] of [['SIGRTMIN', '+'], ['SIGRTMAX', '-']]) {
    if (name === base) return [base, '0'];
    if (name.length > base.length + 1 && name.slice(0, base.length + 1) === base + sep && digits(name.slice(base.length + 1))) {
      return [base, name.slice(base.length + 1)];
    }
  }
  return undefined;
}

/** A signal given as a name (with or without SIG) or a number; 0 (runc sends it: "is the container alive?"). */
export function parseSignal(s: string): number {
  if (digits(s)) {
    const n = Number(s);
    if (n > 64) throw new RuntimeError(`invalid signal: ${s}`);
    return n;
  }
  let name = s.toUpperCase();
  if (name.slice(0, 3) !== 'SIG') name = 'SIG' + name;
  // the table first: what managers send (KILL, TERM...) is there (an upper-case SIG... name is no property of
  // Object.prototype, so no Object.hasOwn: its first use costs ~9 page faults)
  const known = SIGNALS[name];
  if (typeof known === 'number') return known;
  const rt = realtime(name);
  if (rt) {
    const off = Number(rt[1]);
    const n = rt[0] === 'SIGRTMIN' ? 34 + off : 64 - off;
    if (n < 34 || n > 64) throw new RuntimeError(`invalid signal: ${s}`);
    return n;
  }
  throw new RuntimeError(`invalid signal: ${s}`);
}
