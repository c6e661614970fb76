#!/usr/bin/env node
// The last build step: one self-contained executable, dist/runts, made by `bun build --compile` from the
// compiled JavaScript (dist/cli.js and what it requires, the precompiled validators included), with the addon
// and the init stub (build/runts-init) embedded. See docs/performance.md for why Bun.
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { fileURLToPath } from 'url';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const bun = path.join(repo, 'node_modules', 'bun', 'bin', 'bun.exe');
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
  '--compile', '--bytecode', '--minify', '--target=bun-linux-x64',
  // the working directory is not configuration: no bunfig.toml (it can preload code) and no .env (it can set
  // the RUNTS_* variables) is read from it; runc is often run from inside a bundle someone else wrote
  '--no-compile-autoload-bunfig', '--no-compile-autoload-dotenv',
  // JIT tier-up thresholds x1000: a CLI call runs for milliseconds, too short for any JIT tier to pay back what
  // compiling costs (measured: 2.5-3 ms less CPU per call, docs/performance.md)
  '--compile-jit-policy=1000',
  '--asset-naming=[name].[ext]', '--outfile', tmp,
], { cwd: repo, stdio: ['ignore', 'pipe', 'inherit'] });
if (r.status !== 0) process.exit(r.status ?? 1);
// renamed into place: a running dist/runts is never rewritten
fs.renameSync(tmp, out);
