// process.*, hostname/domainname and linux.sysctl: what the container process actually sees.
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CAPS } from '../../src/plan/caps';
import { Ctx, baseConfig, bundle, cleanupContext, context, mountsSnapshot, rootfs, rt, runIn, cid } from '../helpers';

let c: Ctx;
/** a private copy of the busybox rootfs: the tests add files to it and let runts create directories in it */
let rfs: string;
beforeAll(() => {
  c = context('process');
  rfs = path.join(c.work, 'rootfs');
  execFileSync('cp', ['-a', rootfs(), rfs]);
  // executables for PATH lookup: /opt/a/hello is not executable, /opt/b/hello is
  fs.mkdirSync(path.join(rfs, 'opt/a'), { recursive: true });
  fs.mkdirSync(path.join(rfs, 'opt/b'), { recursive: true });
  fs.writeFileSync(path.join(rfs, 'opt/a/hello'), '#!/bin/sh\necho from-a\n', { mode: 0o644 });
  fs.writeFileSync(path.join(rfs, 'opt/b/hello'), '#!/bin/sh\necho "from-b $0 $*"\n', { mode: 0o755 });
  fs.writeFileSync(path.join(rfs, 'opt/garbage'), 'not an executable format\0\0\0\0', { mode: 0o755 });
});
afterAll(() => cleanupContext(c));

function cfgOf(args: string[], change?: (cfg: any) => void): any {
  const cfg = baseConfig(args, rfs);
  change?.(cfg);
  return cfg;
}

/** Run `sh -c script` in a container; returns stdout, failing the test on a non-zero status. */
function run(script: string, change?: (cfg: any) => void): string {
  const r = runIn(c, cfgOf(['sh', '-c', script], change));
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  return r.stdout;
}

/** The fields of a /proc/<pid>/status text. */
function status(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const l of text.split('\n')) {
    const m = /^(\w+):\s*(.*)$/.exec(l);
    if (m) out[m[1]] = m[2].trim();
  }
  return out;
}

function mask(names: string[]): string {
  let m = 0n;
  for (const n of names) {
    const i = CAPS.indexOf(n);
    if (i < 0) throw new Error(`unknown cap ${n}`);
    m |= 1n << BigInt(i);
  }
  return m.toString(16).padStart(16, '0');
}

// Other tests (and other people's containers) may run on this host at the same time: leftovers are
// recognized by a mark in the environment the stub inherits from runts, and by paths under our work dir.
const MARK = `RUNTS_TEST_MARK=process-${process.pid}`;

/** Stub processes started by this file's runts calls: leftovers of a failed create would show here. */
function stubProcs(): number[] {
  const out: number[] = [];
  for (const p of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(p)) continue;
    try {
      if (!fs.readFileSync(`/proc/${p}/cmdline`, 'utf8').startsWith('runts-init')) continue;
      if (fs.readFileSync(`/proc/${p}/environ`, 'utf8').split('\0').includes(MARK)) out.push(Number(p));
    } catch { /* gone */ }
  }
  return out;
}

/** Host mount points under our work dir. */
function ourMounts(): string[] {
  return mountsSnapshot().split('\n').filter((m) => m.startsWith(c.work));
}

/** `create` fails with one clear line matching msg and leaves no container, mount or process behind. */
function expectCreateFails(cfg: any, msg: RegExp): void {
  const before = { mounts: ourMounts(), root: fs.readdirSync(c.root) };
  const [k, v] = MARK.split('=');
  const r = rt(c, ['create', '--bundle', bundle(c, cfg), cid('bad')], { env: { ...process.env, [k]: v } });
  expect(r.status).not.toBe(0);
  expect(r.stderr).toMatch(msg);
  expect(r.stderr.trim().split('\n')).toHaveLength(1);
  expect(fs.readdirSync(c.root)).toEqual(before.root);
  expect(ourMounts()).toEqual(before.mounts);
  expect(stubProcs()).toEqual([]);
}

