// Hooks: config.md's POSIX-platform Hooks (order, namespaces, path resolution, stdin, args/env, timeout) and
// runtime.md's Lifecycle (when each hook runs relative to the operations, and what a failing hook does).
//
// Runtime-namespace hooks are the host's /bin/sh with a script; the startContainer hook is a script that only exists
// in the container's rootfs (HOOK_IN_ROOT), so it also shows the path was resolved in the container. Every hook
// appends its name to a log in a host directory (bind-mounted at /hooks) and keeps the state it got on stdin and
// the network namespace it ran in.
import fs from 'node:fs';
import path from 'node:path';
import { HOOK_IN_ROOT, sleep } from '../lib.mjs';

const checks = [];
const check = (id, spec, section, level, desc, run) => checks.push({ id, spec, section, level, desc, run });

function hostHook(H, name, { exit = 0, extra = '', timeout } = {}) {
  const script = `cat > ${H}/${name}.json; readlink /proc/self/ns/net > ${H}/${name}.netns; ${extra}echo ${name} >> ${H}/log; exit ${exit}`;
  const h = { path: '/bin/sh', args: ['sh', '-c', script] };
  if (timeout) h.timeout = timeout;
  return h;
}

function containerHook(name, exit = 0) {
  return { path: HOOK_IN_ROOT, args: ['hook.sh', name, '/hooks', String(exit)] };
}

/** Extra script for a runtime-namespace hook: keep the command line of the container process it was told about. */
const keepCmdline = (H, name) =>
  `pid=$(sed -n 's/.*"pid": *\\([0-9][0-9]*\\).*/\\1/p' ${H}/${name}.json); tr '\\0' ' ' < /proc/$pid/cmdline > ${H}/${name}.cmdline; `;

function readLog(H) {
  try {
    return fs.readFileSync(path.join(H, 'log'), 'utf8').split('\n').filter(Boolean);
  } catch {
    return [];
  }
}

function readText(p) {
  try { return fs.readFileSync(p, 'utf8').trim(); } catch { return undefined; }
}

/** A config whose process records that it ran, with a host dir for the hooks at /hooks; returns { cfg, H }. */
function hookConfig(t, hooks) {
  // `; exit 0` keeps sh itself as the process (no exec of sleep), so a poststart hook sees the user program
  const cfg = t.config(['sh', '-c', 'echo process >> /hooks/log; sleep 300; exit 0']);
  const H = t.share(cfg, '/hooks');
  cfg.hooks = typeof hooks === 'function' ? hooks(H) : hooks;
  return { cfg, H };
}

function allHooks(H) {
  return {
    prestart: [hostHook(H, 'prestart')],
    createRuntime: [hostHook(H, 'createRuntime')],
    createContainer: [hostHook(H, 'createContainer')],
    startContainer: [containerHook('startContainer')],
    poststart: [hostHook(H, 'poststart', { extra: keepCmdline(H, 'poststart') })],
    poststop: [hostHook(H, 'poststop')],
  };
}

/** The whole lifecycle with every hook, with the log taken after each operation returns. */
async function lifecycle(t) {
  const { cfg, H } = hookConfig(t, allHooks);
  const c = t.create(cfg);
  const afterCreate = readLog(H);
  const { pid } = t.state(c.id);
  const containerNet = fs.readlinkSync(`/proc/${pid}/ns/net`);
  t.start(c.id);
  const afterStart = readLog(H);
  const end = Date.now() + 3000;
  while (!readLog(H).includes('process') && Date.now() < end) await sleep(15);
  const kill = t.rt(['kill', c.id, 'KILL']);
  if (kill.status !== 0) t.fail(`kill failed: ${kill.reason}`);
  await t.waitStatus(c.id, 'stopped');
  const beforeDelete = readLog(H);
  const del = t.rt(['delete', c.id]);
  if (del.status !== 0) t.fail(`delete failed: ${del.reason}`);
  const afterDelete = readLog(H);
  return { H, id: c.id, bundle: c.bundle, pid, containerNet, afterCreate, afterStart, beforeDelete, afterDelete };
}

// ---------------------------------------------------------------------------------------------------------------

check('hooks.create-order', 'config.md', 'POSIX-platform Hooks', 'MUST',
  'prestart, createRuntime and createContainer hooks all run during create, in that order, and no other hook does',
  async (t) => {
    const l = await lifecycle(t);
    t.eq(l.afterCreate, ['prestart', 'createRuntime', 'createContainer'], 'hooks run by create');
  });

