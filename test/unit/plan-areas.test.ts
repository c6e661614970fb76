// buildPlan / buildExecPlan per area, from a spec plus host facts (no root, no host reads): namespaces, devices,
// process, seccomp, cgroup joins, hooks, sysctl.
import { describe, expect, it } from 'vitest';
import { buildPlan } from '../../src/plan/build';
import { buildExecPlan } from '../../src/plan/exec';
import { CLONE } from '../../src/plan/namespaces';
import { SyncCode } from '../../src/plan/ops';
import type { Step } from '../../src/plan/encode';
import { nsFacts } from '../../src/plan/facts';
import { planProblems, problemText } from '../../src/config/rules';
import { validateConfig } from '../../src/config/validate';
import { baseSpec, fakeFacts, pick, planOpts } from './fakefacts';

const ops = (steps: Array<{ op: string }>) => steps.map((s) => s.op);
const plan = (over: Record<string, any>, facts = fakeFacts()) => buildPlan(baseSpec(over), facts, planOpts).steps;
const USERNS = { namespaces: [{ type: 'user' }, { type: 'mount' }], uidMappings: [{ containerID: 0, hostID: 100000, size: 65536 }], gidMappings: [{ containerID: 0, hostID: 100000, size: 65536 }] };

describe('plan: namespaces', () => {
  it('created: one UNSHARE of all but user and cgroup before FORK; cgroup after it', () => {
    const steps = plan({ linux: { namespaces: [{ type: 'mount' }, { type: 'pid' }, { type: 'uts' }, { type: 'cgroup' }] } });
    const un = pick(steps, 'UNSHARE');
    expect(un).toEqual([[CLONE.mount | CLONE.pid | CLONE.uts], [CLONE.cgroup]]);
    expect(ops(steps).lastIndexOf('UNSHARE')).toBeGreaterThan(ops(steps).indexOf('FORK'));
  });

  it('joined by path: SETNS, the user namespace first and then root in it', () => {
    const steps = plan({ linux: { namespaces: [{ type: 'mount' }, { type: 'network', path: '/run/netns/a' }, { type: 'user', path: '/proc/9/ns/user' }] } });
    expect(pick(steps, 'SETNS')).toEqual([['/proc/9/ns/user', CLONE.user], ['/run/netns/a', CLONE.network]]);
    expect(ops(steps).indexOf('SETID_ROOT')).toBe(ops(steps).indexOf('SETNS') + 1);
  });

  it('a new user namespace: UNSHARE user, USERMAP, SETID_ROOT before the other namespaces', () => {
    const o = ops(plan({ linux: USERNS }));
    const i = o.indexOf('USERMAP');
    expect(o.slice(i - 1, i + 3)).toEqual(['UNSHARE', 'USERMAP', 'SETID_ROOT', 'UNSHARE']);
  });

  it("inherited mount namespace (or joined by the runtime's own path): CHROOT, no PIVOT_ROOT", () => {
    const own = '/proc/1/ns/mnt';
    for (const ns of [[{ type: 'pid' }], [{ type: 'pid' }, { type: 'mount', path: own }]]) {
      const steps = plan({ linux: { namespaces: ns } }, fakeFacts({ ownNamespaces: [{ type: 'mount', path: own }] }));
      expect(ops(steps)).toContain('CHROOT');
      expect(ops(steps)).not.toContain('PIVOT_ROOT');
    }
    // the same path, not the runtime's own: a mount namespace of the container's
    const steps = plan({ linux: { namespaces: [{ type: 'pid' }, { type: 'mount', path: own }] } });
    expect(ops(steps)).toContain('PIVOT_ROOT');
  });
});

