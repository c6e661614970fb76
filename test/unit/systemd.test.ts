import { describe, expect, it } from 'vitest';
import { decodeMessage, encodeMessage, messageLength, splitSignature } from '../../src/cgroups/dbus';
import { cpuMask, deviceGroups, deviceProperties, expandSlice, resourceProperties, scopeProperties, systemdPath } from '../../src/cgroups/systemd';

describe('systemd cgroupsPath (runc parsing)', () => {
  it('expands nested slices as systemd does', () => {
    expect(expandSlice('system.slice')).toBe('/system.slice');
    expect(expandSlice('kubepods-burstable-pod1.slice')).toBe('/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod1.slice');
    expect(expandSlice('-.slice')).toBe('/');
    for (const bad of ['a--b.slice', 'system', 'a/b.slice', '.slice', '-a.slice']) expect(() => expandSlice(bad)).toThrow(/invalid slice name/);
  });
  it('parses slice:prefix:name with runc defaults', () => {
    expect(systemdPath('system.slice:runts:abc', 'x')).toEqual({ slice: 'system.slice', slicePath: '/system.slice', unit: 'runts-abc.scope' });
    expect(systemdPath(':docker:abc', 'x')).toEqual({ slice: 'system.slice', slicePath: '/system.slice', unit: 'docker-abc.scope' });
    expect(systemdPath('a-b.slice::abc', 'x').unit).toBe('abc.scope');
    expect(systemdPath(undefined, 'myid')).toEqual({ slice: 'system.slice', slicePath: '/system.slice', unit: 'runts-myid.scope' });
    expect(() => systemdPath('/a/b', 'x')).toThrow(/linux.cgroupsPath: expected "slice:prefix:name"/);
    expect(() => systemdPath('a.slice:p:', 'x')).toThrow(/name .* is empty/);
  });
  it('a name ending in .slice is a slice unit under its parent (the prefix ignored)', () => {
    expect(systemdPath('a-b.slice:p:a-b-c.slice', 'x')).toEqual({ slice: 'a-b.slice', slicePath: '/a.slice/a-b.slice', unit: 'a-b-c.slice' });
    expect(systemdPath(':runts:system-x.slice', 'x')).toEqual({ slice: 'system.slice', slicePath: '/system.slice', unit: 'system-x.slice' });
    expect(systemdPath('-.slice::top.slice', 'x')).toEqual({ slice: '-.slice', slicePath: '/', unit: 'top.slice' });
    // systemd would place it elsewhere than under the parent: refused, naming the right name
    expect(() => systemdPath('system.slice:p:foo.slice', 'x')).toThrow('linux.cgroupsPath: the slice "foo.slice" is not a child of "system.slice" (systemd puts it in "-.slice"); name it "system-foo.slice"');
    expect(() => systemdPath('-.slice:p:a-b.slice', 'x')).toThrow(/not a child of "-.slice".*name it "b.slice"/);
    expect(() => systemdPath('system.slice:p:a--b.slice', 'x')).toThrow(/invalid slice name/);
  });
});

