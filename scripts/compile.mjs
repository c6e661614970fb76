#!/usr/bin/env node
// The last build step: one self-contained executable, dist/runts, made by `bun build --compile` from the
// compiled JavaScript (dist/cli.js and what it requires, the precompiled validators included), with the addon
// and the init stub (build/runts-init) embedded. See docs/performance.md for why Bun.
// The addon is also written beside it, as dist/runts-native-<hash of its bytes>.node, a name baked into the
// executable: dist/runts dlopens that file (no node:fs, no copy) and falls back to the embedded bytes when it is
// missing (src/native.ts). Whoever copies dist/runts copies that file into the same directory.
import { spawnSync } from 'child_process';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { COMPILE_FLAGS, bun, repo } from './bun-compile.mjs';

if (!fs.existsSync(bun)) {
  console.error(`compile: ${bun} is missing (npm install)`);
  process.exit(1);
}
const dist = path.join(repo, 'dist');
const out = path.join(dist, 'runts');
const tmp = `${out}.tmp`;
const addon = fs.readFileSync(path.join(repo, 'native', 'addon', 'build', 'Release', 'runts_native.node'));
const side = `runts-native-${crypto.createHash('sha256').update(addon).digest('hex').slice(0, 16)}.node`;
// The addon rides along as plain bytes under a name Bun does not treat as an addon (src/native.ts loads it).
fs.writeFileSync(path.join(repo, 'build', 'runts_native.addon'), addon);
// beside the executable, written before it (a new dist/runts never looks for a file that is not there yet)
fs.writeFileSync(path.join(dist, `${side}.tmp`), addon, { mode: 0o755 });
fs.renameSync(path.join(dist, `${side}.tmp`), path.join(dist, side));
const r = spawnSync(bun, [
  'build', 'dist/cli.js', 'build/runts-init', 'build/runts_native.addon',
  ...COMPILE_FLAGS, '--define', `__RUNTS_ADDON__=${JSON.stringify(side)}`, '--outfile', tmp,
], { cwd: repo, stdio: ['ignore', 'pipe', 'inherit'] });
if (r.status !== 0) process.exit(r.status ?? 1);
// renamed into place: a running dist/runts is never rewritten
fs.renameSync(tmp, out);
// the side files of earlier builds: no executable of this directory names them any more
for (const f of fs.readdirSync(dist)) if (/^runts-native-[0-9a-f]+\.node$/.test(f) && f !== side) fs.rmSync(path.join(dist, f));
