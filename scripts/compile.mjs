#!/usr/bin/env node
// The last build step: one self-contained executable, dist/runts, made by `bun build --compile` from the
// compiled JavaScript (dist/cli.js and what it requires, the precompiled validators included), with the addon
// and the init stub (build/runts-init) embedded. See docs/performance.md for why Bun.
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { COMPILE_FLAGS, bun, repo } from './bun-compile.mjs';

if (!fs.existsSync(bun)) {
  console.error(`compile: ${bun} is missing (npm install)`);
  process.exit(1);
}
const out = path.join(repo, 'dist', 'runts');
const tmp = `${out}.tmp`;
// The addon rides along as plain bytes under a name Bun does not treat as an addon (src/native.ts loads it).
fs.copyFileSync(path.join(repo, 'native', 'addon', 'build', 'Release', 'runts_native.node'), path.join(repo, 'build', 'runts_native.addon'));
const r = spawnSync(bun, [
  'build', 'dist/cli.js', 'build/runts-init', 'build/runts_native.addon',
  ...COMPILE_FLAGS, '--outfile', tmp,
], { cwd: repo, stdio: ['ignore', 'pipe', 'inherit'] });
if (r.status !== 0) process.exit(r.status ?? 1);
// renamed into place: a running dist/runts is never rewritten
fs.renameSync(tmp, out);
