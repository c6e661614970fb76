// bundle: make a bundle from an image (`--image SRC DEST [--cache DIR] [--copy]`), or remove one
// (`--remove DEST`). The work is in src/image/.
import type { Globals } from '../action';
import { RuntimeError } from '../errors';

export function bundle(_g: Globals, dest: string, o: { image?: string; cache?: string; copy: boolean; remove: boolean }) {
  const { imageBundle, removeBundle } = require('../image') as typeof import('../image');
  if (o.remove) {
    if (o.image !== undefined || o.cache !== undefined || o.copy) throw new RuntimeError('--remove: takes no --image, --cache or --copy');
    removeBundle(dest);
    return;
  }
  imageBundle(dest, { image: o.image!, cache: o.cache, copy: o.copy });
}
