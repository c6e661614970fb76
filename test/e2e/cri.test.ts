// Kubernetes' node path without a kubelet: this test speaks CRI v1 gRPC (test/e2e/cri.proto, the subset it
// uses) to containerd 1.6's CRI plugin, which runs pods through containerd-shim-runc-v2 with the runtime under
// test (E2E_RUNTIME, default bin/runts) as the runtime handler `runts` (io.containerd.runc.v2, BinaryName).
// The test starts its own containerd: config, root, state, socket, runtime root and an empty CNI config dir all
// live in a temp dir; pods use the host network (NamespaceMode NODE), so no CNI plugin is needed. The images
// come from scripts/setup-e2e.sh's busybox docker-archive, imported into the k8s.io namespace, plus a "pause"
// image made here from it whose command is a long sleep (the sandbox runs its image's command).
//
// Cases (issue #22): a host directory mounted with each CRI mountPropagation. containerd turns them into mount
// options rprivate / rslave / rshared and linux.rootfsPropagation (unset / rslave / rshared). A mount made on
// the host under the directory after the container started shows inside for HOST_TO_CONTAINER and
// BIDIRECTIONAL, not for PRIVATE; a mount made inside (privileged) shows on the host only for BIDIRECTIONAL.
//
// At the end every pod is stopped and removed, containerd is killed by its pid (and any shim of its socket that
// is left), what is mounted under the temp dir is unmounted, and the pods' cgroups are removed.
import { spawn, spawnSync, ChildProcess } from 'child_process';
import { createRequire } from 'module';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  IMAGE, IMAGE_TAR, RUNTIME, Res, Wrapper, ensureImage, explain, hostDevices, makeWrapper, missingTools,
  removeDir, removeNewCgroups, runCmd, sleep, traceOf, unmountUnder, until, writeContainerdConfig,
} from './e2e';
import { scratchDir } from '../helpers';

const req = createRequire(__filename);
/** @grpc/grpc-js and @grpc/proto-loader (devDependencies), or why they cannot be loaded. */
function loadGrpc(): { grpc: any; loader: any } | string {
  try {
    return { grpc: req('@grpc/grpc-js'), loader: req('@grpc/proto-loader') };
  } catch (e) {
    return `@grpc/grpc-js / @grpc/proto-loader cannot be loaded (npm install): ${(e as Error).message.split('\n')[0]}`;
  }
}

function skipWhy(): string | undefined {
  const missing = missingTools(['containerd', 'ctr', 'containerd-shim-runc-v2']);
  const why = missing.length
    ? `${missing.join(', ')} not installed (bash scripts/setup-e2e.sh installs them)`
    : typeof loadGrpc() === 'string' ? (loadGrpc() as string) : undefined;
  if (why) console.warn(`e2e cri suite skipped: ${why}`);
  return why;
}
const skip = skipWhy();

const T = 120_000; // per case
const NS = 'k8s.io'; // the CRI plugin's containerd namespace
const CGROUP_PARENT = `runts-e2e-cri-${process.pid}`;
const PAUSE = 'localhost/runts-e2e/pause:cri';
const HANDLER = 'runts';

let dir: string;
let sock: string;
let vol: string; // the host directory the pods mount: a bind mount of itself, made shared
let wrap: Wrapper;
let daemon: ChildProcess | undefined;
let devicesBefore: Record<string, string>;
let runtimeSvc: any;
let imageSvc: any;
let seq = 0;
// the shims put their sockets in /run/containerd/s/ whatever the config says: made by the suite when missing,
// removed at the end when it made them (and they are empty)
const SHIM_DIRS = ['/run/containerd/s', '/run/containerd'];
let shimDirsBefore: string[] = [];
const pods = new Set<string>();

function ctr(args: string[], opts: { timeout?: number } = {}): Res {
  return runCmd('ctr', ['--address', sock, '--namespace', NS, ...args], { timeout: opts.timeout ?? 30_000, scratch: dir });
}

function daemonLog(): string {
  try { return fs.readFileSync(path.join(dir, 'containerd.log'), 'utf8'); } catch { return ''; }
}

