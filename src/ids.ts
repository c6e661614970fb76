import { RuntimeError } from './errors';

const ID_RE = /^[A-Za-z0-9._+-]+$/;
export const MAX_ID_LENGTH = 1024;

/** Container ids as runc accepts them: no path separators, no `.`/`..`, a sane length. */
export function checkId(id: string | undefined): string {
  if (id === undefined || id === '') throw new RuntimeError('container id cannot be empty');
  if (id === '.' || id === '..' || id.includes('/')) throw new RuntimeError(`invalid container id ${JSON.stringify(id)}: must not be "." or ".." or contain "/"`);
  if (id.length > MAX_ID_LENGTH) throw new RuntimeError(`invalid container id: longer than ${MAX_ID_LENGTH} characters`);
  if (!ID_RE.test(id)) throw new RuntimeError(`invalid container id ${JSON.stringify(id)}: only [A-Za-z0-9._+-] are allowed`);
  return id;
}
