// runc's flags: --pidfd-socket (create, run, exec), run --no-subreaper, exec --cgroup.
import * as fs from 'fs';
import * as path from 'path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadNative } from '../../src/native';
import { Ctx, baseConfig, bundle, cleanupContext, context, rt, stateOf } from '../helpers';

let c: Ctx;
let seq = 0;
const TOP = `runts-flags-${process.pid}`;
beforeAll(() => { c = context('flags'); });
afterAll(() => cleanupContext(c));
const newId = () => `fl${process.pid}-${++seq}`;

/** Listen on a socket, run `fn` (runts connects and sends meanwhile), then take the one pidfd that came. */
function receivePidfd(fn: (sock: string) => void): { fd: number; data: string } {
  const native = loadNative();
  const sock = path.join(c.work, `pidfd-${++seq}.sock`);
  const listen = native.unixListen(sock, 1);
  try {
    fn(sock);
    const conn = native.unixAccept(listen);
    try {
      const { fd, data } = native.recvFd(conn);
      return { fd, data: data.toString() };
    } finally {
      fs.closeSync(conn);
    }
  } finally {
    fs.closeSync(listen);
  }
}

/** The pid a pidfd refers to (fdinfo's Pid:). */
const pidOf = (fd: number) => Number(/^Pid:\s*(-?\d+)$/m.exec(fs.readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8'))?.[1]);

describe('--pidfd-socket', () => {
  it('create sends a pidfd of the init ("standard"); it can signal the container', () => {
    const id = newId();
    const b = bundle(c, baseConfig(['sleep', '30']));
    const got = receivePidfd((sock) => {
      const r = rt(c, ['create', '--pidfd-socket', sock, '--bundle', b, id]);
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
    });
    try {
      expect(got.data).toBe('standard');
      expect(fs.readlinkSync(`/proc/self/fd/${got.fd}`)).toBe('anon_inode:[pidfd]');
      expect(pidOf(got.fd)).toBe(stateOf(c, id).pid);
      expect(rt(c, ['start', id]).status).toBe(0);
      loadNative().pidfdSendSignal(got.fd, 9);
      expect(loadNative().pollPidfdExited(got.fd, 5000)).toBe(true);
    } finally {
      fs.closeSync(got.fd);
      rt(c, ['delete', '--force', id]);
    }
  });

  it('run -d and exec -d send pidfds of the init and of the exec\'d process ("setns")', () => {
    const id = newId();
    const b = bundle(c, baseConfig(['sleep', '30']));
    const init = receivePidfd((sock) => expect(rt(c, ['run', '-d', '--pidfd-socket', sock, '--bundle', b, id]).status).toBe(0));
    try {
      expect(init.data).toBe('standard');
      expect(pidOf(init.fd)).toBe(stateOf(c, id).pid);
      const pidFile = path.join(c.work, `exec-${id}.pid`);
      const ex = receivePidfd((sock) => {
        const r = rt(c, ['exec', '-d', '--pid-file', pidFile, '--pidfd-socket', sock, id, 'sleep', '20']);
        expect(r.stderr).toBe('');
        expect(r.status).toBe(0);
      });
      expect(ex.data).toBe('setns');
      expect(pidOf(ex.fd)).toBe(Number(fs.readFileSync(pidFile, 'utf8')));
      fs.closeSync(ex.fd);
    } finally {
      fs.closeSync(init.fd);
      rt(c, ['delete', '--force', id]);
    }
  });

  it('a socket nobody listens on fails the command naming the flag, leaving nothing', () => {
    const id = newId();
    const r = rt(c, ['run', '--pidfd-socket', path.join(c.work, 'nobody.sock'), '--bundle', bundle(c, baseConfig(['true'])), id]);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/^runts: --pidfd-socket \S+nobody\.sock: connect: no such file or directory\n$/);
    expect(fs.existsSync(path.join(c.root, id))).toBe(false);
  });
});

describe('run --no-subreaper', () => {
  // without a pid namespace, what the container orphans is reparented to the nearest subreaper: runts by default
  const script = '( sleep 20 & echo $! > /tmp/p ); sleep 0.3; grep PPid /proc/$(cat /tmp/p)/status; kill $(cat /tmp/p)';
  const cfg = () => {
    const cfg = baseConfig(['sh', '-c', script]);
    cfg.linux.namespaces = cfg.linux.namespaces.filter((n: any) => n.type !== 'pid');
    return cfg;
  };
  it('by default runts adopts the orphans of the container', () => {
    const r = rt(c, ['run', '--bundle', bundle(c, cfg()), newId()]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe(`PPid:\t${r.pid}`);
  });
  it('with --no-subreaper it waits for the init only; orphans go elsewhere', () => {
    const r = rt(c, ['run', '--no-subreaper', '--bundle', bundle(c, cfg()), newId()]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^PPid:\t\d+\n$/);
    expect(r.stdout.trim()).not.toBe(`PPid:\t${r.pid}`);
  });
  it('the exit status of the init still comes through', () => {
    const x = baseConfig(['sh', '-c', 'exit 7']);
    expect(rt(c, ['run', '--no-subreaper', '--bundle', bundle(c, x), newId()]).status).toBe(7);
  });
});

describe('exec --cgroup', () => {
  function start() {
    const id = newId();
    const cfg = baseConfig(['sleep', '30']);
    cfg.linux.cgroupsPath = `/${TOP}/${id}`;
    const r = rt(c, ['run', '-d', '--bundle', bundle(c, cfg), id]);
    expect(r.status, r.stderr).toBe(0);
    const st = JSON.parse(fs.readFileSync(path.join(c.root, id, 'state.json'), 'utf8'));
    const dirs: Record<string, string> = { ...st.cgroup.paths, ...(st.cgroup.unified ? { '': st.cgroup.unified } : {}) };
    return { id, dirs, rel: `${TOP}/${id}` };
  }
  /** /proc/self/cgroup of an exec'd process: hierarchy → path */
  function cgroupsOf(r: { stdout: string }): Record<string, string> {
    return Object.fromEntries(r.stdout.trim().split('\n').map((l) => l.split(':')).map(([, k, p]) => [k, p]));
  }

  it('CONTROLLER:PATH puts the process in that sub-cgroup of that hierarchy only', () => {
    const ct = start();
    try {
      const memKey = Object.keys(ct.dirs).find((k) => k.split(',').includes('memory'))!;
      fs.mkdirSync(path.join(ct.dirs[memKey], 'sub'));
      const r = rt(c, ['exec', '--cgroup', 'memory:sub', ct.id, 'cat', '/proc/self/cgroup']);
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      const got = cgroupsOf(r);
      expect(got[memKey]).toBe(`/${ct.rel}/sub`);
      const pidsKey = Object.keys(ct.dirs).find((k) => k.split(',').includes('pids'));
      if (pidsKey) expect(got[pidsKey]).toBe(`/${ct.rel}`);
    } finally {
      rt(c, ['delete', '--force', ct.id]);
    }
  });

  it('PATH alone puts it in that sub-cgroup of every hierarchy (cgroup2 included)', () => {
    const ct = start();
    try {
      for (const [k, d] of Object.entries(ct.dirs)) {
        fs.mkdirSync(path.join(d, 'all'));
        // a new v1 cpuset cgroup has no cpus nor mems until given some (no task may join it before)
        if (k.split(',').includes('cpuset')) {
          for (const f of ['cpuset.cpus', 'cpuset.mems']) fs.writeFileSync(path.join(d, 'all', f), fs.readFileSync(path.join(d, f)));
        }
      }
      const r = rt(c, ['exec', '--cgroup', 'all', ct.id, 'cat', '/proc/self/cgroup']);
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      const got = cgroupsOf(r);
      for (const k of Object.keys(ct.dirs)) expect(got[k], k).toBe(`/${ct.rel}/all`);
    } finally {
      rt(c, ['delete', '--force', ct.id]);
    }
  });

  it('errors name the flag: a missing sub-cgroup, "..", an unknown controller', () => {
    const ct = start();
    try {
      const cases: Array<[string, RegExp]> = [
        ['memory:nosuch', /^runts: --cgroup memory:nosuch: \S+\/nosuch does not exist\n$/],
        ['../x', /^runts: --cgroup \.\.\/x: the path must name a sub-cgroup of the container's, without "\.\."\n$/],
        ['nosuchctl:x', /^runts: --cgroup nosuchctl:x: the container has no cgroup of controller nosuchctl/],
      ];
      for (const [arg, re] of cases) {
        const r = rt(c, ['exec', '--cgroup', arg, ct.id, 'true']);
        expect(r.status, arg).not.toBe(0);
        expect(r.stderr, arg).toMatch(re);
      }
    } finally {
      rt(c, ['delete', '--force', ct.id]);
    }
  });
});
