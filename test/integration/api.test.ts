// The typed API (`import { Runtime } from 'runts'`): a Node script (and the same under Bun) imports the package by
// its name, through a node_modules/runts link to this repository, and drives a container's whole lifecycle;
// what the container sees and what the host sees are checked, and failures are RuntimeErrors naming the field.
import { execFileSync, spawnSync } from 'child_process';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Ctx, REPO, baseConfig, bundle, cleanupContext, context, rootfs } from '../helpers';

let c: Ctx;
let app: string;
beforeAll(() => {
  c = context('api');
  // a tool of its own that depends on runts: node_modules/runts -> the repository
  app = path.join(c.work, 'app');
  fs.mkdirSync(path.join(app, 'node_modules'), { recursive: true });
  fs.symlinkSync(REPO, path.join(app, 'node_modules', 'runts'));
  fs.writeFileSync(path.join(app, 'lifecycle.mjs'), LIFECYCLE);
  fs.writeFileSync(path.join(app, 'errors.mjs'), ERRORS);
  fs.writeFileSync(path.join(app, 'bundle.mjs'), BUNDLE);
});
afterAll(() => cleanupContext(c));

const BUN = path.join(REPO, 'node_modules', 'bun', 'bin', 'bun.exe');

/** The lifecycle, step by step; every result goes into the returned object (printed as JSON to OUT). */
const LIFECYCLE = `
import * as fs from 'node:fs';
import { Runtime, RuntimeError } from 'runts';
const { root, bundle, id, pidFile, out } = JSON.parse(process.env.API_ARGS);
const r = {};
const rt = new Runtime({ root });
const nsOf = (pid, ns) => fs.readlinkSync('/proc/' + pid + '/ns/' + ns);
try {
  r.created = await rt.create(id, { bundle, pidFile });
  r.pidFile = Number(fs.readFileSync(pidFile, 'utf8'));
  r.stateCreated = await rt.state(id);
  r.list = await rt.list();
  await rt.start(id);
  r.stateRunning = await rt.state(id);
  const init = r.stateRunning.pid;
  const proc = { args: ['sh', '-c', 'echo "exec-in:$(hostname):$(grep NSpid /proc/self/status | tr -s "\\\\t" " ")"; exit 7'], cwd: '/', env: ['PATH=/bin:/sbin'], user: { uid: 0, gid: 0 } };
  r.exec = await rt.exec(id, proc);
  r.execDetached = await rt.exec(id, { ...proc, args: ['sleep', '30'] }, { detach: true });
  r.detachedSameNs = ['pid', 'mnt', 'uts'].every((ns) => nsOf(r.execDetached.pid, ns) === nsOf(init, ns));
  r.detachedNotHostNs = nsOf(r.execDetached.pid, 'pid') !== nsOf(process.pid, 'pid');
  r.events = [];
  for await (const e of rt.events(id, { interval: 100 })) {
    r.events.push(JSON.parse(JSON.stringify(e, (k, v) => (typeof v === 'bigint' ? Number(v) : v))));
    if (r.events.length === 2) break;
  }
  await rt.kill(id, 'KILL');
  for (let i = 0; i < 100 && (await rt.state(id)).status !== 'stopped'; i++) await new Promise((res) => setTimeout(res, 50));
  r.stateStopped = await rt.state(id);
  // the events of a stopped container: the iteration fails with the CLI's message
  try { for await (const e of rt.events(id)) r.eventAfterStop = e; } catch (e) { r.eventsStopped = { typed: e instanceof RuntimeError, message: e.message }; }
  await rt.delete(id);
  r.listAfter = await rt.list();
  try { await rt.state(id); } catch (e) { r.stateGone = { typed: e instanceof RuntimeError, name: e.name, message: e.message, field: e.field }; }
} catch (e) {
  r.failed = String(e && e.stack || e);
  try { await rt.delete(id, { force: true }); } catch {}
}
fs.writeFileSync(out, JSON.stringify(r));
`;