check('hooks.startContainer', 'config.md', 'StartContainer Hooks', 'MUST',
  'startContainer hooks run during start, before the user program, from a path resolved in the container',
  async (t) => {
    const l = await lifecycle(t);
    t.ok(!l.afterCreate.includes('startContainer'), 'the startContainer hook ran during create');
    const i = l.afterDelete.indexOf('startContainer');
    t.ok(i >= 0, `the startContainer hook did not run (log: ${l.afterDelete.join(', ')})`);
    const p = l.afterDelete.indexOf('process');
    t.ok(p < 0 || i < p, `the user program ran before the startContainer hook (log: ${l.afterDelete.join(', ')})`);
    t.ok(p >= 0, 'the user program did not run');
  });

check('hooks.poststart', 'config.md', 'Poststart', 'MUST',
  'poststart hooks run after the user program has been executed and before start returns',
  async (t) => {
    const l = await lifecycle(t);
    t.ok(!l.afterCreate.includes('poststart'), 'the poststart hook ran during create');
    t.ok(l.afterStart.includes('poststart'), `the poststart hook had not run when start returned (log: ${l.afterStart.join(', ')})`);
    const cl = readText(path.join(l.H, 'poststart.cmdline')) ?? '';
    t.ok(cl.split(' ')[0] === 'sh', `when the poststart hook ran, the container process was ${JSON.stringify(cl)}, not the user program (sh)`);
  });

check('hooks.poststop', 'config.md', 'Poststop', 'MUST',
  'poststop hooks run after the container is deleted, before delete returns, and not earlier',
  async (t) => {
    const l = await lifecycle(t);
    t.ok(!l.beforeDelete.includes('poststop'), `the poststop hook ran before delete (log: ${l.beforeDelete.join(', ')})`);
    t.eq(l.afterDelete[l.afterDelete.length - 1], 'poststop', 'last hook when delete returned');
  });

check('hooks.state-stdin', 'config.md', 'POSIX-platform Hooks', 'MUST',
  'every hook gets the container state as JSON on stdin (ociVersion, id, status, bundle; pid while the process exists)',
  async (t) => {
    const l = await lifecycle(t);
    const bundle = fs.realpathSync(l.bundle);
    for (const name of ['prestart', 'createRuntime', 'createContainer', 'startContainer', 'poststart', 'poststop']) {
      const raw = readText(path.join(l.H, `${name}.json`));
      if (raw === undefined) t.fail(`the ${name} hook did not run`);
      let s;
      try { s = JSON.parse(raw); } catch { t.fail(`${name} hook stdin is not JSON: ${JSON.stringify(raw.slice(0, 60))}`); }
      t.ok(typeof s.ociVersion === 'string', `${name}: no ociVersion`);
      t.eq(s.id, l.id, `${name}: id`);
      t.ok(typeof s.status === 'string', `${name}: no status`);
      t.eq(s.bundle, bundle, `${name}: bundle`);
      if (name !== 'poststop') t.ok(Number.isInteger(s.pid) && s.pid > 0, `${name}: pid is ${JSON.stringify(s.pid)}`);
    }
  });

check('hooks.namespaces', 'config.md', 'POSIX-platform Hooks', 'MUST',
  'prestart, createRuntime, poststart and poststop hooks run in the runtime namespace; createContainer and startContainer in the container\'s',
  async (t) => {
    const l = await lifecycle(t);
    const bad = [];
    for (const [name, want, what] of [
      ['prestart', t.suite.hostNs.net, 'runtime'], ['createRuntime', t.suite.hostNs.net, 'runtime'],
      ['poststart', t.suite.hostNs.net, 'runtime'], ['poststop', t.suite.hostNs.net, 'runtime'],
      ['createContainer', l.containerNet, 'container'], ['startContainer', l.containerNet, 'container'],
    ]) {
      const got = readText(path.join(l.H, `${name}.netns`));
      if (got !== want) bad.push(`${name} ran in ${got ?? '(did not run)'}, not the ${what} network namespace ${want}`);
    }
    t.ok(!bad.length, bad.join('; '));
  });

check('hooks.args-env', 'config.md', 'POSIX-platform Hooks', 'MUST',
  'a hook runs with exactly its args (args[0] as argv[0]) and env, not the runtime\'s environment',
  async (t) => {
    const { cfg, H } = hookConfig(t, (h) => ({
      createRuntime: [{
        path: '/bin/sh',
        args: ['sh', '-c', `echo "$0|$1|$CF_HOOK|\${CONFORMANCE_LEAK-unset}" > ${h}/args`, 'zero', 'one'],
        env: ['CF_HOOK=yes', 'PATH=/usr/bin:/bin'],
      }],
    }));
    t.create(cfg);
    t.eq(readText(path.join(H, 'args')), 'zero|one|yes|unset', 'argv[0]|argv[1]|CF_HOOK|CONFORMANCE_LEAK seen by the hook');
  });

