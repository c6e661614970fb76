// Capability names → bit masks.
import { logWarn } from '../log';

export const CAPS = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_DAC_READ_SEARCH', 'CAP_FOWNER', 'CAP_FSETID', 'CAP_KILL', 'CAP_SETGID',
  'CAP_SETUID', 'CAP_SETPCAP', 'CAP_LINUX_IMMUTABLE', 'CAP_NET_BIND_SERVICE', 'CAP_NET_BROADCAST', 'CAP_NET_ADMIN',
  'CAP_NET_RAW', 'CAP_IPC_LOCK', 'CAP_IPC_OWNER', 'CAP_SYS_MODULE', 'CAP_SYS_RAWIO', 'CAP_SYS_CHROOT',
  'CAP_SYS_PTRACE', 'CAP_SYS_PACCT', 'CAP_SYS_ADMIN', 'CAP_SYS_BOOT', 'CAP_SYS_NICE', 'CAP_SYS_RESOURCE',
  'CAP_SYS_TIME', 'CAP_SYS_TTY_CONFIG', 'CAP_MKNOD', 'CAP_LEASE', 'CAP_AUDIT_WRITE', 'CAP_AUDIT_CONTROL',
  'CAP_SETFCAP', 'CAP_MAC_OVERRIDE', 'CAP_MAC_ADMIN', 'CAP_SYSLOG', 'CAP_WAKE_ALARM', 'CAP_BLOCK_SUSPEND',
  'CAP_AUDIT_READ', 'CAP_PERFMON', 'CAP_BPF', 'CAP_CHECKPOINT_RESTORE',
];

/** A mask of the named capabilities; unknown names are skipped with a warning, as runc does. */
export function capMask(names: string[] | undefined, field: string, warn = true): bigint {
  let m = 0n;
  for (const raw of names ?? []) {
    const name = raw.toUpperCase().startsWith('CAP_') ? raw.toUpperCase() : `CAP_${raw.toUpperCase()}`;
    const i = CAPS.indexOf(name);
    if (i < 0) {
      if (warn) logWarn(`${field}: unknown capability "${raw}" ignored`);
      continue;
    }
    m |= 1n << BigInt(i);
  }
  return m;
}

/**
 * The ambient set to raise. The kernel raises an ambient capability only when it is both permitted and
 * inheritable; runc warns and goes on without it (managers such as podman rely on that), and so do we.
 */
export function ambientMask(caps: { permitted?: string[]; inheritable?: string[]; ambient?: string[] }): bigint {
  let amb = capMask(caps.ambient, 'process.capabilities.ambient');
  // (unknown names in these two were warned about already)
  const allowed = capMask(caps.permitted, '', false) & capMask(caps.inheritable, '', false);
  for (let i = 0; i < CAPS.length; i++) {
    const bit = 1n << BigInt(i);
    if ((amb & bit) && !(allowed & bit)) {
      logWarn(`can't raise ambient capability ${CAPS[i]}: it is not in both the permitted and the inheritable set`);
      amb &= ~bit;
    }
  }
  return amb;
}
