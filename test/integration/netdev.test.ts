// linux.netDevices: a veth end moved from runts' network namespace into the container's, renamed, up, with its
// permanent global addresses; errors name the field. runts runs inside a network namespace the test makes
// (nsenter --net: only that namespace; `ip netns exec` would also remount /sys and hide the cgroup mounts).
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Ctx, RUNTS, baseConfig, bundle, cleanupContext, context, rt, sleep } from '../helpers';

const ip = (...a: string[]) => spawnSync('ip', a, { encoding: 'utf8' });
const NETNS = ip('netns', 'list').status === 0 && spawnSync('nsenter', ['--version']).status === 0;
if (!NETNS) console.log('netdev tests: `ip netns` or nsenter is missing: skipped');

let c: Ctx;
let ns = '';
let seq = 0;
beforeAll(() => { c = context('netdev'); });
afterAll(() => cleanupContext(c));
beforeEach(() => {
  if (!NETNS) return;
  ns = `rtnd${process.pid}-${++seq}`;
  const steps = [
    ['netns', 'add', ns],
    ['-n', ns, 'link', 'add', 'vA', 'type', 'veth', 'peer', 'name', 'vB'],
    ['-n', ns, 'addr', 'add', '10.77.0.2/24', 'dev', 'vA'],
    ['-n', ns, 'addr', 'add', '10.77.1.2/24', 'brd', '10.77.1.255', 'dev', 'vA'],
    ['-n', ns, 'addr', 'add', 'fd00:77::2/64', 'dev', 'vA'],
    // not permanent (a lifetime): must not move
    ['-n', ns, 'addr', 'add', '10.77.2.2/24', 'dev', 'vA', 'valid_lft', '100', 'preferred_lft', '100'],
    // not global: must not move
    ['-n', ns, 'addr', 'add', '10.77.3.2/24', 'dev', 'vA', 'scope', 'link'],
  ];
  for (const s of steps) {
    const r = ip(...s);
    if (r.status !== 0) throw new Error(`ip ${s.join(' ')}: ${r.stderr}`);
  }
});
afterEach(() => { if (ns) ip('netns', 'del', ns); ns = ''; });

/** runts in the test's network namespace only */
function runtsIn(args: string[]) {
  return spawnSync('nsenter', [`--net=/run/netns/${ns}`, RUNTS, '--root', c.root, ...args], { encoding: 'utf8', timeout: 30_000 });
}

function run(change: (cfg: any) => void, args = ['sh', '-c', 'ip addr show; cat /sys/class/net/*/operstate']) {
  const cfg = baseConfig(args);
  change(cfg);
  const id = `nd${process.pid}-${++seq}`;
  return { id, r: runtsIn(['run', '--bundle', bundle(c, cfg), id]) };
}

describe.skipIf(!NETNS)('linux.netDevices', () => {
  it('moves the device renamed, up, with its permanent global addresses, and does not move it back', async () => {
    const { r } = run((cfg) => { cfg.linux.netDevices = { vA: { name: 'ctr0' } }; }, ['ip', '-o', 'addr', 'show', 'dev', 'ctr0']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const out = r.stdout;
    expect(out).toMatch(/ctr0\s+inet 10\.77\.0\.2\/24 scope global ctr0/);
    expect(out).toMatch(/ctr0\s+inet 10\.77\.1\.2\/24 brd 10\.77\.1\.255 scope global ctr0/);
    expect(out).toMatch(/ctr0\s+inet6 fd00:77::2\/64 scope global/);
    expect(out).not.toContain('10.77.2.2');
    expect(out).not.toContain('10.77.3.2');
    // the veth went with the container's namespace: neither end is left in runts' namespace (the kernel tears the
    // namespace down after the last process is gone, asynchronously: wait for it, up to 5 s)
    let links = ip('-n', ns, '-o', 'link', 'show').stdout;
    for (let i = 0; i < 50 && /\bv[AB]\b/.test(links); i++) {
      await sleep(100);
      links = ip('-n', ns, '-o', 'link', 'show').stdout;
    }
    expect(links).not.toMatch(/\bvA\b/);
    expect(links).not.toMatch(/\bvB\b/);
  });

  it('the device is up inside, and keeps its name when no name is given', () => {
    const { r } = run((cfg) => { cfg.linux.netDevices = { vA: {} }; }, ['ip', '-o', 'link', 'show', 'dev', 'vA']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^\d+: vA@\w+: <[^>]*\bUP\b[^>]*>/);
  });

  it('works with a user namespace (the stub configures it as root of that namespace)', () => {
    const { r } = run((cfg) => {
      cfg.linux.netDevices = { vA: { name: 'eth7' } };
      cfg.linux.namespaces.push({ type: 'user' });
      cfg.linux.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
      cfg.linux.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
      cfg.mounts = cfg.mounts.filter((m: any) => m.destination !== '/sys');
    }, ['ip', '-o', 'addr', 'show', 'dev', 'eth7']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/eth7\s+inet 10\.77\.0\.2\/24/);
  });

  it('a device that does not exist is an error naming the field, and nothing is left', () => {
    const { id, r } = run((cfg) => { cfg.linux.netDevices = { nosuch0: {} }; });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toBe('runts: linux.netDevices: device "nosuch0" does not exist in runts\' network namespace\n');
    expect(fs.existsSync(path.join(c.root, id))).toBe(false);
    expect(ip('-n', ns, '-o', 'link', 'show', 'vA').status).toBe(0);
  });

  it('without a network namespace: an error naming the field, the device stays', () => {
    const { id, r } = run((cfg) => {
      cfg.linux.netDevices = { vA: {} };
      cfg.linux.namespaces = cfg.linux.namespaces.filter((n: any) => n.type !== 'network');
    });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/^runts: linux\.netDevices: moving network devices needs a network namespace/);
    expect(fs.existsSync(path.join(c.root, id))).toBe(false);
    expect(ip('-n', ns, '-o', 'link', 'show', 'vA').status).toBe(0);
  });

  it('a name already taken inside the container is an error naming the device', () => {
    const { id, r } = run((cfg) => { cfg.linux.netDevices = { vA: { name: 'lo' } }; });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toBe('runts: linux.netDevices.vA: move into the container\'s network namespace as "lo": file exists\n');
    expect(fs.existsSync(path.join(c.root, id))).toBe(false);
    // (the kernel moved it under its own name before the rename failed; it went with the namespace, as in runc)
  });

  it('an invalid name is refused before anything is created', () => {
    const { id, r } = run((cfg) => { cfg.linux.netDevices = { vA: { name: 'a/b' } }; });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toBe('runts: linux.netDevices.vA.name: invalid device name "a/b"\n');
    expect(fs.existsSync(path.join(c.root, id))).toBe(false);
  });
});

it('features says netDevices are supported and Intel RDT is not', () => {
  const f = JSON.parse(rt(c, ['features']).stdout);
  expect(f.linux.netDevices).toEqual({ enabled: true });
  expect(f.linux.intelRdt).toEqual({ enabled: false });
});
