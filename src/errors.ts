/** A message "[config.json: ]<field>: <reason>" names a field when it starts with a top-level key of config.json. */
const fieldRe = () => /^(?:config\.json: )?((?:ociVersion|process|root|hostname|domainname|mounts|hooks|annotations|linux|solaris|windows|vm|zos)(?:[.[][^\s:]*)?): /;

// A user-facing error: its message is printed as is (one line), exit status 1. `field` is the config.json field
// the error is about (`process.cwd`, `mounts[2].options`), given or read from the message ("<field>: <reason>").
export class RuntimeError extends Error {
  declare readonly field?: string;
  constructor(message: string, public readonly exitCode = 1, field?: string) {
    super(message);
    this.name = 'RuntimeError';
    const f = field ?? fieldOf(message);
    if (f !== undefined) this.field = f;
  }
}

/** The config.json field a message "<field>: <reason>" names, if it names one. */
export function fieldOf(message: string): string | undefined {
  return fieldRe().exec(message)?.[1];
}

/** Lower-case the first letter of an errno text, the way runc prints errors. */
export function errnoText(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  const map: Record<string, string> = {
    ENOENT: 'no such file or directory',
    EACCES: 'permission denied',
    EPERM: 'operation not permitted',
    EEXIST: 'file exists',
    ENOTDIR: 'not a directory',
    EISDIR: 'is a directory',
    EINVAL: 'invalid argument',
    ESRCH: 'no such process',
    EBUSY: 'device or resource busy',
    ELOOP: 'too many levels of symbolic links',
    ENAMETOOLONG: 'file name too long',
    ECONNREFUSED: 'connection refused',
    ENOTSOCK: 'socket operation on non-socket',
    ENOTSUP: 'operation not supported',
    EOPNOTSUPP: 'operation not supported',
    ENOSPC: 'no space left on device',
    ENODEV: 'no such device',
    ERANGE: 'numerical result out of range',
  };
  if (err && typeof err.code === 'string' && map[err.code]) return map[err.code];
  const m = err && err.message ? err.message : String(e);
  return m.replace(/^[A-Z]+: /, '').replace(/, .*$/, '');
}
