// bundle: make a bundle from an image (`--image SRC DEST [--cache DIR] [--copy]`), or remove one
// (`--remove DEST`). The work is in src/image/.
import type { Globals } from '../action';
import { RuntimeError } from '../errors';

export function bundle(_g: Globals, dest: string, o: { image?: string; cache?: string; copy: boolean; remove: boolean }) {
  const { makeBundle, removeBundle } = require('../image/bundle') as typeof import('../image/bundle');
  if (o.remove) {
    if (o.image !== undefined || o.cache !== undefined || o.copy) throw new RuntimeError('--remove: takes no --image, --cache or --copy');
    removeBundle(dest);
    return;
  }
  if (o.image === undefined) throw new RuntimeError('--image: required (oci:DIR[:TAG], oci-archive:FILE[:TAG] or docker-archive:FILE), or --remove');
  if (o.copy && o.cache !== undefined) throw new RuntimeError('--cache: not used with --copy');
  const { defaultSpec } = require('./spec') as typeof import('./spec');
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
