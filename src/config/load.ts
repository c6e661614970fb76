// Reading a bundle: config.json parsed and validated against our precompiled schemas.
import { isDirMode, readBytes, statFile } from '../io';
import { join, resolve } from '../paths';
import { RuntimeError, errnoText } from '../errors';
import { parseJsonBytes } from './json';
import type { Spec } from './types';
import { checkConfig } from './validate';
import { problemText } from './rules';

export function resolveBundle(bundle: string | undefined): string {
  const dir = resolve(bundle || '.');
  let st: { mode: number };
  try {
    st = statFile(dir);
  } catch (e) {
    throw new RuntimeError(`bundle ${dir}: ${errnoText(e)}`);
  }
  if (!isDirMode(st.mode)) throw new RuntimeError(`bundle ${dir}: not a directory`);
  return dir;
}

export function loadConfig(bundle: string): Spec {
  const file = join(bundle, 'config.json');
  let bytes: Uint8Array;
  try {
    bytes = readBytes(file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new RuntimeError(`JSON specification file config.json not found in bundle ${bundle}: open ${file}: no such file or directory`);
    throw new RuntimeError(`open ${file}: ${errnoText(e)}`);
  }
  const { doc, exact } = parseJsonBytes(bytes, 'config.json');
  const { spec, problems } = checkConfig(doc, exact);
  if (!spec) {
    const errors = problems.map(problemText);
    const more = errors.length > 1 ? ` (and ${errors.length - 1} more: ${errors.slice(1, 4).join('; ')})` : '';
    throw new RuntimeError(`config.json: ${errors[0]}${more}`);
  }
  return spec;
}