/** Bad input through the API: a config and an exec process with a relative cwd, a bad signal, a bad id. */
const ERRORS = `
import * as fs from 'node:fs';
import { Runtime, RuntimeError } from 'runts';
const { root, bad, good, id, out } = JSON.parse(process.env.API_ARGS);
const rt = new Runtime({ root });
const r = {};
const caught = async (f) => {
  try { await f(); return { resolved: true }; } catch (e) { return { typed: e instanceof RuntimeError, message: e.message, field: e.field ?? null }; }
};
r.validateBad = await rt.validate(bad);
r.validateGood = await rt.validate(good);
r.createBad = await caught(() => rt.create(id + '-bad', { bundle: bad }));
r.leftover = fs.existsSync(root + '/' + id + '-bad');
await rt.create(id, { bundle: good });
r.execBad = await caught(() => rt.exec(id, { args: ['true'], cwd: 'tmp', user: { uid: 0, gid: 0 } }));
r.killBad = await caught(() => rt.kill(id, 'SIGNOPE'));
r.idBad = await caught(() => rt.state('../x'));
r.deleteMissing = await caught(() => rt.delete(id + '-none'));
r.deleteMissingForce = await caught(() => rt.delete(id + '-none', { force: true }));
await rt.delete(id, { force: true });
r.gone = fs.existsSync(root + '/' + id);
fs.writeFileSync(out, JSON.stringify(r));
`;

/** bundle from an image (--copy: nothing mounted), then removeBundle; an unknown transport. */
const BUNDLE = `
import * as fs from 'node:fs';
import { Runtime, RuntimeError } from 'runts';
const { root, image, dest, out } = JSON.parse(process.env.API_ARGS);
const rt = new Runtime({ root });
const r = {};
await rt.bundle(dest, { image, copy: true });
r.args = JSON.parse(fs.readFileSync(dest + '/config.json', 'utf8')).process.args;
r.busybox = fs.existsSync(dest + '/rootfs/bin/busybox');
await rt.removeBundle(dest);
r.removed = !fs.existsSync(dest);
try { await rt.bundle(dest + '-x', { image: 'docker://busybox' }); } catch (e) { r.bad = { typed: e instanceof RuntimeError, message: e.message }; }
fs.writeFileSync(out, JSON.stringify(r));
`;

/** An OCI image layout of one uncompressed layer (the test rootfs) tagged v1; returns its directory. */
function ociImage(): string {
  const dir = path.join(c.work, 'image');
  fs.mkdirSync(path.join(dir, 'blobs', 'sha256'), { recursive: true });
  const blob = (b: Buffer) => {
    const d = crypto.createHash('sha256').update(b).digest('hex');
    fs.writeFileSync(path.join(dir, 'blobs', 'sha256', d), b);
    return { digest: `sha256:${d}`, size: b.length };
  };
  const layer = execFileSync('tar', ['-C', rootfs(), '--numeric-owner', '-cf', '-', '.'], { maxBuffer: 1 << 30 });
  const l = blob(layer);
  const cfg = blob(Buffer.from(JSON.stringify({
    architecture: 'amd64', os: 'linux', config: { Entrypoint: ['/bin/sh', '-c'], Cmd: ['echo hi'], Env: ['PATH=/bin'] },
    rootfs: { type: 'layers', diff_ids: [l.digest] },
  })));
  const m = blob(Buffer.from(JSON.stringify({
    schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...cfg },
    layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', ...l }],
  })));
  fs.writeFileSync(path.join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  fs.writeFileSync(path.join(dir, 'index.json'), JSON.stringify({
    schemaVersion: 2, manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', ...m, annotations: { 'org.opencontainers.image.ref.name': 'v1' } }],
  }));
  return dir;
}

