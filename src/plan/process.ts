// The container process: console, rlimits, personality, identity, capabilities, no_new_privs, umask, cwd and the
// executable, for both create (the init) and exec (a process joining a running container).
import { lsmSteps } from './lsm';
import type { HostFacts } from './facts';
import type { Spec } from '../config/types';
import { Step, step, str, u64, u64v } from './encode';
import { ChdirHow } from './ops';
import { ambientMask, capMask } from './caps';
import { procFieldSteps } from './procfields';
import { RLIMITS, rlimitValue } from '../config/rules';
import { PERSONALITY } from '../config/tables';

const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** HOME from the container's /etc/passwd (HostFacts.passwd), "/" without an entry. */
export function homeOf(passwd: string, uid: number): string {
  for (const line of passwd.split('\n')) {
    const f = line.split(':');
    if (f.length >= 6 && Number(f[2]) === uid) return f[5] || '/';
  }
  return '/';
}

export interface ProcessOptions {
  /** the host's LSMs, the rootfs's passwd */
  facts: Pick<HostFacts, 'lsm' | 'passwd'>;
  /** the console socket fd in the child, when process.terminal */
  consoleFd?: number;
  /** bind the terminal over /dev/console (create's first process; never an exec) */
  mountConsole?: boolean;
  /** extra environment (LISTEN_FDS...) */
  extraEnv?: string[];
  /** the SECCOMP step (linux.seccomp), and whether it hands a listener fd to runts over the sync socket */
  seccomp?: { step: Step; notify: boolean };
  /** create: READY closes the sync socket before EXEC, so a listener fd must be handed over before READY */
  readyBeforeExec?: boolean;
}

const CAP_SYS_ADMIN = 1n << 21n;

export interface ProcessPlan {
  /** set-up steps, in order (CONSOLE ... LOOKUP) */
  setup: Step[];
  /** steps that must come last, right before EXEC (after start-time hooks) */
  beforeExec: Step[];
  /** the environment EXEC gets */
  env: string[];
}

export function processSteps(spec: Spec, o: ProcessOptions): ProcessPlan {
  const proc = spec.process!;
  const linux = spec.linux ?? {};
  const s: Step[] = [];
  const beforeExec: Step[] = [];
  const user = proc.user ?? { uid: 0, gid: 0 };
  s.push(...terminalSteps(spec, o), ...rlimitsSteps(spec), ...personalitySteps(spec), ...capabilitiesBoundingSteps(spec));
  const caps = proc.capabilities;
  const effective = caps ? capMask(caps.effective, 'process.capabilities.effective') : undefined;
  // Seccomp: SECCOMP builds the filter, SECCOMP_LOAD loads it. Without no_new_privs the kernel only lets a
  // process with CAP_SYS_ADMIN load a filter: when the process is going to lose it, the filter is loaded
  // before the step that drops it (USER for a non-root user, which clears the effective set, else CAPS), as
  // runc does; the steps after it run under the filter. Otherwise it is loaded as late as possible, right
  // before EXEC (after the wait for start and the startContainer hooks), and built at the end of the set-up
  // so that a filter libseccomp refuses fails create. In create, a filter that hands a listener fd to runts
  // is loaded before READY, which closes the sync socket.
  const sc = o.seccomp;
  const keepsSysAdmin = effective !== undefined ? (effective & CAP_SYS_ADMIN) !== 0n : user.uid === 0;
  const early = !!sc && !proc.noNewPrivileges && !keepsSysAdmin;
  // memory policy, I/O priority and scheduler while the process still has CAP_SYS_NICE/CAP_SYS_ADMIN (as runc)
  s.push(...procFieldSteps(proc, linux));
  // AppArmor/SELinux exec labels while the process still may set them (as runc, before the user switch)
  if (proc.apparmorProfile || proc.selinuxLabel) s.push(...lsmSteps(spec, o.facts.lsm));
  // CHDIR comes twice, as in runc: before USER (as root, for a cwd the user cannot enter), where a refusal
  // (EACCES, EPERM) is left to the one after it; and after USER (for a cwd only the user can enter, e.g. on
  // root-squashed NFS), where a refusal is no error when the first one already entered that directory
  s.push(step('CHDIR', str(proc.cwd), u64(ChdirHow.REFUSAL_OK)));
  if (early && user.uid !== 0) s.push(sc.step, step('SECCOMP_LOAD'));
  s.push(...userSteps(spec));
  if (early && user.uid === 0) s.push(sc.step, step('SECCOMP_LOAD'));
  s.push(...capabilitiesSteps(spec, effective), ...noNewPrivilegesSteps(spec), ...umaskSteps(spec));
  s.push(step('CHDIR', str(proc.cwd), u64(ChdirHow.SAME_OK)));
  const env = envOf(spec, o);
  s.push(...argsSteps(spec, env));
  if (sc && !early) {
    s.push(sc.step);
    if (sc.notify && o.readyBeforeExec) s.push(step('SECCOMP_LOAD'));
    else beforeExec.push(step('SECCOMP_LOAD'));
  }

  return { setup: s, beforeExec, env };
}

