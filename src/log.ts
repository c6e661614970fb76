// Logging the way runc does: a one-line error on stderr, and with --log a line in the log file,
// JSON ({"level","msg","time"}) or text (time="..." level=... msg="..."). Managers read the last
// error line of that file back when the runtime fails.
import { O_APPEND, O_CREAT, O_WRONLY, closeFd, openFile, stderr, writeText } from './io';

export interface LogOptions {
  file?: string;
  format: 'text' | 'json';
  debug: boolean;
}

let opts: LogOptions = { format: 'text', debug: false };

export function configureLog(o: LogOptions): void {
  opts = o;
}

function line(level: string, msg: string): string {
  const time = new Date().toISOString();
  if (opts.format === 'json') return JSON.stringify({ level, msg, time }) + '\n';
  return `time="${time}" level=${level} msg=${JSON.stringify(msg)}\n`;
}

function toFile(level: string, msg: string): void {
  if (!opts.file) return;
  try {
    writeText(opts.file, line(level, msg), O_APPEND);
  } catch {
    /* the log file is best effort */
  }
}

export function logError(msg: string): void {
  toFile('error', msg);
  stderr(`runts: ${msg}\n`);
}

export function logWarn(msg: string): void {
  toFile('warning', msg);
  stderr(`runts: warning: ${msg}\n`);
}

export function logDebug(msg: string): void {
  if (!opts.debug) return;
  toFile('debug', msg);
  stderr(`runts: debug: ${msg}\n`);
}

/** Make sure the log file exists (containerd fails when it is missing after an error). */
export function touchLog(): void {
  if (!opts.file) return;
  try {
    closeFd(openFile(opts.file, O_WRONLY | O_CREAT | O_APPEND));
  } catch {
    /* ignore */
  }
}
