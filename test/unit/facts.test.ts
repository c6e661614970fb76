// container/facts.ts: what it gathers for the planner, and that the costly facts are read only when used.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { describe, expect, it } from 'vitest';
import { gatherFacts } from '../../src/container/facts';

const spec = (namespaces: any[]): any => ({ ociVersion: '1.3.0', process: { args: ['x'], cwd: '/' }, linux: { namespaces } });

describe('host facts', () => {
  it("namespace paths of the spec that are the runtime's own (and only those)", () => {
    const f = gatherFacts(spec([{ type: 'network', path: '/proc/self/ns/net' }, { type: 'uts', path: '/proc/self/ns/net' }, { type: 'ipc', path: '/nonexistent' }]), { rootfs: '/nonexistent' });
    expect(f.ownNamespaces).toEqual([{ type: 'network', path: '/proc/self/ns/net' }]);
  });

  it('mountinfo, passwd, LSMs and the cgroup layout are read on first use only', () => {
    const f = gatherFacts(spec([]), { rootfs: '/nonexistent' });
    for (const k of ['mounts', 'passwd', 'lsm', 'cgroupV1', 'cgroup2Mount', 'rootfsReal']) expect(typeof Object.getOwnPropertyDescriptor(f, k)!.get).toBe('function');
    expect(f.mounts.some((m) => m.mountPoint === '/')).toBe(true);
    expect(Object.getOwnPropertyDescriptor(f, 'mounts')!.get).toBeUndefined();
    expect(f.rootfsReal).toBe('/nonexistent');
  });

  it("the rootfs's passwd, never through a symlink out of it", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'runts-facts-'));
    try {
      fs.mkdirSync(path.join(dir, 'a/etc'), { recursive: true });
      fs.writeFileSync(path.join(dir, 'a/etc/passwd'), 'u:x:5:5::/home/u:/bin/sh\n');
      expect(gatherFacts(spec([]), { rootfs: path.join(dir, 'a') }).passwd).toContain('/home/u');
      fs.mkdirSync(path.join(dir, 'b'));
      fs.symlinkSync(path.join(dir, 'a/etc'), path.join(dir, 'b/etc'));
      expect(gatherFacts(spec([]), { rootfs: path.join(dir, 'b') }).passwd).toBe('');
      fs.mkdirSync(path.join(dir, 'c/etc'), { recursive: true });
      fs.symlinkSync(path.join(dir, 'a/etc/passwd'), path.join(dir, 'c/etc/passwd'));
      expect(gatherFacts(spec([]), { rootfs: path.join(dir, 'c') }).passwd).toBe('');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