/**
 * process.terminal, process.consoleSize: the pty from the console socket on fds 0-2; bound over /dev/console for
 * the first process only (an exec's pty is not mounted there: runc's order). The pty's owner becomes the
 * process's uid, its group stays devpts' (runc's fixStdioPermissions).
 */
function terminalSteps(spec: Spec, o: ProcessOptions): Step[] {
  const proc = spec.process!;
  if (!proc.terminal) return [];
  return [step('CONSOLE', u64(o.consoleFd!), u64(proc.consoleSize?.height ?? 0), u64(proc.consoleSize?.width ?? 0),
    u64(o.mountConsole ? 1 : 0), u64(proc.user?.uid ?? 0))];
}

/** process.rlimits (checkRlimits: known types, soft not above hard). */
function rlimitsSteps(spec: Spec): Step[] {
  return (spec.process!.rlimits ?? []).map((r) => step('RLIMIT', u64(RLIMITS[r.type]), u64(rlimitValue(r.soft)), u64(rlimitValue(r.hard))));
}

/** linux.personality (checkPersonality: LINUX or LINUX32). */
function personalitySteps(spec: Spec): Step[] {
  const p = spec.linux?.personality;
  return p ? [step('PERSONALITY', u64(PERSONALITY[p.domain]))] : [];
}

/** process.capabilities.bounding: dropped while the process is still root. */
function capabilitiesBoundingSteps(spec: Spec): Step[] {
  const caps = spec.process!.capabilities;
  return caps ? [step('CAPS_BOUNDING', u64(capMask(caps.bounding, 'process.capabilities.bounding')))] : [];
}

/** process.user: uid, gid and additionalGids (setgroups as well: 1). */
function userSteps(spec: Spec): Step[] {
  const user = spec.process!.user ?? { uid: 0, gid: 0 };
  return [step('USER', u64(user.uid), u64(user.gid), u64(1), u64v(user.additionalGids ?? []))];
}

/** process.capabilities: effective (given, read once by processSteps), permitted, inheritable, ambient. */
function capabilitiesSteps(spec: Spec, effective: bigint | undefined): Step[] {
  const caps = spec.process!.capabilities;
  if (!caps) return [];
  return [step('CAPS',
    u64(effective!),
    u64(capMask(caps.permitted, 'process.capabilities.permitted')),
    u64(capMask(caps.inheritable, 'process.capabilities.inheritable')),
    u64(ambientMask(caps)))];
}

/** process.noNewPrivileges */
function noNewPrivilegesSteps(spec: Spec): Step[] {
  return spec.process!.noNewPrivileges ? [step('NO_NEW_PRIVS')] : [];
}

/** process.user.umask (default 0022). */
function umaskSteps(spec: Spec): Step[] {
  return [step('UMASK', u64(spec.process!.user?.umask ?? 0o022))];
}

/** process.env, with HOME from the rootfs's passwd when not set, and the extra environment (LISTEN_FDS...). */
function envOf(spec: Spec, o: ProcessOptions): string[] {
  const proc = spec.process!;
  const env = [...(proc.env ?? [])];
  if (!env.some((e) => e.startsWith('HOME='))) env.push(`HOME=${homeOf(o.facts.passwd, proc.user?.uid ?? 0)}`);
  env.push(...(o.extraEnv ?? []));
  return env;
}

/** process.args[0]: looked up in the container's PATH (env's, else the default) before EXEC. */
function argsSteps(spec: Spec, env: string[]): Step[] {
  const pathVar = env.find((e) => e.startsWith('PATH='))?.slice(5) || DEFAULT_PATH;
  return [step('LOOKUP', str(spec.process!.args![0]), str(pathVar))];
}

