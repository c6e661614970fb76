// The flags dist/runts is compiled with (scripts/compile.mjs), shared with what measures against it: an empty
// executable of the same engine and flags is the floor of a call's page faults (scripts/bench.mjs,
// test/integration/faults.test.ts).
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { fileURLToPath } from 'url';

export const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const bun = path.join(repo, 'node_modules', 'bun', 'bin', 'bun.exe');

export const COMPILE_FLAGS = [
  '--compile', '--bytecode', '--minify', '--target=bun-linux-x64',
  // the working directory is not configuration: no bunfig.toml (it can preload code) and no .env (it can set
  // the RUNTS_* variables) is read from it; runc is often run from inside a bundle someone else wrote
  '--no-compile-autoload-bunfig', '--no-compile-autoload-dotenv',
  // JIT tier-up thresholds x1000: a CLI call runs for milliseconds, too short for any JIT tier to pay back what
  // compiling costs (measured: 2.5-3 ms less CPU per call, docs/performance.md)
  '--compile-jit-policy=1000',
  '--asset-naming=[name].[ext]',
];

/** Compile an executable that does nothing, with the same flags and embedded files as dist/runts, to `out`. */
export function compileEmpty(out) {
  const dir = fs.mkdtempSync(`${out}.src-`);
  try {
    fs.writeFileSync(path.join(dir, 'empty.js'), '');
    const embedded = ['build/runts-init', 'build/runts_native.addon'].filter((f) => fs.existsSync(path.join(repo, f)));
    for (const f of embedded) fs.copyFileSync(path.join(repo, f), path.join(dir, path.basename(f)));
    const r = spawnSync(bun, ['build', 'empty.js', ...embedded.map((f) => path.basename(f)), ...COMPILE_FLAGS, '--outfile', out], { cwd: dir, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`compiling an empty executable: ${r.stderr || r.stdout}`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
