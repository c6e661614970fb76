// POSIX path strings as node:path computes them (only what create, run and exec use), without loading node:path
// (docs/performance.md: under Bun node:fs + node:path cost a create ≈ 150 page faults). Pure string work: nothing
// here touches the file system. test/unit/paths.test.ts compares every function with node:path.posix.

/** `.` and `..` segments and repeated slashes resolved, as path.posix.normalize does for the segment part. */
function normalizeSegs(p: string, absolute: boolean): string {
  const out: string[] = [];
  for (const seg of p.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') {
      if (out.length && out[out.length - 1] !== '..') out.pop();
      else if (!absolute) out.push('..');
      continue;
    }
    out.push(seg);
  }
  return out.join('/');
}

export function isAbsolute(p: string): boolean {
  return p.charCodeAt(0) === 47; // '/'
}

export function normalize(p: string): string {
  if (p === '') return '.';
  const abs = isAbsolute(p);
  const trailing = p.charCodeAt(p.length - 1) === 47;
  let s = normalizeSegs(p, abs);
  if (s === '' && !abs) s = '.';
  if (s !== '' && trailing) s += '/';
  return abs ? '/' + s : s;
}

export function join(...parts: string[]): string {
  let joined = '';
  for (const p of parts) if (p !== '') joined = joined === '' ? p : joined + '/' + p;
  return joined === '' ? '.' : normalize(joined);
}

/** An absolute path: the parts from right to left until one is absolute, then the working directory. */
export function resolve(...parts: string[]): string {
  let resolved = '';
  let abs = false;
  for (let i = parts.length - 1; i >= -1 && !abs; i--) {
    const p = i >= 0 ? parts[i] : process.cwd();
    if (p === '') continue;
    resolved = resolved === '' ? p : p + '/' + resolved;
    abs = isAbsolute(p);
  }
  return '/' + normalizeSegs(resolved, true);
}

export function dirname(p: string): string {
  if (p === '') return '.';
  const abs = isAbsolute(p);
  let end = -1;
  let matchedSlash = true;
  for (let i = p.length - 1; i >= 1; i--) {
    if (p.charCodeAt(i) === 47) {
      if (!matchedSlash) { end = i; break; }
    } else {
      matchedSlash = false;
    }
  }
  if (end === -1) return abs ? '/' : '.';
  if (abs && end === 1) return '//';
  return p.slice(0, end);
}

export function basename(p: string): string {
  let end = p.length;
  while (end > 0 && p.charCodeAt(end - 1) === 47) end--;
  return p.slice(p.lastIndexOf('/', end - 1) + 1, end);
}