/** What to print when a step fails: the error, the runtime calls of `id` and containerd's log tail. */
function why(err: unknown, id?: string): string {
  return `${(err as Error)?.message ?? err}\n--- runtime calls\n${traceOf(wrap, id)}\n--- containerd log (tail)\n${daemonLog().slice(-3000)}`;
}

/** One CRI call as a promise. */
function call<T = any>(svc: any, method: string, request: object, ms = 60_000): Promise<T> {
  return new Promise((resolve, reject) => {
    svc[method](request, { deadline: Date.now() + ms }, (err: Error | null, res: T) => (err ? reject(err) : resolve(res)));
  });
}

/** Run `f`; on failure rethrow with the traces. */
async function step<T>(what: string, f: () => Promise<T>, id?: string): Promise<T> {
  try { return await f(); } catch (e) { throw new Error(`${what}: ${why(e, id)}`); }
}

/** A docker-archive like busybox.tar whose image runs `cmd` and is tagged `tag` (the pod's pause image). */
function makeImage(from: string, tag: string, cmd: string[], out: string): void {
  const work = fs.mkdtempSync(path.join(dir, 'image-'));
  const x = spawnSync('tar', ['-xf', from, '-C', work], { encoding: 'utf8' });
  if (x.status !== 0) throw new Error(`tar -xf ${from}: ${x.stderr}`);
  const manifest = JSON.parse(fs.readFileSync(path.join(work, 'manifest.json'), 'utf8'));
  const config = JSON.parse(fs.readFileSync(path.join(work, manifest[0].Config), 'utf8'));
  config.config = { ...config.config, Cmd: cmd, Entrypoint: null };
  const text = JSON.stringify(config);
  const name = `${crypto.createHash('sha256').update(text).digest('hex')}.json`;
  fs.rmSync(path.join(work, manifest[0].Config));
  fs.writeFileSync(path.join(work, name), text);
  manifest[0].Config = name;
  manifest[0].RepoTags = [tag];
  fs.writeFileSync(path.join(work, 'manifest.json'), JSON.stringify(manifest));
  const c = spawnSync('tar', ['-cf', out, '-C', work, '.'], { encoding: 'utf8' });
  if (c.status !== 0) throw new Error(`tar -cf ${out}: ${c.stderr}`);
  fs.rmSync(work, { recursive: true, force: true });
}

/** Pids of processes whose command line mentions our socket (shims left behind), never anything else. */
function shimsOfOurSocket(): number[] {
  const pids: number[] = [];
  for (const p of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(p)) continue;
    let cmd = '';
    try { cmd = fs.readFileSync(`/proc/${p}/cmdline`, 'utf8'); } catch { continue; }
    const argv = cmd.split('\0');
    if (argv[0]?.endsWith('containerd-shim-runc-v2') && argv.includes(sock)) pids.push(Number(p));
  }
  return pids;
}

function mountPoints(): string[] {
  return fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').map((l) => l.split(' ')[4]).filter(Boolean);
}

