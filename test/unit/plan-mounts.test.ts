// buildPlan's rootfs and mounts from a spec plus host facts (no root, no host reads).
import { describe, expect, it } from 'vitest';
import { buildPlan } from '../../src/plan/build';
import { MS } from '../../src/plan/mounts';
import { How, UmountHow } from '../../src/plan/ops';
import { baseSpec, fakeFacts, pick, planOpts } from './fakefacts';

const ROOTFS = planOpts.rootfs;
const ops = (steps: Array<{ op: string }>) => steps.map((s) => s.op);
const mountTo = (steps: any[], dest: string) => pick(steps, 'MOUNT').filter((v) => v[1] === dest);

describe('plan: rootfs propagation', () => {
  it('default: / rslave, the rootfs bound onto itself, pivot_root; host mounts not needed', () => {
    const facts = fakeFacts();
    Object.defineProperty(facts, 'mounts', { get: () => { throw new Error('mountinfo read'); } });
    const { steps } = buildPlan(baseSpec(), facts, planOpts);
    expect(mountTo(steps, '/')[0]).toEqual(['', '/', '', MS.SLAVE | MS.REC, '', 0]);
    expect(mountTo(steps, ROOTFS)).toEqual([[ROOTFS, ROOTFS, '', MS.BIND | MS.REC, '', 0]]);
    expect(ops(steps)).toContain('PIVOT_ROOT');
  });

  it('shared: the mount holding the (real) rootfs and / become slaves, shared again after pivot_root', () => {
    const facts = fakeFacts({
      rootfsReal: '/srv/ctr/rootfs',
      mounts: [{ root: '/', mountPoint: '/', fsType: 'ext4' }, { root: '/', mountPoint: '/srv', fsType: 'xfs' }, { root: '/', mountPoint: '/srv/c', fsType: 'xfs' }],
    });
    const { steps } = buildPlan(baseSpec({ linux: { rootfsPropagation: 'shared' } }), facts, planOpts);
    const m = pick(steps, 'MOUNT').map((v) => [v[1], v[3]]);
    expect(m.slice(0, 3)).toEqual([['/', MS.SHARED], ['/', MS.SLAVE], ['/srv', MS.SLAVE]]);
    const pivot = ops(steps).indexOf('PIVOT_ROOT');
    expect(steps[pivot + 1].op).toBe('MOUNT');
    expect(steps[pivot + 1].args.map((a) => a.v)).toEqual(['', '/', '', MS.SHARED, '', 0]);
  });

  it('--no-pivot: the host\'s proc and sysfs outside the rootfs are covered, then MOVE_ROOT', () => {
    const facts = fakeFacts({
      rootfsReal: '/real/rootfs',
      mounts: [
        { root: '/', mountPoint: '/', fsType: 'ext4' }, { root: '/', mountPoint: '/proc', fsType: 'proc' },
        { root: '/', mountPoint: '/sys', fsType: 'sysfs' }, { root: '/', mountPoint: '/real/rootfs/proc', fsType: 'proc' },
      ],
    });
    const { steps } = buildPlan(baseSpec(), facts, { ...planOpts, noPivot: true });
    expect(pick(steps, 'UMOUNT')).toEqual([['/proc', UmountHow.COVER], ['/sys', UmountHow.COVER]]);
    expect(ops(steps)).toContain('MOVE_ROOT');
    expect(ops(steps)).not.toContain('PIVOT_ROOT');
  });
});

