import { describe, expect, it } from 'vitest';
import { buildPlan } from '../../src/plan/build';
import { checkUnprivileged, decideRootless, defaultRoot, inUserNamespace, parseLimits } from '../../src/rootless';
import { ownIdOnly } from '../../src/container/usermap';
import { limitFields } from '../../src/cgroups';
import { fakeFacts } from './fakefacts';

describe('rootless decisions', () => {
  it('auto is rootless for a non-zero euid or inside a user namespace that is not the initial one (runc)', () => {
    const initial = '         0          0 4294967295\n';
    expect(inUserNamespace(initial)).toBe(false);
    expect(inUserNamespace('         0       1000          1\n')).toBe(true);
    expect(inUserNamespace('0 1000 1\n1 100000 65536\n')).toBe(true);
    expect(decideRootless('auto', 0, initial)).toBe(false);
    expect(decideRootless('auto', 1000, initial)).toBe(true);
    expect(decideRootless('auto', 0, '0 1000 65536\n')).toBe(true);
    expect(decideRootless('false', 1000, initial)).toBe(false);
    expect(decideRootless('true', 0, initial)).toBe(true);
  });
  it('default state root: $XDG_RUNTIME_DIR/runts when rootless, an error for a non-root user without it', () => {
    expect(defaultRoot(false, 0, '/run/user/0')).toBe('/run/runts');
    expect(defaultRoot(true, 1000, '/run/user/1000/')).toBe('/run/user/1000/runts');
    expect(defaultRoot(true, 0, undefined)).toBe('/run/runts');
    expect(() => defaultRoot(true, 1000, undefined)).toThrow(/--root: not given and XDG_RUNTIME_DIR is not set/);
  });
  it('hard limits from /proc/self/limits; a higher hard limit or a lower oomScoreAdj is refused naming the field', () => {
    const hard = parseLimits('Limit                     Soft Limit           Hard Limit           Units     \n' +
      'Max open files            1024                 4096                 files     \n' +
      'Max core file size        0                    unlimited            bytes     \n');
    expect(hard).toEqual({ RLIMIT_NOFILE: 4096, RLIMIT_CORE: undefined });
    const facts = { oomScoreAdj: 100, hard };
    expect(() => checkUnprivileged({ oomScoreAdj: 99 }, facts)).toThrow(/^process\.oomScoreAdj: 99 is below the current value 100/);
    expect(() => checkUnprivileged({ oomScoreAdj: 100, rlimits: [{ type: 'RLIMIT_NOFILE', soft: 1, hard: 4096 }] }, facts)).not.toThrow();
    expect(() => checkUnprivileged({ rlimits: [{ type: 'RLIMIT_CORE', soft: 1, hard: 2 ** 64 - 1 }] }, facts)).not.toThrow();
    expect(() => checkUnprivileged({ rlimits: [{ type: 'RLIMIT_CORE', soft: 0, hard: 0 }, { type: 'RLIMIT_NOFILE', soft: 1, hard: 4097 }] }, facts))
      .toThrow(/^process\.rlimits\[1\]\.hard: RLIMIT_NOFILE 4097 is above the current hard limit 4096/);
  });
  it('only a map of the caller\'s own id is written directly; limit fields ignore devices and empty objects', () => {
    expect(ownIdOnly([{ containerID: 0, hostID: 1000, size: 1 }], 1000)).toBe(true);
    expect(ownIdOnly([{ containerID: 0, hostID: 1000, size: 2 }], 1000)).toBe(false);
    expect(ownIdOnly([{ containerID: 0, hostID: 1000, size: 1 }, { containerID: 1, hostID: 100000, size: 1 }], 1000)).toBe(false);
    expect(limitFields({ devices: [{ allow: false, access: 'rwm' }], memory: {}, hugepageLimits: [] })).toEqual([]);
    expect(limitFields({ devices: [], pids: { limit: 10 }, memory: { limit: 1 } })).toEqual(['pids', 'memory']);
  });
});

describe('plan of runts running inside a user namespace (rootless podman\'s)', () => {
  const fds = { preserve: 0, sync: 3, listen: 4, memfd: 5 };
  const spec = (): any => ({
    ociVersion: '1.3.0',
    process: { user: { uid: 0, gid: 0 }, args: ['true'], cwd: '/', env: [] },
    root: { path: '/nonexistent/rootfs' },
    mounts: [{ destination: '/dev', type: 'tmpfs', source: 'tmpfs' }],
    linux: { namespaces: [{ type: 'mount' }, { type: 'pid' }], devices: [{ type: 'c', path: '/dev/fuse', major: 10, minor: 229 }] },
  });
  const devOps = (inUserNs: boolean) => buildPlan(spec(), fakeFacts(), { bundle: '/nonexistent', rootfs: '/nonexistent/rootfs', noPivot: false, fds, inUserNs })
    .steps.filter((s) => s.op === 'MKNOD' || s.op === 'BIND_DEVICE').map((s) => `${s.op} ${(s.args[0] as { v: unknown }).v}`);

  it('no user namespace in the config: devices are bound from the host, never made with mknod (runc: RunningInUserNS)', () => {
    expect(devOps(true)).toEqual(['/dev/fuse', '/dev/null', '/dev/zero', '/dev/full', '/dev/random', '/dev/urandom', '/dev/tty'].map((d) => `BIND_DEVICE ${d}`));
    expect(devOps(false).every((o) => o.startsWith('MKNOD '))).toBe(true);
    expect(devOps(false)).toHaveLength(7);
  });
});

describe('the --rootless decision is made on first use', () => {
  it('configureRootless reads nothing; isRootless reads the uid map once (root only), and decides as runc', async () => {
    const { configureRootless, isRootless, runtimeInUserNs, rootlessEuid, setRootless } = await import('../../src/rootless');
    let reads = 0;
    configureRootless('auto', 0, () => { reads++; return '         0      1000          1\n'; });
    expect(reads).toBe(0);
    expect(isRootless()).toBe(true);
    expect(runtimeInUserNs()).toBe(true);
    expect(rootlessEuid()).toBe(false);
    expect(reads).toBe(1);
    configureRootless('auto', 0, () => { reads++; return '         0          0 4294967295\n'; });
    expect(isRootless()).toBe(false);
    configureRootless('auto', 1000, () => { reads++; return undefined; });
    expect(isRootless()).toBe(true);
    expect(rootlessEuid()).toBe(true);
    expect(reads).toBe(2);
    setRootless(false, 0);
  });
});