describe('systemd unit properties', () => {
  const groups = deviceGroups('Character devices:\n  1 mem\n136 pts\n\nBlock devices:\n  8 sd\n');
  it('v1 names, runc conversions', () => {
    const p = Object.fromEntries(resourceProperties({ memory: { limit: 1 << 20 }, cpu: { shares: 512, quota: 25000, period: 100000 }, pids: { limit: -1 }, blockIO: { weight: 300 } }, false, groups));
    expect(p.MemoryLimit).toEqual(['t', 1048576n]);
    expect(p.CPUShares).toEqual(['t', 512n]);
    expect(p.CPUQuotaPeriodUSec).toEqual(['t', 100000n]);
    expect(p.CPUQuotaPerSecUSec).toEqual(['t', 250000n]);
    expect(p.TasksMax).toEqual(['t', 0xffffffffffffffffn]);
    expect(p.BlockIOWeight).toEqual(['t', 300n]);
    expect(p.MemoryMax).toBeUndefined();
  });
  it('v2 names', () => {
    const p = Object.fromEntries(resourceProperties({ memory: { limit: 4096 }, cpu: { shares: 1024, quota: 33333, cpus: '0-1,9' } }, true, groups));
    expect(p.MemoryMax).toEqual(['t', 4096n]);
    expect(p.CPUWeight).toEqual(['t', 39n]);
    // 333330 µs per second rounds up to the next 10 ms, as runc does
    expect(p.CPUQuotaPerSecUSec).toEqual(['t', 340000n]);
    expect(p.AllowedCPUs).toEqual(['ay', Buffer.from([0x03, 0x02])]);
  });
  it('devices: strict with the defaults, auto for allow-all', () => {
    const p = Object.fromEntries(deviceProperties(undefined, groups));
    expect(p.DevicePolicy).toEqual(['s', 'strict']);
    const list = (p.DeviceAllow[1] as [string, string][]);
    expect(list).toContainEqual(['/dev/char/1:3', 'rwm']);
    expect(list).toContainEqual(['char-pts', 'rwm']);
    expect(list).toContainEqual(['char-*', 'm']);
    const all = Object.fromEntries(deviceProperties([{ allow: true, access: 'rwm' }], groups));
    expect(all.DevicePolicy).toEqual(['s', 'auto']);
  });
  it('a scope gets the pid, Delegate and the slice', () => {
    const p = Object.fromEntries(scopeProperties({ slice: 'x.slice', unit: 'runts-a.scope' }, 42, {}, false, groups));
    expect(p.PIDs).toEqual(['au', [42]]);
    expect(p.Delegate).toEqual(['b', true]);
    expect(p.Slice).toEqual(['s', 'x.slice']);
  });
  it('a slice gets Wants= its parent, no pid, no Delegate', () => {
    const p = Object.fromEntries(scopeProperties({ slice: 'x.slice', unit: 'x-a.slice' }, 42, { pids: { limit: 5 } }, false, groups));
    expect(p.Wants).toEqual(['as', ['x.slice']]);
    expect(p.TasksMax).toEqual(['t', 5n]);
    for (const k of ['PIDs', 'Delegate', 'Slice']) expect(p[k], k).toBeUndefined();
  });
  it('cpuMask', () => {
    expect(cpuMask('0', 'f')).toEqual(Buffer.from([1]));
    expect(() => cpuMask('3-1', 'linux.resources.cpu.cpus')).toThrow(/linux.resources.cpu.cpus/);
  });
});

describe('D-Bus messages', () => {
  it('splits signatures', () => {
    expect(splitSignature('ssa(sv)a(sa(sv))')).toEqual(['s', 's', 'a(sv)', 'a(sa(sv))']);
    expect(splitSignature('a{sv}u')).toEqual(['a{sv}', 'u']);
  });
  it('round-trips a StartTransientUnit call', () => {
    const body = ['runts-a.scope', 'replace', [['PIDs', ['au', [1, 2]]], ['Delegate', ['b', true]], ['MemoryLimit', ['t', 5n]], ['AllowedCPUs', ['ay', Buffer.from([3])]], ['DeviceAllow', ['a(ss)', [['char-pts', 'rwm']]]]], []];
    const b = encodeMessage({ type: 1, serial: 7, path: '/org/freedesktop/systemd1', iface: 'org.freedesktop.systemd1.Manager', member: 'StartTransientUnit', destination: 'org.freedesktop.systemd1', signature: 'ssa(sv)a(sa(sv))', body: body as any });
    expect(messageLength(b)).toBe(b.length);
    expect(messageLength(b.subarray(0, b.length - 1))).toBe(0);
    const m = decodeMessage(b);
    expect(m.member).toBe('StartTransientUnit');
    expect(m.serial).toBe(7);
    expect(m.body).toEqual(body);
  });
  it('matches the reference encoding of a Hello call', () => {
    // as dbus-send --print-reply --system --dest=org.freedesktop.DBus / org.freedesktop.DBus.Hello frames it
    const b = encodeMessage({ type: 1, serial: 1, path: '/org/freedesktop/DBus', iface: 'org.freedesktop.DBus', member: 'Hello', destination: 'org.freedesktop.DBus', signature: '', body: [] });
    expect(b.subarray(0, 16).toString('hex')).toBe('6c01000100000000010000006d000000');
    expect(b.length % 8).toBe(0);
  });
});
