// runts: the command line. Global flags as runc has them; each command lives in src/commands/<name>.ts
// and is loaded only when it runs, so a call pays only for what it uses.
import { Command, Option } from 'commander';
import { configureLog, logError, touchLog } from './log';

export interface Globals {
  root: string;
  log?: string;
  logFormat: 'text' | 'json';
  debug: boolean;
  systemdCgroup: boolean;
  rootless: string;
}

const VERSION = '0.1.0';
const SPEC_VERSION = '1.3.0';

const program = new Command();
program
  .name('runts')
  .description('An OCI runtime-spec compliant container runtime (runc-compatible command line)')
  .version(`runts version ${VERSION}\nspec: ${SPEC_VERSION}`, '-v, --version', 'print the version')
  .enablePositionalOptions()
  .option('--root <dir>', 'root directory for storage of container state', '/run/runts')
  .option('--log <file>', 'set the log file to write runts logs to (default is stderr)')
  .addOption(new Option('--log-format <format>', 'log format').choices(['text', 'json']).default('text'))
  .option('--debug', 'enable debug logging', false)
  .option('--systemd-cgroup', 'use the systemd cgroup driver (not supported yet)', false)
  .option('--rootless <value>', 'rootless mode: auto, true or false', 'auto')
  .option('--criu <path>', 'ignored (checkpoint/restore is not supported)');

function globals(): Globals {
  const g = program.opts() as Globals;
  return g;
}

/** Run a command's body with runc's error behaviour: one line on stderr (and in --log), exit 1. */
function action<A extends unknown[]>(load: () => (g: Globals, ...a: A) => Promise<number | void> | number | void) {
  return async (...a: A) => {
    const g = globals();
    configureLog({ file: g.log, format: g.logFormat, debug: g.debug });
    try {
      if (g.systemdCgroup) throw new (require('./errors').RuntimeError)('--systemd-cgroup: the systemd cgroup driver is not supported by runts yet; use the cgroupfs driver');
      if (!['auto', 'true', 'false'].includes(g.rootless)) throw new (require('./errors').RuntimeError)(`--rootless: must be auto, true or false, got "${g.rootless}"`);
      touchLog();
      const code = await load()(g, ...a);
      process.exitCode = typeof code === 'number' ? code : 0;
    } catch (e) {
      const err = e as Error & { exitCode?: number };
      logError(err && err.message ? err.message : String(e));
      if (g.debug && err && err.stack && err.name !== 'RuntimeError') process.stderr.write(err.stack + '\n');
      process.exitCode = err && typeof err.exitCode === 'number' ? err.exitCode : 1;
    }
  };
}

const int = (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new Error(`not a non-negative integer: ${v}`);
  return n;
};

program.command('create')
  .description('create a container')
  .argument('<container-id>')
  .option('-b, --bundle <dir>', 'path to the root of the bundle directory', '.')
  .option('--pid-file <file>', 'file to write the process id to')
  .option('--console-socket <path>', 'path to an AF_UNIX socket which will receive the pty master')
  .option('--no-pivot', 'do not use pivot_root to jail the process inside the rootfs')
  .option('--no-new-keyring', 'do not create a new session keyring')
  .option('--preserve-fds <n>', 'pass N additional file descriptors to the container', int, 0)
  .action(action(() => require('./commands/create').create));

program.command('start')
  .description('start a created container')
  .argument('<container-id>')
  .action(action(() => require('./commands/start').start));

program.command('run')
  .description('create and start a container, wait for it and delete it')
  .argument('<container-id>')
  .option('-b, --bundle <dir>', 'path to the root of the bundle directory', '.')
  .option('-d, --detach', 'detach from the container process', false)
  .option('--pid-file <file>', 'file to write the process id to')
  .option('--console-socket <path>', 'path to an AF_UNIX socket which will receive the pty master')
  .option('--no-pivot', 'do not use pivot_root to jail the process inside the rootfs')
  .option('--no-new-keyring', 'do not create a new session keyring')
  .option('--preserve-fds <n>', 'pass N additional file descriptors to the container', int, 0)
  .option('--keep', 'do not delete the container after it exits', false)
  .action(action(() => require('./commands/run').run));

program.command('state')
  .description('output the state of a container')
  .argument('<container-id>')
  .action(action(() => require('./commands/state').state));

program.command('kill')
  .description('send a signal to the container\'s init process (default SIGTERM)')
  .argument('<container-id>')
  .argument('[signal]', 'signal name (with or without SIG) or number', 'SIGTERM')
  .option('-a, --all', 'send the signal to all processes in the container', false)
  .action(action(() => require('./commands/kill').kill));

program.command('delete')
  .description('delete a container and everything it holds')
  .argument('<container-id>')
  .option('-f, --force', 'kill the container first if it is running', false)
  .action(action(() => require('./commands/delete').del));

program.command('list')
  .alias('ls')
  .description('list the containers')
  .addOption(new Option('-f, --format <format>', 'output format').choices(['table', 'json']).default('table'))
  .option('-q, --quiet', 'print only the container ids', false)
  .action(action(() => require('./commands/list').list));

program.command('spec')
  .description('create a new specification file (config.json)')
  .option('-b, --bundle <dir>', 'path to the root of the bundle directory', '.')
  .option('--rootless', 'generate a configuration for a rootless container', false)
  .action(action(() => require('./commands/spec').spec));

program.command('features')
  .description('show what this runtime supports (runtime-spec features.md)')
  .action(action(() => require('./commands/features').features));

for (const [name, what] of [
  ['exec', 'execute a new process inside the container'],
  ['ps', 'list the processes running inside a container'],
  ['pause', 'suspend all processes inside the container'],
  ['resume', 'resume all processes that have been previously paused'],
  ['update', 'update container resource constraints'],
  ['events', 'display container events such as OOM notifications and resource usage'],
] as const) {
  program.command(name)
    .description(`${what} (not implemented yet)`)
    .allowUnknownOption()
    .argument('[args...]')
    .action(action(() => () => {
      throw new (require('./errors').RuntimeError)(`${name}: not implemented yet in runts`);
    }));
}

program.parseAsync(process.argv).catch((e) => {
  logError((e as Error).message);
  process.exitCode = 1;
});
