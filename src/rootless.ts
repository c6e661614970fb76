// Rootless operation: whether runts runs without the host's root (`--rootless auto|true|false`, as runc decides
// it), where its state lives then, and the limits an unprivileged caller cannot raise. The decision is made once
// per call (action.ts) and read by create, exec and the cgroups code.
import { RuntimeError } from './errors';
import { readText } from './io';

/** /proc/self/uid_map of the initial user namespace: the full identity map. */
export function inUserNamespace(uidMap: string | undefined): boolean {
  if (uidMap === undefined) return false;
  const lines = uidMap.trim().split('\n').map((l) => l.trim().split(/\s+/).join(' '));
  return !(lines.length === 1 && lines[0] === '0 0 4294967295');
}

/**
 * runc's shouldUseRootlessCgroupManager: an explicit true/false wins; auto is rootless when the effective uid is
 * not 0, or when runts runs as root of a user namespace that is not the initial one (rootless podman's).
 */
export function decideRootless(flag: string, euid: number, uidMap: string | undefined): boolean {
  if (flag === 'true') return true;
  if (flag === 'false') return false;
  return euid !== 0 || inUserNamespace(uidMap);
}

/**
 * The state root without --root: `$XDG_RUNTIME_DIR/runts` for a rootless caller that has one (runc:
 * `$XDG_RUNTIME_DIR/runc`), `/run/runts` otherwise; a non-root user without XDG_RUNTIME_DIR gets an error
 * (it cannot write /run/runts, and a state root shared between users is out of question).
 */
export function defaultRoot(rootless: boolean, euid: number, xdgRuntimeDir: string | undefined): string {
  if (rootless && xdgRuntimeDir) return xdgRuntimeDir.replace(/\/+$/, '') + '/runts';
  if (euid !== 0) {
    throw new RuntimeError('--root: not given and XDG_RUNTIME_DIR is not set: a non-root user needs one of them for the state directory (runts would use $XDG_RUNTIME_DIR/runts)');
  }
  return '/run/runts';
}

/** What --rootless said and who we are; the decision is made on first use (it may read /proc/self/uid_map). */
let pending: { flag: string; euid: number; readUidMap: () => string | undefined } = { flag: 'auto', euid: 0, readUidMap: () => undefined };
let decision: { rootless: boolean; euid: number; inUserNs: boolean } | undefined;

/**
 * Record --rootless for this call. Nothing is read yet: only create and exec (and a default --root where
 * XDG_RUNTIME_DIR is set) need the decision, and reading /proc/self/uid_map would load node:fs into every
 * state, start, kill and delete (≈ 140 page faults).
 */
export function configureRootless(flag: string, euid: number, readUidMap: () => string | undefined): void {
  pending = { flag, euid, readUidMap };
  decision = undefined;
}

/** Set the decision outright (tests). */
export function setRootless(rootless: boolean, euid: number, inUserNs = false): void {
  decision = { rootless, euid, inUserNs };
}

function decided(): { rootless: boolean; euid: number; inUserNs: boolean } {
  if (!decision) {
    const uidMap = pending.euid === 0 ? pending.readUidMap() : undefined;
    decision = {
      rootless: decideRootless(pending.flag, pending.euid, pending.flag === 'auto' ? uidMap : undefined),
      euid: pending.euid,
      inUserNs: inUserNamespace(uidMap),
    };
  }
  return decision;
}

/**
 * Does runts itself run in a user namespace other than the initial one (rootless podman's, as root there)? No
 * capability reaches the initial namespace then: device nodes cannot be made (runc binds them, as in a container
 * user namespace). Known for a caller with euid 0 (an unprivileged caller binds them anyway: it has no user
 * namespace of its own without one in the config).
 */
export function runtimeInUserNs(): boolean {
  return decided().inUserNs;
}

/** Is this call rootless (decided from --rootless, on first use)? */
export function isRootless(): boolean {
  return decided().rootless;
}

/** Is runts running with an effective uid other than 0 (it cannot write id maps of ranges itself)? */
export function rootlessEuid(): boolean {
  const d = decided();
  return d.rootless && d.euid !== 0;
}

export interface UnprivilegedFacts {
  /** /proc/self/oom_score_adj of runts (the stub inherits it) */
  oomScoreAdj: number;
  /** current hard limits by name (RLIMIT_NOFILE...), from /proc/self/limits; undefined = unlimited */
  hard: Record<string, number | undefined>;
}

/** /proc/self/limits → hard limits keyed by RLIMIT_* name (undefined = unlimited). */
export function parseLimits(text: string): Record<string, number | undefined> {
  const names: Record<string, string> = {
    'Max cpu time': 'RLIMIT_CPU', 'Max file size': 'RLIMIT_FSIZE', 'Max data size': 'RLIMIT_DATA',
    'Max stack size': 'RLIMIT_STACK', 'Max core file size': 'RLIMIT_CORE', 'Max resident set': 'RLIMIT_RSS',
    'Max processes': 'RLIMIT_NPROC', 'Max open files': 'RLIMIT_NOFILE', 'Max locked memory': 'RLIMIT_MEMLOCK',
    'Max address space': 'RLIMIT_AS', 'Max file locks': 'RLIMIT_LOCKS', 'Max pending signals': 'RLIMIT_SIGPENDING',
    'Max msgqueue size': 'RLIMIT_MSGQUEUE', 'Max nice priority': 'RLIMIT_NICE', 'Max realtime priority': 'RLIMIT_RTPRIO',
    'Max realtime timeout': 'RLIMIT_RTTIME',
  };
  const out: Record<string, number | undefined> = {};
  for (const line of text.split('\n')) {
    for (const [label, name] of Object.entries(names)) {
      if (!line.startsWith(label + ' ')) continue;
      const cols = line.slice(label.length).trim().split(/\s+/);
      out[name] = cols[1] === 'unlimited' ? undefined : Number(cols[1]);
    }
  }
  return out;
}

/**
 * What a caller without CAP_SYS_RESOURCE in the initial user namespace cannot ask for (a user namespace gives no
 * such capability): an oomScoreAdj below the current value, a hard rlimit above the current one. Checked before
 * anything is created, with errors naming the field (the kernel would only say "permission denied").
 */
export function checkUnprivileged(proc: { oomScoreAdj?: number; rlimits?: { type: string; hard: number; soft: number }[] } | undefined,
  facts: UnprivilegedFacts, field = 'process'): void {
  if (!proc) return;
  if (proc.oomScoreAdj !== undefined && proc.oomScoreAdj < facts.oomScoreAdj) {
    throw new RuntimeError(`${field}.oomScoreAdj: ${proc.oomScoreAdj} is below the current value ${facts.oomScoreAdj}, which only a privileged user may set (rootless)`);
  }
  (proc.rlimits ?? []).forEach((r, i) => {
    const cur = facts.hard[r.type];
    if (cur === undefined || !(r.type in facts.hard)) return;
    const want = Number(r.hard);
    // 2^64-1 (and any value above what the kernel keeps) is RLIM_INFINITY
    if (want >= 2 ** 63 || want > cur) {
      throw new RuntimeError(`${field}.rlimits[${i}].hard: ${r.type} ${r.hard} is above the current hard limit ${cur}, which only a privileged user may raise (rootless)`);
    }
  });
}

/** The facts checkUnprivileged needs, read from /proc/self. */
export function unprivilegedFacts(): UnprivilegedFacts {
  return {
    oomScoreAdj: Number(readText('/proc/self/oom_score_adj').trim()),
    hard: parseLimits(readText('/proc/self/limits')),
  };
}
