// Hooks: order, the namespaces they run in, the state on their stdin, and failure semantics (runtime.md).
import * as fs from 'fs';
import * as path from 'path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Ctx, baseConfig, bundle, cleanupContext, context, mountsSnapshot, rootfs, rt, stateOf, cid } from '../helpers';

let c: Ctx;
let logDir: string;
let hook: string;
beforeAll(() => {
  c = context('hooks');
  logDir = path.join(c.work, 'log');
  fs.mkdirSync(logDir);
  // a host hook: one line per call with its name, the status and pid from the state on stdin, and its mount ns
  hook = path.join(c.work, 'hook.sh');
  fs.writeFileSync(hook, `#!/bin/sh
state=$(cat)
echo "$1 $HOOK_ENV $(readlink /proc/self/ns/mnt) $state" >> "$2"
exit \${3:-0}
`, { mode: 0o755 });
});
afterAll(() => cleanupContext(c));

function lines(file: string) {
  if (!fs.existsSync(file)) return [];
  return fs.readFileSync(file, 'utf8').trim().split('\n').filter(Boolean).map((l) => {
    const [name, env, mnt, ...rest] = l.split(' ');
    return { name, env, mnt, state: JSON.parse(rest.join(' ')) };
  });
}

function hookCfg(log: string, extra: (cfg: any) => void = () => undefined) {
  const cfg = baseConfig(['sleep', '30']);
  const h = (name: string, code = 0) => ({ path: hook, args: ['hook.sh', name, log, String(code)], env: [`HOOK_ENV=${name}-env`] });
  cfg.hooks = {
    prestart: [h('prestart')],
    createRuntime: [h('createRuntime')],
    createContainer: [h('createContainer')],
    poststart: [h('poststart')],
    poststop: [h('poststop')],
  };
  extra(cfg);
  return cfg;
}

