// features: what runts really supports, in the shape of the runtime-spec's features.md.
import type { Globals } from '../cli';
import { stdout } from '../io';
import { CAPS } from '../plan/caps';
import { knownMountOptions } from '../plan/mounts';
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
  return {
    ociVersionMin: '1.0.0',
    ociVersionMax: '1.3.0',
    hooks: ['prestart', 'createRuntime', 'createContainer', 'startContainer', 'poststart', 'poststop'],
    // the planner's own option table: exactly what parseOptions accepts
    mountOptions: knownMountOptions(),
    linux: {
      namespaces: ['cgroup', 'ipc', 'mount', 'network', 'pid', 'time', 'user', 'uts'],
      capabilities: CAPS,
      cgroup: { v1: true, v2: true, systemd: true, systemdUser: false, rdma: true },
      seccomp: seccompFeatures(),
      apparmor: { enabled: false },
      selinux: { enabled: false },
      intelRdt: { enabled: false },
      netDevices: { enabled: true },
      mountExtensions: { idmap: { enabled: true } },
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
