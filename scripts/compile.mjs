#!/usr/bin/env node
// The last build step: one self-contained executable, dist/runts, made by `bun build --compile` from the
// compiled JavaScript (dist/cli.js and what it requires, the precompiled validators included), with the addon
// and the init stub (build/runts-init) embedded. See docs/performance.md for why Bun.
// The addon is also written beside it, as dist/runts-native-<hash of its bytes>.node, a name baked into the
// executable: dist/runts dlopens that file (no node:fs, no copy) and falls back to the embedded bytes when it is
// missing (src/native.ts). So is the init stub, as dist/runts-init-<hash> (src/container/stub.ts). Whoever copies
// dist/runts copies those two files into the same directory.
import { spawnSync } from 'child_process';
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { COMPILE_FLAGS, bun, repo } from './bun-compile.mjs';
import { trainOrder } from './bytecode-order.mjs';

if (!fs.existsSync(bun)) {
  console.error(`compile: ${bun} is missing (npm install)`);
  process.exit(1);
}
const dist = path.join(repo, 'dist');
const out = path.join(dist, 'runts');
const tmp = `${out}.tmp`;
const hash = (bytes) => createHash('sha256').update(bytes).digest('hex').slice(0, 16);
/** written under a temporary name and renamed: a file being executed or mapped is never rewritten */
function install(name, bytes) {
  fs.writeFileSync(path.join(dist, `${name}.tmp`), bytes, { mode: 0o755 });
  fs.chmodSync(path.join(dist, `${name}.tmp`), 0o755);
  fs.renameSync(path.join(dist, `${name}.tmp`), path.join(dist, name));
}
const addon = fs.readFileSync(path.join(repo, 'native', 'addon', 'build', 'Release', 'runts_native.node'));
const side = `runts-native-${hash(addon)}.node`;
// The addon rides along as plain bytes under a name Bun does not treat as an addon (src/native.ts loads it).
fs.writeFileSync(path.join(repo, 'build', 'runts_native.addon'), addon);
// The init stub is also installed beside the executable, under a name that carries its hash and is baked into the
// executable (src/container/stub.ts): create and exec run it through a read-only overlayfs instead of copying the
// embedded bytes into a memfd on every call (docs/performance.md). The embedded copy stays the fallback for an
// executable copied alone.
const stubBytes = fs.readFileSync(path.join(repo, 'build', 'runts-init'));
const stubName = `runts-init-${hash(stubBytes)}`;
// both written before the executable (a new dist/runts never looks for a file that is not there yet)
install(side, addon);
install(stubName, stubBytes);
/** bun build --compile of dist/cli.js into `tmp`, its bytecode laid out by the `order` files when given */
function compile(order) {
  const r = spawnSync(bun, [
    'build', 'dist/cli.js', 'build/runts-init', 'build/runts_native.addon',
    ...COMPILE_FLAGS, '--define', `__RUNTS_ADDON__=${JSON.stringify(side)}`,
    '--define', `RUNTS_STUB_FILE=${JSON.stringify(stubName)}`,
    ...(order ? ['--bytecode-order', order.join(',')] : []), '--outfile', tmp,
  ], { cwd: repo, stdio: ['ignore', 'pipe', 'inherit'] });
  if (r.status !== 0) process.exit(r.status ?? 1);
}
compile();
// Compiled again with the bytecode the calls managers make run first laid out together (scripts/bytecode-order.mjs:
// ≈ 10 page faults less per call). Should the training calls fail, the executable stays as compiled, unordered.
try {
  const { files, work } = await trainOrder(tmp);
  try {
    compile(files);
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
} catch (e) {
  console.error(`compile: the bytecode stays unordered: ${e.message}`);
}
// renamed into place: a running dist/runts is never rewritten
fs.renameSync(tmp, out);
// the side files of earlier builds: no executable of this directory names them any more
for (const f of fs.readdirSync(dist)) {
  if ((/^runts-native-[0-9a-f]{16}\.node$/.test(f) && f !== side) || (/^runts-init-[0-9a-f]{16}$/.test(f) && f !== stubName)) {
    fs.rmSync(path.join(dist, f), { force: true });
  }
}
