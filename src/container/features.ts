// The features document (`runts features`): what runts really supports, in the shape of the runtime-spec's features.md and features-linux.md
// (v1.3). Every list comes from the table the validator or the planner itself uses, so it cannot drift from what
// create accepts (test/unit/features.test.ts checks each both ways against the schema and the planner).
import { SPEC_VERSION, VERSION } from '../action';
import { HOOK_KINDS } from '../config/rules';
import { ACTIONS, ARCHS, CAPS, FLAGS, OPERATORS } from '../config/tables';
import { MOUNT_OPTIONS, knownMountOptions } from '../plan/mounts';
import { CLONE } from '../plan/namespaces';
import { MPOL_FLAGS, MPOL_MODE } from '../plan/procfields';
import { loadNative } from '../native';

/**
 * config.json annotations runts acts on that weaken isolation (features.md: potentiallyUnsafeConfigAnnotations).
 * runts interprets no annotation of config.json (runc's are `bundle`, `org.systemd.property.`, `org.criu.config`):
 * the empty list says "none", where an absent one would mean "unknown".
 */
export const UNSAFE_CONFIG_ANNOTATIONS: string[] = [];

/** The seccomp flags runts applies, and of those the ones this kernel knows. */
function seccompFeatures(native: ReturnType<typeof loadNative> | undefined): Record<string, unknown> {
  const knownFlags = Object.keys(FLAGS);
  const supportedFlags = native ? knownFlags.filter((f) => native.seccompFlagSupported(FLAGS[f])) : [];
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
  let native: ReturnType<typeof loadNative> | undefined;
  try { native = loadNative(); } catch { /* no addon: no supported flags, no libseccomp version */ }
  const annotations: Record<string, string> = {
    'org.opencontainers.runts.version': VERSION,
    'org.opencontainers.runts.spec': SPEC_VERSION,
    // runts has no checkpoint/restore command (runc: "true" when built with it)
    'org.opencontainers.runts.checkpoint.enabled': 'false',
    ...(native?.libseccompVersion ? { 'io.github.seccomp.libseccomp.version': native.libseccompVersion } : {}),
  };
  return {
    ociVersionMin: '1.0.0',
    ociVersionMax: SPEC_VERSION,
    hooks: [...HOOK_KINDS],
    // the planner's own option table: exactly what parseOptions accepts
    mountOptions: knownMountOptions(),
    linux: {
      namespaces: Object.keys(CLONE).sort(),
      // every capability this kernel generation knows (to CAP_CHECKPOINT_RESTORE), in the kernel's order
      capabilities: [...CAPS],
      // systemdUser: --systemd-cgroup as a user (rootless) is refused
      cgroup: { v1: true, v2: true, systemd: true, systemdUser: false, rdma: true },
      seccomp: seccompFeatures(native),
      // written to /proc/self/attr/.../exec where the host has the LSM (src/plan/lsm.ts), refused by name where not:
      // features.md asks what the runtime implements, not what this host has
      apparmor: { enabled: true },
      selinux: { enabled: true },
      // linux.intelRdt is refused by name (src/container/rdt.ts)
      intelRdt: { enabled: false },
      memoryPolicy: { modes: Object.keys(MPOL_MODE).sort(), flags: Object.keys(MPOL_FLAGS).sort() },
      mountExtensions: { idmap: { enabled: Object.values(MOUNT_OPTIONS).some((o) => o.kind === 'idmap') } },
      netDevices: { enabled: true },
    },
    annotations,
    potentiallyUnsafeConfigAnnotations: UNSAFE_CONFIG_ANNOTATIONS,
  };
}