let seq = 0;
/** Run one of the scripts under `engine`; output through files (a detached container inherits them). */
function runScript(engine: string, script: string, args: Record<string, unknown>): any {
  const n = ++seq;
  const out = path.join(c.work, `result-${n}.json`);
  const log = path.join(c.work, `script-${n}.log`);
  const fd = fs.openSync(log, 'w');
  try {
    const p = spawnSync(engine, [path.join(app, script)], {
      cwd: app, stdio: ['ignore', fd, fd], timeout: 60_000,
      env: { ...process.env, API_ARGS: JSON.stringify({ ...args, root: c.root, out }) },
    });
    const text = fs.readFileSync(log, 'utf8');
    if (p.status !== 0 || !fs.existsSync(out)) throw new Error(`${engine} ${script}: status ${p.status}\n${text}`);
    return { result: JSON.parse(fs.readFileSync(out, 'utf8')), output: text };
  } finally {
    fs.closeSync(fd);
  }
}

function lifecycle(engine: string, id: string) {
  const b = bundle(c, baseConfig(['sleep', '30']));
  const pidFile = path.join(c.work, `${id}.pid`);
  const { result: r, output } = runScript(engine, 'lifecycle.mjs', { bundle: b, id, pidFile });
  expect(r.failed).toBeUndefined();
  expect(r.created).toMatchObject({ ociVersion: '1.3.0', id, status: 'created', bundle: b });
  expect(r.pidFile).toBe(r.created.pid);
  expect(r.stateCreated).toEqual(r.created);
  expect(r.list.map((s: any) => [s.id, s.status])).toEqual([[id, 'created']]);
  expect(r.stateRunning).toMatchObject({ id, status: 'running', pid: r.created.pid });
  // the exec'd process ran in the container: its hostname, and a small pid (the container's procfs shows the
  // pids of its own namespace) other than the init's 1
  const nspid = /^exec-in:runts-test:NSpid: (\d+)$/m.exec(output);
  expect(nspid, output).not.toBeNull();
  expect(Number(nspid![1])).toBeGreaterThan(1);
  expect(Number(nspid![1])).toBeLessThan(100);
  expect(r.exec.exitCode).toBe(7);
  expect(r.exec.pid).toBeGreaterThan(1);
  expect(r.execDetached.exitCode).toBeUndefined();
  expect(r.execDetached.pid).toBeGreaterThan(1);
  expect(r.detachedSameNs).toBe(true);
  expect(r.detachedNotHostNs).toBe(true);
  expect(r.events.map((e: any) => [e.type, e.id])).toEqual([['stats', id], ['stats', id]]);
  // runc's stats document: the init and the detached sleep are in the container's pids cgroup
  expect(r.events[0].data.pids.current).toBeGreaterThanOrEqual(2);
  expect(r.events[0].data.memory.usage.usage).toBeGreaterThan(0);
  expect(r.stateStopped).toMatchObject({ id, status: 'stopped', pid: 0 });
  expect(r.eventAfterStop).toBeUndefined();
  expect(r.eventsStopped).toEqual({ typed: true, message: 'container not running' });
  expect(r.listAfter).toEqual([]);
  expect(r.stateGone).toEqual({ typed: true, name: 'RuntimeError', message: `container "${id}" does not exist` });
  expect(fs.existsSync(path.join(c.root, id))).toBe(false);
}

