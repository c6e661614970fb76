// The stub's own moves into the container's cgroups (see joinPlan in src/cgroups/index.ts for why and when).
import { Step, step, str } from './encode';

/** The joins the stub makes itself (the shape of src/cgroups' JoinPlan: facts, not an import). */
export interface CgroupJoin {
  /** v1 `tasks` files the stub writes "0" to, first thing */
  tasks: string[];
  /** the cgroup2 directory the stub forks the init into */
  forkInto?: string;
}

/** The plan with the stub's own cgroup moves: the v1 joins first (after an initial AFFINITY), the cgroup2 target right before FORK. */
export function withCgroupJoin(steps: Step[], join: CgroupJoin): Step[] {
  // an exec's initial CPU affinity (AFFINITY steps at the start) is set before the process joins any cgroup
  let lead = 0;
  while (lead < steps.length && steps[lead].op === 'AFFINITY') lead++;
  const out = [...steps.slice(0, lead), ...join.tasks.map((t) => step('CGROUP_JOIN', str(t)))];
  let into = join.forkInto;
  for (const st of steps.slice(lead)) {
    if (st.op === 'FORK' && into) out.push(step('CGROUP_FORK_INTO', str(into)));
    if (st.op === 'FORK') into = undefined;
    out.push(st);
  }
  return out;
}
