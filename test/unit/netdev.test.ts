// linux.netDevices decisions: name rules (the kernel's dev_valid_name), the namespace rule, which addresses move.
import * as fs from 'fs';
import * as path from 'path';
import { describe, expect, it } from 'vitest';
import { movedAddresses, netDeviceSteps, netDevices, validIfName } from '../../src/plan/netdev';
import { planNamespaces } from '../../src/plan/namespaces';
import { gatherFacts } from '../../src/container/facts';

const spec = (netDevices: any, namespaces: any[] = [{ type: 'mount' }, { type: 'network' }]) =>
  ({ ociVersion: '1.3.0', linux: { namespaces, netDevices } }) as any;
import { checkNetDevices, throwFirst } from '../../src/config/rules';
import { nsFacts } from '../../src/plan/facts';

/** create's order: the rule (config/rules.ts, with the namespace facts), then the planner's list */
const devs = (s: any) => {
  const facts = gatherFacts(s, { rootfs: '/nonexistent' });
  throwFirst(checkNetDevices(s, nsFacts(facts)));
  return netDevices(s, planNamespaces(s), facts);
};

describe('linux.netDevices', () => {
  it('validIfName follows dev_valid_name', () => {
    for (const n of ['eth0', 'a', 'x'.repeat(15), 'veth-1.2', 'é']) expect(validIfName(n)).toBe(true);
    for (const n of ['', '.', '..', 'x'.repeat(16), 'a/b', 'a:b', 'a b', 'a\tb', 'éééééééé']) expect(validIfName(n)).toBe(false);
  });

  it('renames when name is set, keeps the host name otherwise', () => {
    expect(devs(spec({ vA: { name: 'eth0' }, vB: {}, vC: { name: '' } }))).toEqual([
      { host: 'vA', name: 'eth0' }, { host: 'vB', name: 'vB' }, { host: 'vC', name: 'vC' },
    ]);
    expect(devs(spec(undefined))).toEqual([]);
  });

  it('errors name the field', () => {
    expect(() => devs(spec({ vA: {} }, [{ type: 'mount' }]))).toThrow(/^linux\.netDevices: moving network devices needs a network namespace/);
    expect(() => devs(spec({ vA: {} }, [{ type: 'mount' }, { type: 'network', path: '/proc/self/ns/net' }])))
      .toThrow(/^linux\.netDevices: the network namespace \/proc\/self\/ns\/net is runts' own/);
    expect(() => devs(spec({ 'a:b': {} }))).toThrow('linux.netDevices: invalid device name "a:b"');
    expect(() => devs(spec({ vA: { name: 'x'.repeat(16) } }))).toThrow(/^linux\.netDevices\.vA\.name: invalid device name/);
    expect(() => devs(spec({ vA: { name: 'eth0' }, vB: { name: 'eth0' } }))).toThrow('linux.netDevices.vB.name: "eth0" is given to two devices');
  });

  it('only permanent addresses of global scope move', () => {
    const a = (flags: number, scope: number, local: string) => ({ family: 2, prefixlen: 24, flags, scope, local });
    const kept = a(0x80, 0, '10.0.0.1');
    expect(movedAddresses([kept, a(0, 0, '10.0.0.2'), a(0x80, 253, '10.0.0.3'), a(0x80, 254, '127.0.0.1')])).toEqual([kept]);
  });

  it('steps: each address, then up, under the container name', () => {
    const steps = netDeviceSteps([{ host: 'vA', name: 'eth0', addrs: [
      { family: 10, prefixlen: 64, flags: 0x80, scope: 0, local: 'fd00::1' },
      { family: 2, prefixlen: 24, flags: 0x80, scope: 0, local: '10.0.0.1', broadcast: '10.0.0.255' },
    ] }]);
    expect(steps.map((s) => [s.op, ...s.args.map((x) => x.v)])).toEqual([
      ['NETDEV_ADDR', 'eth0', 10, 64, 'fd00::1', ''],
      ['NETDEV_ADDR', 'eth0', 2, 24, '10.0.0.1', '10.0.0.255'],
      ['NETDEV_UP', 'eth0'],
    ]);
  });
});

describe('NetAddr', () => {
  // it was written twice (src/native.ts and src/plan/netdev.ts) and could drift apart; the planner may not import
  // native.ts, so the addon's face takes the planner's type
  it('is declared once, in plan/netdev.ts, and native.ts uses it', () => {
    const src = path.resolve(__dirname, '..', '..', 'src');
    const declaring: string[] = [];
    const walk = (d: string): void => {
      for (const e of fs.readdirSync(d, { withFileTypes: true })) {
        const f = path.join(d, e.name);
        if (e.isDirectory()) walk(f);
        else if (f.endsWith('.ts') && /\b(interface|type) NetAddr\b/.test(fs.readFileSync(f, 'utf8'))) declaring.push(path.relative(src, f));
      }
    };
    walk(src);
    expect(declaring).toEqual(['plan/netdev.ts']);
    expect(fs.readFileSync(path.join(src, 'native.ts'), 'utf8')).toMatch(/^import type \{ NetAddr \} from '\.\/plan\/netdev';$/m);
  });
});
