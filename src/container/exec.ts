// exec: run a new process in a running container (plan in src/plan/exec.ts). Holds the container's lock until
// the process is in the container's namespaces and cgroups (PID), not while it runs up to its execve: in a
// paused container it is frozen there, and resume needs the lock. Then, unless detached, waits for it and
// returns its exit status.
import { O_TRUNC, writeText } from '../io';
import { RuntimeError, errnoText, fieldOf } from '../errors';
import { checkCwd, checkProcessFields, problemText, throwFirst } from '../config/rules';
import type { Process } from '../config/types';
import type { ExactInts } from '../config/json';
import { checkConfig } from '../config/validate';
import { loadNative } from '../native';
import { buildExecPlan } from '../plan/exec';
import { gatherFacts, isHostNs } from './facts';
import { closeQuiet, stubFds } from './stub';
import { checkPreserved, connectConsole, killProcess, launchStub } from './launchstub';
import { Saved, canExec, hookState, writePidFile } from './state';
import { openContainer } from './access';
import type { TtyRelay } from './tty';
import { SIGNALS } from './signals';
import { checkUnprivileged, isRootless, rootlessEuid, unprivilegedFacts } from '../rootless';

export interface ExecOptions {
  root: string;
  id: string;
  process: Process;
  detach: boolean;
  pidFile?: string;
  consoleSocket?: string;
  preserveFds: number;
  ignorePaused: boolean;
  /** --cgroup: sub-cgroups of the container's to run in */
  subCgroups?: string[];
  /** --pidfd-socket: where a pidfd of the process goes */
  pidfdSocket?: string;
  /** told the process's host pid once it runs in the container (and the pid file is written) */
  onStarted?: (pid: number) => void;
}

/** Check a process object the way config.json's process is checked. */
export function validateProcess(proc: unknown, exact?: ExactInts): Process {
  const under = exact && new Map([...exact].map(([p, v]) => [`/process${p}`, v]));
  const { spec, problems } = checkConfig({ ociVersion: '1.3.0', root: { path: '/' }, process: proc }, under);
  if (spec?.process) return spec.process;
  const errors = problems.length ? problems.map(problemText) : ['must be an object'];
  throw new RuntimeError(`process: ${errors[0]}${errors.length > 1 ? ` (and ${errors.length - 1} more)` : ''}`, 1, fieldOf(errors[0]));
}

