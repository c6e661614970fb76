// Capability names → bit masks.
import { logWarn } from '../log';
import { CAPS, capMask } from '../config/tables';

export { CAPS, capMask } from '../config/tables';

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
