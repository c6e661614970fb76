// Validation of config.json and state documents against schema/*.json, precompiled by
// scripts/build-validators.mjs into dist/validators.js (ajv standalone code: nothing is compiled at run time),
// plus the rules a JSON Schema cannot state (absolute paths, namespaces a setting needs, duplicates).
// Every problem becomes one line naming the field: `linux.namespaces[1].type: must be one of pid, ...`.
import { join } from '../paths';
import type { ExactInts } from './json';
import { DOC_RULES, Problem, checkVersion, fieldPath, problemText } from './rules';
import type { Resources, Spec, State } from './types';

/** The part of an ajv ErrorObject we read (no import of ajv at run time). */
interface SchemaError {
  instancePath: string;
  schemaPath: string;
  keyword: string;
  params: Record<string, any>;
  message?: string;
}
/** A validator compiled from schema/: a document it accepts has the types generated from the same schema. */
type CompiledValidator<T> = ((doc: unknown) => doc is T) & { errors?: SchemaError[] | null };
interface Validators {
  validateConfig: CompiledValidator<Spec>;
  validateState: CompiledValidator<State>;
}

let loaded: Validators | undefined;

function validators(): Validators {
  if (loaded) return loaded;
  // A literal require first, so that a bundler (bun build --compile) embeds dist/validators.js when this
  // file runs as dist/config/validate.js.
  try {
    loaded = require('../validators.js') as Validators;
    return loaded;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'MODULE_NOT_FOUND') throw e;
  }
  // From the sources (src/config/, e.g. under vitest): the build output next to them.
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const { existsSync } = require('fs') as typeof import('fs'); // the source tree only (vitest)
  const candidates = [join(__dirname, '..', 'validators.js'), join(__dirname, '..', '..', 'dist', 'validators.js')];
  for (const file of candidates) {
    if (existsSync(file)) {
      loaded = require(file) as Validators;
      return loaded;
    }
  }
  throw new Error(`precompiled validators not found (${candidates.join(', ')}): run node scripts/build-validators.mjs`);
}

// ---------------------------------------------------------------------------------------------------------
// Field paths

type Seg = string | number;

/** A JSON pointer's (ajv's instancePath, json.ts's exact-integer paths) keys, unescaped; "" is the document itself. */
function pointerKeys(pointer: string): string[] {
  if (!pointer) return [];
  return pointer.slice(1).split('/').map((k) => k.replace(/~1/g, '/').replace(/~0/g, '~'));
}

/** JSON pointer (ajv instancePath) to segments; array indexes become numbers (decided by the document). */
function pointerSegs(pointer: string, doc: unknown): Seg[] {
  const segs: Seg[] = [];
  let cur: unknown = doc;
  for (const key of pointerKeys(pointer)) {
    if (Array.isArray(cur) && /^\d+$/.test(key)) {
      segs.push(Number(key));
      cur = cur[Number(key)];
    } else {
      segs.push(key);
      cur = isObj(cur) ? cur[key] : undefined;
    }
  }
  return segs;
}

function line(segs: readonly Seg[], text: string): Problem {
  return { field: fieldPath(segs), message: text };
}

// ---------------------------------------------------------------------------------------------------------
// Schema errors to messages

const TYPE_NAMES: Record<string, string> = {
  integer: 'an integer',
  number: 'a number',
  string: 'a string',
  boolean: 'a boolean',
  array: 'an array',
  object: 'an object',
  null: 'null',
};

function typeText(t: unknown): string {
  const types = Array.isArray(t) ? t : String(t).split(',');
  return `must be ${types.map((x) => TYPE_NAMES[x] ?? x).join(' or ')}`;
}

function plural(n: number, one: string, many = `${one}s`): string {
  return n === 1 ? `one ${one}` : `${n} ${many}`;
}

