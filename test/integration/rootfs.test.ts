// The root filesystem: root.readonly, masked and read-only paths, /dev, linux.devices, mounts and their options,
// mount targets behind symlinks, --no-pivot, propagation. Every assertion is what the container sees.
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Ctx, RUNTS, baseConfig, bundle, cleanupContext, context, mountsSnapshot, rootfs, rt, spawnSync, stateOf, cid } from '../helpers';

let c: Ctx;
/** a private copy of the busybox rootfs: tests add files and symlinks to it, runts creates mount targets in it */
let rfs: string;
/** host directories bound into containers */
let hostData: string;
let hostRec: string;
let hostFile: string;
/** host mounts made by the tests, unmounted in afterAll (innermost first) */
const hostMounts: string[] = [];

function hostMount(args: string[], target: string): void {
  execFileSync('mount', [...args, target]);
  hostMounts.unshift(target);
}

beforeAll(() => {
  c = context('rootfs');
  // mkdtemp makes it 0700: the mapped root of a user namespace must be able to reach the rootfs
  fs.chmodSync(c.work, 0o755);
  rfs = path.join(c.work, 'rootfs');
  execFileSync('cp', ['-a', rootfs(), rfs]);
  hostData = path.join(c.work, 'host-data');
  fs.mkdirSync(hostData);
  fs.writeFileSync(path.join(hostData, 'f'), 'host data\n');
  fs.writeFileSync(path.join(hostData, 'run.sh'), '#!/bin/sh\necho ran\n', { mode: 0o755 });
  // a directory with a mount below it, for bind vs rbind
  hostRec = path.join(c.work, 'host-rec');
  fs.mkdirSync(path.join(hostRec, 'sub'), { recursive: true });
  hostMount(['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs'], path.join(hostRec, 'sub'));
  fs.writeFileSync(path.join(hostRec, 'sub', 'inner'), 'inner\n');
  hostFile = path.join(c.work, 'host-file');
  fs.writeFileSync(hostFile, 'host file\n');
});

afterAll(() => {
  if (!c) return;
  // containers first (they may hold the host mounts), then the mounts, then the dirs
  let ids: string[] = [];
  try { ids = fs.readdirSync(c.root); } catch { /* none */ }
  for (const id of ids) rt(c, ['delete', '--force', id]);
  for (const m of hostMounts) spawnSync('umount', ['-l', m]);
  cleanupContext(c);
});

function cfgOf(args: string[], change?: (cfg: any) => void): any {
  const cfg = baseConfig(args, rfs);
  change?.(cfg);
  return cfg;
}