describe('plan: devices', () => {
  const dev = { path: '/dev/fuse', type: 'c', major: 10, minor: 229, fileMode: 0o600, uid: 0, gid: 0 };
  it('without a user namespace: MKNOD of the defaults and linux.devices, the /dev symlinks', () => {
    const steps = plan({ linux: { devices: [dev] } });
    const nodes = pick(steps, 'MKNOD').map((v) => v[0]);
    expect(nodes).toEqual(expect.arrayContaining(['/dev/null', '/dev/zero', '/dev/tty', '/dev/fuse']));
    expect(pick(steps, 'MKNOD').find((v) => v[0] === '/dev/fuse')![1]).toBe(0o020000 | 0o600);
    expect(pick(steps, 'SYMLINK')).toContainEqual(['/proc/kcore', '/dev/core']);
    expect(pick(steps, 'BIND_DEVICE')).toEqual([]);
  });

  it('in a user namespace: the host nodes bound (BIND_DEVICE), no MKNOD', () => {
    const steps = plan({ linux: { ...USERNS, devices: [dev] } });
    expect(pick(steps, 'MKNOD')).toEqual([]);
    expect(pick(steps, 'BIND_DEVICE')).toContainEqual(['/dev/fuse', '/dev/fuse']);
  });

  it('no /proc/kcore on the host: no dangling /dev/core', () => {
    expect(pick(plan({}, fakeFacts({ kcore: false })), 'SYMLINK').map((v) => v[1])).not.toContain('/dev/core');
  });
});

describe('plan: process', () => {
  it('HOME from the rootfs\'s passwd facts, "/" without an entry, the configured one kept', () => {
    const passwd = 'root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000::/home/app:/bin/sh\n';
    const env = (over: any, facts = fakeFacts({ passwd })) => pick(buildPlan(baseSpec(over), facts, planOpts).steps, 'EXEC')[0][1];
    expect(env({ process: { user: { uid: 1000, gid: 1000 } } })).toContain('HOME=/home/app');
    expect(env({ process: { user: { uid: 1001, gid: 1000 } } })).toContain('HOME=/');
    expect(env({ process: { env: ['HOME=/x'] } })).toEqual(['HOME=/x']);
  });

  it('caps, rlimits, cwd and the user: in runc\'s order', () => {
    const steps = plan({ process: {
      cwd: '/work', user: { uid: 7, gid: 8, additionalGids: [9] },
      capabilities: { bounding: ['CAP_KILL'], effective: ['CAP_KILL'], permitted: ['CAP_KILL'] },
      rlimits: [{ type: 'RLIMIT_NOFILE', soft: 100, hard: 200 }],
    } });
    expect(pick(steps, 'RLIMIT')).toEqual([[7, 100n, 200n]]);
    expect(pick(steps, 'CAPS_BOUNDING')).toEqual([[1n << 5n]]);
    expect(pick(steps, 'USER')).toEqual([[7, 8, 1, [9]]]);
    expect(pick(steps, 'MKDIR')).toContainEqual(['/work', 0o755]);
    const o = ops(steps);
    expect(o.indexOf('RLIMIT')).toBeLessThan(o.indexOf('CAPS_BOUNDING'));
    expect(o.indexOf('USER')).toBeLessThan(o.indexOf('CAPS'));
    expect(o.lastIndexOf('CHDIR')).toBeGreaterThan(o.indexOf('USER'));
  });

  it('an AppArmor profile: refused without AppArmor, written to the facts\' exec file with it', () => {
    const over = { process: { apparmorProfile: 'p1' } };
    expect(() => plan(over)).toThrow(/^process\.apparmorProfile: /);
    const lsm = { apparmor: true, selinux: false, apparmorExecFile: '/proc/self/attr/exec' };
    expect(pick(plan(over, fakeFacts({ lsm })), 'WRITE_FILE')).toContainEqual(['/proc/self/attr/exec', 'exec p1']);
  });

  it('exec: the same process steps, with the facts of the container\'s rootfs', () => {
    const cfg = baseSpec();
    const steps = buildExecPlan(cfg, fakeFacts({ passwd: 'root:x:0:0::/r:/bin/sh\n' }), 42, { ...cfg.process, env: [] }, { fds: { preserve: 0, sync: 3, memfd: 5 } });
    expect(pick(steps, 'SETNS').map((v) => v[0])).toEqual(['/proc/42/ns/pid', '/proc/42/ns/mnt']);
    expect(pick(steps, 'EXEC')[0][1]).toEqual(['HOME=/r']);
  });
});

