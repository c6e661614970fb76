// `runts features` against what runts accepts: each list of the document is checked both ways against the schema
// (schema/, runtime-spec v1.3.0) and the function of the validator or planner that takes the field. A value the
// schema allows is listed exactly when that function accepts it, and nothing is listed that the schema does not
// know. Mount options: test/unit/mountopts.test.ts.
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { beforeAll, describe, expect, it } from 'vitest';
import { featuresDoc, UNSAFE_CONFIG_ANNOTATIONS } from '../../src/container/features';
import { SPEC_VERSION } from '../../src/action';
import { validateConfig } from '../../src/config/validate';
import { CAPS, capMask } from '../../src/plan/caps';
import { lsmSteps } from '../../src/plan/lsm';
import { apparmorEnabled, gatherFacts, selinuxEnabled } from '../../src/container/facts';
import { parseOptions } from '../../src/plan/mounts';
import { planNamespaces } from '../../src/plan/namespaces';
import { netDevices } from '../../src/plan/netdev';
import { memoryPolicyStep } from '../../src/plan/procfields';
import { checkMemoryPolicy, checkNamespaceTypes, checkUserNamespace, seccompProblems, throwFirst } from '../../src/config/rules';
import { actionValue, seccompPlan as planOnly } from '../../src/plan/seccomp';
import { checkIntelRdt } from '../../src/container/rdt';

/** create's order: the rule (config/rules.ts's checkSeccomp) first, then the planner */
const seccompPlan = (c: any) => { throwFirst(seccompProblems(c)); return planOnly(c); };

const REPO = path.resolve(__dirname, '..', '..');
const schema = (f: string) => JSON.parse(fs.readFileSync(path.join(REPO, 'schema', f), 'utf8'));
const defsLinux = schema('defs-linux.json').definitions;

beforeAll(() => {
  if (!fs.existsSync(path.join(REPO, 'dist', 'validators.js'))) {
    execFileSync(process.execPath, [path.join(REPO, 'scripts', 'build-validators.mjs')], { cwd: REPO, stdio: 'inherit' });
  }
});

const doc = () => featuresDoc() as any;

/** the values of `all` that `take` accepts (does not throw for) */
function accepted(all: string[], take: (v: string) => unknown): string[] {
  return all.filter((v) => { try { take(v); return true; } catch { return false; } });
}

function base(): any {
  return {
    ociVersion: '1.3.0',
    root: { path: 'rootfs' },
    process: { cwd: '/', args: ['true'], user: { uid: 0, gid: 0 } },
    linux: { namespaces: [{ type: 'mount' }] },
  };
}

