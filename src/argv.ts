// The fast path of the command line: the calls managers make on every container (create, start, state, kill,
// delete, run, exec, pause, resume, update --resources, ps, events, in the forms managers use), parsed without
// loading commander (≈ 500 page faults, with the node:fs and node:path it loads). Anything this parser does not fully understand (help,
// version, an unknown flag, a malformed value) returns undefined and goes to the full parser in program.ts,
// which defines the same flags and gives the same results.
import { DEFAULT_GLOBALS, Globals } from './action';

interface Flag {
  long: string;
  short?: string;
  key: string;
  /** takes a value; `int` values must be non-negative integers */
  value?: 'string' | 'int';
  /** for a boolean flag: the value it sets (false for --no-*) */
  sets?: boolean;
}

const GLOBAL_FLAGS: Flag[] = [
  { long: 'root', key: 'root', value: 'string' },
  { long: 'log', key: 'log', value: 'string' },
  { long: 'log-format', key: 'logFormat', value: 'string' },
  { long: 'debug', key: 'debug', sets: true },
  { long: 'systemd-cgroup', key: 'systemdCgroup', sets: true },
  { long: 'rootless', key: 'rootless', value: 'string' },
  { long: 'criu', key: 'criu', value: 'string' },
];

const CREATE_FLAGS: Flag[] = [
  { long: 'bundle', short: 'b', key: 'bundle', value: 'string' },
  { long: 'pid-file', key: 'pidFile', value: 'string' },
  { long: 'console-socket', key: 'consoleSocket', value: 'string' },
  { long: 'no-pivot', key: 'pivot', sets: false },
  { long: 'no-new-keyring', key: 'newKeyring', sets: false },
  { long: 'preserve-fds', key: 'preserveFds', value: 'int' },
  { long: 'pidfd-socket', key: 'pidfdSocket', value: 'string' },
];

interface CommandSpec {
  flags: Flag[];
  defaults: Record<string, unknown>;
  /** positional arguments: required count, and how many more are optional */
  required: number;
  optional: number;
  /** defaults of optional positionals */
  positionalDefaults?: string[];
  /** exec, ps: flags only before the first positional (commander's passThroughOptions); the rest is one array */
  passThrough?: boolean;
  /** values commander would refuse (its `.choices`): such a call goes to the full parser, which says why */
  accepts?: (o: Record<string, unknown>) => boolean;
  load: () => (g: Globals, ...a: any[]) => any;
}

const COMMANDS: Record<string, CommandSpec> = {
  create: {
    flags: CREATE_FLAGS,
    defaults: { bundle: '.', pivot: true, newKeyring: true, preserveFds: 0 },
    required: 1, optional: 0,
    load: () => require('./commands/create').create,
  },
  run: {
    flags: [...CREATE_FLAGS, { long: 'detach', short: 'd', key: 'detach', sets: true }, { long: 'keep', key: 'keep', sets: true }, { long: 'no-subreaper', key: 'subreaper', sets: false }],
    defaults: { bundle: '.', pivot: true, newKeyring: true, preserveFds: 0, detach: false, keep: false, subreaper: true },
    required: 1, optional: 0,
    load: () => require('./commands/run').run,
  },
  // the flags managers pass (podman, containerd: --process --detach --pid-file [--tty --console-socket]) and the
  // other single-value ones; repeatable flags (-e, -g, -c, --cgroup), --no-new-privs and the LSM labels go to
  // commander
  exec: {
    flags: [
      { long: 'process', short: 'p', key: 'process', value: 'string' },
      { long: 'detach', short: 'd', key: 'detach', sets: true },
      { long: 'pid-file', key: 'pidFile', value: 'string' },
      { long: 'console-socket', key: 'consoleSocket', value: 'string' },
      { long: 'tty', short: 't', key: 'tty', sets: true },
      { long: 'cwd', key: 'cwd', value: 'string' },
      { long: 'user', short: 'u', key: 'user', value: 'string' },
      { long: 'preserve-fds', key: 'preserveFds', value: 'int' },
      { long: 'pidfd-socket', key: 'pidfdSocket', value: 'string' },
      { long: 'ignore-paused', key: 'ignorePaused', sets: true },
    ],
    defaults: { detach: false, tty: false, env: [], additionalGids: [], cap: [], newPrivs: false, preserveFds: 0, cgroup: [], ignorePaused: false },
    required: 1, optional: 0, passThrough: true,
    load: () => require('./commands/exec').exec,
  },
  start: { flags: [], defaults: {}, required: 1, optional: 0, load: () => require('./commands/start').start },
  state: { flags: [], defaults: {}, required: 1, optional: 0, load: () => require('./commands/state').state },
  kill: {
    flags: [{ long: 'all', short: 'a', key: 'all', sets: true }],
    defaults: { all: false },
    required: 1, optional: 1, positionalDefaults: ['SIGTERM'],
    load: () => require('./commands/kill').kill,
  },
  delete: {
    flags: [{ long: 'force', short: 'f', key: 'force', sets: true }],
    defaults: { force: false },
    required: 1, optional: 0,
    load: () => require('./commands/delete').del,
  },
  pause: { flags: [], defaults: {}, required: 1, optional: 0, load: () => require('./commands/pause').pause },
  resume: { flags: [], defaults: {}, required: 1, optional: 0, load: () => require('./commands/resume').resume },
  // the containerd shim's `update --resources - ID` (CRI UpdateContainerResources); the per-resource flags go to
  // commander
  update: {
    flags: [{ long: 'resources', short: 'r', key: 'resources', value: 'string' }],
    defaults: {},
    required: 1, optional: 0,
    load: () => require('./commands/update').update,
  },
  // the containerd shim's `ps --format json ID` (its Pids call); host ps options after the id
  ps: {
    flags: [{ long: 'format', short: 'f', key: 'format', value: 'string' }],
    defaults: { format: 'table' },
    required: 1, optional: 0, passThrough: true,
    accepts: (o) => o.format === 'table' || o.format === 'json',
    load: () => require('./commands/ps').ps,
  },
  events: {
    flags: [{ long: 'stats', key: 'stats', sets: true }, { long: 'interval', key: 'interval', value: 'string' }],
    defaults: { stats: false, interval: '5s' },
    required: 1, optional: 0,
    load: () => require('./commands/events').events,
  },
};

