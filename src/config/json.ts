// JSON documents (config.json, exec's process.json) read as bytes, where JSON.parse alone would silently change
// what was written: bytes that are not UTF-8 (a lossy decode turns them into U+FFFD) are an error naming the
// field, and integers written with 16 digits or more are kept exactly (JSON.parse rounds them to a double above
// 2^53), so that validate.ts can check the uint64/int64 ranges as Go's encoding/json does for runc.
import { RuntimeError } from '../errors';
import { fieldPath } from './rules';

type Seg = string | number;

/** Integers of the document that a double cannot hold exactly: JSON pointer → exact value. */
export type ExactInts = Map<string, bigint>;

export interface ParsedJson {
  doc: unknown;
  exact: ExactInts;
}

/** Offset of the first byte that does not start a valid UTF-8 sequence (overlongs and surrogates included), or -1. */
export function badUtf8At(b: Uint8Array): number {
  for (let i = 0; i < b.length;) {
    const c = b[i];
    if (c < 0x80) { i++; continue; }
    let n: number;
    let min: number;
    if (c >= 0xc2 && c <= 0xdf) { n = 1; min = 0x80; } else if (c >= 0xe0 && c <= 0xef) { n = 2; min = 0x800; } else if (c >= 0xf0 && c <= 0xf4) { n = 3; min = 0x10000; } else return i;
    if (i + n >= b.length) return i;
    let cp = c & (0x3f >> n);
    for (let k = 1; k <= n; k++) {
      const d = b[i + k];
      if ((d & 0xc0) !== 0x80) return i;
      cp = (cp << 6) | (d & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return i;
    i += n + 1;
  }
  return -1;
}

/**
 * Walk the tokens of a JSON text (assumed to be JSON, or a prefix of it) with the path of each: `visit` gets the
 * token's span, its path and whether it is an object key (whose path then ends with the key); returning true stops.
 */
export function scanJson(text: string, visit: (start: number, end: number, segs: Seg[], isKey: boolean) => boolean | void): void {
  const stack: Array<{ arr: boolean; key: Seg; expectKey: boolean }> = [];
  const segs = () => stack.map((f) => f.key);
  let i = 0;
  while (i < text.length) {
    const ch = text[i];
    if (ch === ' ' || ch === '\t' || ch === '\n' || ch === '\r' || ch === ':') { i++; continue; }
    if (ch === '{' || ch === '[') { stack.push({ arr: ch === '[', key: ch === '[' ? 0 : '', expectKey: ch === '{' }); i++; continue; }
    if (ch === '}' || ch === ']') { stack.pop(); i++; continue; }
    const top = stack[stack.length - 1];
    if (ch === ',') {
      if (top?.arr) top.key = (top.key as number) + 1;
      else if (top) top.expectKey = true;
      i++;
      continue;
    }
    let j = i + 1;
    if (ch === '"') {
      while (j < text.length && text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      j = Math.min(j + 1, text.length);
    } else {
      while (j < text.length && !' \t\n\r,:]}'.includes(text[j])) j++;
    }
    if (top && !top.arr && top.expectKey) {
      let key: string;
      try { key = JSON.parse(text.slice(i, j)) as string; } catch { key = text.slice(i + 1, j - 1); }
      top.key = key;
      top.expectKey = false;
      if (visit(i, j, segs(), true)) return;
    } else if (visit(i, j, segs(), false)) return;
    i = j;
  }
}

function pointer(segs: readonly Seg[]): string {
  return segs.map((s) => `/${String(s).replace(/~/g, '~0').replace(/\//g, '~1')}`).join('');
}

/** Parse `bytes` as a UTF-8 JSON document; `what` names it in errors (`config.json`). */
export function parseJsonBytes(bytes: Uint8Array, what: string): ParsedJson {
  let text: string;
  try {
    // ignoreBOM keeps a byte order mark in the text, where JSON.parse refuses it (as Go does)
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    throw utf8Error(bytes, what);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new RuntimeError(`${what}: invalid JSON: ${(e as Error).message}`);
  }
  const exact: ExactInts = new Map();
  if (/\d{16}/.test(text)) {
    scanJson(text, (start, end, segs, isKey) => {
      if (isKey) return;
      const tok = text.slice(start, end);
      if (/^-?\d{16,}$/.test(tok)) {
        const v = BigInt(tok);
        // beyond 2^53 a double may or may not hold it, but the ranges are checked on the exact value anyway
        if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < -BigInt(Number.MAX_SAFE_INTEGER)) exact.set(pointer(segs), v);
      }
    });
  }
  return { doc, exact };
}

function utf8Error(bytes: Uint8Array, what: string): RuntimeError {
  const off = badUtf8At(bytes);
  const at = `byte 0x${bytes[off].toString(16).padStart(2, '0')} at offset ${off}`;
  const lossy = new TextDecoder('utf-8', { ignoreBOM: true });
  const pos = lossy.decode(bytes.subarray(0, off)).length;
  let where: string | undefined;
  const text = lossy.decode(bytes);
  scanJson(text, (start, end, segs, isKey) => {
    if (pos < start || pos >= end) return pos < start;
    if (text[start] !== '"') return true; // not inside a string: no field to name
    const p = fieldPath(isKey ? segs.slice(0, -1) : segs);
    where = isKey ? `${p ? `${p}: a key` : 'a key'}` : p || undefined;
    return true;
  });
  if (where) return new RuntimeError(`${what}: ${where}: must be valid UTF-8 (${at})`);
  return new RuntimeError(`${what}: invalid UTF-8 (${at})`);
}
