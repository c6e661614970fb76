// The import graphs of the commands managers call on every container (docs/performance.md): what loading the
// command's module pulls in, read from a plain Node process on the compiled JavaScript (dist/, which the
// executable is built from). Lazy requires inside functions are not followed; those are the point.
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { beforeAll, describe, expect, it } from 'vitest';
import { RECORD_LOADS, REPO } from '../helpers';

const DIST = path.join(REPO, 'dist');

/** Project modules (relative to dist/) and Node built-ins that `require('dist/commands/<cmd>')` loads. */
function graph(cmd: string): { modules: string[]; builtins: string[] } {
  const script = `
    ${RECORD_LOADS}
    require(${JSON.stringify(path.join(DIST, 'argv.js'))});
    require(${JSON.stringify(path.join(DIST, 'action.js'))});
    require(${JSON.stringify(path.join(DIST, 'commands', `${cmd}.js`))});
    const modules = Object.keys(require.cache).map((f) => relative(${JSON.stringify(DIST)}, f));
    console.log(JSON.stringify({ modules: modules.sort(), builtins: [...builtins].sort() }));
  `;
  return JSON.parse(execFileSync(process.execPath, ['-e', script], { encoding: 'utf8' }));
}

/** What none of the per-container commands but create and run may load: the planner, the validators, commander. */
const HEAVY = /^(program\.js|validators\.js|config\/|plan\/(build|namespaces|mounts|devices|process|seccomp)|container\/(launch|stub|hooks)|cgroups\/(index|layout|v1|v2)|\.\.\/node_modules\/)/;

describe('import graphs of the per-container commands', () => {
  beforeAll(() => {
    if (!fs.existsSync(path.join(DIST, 'commands', 'state.js'))) throw new Error('dist/ is not built (npm run build)');
  });

  it('state: a handful of small modules and no node:fs or node:path (files go through the addon)', () => {
    const g = graph('state');
    expect(g.modules).toEqual([
      'action.js', 'argv.js', 'cgroups/types.js', 'commands/state.js', 'container/state.js', 'errors.js', 'ids.js',
      'io.js', 'log.js', 'native.js', 'rootless.js',
    ]);
    expect(g.builtins).toEqual([]);
  });

  // their files go through io.ts and their paths through paths.ts (under Bun node:fs + node:path cost a create
  // 65-75 page faults, docs/performance.md); the terminal relay (node:fs, node:os, node:tty) is required lazily
  for (const cmd of ['create', 'run', 'exec']) {
    it(`${cmd}: no node:fs, node:path or any other Node built-in`, () => {
      const g = graph(cmd);
      expect(g.modules).toContain(`commands/${cmd}.js`);
      expect(g.modules).toContain('paths.js');
      expect(g.builtins).toEqual([]);
    });
  }

  for (const cmd of ['kill', 'start', 'delete']) {
    it(`${cmd}: no planner, validators, commander, cgroup writers or launch code`, () => {
      const g = graph(cmd);
      expect(g.modules.filter((m) => HEAVY.test(m))).toEqual([]);
      expect(g.modules).toContain(`commands/${cmd}.js`);
      expect(g.builtins).toEqual([]);
    });
  }

  // the other calls managers make (the containerd shim's pause, resume, update --resources, ps --format json; its
  // events): argv.ts parses them (test/unit/argv.test.ts), so commander is not loaded, and nor is a Node built-in
  // (update read its file with node:fs, ps loaded node:child_process for the table only)
  for (const cmd of ['pause', 'resume', 'update', 'ps', 'events']) {
    it(`${cmd}: no Node built-in`, () => {
      const g = graph(cmd);
      expect(g.modules).toContain(`commands/${cmd}.js`);
      expect(g.builtins).toEqual([]);
    });
  }

  it('run: the terminal relay (node:tty, node:os) only for a terminal, not on every run', () => {
    const g = graph('run');
    expect(g.modules).toContain('container/launch.js');
    expect(g.modules).not.toContain('container/tty.js');
    expect(g.builtins.filter((b) => b === 'tty' || b === 'os')).toEqual([]);
  });
});

