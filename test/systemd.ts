// A real systemd (bookworm's 252) as PID 1 of a container that runts itself starts, for the systemd cgroup
// driver's tests: runts runs inside it (bind-mounted) and talks to that systemd over D-Bus. The rootfs is made
// once by scripts/make-systemd-rootfs.sh (debootstrap) and cached outside the clone (RUNTS_TEST_CACHE, default
// /var/cache/runts-test), so a fresh clone on the same machine does not debootstrap again; each run boots a copy
// of it (systemd writes to its root), made in the test's own work dir.
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { CAPS } from '../src/plan/caps';
import { Ctx, REPO, RUNTS, bundle, rootfs, rt, sleep } from './helpers';

export const SYSTEMD_ROOTFS = path.join(process.env.RUNTS_TEST_CACHE || '/var/cache/runts-test', 'systemd-rootfs');
/** inside the outer container */
export const INNER_BUSYBOX = '/opt/busybox';
export const INNER_WORK = '/opt/work';

/** Build the cached rootfs when missing; the reason when it cannot be made (no mirror reachable...). */
export function systemdRootfs(): string | undefined {
  if (fs.existsSync(path.join(SYSTEMD_ROOTFS, '.complete'))) return undefined;
  const r = spawnSync('bash', [path.join(REPO, 'scripts', 'make-systemd-rootfs.sh'), SYSTEMD_ROOTFS], { encoding: 'utf8', env: { ...process.env, QUIET: '1' }, timeout: 900_000 });
  if (r.status !== 0) return `scripts/make-systemd-rootfs.sh failed (debootstrap of bookworm; no network to the mirror?): ${(r.stderr || r.stdout || String(r.error)).trim().split('\n').slice(-3).join(' / ')}`;
  return undefined;
}

/** Every capability the host's bounding set allows (CAP_SYS_RESOURCE is missing on some machines). */
export function hostCaps(): string[] {
  const m = /^CapBnd:\s*([0-9a-f]+)$/m.exec(fs.readFileSync('/proc/self/status', 'utf8'));
  const bnd = BigInt(`0x${m ? m[1] : '0'}`);
  return CAPS.filter((_, i) => (bnd >> BigInt(i)) & 1n);
}

/** containerd's binaries on the host (dynamically linked to libc only, which the bookworm rootfs has). */
export const CONTAINERD_TOOLS = ['containerd', 'ctr', 'containerd-shim-runc-v2'];
export function hostTool(name: string): string | undefined {
  return ['/usr/local/bin', '/usr/bin', '/usr/sbin'].map((d) => path.join(d, name)).find((f) => fs.existsSync(f));
}

/** The outer container's config: systemd as /sbin/init, as verified with runc (see issue 21). */
export function systemdConfig(work: string, cgroupsPath: string, rootPath: string): any {
  const caps = hostCaps();
  const bind = (src: string, dst: string, ro = true) => ({ destination: dst, type: 'bind', source: src, options: ['rbind', ro ? 'ro' : 'rw'] });
  return {
    ociVersion: '1.3.0',
    process: {
      terminal: false,
      user: { uid: 0, gid: 0 },
      args: ['/sbin/init'],
      env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'container=oci'],
      cwd: '/',
      capabilities: { bounding: caps, effective: caps, permitted: caps },
    },
    root: { path: rootPath, readonly: false },
    hostname: 'runts-systemd',
    mounts: [
      { destination: '/proc', type: 'proc', source: 'proc' },
      { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
      { destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'] },
      { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=65536k'] },
      { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
      { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] },
      { destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['nosuid', 'noexec', 'nodev', 'relatime', 'rw'] },
      ...['/run', '/run/lock', '/tmp', '/var/log/journal'].map((d) => ({ destination: d, type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev', 'mode=755'] })),
      bind(fs.realpathSync(RUNTS), '/usr/local/bin/runts'),
      bind(rootfs(), INNER_BUSYBOX),
      bind(work, INNER_WORK, false),
      // for the containerd case (SystemdCgroup): bound when the host has them
      ...CONTAINERD_TOOLS.filter(hostTool).map((t) => bind(fs.realpathSync(hostTool(t)!), `/usr/local/bin/${t}`)),
    ],
    linux: {
      namespaces: ['pid', 'network', 'ipc', 'uts', 'mount', 'cgroup'].map((type) => ({ type })),
      cgroupsPath,
      resources: { devices: [{ allow: true, access: 'rwm' }] },
      readonlyPaths: ['/proc/sys'],
    },
  };
}

export interface SystemdBox {
  id: string;
  /** the host dir seen as /opt/work inside */
  work: string;
  /** run a command inside the outer container (runts exec) */
  exec(args: string[], timeout?: number): ReturnType<typeof rt>;
  /** write a bundle for an inner container; returns its path inside */
  innerBundle(name: string, config: unknown): string;
  stop(): Promise<void>;
}

/** Start systemd in a container with runts and wait until it is running (or degraded). */
export async function startSystemd(c: Ctx, id: string): Promise<SystemdBox> {
  const work = path.join(c.work, 'inner');
  fs.mkdirSync(work, { recursive: true });
  // a private copy of the cached rootfs: systemd writes to its root, and runs must not share one
  const rootPath = path.join(c.work, 'systemd-rootfs');
  const cp = spawnSync('cp', ['-a', SYSTEMD_ROOTFS, rootPath], { encoding: 'utf8' });
  if (cp.status !== 0) throw new Error(`copy of ${SYSTEMD_ROOTFS}: ${cp.stderr}`);
  const b = bundle(c, systemdConfig(work, `/runts-test-systemd/${id}`, rootPath));
  const r = rt(c, ['run', '--detach', '--bundle', b, id]);
  if (r.status !== 0) throw new Error(`start systemd container: ${r.stderr}`);
  const exec = (args: string[], timeout?: number) => rt(c, ['exec', id, ...args], { timeout });
  let last = '';
  for (const end = Date.now() + 60_000; Date.now() < end; await sleep(200)) {
    const s = exec(['systemctl', 'is-system-running']);
    last = `${s.stdout.trim()} ${s.stderr.trim()}`;
    if (/^(running|degraded)$/.test(s.stdout.trim())) break;
  }
  if (!/^(running|degraded)/.test(last)) throw new Error(`systemd did not come up: ${last}`);
  return {
    id, work, exec,
    innerBundle(name, config) {
      const dir = path.join(work, name);
      fs.mkdirSync(dir, { recursive: true });
      fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(config, null, 2));
      return path.join(INNER_WORK, name);
    },
    async stop() {
      // SIGRTMIN+3: systemd's clean shutdown in a container
      rt(c, ['kill', id, '37']);
      for (const end = Date.now() + 20_000; Date.now() < end; await sleep(200)) {
        const s = rt(c, ['state', id]);
        if (s.status !== 0 || JSON.parse(s.stdout).status === 'stopped') break;
      }
      const d = rt(c, ['delete', '--force', id]);
      if (d.status !== 0) throw new Error(`delete systemd container: ${d.stderr}`);
    },
  };
}
