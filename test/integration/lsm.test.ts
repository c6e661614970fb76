// AppArmor profile and SELinux labels: applied where the host has the LSM, a clear error where it has not.
import * as fs from 'fs';
import * as path from 'path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Ctx, baseConfig, bundle, cleanupContext, context, rt } from '../helpers';

const APPARMOR = (() => { try { return fs.readFileSync('/sys/module/apparmor/parameters/enabled', 'utf8').startsWith('Y'); } catch { return false; } })();
const SELINUX = fs.existsSync('/sys/fs/selinux/enforce');
let c: Ctx;
beforeAll(() => { c = context('lsm'); });
afterAll(() => cleanupContext(c));

function runWith(change: (cfg: any) => void, args = ['cat', '/proc/self/attr/current']) {
  const cfg = baseConfig(args);
  change(cfg);
  const id = `lsm${process.pid}-${Math.random().toString(36).slice(2, 7)}`;
  return { id, r: rt(c, ['run', '--bundle', bundle(c, cfg), id]) };
}

describe.skipIf(APPARMOR)('without AppArmor', () => {
  it('process.apparmorProfile is refused, naming the field, and nothing is left', () => {
    const { id, r } = runWith((cfg) => { cfg.process.apparmorProfile = 'runts-test'; });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toBe('runts: process.apparmorProfile: "runts-test" is set, but AppArmor is not enabled on this host\n');
    expect(fs.existsSync(path.join(c.root, id))).toBe(false);
  });
});

describe.skipIf(SELINUX)('without SELinux', () => {
  it('process.selinuxLabel and linux.mountLabel are refused, naming the field', () => {
    const a = runWith((cfg) => { cfg.process.selinuxLabel = 'system_u:system_r:container_t:s0'; });
    expect(a.r.status).not.toBe(0);
    expect(a.r.stderr).toMatch(/^runts: process\.selinuxLabel: .*SELinux is disabled/);
    const b = runWith((cfg) => { cfg.linux.mountLabel = 'system_u:object_r:container_file_t:s0'; });
    expect(b.r.status).not.toBe(0);
    expect(b.r.stderr).toMatch(/^runts: linux\.mountLabel: .*SELinux is disabled/);
    expect(fs.readdirSync(c.root)).toEqual([]);
  });
});

describe.skipIf(!APPARMOR)('with AppArmor', () => {
  it('the process runs under the profile (unconfined is always loaded)', () => {
    const { r } = runWith((cfg) => { cfg.process.apparmorProfile = 'unconfined'; });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^unconfined/);
  });
});