function schemaMessage(e: SchemaError, doc: unknown, exact?: ExactInts): Problem {
  const segs = pointerSegs(e.instancePath, doc);
  const p = e.params || {};
  switch (e.keyword) {
    case 'type':
      return line(segs, typeText(p.type));
    case 'required':
      return line([...segs, String(p.missingProperty)], 'is required');
    case 'additionalProperties':
      return line([...segs, String(p.additionalProperty)], 'is not allowed');
    case 'enum':
      return line(segs, `must be one of ${(p.allowedValues as unknown[]).map((v) => (typeof v === 'string' ? v : JSON.stringify(v))).join(', ')}`);
    case 'const':
      return line(segs, `must be ${JSON.stringify(p.allowedValue)}`);
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum': {
      const got = exact?.get(e.instancePath);
      return line(segs, `must be ${p.comparison} ${BIG_LIMITS.get(p.limit) ?? p.limit}${got !== undefined ? ` (got ${got})` : ''}`);
    }
    case 'multipleOf':
      return line(segs, `must be a multiple of ${p.multipleOf}`);
    case 'pattern':
      return line(segs, `must match ${p.pattern}`);
    case 'minItems':
      return line(segs, `must contain at least ${plural(p.limit, 'element')}`);
    case 'maxItems':
      return line(segs, `must contain at most ${plural(p.limit, 'element')}`);
    case 'minLength':
      return line(segs, p.limit === 1 ? 'must not be empty' : `must be at least ${p.limit} characters long`);
    case 'maxLength':
      return line(segs, `must be at most ${p.limit} characters long`);
    case 'minProperties':
      return line(segs, `must have at least ${plural(p.limit, 'property', 'properties')}`);
    case 'uniqueItems':
      return line(segs, `must not contain duplicates (elements ${p.j} and ${p.i} are equal)`);
    case 'anyOf':
    case 'oneOf':
      return line(segs, 'does not match any of the allowed forms');
    default:
      return line(segs, e.message || `is invalid (${e.keyword})`);
  }
}

// ---------------------------------------------------------------------------------------------------------
// 64-bit integers. The schema bounds int64 and uint64 (defs.json), but as doubles: 2^64-1 and 2^64 are the same
// number to JSON.parse and to ajv. Integers that a double cannot hold are kept exactly by json.ts; for the schema
// check each is replaced by a double on the same side of the bounds, then put back.

/** The schema's 64-bit bounds as ajv reports them (doubles), and as they are written. */
const BIG_LIMITS = new Map<number, string>([
  [2 ** 64, '18446744073709551615'],
  [2 ** 63, '9223372036854775807'],
  [-(2 ** 63), '-9223372036854775808'],
]);

const U64_MAX = (1n << 64n) - 1n;
const I64_MAX = (1n << 63n) - 1n;
const I64_MIN = -(1n << 63n);

/** A double that compares with the schema's 64-bit bounds (as doubles) the way `v` does with the exact ones. */
function standIn(v: bigint): number {
  if (v > U64_MAX) return 2 ** 64 + 8192; // above both maxima
  if (v > I64_MAX) return 2 ** 63 + 2048; // a uint64, above int64's maximum
  if (v < I64_MIN) return -(2 ** 63) - 4096; // below int64's minimum
  return Number(v); // rounds to at most 2^63 and at least -2^63: within int64's bounds as doubles
}

function setAt(doc: unknown, pointer: string, value: unknown): void {
  const keys = pointerKeys(pointer);
  if (!keys.length) return; // the document itself is no field to set
  let cur: unknown = doc;
  for (const k of keys.slice(0, -1)) cur = Array.isArray(cur) ? cur[Number(k)] : isObj(cur) ? cur[k] : undefined;
  if (Array.isArray(cur)) cur[Number(keys[keys.length - 1])] = value;
  else if (isObj(cur)) cur[keys[keys.length - 1]] = value;
}

/** Combinator and if/then errors only repeat what their branches said, when a branch said anything. */
const SUMMARY_KEYWORDS = new Set(['anyOf', 'oneOf', 'if', 'not', '$ref']);

function schemaMessages(errors: readonly SchemaError[] | null | undefined, doc: unknown, exact?: ExactInts): Problem[] {
  if (!errors) return [];
  const kept = errors.filter((e) => {
    if (!SUMMARY_KEYWORDS.has(e.keyword)) return true;
    const under = e.instancePath;
    return !errors.some((o) => o !== e && !SUMMARY_KEYWORDS.has(o.keyword) && (o.instancePath === under || o.instancePath.startsWith(`${under}/`)));
  });
  return kept.map((e) => schemaMessage(e, doc, exact));
}

// ---------------------------------------------------------------------------------------------------------
// Rules beyond the schema: config/rules.ts

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);

/**
 * Strings (and keys) holding a lone UTF-16 surrogate: a `\ud800` escape in the JSON that is not half of a pair.
 * It stands for no character; written to the kernel it would become U+FFFD or garbage.
 */
function unicodeMessages(doc: unknown): Problem[] {
  const out: Problem[] = [];
  const lone = /\p{Cs}/u;
  const hex = (s: string) => `\\u${s.match(lone)![0].charCodeAt(0).toString(16)}`;
  const walk = (v: unknown, segs: Seg[]) => {
    if (typeof v === 'string') {
      if (lone.test(v)) out.push(line(segs, `must be valid Unicode (lone surrogate ${hex(v)})`));
    } else if (Array.isArray(v)) {
      v.forEach((x, i) => walk(x, [...segs, i]));
    } else if (isObj(v)) {
      for (const [k, x] of Object.entries(v)) {
        if (lone.test(k)) out.push(line(segs, `a key must be valid Unicode (lone surrogate ${hex(k)})`));
        else walk(x, [...segs, k]);
      }
    }
  };
  walk(doc, []);
  return out;
}

