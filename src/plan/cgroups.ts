// The stub's own moves into the container's cgroups (see joinPlan in src/cgroups/index.ts for why and when).
import { Step, step, str } from './encode';

/** The joins the stub makes itself (the shape of src/cgroups' JoinPlan: facts, not an import). */
export interface CgroupJoin {
  /** v1 `tasks` files the stub writes "0" to, first thing */
  tasks: string[];
  /** the cgroup2 directory the stub forks the init into */
  forkInto?: string;
}

/**
 * The join steps, placed by the planners: `tasks` (a `CGROUP_JOIN` per v1 hierarchy) as the very first steps,
 * before any namespace is entered (after an exec's initial AFFINITY); `forkInto` (`CGROUP_FORK_INTO`) right
 * before `FORK`, which then clones the init into that cgroup2 directory.
 */
export function cgroupJoinSteps(join: CgroupJoin | undefined): { tasks: Step[]; forkInto: Step[] } {
  return {
    tasks: (join?.tasks ?? []).map((t) => step('CGROUP_JOIN', str(t))),
    forkInto: join?.forkInto ? [step('CGROUP_FORK_INTO', str(join.forkInto))] : [],
  };
}