describe('the API from a Node tool', () => {
  it('create / state / list / start / exec / events / kill / delete', () => {
    lifecycle(process.execPath, `api-node-${process.pid}`);
  });

  it('validate, and bad input: RuntimeError with the config field, nothing left behind', () => {
    const id = `api-err-${process.pid}`;
    const cfg = baseConfig(['sleep', '30']);
    cfg.process.cwd = 'tmp';
    const bad = bundle(c, cfg);
    const good = bundle(c, baseConfig(['sleep', '30']));
    const { result: r } = runScript(process.execPath, 'errors.mjs', { bad, good, id });
    // validate: every problem with its field, nothing created; the same message create fails with
    expect(r.validateBad.valid).toBe(false);
    expect(r.validateBad.errors).toEqual([{ field: 'process.cwd', message: 'must be an absolute path' }]);
    expect(r.validateGood).toMatchObject({ valid: true, errors: [] });
    expect(r.createBad).toMatchObject({ typed: true, field: 'process.cwd' });
    expect(r.createBad.message).toBe('config.json: process.cwd: must be an absolute path');
    expect(r.leftover).toBe(false);
    expect(r.execBad).toMatchObject({ typed: true, field: 'process.cwd' });
    expect(r.killBad).toEqual({ typed: true, message: 'invalid signal: SIGNOPE', field: null });
    expect(r.idBad).toMatchObject({ typed: true, field: null });
    expect(r.idBad.message).toMatch(/^invalid container id/);
    expect(r.deleteMissing).toEqual({ typed: true, message: `container "${id}-none" does not exist`, field: null });
    expect(r.deleteMissingForce).toEqual({ resolved: true });
    expect(r.gone).toBe(false);
  });

  it('bundle from an image and removeBundle; a bad image source is a RuntimeError', () => {
    const dest = path.join(c.work, 'from-image');
    const { result: r } = runScript(process.execPath, 'bundle.mjs', { image: `oci:${ociImage()}:v1`, dest });
    expect(r.args).toEqual(['/bin/sh', '-c', 'echo hi']);
    expect(r.busybox).toBe(true);
    expect(r.removed).toBe(true);
    expect(r.bad).toEqual({ typed: true, message: '--image docker://busybox: unknown transport "docker" (oci, oci-archive, docker-archive)' });
    expect(fs.existsSync(`${dest}-x`)).toBe(false);
  });

  it('the package entry and its types: exports point at dist/api.js and dist/api.d.ts, and the types are real', () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(REPO, 'package.json'), 'utf8'));
    expect(pkg.exports['.']).toEqual({ types: './dist/api.d.ts', default: './dist/api.js' });
    expect(fs.existsSync(path.join(REPO, pkg.exports['.'].types))).toBe(true);
    // a TypeScript consumer: correct use compiles, wrong use is an error (@ts-expect-error fails when unused)
    fs.writeFileSync(path.join(app, 'consumer.ts'), `
      import { Runtime, RuntimeError, type State } from 'runts';
      async function f(): Promise<string> {
        const rt = new Runtime({ root: '/tmp/x' });
        const s: State = await rt.state('a');
        const r = await rt.exec('a', { args: ['true'], cwd: '/', user: { uid: 0, gid: 0 } }, { detach: true });
        for await (const e of rt.events('a')) if (e.type === 'stats') return String(e.data.pids?.current);
        try { await rt.delete('a', { force: true }); } catch (e) { if (e instanceof RuntimeError) return e.field ?? e.message; }
        // @ts-expect-error: a State has no such field
        s.nope;
        // @ts-expect-error: create needs a bundle
        await rt.create('a', {});
        return s.status + r.pid;
      }
      void f;
    `);
    const tsc = path.join(REPO, 'node_modules', 'typescript', 'bin', 'tsc');
    execFileSync(process.execPath, [tsc, '--noEmit', '--strict', '--skipLibCheck', '--module', 'node16', '--moduleResolution', 'node16', '--target', 'es2022',
      '--types', 'node', '--typeRoots', path.join(REPO, 'node_modules', '@types'), path.join(app, 'consumer.ts')], { cwd: app, encoding: 'utf8' });
  });
});

describe('the API under Bun', () => {
  const hasBun = fs.existsSync(BUN);
  if (!hasBun) console.log(`skipped: no Bun at ${BUN} (npm install)`);
  it.skipIf(!hasBun)('the same lifecycle', () => {
    lifecycle(BUN, `api-bun-${process.pid}`);
  });
});