/** Run `sh -c script` in a container; returns stdout, failing the test on a non-zero status. */
function run(script: string, change?: (cfg: any) => void, runArgs: string[] = []): string {
  const id = `rf${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  const r = rt(c, ['run', ...runArgs, '--bundle', bundle(c, cfgOf(['sh', '-c', script], change)), id]);
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  return r.stdout;
}

interface MountLine { root: string; point: string; opts: string[]; optional: string[]; fstype: string; source: string; superOpts: string[] }

function mountinfo(text: string): MountLine[] {
  const out: MountLine[] = [];
  for (const l of text.split('\n')) {
    const sep = l.indexOf(' - ');
    if (sep < 0) continue;
    const f = l.slice(0, sep).split(' ');
    if (f.length < 6 || !/^\d+$/.test(f[0])) continue;
    const [fstype, source, superOpts] = l.slice(sep + 3).split(' ');
    const unesc = (s: string) => s.replace(/\\(\d{3})/g, (_, o) => String.fromCharCode(parseInt(o, 8)));
    out.push({ root: unesc(f[3]), point: unesc(f[4]), opts: f[5].split(','), optional: f.slice(6), fstype, source, superOpts: (superOpts ?? '').split(',') });
  }
  return out;
}

/** The last (topmost) mount at `point`. */
function mountAt(lines: MountLine[], point: string): MountLine | undefined {
  return lines.filter((m) => m.point === point).at(-1);
}

/** Split a script's output into sections printed as `== name` lines. */
function sections(out: string): Record<string, string> {
  const res: Record<string, string> = {};
  let cur = '';
  for (const l of out.replace(/\n$/, '').split('\n')) {
    const m = /^== (.+)$/.exec(l);
    if (m) { cur = m[1]; res[cur] = ''; continue; }
    if (cur) res[cur] += l + '\n';
  }
  return res;
}

describe('root.readonly', () => {
  const script = 'echo "== touch"; touch /x 2>&1; echo "== mountinfo"; cat /proc/self/mountinfo; echo "== usable"; '
    + 'grep -c ^Pid /proc/self/status; echo hi > /dev/null && echo devnull-ok; head -c 2 /dev/zero | wc -c; '
    + 'touch /tmp/x /dev/shm/x && echo tmp-ok';

  it('/ is read-only (EROFS), /proc, /dev and the tmpfs mounts still work', () => {
    const s = sections(run(script));
    expect(s.touch).toMatch(/\/x: Read-only file system/);
    const root = mountAt(mountinfo(s.mountinfo), '/')!;
    expect(root.opts).toContain('ro');
    expect(s.usable).toBe('1\ndevnull-ok\n2\ntmp-ok\n');
    expect(fs.existsSync(path.join(rfs, 'x'))).toBe(false);
  });

  it('readonly false: / is writable', () => {
    const s = sections(run(script.replace('/x', '/rw-probe'), (cfg) => { cfg.root.readonly = false; }));
    expect(s.touch).toBe('');
    expect(mountAt(mountinfo(s.mountinfo), '/')!.opts).toContain('rw');
    expect(fs.existsSync(path.join(rfs, 'rw-probe'))).toBe(true);
    fs.rmSync(path.join(rfs, 'rw-probe'));
  });
});

describe('maskedPaths and readonlyPaths', () => {
  beforeAll(() => {
    fs.writeFileSync(path.join(rfs, 'etc', 'secret.txt'), 'secret\n');
    fs.mkdirSync(path.join(rfs, 'secretdir'));
    fs.writeFileSync(path.join(rfs, 'secretdir', 'a'), 'a\n');
    fs.mkdirSync(path.join(rfs, 'data'));
    fs.writeFileSync(path.join(rfs, 'data', 'd'), 'd\n');
  });

  it('a masked file reads empty (/dev/null over it), a masked directory is an empty read-only tmpfs, missing ones are skipped', () => {
    const out = run('echo "== file"; wc -c < /etc/secret.txt; stat -c "%F %t:%T" /etc/secret.txt; echo x > /etc/secret.txt && wc -c < /etc/secret.txt; wc -c < /proc/timer_list; '
      + 'echo "== dir"; ls -A /secretdir | wc -l; touch /secretdir/x 2>&1; ls -A /sys/firmware | wc -l; '
      + 'echo "== mountinfo"; cat /proc/self/mountinfo', (cfg) => {
      cfg.linux.maskedPaths = ['/etc/secret.txt', '/secretdir', '/proc/timer_list', '/sys/firmware', '/no/such/path', '/proc/kcore'];
    });
    const s = sections(out);
    expect(s.file).toBe('0\ncharacter special file 1:3\n0\n0\n');
    expect(s.dir).toMatch(/^0\ntouch: \/secretdir\/x: Read-only file system\n0\n$/);
    const mi = mountinfo(s.mountinfo);
    for (const p of ['/secretdir', '/sys/firmware']) {
      const m = mountAt(mi, p)!;
      expect(m, p).toBeDefined();
      expect(m.fstype).toBe('tmpfs');
      expect(m.opts).toContain('ro');
    }
    expect(mountAt(mi, '/etc/secret.txt')!.root).toBe('/null');
    // the rootfs itself is untouched
    expect(fs.readFileSync(path.join(rfs, 'etc', 'secret.txt'), 'utf8')).toBe('secret\n');
    expect(fs.readdirSync(path.join(rfs, 'secretdir'))).toEqual(['a']);
    expect(fs.existsSync(path.join(rfs, 'no'))).toBe(false);
  });

  it('read-only paths are read-only and still readable; missing ones are skipped; the rest stays writable', () => {
    const out = run('echo "== data"; cat /data/d; touch /data/x 2>&1; echo "== sys"; cat /proc/sys/kernel/shmmni >/dev/null && echo readable; '
      + '{ echo 1 > /proc/sys/kernel/shmmni; } 2>&1; echo "== file"; cat /etc/hostname; { echo x > /etc/hostname; } 2>&1; echo "== other"; touch /other && echo other-ok; rm /other; echo "== mountinfo"; cat /proc/self/mountinfo', (cfg) => {
      cfg.root.readonly = false;
      cfg.linux.readonlyPaths = ['/data', '/proc/sys', '/etc/hostname', '/no/such/path'];
    });
    const s = sections(out);
    expect(s.data).toMatch(/^d\ntouch: \/data\/x: Read-only file system\n$/);
    expect(s.sys).toMatch(/^readable\n.*Read-only file system\n$/);
    expect(s.file).toMatch(/^runts\n.*Read-only file system\n$/);
    expect(s.other).toBe('other-ok\n');
    const mi = mountinfo(s.mountinfo);
    expect(mountAt(mi, '/data')!.opts).toContain('ro');
    expect(mountAt(mi, '/proc/sys')!.opts).toContain('ro');
    expect(mountAt(mi, '/etc/hostname')!.opts).toContain('ro');
    expect(mountAt(mi, '/')!.opts).toContain('rw');
  });
});

describe('/dev', () => {
  const DEVS: Array<[string, number, number]> = [['null', 1, 3], ['zero', 1, 5], ['full', 1, 7], ['random', 1, 8], ['urandom', 1, 9], ['tty', 5, 0]];
  const hex = (n: number) => n.toString(16);

  it('default devices with the right numbers and modes, and the standard symlinks', () => {
    const out = run('echo "== devs"; for d in null zero full random urandom tty; do stat -c "%n|%F|%t:%T|%a|%u:%g" /dev/$d; done; '
      + 'echo "== links"; for l in fd stdin stdout stderr ptmx core; do echo "$l -> $(readlink /dev/$l)"; done; '
      + 'echo "== use"; echo x > /dev/null && echo null-ok; head -c 3 /dev/zero | od -An -tx1; head -c 8 /dev/urandom | wc -c; '
      + '{ echo x > /dev/full; } 2>&1; ls /dev/fd/ | head -3; stat -c "%F %t:%T %a" /dev/pts/ptmx', (cfg) => {
      // the process umask does not reduce the modes
      cfg.process.user.umask = 0o077;
    });
    const s = sections(out);
    expect(s.devs.trim().split('\n')).toEqual(DEVS.map(([n, ma, mi]) => `/dev/${n}|character special file|${hex(ma)}:${hex(mi)}|666|0:0`));
    expect(s.links).toBe([
      'fd -> /proc/self/fd', 'stdin -> /proc/self/fd/0', 'stdout -> /proc/self/fd/1', 'stderr -> /proc/self/fd/2', 'ptmx -> pts/ptmx',
      // only when the kernel has /proc/kcore (runc: no dangling link)
      `core -> ${fs.existsSync('/proc/kcore') ? '/proc/kcore' : ''}`,
    ].join('\n') + '\n');
    expect(s.use).toMatch(/^null-ok\n 00 00 00\n8\n.*No space left on device\n0\n1\n2\ncharacter special file 5:2 666\n$/);
  });

  it('a read-only tmpfs on /dev (and elsewhere): devices, links and mounts below it are made first, then it is read-only', () => {
    const out = run('echo "== devs"; for d in null zero tty; do stat -c "%n|%F|%t:%T" /dev/$d; done; readlink /dev/ptmx; echo x > /dev/null && echo null-ok; '
      + 'echo "== ro"; touch /dev/x /mnt/rot/y 2>&1; echo "== shm"; touch /dev/shm/x && echo shm-ok; '
      + 'echo "== copy"; cat /mnt/rot/f; echo "== mountinfo"; cat /proc/self/mountinfo', (cfg) => {
      cfg.mounts.find((m: { destination: string }) => m.destination === '/dev').options.push('ro');
      // mode=, a mount point below it, and a tmpcopyup into it
      fs.mkdirSync(path.join(rfs, 'mnt', 'rot'), { recursive: true });
      fs.writeFileSync(path.join(rfs, 'mnt', 'rot', 'f'), 'copied\n');
      cfg.mounts.push({ destination: '/mnt/rot', type: 'tmpfs', source: 'tmpfs', options: ['ro', 'nosuid', 'mode=750', 'tmpcopyup'] });
      cfg.mounts.push({ destination: '/mnt/rot/sub', type: 'tmpfs', source: 'tmpfs', options: ['size=1m'] });
    });
    const s = sections(out);
    expect(s.devs).toBe('/dev/null|character special file|1:3\n/dev/zero|character special file|1:5\n/dev/tty|character special file|5:0\npts/ptmx\nnull-ok\n');
    expect(s.ro).toBe('touch: /dev/x: Read-only file system\ntouch: /mnt/rot/y: Read-only file system\n');
    expect(s.shm).toBe('shm-ok\n');
    expect(s.copy).toBe('copied\n');
    const mi = mountinfo(s.mountinfo);
    for (const p of ['/dev', '/mnt/rot']) {
      expect(mountAt(mi, p)!.fstype, p).toBe('tmpfs');
      expect(mountAt(mi, p)!.opts, p).toContain('ro');
    }
    expect(mountAt(mi, '/dev')!.opts).toContain('nosuid');
    expect(mountAt(mi, '/mnt/rot')!.opts).toContain('nosuid');
    expect(mountAt(mi, '/mnt/rot')!.superOpts).toContain('mode=750');
    expect(mountAt(mi, '/dev/pts')!.fstype).toBe('devpts');
    expect(mountAt(mi, '/mnt/rot/sub')!.opts).toContain('rw');
  });

  it('a read-only /dev with a terminal: /dev/console is the pty (its mount point is made before /dev turns read-only)', () => {
    const cfg = cfgOf(['sh', '-c', 'tty; stat -c "%t:%T" /dev/console; touch /dev/x 2>&1; exit 3'], (x) => {
      x.mounts.find((m: { destination: string }) => m.destination === '/dev').options.push('ro');
      x.process.terminal = true;
    });
    // run relays the pty to the caller: under script(1), which gives it a terminal
    const cmd = `${RUNTS} --root ${c.root} run --bundle ${bundle(c, cfg)} rf${process.pid}-rotty`;
    const r = spawnSync('script', ['-qec', cmd, '/dev/null'], { encoding: 'utf8', timeout: 20_000, input: '' });
    // 0x88: the pty major (136)
    // script(1) may echo a NUL of its own input into the terminal (^@) around the container's output
    expect(r.stdout.replace(/\^@|\0/g, '')).toMatch(/\/dev\/pts\/0\s[^]*\b88:0\s[^]*touch: \/dev\/x: Read-only file system\s*$/);
    expect(r.status, r.stdout + r.stderr).toBe(3);
  });

  it('the caller\'s umask does not leak into what runts creates', () => {
    const cfg = cfgOf(['sh', '-c', 'stat -c "%n %a" /newmnt /newmnt/a /dev/null /dev/mydev /cwd/x; umask'], (x) => {
      x.mounts.push({ destination: '/newmnt/a', type: 'tmpfs', source: 'tmpfs', options: ['mode=755'] });
      x.linux.devices = [{ path: '/dev/mydev', type: 'c', major: 1, minor: 3, fileMode: 0o666 }];
      x.process.cwd = '/cwd/x';
      delete x.process.user.umask;
    });
    const b = bundle(c, cfg);
    const r = spawnSync('sh', ['-c', `umask 077; exec "${RUNTS}" --root "${c.root}" run --bundle "${b}" umask-test`], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('/newmnt 755\n/newmnt/a 755\n/dev/null 666\n/dev/mydev 666\n/cwd/x 755\n0022\n');
    expect(r.status).toBe(0);
  });

  it('linux.devices: char, block and fifo nodes with the given numbers, mode and owner; parents created', () => {
    const out = run('for d in /dev/mynull /dev/sub/dir/zero2 /dev/myloop /dev/myfifo; do stat -c "%n|%F|%t:%T|%a|%u:%g" $d; done; '
      + 'head -c 2 /dev/sub/dir/zero2 | wc -c', (cfg) => {
      cfg.linux.devices = [
        { path: '/dev/mynull', type: 'c', major: 1, minor: 3, fileMode: 0o640, uid: 1000, gid: 2000 },
        { path: '/dev/sub/dir/zero2', type: 'c', major: 1, minor: 5, fileMode: 0o600 },
        { path: '/dev/myloop', type: 'b', major: 7, minor: 300, fileMode: 0o660, gid: 6 },
        { path: '/dev/myfifo', type: 'p', fileMode: 0o620 },
      ];
    });
    expect(out).toBe([
      '/dev/mynull|character special file|1:3|640|1000:2000',
      '/dev/sub/dir/zero2|character special file|1:5|600|0:0',
      `/dev/myloop|block special file|7:${hex(300)}|660|0:6`,
      '/dev/myfifo|fifo|0:0|620|0:0',
      '2',
    ].join('\n') + '\n');
  });

  it('in a user namespace devices are bind-mounted from the host; locked mount flags are kept', () => {
    // the mapped root cannot create directories in the host-owned rootfs: the mount points exist
    for (const d of ['ro', 'rop', 'rw']) fs.mkdirSync(path.join(rfs, 'mnt', d), { recursive: true });
    const out = run('echo "== devs"; for d in /dev/null /dev/zero /dev/tty /dev/kmsg; do stat -c "%n|%F|%t:%T|%u" $d; done; echo x > /dev/null && echo null-ok; '
      + 'echo "== ro"; touch /mnt/ro/x /mnt/rop/x / 2>&1; cat /mnt/rop/f; echo "== rw"; touch /mnt/rw/x && echo rw-ok'
      + '; echo "== mountinfo"; cat /proc/self/mountinfo; echo "== uidmap"; cat /proc/self/uid_map', (cfg) => {
      // binds of host mounts in a user namespace: the kernel locks their flags, ro remounts must keep them
      cfg.mounts.push(
        { destination: '/mnt/ro', type: 'bind', source: hostRec, options: ['rbind', 'nosuid', 'nodev', 'ro'] },
        { destination: '/mnt/rop', type: 'bind', source: hostData, options: ['bind', 'nosuid', 'noexec'] },
        { destination: '/mnt/rw', type: 'tmpfs', source: 'tmpfs', options: ['nodev'] },
      );
      cfg.linux.readonlyPaths.push('/mnt/rop');
      cfg.linux.namespaces.push({ type: 'user' });
      cfg.linux.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
      cfg.linux.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
      cfg.linux.devices = [{ path: '/dev/kmsg', type: 'c', major: 1, minor: 11, fileMode: 0o600, uid: 0, gid: 0 }];
    });
    const s = sections(out);
    expect(s.uidmap.trim().split(/\s+/)).toEqual(['0', '100000', '65536']);
    // host root is not mapped: the host's nodes show as the overflow uid
    expect(s.devs).toBe('/dev/null|character special file|1:3|65534\n/dev/zero|character special file|1:5|65534\n'
      + '/dev/tty|character special file|5:0|65534\n/dev/kmsg|character special file|1:b|65534\nnull-ok\n');
    expect(s.ro).toMatch(/^touch: \/mnt\/ro\/x: Read-only file system\ntouch: \/mnt\/rop\/x: Read-only file system\ntouch: \/: Read-only file system\nhost data\n$/);
    expect(s.rw).toBe('rw-ok\n');
    const mi = mountinfo(s.mountinfo);
    for (const [p, flags] of [['/mnt/ro', ['ro', 'nosuid', 'nodev']], ['/mnt/rop', ['ro', 'nosuid', 'noexec']], ['/', ['ro']]] as const) {
      for (const f of flags) expect(mountAt(mi, p)!.opts, `${p} ${f}`).toContain(f);
    }
    for (const d of ['null', 'zero', 'tty', 'kmsg']) {
      const m = mountAt(mi, `/dev/${d}`);
      expect(m, d).toBeDefined();
      expect(m!.root).toBe(`/${d}`);
      expect(m!.fstype).toBe('devtmpfs');
    }
  });
});

describe('bind sources in a user namespace', () => {
  const userns = (cfg: any) => {
    cfg.linux.namespaces.push({ type: 'user' });
    cfg.linux.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
    cfg.linux.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
  };

  it('a source only the host can reach (under a 0700 root-owned directory) is opened on the host side and mounted', () => {
    const priv = path.join(c.work, 'private');
    fs.mkdirSync(path.join(priv, 'data'), { recursive: true, mode: 0o700 });
    fs.chmodSync(priv, 0o700);
    fs.writeFileSync(path.join(priv, 'data', 'f'), 'private data\n', { mode: 0o644 });
    fs.chmodSync(path.join(priv, 'data'), 0o755);
    fs.writeFileSync(path.join(priv, 'file'), 'private file\n', { mode: 0o644 });
    for (const d of ['priv', 'privro']) fs.mkdirSync(path.join(rfs, 'mnt', d), { recursive: true });
    fs.writeFileSync(path.join(rfs, 'etc', 'privfile'), '');
    const out = run('echo "== ls"; ls -A /mnt/priv; cat /mnt/priv/f /etc/privfile; echo "== ro"; cat /mnt/privro/f; touch /mnt/privro/x 2>&1'
      + '; echo "== mountinfo"; cat /proc/self/mountinfo', (cfg) => {
      userns(cfg);
      cfg.mounts.push(
        { destination: '/mnt/priv', type: 'bind', source: path.join(priv, 'data'), options: ['rbind'] },
        { destination: '/mnt/privro', type: 'bind', source: path.join(priv, 'data'), options: ['bind', 'ro', 'nosuid'] },
        { destination: '/etc/privfile', type: 'bind', source: path.join(priv, 'file'), options: ['bind'] },
      );
    });
    const s = sections(out);
    expect(s.ls).toBe('f\nprivate data\nprivate file\n');
    expect(s.ro).toBe('private data\ntouch: /mnt/privro/x: Read-only file system\n');
    const mi = mountinfo(s.mountinfo);
    expect(mountAt(mi, '/mnt/priv')!.root).toBe(path.join(priv, 'data'));
    for (const f of ['ro', 'nosuid']) expect(mountAt(mi, '/mnt/privro')!.opts).toContain(f);
  });

  it('the clone of a shared host mount does not propagate the container\'s mounts back to the host', () => {
    const shared = path.join(c.work, 'shared-src');
    fs.mkdirSync(shared);
    hostMount(['-t', 'tmpfs', '-o', 'size=1m', '--make-shared', 'tmpfs'], shared);
    fs.mkdirSync(path.join(shared, 'x'));
    fs.mkdirSync(path.join(rfs, 'mnt', 'shared'), { recursive: true });
    const cfg = cfgOf(['true'], (x) => {
      userns(x);
      x.mounts.push({ destination: '/mnt/shared', type: 'bind', source: shared, options: ['rbind'] });
      // a mount below the bind made in the container's namespaces (the hook's cwd is the rootfs)
      x.hooks = { createContainer: [{ path: '/bin/sh', args: ['sh', '-c', 'mount -t tmpfs -o size=1m tmpfs mnt/shared/x'] }] };
    });
    const id = `rfs${process.pid}-shared`;
    const r = rt(c, ['create', '--bundle', bundle(c, cfg), id]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    try {
      const pid = stateOf(c, id).pid;
      // the container has it; the host does not
      expect(fs.readFileSync(`/proc/${pid}/mountinfo`, 'utf8')).toMatch(/ \/mnt\/shared\/x /);
      expect(mountsSnapshot().split('\n')).not.toContain(path.join(shared, 'x'));
    } finally {
      rt(c, ['delete', '--force', id]);
    }
  });
});

describe('mounts', () => {
  it('bind rw, ro, with nosuid/nodev/noexec, bind vs rbind, rro, file binds; options visible in mountinfo', () => {
    const out = run([
      'echo "== rw"; echo new > /mnt/rw/new && cat /mnt/rw/f',
      'echo "== ro"; cat /mnt/ro/f; touch /mnt/ro/x 2>&1',
      'echo "== opts"; /mnt/opts/run.sh 2>&1; echo rc=$?',
      'echo "== rbind"; cat /mnt/rbind/sub/inner',
      'echo "== bind"; ls -A /mnt/bind/sub | wc -l',
      'echo "== rro"; cat /mnt/rro/sub/inner; touch /mnt/rro/sub/x 2>&1',
      'echo "== file"; cat /etc/hostfile; { echo more >> /etc/hostfile-ro; } 2>&1',
      'echo "== mountinfo"; cat /proc/self/mountinfo',
    ].join('; '), (cfg) => {
      cfg.mounts.push(
        { destination: '/mnt/rw', type: 'bind', source: hostData, options: ['bind', 'rw'] },
        { destination: '/mnt/ro', type: 'bind', source: hostData, options: ['bind', 'ro'] },
        { destination: '/mnt/opts', type: 'bind', source: hostData, options: ['bind', 'nosuid', 'nodev', 'noexec'] },
        { destination: '/mnt/rbind', type: 'bind', source: hostRec, options: ['rbind'] },
        { destination: '/mnt/bind', type: 'bind', source: hostRec, options: ['bind'] },
        { destination: '/mnt/rro', type: 'bind', source: hostRec, options: ['rbind', 'rro'] },
        { destination: '/etc/hostfile', type: 'bind', source: hostFile, options: ['bind'] },
        { destination: '/etc/hostfile-ro', type: 'bind', source: hostFile, options: ['bind', 'ro'] },
      );
    });
    const s = sections(out);
    expect(s.rw).toBe('host data\n');
    expect(fs.readFileSync(path.join(hostData, 'new'), 'utf8')).toBe('new\n');
    fs.rmSync(path.join(hostData, 'new'));
    expect(s.ro).toMatch(/^host data\ntouch: \/mnt\/ro\/x: Read-only file system\n$/);
    expect(s.opts).toMatch(/Permission denied\nrc=126\n$/);
    expect(s.rbind).toBe('inner\n');
    expect(s.bind).toBe('0\n');
    expect(s.rro).toMatch(/^inner\ntouch: \/mnt\/rro\/sub\/x: Read-only file system\n$/);
    expect(s.file).toMatch(/^host file\n.*Read-only file system\n$/);
    expect(fs.readFileSync(hostFile, 'utf8')).toBe('host file\n');
    const mi = mountinfo(s.mountinfo);
    expect(mountAt(mi, '/mnt/rw')!.opts).toContain('rw');
    expect(mountAt(mi, '/mnt/ro')!.opts).toContain('ro');
    const o = mountAt(mi, '/mnt/opts')!.opts;
    for (const f of ['rw', 'nosuid', 'nodev', 'noexec']) expect(o, f).toContain(f);
    expect(mountAt(mi, '/mnt/rbind/sub')).toBeDefined();
    expect(mountAt(mi, '/mnt/bind/sub')).toBeUndefined();
    expect(mountAt(mi, '/mnt/rro')!.opts).toContain('ro');
    expect(mountAt(mi, '/mnt/rro/sub')!.opts).toContain('ro');
    expect(mountAt(mi, '/etc/hostfile')!.opts).toContain('rw');
    expect(mountAt(mi, '/etc/hostfile-ro')!.opts).toContain('ro');
    // the host's mounts are not changed by the recursive read-only
    expect(mountinfo(fs.readFileSync('/proc/self/mountinfo', 'utf8')).find((m) => m.point === path.join(hostRec, 'sub'))!.opts).toContain('rw');
  });

  it('a bind mount with data options (mode=, size=) is made as runc makes it: the data goes to mount(2), which ignores it for a bind', () => {
    const hostMode = (fs.statSync(hostData).mode & 0o777).toString(8);
    const out = run([
      'echo "== data"; cat /mnt/data/f; stat -c %a /mnt/data',
      'echo "== big"; dd if=/dev/zero of=/mnt/data/big bs=1024 count=8 2>/dev/null && stat -c %s /mnt/data/big; rm /mnt/data/big',
      'echo "== ro"; cat /mnt/data-ro/f; touch /mnt/data-ro/x 2>&1',
      'echo "== mountinfo"; cat /proc/self/mountinfo',
    ].join('; '), (cfg) => {
      cfg.mounts.push(
        { destination: '/mnt/data', type: 'bind', source: hostData, options: ['rbind', 'mode=700', 'size=1k'] },
        { destination: '/mnt/data-ro', type: 'none', source: hostData, options: ['bind', 'ro', 'uid=5', 'nr_inodes=2'] },
      );
    });
    const s = sections(out);
    // the host directory itself: its content and mode, no 1k limit
    expect(s.data).toBe(`host data\n${hostMode}\n`);
    expect(s.big).toBe('8192\n');
    expect(s.ro).toMatch(/^host data\ntouch: \/mnt\/data-ro\/x: Read-only file system\n$/);
    const mi = mountinfo(s.mountinfo);
    const host = mountinfo(fs.readFileSync('/proc/self/mountinfo', 'utf8'));
    const hostFs = host.filter((m) => hostData === m.point || hostData.startsWith(m.point === '/' ? '/' : `${m.point}/`)).sort((a, b) => b.point.length - a.point.length)[0];
    for (const dest of ['/mnt/data', '/mnt/data-ro']) {
      const m = mountAt(mi, dest)!;
      expect(m.fstype, dest).toBe(hostFs.fstype); // a bind of the host's file system, not a new tmpfs
      expect(m.superOpts, dest).toEqual(hostFs.superOpts); // the super block's options untouched by the data
    }
    expect(fs.existsSync(path.join(hostData, 'big'))).toBe(false);
  });

  it('tmpfs with size, mode, nosuid, nodev, noexec', () => {
    const out = run([
      'echo "== mode"; stat -c %a /mnt/t',
      'echo "== size"; dd if=/dev/zero of=/mnt/t/big bs=1024 count=8192 2>&1 | grep -o "No space left on device"',
      'echo "== exec"; cp /bin/busybox /mnt/t/bb 2>/dev/null; rm -f /mnt/t/big; cp /bin/busybox /mnt/t/bb && /mnt/t/bb true 2>&1; echo rc=$?',
      'echo "== mountinfo"; cat /proc/self/mountinfo',
    ].join('; '), (cfg) => {
      cfg.mounts.push({ destination: '/mnt/t', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev', 'noexec', 'size=4m', 'mode=1770'] });
    });
    const s = sections(out);
    expect(s.mode).toBe('1770\n');
    expect(s.size).toBe('No space left on device\n');
    expect(s.exec).toMatch(/Permission denied\nrc=126\n$/);
    const m = mountAt(mountinfo(s.mountinfo), '/mnt/t')!;
    expect(m.fstype).toBe('tmpfs');
    for (const f of ['rw', 'nosuid', 'nodev', 'noexec']) expect(m.opts, f).toContain(f);
    expect(m.superOpts).toContain('size=4096k');
    expect(m.superOpts).toContain('mode=1770');
  });
});

describe('mount options of config.md', () => {
  it('iversion and noiversion (MS_I_VERSION) are accepted; rnorelatime and rnostrictatime change atime recursively', () => {
    const out = run('echo "== mountinfo"; cat /proc/self/mountinfo', (cfg) => {
      cfg.mounts.push(
        { destination: '/mnt/iv', type: 'tmpfs', source: 'tmpfs', options: ['iversion', 'size=1m'] },
        { destination: '/mnt/noiv', type: 'tmpfs', source: 'tmpfs', options: ['noiversion', 'size=1m'] },
        // relatime (the default) to strictatime, on the bind and its submount
        { destination: '/mnt/norel', type: 'bind', source: hostRec, options: ['rbind', 'rnorelatime'] },
        // strictatime back to relatime
        { destination: '/mnt/nostrict', type: 'tmpfs', source: 'tmpfs', options: ['strictatime', 'rnostrictatime'] },
        { destination: '/mnt/strict', type: 'tmpfs', source: 'tmpfs', options: ['strictatime'] },
      );
    });
    const mi = mountinfo(sections(out).mountinfo);
    for (const d of ['/mnt/iv', '/mnt/noiv']) expect(mountAt(mi, d)!.fstype, d).toBe('tmpfs');
    const atime = (d: string) => mountAt(mi, d)!.opts.filter((o) => /atime$/.test(o));
    // strictatime shows as neither relatime nor noatime
    expect(atime('/mnt/norel')).toEqual([]);
    expect(atime('/mnt/norel/sub')).toEqual([]);
    expect(atime('/mnt/nostrict')).toEqual(['relatime']);
    expect(atime('/mnt/strict')).toEqual([]);
    // the host's mount below the bind keeps relatime
    expect(mountinfo(fs.readFileSync('/proc/self/mountinfo', 'utf8')).find((m) => m.point === path.join(hostRec, 'sub'))!.opts).toContain('relatime');
  });

  it('acl/noacl go to the filesystem (runc passes them as data): a refusal names the mount and the option; a bind mount takes them', () => {
    const id = `rfacl${process.pid}`;
    const bad = cfgOf(['true'], (x) => x.mounts.push({ destination: '/mnt/acl', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'acl', 'size=1m'] }));
    const r = rt(c, ['run', '--bundle', bundle(c, bad), id]);
    expect(r.status).not.toBe(0);
    // tmpfs has ACLs always and takes no "acl" option
    expect(r.stderr).toBe(`runts: mounts[${bad.mounts.length - 1}]: mount tmpfs on /mnt/acl: option "acl": invalid argument\n`);
    expect(fs.existsSync(path.join(c.root, id))).toBe(false);
    const ok = cfgOf(['sh', '-c', 'cat /mnt/acl/f'], (x) => x.mounts.push({ destination: '/mnt/acl', type: 'bind', source: hostData, options: ['rbind', 'acl', 'noacl'] }));
    const r2 = rt(c, ['run', '--bundle', bundle(c, ok), id]);
    expect(r2.stdout).toBe('host data\n');
    expect(r2.stderr).toBe('');
    expect(r2.status).toBe(0);
  });

  it('a filesystem option the kernel refuses is named with the mount index; a flag-only mount names its options', () => {
    const cfg = cfgOf(['true'], (x) => x.mounts.push({ destination: '/mnt/x', type: 'tmpfs', source: 'tmpfs', options: ['size=1m', 'nosuch=1'] }));
    const r = rt(c, ['run', '--bundle', bundle(c, cfg), `rfbad${process.pid}`]);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toBe(`runts: mounts[${cfg.mounts.length - 1}]: mount tmpfs on /mnt/x: option "nosuch=1": invalid argument\n`);
    // a filesystem type the kernel does not know: the options that went with it
    const cfg2 = cfgOf(['true'], (x) => x.mounts.push({ destination: '/mnt/x', type: 'nosuchfs', source: 'none', options: ['ro', 'nosuid'] }));
    const r2 = rt(c, ['run', '--bundle', bundle(c, cfg2), `rfbad${process.pid}`]);
    expect(r2.stderr).toBe(`runts: mounts[${cfg2.mounts.length - 1}]: options "ro", "nosuid": mount none on /mnt/x: no such device\n`);
  });
});

// Id-mapped mounts need kernel 5.12 (tmpfs: 6.3) and a filesystem that allows them (the test's work dir: ext4 here).
const [kmaj, kmin] = os.release().split('.').map(Number);
const IDMAP_KERNEL = kmaj > 6 || (kmaj === 6 && kmin >= 3);
if (!IDMAP_KERNEL) console.log(`id-mapped mount tests skipped: kernel ${os.release()} is older than 6.3`);

describe.skipIf(!IDMAP_KERNEL)('id-mapped mounts', () => {
  const map1000 = [{ containerID: 0, hostID: 1000, size: 1 }];
  let src: string;
  beforeAll(() => {
    // on disk: f0 owned by 0, f1000 by 1000, and a submount (owned by 0) for idmap vs ridmap
    src = path.join(c.work, 'idmap-src');
    fs.mkdirSync(path.join(src, 'sub'), { recursive: true });
    fs.writeFileSync(path.join(src, 'f0'), '');
    fs.writeFileSync(path.join(src, 'f1000'), '');
    fs.chownSync(path.join(src, 'f1000'), 1000, 1000);
    hostMount(['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs'], path.join(src, 'sub'));
    fs.writeFileSync(path.join(src, 'sub', 'g0'), '');
    fs.chownSync(path.join(src, 'f1000'), 1000, 1000);
  });
  const owners = (out: string) => Object.fromEntries(out.trim().split('\n').filter((l) => l.startsWith('/')).map((l) => l.split(' ')));

  it('the mount\'s own mappings: on-disk 0 shows as 1000, on-disk 1000 as 65534; ridmap maps submounts, idmap not; mappings without the option apply too', () => {
    const out = run('stat -c "%n %u:%g" /mnt/i/f0 /mnt/i/f1000 /mnt/i/sub/g0 /mnt/r/f0 /mnt/r/sub/g0 /mnt/m/f0 /mnt/plain/f0; '
      + 'echo "== mountinfo"; cat /proc/self/mountinfo', (cfg) => {
      cfg.mounts.push(
        { destination: '/mnt/i', type: 'bind', source: src, options: ['rbind', 'idmap'], uidMappings: map1000, gidMappings: map1000 },
        { destination: '/mnt/r', type: 'bind', source: src, options: ['rbind', 'ridmap'], uidMappings: map1000, gidMappings: map1000 },
        // runc applies mappings given without the option (non-recursively)
        { destination: '/mnt/m', type: 'bind', source: src, options: ['bind'], uidMappings: map1000, gidMappings: map1000 },
        { destination: '/mnt/plain', type: 'bind', source: src, options: ['bind'] },
      );
    });
    expect(owners(out)).toEqual({
      '/mnt/i/f0': '1000:1000', '/mnt/i/f1000': '65534:65534', '/mnt/i/sub/g0': '0:0',
      '/mnt/r/f0': '1000:1000', '/mnt/r/sub/g0': '1000:1000', '/mnt/m/f0': '1000:1000', '/mnt/plain/f0': '0:0',
    });
    const mi = mountinfo(sections(out).mountinfo);
    for (const d of ['/mnt/i', '/mnt/r', '/mnt/r/sub', '/mnt/m']) expect(mountAt(mi, d)!.opts, d).toContain('idmapped');
    for (const d of ['/mnt/i/sub', '/mnt/plain']) expect(mountAt(mi, d)!.opts, d).not.toContain('idmapped');
    // the host's files are not chowned
    expect(fs.statSync(path.join(src, 'f0')).uid).toBe(0);
    expect(fs.statSync(path.join(src, 'f1000')).uid).toBe(1000);
  });

  it('a tmpfs can be id-mapped too (with tmpcopyup and ro): what the container sees of its root-owned files is 1000', () => {
    fs.mkdirSync(path.join(rfs, 'mnt', 'idt'), { recursive: true });
    fs.writeFileSync(path.join(rfs, 'mnt', 'idt', 'x'), '');
    try {
      const out = run('stat -c "%n %u:%g" /mnt/idt /mnt/idt/x; touch /mnt/idt/y 2>&1; echo "== mountinfo"; cat /proc/self/mountinfo', (cfg) => {
        cfg.mounts.push({ destination: '/mnt/idt', type: 'tmpfs', source: 'tmpfs', options: ['idmap', 'tmpcopyup', 'ro', 'size=1m'], uidMappings: map1000, gidMappings: map1000 });
      });
      expect(owners(out)).toEqual({ '/mnt/idt': '1000:1000', '/mnt/idt/x': '1000:1000' });
      expect(out).toContain('touch: /mnt/idt/y: Read-only file system');
      const m = mountAt(mountinfo(sections(out).mountinfo), '/mnt/idt')!;
      expect(m.fstype).toBe('tmpfs');
      for (const o of ['ro', 'idmapped']) expect(m.opts).toContain(o);
      // one mount there: the original was replaced, not covered
      expect(mountinfo(sections(out).mountinfo).filter((l) => l.point === '/mnt/idt').length).toBe(1);
    } finally {
      fs.rmSync(path.join(rfs, 'mnt', 'idt'), { recursive: true, force: true });
    }
  });

  it('in a container with its own user namespace: idmap without mappings uses the container\'s, so on-disk 0 is the container\'s root; its new files are 0 on disk', () => {
    for (const d of ['i', 'e', 'plain']) fs.mkdirSync(path.join(rfs, 'mnt', 'u' + d), { recursive: true });
    fs.chownSync(path.join(src, 'f1000'), 100000, 100000);
    try {
      const out = run('stat -c "%n %u:%g" /mnt/ui/f0 /mnt/ui/f1000 /mnt/ue/f0 /mnt/ue/f1000 /mnt/uplain/f0; touch /mnt/ui/new; '
        + 'echo "== mountinfo"; cat /proc/self/mountinfo', (cfg) => {
        cfg.linux.namespaces.push({ type: 'user' });
        cfg.linux.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
        cfg.linux.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
        cfg.mounts.push(
          { destination: '/mnt/ui', type: 'bind', source: src, options: ['bind', 'idmap'] },
          // its own mapping, recursive: 0 -> 100000 (the container's root), nothing for 100000
          { destination: '/mnt/ue', type: 'bind', source: src, options: ['rbind', 'ridmap'], uidMappings: [{ containerID: 0, hostID: 100000, size: 10 }], gidMappings: [{ containerID: 0, hostID: 100000, size: 10 }] },
          { destination: '/mnt/uplain', type: 'bind', source: src, options: ['bind'] },
        );
      });
      expect(owners(out)).toEqual({
        '/mnt/ui/f0': '0:0', '/mnt/ui/f1000': '65534:65534', '/mnt/ue/f0': '0:0', '/mnt/ue/f1000': '65534:65534', '/mnt/uplain/f0': '65534:65534',
      });
      expect(fs.statSync(path.join(src, 'new')).uid).toBe(0);
      const mi = mountinfo(sections(out).mountinfo);
      expect(mountAt(mi, '/mnt/ui')!.opts).toContain('idmapped');
      expect(mountAt(mi, '/mnt/ue/sub')!.opts).toContain('idmapped');
    } finally {
      fs.rmSync(path.join(src, 'new'), { force: true });
      fs.chownSync(path.join(src, 'f1000'), 1000, 1000);
    }
  });

  it('joining a user namespace by path: idmap without mappings uses that namespace', () => {
    fs.mkdirSync(path.join(rfs, 'mnt', 'uj'), { recursive: true });
    const userns = (x: any) => {
      x.linux.uidMappings = [{ containerID: 0, hostID: 200000, size: 65536 }];
      x.linux.gidMappings = [{ containerID: 0, hostID: 200000, size: 65536 }];
    };
    const holder = cfgOf(['sleep', '60'], (x) => { x.linux.namespaces.push({ type: 'user' }); userns(x); });
    const hid = `rfidns${process.pid}`;
    expect(rt(c, ['run', '-d', '--bundle', bundle(c, holder), hid]).status).toBe(0);
    try {
      const out = run('stat -c "%n %u:%g" /mnt/uj/f0; cat /proc/self/uid_map', (x) => {
        x.linux.namespaces.push({ type: 'user', path: `/proc/${stateOf(c, hid).pid}/ns/user` });
        x.mounts.push({ destination: '/mnt/uj', type: 'bind', source: src, options: ['bind', 'idmap'] });
      });
      expect(out.split('\n')[0]).toBe('/mnt/uj/f0 0:0');
      expect(out.split('\n')[1].trim().split(/\s+/)).toEqual(['0', '200000', '65536']);
    } finally {
      rt(c, ['delete', '--force', hid]);
    }
  });

  it('refusals name the mount and the option or field, and leave nothing behind', () => {
    const cases: Array<[(x: any) => void, RegExp]> = [
      [(x) => x.mounts.push({ destination: '/mnt/i', type: 'bind', source: src, options: ['bind', 'idmap'] }),
        /^runts: mounts\[\d+\]\.options\[1\]: "idmap": needs the mount's uidMappings and gidMappings, or a user namespace for the container\n$/],
      [(x) => x.mounts.push({ destination: '/mnt/i', type: 'bind', source: src, options: ['bind', 'ridmap'], uidMappings: map1000 }),
        /^runts: mounts\[\d+\]\.gidMappings: is required with uidMappings\n$/],
      // proc cannot be id-mapped: the kernel's refusal, named
      [(x) => x.mounts.push({ destination: '/mnt/p', type: 'proc', source: 'proc', options: ['idmap'], uidMappings: map1000, gidMappings: map1000 }),
        /^runts: mounts\[\d+\]: option "idmap": id-map \/mnt\/p: invalid argument\n$/],
      [(x) => {
        x.linux.namespaces.push({ type: 'user' });
        x.linux.uidMappings = x.linux.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
        x.mounts.push({ destination: '/mnt/t', type: 'tmpfs', source: 'tmpfs', options: ['idmap'] });
      }, /^runts: mounts\[\d+\]\.options\[0\]: "idmap": in a user namespace only bind mounts can be id-mapped/],
    ];
    for (const [change, msg] of cases) {
      const id = `rfidbad${process.pid}`;
      const r = rt(c, ['run', '--bundle', bundle(c, cfgOf(['true'], change)), id]);
      expect(r.status).not.toBe(0);
      expect(r.stderr).toMatch(msg);
      expect(fs.existsSync(path.join(c.root, id))).toBe(false);
    }
  });
});

describe('mount targets behind symlinks stay in the rootfs', () => {
  // Links in the rootfs that name host paths. They are resolved as if the rootfs were "/" (openat2
  // RESOLVE_IN_ROOT): an absolute link to /work/.../outside-dir means <rootfs>/work/.../outside-dir.
  let outsideDir: string;
  let outsideFile: string;
  let outsideMissing: string;
  const hostTmpName = `runts-escape-${process.pid}`;
  /** host mount points at or below the paths the links name (mountsSnapshot is all of the host's: others' tests may run) */
  const hostMountsThere = () => mountsSnapshot().split('\n').filter((m) => [outsideDir, outsideFile, outsideMissing, `/tmp/${hostTmpName}`].some((p) => m === p || m.startsWith(p + '/')));

  beforeAll(() => {
    outsideDir = path.join(c.work, 'outside-dir');
    fs.mkdirSync(outsideDir);
    outsideFile = path.join(c.work, 'outside-file');
    fs.writeFileSync(outsideFile, 'original\n');
    outsideMissing = path.join(c.work, 'outside-missing');
    fs.symlinkSync(outsideDir, path.join(rfs, 'evil'));
    fs.symlinkSync(outsideFile, path.join(rfs, 'evilfile'));
    fs.symlinkSync(path.join(outsideMissing, 'cwd'), path.join(rfs, 'evilcwd'));
    fs.symlinkSync(path.join(outsideMissing, 'a'), path.join(rfs, 'evilmissing'));
    // a relative link that climbs far above the rootfs, to the host's /tmp
    fs.symlinkSync('../'.repeat(20) + 'tmp', path.join(rfs, 'evilrel'));
    // what the absolute links name, inside the rootfs
    fs.mkdirSync(path.join(rfs, outsideDir), { recursive: true });
    fs.writeFileSync(path.join(rfs, outsideFile), 'in the rootfs\n');
    fs.mkdirSync(path.join(rfs, outsideMissing, 'cwd'), { recursive: true });
  });

  function hostUntouched() {
    expect(fs.readdirSync(outsideDir)).toEqual([]);
    expect(fs.readFileSync(outsideFile, 'utf8')).toBe('original\n');
    expect(fs.existsSync(outsideMissing)).toBe(false);
    expect(fs.existsSync(path.join('/tmp', hostTmpName))).toBe(false);
    expect(hostMountsThere()).toEqual([]);
  }

  it('bind, file, tmpfs and cwd targets through links to host paths land inside the rootfs', () => {
    const out = run([
      'echo "== evil"; readlink /evil; ls -A /evil; echo written > /evil/from-container',
      'echo "== evilfile"; cat /evilfile',
      'echo "== evilrel"; stat -c %F /tmp/' + hostTmpName,
      'echo "== cwd"; pwd -P; mkdir sub && echo mkdir-ok',
      'echo "== mountinfo"; cat /proc/self/mountinfo',
    ].join('; '), (cfg) => {
      cfg.root.readonly = false;
      // no tmpfs on /tmp: the links name paths under the repository, which may itself be under /tmp
      cfg.mounts = cfg.mounts.filter((m: { destination: string }) => m.destination !== '/tmp');
      cfg.process.cwd = '/evilcwd';
      cfg.mounts.push(
        { destination: '/evil', type: 'bind', source: hostData, options: ['bind', 'rw'] },
        { destination: '/evilfile', type: 'bind', source: hostFile, options: ['bind', 'ro'] },
        { destination: `/evilrel/${hostTmpName}`, type: 'tmpfs', source: 'tmpfs', options: ['size=1m'] },
      );
    });
    const s = sections(out);
    // in the container the mounts are where the links lead, under the container's /
    expect(s.evil).toBe(`${outsideDir}\nf\nrun.sh\n`);
    expect(s.evilfile).toBe('host file\n');
    expect(s.evilrel).toBe('directory\n');
    expect(s.cwd).toBe(`${outsideMissing}/cwd\nmkdir-ok\n`);
    const mi = mountinfo(s.mountinfo);
    expect(mountAt(mi, outsideDir)!.root).toBe(hostData);
    expect(mountAt(mi, outsideFile)!.root).toBe(hostFile);
    expect(mountAt(mi, `/tmp/${hostTmpName}`)!.fstype).toBe('tmpfs');
    // the write went to the bind source; the host paths the links name are untouched
    expect(fs.readFileSync(path.join(hostData, 'from-container'), 'utf8')).toBe('written\n');
    fs.rmSync(path.join(hostData, 'from-container'));
    expect(fs.readdirSync(path.join(rfs, outsideMissing, 'cwd'))).toEqual(['sub']);
    hostUntouched();
  });

  it('a link whose target is missing in the rootfs: the target is created inside the rootfs, nothing on the host', () => {
    // /appdata -> /var/lib/data (missing: var/lib is not in the busybox rootfs), and links that climb above the root
    fs.symlinkSync('/var/lib/data', path.join(rfs, 'appdata'));
    fs.symlinkSync('../../../../climbed', path.join(rfs, 'climb'));
    fs.mkdirSync(path.join(rfs, 'etc', 'deep'));
    fs.symlinkSync('../../../../../climbed-file', path.join(rfs, 'etc', 'deep', 'file'));
    const out = run([
      'echo "== data"; ls -A /appdata/sub; stat -c %F /var/lib/data/sub',
      'echo "== climb"; ls -A /climbed/t; stat -c %F /climbed/t',
      'echo "== file"; cat /climbed-file',
      'echo "== evil"; stat -c %F /evilmissing/x/y; ls -A /evilmissing',
      'echo "== mountinfo"; cat /proc/self/mountinfo',
    ].join('; '), (cfg) => {
      // no tmpfs on /tmp: the links name paths under the repository, which may itself be under /tmp
      cfg.mounts = cfg.mounts.filter((m: { destination: string }) => m.destination !== '/tmp');
      cfg.mounts.push(
        { destination: '/appdata/sub', type: 'bind', source: hostData, options: ['bind', 'ro'] },
        { destination: '/climb/t', type: 'tmpfs', source: 'tmpfs', options: ['size=1m'] },
        { destination: '/etc/deep/file', type: 'bind', source: hostFile, options: ['bind'] },
        { destination: '/evilmissing/x/y', type: 'tmpfs', source: 'tmpfs', options: ['size=1m'] },
      );
    });
    const s = sections(out);
    expect(s.data).toBe('f\nrun.sh\ndirectory\n');
    expect(s.climb).toBe('directory\n');
    expect(s.file).toBe('host file\n');
    expect(s.evil).toBe('directory\nx\n');
    const mi = mountinfo(s.mountinfo);
    expect(mountAt(mi, '/var/lib/data/sub')!.root).toBe(hostData);
    expect(mountAt(mi, '/climbed/t')!.fstype).toBe('tmpfs');
    expect(mountAt(mi, '/climbed-file')!.root).toBe(hostFile);
    expect(mountAt(mi, `${outsideMissing}/a/x/y`)!.fstype).toBe('tmpfs');
    // created in the rootfs, where the links lead when the rootfs is "/"
    expect(fs.statSync(path.join(rfs, 'var/lib/data/sub')).isDirectory()).toBe(true);
    expect(fs.statSync(path.join(rfs, 'climbed/t')).isDirectory()).toBe(true);
    expect(fs.statSync(path.join(rfs, 'climbed-file')).isFile()).toBe(true);
    expect(fs.statSync(path.join(rfs, outsideMissing, 'a/x/y')).isDirectory()).toBe(true);
    // nothing above the rootfs
    for (const p of ['/climbed', '/tmp/climbed', '/tmp/climbed-file', '/climbed-file', path.join(c.work, 'climbed'), path.join(c.work, 'climbed-file')]) expect(fs.existsSync(p), p).toBe(false);
    hostUntouched();
  });
});

describe('tmpfs with tmpcopyup', () => {
  it('the new tmpfs starts with a copy of what the directory held (files, modes, owners, links); the rootfs is untouched', () => {
    const src = path.join(rfs, 'copyup');
    fs.mkdirSync(path.join(src, 'sub'), { recursive: true });
    fs.writeFileSync(path.join(src, 'a'), 'alpha\n');
    fs.chmodSync(path.join(src, 'a'), 0o604);
    fs.chownSync(path.join(src, 'a'), 1000, 1001);
    fs.writeFileSync(path.join(src, 'sub', 'b'), 'beta\n');
    fs.symlinkSync('sub/b', path.join(src, 'link'));
    try {
      const out = run('cd /copyup && stat -c "%n %a %u:%g %F" a sub sub/b link && cat a link && echo new > c && cat c && grep " /copyup " /proc/self/mountinfo', (cfg) => {
        cfg.mounts.push({ destination: '/copyup', type: 'tmpfs', source: 'tmpfs', options: ['tmpcopyup', 'size=1m', 'mode=755'] });
      });
      const lines = out.trim().split('\n');
      expect(lines.slice(0, 4)).toEqual(['a 604 1000:1001 regular file', 'sub 755 0:0 directory', 'sub/b 644 0:0 regular file', 'link 777 0:0 symbolic link']);
      expect(lines.slice(4, 7)).toEqual(['alpha', 'beta', 'new']);
      expect(lines[7]).toMatch(/ \/copyup .* - tmpfs /);
      // the write went to the tmpfs
      expect(fs.existsSync(path.join(src, 'c'))).toBe(false);
    } finally {
      fs.rmSync(src, { recursive: true, force: true });
    }
  });

  it('tmpcopyup on anything but tmpfs is refused, naming the mount', () => {
    const cfg = cfgOf(['true'], (x) => x.mounts.push({ destination: '/mnt', type: 'proc', source: 'proc', options: ['tmpcopyup'] }));
    const r = rt(c, ['create', '--bundle', bundle(c, cfg), cid('copyupbad')]);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/mounts\[\d+\]\.options: "tmpcopyup" is only for tmpfs mounts/);
  });
});

describe('--no-pivot', () => {
  it('the rootfs becomes / by MS_MOVE and chroot; read-only root, masks and mounts work as with pivot_root', () => {
    const out = run('echo "== root"; cat /etc/hostname; touch /x 2>&1; wc -c < /proc/timer_list; cat /mnt/rw/f; '
      + 'echo "== mountinfo"; cat /proc/self/mountinfo', (cfg) => {
      cfg.mounts.push({ destination: '/mnt/rw', type: 'bind', source: hostData, options: ['bind'] });
    }, ['--no-pivot']);
    const s = sections(out);
    expect(s.root).toMatch(/^runts\ntouch: \/x: Read-only file system\n0\nhost data\n$/);
    const mi = mountinfo(s.mountinfo);
    expect(mountAt(mi, '/')!.opts).toContain('ro');
    expect(mountAt(mi, '/')!.root).toBe(rfs);
    // only the container's mounts are visible
    expect(mi.every((m) => m.point === '/' || ['/proc', '/dev', '/sys', '/tmp', '/mnt'].some((p) => m.point.startsWith(p)))).toBe(true);
  });
});

describe('mount propagation', () => {
  it('rslave binds receive the host\'s later mounts, rprivate ones do not', async () => {
    // a shared host mount to bind from (the host's / is private here)
    const shared = path.join(c.work, 'shared');
    fs.mkdirSync(shared);
    hostMount(['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs'], shared);
    execFileSync('mount', ['--make-shared', shared]);
    fs.mkdirSync(path.join(shared, 'late'));
    const cfg = cfgOf(['sleep', '60'], (x) => {
      x.mounts.push(
        { destination: '/mnt/slave', type: 'bind', source: shared, options: ['rbind', 'rslave'] },
        { destination: '/mnt/private', type: 'bind', source: shared, options: ['rbind', 'rprivate'] },
      );
    });
    expect(rt(c, ['run', '-d', '--bundle', bundle(c, cfg), cid('prop')]).status).toBe(0);
    try {
      hostMount(['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs'], path.join(shared, 'late'));
      fs.writeFileSync(path.join(shared, 'late', 'marker'), 'late\n');
      const r = rt(c, ['exec', cid('prop'), 'sh', '-c', 'echo "== slave"; cat /mnt/slave/late/marker 2>&1; echo "== private"; ls -A /mnt/private/late | wc -l; echo "== mountinfo"; cat /proc/self/mountinfo']);
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      const s = sections(r.stdout);
      expect(s.slave).toBe('late\n');
      expect(s.private).toBe('0\n');
      const mi = mountinfo(s.mountinfo);
      expect(mountAt(mi, '/mnt/slave')!.optional.some((o) => o.startsWith('master:'))).toBe(true);
      expect(mountAt(mi, '/mnt/slave')!.optional.some((o) => o.startsWith('shared:'))).toBe(false);
      expect(mountAt(mi, '/mnt/private')!.optional).toEqual([]);
      expect(mountAt(mi, '/mnt/slave/late')).toBeDefined();
      expect(mountAt(mi, '/mnt/private/late')).toBeUndefined();
      // the container's init sees the same (not only the exec'd process)
      expect(fs.readFileSync(`/proc/${stateOf(c, cid('prop')).pid}/root/mnt/slave/late/marker`, 'utf8')).toBe('late\n');
    } finally {
      rt(c, ['delete', '--force', cid('prop')]);
    }
  });
});

describe('rootfsPropagation', () => {
  // The rootfs is a shared mount of the host with a shared host mount below it (/home). After start the host
  // mounts on the rootfs mount itself (/var) and on the one below it (/home/late); the container mounts on both
  // (/root, /home/back). A non-recursive value acts on the container's / only: the mount below keeps the host's
  // propagation (as in runc). rshared keeps the mounts below the rootfs peers of the host's (Kubernetes'
  // Bidirectional), while / itself is a new peer group (config-linux.md: "not shared with the host").
  const expected: Record<string, { rootIn: boolean; subIn: boolean; subOut: boolean; root: RegExp }> = {
    rslave: { rootIn: true, subIn: true, subOut: false, root: /^master:\d+$/ },
    slave: { rootIn: true, subIn: true, subOut: true, root: /^master:\d+$/ },
    rshared: { rootIn: true, subIn: true, subOut: true, root: /^shared:\d+ master:\d+$/ },
    shared: { rootIn: true, subIn: true, subOut: true, root: /^shared:\d+ master:\d+$/ },
    rprivate: { rootIn: false, subIn: false, subOut: false, root: /^$/ },
    private: { rootIn: false, subIn: true, subOut: true, root: /^$/ },
    runbindable: { rootIn: false, subIn: false, subOut: false, root: /^unbindable$/ },
    unbindable: { rootIn: false, subIn: true, subOut: true, root: /^unbindable$/ },
  };
  const CAPS = [...baseConfig(['true']).process.capabilities.bounding, 'CAP_SYS_ADMIN'];

  for (const [value, e] of Object.entries(expected)) {
    it(`${value}: host mounts after start ${e.rootIn ? 'show' : 'do not show'} on / and ${e.subIn ? 'show' : 'do not show'} below it; the container's ${e.subOut ? 'reach' : 'do not reach'} the host`, () => {
      const w = path.join(c.work, `rprop-${value}`);
      const r = path.join(w, 'root');
      fs.mkdirSync(r, { recursive: true });
      hostMount(['--bind', rfs], r);
      execFileSync('mount', ['--make-shared', r]);
      hostMount(['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs'], path.join(r, 'home'));
      execFileSync('mount', ['--make-shared', path.join(r, 'home')]);
      fs.mkdirSync(path.join(r, 'home', 'late'));
      fs.mkdirSync(path.join(r, 'home', 'back'));
      const id = `rprop-${value}-${process.pid}`;
      const cfg = baseConfig(['sleep', '60'], r);
      cfg.linux.rootfsPropagation = value;
      cfg.process.capabilities = { bounding: CAPS, effective: CAPS, permitted: CAPS };
      const cr = rt(c, ['run', '-d', '--bundle', bundle(c, cfg), id]);
      expect(cr.stderr).toBe('');
      expect(cr.status).toBe(0);
      try {
        hostMount(['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs'], path.join(r, 'var'));
        fs.writeFileSync(path.join(r, 'var', 'marker'), 'host root\n');
        hostMount(['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs'], path.join(r, 'home', 'late'));
        fs.writeFileSync(path.join(r, 'home', 'late', 'marker'), 'host sub\n');
        const x = rt(c, ['exec', id, 'sh', '-c', 'echo "== root"; cat /var/marker 2>/dev/null || echo none; '
          + 'echo "== sub"; cat /home/late/marker 2>/dev/null || echo none; '
          + 'mount -t tmpfs -o size=1m tmpfs /root && echo ct > /root/marker; '
          + 'mount -t tmpfs -o size=1m tmpfs /home/back && echo ct > /home/back/marker; '
          + 'echo "== mountinfo"; cat /proc/self/mountinfo']);
        expect(x.stderr).toBe('');
        expect(x.status).toBe(0);
        const s = sections(x.stdout);
        expect(s.root).toBe(e.rootIn ? 'host root\n' : 'none\n');
        expect(s.sub).toBe(e.subIn ? 'host sub\n' : 'none\n');
        expect(mountAt(mountinfo(s.mountinfo), '/')!.optional.join(' ')).toMatch(e.root);
        // the container's mounts: never on the host's rootfs mount, below it only through a shared peer
        expect(fs.existsSync(path.join(r, 'root', 'marker'))).toBe(false);
        expect(fs.existsSync(path.join(r, 'home', 'back', 'marker'))).toBe(e.subOut);
      } finally {
        rt(c, ['delete', '--force', id]);
      }
    });
  }

  it('a value outside the spec\'s and runc\'s list is refused, naming the field', () => {
    const cfg = cfgOf(['true'], (x) => { x.linux.rootfsPropagation = 'rrslave'; });
    const r = rt(c, ['create', '--bundle', bundle(c, cfg), `rpropbad-${process.pid}`]);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/linux\.rootfsPropagation/);
  });
});
