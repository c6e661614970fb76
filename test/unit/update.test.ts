// update: the --resources document is checked against the schema (as config.json's linux.resources is) before
// anything is written, and the new values are merged into the saved ones field by field.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { describe, expect, it } from 'vitest';
import { requested } from '../../src/commands/update';
import { mergeResources } from '../../src/container/update';
import { checkResources } from '../../src/config/validate';

const REPO = path.resolve(__dirname, '..', '..');

function withFile<T>(text: string, fn: (file: string) => T): T {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'runts-update-'));
  try {
    const f = path.join(dir, 'r.json');
    fs.writeFileSync(f, text);
    return fn(f);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

describe('update --resources', () => {
  it('a value of the wrong type is refused, naming the field, as create would', () => {
    withFile(JSON.stringify({ memory: { limit: '1g' } }), (f) => {
      expect(() => requested({ resources: f })).toThrow(/^--resources: linux\.resources\.memory\.limit: must be an integer$/);
    });
    withFile(JSON.stringify({ pids: {} }), (f) => {
      expect(() => requested({ resources: f })).toThrow(/^--resources: linux\.resources\.pids\.limit: is required$/);
    });
    withFile(JSON.stringify({ cpu: { shares: -1 } }), (f) => {
      expect(() => requested({ resources: f })).toThrow(/^--resources: linux\.resources\.cpu\.shares: must be >= 0$/);
    });
    withFile('[1]', (f) => expect(() => requested({ resources: f })).toThrow('--resources: invalid linux.resources JSON: not an object'));
  });

  it('a good document is taken as written; nulls read as absent (as runc decodes them)', () => {
    withFile(JSON.stringify({ pids: { limit: 77 }, cpu: { quota: -1, shares: null }, memory: null }), (f) => {
      expect(requested({ resources: f })).toEqual({ pids: { limit: 77 }, cpu: { quota: -1 } });
    });
    expect(checkResources({ unified: { 'memory.high': '1M' } })).toEqual({ resources: { unified: { 'memory.high': '1M' } }, problems: [] });
  });
});

describe('mergeResources', () => {
  it('every object of linux.resources in the schema is merged field by field; lists and values replaced', () => {
    const linux = JSON.parse(fs.readFileSync(path.join(REPO, 'schema', 'config-linux.json'), 'utf8'));
    const props: Record<string, { type?: string; $ref?: string }> = linux.properties.resources.properties;
    const objects = Object.entries(props).filter(([, s]) => s.type === 'object' || s.$ref === 'defs.json#/definitions/stringMap').map(([k]) => k);
    expect(objects.sort()).toEqual(['blockIO', 'cpu', 'memory', 'network', 'pids', 'rdma', 'unified']);
    for (const k of objects.filter((o) => o !== 'rdma')) {
      const merged = mergeResources({ [k]: { a: 1, b: 2 } } as never, { [k]: { b: 3, c: 4 } } as never) as Record<string, unknown>;
      expect(merged[k], k).toEqual({ a: 1, b: 3, c: 4 });
    }
    // rdma: per device, each device's limits field by field
    expect(mergeResources({ rdma: { mlx: { hcaHandles: 1, hcaObjects: 2 } } }, { rdma: { mlx: { hcaObjects: 5 }, ib: { hcaHandles: 3 } } }))
      .toEqual({ rdma: { mlx: { hcaHandles: 1, hcaObjects: 5 }, ib: { hcaHandles: 3 } } });
    // lists replaced, fields absent from the delta kept
    expect(mergeResources({ hugepageLimits: [{ pageSize: '2MB', limit: 1 }], memory: { limit: 5 } }, { hugepageLimits: [], cpu: { cpus: '0' } }))
      .toEqual({ hugepageLimits: [], memory: { limit: 5 }, cpu: { cpus: '0' } });
  });
});