export async function execProcess(o: ExecOptions): Promise<number> {
  const native = loadNative();
  // the lock is released once the process is in (below), not when it exits
  const opened = openContainer(o.root, o.id, (st) => canExec(st, o.ignorePaused), (st) => st === 'paused'
    ? 'cannot exec in a paused container (use --ignore-paused to override)' : `cannot exec in a ${st} container`);
  const { release, status } = opened;
  let pidfd: number | undefined;
  let consoleFd: number | undefined;
  let tty: TtyRelay | undefined;
  let pid: number | undefined;
  const saved: Saved = opened.saved;
  let wasSubreaper: boolean | undefined;
  // a process that fails to start is killed; adopted already (not detached), it is reaped, or it would stay a
  // zombie of ours in the container's pid namespace, and the container's init could never finish exiting
  const failWait = o.detach ? 0 : 2000;
  try {
    let proc = o.process;
    if (isRootless()) checkUnprivileged(proc, unprivilegedFacts());
    if (proc.oomScoreAdj !== undefined && rootlessEuid()) {
      // A non-root caller cannot write the non-dumpable stub's /proc/self files (they belong to the host's root
      // while it is not dumpable), so runts sets its own value, which the stub and the process inherit (only a
      // raise, checked above), and the plan leaves it out.
      try {
        writeText('/proc/self/oom_score_adj', String(proc.oomScoreAdj), O_TRUNC);
      } catch (e) {
        throw new RuntimeError(`process.oomScoreAdj: write /proc/self/oom_score_adj: ${errnoText(e)}`);
      }
      proc = { ...proc, oomScoreAdj: undefined };
    }
    if (!proc.args?.length) throw new RuntimeError('exec: args must not be empty');
    throwFirst(checkCwd(proc.cwd ?? '', 'exec: cwd'));
    // the process rules (config/rules.ts) the planner assumes, on the process exec was given
    throwFirst(checkProcessFields({ ...saved.config, process: proc }));
    checkPreserved(o.preserveFds);
    if (proc.terminal) {
      if (o.consoleSocket) {
        consoleFd = connectConsole(o.consoleSocket);
      } else if (!o.detach) {
        tty = (require('./tty') as typeof import('./tty')).openTtyRelay();
        consoleFd = tty.conn;
      } else {
        throw new RuntimeError('cannot allocate tty if runts will detach without setting console socket');
      }
    }
    const fds = stubFds({ preserve: o.preserveFds, console: consoleFd !== undefined });
    // the v1 cgroups are joined by the stub itself before it enters the namespaces; the cgroup2 one by us at PID
    const cgroups = saved.cgroup ? require('../cgroups') as typeof import('../cgroups') : undefined;
    // In a paused container, a stub that joined the v1 freezer cgroup itself would freeze before PID, with the
    // lock held: there we move its child into every cgroup at PID instead, and release the lock right after.
    const cg = saved.cgroup && o.subCgroups?.length ? (require('../cgroups/sub') as typeof import('../cgroups/sub')).withSubCgroups(saved.cgroup, o.subCgroups) : saved.cgroup;
    if (!cg && o.subCgroups?.length) throw new RuntimeError('--cgroup: the container has no cgroups');
    let join = cg && cgroups?.joinPlan(cg, false);
    if (join && status === 'paused') join = { tasks: [], byRuntime: [...Object.values(cg!.paths), ...join.byRuntime] };
    // a container without a mount namespace of its own is in ours: its root is the init's chroot
    const chroot = isHostNs('mount', `/proc/${saved.pid}/ns/mnt`);
    const steps = buildExecPlan(saved.config, gatherFacts(saved.config, { rootfs: saved.rootfs }), saved.pid, proc, { fds, chroot, cgroupJoin: join });
    // the exec'd process's parent (the stub's first process) exits: it must be reparented to us to be waited for
    // (then back as it was: a caller that goes on, the API's, must not adopt what the container orphans later)
    if (!o.detach) wasSubreaper = native.setChildSubreaper(true);
    const s = saved;
    const launched = await launchStub({
      steps, fds, consoleFd, root: o.root, until: 'exec',
      pidfdSocket: o.pidfdSocket ? { path: o.pidfdSocket, message: 'setns' } : undefined,
      seccomp: saved.config.linux?.seccomp,
      state: () => hookState(s, 'running'),
      failWaitMs: failWait, reapOnFailure: !o.detach,
      onPid: (p) => {
        if (join) cgroups!.joinCgroups(p, join.byRuntime);
        // the process holds the container's namespaces and is in its cgroups: delete would kill it with the
        // rest; from here it may be frozen until resume, which must be able to take the lock
        release();
      },
    });
    ({ pid, pidfd } = launched);
    if (o.pidFile) writePidFile(o.pidFile, pid);
  } catch (e) {
    if (wasSubreaper === false) native.setChildSubreaper(false);
    // launchStub killed it when the launch failed; the pid file could not be written: kill it here
    if (pidfd !== undefined) killProcess(pid, pidfd, failWait, !o.detach);
    tty?.close();
    throw e;
  } finally {
    if (consoleFd !== undefined && !tty) closeQuiet(consoleFd);
    release();
  }
  o.onStarted?.(pid!);
  if (o.detach) {
    closeQuiet(pidfd);
    return 0;
  }
  const stop = tty?.relay();
  const forward = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2'].map((sig) => {
    const h = () => { try { native.pidfdSendSignal(pidfd!, SIGNALS[sig]); } catch { /* gone */ } };
    process.on(sig, h);
    return [sig, h] as const;
  });
  const r = await native.waitPidfd(pidfd!);
  if (wasSubreaper === false) native.setChildSubreaper(false);
  for (const [sig, h] of forward) process.off(sig, h);
  closeQuiet(pidfd);
  await stop?.({ untilClosed: false });
  return r.signal ? 128 + r.signal : (r.code ?? 0);
}
