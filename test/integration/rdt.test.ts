// linux.intelRdt and update --l3-cache-schema/--mem-bw-schema: refused by name (runts writes no resctrl groups;
// runc also fails when intelRdt is set and no resctrl filesystem is mounted, as on this host).
import * as fs from 'fs';
import * as path from 'path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Ctx, baseConfig, bundle, cleanupContext, context, rt } from '../helpers';

const RESCTRL = fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').some((l) => / - resctrl /.test(l));
const WHY = RESCTRL ? /Intel RDT \(resctrl at .*\) is not supported by runts$/ : /Intel RDT is not enabled on this host \(no resctrl filesystem mounted\)$/;
if (RESCTRL) console.log('rdt tests: resctrl is mounted here: checking the "not supported" error');

let c: Ctx;
beforeAll(() => { c = context('rdt'); });
afterAll(() => cleanupContext(c));

describe('linux.intelRdt', () => {
  for (const rdt of [{ closID: 'runts-test' }, { l3CacheSchema: 'L3:0=f' }, { schemata: ['MB:0=50'], enableMonitoring: true }, {}]) {
    it(`${JSON.stringify(rdt)} is refused naming the field, and nothing is left`, () => {
      const cfg = baseConfig(['true']);
      cfg.linux.intelRdt = rdt;
      const id = `rdt${process.pid}-${Math.random().toString(36).slice(2, 7)}`;
      const r = rt(c, ['run', '--bundle', bundle(c, cfg), id]);
      expect(r.status).not.toBe(0);
      expect(r.stderr.trim()).toMatch(/^runts: linux\.intelRdt: is set, but /);
      expect(r.stderr.trim()).toMatch(WHY);
      expect(fs.existsSync(path.join(c.root, id))).toBe(false);
    });
  }

  it('update --l3-cache-schema and --mem-bw-schema are refused naming the flag; the container is unchanged', () => {
    const id = `rdtu${process.pid}`;
    const cfg = baseConfig(['sleep', '30']);
    expect(rt(c, ['run', '-d', '--bundle', bundle(c, cfg), id]).status).toBe(0);
    try {
      const before = fs.readFileSync(path.join(c.root, id, 'state.json'), 'utf8');
      for (const [flag, v] of [['--l3-cache-schema', 'L3:0=f'], ['--mem-bw-schema', 'MB:0=50']]) {
        const r = rt(c, ['update', flag, v, id]);
        expect(r.status).not.toBe(0);
        expect(r.stderr.trim()).toMatch(new RegExp(`^runts: ${flag}: `));
        expect(r.stderr.trim()).toMatch(WHY);
      }
      expect(fs.readFileSync(path.join(c.root, id, 'state.json'), 'utf8')).toBe(before);
    } finally {
      rt(c, ['delete', '--force', id]);
    }
  });
});
