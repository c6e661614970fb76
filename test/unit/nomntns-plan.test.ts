// The plan of a container without a mount namespace of its own: it never touches the host's / (no propagation
// change, no pivot_root or MS_MOVE in the runtime's mount namespace); the rootfs is bound privately onto the
// state dir's directory and the init is jailed with CHROOT, whatever --no-pivot says. A mount namespace joined by
// a path that is the runtime's own counts as none. (Pure plan checks: a wrong plan here would be run on the host.)
import { describe, expect, it } from 'vitest';
import { buildPlan } from '../../src/plan/build';
import { buildExecPlan } from '../../src/plan/exec';
import { MS } from '../../src/plan/mounts';
import type { Step } from '../../src/plan/encode';
import { fakeFacts } from './fakefacts';

const fds = { preserve: 0, sync: 3, listen: 4, memfd: 5 };
const ROOTFS = '/nonexistent/rootfs';
const HOSTROOT = '/run/runts/x/rootfs';
// /proc/self/ns/mnt is the runtime's own mount namespace (container/facts.ts finds that out on a real host)
const facts = fakeFacts({ ownNamespaces: [{ type: 'mount', path: '/proc/self/ns/mnt' }] });

function spec(namespaces: Array<{ type: string; path?: string }>): any {
  return {
    ociVersion: '1.3.0',
    process: { user: { uid: 0, gid: 0 }, args: ['true'], cwd: '/', env: [] },
    root: { path: ROOTFS, readonly: true },
    mounts: [{ destination: '/proc', type: 'proc', source: 'proc' }],
    linux: { namespaces, maskedPaths: ['/proc/kcore'] },
  };
}

const val = (s: Step, i: number) => (s.args[i] as { v: unknown }).v;
const mounts = (steps: Step[]) => steps.filter((s) => s.op === 'MOUNT').map((s) => [val(s, 0), val(s, 1), Number(val(s, 3))]);

describe('plan without a mount namespace', () => {
  for (const [name, ns] of [
    ['not listed', [{ type: 'pid' }]],
    ["joined by a path that is the runtime's own", [{ type: 'pid' }, { type: 'mount', path: '/proc/self/ns/mnt' }]],
  ] as const) {
    for (const noPivot of [false, true]) {
      it(`${name}${noPivot ? ', --no-pivot' : ''}: private bind onto the state dir, CHROOT, nothing on /`, () => {
        const { steps } = buildPlan(spec([...ns]), facts, { bundle: '/nonexistent', rootfs: ROOTFS, noPivot, fds, hostRoot: HOSTROOT });
        const ops = steps.map((s) => s.op);
        expect(ops).not.toContain('PIVOT_ROOT');
        expect(ops).not.toContain('MOVE_ROOT');
        const chroot = ops.indexOf('CHROOT');
        expect(chroot).toBeGreaterThan(0);
        expect(val(steps[chroot], 0)).toBe('');
        const m = mounts(steps);
        expect(m[0]).toEqual([ROOTFS, HOSTROOT, MS.BIND | MS.REC]);
        expect(m[1]).toEqual(['', HOSTROOT, MS.PRIVATE | MS.REC]);
        // before the chroot no mount targets / or the rootfs path itself (after it, / is the container's root)
        for (const s of steps.slice(0, chroot)) if (s.op === 'MOUNT') expect([val(s, 1)]).not.toContain('/');
        expect(val(steps[ops.indexOf('ROOTFS')], 0)).toBe(HOSTROOT);
      });
    }
  }

  it('with a mount namespace: pivot_root as before, the rootfs bound onto itself', () => {
    const { steps } = buildPlan(spec([{ type: 'mount' }]), facts, { bundle: '/nonexistent', rootfs: ROOTFS, noPivot: false, fds, hostRoot: HOSTROOT });
    expect(steps.map((s) => s.op)).toContain('PIVOT_ROOT');
    expect(steps.map((s) => s.op)).not.toContain('CHROOT');
    expect(mounts(steps)).toContainEqual([ROOTFS, ROOTFS, MS.BIND | MS.REC]);
  });

  it('exec enters the init\'s root when the init shares the runtime\'s mount namespace', () => {
    const cfg = spec([{ type: 'pid' }]);
    const steps = buildExecPlan(cfg, facts, 4242, cfg.process, { fds: { preserve: 0, sync: 3, memfd: 5 }, chroot: true });
    const ops = steps.map((s) => s.op);
    expect(ops.indexOf('CHROOT')).toBeLessThan(ops.indexOf('FORK'));
    expect(val(steps[ops.indexOf('CHROOT')], 0)).toBe('/proc/4242/root');
    expect(buildExecPlan(cfg, facts, 4242, cfg.process, { fds: { preserve: 0, sync: 3, memfd: 5 } }).map((s) => s.op)).not.toContain('CHROOT');
  });
});
