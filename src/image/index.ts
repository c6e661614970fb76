// `runts bundle` as one function for the command and the API: a bundle from an image with runts' default config
// (what `runts spec` writes) changed for the image, and the removal of one.
import { RuntimeError } from '../errors';
import { makeBundle, removeBundle } from './bundle';

export { removeBundle };

export interface ImageBundleOptions {
  /** oci:DIR[:TAG], oci-archive:FILE[:TAG] or docker-archive:FILE */
  image: string;
  /** where the layers are cached (default: DEST's parent's .runts-cache); not with `copy` */
  cache?: string;
  /** one flattened rootfs directory instead of an overlayfs of cached layers */
  copy?: boolean;
}

export function imageBundle(dest: string, o: ImageBundleOptions): void {
  if (typeof o.image !== 'string' || o.image === '') throw new RuntimeError('--image: required (oci:DIR[:TAG], oci-archive:FILE[:TAG] or docker-archive:FILE), or --remove');
  if (o.copy && o.cache !== undefined) throw new RuntimeError('--cache: not used with --copy');
  const { defaultSpec } = require('../commands/spec') as typeof import('../commands/spec');
  const baseSpec = defaultSpec(false, { cgroup2: isCgroup2(), euid: 0, egid: 0 });
  makeBundle({ image: o.image, dest, cache: o.cache, copy: o.copy, baseSpec });
}

function isCgroup2(): boolean {
  try {
    const { loadNative } = require('../native') as typeof import('../native');
    return loadNative().statfsType('/sys/fs/cgroup') === 0x63677270;
  } catch {
    return false;
  }
}