check('hooks.timeout', 'config.md', 'POSIX-platform Hooks', 'MUST',
  'a hook that outlives its timeout is aborted and create fails (well before the hook would have ended)',
  async (t) => {
    const { cfg } = hookConfig(t, { createRuntime: [{ path: '/bin/sh', args: ['sh', '-c', 'exec sleep 30'], timeout: 1 }] });
    const id = t.id();
    const r = t.rt(['create', '--bundle', t.bundle(cfg), id], { timeout: 25000 });
    t.ok(r.status !== 0, `create succeeded although its createRuntime hook timed out (after ${r.ms} ms)`);
    t.ok(r.ms < 10000, `create took ${r.ms} ms with a 1 s hook timeout`);
  });

// ---------------------------------------------------------------------------------------------------------------
// Failing hooks (runtime.md Lifecycle)

for (const [name, step] of [['prestart', 3], ['createRuntime', 4], ['createContainer', 5]]) {
  check(`hooks.${name}-fails`, 'runtime.md', 'Lifecycle', 'MUST',
    `a failing ${name} hook makes create fail; the container is destroyed and the user program never runs (step ${step})`,
    async (t) => {
      const { cfg, H } = hookConfig(t, (h) => ({ [name]: [hostHook(h, name, { exit: 1 })] }));
      const id = t.id();
      const r = t.rt(['create', '--bundle', t.bundle(cfg), id]);
      t.ok(r.status !== 0, `create succeeded although the ${name} hook exited 1`);
      t.ok(readLog(H).includes(name), `the ${name} hook did not run`);
      const s = t.stateMaybe(id);
      t.ok(s.error, `the container still exists after the failed create (status ${s.state?.status})`);
      await sleep(200);
      t.ok(!readLog(H).includes('process'), 'the user program ran');
    });
}

check('hooks.failure-runs-poststop', 'runtime.md', 'Lifecycle', 'MUST',
  'when a createRuntime hook fails, the lifecycle goes on to destroy the container and run the poststop hooks',
  async (t) => {
    const { cfg, H } = hookConfig(t, (h) => ({ createRuntime: [hostHook(h, 'createRuntime', { exit: 1 })], poststop: [hostHook(h, 'poststop')] }));
    const r = t.rt(['create', '--bundle', t.bundle(cfg), t.id()]);
    t.ok(r.status !== 0, 'create succeeded although the createRuntime hook exited 1');
    t.ok(readLog(H).includes('poststop'), `the poststop hook did not run (log: ${readLog(H).join(', ')})`);
  });

check('hooks.startContainer-fails', 'runtime.md', 'Lifecycle', 'MUST',
  'a failing startContainer hook makes start fail, the user program never runs and the container does not keep running',
  async (t) => {
    const { cfg, H } = hookConfig(t, { startContainer: [containerHook('startContainer', 1)] });
    const c = t.create(cfg);
    const r = t.rt(['start', c.id]);
    t.ok(r.status !== 0, 'start succeeded although the startContainer hook exited 1');
    t.ok(readLog(H).includes('startContainer'), 'the startContainer hook did not run');
    await sleep(200);
    t.ok(!readLog(H).includes('process'), 'the user program ran');
    const s = t.stateMaybe(c.id);
    t.ok(s.error || s.state.status === 'stopped', `status after the failed start is ${s.state?.status}`);
  });

check('hooks.poststart-fails', 'runtime.md', 'Lifecycle', 'MUST',
  'a failing poststart hook is only a warning: the next poststart hook runs, start succeeds and the container keeps running',
  async (t) => {
    const { cfg, H } = hookConfig(t, (h) => ({ poststart: [hostHook(h, 'poststart-a', { exit: 1 }), hostHook(h, 'poststart-b')] }));
    const c = t.create(cfg);
    const r = t.rt(['start', c.id]);
    t.ok(readLog(H).includes('poststart-b'), `the second poststart hook did not run (log: ${readLog(H).join(', ')})`);
    t.ok(r.status === 0, `start failed: ${r.reason}`);
    t.eq(t.state(c.id).status, 'running', 'status');
  });

check('hooks.poststop-fails', 'runtime.md', 'Lifecycle', 'MUST',
  'a failing poststop hook is only a warning: the next poststop hook runs and delete succeeds',
  async (t) => {
    const { cfg, H } = hookConfig(t, (h) => ({ poststop: [hostHook(h, 'poststop-a', { exit: 1 }), hostHook(h, 'poststop-b')] }));
    cfg.process.args = ['true'];
    const c = t.create(cfg);
    t.start(c.id);
    await t.waitStatus(c.id, 'stopped');
    const r = t.rt(['delete', c.id]);
    t.ok(readLog(H).includes('poststop-b'), `the second poststop hook did not run (log: ${readLog(H).join(', ')})`);
    t.ok(r.status === 0, `delete failed: ${r.reason}`);
    t.ok(t.stateMaybe(c.id).error, 'the container still exists after delete');
  });

export default checks;
