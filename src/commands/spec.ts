// spec: write a default config.json, as `runc spec` does: the same document as runc's specconv Example() (and
// ToRootless for --rootless), field by field and in the same key order; only ociVersion is runts' spec version.
import * as fs from 'fs';
import * as path from 'path';
import type { Globals } from '../action';
import { RuntimeError } from '../errors';
import { SPEC_VERSION } from '../action';
import type { Linux, Mount, Namespace, Spec } from '../config/types';
import { cgroup2Unified } from '../container/facts';

const CAPS = ['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'];

/** Facts about the host that runc's Example()/ToRootless read. */
export interface SpecHost {
  /** /sys/fs/cgroup is a cgroup2 file system (runc's IsCgroup2UnifiedMode): a cgroup namespace is listed */
  cgroup2: boolean;
  /** effective uid and gid, mapped to root for --rootless */
  euid: number;
  egid: number;
}

export function defaultSpec(rootless: boolean, host: SpecHost): Spec {
  let mounts: Mount[] = [
    { destination: '/proc', type: 'proc', source: 'proc' },
    { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
    { destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'] },
    { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=65536k'] },
    { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
    { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] },
    { destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['nosuid', 'noexec', 'nodev', 'relatime', 'ro'] },
  ];
  let namespaces: Namespace[] = [{ type: 'pid' }, { type: 'network' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' }];
  if (host.cgroup2) namespaces.push({ type: 'cgroup' });
  const linux: Linux = {};
  if (rootless) {
    // ToRootless: no network namespace, a user namespace mapping the caller to root, /sys bound from the host,
    // no uid=/gid= mount options, no cgroup resources
    namespaces = [...namespaces.filter((n) => n.type !== 'network' && n.type !== 'user'), { type: 'user' }];
    linux.uidMappings = [{ containerID: 0, hostID: host.euid, size: 1 }];
    linux.gidMappings = [{ containerID: 0, hostID: host.egid, size: 1 }];
    mounts = mounts.map((m) => {
      if (m.destination === '/sys') return { destination: '/sys', type: 'none', source: '/sys', options: ['rbind', 'nosuid', 'noexec', 'nodev', 'ro'] };
      const options = m.options?.filter((o) => !o.startsWith('gid=') && !o.startsWith('uid='));
      return options ? { ...m, options } : m;
    });
  } else {
    linux.resources = { devices: [{ allow: false, access: 'rwm' }] };
  }
  linux.namespaces = namespaces;
  linux.maskedPaths = ['/proc/acpi', '/proc/asound', '/proc/kcore', '/proc/keys', '/proc/latency_stats', '/proc/timer_list',
    '/proc/timer_stats', '/proc/sched_debug', '/sys/firmware', '/proc/scsi', '/sys/devices/virtual/tpm'];
  linux.readonlyPaths = ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'];
  return {
    ociVersion: SPEC_VERSION,
    process: {
      terminal: true,
      user: { uid: 0, gid: 0 },
      args: ['sh'],
      env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'TERM=xterm'],
      cwd: '/',
      capabilities: { bounding: CAPS, effective: CAPS, permitted: CAPS },
      rlimits: [{ type: 'RLIMIT_NOFILE', hard: 1024, soft: 1024 }],
      noNewPrivileges: true,
    },
    root: { path: 'rootfs', readonly: true },
    hostname: 'runc',
    mounts,
    linux,
  };
}

/** The text runc writes: tab-indented JSON, no trailing newline. */
export function specText(rootless: boolean, host: SpecHost): string {
  return JSON.stringify(defaultSpec(rootless, host), null, '\t');
}

export function spec(_g: Globals, o: { bundle: string; rootless: boolean }) {
  const dir = path.resolve(o.bundle || '.');
  if (!fs.statSync(dir, { throwIfNoEntry: false })?.isDirectory()) throw new RuntimeError(`--bundle ${o.bundle}: not a directory`);
  const file = path.join(dir, 'config.json');
  if (fs.existsSync(file)) throw new RuntimeError('File config.json exists. Remove it first');
  const host = { cgroup2: cgroup2Unified(), euid: process.geteuid?.() ?? 0, egid: process.getegid?.() ?? 0 };
  fs.writeFileSync(file, specText(o.rootless, host), { mode: 0o666 });
}