describe('features document', () => {
  it('has only the properties features.md and features-linux.md v1.3.0 define', () => {
    const d = doc();
    expect(Object.keys(d).filter((k) => !['ociVersionMin', 'ociVersionMax', 'hooks', 'mountOptions', 'linux', 'annotations',
      'potentiallyUnsafeConfigAnnotations'].includes(k))).toEqual([]);
    expect(Object.keys(d.linux).filter((k) => !['namespaces', 'capabilities', 'cgroup', 'seccomp', 'apparmor', 'selinux',
      'intelRdt', 'memoryPolicy', 'mountExtensions', 'netDevices'].includes(k))).toEqual([]);
  });

  it('ociVersionMin and ociVersionMax are accepted as config.json ociVersion (MUST)', () => {
    const d = doc();
    expect(d.ociVersionMax).toBe(SPEC_VERSION);
    for (const v of [d.ociVersionMin, d.ociVersionMax]) expect(validateConfig({ ...base(), ociVersion: v }), v).toEqual([]);
  });

  it('hooks: the schema\'s hook kinds, each checked by the validator', () => {
    const kinds = Object.keys(schema('config-schema.json').properties.hooks.properties);
    expect([...doc().hooks].sort()).toEqual([...kinds].sort());
    for (const k of kinds) {
      const errs = validateConfig({ ...base(), hooks: { [k]: [{ path: 'relative' }] } });
      expect(errs.join('\n'), k).toContain(`hooks.${k}[0].path`);
    }
  });

  it('namespaces: the schema\'s types the planner takes', () => {
    const all = defsLinux.namespaceType.enum as string[];
    const maps = (t: string) => (t === 'user' ? { uidMappings: [{ containerID: 0, hostID: 1000, size: 1 }], gidMappings: [{ containerID: 0, hostID: 1000, size: 1 }] } : {});
    const take = (t: string) => {
      const spec = { ...base(), linux: { namespaces: [{ type: t }], ...maps(t) } } as any;
      throwFirst([...checkNamespaceTypes(spec), ...checkUserNamespace(spec)]);
      return planNamespaces(spec);
    };
    expect(doc().linux.namespaces).toEqual(accepted(all, take).sort());
    expect(() => take('bogus')).toThrow(/linux\.namespaces\[0\]\.type/);
  });

  it('capabilities: every one the kernel headers define, in their order, each taken by the planner', () => {
    const caps = doc().linux.capabilities as string[];
    for (const [i, c] of caps.entries()) expect(capMask([c], 'f', false), c).toBe(1n << BigInt(i));
    expect(capMask(['CAP_NOT_A_CAP'], 'f', false)).toBe(0n);
    expect(caps).toEqual(CAPS);
    const header = '/usr/include/linux/capability.h';
    if (!fs.existsSync(header)) { console.log(`skip: ${header} missing (linux-libc-dev)`); return; }
    const known: string[] = [];
    for (const m of fs.readFileSync(header, 'utf8').matchAll(/^#define\s+(CAP_[A-Z_]+)\s+(\d+)\s*$/gm)) known[Number(m[2])] = m[1];
    expect(caps).toEqual(known);
  });

  it('seccomp actions, operators, architectures and flags: the schema\'s values the seccomp planner takes', () => {
    const s = doc().linux.seccomp;
    expect(s.enabled).toBe(true);
    expect(s.actions).toEqual(accepted(defsLinux.seccompAction.enum, (a) => actionValue(a, undefined, 'f', 'e')).sort());
    expect(s.operators).toEqual(accepted(defsLinux.seccompOperator.enum, (op) => seccompPlan({ defaultAction: 'SCMP_ACT_ALLOW',
      syscalls: [{ names: ['personality'], action: 'SCMP_ACT_ERRNO', args: [{ index: 0, value: 8, op }] }] })).sort());
    // the four archs libseccomp 2.6 added are in the schema but refused (the stub links 2.5)
    expect(s.archs).toEqual(accepted(defsLinux.seccompArch.enum, (a) => seccompPlan({ defaultAction: 'SCMP_ACT_ALLOW', architectures: [a] })).sort());
    expect([...s.knownFlags].sort()).toEqual(accepted(defsLinux.seccompFlag.enum, (f) => seccompPlan({ defaultAction: 'SCMP_ACT_ALLOW', flags: [f] })).sort());
    for (const f of s.supportedFlags) expect(s.knownFlags).toContain(f);
  });

  it('memoryPolicy: the schema\'s modes and flags the planner takes', () => {
    const m = doc().linux.memoryPolicy;
    const p = defsLinux.memoryPolicy.properties;
    const nodes = (mode: string) => (mode === 'MPOL_DEFAULT' || mode === 'MPOL_LOCAL' ? undefined : '0');
    const take = (memoryPolicy: any) => { throwFirst(checkMemoryPolicy({ ...base(), linux: { memoryPolicy } } as any)); return memoryPolicyStep(memoryPolicy); };
    expect(m.modes).toEqual(accepted(p.mode.enum, (mode) => take({ mode, nodes: nodes(mode) })).sort());
    expect(m.flags).toEqual(accepted(p.flags.items.enum, (f) => take({ mode: 'MPOL_BIND', nodes: '0', flags: [f] })).sort());
  });

  it('intelRdt, netDevices, mountExtensions.idmap: enabled exactly when the planner takes the field', () => {
    const l = doc().linux;
    let rdt = true;
    try { checkIntelRdt({ closID: 'x' }); } catch { rdt = false; }
    expect(l.intelRdt.enabled).toBe(rdt);
    const devs = netDevices({ ...base(), linux: { namespaces: [{ type: 'network' }], netDevices: { eth9: { name: 'x' } } } } as any,
      planNamespaces({ ...base(), linux: { namespaces: [{ type: 'network' }] } } as any), { ownNamespaces: [] });
    expect(l.netDevices.enabled).toBe(devs.length === 1);
    expect(l.mountExtensions.idmap.enabled).toBe(Boolean(parseOptions(['idmap'], 'mounts[0]', true).idmap));
  });

  it('apparmor and selinux: implemented (written where the host has the LSM, refused by name where not)', () => {
    const l = doc().linux;
    const spec = { ...base(), process: { ...base().process, apparmorProfile: 'p', selinuxLabel: 'system_u:system_r:t:s0' } } as any;
    const aa = { ...spec, process: { ...spec.process, selinuxLabel: undefined } };
    const se = { ...spec, process: { ...spec.process, apparmorProfile: undefined } };
    if (apparmorEnabled()) expect(lsmSteps(aa, gatherFacts(aa, { rootfs: '/nonexistent' }).lsm).length).toBe(1);
    else expect(() => lsmSteps(aa, gatherFacts(aa, { rootfs: '/nonexistent' }).lsm)).toThrow(/^process\.apparmorProfile: .*not enabled on this host/);
    if (selinuxEnabled()) expect(lsmSteps(se, gatherFacts(se, { rootfs: '/nonexistent' }).lsm).length).toBe(1);
    else expect(() => lsmSteps(se, gatherFacts(se, { rootfs: '/nonexistent' }).lsm)).toThrow(/^process\.selinuxLabel: .*not supported on this host/);
    expect(l.apparmor).toEqual({ enabled: true });
    expect(l.selinux).toEqual({ enabled: true });
  });

  it('annotations: runts\' version and the libseccomp version the stub is built with', () => {
    const a = doc().annotations;
    expect(a['org.opencontainers.runts.version']).toMatch(/^\d+\.\d+\.\d+/);
    expect(a['org.opencontainers.runts.checkpoint.enabled']).toBe('false');
    const header = '/usr/include/seccomp.h';
    if (!fs.existsSync(header)) { console.log(`skip: ${header} missing (libseccomp-dev)`); return; }
    const h = fs.readFileSync(header, 'utf8');
    const v = ['MAJOR', 'MINOR', 'MICRO'].map((k) => new RegExp(`#define\\s+SCMP_VER_${k}\\s+(\\d+)`).exec(h)![1]).join('.');
    expect(a['io.github.seccomp.libseccomp.version']).toBe(v);
  });

  it('potentiallyUnsafeConfigAnnotations: an empty list, and no code outside image conversion reads a config annotation', () => {
    expect(doc().potentiallyUnsafeConfigAnnotations).toEqual([]);
    expect(UNSAFE_CONFIG_ANNOTATIONS).toEqual([]);
    // a new reader of spec.annotations[...] must be listed above when it weakens isolation
    const readers: string[] = [];
    const walk = (dir: string) => {
      for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
        const f = path.join(dir, e.name);
        if (e.isDirectory()) { if (e.name !== 'image') walk(f); continue; }
        // (features.ts writes the features document's own annotations)
        if (!f.endsWith('.ts') || f.endsWith(path.join('container', 'features.ts'))) continue;
        fs.readFileSync(f, 'utf8').split('\n').forEach((l, i) => {
          if (/annotations\??\.?\[|annotations\??\.(get|has)\b|annotations\.['"]?[a-z]+\./i.test(l)) readers.push(`${path.relative(REPO, f)}:${i + 1}`);
        });
      }
    };
    walk(path.join(REPO, 'src'));
    expect(readers).toEqual([]);
  });
});