function mustRun(cmd: string, args: string[]): void {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr || r.status}`);
}

/** The config.json the runtime was given for the container `id` (kept by the trace wrapper). */
function configOf(id: string): any {
  const f = fs.readdirSync(wrap.keep).find((n) => n.startsWith(`config-${id.slice(0, 16)}-`));
  return f ? JSON.parse(fs.readFileSync(path.join(wrap.keep, f), 'utf8')) : undefined;
}

type Propagation = 'PROPAGATION_PRIVATE' | 'PROPAGATION_HOST_TO_CONTAINER' | 'PROPAGATION_BIDIRECTIONAL';

interface Pod { sandbox: string; container: string; hostDir: string; }

/** A host-network pod whose container (busybox sleep) mounts a new directory under `vol` at /vol. */
async function runPod(tag: string, propagation: Propagation, privileged: boolean): Promise<Pod> {
  const n = ++seq;
  const name = `${tag}-${n}`;
  const hostDir = path.join(vol, name);
  fs.mkdirSync(path.join(hostDir, 'fromhost'), { recursive: true });
  fs.mkdirSync(path.join(hostDir, 'fromctr'), { recursive: true });
  const logs = path.join(dir, 'logs', name);
  fs.mkdirSync(logs, { recursive: true });
  const sandboxConfig = {
    metadata: { name, uid: `uid-${process.pid}-${n}`, namespace: 'runts-e2e', attempt: 0 },
    log_directory: logs,
    linux: {
      cgroup_parent: `/${CGROUP_PARENT}`,
      security_context: { privileged, namespace_options: { network: 'NODE', pid: 'POD', ipc: 'POD' } },
    },
  };
  const { pod_sandbox_id: sandbox } = await step('RunPodSandbox',
    () => call(runtimeSvc, 'RunPodSandbox', { config: sandboxConfig, runtime_handler: HANDLER }), name);
  pods.add(sandbox);
  const { container_id: container } = await step('CreateContainer', () => call(runtimeSvc, 'CreateContainer', {
    pod_sandbox_id: sandbox,
    sandbox_config: sandboxConfig,
    config: {
      metadata: { name: 'main', attempt: 0 },
      image: { image: IMAGE },
      command: ['sleep', '3600'],
      log_path: 'main.log',
      mounts: [{ container_path: '/vol', host_path: hostDir, propagation }],
      linux: { security_context: { privileged, namespace_options: { network: 'NODE', pid: 'CONTAINER', ipc: 'POD' } } },
    },
  }), sandbox);
  await step('StartContainer', () => call(runtimeSvc, 'StartContainer', { container_id: container }), container);
  const st = await call(runtimeSvc, 'ContainerStatus', { container_id: container });
  expect(st.status.state, why(JSON.stringify(st.status), container)).toBe('CONTAINER_RUNNING');
  return { sandbox, container, hostDir };
}

async function removePod(sandbox: string): Promise<void> {
  try { await call(runtimeSvc, 'StopPodSandbox', { pod_sandbox_id: sandbox }); } catch (e) { console.warn(`StopPodSandbox ${sandbox}: ${(e as Error).message}`); }
  try { await call(runtimeSvc, 'RemovePodSandbox', { pod_sandbox_id: sandbox }); } catch (e) { console.warn(`RemovePodSandbox ${sandbox}: ${(e as Error).message}`); }
  pods.delete(sandbox);
}

async function exec(container: string, cmd: string[]): Promise<{ out: string; err: string; code: number }> {
  const r = await step(`ExecSync ${cmd.join(' ')}`, () => call(runtimeSvc, 'ExecSync', { container_id: container, cmd, timeout: 30 }), container);
  return { out: Buffer.from(r.stdout).toString(), err: Buffer.from(r.stderr).toString(), code: r.exit_code };
}

/** A tmpfs on the host at `at` holding a file `marker` that says `text`. */
function hostMount(at: string, text: string): void {
  mustRun('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'e2e-cri-host', at]);
  fs.writeFileSync(path.join(at, 'marker'), text);
}

describe.skipIf(!!skip)('containerd CRI e2e', () => {
  beforeAll(async () => {
    ensureImage();
    const { grpc, loader } = loadGrpc() as { grpc: any; loader: any };
    dir = scratchDir('cri');
    wrap = makeWrapper(dir);
    sock = path.join(dir, 'containerd.sock');
    for (const d of ['root', 'state', 'opt', 'runc', 'cni-conf', 'cni-bin', 'logs', 'vol']) fs.mkdirSync(path.join(dir, d));
    // the pods' volume: a shared mount (containerd refuses HostToContainer / Bidirectional on a private one)
    vol = path.join(dir, 'vol');
    mustRun('mount', ['--bind', vol, vol]);
    mustRun('mount', ['--make-shared', vol]);
    const pauseTar = path.join(dir, 'pause.tar');
    makeImage(IMAGE_TAR, PAUSE, ['sleep', '86400'], pauseTar);
    const config = writeContainerdConfig(dir, sock, { by: 'test/e2e/cri.test.ts', cri: `[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "${PAUSE}"
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  # the pause process asks for oom_score_adj -998: without CAP_SYS_RESOURCE no runtime may lower it
  restrict_oom_score_adj = true
  disable_apparmor = true
  enable_selinux = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "${dir}/cni-bin"
    conf_dir = "${dir}/cni-conf"
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "${HANDLER}"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.${HANDLER}]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.${HANDLER}.options]
        BinaryName = "${wrap.path}"
        Root = "${dir}/runc"
        SystemdCgroup = false
