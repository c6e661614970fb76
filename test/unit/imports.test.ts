// The import graphs of the commands managers call on every container (docs/performance.md): what loading the
// command's module pulls in, read from a plain Node process on the compiled JavaScript (dist/, which the
// executable is built from). Lazy requires inside functions are not followed; those are the point.
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { beforeAll, describe, expect, it } from 'vitest';

const REPO = path.resolve(__dirname, '..', '..');
const DIST = path.join(REPO, 'dist');

/** Project modules (relative to dist/) and Node built-ins that `require('dist/commands/<cmd>')` loads. */
function graph(cmd: string): { modules: string[]; builtins: string[] } {
  const script = `
    const Module = require('module');
    const { relative } = require('path');
    const builtins = new Set();
    const load = Module._load;
    Module._load = function (request, parent, isMain) {
      if (Module.isBuiltin(request)) builtins.add(request.replace(/^node:/, ''));
      return load.apply(this, arguments);
    };
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

  it('state: a handful of small modules and no node:fs or node:path (Bun reads through its own file API)', () => {
    const g = graph('state');
    expect(g.modules).toEqual([
      'action.js', 'argv.js', 'cgroups/types.js', 'commands/state.js', 'container/state.js', 'errors.js', 'ids.js',
      'io.js', 'log.js', 'rootless.js',
    ]);
    expect(g.builtins).toEqual([]);
  });

  for (const cmd of ['kill', 'start', 'delete']) {
    it(`${cmd}: no planner, validators, commander, cgroup writers or launch code`, () => {
      const g = graph(cmd);
      expect(g.modules.filter((m) => HEAVY.test(m))).toEqual([]);
      expect(g.modules).toContain(`commands/${cmd}.js`);
      expect(g.builtins.filter((b) => !['fs', 'path'].includes(b))).toEqual([]);
    });
  }
});

describe('delete --force of a container that is gone', () => {
  it('is answered by cli.js and gone.js alone, before argv, action, log or io are loaded', () => {
    // cli.js run as the engine would: Bun.mmap faked (nothing exists), process.exit caught to report the graph
    const script = `
      const Module = require('module');
      const { relative } = require('path');
      const builtins = new Set();
      const load = Module._load;
      Module._load = function (request) {
        if (Module.isBuiltin(request)) builtins.add(request.replace(/^node:/, ''));
        return load.apply(this, arguments);
      };
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
