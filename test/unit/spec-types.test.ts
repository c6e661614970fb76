// The spec types (src/config/spec.gen.ts) against schema/: the committed file is what the generator makes of the
// schemas today, every property of every schema is a field of it, and a schema change shows up as a difference.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { describe, expect, it } from 'vitest';
import { OUT, generate } from '../../scripts/build-spec-types.mjs';

const REPO = path.resolve(__dirname, '..', '..');
const SCHEMA = path.join(REPO, 'schema');
const schemas = fs.readdirSync(SCHEMA).filter((f) => f.endsWith('.json')).map((f) => JSON.parse(fs.readFileSync(path.join(SCHEMA, f), 'utf8')));

/** Every object schema with properties, anywhere in `s`. */
function objects(s: unknown, out: Array<{ properties: Record<string, unknown>; required?: string[] }> = []) {
  if (Array.isArray(s)) s.forEach((x) => objects(x, out));
  else if (s && typeof s === 'object') {
    const o = s as Record<string, unknown>;
    if (o.type === 'object' && o.properties && typeof o.properties === 'object') {
      out.push(o as { properties: Record<string, unknown>; required?: string[] });
    }
    Object.values(o).forEach((x) => objects(x, out));
  }
  return out;
}

describe('spec types generated from schema/', () => {
  const file = fs.readFileSync(OUT, 'utf8');

  it('src/config/spec.gen.ts is what scripts/build-spec-types.mjs makes of schema/ (run npm run build after a schema change)', () => {
    expect(path.relative(REPO, OUT)).toBe('src/config/spec.gen.ts');
    expect(file).toBe(generate(SCHEMA));
  });

  it('every property of every schema is a field, optional unless the schema requires it', () => {
    const objs = schemas.flatMap((s) => objects(s));
    expect(objs.length).toBeGreaterThan(35);
    for (const o of objs) {
      for (const name of Object.keys(o.properties)) {
        const opt = o.required?.includes(name) ? '' : '\\?';
        expect(file, `${name} (${o.required?.includes(name) ? 'required' : 'optional'})`).toMatch(new RegExp(`^\\s+${name}${opt}: `, 'm'));
      }
    }
  });

  it('a schema change changes the generated types (the check above can fail)', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'runts-schema-'));
    try {
      for (const f of fs.readdirSync(SCHEMA)) fs.copyFileSync(path.join(SCHEMA, f), path.join(dir, f));
      const linux = JSON.parse(fs.readFileSync(path.join(dir, 'config-linux.json'), 'utf8'));
      linux.properties.resources.properties.memory.properties.newField = { $ref: 'defs.json#/definitions/uint64' };
      linux.properties.resources.properties.pids.required = [];
      fs.writeFileSync(path.join(dir, 'config-linux.json'), JSON.stringify(linux));
      const changed: string = generate(dir);
      expect(changed).not.toBe(file);
      expect(changed).toMatch(/export type Memory = \{[^}]*\/\*\* uint64 \*\/\n {2}newField\?: number;/);
      expect(changed).toMatch(/export type Pids = \{\n {2}\/\*\* int64 \*\/\n {2}limit\?: number;/);
      expect(file).toMatch(/export type Pids = \{\n {2}\/\*\* int64 \*\/\n {2}limit: number;/);
      // an inline object the generator has no name for fails the build rather than being typed loosely
      linux.properties.resources.properties.misc = { type: 'object', properties: { x: { type: 'string' } } };
      fs.writeFileSync(path.join(dir, 'config-linux.json'), JSON.stringify(linux));
      expect(() => generate(dir)).toThrow(/resources\/properties\/misc: an object or enum without a type name/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('enums are unions of their values, 64-bit integers numbers, nullable integers number | null', () => {
    expect(file).toMatch(/^export type NamespaceType = 'pid' \| 'network' \| 'mount' \| 'ipc' \| 'uts' \| 'user' \| 'cgroup' \| 'time';$/m);
    expect(file).toMatch(/rootfsPropagation\?: 'private' \| 'shared' \|/);
    expect(file).toMatch(/\/\*\* uint64 \*\/\n {2}value: number;/);
    expect(file).toMatch(/\/\*\* int64 \*\/\n {2}major\?: number \| null;/);
    expect(file).toMatch(/^ {2}\[name: string\]|netDevices\?: Record<string, NetDevice>;/m);
  });
});

describe('no casts on config values', () => {
  /** The type names config/types.ts exports (the schema's). */
  const names = [...fs.readFileSync(path.join(REPO, 'src', 'config', 'types.ts'), 'utf8').matchAll(/\b([A-Z][A-Za-z]+)\b(?=[,\s])/g)].map((m) => m[1]);

  it('src/ casts nothing to a spec type (directly or through unknown), nor to never', () => {
    expect(names).toEqual(expect.arrayContaining(['Spec', 'Process', 'Linux', 'Resources', 'Seccomp', 'Mount', 'Hook']));
    const cast = new RegExp(`\\bas (never\\b|(unknown as )?(${names.join('|')})\\b)`);
    const found: string[] = [];
    const walk = (dir: string) => {
      for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
        const p = path.join(dir, e.name);
        if (e.isDirectory()) walk(p);
        else if (p.endsWith('.ts') && !p.endsWith('.gen.ts')) {
          fs.readFileSync(p, 'utf8').split('\n').forEach((l, i) => {
            const code = l.replace(/\/\/.*$/, '').replace(/'[^']*'|`[^`]*`/g, "''");
            if (cast.test(code)) found.push(`${path.relative(REPO, p)}:${i + 1}: ${l.trim()}`);
          });
        }
      }
    };
    walk(path.join(REPO, 'src'));
    // not config: the command loader handed to runAction (program.ts)
    expect(found.filter((f) => !/^src\/program\.ts:\d+: return \(\.\.\.a: A\) => runAction/.test(f))).toEqual([]);
  });
});
