// exec ID [--process FILE | COMMAND ARGS...]: like runc, the process is --process's JSON, or the container's
// own process with the command line and flags applied on top.
import { readBytes } from '../io';
import type { Globals } from '../action';
import { checkId } from '../ids';
import { RuntimeError, errnoText } from '../errors';
import type { Process } from '../config/types';
import { parseJsonBytes } from '../config/json';
import { containerDir, readSaved } from '../container/state';
import { execProcess, validateProcess } from '../container/exec';

export interface ExecFlags {
  process?: string;
  detach: boolean;
  pidFile?: string;
  consoleSocket?: string;
  tty: boolean;
  cwd?: string;
  env: string[];
  user?: string;
  additionalGids: string[];
  cap: string[];
  noNewPrivs: boolean;
  preserveFds: number;
  processLabel?: string;
  apparmor?: string;
  ignorePaused: boolean;
  cgroup?: string[];
  pidfdSocket?: string;
}

function fromFile(file: string): Process {
  let bytes: Uint8Array;
  try {
    bytes = readBytes(file === '-' ? 0 : file);
  } catch (e) {
    throw new RuntimeError(`--process ${file}: ${errnoText(e)}`);
  }
  const { doc, exact } = parseJsonBytes(bytes, `--process ${file}`);
  return validateProcess(doc, exact);
}

function uintArg(v: string, what: string): number {
  const n = Number(v);
  if (v === '' || !Number.isInteger(n) || n < 0 || n > 0xffffffff) throw new RuntimeError(`${what}: "${v}" is not a valid id`);
  return n;
}

function fromFlags(base: Process, args: string[], f: ExecFlags): Process {
  if (args.length === 0) throw new RuntimeError('exec: no command given (pass ARGS or --process)');
  const p: Process = JSON.parse(JSON.stringify(base));
  p.args = args;
  p.terminal = f.tty;
  if (f.cwd) p.cwd = f.cwd;
  if (f.env.length) p.env = [...(p.env ?? []), ...f.env];
  if (f.user) {
    const [u, g] = f.user.split(':');
    p.user = { ...p.user, uid: uintArg(u, '--user'), gid: g !== undefined ? uintArg(g, '--user') : p.user?.gid ?? 0 };
  }
  if (f.additionalGids.length) p.user = { ...p.user, additionalGids: f.additionalGids.map((g) => uintArg(g, '--additional-gids')) };
  if (f.cap.length) {
    const c = p.capabilities ?? {};
    for (const k of ['bounding', 'effective', 'permitted'] as const) c[k] = [...new Set([...(c[k] ?? []), ...f.cap])];
    p.capabilities = c;
  }
  if (f.noNewPrivs) p.noNewPrivileges = true;
  if (f.apparmor) p.apparmorProfile = f.apparmor;
  if (f.processLabel) p.selinuxLabel = f.processLabel;
  return validateProcess(p);
}

/**
 * runc exits 255 when exec itself fails (no such container, a bad --process, a pid file it cannot write...), so
 * that callers can tell its failures from the process's own exit status.
 */
export async function exec(g: Globals, id: string, args: string[], f: ExecFlags): Promise<number> {
  try {
    return await execCommand(g, id, args, f);
  } catch (e) {
    throw new RuntimeError(e instanceof Error ? e.message : String(e), 255);
  }
}

async function execCommand(g: Globals, id: string, args: string[], f: ExecFlags): Promise<number> {
  checkId(id);
  let proc: Process;
  if (f.process) {
    proc = fromFile(f.process);
    if (f.tty) proc.terminal = true;
  } else {
    const base = readSaved(containerDir(g.root, id), id).config.process;
    if (!base) throw new RuntimeError(`container "${id}" has no process to start from; pass --process`);
    proc = fromFlags(base, args, f);
  }
  return execProcess({
    root: g.root, id, process: proc, detach: f.detach, pidFile: f.pidFile, consoleSocket: f.consoleSocket,
    preserveFds: f.preserveFds, ignorePaused: f.ignorePaused, subCgroups: f.cgroup, pidfdSocket: f.pidfdSocket,
  });
}