describe('capabilities', () => {
  const bounding = ['CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_KILL', 'CAP_SETUID', 'CAP_NET_BIND_SERVICE', 'CAP_AUDIT_WRITE'];
  const permitted = ['CAP_CHOWN', 'CAP_KILL', 'CAP_SETUID', 'CAP_NET_BIND_SERVICE'];
  const effective = ['CAP_CHOWN', 'CAP_KILL'];
  const inheritable = ['CAP_CHOWN', 'CAP_SETUID'];
  const ambient = ['CAP_CHOWN'];
  const withCaps = (more?: (cfg: any) => void) => (cfg: any) => {
    cfg.process.capabilities = { bounding, permitted, effective, inheritable, ambient };
    more?.(cfg);
  };

  it('the runc spec defaults: bounding = permitted = effective, no inheritable or ambient', () => {
    const st = status(run('cat /proc/self/status'));
    const want = mask(['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE']);
    expect(want).toBe('0000000020000420');
    expect([st.CapBnd, st.CapPrm, st.CapEff, st.CapInh, st.CapAmb]).toEqual([want, want, want, '0'.repeat(16), '0'.repeat(16)]);
  });

  it('uid 0 with noNewPrivileges: all five sets as the kernel derives them at execve', () => {
    const st = status(run('cat /proc/self/status', withCaps()));
    expect(st.CapBnd).toBe(mask(bounding));
    expect(st.CapInh).toBe(mask(inheritable));
    // execve as root: P' = (bounding | inheritable), capped by the permitted set we had (no_new_privs),
    // and effective = permitted
    expect(st.CapPrm).toBe(mask(permitted));
    expect(st.CapEff).toBe(mask(permitted));
    expect(st.CapAmb).toBe(mask(ambient));
    expect(st.NoNewPrivs).toBe('1');
  });

  it('uid 0 without noNewPrivileges: permitted is bounding | inheritable (root gains it at execve)', () => {
    const st = status(run('cat /proc/self/status', withCaps((cfg) => { cfg.process.noNewPrivileges = false; })));
    expect(st.NoNewPrivs).toBe('0');
    expect(st.CapBnd).toBe(mask(bounding));
    expect(st.CapInh).toBe(mask(inheritable));
    expect(st.CapPrm).toBe(mask(bounding));
    expect(st.CapEff).toBe(mask(bounding));
    expect(st.CapAmb).toBe(mask(ambient));
  });

  it('a non-root user keeps exactly the ambient set across execve', () => {
    const st = status(run('cat /proc/self/status; chown 1000 /tmp', withCaps((cfg) => { cfg.process.user = { uid: 1000, gid: 1000 }; })));
    expect(st.Uid).toBe('1000\t1000\t1000\t1000');
    expect(st.CapBnd).toBe(mask(bounding));
    expect(st.CapInh).toBe(mask(inheritable));
    expect(st.CapPrm).toBe(mask(ambient));
    expect(st.CapEff).toBe(mask(ambient));
    expect(st.CapAmb).toBe(mask(ambient));
  });

  it('a non-root user without ambient capabilities has none', () => {
    const out = run('cat /proc/self/status; chown 1000 /tmp 2>&1 || echo chown-failed', (cfg) => {
      cfg.process.capabilities = { bounding, permitted, effective, inheritable };
      cfg.process.user = { uid: 1000, gid: 1000 };
    });
    const st = status(out);
    expect([st.CapPrm, st.CapEff, st.CapAmb]).toEqual(['0'.repeat(16), '0'.repeat(16), '0'.repeat(16)]);
    expect(st.CapBnd).toBe(mask(bounding));
    expect(out).toContain('chown-failed');
  });

  it('no capabilities object: every set is empty but bounding keeps what the runtime has', () => {
    const st = status(run('cat /proc/self/status', (cfg) => { delete cfg.process.capabilities; cfg.process.user = { uid: 1000, gid: 1000 }; }));
    expect([st.CapPrm, st.CapEff, st.CapInh, st.CapAmb]).toEqual(['0'.repeat(16), '0'.repeat(16), '0'.repeat(16), '0'.repeat(16)]);
  });

  it('an ambient capability that is not inheritable and permitted is left out with a warning (as runc does)', () => {
    // runc: "can't raise ambient capability CAP_CHOWN: operation not permitted", and the container runs
    const r = runIn(c, cfgOf(['cat', '/proc/self/status'], withCaps((cfg) => {
      cfg.process.capabilities.inheritable = ['CAP_CHOWN', 'CAP_DAC_OVERRIDE'];
      cfg.process.capabilities.ambient = ['CAP_CHOWN', 'CAP_KILL', 'CAP_DAC_OVERRIDE'];
      cfg.process.user = { uid: 1000, gid: 1000 };
    })));
    expect(r.status).toBe(0);
    // CAP_KILL is not inheritable, CAP_DAC_OVERRIDE not permitted
    expect(r.stderr).toMatch(/warning: can't raise ambient capability CAP_KILL\b/);
    expect(r.stderr).toMatch(/warning: can't raise ambient capability CAP_DAC_OVERRIDE\b/);
    expect(r.stderr.trim().split('\n')).toHaveLength(2);
    const st = status(r.stdout);
    expect(st.CapAmb).toBe(mask(['CAP_CHOWN']));
    expect(st.CapPrm).toBe(mask(['CAP_CHOWN']));
    expect(st.CapInh).toBe(mask(['CAP_CHOWN', 'CAP_DAC_OVERRIDE']));
  });

  it('sets capset(2) refuses are a clear error: effective outside permitted, inheritable outside bounding', () => {
    expectCreateFails(cfgOf(['true'], withCaps((cfg) => { cfg.process.capabilities.effective = ['CAP_CHOWN', 'CAP_AUDIT_WRITE']; })),
      /process\.capabilities\.effective: CAP_AUDIT_WRITE is not in the permitted set/);
    expectCreateFails(cfgOf(['true'], withCaps((cfg) => {
      cfg.process.capabilities.inheritable = ['CAP_SYS_ADMIN'];
      cfg.process.capabilities.ambient = [];
    })), /process\.capabilities\.inheritable: CAP_SYS_ADMIN is not in the bounding set/);
  });
});

describe('user', () => {
  it('uid, gid and additionalGids: id and /proc/self/status', () => {
    const out = run('id; cat /proc/self/status; echo HOME=$HOME', (cfg) => { cfg.process.user = { uid: 1000, gid: 1000, additionalGids: [2000, 5] }; });
    const [id] = out.split('\n');
    expect(id).toBe('uid=1000(user) gid=1000(user) groups=5,2000(extra)');
    const st = status(out);
    expect(st.Uid).toBe('1000\t1000\t1000\t1000');
    expect(st.Gid).toBe('1000\t1000\t1000\t1000');
    expect(st.Groups.split(/\s+/).sort()).toEqual(['2000', '5']);
    expect(out).toContain('HOME=/home/user\n');
  });

  it('ids without a passwd entry; no additionalGids means no supplementary groups', () => {
    const out = run('id -u; id -g; cat /proc/self/status; echo HOME=$HOME', (cfg) => { cfg.process.user = { uid: 4242, gid: 4343 }; });
    expect(out.split('\n').slice(0, 2)).toEqual(['4242', '4343']);
    const st = status(out);
    expect(st.Uid).toBe('4242\t4242\t4242\t4242');
    expect(st.Gid).toBe('4343\t4343\t4343\t4343');
    expect(st.Groups).toBe('');
    expect(out).toContain('HOME=/\n');
  });

  it('root: no supplementary groups from the runtime leak in', () => {
    const st = status(run('cat /proc/self/status'));
    expect(st.Uid).toBe('0\t0\t0\t0');
    expect(st.Groups).toBe('');
  });

  it('umask: the shell sees it and new files get it', () => {
    const out = run('umask; touch /tmp/f; mkdir /tmp/d; stat -c %a /tmp/f /tmp/d', (cfg) => { cfg.process.user.umask = 0o027; });
    expect(out).toBe('0027\n640\n750\n');
    // default 0022
    expect(run('umask; touch /tmp/f; stat -c %a /tmp/f')).toBe('0022\n644\n');
  });
});

describe('rlimits', () => {
  /** The hard RLIMIT_NOFILE runts inherits (a child of this process). */
  function hostNofileHard(): number {
    const m = /^Max open files\s+\S+\s+(\S+)/m.exec(fs.readFileSync('/proc/self/limits', 'utf8'))!;
    return m[1] === 'unlimited' ? Infinity : Number(m[1]);
  }

  it('lowers RLIMIT_NOFILE soft and hard; others set too', () => {
    const out = run('ulimit -n; ulimit -Hn; grep -E "^Max (open files|core file size|processes)" /proc/self/limits', (cfg) => {
      cfg.process.rlimits = [
        { type: 'RLIMIT_NOFILE', soft: 100, hard: 200 },
        { type: 'RLIMIT_CORE', soft: 0, hard: 4096 },
        { type: 'RLIMIT_NPROC', soft: 500, hard: 600 },
      ];
    });
    const lines = out.trim().split('\n');
    expect(lines.slice(0, 2)).toEqual(['100', '200']);
    expect(out).toMatch(/^Max core file size\s+0\s+4096\s+bytes/m);
    expect(out).toMatch(/^Max processes\s+500\s+600\s+processes/m);
    expect(out).toMatch(/^Max open files\s+100\s+200\s+files/m);
  });

  it('the soft limit is enforced', () => {
    // dup2 onto an fd at or above the soft limit fails
    const out = run('(exec 7</dev/null) && echo ok-7; (exec 8</dev/null) 2>/dev/null || echo failed-8', (cfg) => {
      cfg.process.rlimits = [{ type: 'RLIMIT_NOFILE', soft: 8, hard: 8 }];
    });
    expect(out).toBe('ok-7\nfailed-8\n');
  });

  it('raising a hard limit above the runtime\'s needs CAP_SYS_RESOURCE: a clear error when it is missing', () => {
    const hard = hostNofileHard();
    const caps = status(fs.readFileSync('/proc/self/status', 'utf8')).CapEff;
    const hasSysResource = (BigInt('0x' + caps) >> 24n) & 1n;
    if (hasSysResource || hard === Infinity) {
      // with CAP_SYS_RESOURCE the raise works; say so rather than pretend
      console.warn('skipped: the runtime has CAP_SYS_RESOURCE or an unlimited RLIMIT_NOFILE, raising cannot fail here');
      return;
    }
    expectCreateFails(cfgOf(['true'], (cfg) => { cfg.process.rlimits = [{ type: 'RLIMIT_NOFILE', soft: 1024, hard: hard + 1 }]; }),
      /setrlimit RLIMIT_NOFILE: operation not permitted/);
  });

  it('a soft limit above the hard limit is rejected before anything runs', () => {
    expectCreateFails(cfgOf(['true'], (cfg) => { cfg.process.rlimits = [{ type: 'RLIMIT_NOFILE', soft: 300, hard: 200 }]; }),
      /rlimits\[0\].*soft.*300.*hard.*200/);
  });
});

describe('env, args and PATH', () => {
  it('env is exactly the configured one (plus HOME), in order', () => {
    const out = run('env', (cfg) => { cfg.process.env = ['PATH=/bin', 'A=1', 'B=with spaces and = sign', 'EMPTY=']; });
    const got = out.trim().split('\n').filter((l) => !/^(PWD|SHLVL|_)=/.test(l));
    expect(got.sort()).toEqual(['A=1', 'B=with spaces and = sign', 'EMPTY=', 'HOME=/root', 'PATH=/bin'].sort());
  });

  it('args[0] is looked up in the container PATH: first executable wins, argv is passed as is', () => {
    const r = runIn(c, cfgOf(['hello', 'x y', 'z'], (cfg) => { cfg.process.env = ['PATH=/opt/a:/opt/b:/bin']; }));
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('from-b /opt/b/hello x y z\n');
    expect(r.status).toBe(0);
  });

  it('a relative args[0] with a slash is taken relative to cwd, not looked up in PATH', () => {
    const r = runIn(c, cfgOf(['./hello'], (cfg) => { cfg.process.cwd = '/opt/b'; cfg.process.env = ['PATH=/opt/a']; }));
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('from-b ./hello \n');
  });

  it('without PATH in env the default PATH is used', () => {
    const r = runIn(c, cfgOf(['busybox', 'echo', 'ok'], (cfg) => { cfg.process.env = ['A=1']; }));
    expect(r.stdout).toBe('ok\n');
    expect(r.status).toBe(0);
  });

  it('a missing executable: create fails with a clear message and nothing is left', () => {
    expectCreateFails(cfgOf(['/bin/nope']), /exec.*"?\/bin\/nope"?.*no such file or directory/);
    expectCreateFails(cfgOf(['nope-nope']), /"nope-nope": executable file not found in \$PATH/);
    expectCreateFails(cfgOf(['/opt/a/hello']), /\/opt\/a\/hello.*permission denied/);
    expectCreateFails(cfgOf(['/opt']), /\/opt.*permission denied/);
  });

  it('an executable the kernel cannot run: run fails with "exec format error"', () => {
    const r = runIn(c, cfgOf(['/opt/garbage']));
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/exec format error/);
    expect(fs.readdirSync(c.root)).toEqual([]);
  });
});

describe('cwd', () => {
  it('is the working directory', () => {
    expect(run('pwd', (cfg) => { cfg.process.cwd = '/etc'; })).toBe('/etc\n');
  });

  it('a cwd that does not exist yet is created (as runc does)', () => {
    expect(run('pwd; stat -c "%a %F" .', (cfg) => { cfg.process.cwd = '/srv/app/data'; })).toBe('/srv/app/data\n755 directory\n');
    expect(fs.statSync(path.join(rfs, 'srv/app/data')).isDirectory()).toBe(true);
    // on a mount: created inside the container's tmpfs
    expect(run('pwd', (cfg) => { cfg.process.cwd = '/tmp/new/dir'; })).toBe('/tmp/new/dir\n');
    expect(fs.existsSync(path.join(rfs, 'tmp/new'))).toBe(false);
  });

  it('a cwd the user cannot enter is entered before the user switch (as runc does)', () => {
    // /root is 0700 root: the process starts there but cannot list it
    const out = run('pwd; id -u; ls . 2>&1 | grep -o "Permission denied"', (cfg) => { cfg.process.cwd = '/root'; cfg.process.user = { uid: 1000, gid: 1000 }; });
    expect(out).toBe('/root\n1000\nPermission denied\n');
  });

  it('a cwd that is not a directory is a clear error', () => {
    expectCreateFails(cfgOf(['true'], (cfg) => { cfg.process.cwd = '/etc/passwd'; }), /mkdir \/etc\/passwd: not a directory|chdir \/etc\/passwd: not a directory/);
  });
});

describe('oomScoreAdj', () => {
  const current = () => Number(fs.readFileSync('/proc/self/oom_score_adj', 'utf8'));

  it('raising works', () => {
    const want = Math.min(current() + 500, 1000);
    expect(run('cat /proc/self/oom_score_adj', (cfg) => { cfg.process.oomScoreAdj = want; })).toBe(`${want}\n`);
  });

  it('lowering below the runtime\'s own needs CAP_SYS_RESOURCE: a clear error when it is missing', () => {
    const caps = status(fs.readFileSync('/proc/self/status', 'utf8')).CapEff;
    if ((BigInt('0x' + caps) >> 24n) & 1n || current() === -1000) {
      console.warn('skipped: the runtime has CAP_SYS_RESOURCE or oom_score_adj is already -1000');
      return;
    }
    expectCreateFails(cfgOf(['true'], (cfg) => { cfg.process.oomScoreAdj = current() - 1; }),
      /oom_score_adj.*permission denied/);
  });
});

describe('hostname, domainname, sysctl', () => {
  it('hostname and domainname are set in the new uts namespace, the host keeps its own', () => {
    const host = fs.readFileSync('/proc/sys/kernel/hostname', 'utf8');
    const hostDomain = fs.readFileSync('/proc/sys/kernel/domainname', 'utf8');
    const out = run('hostname; uname -n; cat /proc/sys/kernel/domainname', (cfg) => { cfg.hostname = 'box.one'; cfg.domainname = 'example.org'; });
    expect(out).toBe('box.one\nbox.one\nexample.org\n');
    expect(fs.readFileSync('/proc/sys/kernel/hostname', 'utf8')).toBe(host);
    expect(fs.readFileSync('/proc/sys/kernel/domainname', 'utf8')).toBe(hostDomain);
  });

  it('namespaced sysctls are written in the container\'s namespaces only', () => {
    const hostFwd = fs.readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8');
    const hostShm = fs.readFileSync('/proc/sys/kernel/shmmni', 'utf8');
    const out = run('cat /proc/sys/net/ipv4/ip_forward /proc/sys/kernel/shmmni /proc/sys/kernel/shm_rmid_forced /proc/sys/net/ipv4/ping_group_range', (cfg) => {
      cfg.linux.sysctl = {
        'net.ipv4.ip_forward': hostFwd.trim() === '1' ? '0' : '1',
        'kernel.shmmni': '1234',
        'kernel.shm_rmid_forced': '1',
        'net/ipv4/ping_group_range': '0 2147483647',
      };
    });
    expect(out.split('\n').slice(0, 3)).toEqual([hostFwd.trim() === '1' ? '0' : '1', '1234', '1']);
    expect(out.split('\n')[3].split(/\s+/)).toEqual(['0', '2147483647']);
    expect(fs.readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8')).toBe(hostFwd);
    expect(fs.readFileSync('/proc/sys/kernel/shmmni', 'utf8')).toBe(hostShm);
  });

  it('a sysctl for a namespace the container does not own is rejected', () => {
    const without = (type: string, key: string, v = '1') => cfgOf(['true'], (cfg) => {
      cfg.linux.namespaces = cfg.linux.namespaces.filter((n: any) => n.type !== type);
      cfg.linux.sysctl = { [key]: v };
      if (type === 'uts') delete cfg.hostname;
    });
    expectCreateFails(without('network', 'net.ipv4.ip_forward'), /net\.ipv4\.ip_forward.*network namespace/);
    expectCreateFails(without('ipc', 'kernel.shmmax', '4096'), /kernel\.shmmax.*ipc namespace/);
    expectCreateFails(without('uts', 'kernel.domainname', 'x'), /kernel\.domainname.*uts namespace/);
    expectCreateFails(cfgOf(['true'], (cfg) => { cfg.linux.sysctl = { 'kernel.pid_max': '4096' }; }), /kernel\.pid_max.*not in a separate kernel namespace/);
    expectCreateFails(cfgOf(['true'], (cfg) => { cfg.linux.sysctl = { 'vm.swappiness': '1' }; }), /vm\.swappiness.*not in a separate kernel namespace/);
  });

  it('a namespace joined by path: its sysctls are allowed, unless it is the host\'s own', () => {
    // a network namespace of another container
    expect(rt(c, ['run', '-d', '--bundle', bundle(c, cfgOf(['sleep', '30'])), cid('netns')]).status).toBe(0);
    try {
      const pid = JSON.parse(rt(c, ['state', cid('netns')]).stdout).pid;
      const joined = (p: string) => (cfg: any) => {
        cfg.linux.namespaces = cfg.linux.namespaces.map((n: any) => (n.type === 'network' ? { type: 'network', path: p } : n));
        cfg.linux.sysctl = { 'net.ipv4.ip_forward': '1' };
      };
      expect(run('cat /proc/sys/net/ipv4/ip_forward', joined(`/proc/${pid}/ns/net`))).toBe('1\n');
      // (/proc/sys/net shows the reader's network namespace: read it from inside)
      expect(rt(c, ['exec', cid('netns'), 'cat', '/proc/sys/net/ipv4/ip_forward']).stdout).toBe('1\n');
      // the runtime's own network namespace: never written to
      expectCreateFails(cfgOf(['true'], joined(`/proc/${process.pid}/ns/net`)), /net\.ipv4\.ip_forward.*network namespace/);
    } finally {
      rt(c, ['delete', '--force', cid('netns')]);
    }
  });

  it('an unknown sysctl is a clear error', () => {
    expectCreateFails(cfgOf(['true'], (cfg) => { cfg.linux.sysctl = { 'net.ipv4.no_such_key': '1' }; }), /net\/ipv4\/no_such_key.*no such file or directory/);
  });
});
