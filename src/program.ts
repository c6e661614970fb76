// The full command line (commander): every command, help and version. cli.ts sends here whatever its fast
// path (argv.ts) does not handle. Each command lives in src/commands/<name>.ts and is loaded when it runs.
import { Command, Option } from 'commander';
import { logError } from './log';
import { Globals, SPEC_VERSION, VERSION, runAction } from './action';

const program = new Command();
program
  .name('runts')
  .description('An OCI runtime-spec compliant container runtime (runc-compatible command line)')
  .version(`runts version ${VERSION}\nspec: ${SPEC_VERSION}`, '-v, --version', 'print the version')
  .enablePositionalOptions()
  .option('--root <dir>', 'root directory for storage of container state (default /run/runts, or $XDG_RUNTIME_DIR/runts when rootless)')
  .option('--log <file>', 'set the log file to write runts logs to (default is stderr)')
  .addOption(new Option('--log-format <format>', 'log format').choices(['text', 'json']).default('text'))
  .option('--debug', 'enable debug logging', false)
  .option('--systemd-cgroup', 'use the systemd cgroup driver (a transient scope per container, over D-Bus)', false)
  .option('--rootless <value>', 'rootless mode: auto, true or false', 'auto')
  .option('--criu <path>', 'ignored (checkpoint/restore is not supported)');

function globals(): Globals {
  const g = program.opts() as Globals;
  return g;
}

function action<A extends unknown[]>(load: () => (g: Globals, ...a: A) => Promise<number | void> | number | void) {
  return (...a: A) => runAction(globals(), load as never, a.slice(0, -1));
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
  .option('--pidfd-socket <path>', 'path to an AF_UNIX socket which will receive a pidfd of the init')
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
  .option('--pidfd-socket <path>', 'path to an AF_UNIX socket which will receive a pidfd of the init')
  .option('--no-subreaper', 'reap only the container\'s init, not the processes it orphans')
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

program.command('bundle')
  .description('make a bundle (config.json + rootfs) from an image, or remove one')
  .argument('<dest>', 'the bundle directory to create (or remove)')
  .option('--image <src>', 'the image: oci:DIR[:TAG], oci-archive:FILE[:TAG] or docker-archive:FILE')
  .option('--cache <dir>', 'layer cache (default: .runts-cache beside DEST)')
  .option('--copy', 'a plain rootfs directory instead of an overlay of the cached layers', false)
  .option('--remove', 'unmount and remove a bundle made by runts bundle', false)
  .action(action(() => require('./commands/bundle').bundle));

program.command('validate')
  .description('check a bundle\'s config.json (schemas, every rule create applies, what this host supports) without creating anything')
  .option('-b, --bundle <dir>', 'path to the root of the bundle directory', '.')
  .addOption(new Option('-f, --format <format>', 'output format').choices(['text', 'json']).default('text'))
  .action(action(() => require('./commands/validate').validate));

program.command('features')
  .description('show what this runtime supports (runtime-spec features.md)')
  .action(action(() => require('./commands/features').features));

const collect = (v: string, prev: string[]) => [...prev, v];
program.command('exec')
  .description('execute a new process inside the container')
  .argument('<container-id>')
  .argument('[command...]', 'the command and its arguments (unless --process)')
  .option('-p, --process <file>', 'path to a process.json (- for stdin)')
  .option('-d, --detach', 'detach from the process', false)
  .option('--pid-file <file>', 'file to write the process id to')
  .option('--console-socket <path>', 'path to an AF_UNIX socket which will receive the pty master')
  .option('-t, --tty', 'allocate a pseudo-TTY', false)
  .option('--cwd <dir>', 'current working directory in the container')
  .option('-e, --env <K=V>', 'set an environment variable (repeatable)', collect, [])
  .option('-u, --user <uid[:gid]>', 'user and group ids')
  .option('-g, --additional-gids <gid>', 'additional gids (repeatable)', collect, [])
  .option('-c, --cap <cap>', 'add a capability (repeatable)', collect, [])
  .option('--no-new-privs', 'set no_new_privs', false)
  .option('--preserve-fds <n>', 'pass N additional file descriptors to the process', int, 0)
  .option('--process-label <label>', 'SELinux label of the process (hosts with SELinux)')
  .option('--apparmor <profile>', 'AppArmor profile of the process (hosts with AppArmor)')
  .option('--cgroup <[controller:]path>', 'run in an existing sub-cgroup of the container\'s (repeatable)', collect, [])
  .option('--pidfd-socket <path>', 'path to an AF_UNIX socket which will receive a pidfd of the process')
  .option('--ignore-paused', 'allow exec in a paused container', false)
  .passThroughOptions()
  .action(action(() => require('./commands/exec').exec));

program.command('ps')
  .description('list the processes running inside a container')
  .argument('<container-id>')
  .argument('[ps-options...]', 'options for the host ps (default -ef)')
  .addOption(new Option('-f, --format <format>', 'output format').choices(['table', 'json']).default('table'))
  .passThroughOptions()
  .action(action(() => require('./commands/ps').ps));

program.command('pause')
  .description('suspend all processes inside the container')
  .argument('<container-id>')
  .action(action(() => require('./commands/pause').pause));

program.command('resume')
  .description('resume all processes that have been previously paused')
  .argument('<container-id>')
  .action(action(() => require('./commands/resume').resume));

program.command('update')
  .description('update container resource constraints')
  .argument('<container-id>')
  .option('-r, --resources <file>', 'linux.resources JSON to apply (- reads stdin); the other flags are then ignored')
  .option('--blkio-weight <n>', 'block IO weight (10-1000)')
  .option('--cpu-period <us>', 'CPU CFS period')
  .option('--cpu-quota <us>', 'CPU CFS quota (-1: none)')
  .option('--cpu-burst <us>', 'CPU CFS burst')
  .option('--cpu-rt-period <us>', 'CPU real-time period')
  .option('--cpu-rt-runtime <us>', 'CPU real-time runtime')
  .option('--cpu-share <n>', 'CPU shares (relative weight)')
  .option('--cpu-idle <0|1>', 'SCHED_IDLE for the cgroup')
  .option('--cpuset-cpus <list>', 'CPUs to run on (0-3, 0,1)')
  .option('--cpuset-mems <list>', 'memory nodes to use (0-3, 0,1)')
  .option('--kernel-memory <size>', 'kernel memory limit (v1; ignored by recent kernels)')
  .option('--kernel-memory-tcp <size>', 'kernel TCP buffer limit (v1)')
  .option('--memory <size>', 'memory limit (e.g. 64m, 1g; -1: none)')
  .option('--memory-reservation <size>', 'memory soft limit')
  .option('--memory-swap <size>', 'memory plus swap limit (-1: none)')
  .option('--pids-limit <n>', 'maximum number of processes (0 or -1: none)')
  .option('--l3-cache-schema <schema>', 'Intel RDT L3 cache schema (refused: Intel RDT is not supported)')
  .option('--mem-bw-schema <schema>', 'Intel RDT memory bandwidth schema (refused: Intel RDT is not supported)')
  .action(action(() => require('./commands/update').update));

program.command('events')
  .description('display container events such as OOM notifications and resource usage')
  .argument('<container-id>')
  .option('--stats', 'print the resource usage once and exit', false)
  .option('--interval <duration>', 'how often to print the usage', '5s')
  .action(action(() => require('./commands/events').events));

program.parseAsync(process.argv).catch((e) => {
  logError((e as Error).message);
  process.exitCode = 1;
});