describe('hooks', () => {
  it('run in the order and namespaces the spec names, with the state on stdin', () => {
    const log = path.join(logDir, 'order');
    const cfg = hookCfg(log, (cfg) => {
      // startContainer resolves and runs inside the container: a busybox script writing to a bind mount
      cfg.mounts.push({ destination: '/hooklog', type: 'bind', source: logDir, options: ['rbind', 'rw'] });
      cfg.hooks.startContainer = [{ path: '/bin/sh', args: ['sh', '-c', 'echo "startContainer x $(readlink /proc/self/ns/mnt) $(cat)" >> /hooklog/order'] }];
    });
    const b = bundle(c, cfg);
    expect(rt(c, ['create', '--bundle', b, cid('h1')]).status).toBe(0);
    const pid = stateOf(c, cid('h1')).pid;
    const hostMnt = fs.readlinkSync('/proc/self/ns/mnt');
    const ctrMnt = fs.readlinkSync(`/proc/${pid}/ns/mnt`);
    expect(ctrMnt).not.toBe(hostMnt);

    let l = lines(log);
    expect(l.map((x) => x.name)).toEqual(['prestart', 'createRuntime', 'createContainer']);
    expect(l[0].env).toBe('prestart-env');
    // prestart and createRuntime in the runtime's namespace, createContainer in the container's
    expect(l[0].mnt).toBe(hostMnt);
    expect(l[1].mnt).toBe(hostMnt);
    expect(l[2].mnt).toBe(ctrMnt);
    for (const x of l) {
      expect(x.state).toMatchObject({ ociVersion: '1.3.0', id: cid('h1'), pid, bundle: b });
      expect(x.state.status).toBe('creating');
    }

    expect(rt(c, ['start', cid('h1')]).status).toBe(0);
    l = lines(log);
    expect(l.map((x) => x.name)).toEqual(['prestart', 'createRuntime', 'createContainer', 'startContainer', 'poststart']);
    expect(l[3].mnt).toBe(ctrMnt);
    expect(l[3].state).toMatchObject({ id: cid('h1'), pid, status: 'created' });
    expect(l[4].mnt).toBe(hostMnt);
    expect(l[4].state).toMatchObject({ id: cid('h1'), pid, status: 'running' });

    expect(rt(c, ['kill', cid('h1'), 'KILL']).status).toBe(0);
    expect(rt(c, ['delete', '--force', cid('h1')]).status).toBe(0);
    l = lines(log);
    expect(l.map((x) => x.name).at(-1)).toBe('poststop');
    expect(l.at(-1)!.state).toMatchObject({ id: cid('h1'), status: 'stopped' });
  });

  it('a failing prestart hook fails create and leaves nothing behind', () => {
    const log = path.join(logDir, 'fail-prestart');
    const cfg = hookCfg(log, (cfg) => {
      cfg.hooks.prestart = [{ path: hook, args: ['hook.sh', 'prestart', log, '3'] }];
    });
    const ours = () => mountsSnapshot([c.work, rootfs()]); // others' tests may mount elsewhere meanwhile
    const before = ours();
    const r = rt(c, ['create', '--bundle', bundle(c, cfg), cid('h2')]);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/prestart hook #0: exit status 3/);
    expect(fs.existsSync(path.join(c.root, cid('h2')))).toBe(false);
    expect(ours()).toBe(before);
    // createRuntime never ran; the lifecycle went on with destroy and poststop (runtime.md § Lifecycle)
    const ran = lines(log);
    expect(ran.map((x) => x.name)).toEqual(['prestart', 'poststop']);
    expect(ran[1].state).toMatchObject({ id: cid('h2'), status: 'stopped' });
  });

  it('a failing createContainer hook fails create', () => {
    const log = path.join(logDir, 'fail-cc');
    const cfg = hookCfg(log, (cfg) => {
      cfg.hooks.createContainer = [{ path: hook, args: ['hook.sh', 'createContainer', log, '4'] }];
    });
    const r = rt(c, ['create', '--bundle', bundle(c, cfg), cid('h3')]);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/createContainer hook #0: exit status 4/);
    expect(fs.existsSync(path.join(c.root, cid('h3')))).toBe(false);
  });

  it('createContainer hooks run with the container\'s root as their working directory (relative paths land inside)', () => {
    // a host shell writing to a relative path: tmp/ is the container's /tmp (a tmpfs of its mount namespace)
    const cfg = baseConfig(['sh', '-c', 'cat /tmp/hook-cwd; readlink /proc/self/ns/mnt']);
    cfg.hooks = { createContainer: [{ path: '/bin/sh', args: ['sh', '-c', 'pwd -P > tmp/hook-cwd && readlink /proc/self/ns/mnt >> tmp/hook-cwd'] }] };
    const b = bundle(c, cfg);
    // started from the bundle: a hook left in runts' own working directory would write (and fail) there
    const r = rt(c, ['run', '--bundle', b, cid('h8')], { cwd: b });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const [cwd, hookMnt, ctrMnt] = r.stdout.trim().split('\n');
    expect(cwd).toBe(fs.realpathSync(cfg.root.path));
    expect(hookMnt).toBe(ctrMnt);
    expect(fs.existsSync(path.join(b, 'tmp'))).toBe(false);
  });

  it('a hook that outlives its timeout is killed and fails create', () => {
    const cfg = baseConfig(['true']);
    cfg.hooks = { createRuntime: [{ path: '/bin/sleep', args: ['sleep', '20'], timeout: 1 }] };
    const t0 = Date.now();
    const r = rt(c, ['create', '--bundle', bundle(c, cfg), cid('h4')]);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/createRuntime hook #0: timed out after 1s/);
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect(fs.existsSync(path.join(c.root, cid('h4')))).toBe(false);
  });

  it('a missing hook binary is named in the error', () => {
    const cfg = baseConfig(['true']);
    cfg.hooks = { prestart: [{ path: '/nonexistent/hook' }] };
    const r = rt(c, ['create', '--bundle', bundle(c, cfg), cid('h5')]);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/\/nonexistent\/hook: no such file or directory/);
  });

  it('a failing startContainer hook fails start and stops the container', () => {
    const cfg = baseConfig(['sleep', '30']);
    cfg.hooks = { startContainer: [{ path: '/bin/sh', args: ['sh', '-c', 'exit 5'] }] };
    expect(rt(c, ['create', '--bundle', bundle(c, cfg), cid('h6')]).status).toBe(0);
    const r = rt(c, ['start', cid('h6')]);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/startContainer hook #0: exit status 5/);
    expect(stateOf(c, cid('h6')).status).toBe('stopped');
    expect(rt(c, ['delete', cid('h6')]).status).toBe(0);
  });

  it('failing poststart and poststop hooks only warn', () => {
    const log = path.join(logDir, 'warn');
    const cfg = baseConfig(['sleep', '30']);
    cfg.hooks = {
      poststart: [{ path: hook, args: ['hook.sh', 'poststart', log, '1'] }, { path: hook, args: ['hook.sh', 'poststart2', log] }],
      poststop: [{ path: hook, args: ['hook.sh', 'poststop', log, '1'] }, { path: hook, args: ['hook.sh', 'poststop2', log] }],
    };
    expect(rt(c, ['create', '--bundle', bundle(c, cfg), cid('h7')]).status).toBe(0);
    const s = rt(c, ['start', cid('h7')]);
    expect(s.status).toBe(0);
    expect(s.stderr).toMatch(/poststart hook #0: exit status 1/);
    expect(stateOf(c, cid('h7')).status).toBe('running');
    const d = rt(c, ['delete', '--force', cid('h7')]);
    expect(d.status).toBe(0);
    expect(d.stderr).toMatch(/poststop hook #0: exit status 1/);
    expect(lines(log).map((x) => x.name)).toEqual(['poststart', 'poststart2', 'poststop', 'poststop2']);
    expect(fs.existsSync(path.join(c.root, cid('h7')))).toBe(false);
  });
});
