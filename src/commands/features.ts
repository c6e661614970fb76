// features: what runts really supports, in the shape of the runtime-spec's features.md.
import type { Globals } from '../cli';
import { stdout } from '../io';
import { CAPS } from '../plan/caps';
import { MS, PROPAGATION } from '../plan/mounts';
import { ACTIONS, ARCHS, FLAGS, OPERATORS } from '../plan/seccomp';
import { MPOL_FLAGS, MPOL_MODE } from '../plan/procfields';
import { loadNative } from '../native';

/** The seccomp flags runts applies, and of those the ones this kernel knows. */
function seccompFeatures(): Record<string, unknown> {
  const knownFlags = Object.keys(FLAGS);
  let supportedFlags: string[] = [];
  try {
    const native = loadNative();
    supportedFlags = knownFlags.filter((f) => native.seccompFlagSupported(FLAGS[f]));
  } catch { /* no addon: claim none */ }
  return {
    enabled: true,
    actions: Object.keys(ACTIONS).sort(),
    operators: Object.keys(OPERATORS).sort(),
    archs: Object.keys(ARCHS).sort(),
    knownFlags,
    supportedFlags,
  };
}

export function featuresDoc(): Record<string, unknown> {
  const mountOptions = [
    'ro', 'rw', 'nosuid', 'suid', 'nodev', 'dev', 'noexec', 'exec', 'sync', 'async', 'dirsync', 'remount', 'mand', 'nomand',
    'atime', 'noatime', 'diratime', 'nodiratime', 'relatime', 'norelatime', 'strictatime', 'nostrictatime', 'lazytime',
    'nolazytime', 'silent', 'loud', 'nosymfollow', 'symfollow', 'bind', 'rbind', ...Object.keys(PROPAGATION),
    'rro', 'rrw', 'rnosuid', 'rsuid', 'rnodev', 'rdev', 'rnoexec', 'rexec', 'rnodiratime', 'rdiratime', 'rrelatime',
    'ratime', 'rnoatime', 'rstrictatime', 'rnosymfollow', 'rsymfollow',
  ];
  void MS;
  return {
    ociVersionMin: '1.0.0',
    ociVersionMax: '1.3.0',
    hooks: ['prestart', 'createRuntime', 'createContainer', 'startContainer', 'poststart', 'poststop'],
    mountOptions,
    linux: {
      namespaces: ['cgroup', 'ipc', 'mount', 'network', 'pid', 'time', 'user', 'uts'],
      capabilities: CAPS,
      cgroup: { v1: true, v2: true, systemd: false, systemdUser: false, rdma: true },
      seccomp: seccompFeatures(),
      apparmor: { enabled: false },
      selinux: { enabled: false },
      intelRdt: { enabled: false },
      mountExtensions: { idmap: { enabled: false } },
      memoryPolicy: { modes: Object.keys(MPOL_MODE), flags: Object.keys(MPOL_FLAGS) },
    },
    annotations: {
      'org.opencontainers.runtime-spec.features.runtime': 'runts',
    },
  };
}

export function features(_g: Globals) {
  stdout(JSON.stringify(featuresDoc(), null, 2) + '\n');
}
