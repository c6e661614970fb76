// A config without a mount namespace (config-linux.md: an unlisted namespace type is the runtime's): the
// container's mounts are made in the host's mount namespace, under a private bind of the rootfs in the state
// dir, and the container is jailed with chroot. What the container sees is its rootfs and its own /proc; what
// the host keeps afterwards is nothing: delete, delete --force and a failed create remove every one of them.
import * as fs from 'fs';
import * as path from 'path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Ctx, baseConfig, bundle, cleanupContext, context, rt } from '../helpers';

let c: Ctx;
let seq = 0;
beforeAll(() => { c = context('nomntns'); });
afterAll(() => {
  cleanupContext(c);
  expect(ourMounts()).toEqual([]);
});

/** Host mountinfo lines whose mount point is under this test's work dir (state dirs live there). */
function ourMounts(): string[] {
  return fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => (l.split(' ')[4] ?? '').startsWith(c.work + '/'));
}

/** The base config without a mount namespace. */
function noMntns(args: string[]): any {
  const cfg = baseConfig(args);
  cfg.linux.namespaces = cfg.linux.namespaces.filter((n: any) => n.type !== 'mount');
  return cfg;
}

const newId = () => `nm${process.pid}-${++seq}`;

function hostDevNull(): { uid: number; mode: number } {
  const st = fs.statSync('/dev/null');
  return { uid: st.uid, mode: st.mode & 0o7777 };
}

describe('a container without a mount namespace', () => {
  it('runs in its rootfs with its own /proc, its mounts private to it; delete leaves no trace on the host', () => {
    const id = newId();
    const r = rt(c, ['create', '--bundle', bundle(c, noMntns(['sleep', '60'])), id]);
    expect(r.status, r.stderr).toBe(0);
    try {
      expect(rt(c, ['start', id]).status).toBe(0);
      // on the host: the rootfs bind and the container's mounts below it, in the state dir, none shared
      const mine = ourMounts();
      const at = (p: string) => mine.find((l) => l.split(' ')[4] === path.join(c.root, id, 'rootfs', p));
      expect(at('.')).toBeTruthy();
      expect(at('proc')).toBeTruthy();
      expect(at('dev')).toBeTruthy();
      expect(at('tmp')).toBeTruthy();
      for (const l of mine) expect(l.split(' - ')[0]).not.toMatch(/shared:|master:/);
      // the host's own mount namespace is the container's
      const init = JSON.parse(rt(c, ['state', id]).stdout).pid;
      expect(fs.readlinkSync(`/proc/${init}/ns/mnt`)).toBe(fs.readlinkSync('/proc/self/ns/mnt'));
      // inside: the rootfs (not the host's /), its own pid namespace's /proc, the read-only root
      const e = rt(c, ['exec', id, 'sh', '-c',
        'test -e /work && echo HOST; test -x /bin/busybox && echo ROOTFS; cat /proc/1/cmdline | tr "\\0" " "; echo; ' +
        'grep -c " /proc " /proc/self/mountinfo; touch /x 2>/dev/null || echo RO; echo ok > /tmp/f && cat /tmp/f']);
      expect(e.status, e.stderr).toBe(0);
      expect(e.stdout).not.toContain('HOST');
      expect(e.stdout).toContain('ROOTFS');
      expect(e.stdout).toContain('sleep 60');
      expect(e.stdout).toMatch(/^1$/m);
      expect(e.stdout).toContain('RO');
      expect(e.stdout).toMatch(/^ok$/m);
    } finally {
      const d = rt(c, ['delete', '--force', id]);
      expect(d.status, d.stderr).toBe(0);
    }
    expect(ourMounts()).toEqual([]);
    expect(fs.existsSync(path.join(c.root, id))).toBe(false);
    expect(hostDevNull()).toEqual({ uid: 0, mode: 0o666 });
  });

  it('run: the process sees its rootfs and /proc, and exits; nothing stays mounted', () => {
    const id = newId();
    const r = rt(c, ['run', '--bundle', bundle(c, noMntns(['sh', '-c', 'echo $$; ls /proc/self/ns/mnt >/dev/null && test -x /bin/busybox && echo in-rootfs'])), id]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toBe('1\nin-rootfs\n');
    expect(ourMounts()).toEqual([]);
    expect(fs.existsSync(path.join(c.root, id))).toBe(false);
  });

  it('a create that fails after some mounts leaves none (and no state dir)', () => {
    const id = newId();
    const cfg = noMntns(['true']);
    cfg.mounts.push({ destination: '/mnt', type: 'bind', source: path.join(c.work, 'nonexistent-src'), options: ['bind'] });
    const r = rt(c, ['create', '--bundle', bundle(c, cfg), id]);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/mount .*nonexistent-src on \/mnt: no such file or directory/);
    expect(ourMounts()).toEqual([]);
    expect(fs.existsSync(path.join(c.root, id))).toBe(false);
  });

  it('a create killed half way (after its mounts): delete --force removes them', () => {
    const id = newId();
    const cfg = noMntns(['true']);
    // the hook kills runts itself once the mounts are made (createRuntime runs after them)
    cfg.hooks = { createRuntime: [{ path: '/bin/sh', args: ['sh', '-c', 'kill -9 $PPID'] }] };
    const r = rt(c, ['create', '--bundle', bundle(c, cfg), id]);
    expect(r.signal ?? r.status).toBeTruthy();
    expect(fs.existsSync(path.join(c.root, id, 'state.json'))).toBe(false);
    expect(ourMounts().length).toBeGreaterThan(1);
    const d = rt(c, ['delete', '--force', id]);
    expect(d.status, d.stderr).toBe(0);
    expect(ourMounts()).toEqual([]);
    expect(fs.existsSync(path.join(c.root, id))).toBe(false);
  });

  it('a rootfsPropagation other than private needs a mount namespace: an error naming the field, nothing left', () => {
    const id = newId();
    const cfg = noMntns(['true']);
    cfg.linux.rootfsPropagation = 'shared';
    const r = rt(c, ['create', '--bundle', bundle(c, cfg), id]);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/linux\.rootfsPropagation: "shared" needs a mount namespace/);
    expect(ourMounts()).toEqual([]);
    expect(fs.existsSync(path.join(c.root, id))).toBe(false);
  });
});
