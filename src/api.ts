// The package entry (`import { Runtime } from 'runts'`): the runtime as a typed API for Node (>= 20) and Bun
// tools. Every method is the function its CLI command calls (src/container/, src/image/), so both behave alike;
// the commands import those functions directly, never this module (it would load everything on every call).
// Failures are RuntimeError: `message` is what the CLI prints after "runts: ", `field` the config.json field
// it is about when there is one.
import { RuntimeError } from './errors';
import { DEFAULT_GLOBALS, resolveRootless, type Globals } from './action';
import { checkId } from './ids';
import type { Process, Spec } from './config/types';
import type { ContainerEvent } from './container/events';
import type { Stats } from './cgroups/stats';
import type { Problem } from './config/rules';
import type { ValidateResult } from './commands/validate';
import { containerState, listContainers, view, type StateView, type Status } from './container/state';
import { deleteById, startContainer } from './container/lifecycle';
import { killContainer } from './container/kill';

export { RuntimeError };
export type { Process, Spec, ContainerEvent, Stats, Status, Problem, ValidateResult };
/** The OCI state of a container, plus runc's `rootfs`, `created` and `owner`. */
export type State = StateView;

export interface RuntimeOptions {
  /** the state directory (runc's --root); default as the CLI's: /run/runts, or $XDG_RUNTIME_DIR/runts rootless */
  root?: string;
  /** runc's --rootless: 'auto' (default: rootless when not root or in a user namespace not the initial one) */
  rootless?: 'auto' | 'true' | 'false';
  /** cgroupsPath is `slice:prefix:name` and the cgroup a transient systemd scope (--systemd-cgroup) */
  systemdCgroup?: boolean;
}

export interface CreateOptions {
  /** the bundle directory (holding config.json); relative to the current directory */
  bundle: string;
  /** a file that receives the init's host pid */
  pidFile?: string;
  /** an AF_UNIX socket that receives the pty master when process.terminal is set */
  consoleSocket?: string;
  /** an AF_UNIX socket that receives a pidfd of the init */
  pidfdSocket?: string;
  /** pass fds 3 .. 3+N-1 of this process to the container */
  preserveFds?: number;
  /** MS_MOVE + chroot instead of pivot_root */
  noPivot?: boolean;
}

export interface ExecOptions {
  /** return once the process runs (its pid); otherwise wait for it and return its exit status too */
  detach?: boolean;
  pidFile?: string;
  consoleSocket?: string;
  pidfdSocket?: string;
  preserveFds?: number;
  /** exec into a paused container */
  ignorePaused?: boolean;
  /** sub-cgroups of the container's to run in: `PATH` or `CONTROLLER[,CONTROLLER]:PATH` (exec --cgroup) */
  cgroups?: string[];
}

export interface ExecResult {
  /** the process's host pid */
  pid: number;
  /** without `detach`: its exit status (128 + signal when killed) */
  exitCode?: number;
}

export interface EventsOptions {
  /** milliseconds between stats events (default 5000) */
  interval?: number;
}

export interface BundleOptions {
  /** oci:DIR[:TAG], oci-archive:FILE[:TAG] or docker-archive:FILE */
  image: string;
  /** the layer cache (default: the destination's parent's .runts-cache); not with `copy` */
  cache?: string;
  /** a flattened rootfs directory instead of an overlayfs of cached layers */
  copy?: boolean;
}

/** Any failure as a RuntimeError (an unexpected one keeps the original as `cause`). */
function typed(e: unknown): RuntimeError {
  if (e instanceof RuntimeError) return e;
  const r = new RuntimeError(e instanceof Error ? e.message : String(e));
  Object.defineProperty(r, 'cause', { value: e, enumerable: false, configurable: true, writable: true });
  return r;
}

async function call<T>(f: () => T | Promise<T>): Promise<T> {
  try {
    return await f();
  } catch (e) {
    throw typed(e);
  }
}

export class Runtime {
  readonly systemdCgroup: boolean;
  private readonly g: Globals;

  /** Decides --rootless as the CLI does (the process-wide rootless state follows the last Runtime made). */
  constructor(o: RuntimeOptions = {}) {
    this.systemdCgroup = !!o.systemdCgroup;
    this.g = { ...DEFAULT_GLOBALS, root: o.root ?? '', rootless: o.rootless ?? 'auto', systemdCgroup: this.systemdCgroup };
    if (!['auto', 'true', 'false'].includes(this.g.rootless)) throw new RuntimeError(`rootless: must be auto, true or false, got "${this.g.rootless}"`);
    resolveRootless(this.g);
  }