function dedupe(list: Problem[]): Problem[] {
  const seen = new Set<string>();
  return list.filter((p) => {
    const t = problemText(p);
    if (seen.has(t)) return false;
    seen.add(t);
    return true;
  });
}

// ---------------------------------------------------------------------------------------------------------

/** All problems of a config.json document, most relevant first; empty when it is valid. */
export function validateConfig(doc: unknown, exact?: ExactInts): string[] {
  return configProblems(doc, exact).map(problemText);
}

/** validateConfig's problems as { field, message }. */
export function configProblems(doc: unknown, exact?: ExactInts): Problem[] {
  return checkConfig(doc, exact).problems;
}

/** The schema's check of config.json, with the exact 64-bit integers of json.ts compared exactly. */
function schemaValid(doc: unknown, exact?: ExactInts): doc is Spec {
  const v = validators().validateConfig;
  if (!exact?.size) return v(doc);
  for (const [p, n] of exact) setAt(doc, p, standIn(n));
  try {
    return v(doc);
  } finally {
    for (const [p, n] of exact) setAt(doc, p, Number(n));
  }
}

/** A config.json document checked: `spec` is the document when it has no problem (its types: config/types.ts). */
export function checkConfig(doc: unknown, exact?: ExactInts): { spec?: Spec; problems: Problem[] } {
  const valid = schemaValid(doc, exact);
  const schemaErrs = valid ? [] : schemaMessages(validators().validateConfig.errors, doc, exact);
  if (!isObj(doc)) return { problems: dedupe(schemaErrs) };
  const problems = dedupe([...checkVersion(doc), ...unicodeMessages(doc), ...schemaErrs, ...DOC_RULES.flatMap((rule) => rule(doc))]);
  return valid && !problems.length ? { spec: doc, problems } : { problems };
}

/** JSON nulls read as absent, as Go's decoder reads them into runc's pointer fields. */
function withoutNulls(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(withoutNulls);
  if (!isObj(v)) return v;
  return Object.fromEntries(Object.entries(v).filter(([, x]) => x !== null).map(([k, x]) => [k, withoutNulls(x)]));
}

/** A linux.resources document alone (update --resources), checked as config.json's is; nulls read as absent. */
export function checkResources(doc: unknown): { resources?: Resources; problems: Problem[] } {
  const { spec, problems } = checkConfig({ ociVersion: '1.3.0', root: { path: '/' }, linux: { resources: withoutNulls(doc) } });
  return { resources: spec?.linux?.resources, problems };
}

/**
 * What of a config.json document the schema accepts, for rules that read a Spec (`runts validate` runs them
 * beside the schema's errors): a copy without each value the schema refused, removed with the object field that
 * holds it (an array as a whole, so that indexes stay those of the document). Undefined when what is left still
 * fails (a required top-level field refused).
 */
export function schemaValidPart(doc: unknown): Spec | undefined {
  if (!isObj(doc)) return undefined;
  const v = validators().validateConfig;
  const copy = structuredClone(doc);
  for (let round = 0; round < 64; round++) {
    if (v(copy)) return copy;
    for (const e of v.errors ?? []) {
      const segs = pointerKeys(e.instancePath);
      const holders: unknown[] = [copy]; // holders[i] holds segs[i]
      for (const k of segs) {
        const h = holders[holders.length - 1];
        holders.push(Array.isArray(h) ? h[Number(k)] : isObj(h) ? h[k] : undefined);
      }
      let i = segs.length - 1;
      while (i >= 0 && !isObj(holders[i])) i--; // up to the object field holding the array
      const holder = holders[i];
      if (i < 0 || !isObj(holder)) return undefined;
      delete holder[segs[i]];
    }
  }
  return undefined;
}

/** All problems of a state document (as `state` prints and hooks receive it); empty when it is valid. */
export function validateState(doc: unknown): string[] {
  const v = validators().validateState;
  const out = v(doc) ? [] : schemaMessages(v.errors, doc);
  if (isObj(doc) && (doc.status === 'created' || doc.status === 'running') && doc.pid === undefined) {
    out.push({ field: 'pid', message: `is required when status is "${doc.status}"` });
  }
  return dedupe(out).map(problemText);
}
