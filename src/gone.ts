// `delete --force` of a container that is already gone: the containerd shim makes this call for every container,
// after its plain `delete` removed it. Answered here before any other module of ours (or node:fs) is loaded:
// when the container's state directory does not exist there is nothing to lock, kill or remove, and the call
// succeeds, as the full path would (delete.ts). Anything this does not fully understand goes the usual way.
// Bun only: the probe is Bun.mmap, which opens the path without node:fs (ENOENT: nothing there; EISDIR: the
// directory exists). Measured in docs/performance.md: 900 page faults before, see there for after.

// Written with plain loops and comparisons: each engine feature used for the first time in a process (the regular
// expression engine, Array.prototype.findIndex...) costs page faults of its own, and this path is counted in them.

/** A container id as ids.ts accepts it ([A-Za-z0-9._+-]{1,1024}, not "." or ".."), and not one that reads as a flag. */
function plainId(id: string | undefined): boolean {
  if (!id || id.length > 1024 || id === '.' || id === '..' || id.charCodeAt(0) === 45) return false;
  for (let k = 0; k < id.length; k++) {
    const c = id.charCodeAt(k);
    const ok = (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 46 || c === 95 || c === 43 || c === 45;
    if (!ok) return false;
  }
  return true;
}

type Mmap = (file: string) => Uint8Array;

/** The errno code with which `file` cannot be mapped, or '' when it can. */
function probe(mmap: Mmap, file: string): string {
  try {
    mmap(file);
    return '';
  } catch (e) {
    return String((e as { code?: unknown }).code ?? 'ERROR');
  }
}

/**
 * The state root without --root where it cannot depend on --rootless auto: /run/runts for root without
 * XDG_RUNTIME_DIR (rootless.ts defaultRoot gives that whether or not root is in a user namespace); otherwise
 * null, and a call without --root goes the usual way (a rootless user's root is $XDG_RUNTIME_DIR/runts).
 */
function plainDefaultRoot(): string | null {
  return process.geteuid && process.geteuid() === 0 && !process.env.XDG_RUNTIME_DIR ? '/run/runts' : null;
}

/**
 * Whether argv (without node and script) is `[globals] delete (--force|-f) ID` (or the flag after the id), for a
 * container whose state directory does not exist, with nothing else to do (no log file to create).
 * `defaultRoot`: the state root without --root (null: such a call falls through).
 */
export function deleteForceOfGone(argv: string[], mmap: Mmap | undefined, defaultRoot: string | null = plainDefaultRoot()): boolean {
  if (!mmap) return false;
  let root: string | null = defaultRoot;
  let log: string | undefined;
  let i = 0;
  for (; i < argv.length && argv[i].charCodeAt(0) === 45 /* - */; i++) {
    const a = argv[i];
    const eq = a.indexOf('=');
    const name = eq < 0 ? a : a.slice(0, eq);
    if (name !== '--root' && name !== '--log' && name !== '--log-format') return false;
    let v: string;
    if (eq >= 0) v = a.slice(eq + 1);
    else if (i + 1 < argv.length) v = argv[++i];
    else return false;
    if (name === '--root') root = v;
    else if (name === '--log') log = v;
    else if (v !== 'json' && v !== 'text') return false;
  }
  if (argv[i] !== 'delete' || argv.length !== i + 3) return false;
  const force = (a: string) => a === '--force' || a === '-f';
  const id = force(argv[i + 1]) ? argv[i + 2] : force(argv[i + 2]) ? argv[i + 1] : undefined;
  if (!plainId(id)) return false;
  if (!root || !log && log !== undefined) return false;
  // the log file must exist after the call (containerd reads it back); creating it is the full path's job
  if (log !== undefined && probe(mmap, log) === 'ENOENT') return false;
  const dir = root.charCodeAt(root.length - 1) === 47 /* / */ ? root + id : `${root}/${id}`;
  return probe(mmap, dir) === 'ENOENT';
}
