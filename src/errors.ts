// A user-facing error: its message is printed as is (one line), exit status 1.
export class RuntimeError extends Error {
  constructor(message: string, public readonly exitCode = 1) {
    super(message);
    this.name = 'RuntimeError';
  }
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