  /** the state directory; reading it throws when there is no default (rootless without XDG_RUNTIME_DIR) */
  get root(): string {
    try {
      return this.g.root;
    } catch (e) {
      throw typed(e);
    }
  }

  /** `create`: set the container up; its process waits for start. The container's stdio is this process's. */
  create(id: string, o: CreateOptions): Promise<State> {
    return call(async () => {
      checkId(id);
      const { createContainer } = require('./container/launch') as typeof import('./container/launch');
      const c = await createContainer({
        id, root: this.root, bundle: o.bundle, pidFile: o.pidFile, consoleSocket: o.consoleSocket, pidfdSocket: o.pidfdSocket,
        preserveFds: o.preserveFds ?? 0, noPivot: !!o.noPivot, systemdCgroup: this.systemdCgroup,
      });
      return view(c.saved, 'created');
    });
  }

  /** `start`: resolves once the user process has been exec'd. */
  start(id: string): Promise<void> {
    return call(() => startContainer(this.root, id));
  }

  state(id: string): Promise<State> {
    return call(() => containerState(this.root, id));
  }

  /** `kill`: a signal name (`TERM`, `SIGKILL`) or number, default SIGTERM; 0 only checks that it is alive. */
  kill(id: string, signal: string | number = 'SIGTERM', o: { all?: boolean } = {}): Promise<void> {
    return call(() => killContainer(this.root, id, signal, !!o.all));
  }

  /** `delete`: `force` kills a running container first and succeeds when it does not exist. */
  delete(id: string, o: { force?: boolean } = {}): Promise<void> {
    return call(() => deleteById(this.root, id, !!o.force));
  }

  /** `exec --process`: run `process` (checked as config.json's process is) in the running container. */
  exec(id: string, process: Process, o: ExecOptions = {}): Promise<ExecResult> {
    return call(async () => {
      checkId(id);
      const { execProcess, validateProcess } = require('./container/exec') as typeof import('./container/exec');
      const proc = validateProcess(JSON.parse(JSON.stringify(process)));
      let pid = 0;
      const status = await execProcess({
        root: this.root, id, process: proc, detach: !!o.detach, pidFile: o.pidFile, consoleSocket: o.consoleSocket,
        preserveFds: o.preserveFds ?? 0, ignorePaused: !!o.ignorePaused, subCgroups: o.cgroups, pidfdSocket: o.pidfdSocket,
        onStarted: (p) => { pid = p; },
      });
      return o.detach ? { pid } : { pid, exitCode: status };
    });
  }

  /** `list`: every container under root, by id. */
  list(): Promise<State[]> {
    return call(() => listContainers(this.root));
  }

  /**
   * `events`: a `stats` event every interval (the first at once), an `oom` event when the OOM killer strikes;
   * ends when the container stops. The container is checked when the iteration starts.
   */
  async *events(id: string, o: EventsOptions = {}): AsyncGenerator<ContainerEvent, void, undefined> {
    const { containerEvents } = require('./container/events') as typeof import('./container/events');
    const it = containerEvents(this.root, id, o.interval ?? 5000);
    try {
      for (;;) {
        let r: IteratorResult<ContainerEvent, void>;
        try {
          r = await it.next();
        } catch (e) {
          throw typed(e);
        }
        if (r.done) return;
        yield r.value;
      }
    } finally {
      await it.return();
    }
  }

  /** `events --stats`: the container's cgroup stats once. */
  stats(id: string): Promise<Stats> {
    return call(() => {
      const { containerStats } = require('./container/events') as typeof import('./container/events');
      return (containerStats(this.root, id) as { data: Stats }).data;
    });
  }

  /**
   * `validate`: every problem of the bundle's config.json (schemas and create's rules), each naming its field,
   * and warnings for what this host cannot do for it. Writes nothing; resolves also when the config is invalid.
   */
  validate(bundle: string): Promise<ValidateResult> {
    return call(() => (require('./commands/validate') as typeof import('./commands/validate')).validateBundle(bundle, { systemdCgroup: this.systemdCgroup }));
  }

  /** `bundle --image SRC DEST`: a bundle (config.json + rootfs) from an image. */
  bundle(dest: string, o: BundleOptions): Promise<void> {
    return call(() => (require('./image') as typeof import('./image')).imageBundle(dest, o));
  }

  /** `bundle --remove DEST`: unmount and remove a bundle made by `bundle`. */
  removeBundle(dest: string): Promise<void> {
    return call(() => (require('./image') as typeof import('./image')).removeBundle(dest));
  }
}