describe('plan: mounts', () => {
  it('bind and rbind: the source resolved against the bundle, MS_REC for rbind, target resolved in the root', () => {
    const spec = baseSpec({ mounts: [
      { destination: '/a', type: 'bind', source: 'data', options: ['bind'] },
      { destination: '/b', type: 'bind', source: '/srv/x', options: ['rbind', 'ro'] },
    ] });
    const { steps } = buildPlan(spec, fakeFacts(), planOpts);
    const a = mountTo(steps, '/a');
    expect(a[0]).toEqual(['/nonexistent/data', '/a', '', MS.BIND, '', How.TARGET_IN_ROOT | How.MKDIR | How.MKFILE]);
    const b = mountTo(steps, '/b');
    expect(b[0].slice(0, 4)).toEqual(['/srv/x', '/b', '', MS.BIND | MS.REC]);
    // ro comes with a remount that keeps the flags the kernel locks
    expect(b[1]).toEqual(['', '/b', '', MS.REMOUNT | MS.BIND | MS.RDONLY, '', How.TARGET_IN_ROOT | How.KEEP_LOCKED]);
  });

  it('every mount target is resolved inside the root (a symlinked target cannot lead out)', () => {
    const spec = baseSpec({ mounts: [
      { destination: '/proc', type: 'proc', source: 'proc' },
      { destination: '/link/x', type: 'tmpfs', source: 'tmpfs' },
      { destination: '/b', type: 'bind', source: '/srv', options: ['rbind', 'rprivate'] },
    ] });
    const { steps } = buildPlan(spec, fakeFacts(), planOpts);
    for (const d of ['/proc', '/link/x', '/b']) for (const v of mountTo(steps, d)) expect(Number(v[5]) & How.TARGET_IN_ROOT).toBe(How.TARGET_IN_ROOT);
    // the propagation option: a MOUNT of its own on the target
    expect(mountTo(steps, '/b').map((v) => v[3])).toContainEqual(MS.PRIVATE | MS.REC);
  });

  it('tmpcopyup: the tmpfs mount step asks the stub to copy up', () => {
    const spec = baseSpec({ mounts: [{ destination: '/etc', type: 'tmpfs', source: 'tmpfs', options: ['tmpcopyup'] }] });
    const [m] = mountTo(buildPlan(spec, fakeFacts(), planOpts).steps, '/etc');
    expect(Number(m[5]) & How.COPY_UP).toBe(How.COPY_UP);
  });

  it('a read-only tmpfs is mounted writable and remounted read-only after the root is switched', () => {
    const spec = baseSpec({ mounts: [{ destination: '/run', type: 'tmpfs', source: 'tmpfs', options: ['ro', 'nosuid'] }] });
    const { steps } = buildPlan(spec, fakeFacts(), planOpts);
    const idx = steps.map((s, i) => (s.op === 'MOUNT' && s.args[1].v === '/run' ? i : -1)).filter((i) => i >= 0);
    expect(Number(steps[idx[0]].args[3].v) & MS.RDONLY).toBe(0);
    expect(Number(steps[idx[1]].args[3].v)).toBe(MS.REMOUNT | MS.BIND | MS.RDONLY | MS.NOSUID);
    expect(idx[1]).toBeGreaterThan(ops(steps).indexOf('PIVOT_ROOT'));
  });

  it('cgroup mount on v1: the container\'s own directories bound from the facts; on v2 a cgroup2 mount', () => {
    const spec = baseSpec({ mounts: [{ destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup' }] });
    const v1 = fakeFacts({ cgroupV1: [{ name: 'memory', options: 'memory', dir: '/sys/fs/cgroup/memory/c1' }] });
    const s1 = buildPlan(spec, v1, planOpts).steps;
    expect(mountTo(s1, '/sys/fs/cgroup/memory')[0].slice(0, 4)).toEqual(['/sys/fs/cgroup/memory/c1', '/sys/fs/cgroup/memory', '', MS.BIND | MS.REC]);
    const s2 = buildPlan(spec, fakeFacts(), planOpts).steps;
    expect(mountTo(s2, '/sys/fs/cgroup')[0].slice(0, 3)).toEqual(['cgroup', '/sys/fs/cgroup', 'cgroup2']);
  });

  it('cgroup mount in a user namespace without a cgroup namespace: v2 binds the host\'s cgroup2 (facts), v1 only the usable hierarchies', () => {
    const userns = { namespaces: [{ type: 'mount' }, { type: 'pid' }, { type: 'user' }],
      uidMappings: [{ containerID: 0, hostID: 100000, size: 65536 }], gidMappings: [{ containerID: 0, hostID: 100000, size: 65536 }] };
    const spec = baseSpec({ linux: userns, mounts: [{ destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup' }] });
    const s2 = buildPlan(spec, fakeFacts({ cgroup2Mount: '/sys/fs/cgroup/unified' }), planOpts).steps;
    expect(mountTo(s2, '/sys/fs/cgroup')[0].slice(0, 4)).toEqual(['/sys/fs/cgroup/unified', '/sys/fs/cgroup', '', MS.BIND | MS.REC]);
    // with a cgroup namespace of its own, a fresh cgroup2 mount
    const own = baseSpec({ linux: { ...userns, namespaces: [...userns.namespaces, { type: 'cgroup' }] }, mounts: spec.mounts });
    expect(mountTo(buildPlan(own, fakeFacts(), planOpts).steps, '/sys/fs/cgroup')[0].slice(0, 3)).toEqual(['cgroup', '/sys/fs/cgroup', 'cgroup2']);
    const v1 = fakeFacts({ cgroupV1: [{ name: 'memory', options: 'memory', dir: '/sys/fs/cgroup/memory/c1' }, { name: 'pids', options: 'pids', dir: '/sys/fs/cgroup/pids/c1' }] });
    const s1 = buildPlan(spec, v1, { ...planOpts, cgroupV1Usable: ['pids'] }).steps;
    expect(mountTo(s1, '/sys/fs/cgroup/pids')[0].slice(0, 2)).toEqual(['/sys/fs/cgroup/pids/c1', '/sys/fs/cgroup/pids']);
    expect(mountTo(s1, '/sys/fs/cgroup/memory')[0]?.[0]).not.toBe('/sys/fs/cgroup/memory/c1');
  });

  it('linux.mountLabel: refused without SELinux, a context= option with it (not on proc)', () => {
    const spec = baseSpec({ linux: { mountLabel: 'system_u:object_r:container_file_t:s0' },
      mounts: [{ destination: '/proc', type: 'proc', source: 'proc' }, { destination: '/tmp', type: 'tmpfs', source: 'tmpfs' }] });
    expect(() => buildPlan(spec, fakeFacts(), planOpts)).toThrow(/^linux\.mountLabel: /);
    const lsm = { apparmor: false, selinux: true, apparmorExecFile: '' };
    const { steps } = buildPlan(spec, fakeFacts({ lsm }), planOpts);
    expect(mountTo(steps, '/tmp')[0][4]).toBe('context="system_u:object_r:container_file_t:s0"');
    expect(mountTo(steps, '/proc')[0][4]).toBe('');
  });
});
