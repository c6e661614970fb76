// runtime.md: the state, the operations (create/start/kill/delete, their errors), and the lifecycle.
// Hooks (their order, namespaces, stdin and failures) are in config.mjs with the rest of config.md's hooks section.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { cgroupDirsFor, parseMountinfo, sleep } from '../lib.mjs';

const SPEC = 'runtime.md';
const checks = [];
const check = (id, section, level, desc, run) => checks.push({ id, spec: SPEC, section, level, desc, run });

/** A container that stays up: sleeps (as pid 1 it ignores signals it has no handler for). */
const SLEEPER = ['sleep', '300'];

/** Mount points under `dir` in the runner's mount namespace (a failed create must leave none behind). */
function mountsUnder(dir) {
  return parseMountinfo(fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n'))
    .map((m) => m.mountPoint)
    .filter((p) => p === dir || p.startsWith(`${dir}/`));
}

function cmdline(pid) {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
  } catch {
    return undefined;
  }
}

function alive(pid) {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// State and Query State

check('state.created', 'State', 'MUST',
  'after create, state reports ociVersion, the id, status "created", the host pid of a live process and the absolute bundle path',
  async (t) => {
    const c = t.create(t.config(SLEEPER));
    const s = t.state(c.id);
    t.ok(typeof s.ociVersion === 'string' && s.ociVersion.length > 0, `ociVersion is ${JSON.stringify(s.ociVersion)}`);
    t.eq(s.id, c.id, 'id');
    t.eq(s.status, 'created', 'status');
    t.ok(Number.isInteger(s.pid) && s.pid > 0, `pid is ${JSON.stringify(s.pid)}`);
    t.ok(alive(s.pid), `pid ${s.pid} is not a live process on the host`);
    t.eq(s.bundle, fs.realpathSync(c.bundle), 'bundle');
  });

check('state.bundle-absolute', 'State', 'MUST',
  'the bundle in the state is an absolute path even when create was given a relative one',
  async (t) => {
    const b = t.bundle(t.config(SLEEPER));
    const id = t.id();
    const r = t.rt(['create', '--bundle', path.basename(b), id], { cwd: path.dirname(b) });
    if (r.status !== 0) t.fail(`create with a relative --bundle failed: ${r.reason}`);
    const s = t.state(id);
    t.ok(path.isAbsolute(s.bundle ?? ''), `bundle is ${JSON.stringify(s.bundle)}`);
    t.eq(s.bundle, fs.realpathSync(b), 'bundle');
  });

check('state.annotations', 'State', 'MUST',
  'the annotations of config.json are reported in the state',
  async (t) => {
    const cfg = t.config(SLEEPER);
    cfg.annotations = { 'org.example.conformance': 'yes', 'org.example.empty': '' };
    const c = t.create(cfg);
    t.eq(t.state(c.id).annotations, cfg.annotations, 'annotations');
  });

check('state.running', 'State', 'MUST',
  'after start, status is "running" and pid is the same process, now running the user program',
  async (t) => {
    const c = t.create(t.config(SLEEPER));
    const before = t.state(c.id);
    t.start(c.id);
    const s = t.state(c.id);
    t.eq(s.status, 'running', 'status');
    t.eq(s.pid, before.pid, 'pid after start');
    const cl = cmdline(s.pid);
    t.eq(cl, SLEEPER, `command line of pid ${s.pid}`);
  });

check('state.stopped', 'State', 'MUST',
  'once the container process has exited, status is "stopped"',
  async (t) => {
    const c = t.create(t.config(['true']));
    t.start(c.id);
    await t.waitStatus(c.id, 'stopped', 5000);
  });

check('state.nonexistent', 'Query State', 'MUST',
  'querying a container that does not exist is an error',
  async (t) => {
    const r = t.rt(['state', t.id('none')]);
    t.ok(r.status !== 0, 'state of an unknown id succeeded');
  });

check('state.no-id', 'Query State', 'MUST',
  'querying without a container id is an error',
  async (t) => {
    const r = t.rt(['state']);
    t.ok(r.status !== 0, '`state` without an id succeeded');
  });

// ---------------------------------------------------------------------------------------------------------------
// Create

check('create.no-id', 'Create', 'MUST',
  'create without a container id is an error and creates nothing',
  async (t) => {
    const b = t.bundle(t.config(SLEEPER));
    const r = t.rt(['create', '--bundle', b]);
    t.ok(r.status !== 0, '`create` without an id succeeded');
    const made = fs.readdirSync(t.root).filter((e) => fs.statSync(path.join(t.root, e)).isDirectory());
    t.ok(!made.length, `the failed create left container state behind: ${made.join(', ')}`);
  });

check('create.missing-bundle', 'Lifecycle', 'MUST',
  'create with a bundle path that does not exist is an error and no container exists afterwards',
  async (t) => {
    const id = t.id();
    const r = t.rt(['create', '--bundle', path.join(t.dir, 'no-such-bundle'), id]);
    t.ok(r.status !== 0, 'create with a missing bundle succeeded');
    t.ok(t.stateMaybe(id).error, 'a container exists after the failed create');
  });

check('create.missing-config', 'Lifecycle', 'MUST',
  'create with a bundle that has no config.json is an error and no container exists afterwards',
  async (t) => {
    const b = t.mkdir('bundle');
    const id = t.id();
    const r = t.rt(['create', '--bundle', b, id]);
    t.ok(r.status !== 0, 'create without config.json succeeded');
    t.ok(t.stateMaybe(id).error, 'a container exists after the failed create');
  });

check('create.duplicate-id', 'Create', 'MUST',
  'create with the id of an existing container is an error and leaves that container as it was',
  async (t) => {
    const c = t.create(t.config(SLEEPER));
    const before = t.state(c.id);
    const r = t.rt(['create', '--bundle', t.bundle(t.config(['true'])), c.id]);
    t.ok(r.status !== 0, 'a second create with the same id succeeded');
    const after = t.state(c.id);
    t.eq(after.status, 'created', 'status of the first container');
    t.eq(after.pid, before.pid, 'pid of the first container');
    t.eq(after.bundle, before.bundle, 'bundle of the first container');
  });

check('create.no-user-code', 'Lifecycle', 'MUST',
  'create does not run the user program; start does',
  async (t) => {
    const cfg = t.config(['sh', '-c', 'echo ran >> /shared/ran; exec sleep 300']);
    const shared = t.share(cfg);
    const c = t.create(cfg);
    await sleep(300);
    t.ok(!fs.existsSync(path.join(shared, 'ran')), 'the user program ran during create');
    t.start(c.id);
    t.ok(await t.waitFile(path.join(shared, 'ran')), 'the user program did not run after start');
  });

check('create.applies-config', 'Create', 'MUST',
  'create applies the configuration before start: the container\'s namespaces and hostname exist while it is "created"',
  async (t) => {
    const cfg = t.config(SLEEPER);
    cfg.hostname = 'created-host';
    const c = t.create(cfg);
    const { pid } = t.state(c.id);
    const net = fs.readlinkSync(`/proc/${pid}/ns/net`);
    t.ok(net !== t.suite.hostNs.net, 'the created container is still in the host network namespace');
    const r = spawnSync('nsenter', [`--uts=/proc/${pid}/ns/uts`, 'hostname'], { encoding: 'utf8' });
    t.eq(r.stdout.trim(), 'created-host', 'hostname in the created container\'s UTS namespace');
  });

check('create.config-change-ignored', 'Lifecycle', 'MUST',
  'changing config.json after create does not affect the container',
  async (t) => {
    const cfg = t.config(['sh', '-c', 'echo original > /shared/which']);
    const shared = t.share(cfg);
    const c = t.create(cfg);
    const changed = JSON.parse(JSON.stringify(cfg));
    changed.process.args = ['sh', '-c', 'echo changed > /shared/which'];
    fs.writeFileSync(path.join(c.bundle, 'config.json'), JSON.stringify(changed));
    t.start(c.id);
    await t.waitStatus(c.id, 'stopped');
    let which = '';
    try { which = fs.readFileSync(path.join(shared, 'which'), 'utf8').trim(); } catch { /* none */ }
    t.eq(which, 'original', 'program that ran');
  });

check('create.failure-no-effect', 'Errors', 'MUST',
  'a create that fails (a bind mount whose source is missing) leaves no container and no mount behind, and the id stays usable',
  async (t) => {
    const cfg = t.config(SLEEPER);
    cfg.mounts.push({ destination: '/data', type: 'bind', source: path.join(t.dir, 'missing-source'), options: ['rbind'] });
    const before = mountsUnder(t.dir);
    const id = t.id();
    const r = t.rt(['create', '--bundle', t.bundle(cfg), id]);
    t.ok(r.status !== 0, 'create with a missing bind source succeeded');
    t.ok(t.stateMaybe(id).error, 'state still reports the container after the failed create');
    t.eq(mountsUnder(t.dir), before, 'host mounts under the check directory');
    t.create(t.config(SLEEPER), { id });
  });

// ---------------------------------------------------------------------------------------------------------------
// Start

check('start.nonexistent', 'Start', 'MUST',
  'starting a container that does not exist is an error',
  async (t) => {
    t.ok(t.rt(['start', t.id('none')]).status !== 0, 'start of an unknown id succeeded');
  });

check('start.no-id', 'Start', 'MUST',
  'start without a container id is an error',
  async (t) => {
    t.ok(t.rt(['start']).status !== 0, '`start` without an id succeeded');
  });

check('start.running', 'Start', 'MUST',
  'starting a running container is an error and has no effect: the program does not run twice, pid and status are unchanged',
  async (t) => {
    const cfg = t.config(['sh', '-c', 'echo ran >> /shared/ran; exec sleep 300']);
    const shared = t.share(cfg);
    const c = t.create(cfg);
    t.start(c.id);
    t.ok(await t.waitFile(path.join(shared, 'ran')), 'the program did not run after start');
    const before = t.state(c.id);
    const r = t.rt(['start', c.id]);
    t.ok(r.status !== 0, 'a second start succeeded');
    await sleep(200);
    const after = t.state(c.id);
    t.eq(after.status, 'running', 'status after the second start');
    t.eq(after.pid, before.pid, 'pid after the second start');
    t.eq(fs.readFileSync(path.join(shared, 'ran'), 'utf8'), 'ran\n', 'runs of the program');
  });

check('start.stopped', 'Start', 'MUST',
  'starting a stopped container is an error and it stays stopped',
  async (t) => {
    const c = t.create(t.config(['true']));
    t.start(c.id);
    await t.waitStatus(c.id, 'stopped');
    t.ok(t.rt(['start', c.id]).status !== 0, 'start of a stopped container succeeded');
    t.eq(t.state(c.id).status, 'stopped', 'status');
  });

check('start.no-process', 'Start', 'MUST',
  'a container whose config has no process cannot be started: create or start is an error',
  async (t) => {
    const cfg = t.config();
    delete cfg.process;
    const id = t.id();
    const r = t.rt(['create', '--bundle', t.bundle(cfg), id]);
    if (r.status !== 0) return; // refused at create: an error, and nothing was created
    t.ok(t.rt(['start', id]).status !== 0, 'start of a container without process succeeded');
  });

// ---------------------------------------------------------------------------------------------------------------
// Kill

check('kill.running', 'Kill', 'MUST',
  'kill delivers the given signal to the container process',
  async (t) => {
    const cfg = t.config(['sh', '-c', 'trap "echo USR1 > /shared/got; exit 0" USR1; touch /shared/ready; while :; do sleep 0.05; done']);
    const shared = t.share(cfg);
    const c = t.create(cfg);
    t.start(c.id);
    t.ok(await t.waitFile(path.join(shared, 'ready')), 'the container program did not start');
    const r = t.rt(['kill', c.id, 'USR1']);
    t.ok(r.status === 0, `kill USR1 failed: ${r.reason}`);
    t.ok(await t.waitFile(path.join(shared, 'got')), 'the process did not receive SIGUSR1');
  });

check('kill.created', 'Kill', 'MUST',
  'kill of a created (not yet started) container is allowed and delivers the signal',
  async (t) => {
    const c = t.create(t.config(SLEEPER));
    const r = t.rt(['kill', c.id, 'KILL']);
    t.ok(r.status === 0, `kill KILL of a created container failed: ${r.reason}`);
    await t.waitStatus(c.id, 'stopped', 5000);
  });

check('kill.stopped', 'Kill', 'MUST',
  'kill of a stopped container is an error and it stays stopped',
  async (t) => {
    const c = t.create(t.config(['true']));
    t.start(c.id);
    await t.waitStatus(c.id, 'stopped');
    t.ok(t.rt(['kill', c.id, 'KILL']).status !== 0, 'kill of a stopped container succeeded');
    t.eq(t.state(c.id).status, 'stopped', 'status');
  });

check('kill.nonexistent', 'Kill', 'MUST',
  'kill of a container that does not exist is an error',
  async (t) => {
    t.ok(t.rt(['kill', t.id('none'), 'KILL']).status !== 0, 'kill of an unknown id succeeded');
  });

check('kill.no-id', 'Kill', 'MUST',
  'kill without a container id is an error',
  async (t) => {
    t.ok(t.rt(['kill']).status !== 0, '`kill` without an id succeeded');
  });

// ---------------------------------------------------------------------------------------------------------------
// Delete

check('delete.stopped', 'Delete', 'MUST',
  'delete of a stopped container succeeds and the container no longer exists',
  async (t) => {
    const c = t.create(t.config(['true']));
    t.start(c.id);
    await t.waitStatus(c.id, 'stopped');
    const r = t.rt(['delete', c.id]);
    t.ok(r.status === 0, `delete failed: ${r.reason}`);
    t.ok(t.stateMaybe(c.id).error, 'state still reports the deleted container');
  });

check('delete.running', 'Delete', 'MUST',
  'delete of a running container is an error and has no effect: the process keeps running',
  async (t) => {
    const c = t.create(t.config(SLEEPER));
    t.start(c.id);
    const { pid } = t.state(c.id);
    t.ok(t.rt(['delete', c.id]).status !== 0, 'delete of a running container succeeded');
    await sleep(100);
    t.ok(alive(pid), 'the container process is gone');
    t.eq(t.state(c.id).status, 'running', 'status');
  });

check('delete.created', 'Delete', 'MUST',
  'delete of a created (not stopped) container is an error and has no effect (runc kills and deletes it instead)',
  async (t) => {
    const c = t.create(t.config(SLEEPER));
    const { pid } = t.state(c.id);
    const r = t.rt(['delete', c.id]);
    t.ok(r.status !== 0, 'delete of a created container succeeded');
    t.ok(alive(pid), 'the container process is gone');
    t.eq(t.state(c.id).status, 'created', 'status');
  });

check('delete.nonexistent', 'Delete', 'MUST',
  'delete of a container that does not exist is an error',
  async (t) => {
    t.ok(t.rt(['delete', t.id('none')]).status !== 0, 'delete of an unknown id succeeded');
  });

check('delete.no-id', 'Delete', 'MUST',
  'delete without a container id is an error',
  async (t) => {
    t.ok(t.rt(['delete']).status !== 0, '`delete` without an id succeeded');
  });

check('delete.resources', 'Delete', 'MUST',
  'delete removes what create made: the container\'s namespaces are released and the cgroup directories it created are gone',
  async (t) => {
    const cfg = t.config(['true']);
    cfg.linux.cgroupsPath = t.cgroupPath(`/cf-${path.basename(t.dir).replace(/[^\w-]/g, '')}`);
    const c = t.create(cfg);
    const { pid } = t.state(c.id);
    const netIno = fs.statSync(`/proc/${pid}/ns/net`).ino;
    const made = cgroupDirsFor(cfg.linux.cgroupsPath).filter((d) => fs.existsSync(d));
    t.start(c.id);
    await t.waitStatus(c.id, 'stopped');
    const r = t.rt(['delete', c.id]);
    t.ok(r.status === 0, `delete failed: ${r.reason}`);
    const left = made.filter((d) => fs.existsSync(d));
    t.ok(!left.length, `cgroup directories left after delete: ${left.join(', ')}`);
    // the network namespace is gone when no process holds it any more
    const holders = [];
    for (const p of fs.readdirSync('/proc').filter((x) => /^\d+$/.test(x))) {
      try { if (fs.statSync(`/proc/${p}/ns/net`).ino === netIno) holders.push(p); } catch { /* gone */ }
    }
    t.ok(!holders.length, `processes still in the container's network namespace: ${holders.join(', ')}`);
  });

check('delete.keeps-foreign', 'Delete', 'MUST',
  'delete leaves alone what the container used but did not create: a bind-mounted host directory and a joined network namespace',
  async (t) => {
    const data = t.mkdir('data');
    fs.writeFileSync(path.join(data, 'keep'), 'keep me');
    const holder = t.background('unshare', ['--net', 'sleep', '300']);
    const nsFile = path.join(t.dir, 'netns');
    fs.writeFileSync(nsFile, '');
    const end = Date.now() + 3000;
    while (fs.readlinkSync(`/proc/${holder.pid}/ns/net`) === t.suite.hostNs.net) {
      if (Date.now() > end) t.fail('could not set up a network namespace to join (unshare --net)');
      await sleep(10);
    }
    t.hostMount(['--bind', `/proc/${holder.pid}/ns/net`, nsFile]);
    const cfg = t.config(['sh', '-c', 'cat /data/keep > /dev/null']);
    cfg.mounts.push({ destination: '/data', type: 'bind', source: data, options: ['rbind', 'rw'] });
    cfg.linux.namespaces = cfg.linux.namespaces.map((n) => (n.type === 'network' ? { type: 'network', path: nsFile } : n));
    await t.run(cfg);
    t.eq(fs.readdirSync(data), ['keep'], 'files in the bind-mounted host directory');
    t.eq(fs.readFileSync(path.join(data, 'keep'), 'utf8'), 'keep me', 'content of the host file');
    const stillMounted = mountsUnder(t.dir).includes(nsFile);
    t.ok(stillMounted, 'the bind-mounted network namespace file was unmounted');
    const r = spawnSync('nsenter', [`--net=${nsFile}`, 'true']);
    t.ok(r.status === 0, 'the joined network namespace cannot be entered any more');
  });

export default checks;
