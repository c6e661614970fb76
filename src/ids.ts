import { RuntimeError } from './errors';

export const MAX_ID_LENGTH = 1024;

/** [A-Za-z0-9._+-]+, checked with a loop: a call's first regular expression costs page faults (docs/performance.md) */
function plainChars(id: string): boolean {
  for (let k = 0; k < id.length; k++) {
    const c = id.charCodeAt(k);
    if (!((c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 46 || c === 95 || c === 43 || c === 45)) return false;
  }
  return true;
}

/** Container ids as runc accepts them: no path separators, no `.`/`..`, a sane length. */
export function checkId(id: string | undefined): string {
  if (id === undefined || id === '') throw new RuntimeError('container id cannot be empty');
  if (id === '.' || id === '..' || id.includes('/')) throw new RuntimeError(`invalid container id ${JSON.stringify(id)}: must not be "." or ".." or contain "/"`);
  if (id.length > MAX_ID_LENGTH) throw new RuntimeError(`invalid container id: longer than ${MAX_ID_LENGTH} characters`);
  if (!plainChars(id)) throw new RuntimeError(`invalid container id ${JSON.stringify(id)}: only [A-Za-z0-9._+-] are allowed`);
  return id;
}