// What the commands load while they run (lazy requires included), on containers made up in a temporary state
// root: a stopped one (pid 0) and a "running" one whose init is this test's own process (kill 0 only asks
// whether it is alive). Under Node the addon is the build tree's; its file functions replace node:fs.
describe('what state, kill and delete load while they run', () => {
  const ADDON = path.join(REPO, 'native', 'addon', 'build', 'Release', 'runts_native.node');
  function run(root: string, args: string[]): { status: number; stdout: string; stderr: string; modules: string[]; builtins: string[] } {
    const script = `
      ${RECORD_LOADS}
      process.argv = [process.argv[0], 'runts', '--root', ${JSON.stringify(root)}, ...${JSON.stringify(args)}];
      const exit = process.exit;
      process.exit = (code) => {
        const modules = Object.keys(require.cache).map((f) => relative(${JSON.stringify(DIST)}, f));
        process.stderr.write('\\n' + JSON.stringify({ modules: modules.sort(), builtins: [...builtins].sort() }) + '\\n');
        exit(code);
      };
      require(${JSON.stringify(path.join(DIST, 'cli.js'))});
    `;
    const r = require('child_process').spawnSync(process.execPath, ['-e', script], { encoding: 'utf8' });
    const lines = r.stderr.trimEnd().split('\n');
    const g = JSON.parse(lines.pop()!);
    return { status: r.status, stdout: r.stdout, stderr: lines.join('\n'), ...g };
  }
  function container(root: string, id: string, pid: number, startTime: string, cgroup?: unknown): string {
    const dir = path.join(root, id);
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'state.json'), JSON.stringify({
      ociVersion: '1.3.0', id, pid, startTime, bundle: '/b', rootfs: '/b/rootfs', created: '2026-01-01T00:00:00Z', owner: '', config: {}, cgroup,
    }));
    return dir;
  }
  const skip = !fs.existsSync(ADDON);
  if (skip) console.log(`imports.test: runtime graphs skipped: ${ADDON} is not built (npm run build)`);

  it.skipIf(skip)('state, kill 0 and delete of made-up containers: no node:fs, no node:path, no cgroup writers', () => {
    const root = fs.mkdtempSync(path.join(require('os').tmpdir(), 'runts-imports-'));
    try {
      const self = fs.readFileSync('/proc/self/stat', 'utf8');
      const startTime = self.slice(self.lastIndexOf(')') + 2).split(' ')[19];
      container(root, 'up', process.pid, startTime);
      // its "cgroup": plain directories (one made below it, as a container's own sub-cgroup), removed by delete
      const cg = path.join(root, 'cg');
      fs.mkdirSync(path.join(cg, 'sub'), { recursive: true });
      const dir = container(root, 'down', 0, '0', { version: 1, paths: { pids: cg }, created: [cg] });
      const state = run(root, ['state', 'down']);
      expect(state.stderr).toBe('');
      expect(JSON.parse(state.stdout)).toMatchObject({ id: 'down', status: 'stopped', pid: 0 });
      const kill = run(root, ['kill', 'up', '0']);
      expect([kill.status, kill.stderr]).toEqual([0, '']);
      const del = run(root, ['delete', 'down']);
      expect([del.status, del.stderr]).toEqual([0, '']);
      expect(fs.existsSync(dir)).toBe(false);
      expect(fs.existsSync(cg)).toBe(false);
      for (const g of [state, kill, del]) {
        expect(g.builtins).toEqual([]);
        expect(g.modules.filter((m) => HEAVY.test(m))).toEqual([]);
      }
      expect(del.modules).toContain('cgroups/remove.js');
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });
});

describe('delete --force of a container that is gone', () => {
  it('is answered by cli.js and gone.js alone, before argv, action, log or io are loaded', () => {
    // cli.js run as the engine would: Bun.mmap faked (nothing exists), process.exit caught to report the graph
    const script = `
      ${RECORD_LOADS}
      globalThis.Bun = { mmap: (f) => { throw Object.assign(new Error(f), { code: 'ENOENT' }); } };
      process.argv = [process.argv[0], 'runts', '--root', '/nonexistent-runts-root', 'delete', '--force', 'c1'];
      process.exit = (code) => {
        const modules = Object.keys(require.cache).map((f) => relative(${JSON.stringify(DIST)}, f));
        console.log(JSON.stringify({ code, modules: modules.sort(), builtins: [...builtins].sort() }));
        process.reallyExit(0);
      };
      require(${JSON.stringify(path.join(DIST, 'cli.js'))});
    `;
    const g = JSON.parse(execFileSync(process.execPath, ['-e', script], { encoding: 'utf8' }));
    expect(g).toEqual({ code: 0, modules: ['cli.js', 'gone.js'], builtins: [] });
  });
});
