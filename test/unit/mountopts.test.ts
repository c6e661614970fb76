// The mount option table: what `runts features` lists is exactly what the planner handles itself, and every
// option of config.md's "Linux mount options" table (runtime-spec v1.3.0) is in it.
import { describe, expect, it } from 'vitest';
import { featuresDoc } from '../../src/container/features';
import { MOUNT_OPTIONS, knownMountOptions, parseOptions } from '../../src/plan/mounts';

// config.md, "Linux mount options"
const SPEC_OPTIONS = [
  'async', 'atime', 'bind', 'defaults', 'dev', 'diratime', 'dirsync', 'exec', 'iversion', 'lazytime', 'loud', 'mand',
  'noatime', 'nodev', 'nodiratime', 'noexec', 'noiversion', 'nolazytime', 'nomand', 'norelatime', 'nostrictatime',
  'nosuid', 'nosymfollow', 'private', 'ratime', 'rbind', 'rdev', 'rdiratime', 'relatime', 'remount', 'rexec',
  'rnoatime', 'rnodiratime', 'rnoexec', 'rnorelatime', 'rnostrictatime', 'rnosuid', 'rnosymfollow', 'ro', 'rprivate',
  'rrelatime', 'rro', 'rrw', 'rshared', 'rslave', 'rstrictatime', 'rsuid', 'rsymfollow', 'runbindable', 'rw',
  'shared', 'silent', 'slave', 'strictatime', 'suid', 'symfollow', 'sync', 'tmpcopyup', 'unbindable', 'idmap', 'ridmap',
];

/** what parseOptions did with a single option: nothing visible means it went nowhere */
function effect(o: string, bind = false) {
  const p = parseOptions([o], 'mounts[0]', bind);
  return p.flags || p.clear || p.propagation.length || p.recSet || p.recClr || p.recAtime !== undefined || p.data.length ||
    p.recursiveBind || (p.bind && !bind) || p.copyUp || p.idmap ? 'applied' : 'none';
}

describe('mount options', () => {
  it('features lists the planner table, sorted', () => {
    expect((featuresDoc() as { mountOptions: string[] }).mountOptions).toEqual(knownMountOptions());
    expect(knownMountOptions()).toEqual(Object.keys(MOUNT_OPTIONS).sort());
  });

  it('every option config.md lists is listed', () => {
    const known = new Set(knownMountOptions());
    expect(SPEC_OPTIONS.filter((o) => !known.has(o))).toEqual([]);
    for (const o of ['acl', 'noacl']) expect(known.has(o)).toBe(true);
  });

  it('every listed option is handled by the planner, not passed on as an unknown one', () => {
    for (const o of knownMountOptions()) {
      const k = MOUNT_OPTIONS[o].kind;
      if (k === 'ignored') { expect(effect(o), o).toBe('none'); continue; }
      expect(effect(o), o).toBe('applied');
      // only the filesystem options (acl, noacl) go to the filesystem as data
      expect(parseOptions([o], 'mounts[0]', false).data.length > 0, o).toBe(k === 'data');
    }
  });

  it('an option not in the table is a filesystem option (data), on a bind mount too (runc passes it along)', () => {
    const p = parseOptions(['nosuid', 'size=1k'], 'mounts[2]', false);
    expect(p.data).toEqual(['size=1k']);
    expect(knownMountOptions()).not.toContain('size=1k');
    expect(parseOptions(['rbind', 'size=1k', 'acl'], 'mounts[2]', false).data).toEqual(['size=1k', 'acl']);
  });

  it('iversion/noiversion are MS_I_VERSION; rnorelatime/rnostrictatime are recursive atime modes', () => {
    expect(parseOptions(['iversion'], 'm', false).flags).toBe(1 << 23);
    expect(parseOptions(['noiversion'], 'm', false).clear).toBe(1 << 23);
    expect(parseOptions(['rnorelatime'], 'm', false).recAtime).toBe(0x20); // strictatime
    expect(parseOptions(['rnostrictatime'], 'm', false).recAtime).toBe(0); // relatime
  });
});