describe('plan: seccomp, cgroup joins, hooks, sysctl', () => {
  it('seccomp: the filter built and loaded last, before EXEC (root keeps CAP_SYS_ADMIN)', () => {
    const steps = plan({ linux: { seccomp: { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_ERRNO' }] } } });
    const o = ops(steps);
    expect(o.indexOf('SECCOMP')).toBeGreaterThan(o.indexOf('USER'));
    expect(o[o.length - 2]).toBe('SECCOMP_LOAD');
  });

  describe('cgroup joins (PlanOptions.cgroupJoin): v1 tasks first, the cgroup2 fork target right before FORK', () => {
    const tasks = ['/sys/fs/cgroup/memory/c1/tasks', '/sys/fs/cgroup/pids/c1/tasks'];
    const forkInto = '/sys/fs/cgroup/unified/c1';
    const joins = (steps: Step[]) => pick(steps, 'CGROUP_JOIN').map((v) => v[0]);

    it('create: the v1 joins are the first steps, before CLOSE and any namespace; FORK_INTO right before FORK', () => {
      const steps = buildPlan(baseSpec({ linux: USERNS }), fakeFacts(), { ...planOpts, cgroupJoin: { tasks, forkInto } }).steps;
      const o = ops(steps);
      expect(o.slice(0, 3)).toEqual(['CGROUP_JOIN', 'CGROUP_JOIN', 'CLOSE']);
      expect(joins(steps)).toEqual(tasks);
      expect(o.indexOf('CGROUP_FORK_INTO')).toBe(o.indexOf('FORK') - 1);
      expect(o.indexOf('CGROUP_FORK_INTO')).toBeGreaterThan(o.lastIndexOf('UNSHARE', o.indexOf('FORK')));
      expect(pick(steps, 'CGROUP_FORK_INTO')).toEqual([[forkInto]]);
    });

    it('create without a cgroup2 fork-into (runts writes the pid at PID), and without any join', () => {
      const o = ops(buildPlan(baseSpec(), fakeFacts(), { ...planOpts, cgroupJoin: { tasks } }).steps);
      expect(o.slice(0, 3)).toEqual(['CGROUP_JOIN', 'CGROUP_JOIN', 'CLOSE']);
      expect(o).not.toContain('CGROUP_FORK_INTO');
      const none = ops(buildPlan(baseSpec(), fakeFacts(), { ...planOpts, cgroupJoin: { tasks: [] } }).steps);
      expect(none[0]).toBe('CLOSE');
      expect(none.filter((x) => x.startsWith('CGROUP_'))).toEqual([]);
      expect(ops(buildPlan(baseSpec(), fakeFacts(), planOpts).steps)).toEqual(none);
    });

    const execPlan = (execCPUAffinity: object | undefined, cgroupJoin: { tasks: string[]; forkInto?: string } | undefined) => {
      const cfg = baseSpec();
      return buildExecPlan(cfg, fakeFacts(), 42, { ...cfg.process, execCPUAffinity }, { fds: { preserve: 0, sync: 3, memfd: 4 }, cgroupJoin });
    };

    it('exec: the v1 joins first, before CLOSE and the SETNS steps', () => {
      const steps = execPlan(undefined, { tasks });
      const o = ops(steps);
      expect(o.slice(0, 3)).toEqual(['CGROUP_JOIN', 'CGROUP_JOIN', 'CLOSE']);
      expect(joins(steps)).toEqual(tasks);
      expect(o.indexOf('SETNS')).toBeGreaterThan(o.lastIndexOf('CGROUP_JOIN'));
      expect(o).not.toContain('CGROUP_FORK_INTO');
    });

    it('exec with execCPUAffinity.initial: AFFINITY before the joins (runc sets it before the cgroups)', () => {
      const steps = execPlan({ initial: '0', final: '1' }, { tasks });
      const o = ops(steps);
      expect(o.slice(0, 4)).toEqual(['AFFINITY', 'CGROUP_JOIN', 'CGROUP_JOIN', 'CLOSE']);
      expect(pick(steps, 'AFFINITY')[0]).toEqual(['process.execCPUAffinity.initial: sched_setaffinity 0', [1n]]);
    });

    it('exec with a cgroup2 fork-into: right before FORK, after the last SETNS; the v1 joins still first', () => {
      for (const aff of [undefined, { initial: '0' }]) {
        const o = ops(execPlan(aff, { tasks, forkInto }));
        expect(o.indexOf('CGROUP_FORK_INTO')).toBe(o.indexOf('FORK') - 1);
        expect(o.indexOf('CGROUP_FORK_INTO')).toBeGreaterThan(o.lastIndexOf('SETNS'));
        expect(o.indexOf('CGROUP_JOIN')).toBe(aff ? 1 : 0);
      }
      const o = ops(execPlan(undefined, { tasks: [], forkInto }));
      expect(o.filter((x) => x === 'CGROUP_FORK_INTO')).toHaveLength(1);
      expect(o).not.toContain('CGROUP_JOIN');
      expect(o[0]).toBe('CLOSE');
    });
  });

  it('hooks: SYNC for prestart/createRuntime, createContainer before the root switch, startContainer after WAIT_START', () => {
    const h = (p: string) => [{ path: p }];
    const steps = plan({ hooks: { prestart: h('/p'), createContainer: h('/cc'), startContainer: h('/sc') } });
    expect(pick(steps, 'SYNC')).toEqual([[SyncCode.CREATE_HOOKS]]);
    const hooks = pick(steps, 'RUN_HOOK').map((v) => v[1]);
    expect(hooks).toEqual(['/cc', '/sc']);
    const o = ops(steps);
    const runs = o.flatMap((op, i) => (op === 'RUN_HOOK' ? [i] : []));
    expect(runs[0]).toBeLessThan(o.indexOf('PIVOT_ROOT'));
    expect(runs[1]).toBeGreaterThan(o.indexOf('WAIT_START'));
    expect(plan({}).some((s) => s.op === 'SYNC')).toBe(false);
  });

  it('sysctl: written under /proc/sys after the root switch; a net.* key needs a network namespace not the runtime\'s', () => {
    const ns = [{ type: 'mount' }, { type: 'network' }];
    const steps = plan({ linux: { namespaces: ns, sysctl: { 'net.ipv4.ip_forward': '1' } } });
    expect(pick(steps, 'WRITE_FILE')).toContainEqual(['/proc/sys/net/ipv4/ip_forward', '1']);
    expect(ops(steps).indexOf('PIVOT_ROOT')).toBeLessThan(steps.findIndex((s) => s.op === 'WRITE_FILE' && s.args[0].v === '/proc/sys/net/ipv4/ip_forward'));
    // the namespace rule: planProblems (config/rules.ts), which create runs before the planner, with the facts
    const problems = (over: Record<string, any>, facts = fakeFacts()) => planProblems(baseSpec(over), '/nonexistent', nsFacts(facts)).map(problemText);
    expect(validateConfig(baseSpec({ linux: { sysctl: { 'net.ipv4.ip_forward': '1' } } }))).toEqual(['linux.sysctl["net.ipv4.ip_forward"]: requires a new network namespace']);
    const own = [{ type: 'mount' }, { type: 'network', path: '/proc/1/ns/net' }];
    expect(problems({ linux: { namespaces: own, sysctl: { 'net.ipv4.ip_forward': '1' } } }, fakeFacts({ ownNamespaces: [{ type: 'network', path: '/proc/1/ns/net' }] }))).toEqual(['linux.sysctl: "net.ipv4.ip_forward" needs a new network namespace']);
    expect(problems({ linux: { namespaces: own, sysctl: { 'net.ipv4.ip_forward': '1' } } })).toEqual([]);
  });
});