export interface Parsed {
  globals: Globals;
  load: () => (g: Globals, ...a: any[]) => any;
  args: unknown[];
}

/** The flag whose `key` ("long" or "short") is `name` (a loop: Array.prototype.find costs page faults on first use) */
function findFlag(flags: Flag[], key: 'long' | 'short', name: string): Flag | undefined {
  for (let k = 0; k < flags.length; k++) if (flags[k][key] === name) return flags[k];
  return undefined;
}

/**
 * Parse flags from argv[i...] into out until a non-flag argument; returns the index of the first
 * non-flag argument, or -1 when a flag is unknown or malformed.
 */
function parseFlags(argv: string[], i: number, flags: Flag[], out: Record<string, unknown>, positionals?: string[]): number {
  for (; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') {
      if (!positionals) return -1;
      positionals.push(...argv.slice(i + 1));
      return argv.length;
    }
    if (!a.startsWith('-') || a === '-') {
      if (!positionals) return i;
      positionals.push(a);
      continue;
    }
    let name: string;
    let inline: string | undefined;
    let flag: Flag | undefined;
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      name = eq < 0 ? a.slice(2) : a.slice(2, eq);
      inline = eq < 0 ? undefined : a.slice(eq + 1);
      flag = findFlag(flags, 'long', name);
    } else {
      if (a.length !== 2) return -1; // -abc, -bDIR: leave to the full parser
      flag = findFlag(flags, 'short', a[1]);
    }
    if (!flag) return -1;
    if (flag.value) {
      let v = inline;
      if (v === undefined) {
        if (i + 1 >= argv.length) return -1;
        v = argv[++i];
      }
      if (flag.value === 'int') {
        const n = Number(v);
        if (v === '' || !Number.isInteger(n) || n < 0) return -1;
        out[flag.key] = n;
      } else {
        out[flag.key] = v;
      }
    } else {
      if (inline !== undefined) return -1;
      out[flag.key] = flag.sets;
    }
  }
  return positionals ? argv.length : i;
}

export function fastParse(argv: string[]): Parsed | undefined {
  const g: Record<string, unknown> = { ...DEFAULT_GLOBALS };
  const at = parseFlags(argv, 0, GLOBAL_FLAGS, g);
  if (at < 0 || at >= argv.length) return undefined;
  if (g.logFormat !== 'text' && g.logFormat !== 'json') return undefined;
  const spec = COMMANDS[argv[at]];
  if (!spec) return undefined;
  const o: Record<string, unknown> = { ...spec.defaults };
  if (spec.passThrough) {
    const first = parseFlags(argv, at + 1, spec.flags, o);
    if (first < 0 || first >= argv.length) return undefined;
    if (spec.accepts && !spec.accepts(o)) return undefined;
    return { globals: g as unknown as Globals, load: spec.load, args: [argv[first], argv.slice(first + 1), o] };
  }
  const pos: string[] = [];
  if (parseFlags(argv, at + 1, spec.flags, o, pos) < 0) return undefined;
  if (pos.length < spec.required || pos.length > spec.required + spec.optional) return undefined;
  const args: unknown[] = [...pos];
  for (let k = pos.length - spec.required; k < spec.optional; k++) args.push(spec.positionalDefaults![k]);
  if (spec.accepts && !spec.accepts(o)) return undefined;
  // commander hands a command with options its options object (only the flags given, when none has a default)
  if (spec.flags.length) args.push(o);
  return { globals: g as unknown as Globals, load: spec.load, args };
}