` });
    devicesBefore = hostDevices();
    shimDirsBefore = SHIM_DIRS.filter((d) => fs.existsSync(d));
    const log = fs.openSync(path.join(dir, 'containerd.log'), 'w');
    daemon = spawn('containerd', ['--config', config], { stdio: ['ignore', log, log] });
    fs.closeSync(log);
    const up = await until(() => daemon?.exitCode === null && ctr(['version'], { timeout: 5_000 }).status === 0, 20_000, 100);
    if (!up) throw new Error(`containerd did not come up (exit ${daemon?.exitCode}):\n${daemonLog().slice(-4000)}`);

    const def = loader.loadSync(path.join(__dirname, 'cri.proto'), { keepCase: true, longs: Number, enums: String, defaults: true });
    const api = grpc.loadPackageDefinition(def).runtime.v1;
    runtimeSvc = new api.RuntimeService(`unix://${sock}`, grpc.credentials.createInsecure());
    imageSvc = new api.ImageService(`unix://${sock}`, grpc.credentials.createInsecure());
    const v = await step('Version', () => call(runtimeSvc, 'Version', { version: 'v1' }));
    for (const tar of [IMAGE_TAR, pauseTar]) {
      const r = ctr(['images', 'import', tar], { timeout: 120_000 });
      if (r.status !== 0) throw new Error(explain(r, ''));
    }
    // the CRI's image store learns of imports through containerd's events
    let tags: string[] = [];
    for (let i = 0; i < 100; i++) {
      const { images } = await call(imageSvc, 'ListImages', {});
      tags = images.flatMap((im: any) => im.repo_tags);
      if (tags.includes(IMAGE) && tags.includes(PAUSE)) break;
      await sleep(100);
    }
    expect(tags, daemonLog().slice(-3000)).toEqual(expect.arrayContaining([IMAGE, PAUSE]));
    console.log(`e2e cri: ${v.runtime_name} ${v.runtime_version} (CRI ${v.runtime_api_version}); handler ${HANDLER} = ${RUNTIME}${wrap.path !== RUNTIME ? ` (through ${wrap.path})` : ''}; calls logged in ${wrap.log}; pid ${daemon.pid}`);
  }, 240_000);

  afterAll(async () => {
    if (!dir) return;
    if (daemon && daemon.exitCode === null) {
      if (runtimeSvc) for (const p of [...pods]) await removePod(p);
      for (const im of [IMAGE, PAUSE]) ctr(['images', 'remove', im]);
      runtimeSvc?.close();
      imageSvc?.close();
      const pid = daemon.pid!;
      const exited = new Promise<void>((res) => daemon!.once('exit', () => res()));
      process.kill(pid, 'SIGTERM');
      await Promise.race([exited, sleep(10_000)]);
      if (daemon.exitCode === null && daemon.signalCode === null) {
        process.kill(pid, 'SIGKILL');
        await Promise.race([exited, sleep(5_000)]);
      }
    }
    for (const pid of shimsOfOurSocket()) {
      console.warn(`e2e cri: killing a shim left behind (pid ${pid})`);
      try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
    }
    removeDir(dir);
    for (const d of SHIM_DIRS) if (!shimDirsBefore.includes(d)) try { fs.rmdirSync(d); } catch { /* in use or gone */ }
    const left = removeNewCgroups(CGROUP_PARENT, []);
    if (left.length) console.warn(`e2e cri: cgroups left (busy): ${left.join(' ')}`);
  }, 180_000);

  const cases: { propagation: Propagation; privileged: boolean; rootfs: string | undefined; option: string; in: boolean; out: boolean }[] = [
    { propagation: 'PROPAGATION_PRIVATE', privileged: false, rootfs: undefined, option: 'rprivate', in: false, out: false },
    { propagation: 'PROPAGATION_HOST_TO_CONTAINER', privileged: false, rootfs: 'rslave', option: 'rslave', in: true, out: false },
    { propagation: 'PROPAGATION_PRIVATE', privileged: true, rootfs: undefined, option: 'rprivate', in: false, out: false },
    { propagation: 'PROPAGATION_HOST_TO_CONTAINER', privileged: true, rootfs: 'rslave', option: 'rslave', in: true, out: false },
    { propagation: 'PROPAGATION_BIDIRECTIONAL', privileged: true, rootfs: 'rshared', option: 'rshared', in: true, out: true },
  ];

  for (const c of cases) {
    const title = `${c.propagation}${c.privileged ? ' (privileged)' : ''}: rootfsPropagation ${c.rootfs ?? 'unset'}; a host mount ${c.in ? 'shows' : 'does not show'} inside` +
      (c.privileged ? `, a mount inside ${c.out ? 'shows' : 'does not show'} on the host` : '');
    it(title, async () => {
      const tag = c.propagation.replace('PROPAGATION_', '').toLowerCase().replace(/_/g, '-') + (c.privileged ? '-priv' : '');
      const pod = await runPod(tag, c.propagation, c.privileged);
      try {
        // what containerd asked of the runtime
        const cfg = configOf(pod.container);
        expect(cfg, `no config.json kept for ${pod.container}\n${traceOf(wrap)}`).toBeDefined();
        expect(cfg.linux?.rootfsPropagation).toBe(c.rootfs);
        const m = cfg.mounts.find((x: any) => x.destination === '/vol');
        expect(m?.options).toContain(c.option);

        // host → container: a mount made on the host after the start
        const fromHost = path.join(pod.hostDir, 'fromhost');
        hostMount(fromHost, `host-${pod.container}\n`);
        const seen = await exec(pod.container, ['cat', '/vol/fromhost/marker']);
        const mi = await exec(pod.container, ['cat', '/proc/self/mountinfo']);
        const listed = mi.out.split('\n').some((l) => l.split(' ')[4] === '/vol/fromhost');
        // the volume's propagation as the container's mountinfo shows it (optional fields before " - ")
        const volLine = mi.out.split('\n').find((l) => l.split(' ')[4] === '/vol') ?? '';
        const tags = volLine.split(' - ')[0].split(' ').slice(6).join(' ');
        expect(tags, volLine).toMatch({ rprivate: /^$/, rslave: /^master:\d+$/, rshared: /^shared:\d+$/ }[c.option]!);
        if (c.in) {
          expect(seen.code, why(seen.err, pod.container)).toBe(0);
          expect(seen.out).toBe(`host-${pod.container}\n`);
          expect(listed, mi.out).toBe(true);
        } else {
          expect(seen.code, seen.out).not.toBe(0);
          expect(listed, mi.out).toBe(false);
        }

        // container → host: a mount made inside (needs CAP_SYS_ADMIN: privileged only)
        if (c.privileged) {
          const made = await exec(pod.container, ['sh', '-c',
            'mount -t tmpfs -o size=1m e2e-cri-ctr /vol/fromctr && echo "ctr-$HOSTNAME" > /vol/fromctr/marker && grep -c " /vol/fromctr " /proc/self/mountinfo']);
          expect(made.code, why(`${made.out}${made.err}`, pod.container)).toBe(0);
          const fromCtr = path.join(pod.hostDir, 'fromctr');
          const onHost = mountPoints().includes(fromCtr);
          expect(onHost, `host mountinfo lists ${fromCtr}`).toBe(c.out);
          expect(fs.existsSync(path.join(fromCtr, 'marker'))).toBe(c.out);
        }
      } finally {
        await removePod(pod.sandbox);
        unmountUnder(pod.hostDir);
      }
      // the pod is gone: no task of it is left, no mount of its under the host directory
      expect(ctr(['task', 'ls', '-q']).stdout.split('\n')).not.toContain(pod.container);
      expect(mountPoints().filter((p) => p.startsWith(pod.hostDir + '/'))).toEqual([]);
    }, T);
  }

  it('host device nodes keep owner and mode', () => {
    expect(hostDevices()).toEqual(devicesBefore);
  }, T);
});
