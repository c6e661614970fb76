// validate: checks a bundle's config.json with the schemas and every rule create applies (config/rules.ts), and
// says what this host cannot do, without creating anything (no state dir, no cgroup, no mount). Every problem,
// one per line, naming its field; exit 0 when valid (warnings allowed), 1 when not.
import * as fs from 'fs';
import * as path from 'path';
import type { Globals } from '../action';
import { RuntimeError, errnoText } from '../errors';
import { stdout } from '../io';
import { parseJsonBytes } from '../config/json';
import { resolveBundle } from '../config/load';
import { Problem, checkIntelRdtSupport, checkMountLabel, checkProcessLsm, planProblems, problemText } from '../config/rules';
import type { Spec } from '../config/types';
import { configProblems, schemaValidPart } from '../config/validate';
import { cgroupLayout, hostNsFacts, lsmFacts, type Layout } from '../container/facts';

export interface ValidateResult {
  valid: boolean;
  errors: Problem[];
  warnings: Problem[];
}

/** Whether field `x` is `y` or lies below it: a plan rule says nothing about a value the schema refused. */
function within(x: string, y: string): boolean {
  return x === y || x.startsWith(`${y}.`) || x.startsWith(`${y}[`);
}

const isObj = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Controllers a resource needs: v1 hierarchy names, v2 controller names (none: not on that version). */
const CONTROLLERS: Record<string, { v1: string[]; v2: string[] }> = {
  memory: { v1: ['memory'], v2: ['memory'] },
  cpu: { v1: ['cpu', 'cpuset'], v2: ['cpu', 'cpuset'] },
  pids: { v1: ['pids'], v2: ['pids'] },
  blockIO: { v1: ['blkio'], v2: ['io'] },
  hugepageLimits: { v1: ['hugetlb'], v2: ['hugetlb'] },
  network: { v1: ['net_cls', 'net_prio'], v2: [] },
  rdma: { v1: ['rdma'], v2: ['rdma'] },
  devices: { v1: ['devices'], v2: [] }, // v2: an eBPF program, no controller
};

/** v1 files of resource fields that not every kernel has (resource → field → controller/file). */
const V1_FILES: Record<string, Record<string, [string, string]>> = {
  memory: {
    swap: ['memory', 'memory.memsw.limit_in_bytes'],
    kernel: ['memory', 'memory.kmem.limit_in_bytes'],
    kernelTCP: ['memory', 'memory.kmem.tcp.limit_in_bytes'],
    swappiness: ['memory', 'memory.swappiness'],
  },
  cpu: {
    burst: ['cpu', 'cpu.cfs_burst_us'],
    idle: ['cpu', 'cpu.idle'],
    realtimeRuntime: ['cpu', 'cpu.rt_runtime_us'],
    realtimePeriod: ['cpu', 'cpu.rt_period_us'],
  },
};

/** Warnings about linux.resources this host's cgroups cannot apply (read-only: the hierarchies' files). */
function cgroupWarnings(spec: Spec): Problem[] {
  const res: Record<string, unknown> | undefined = spec.linux?.resources;
  if (!isObj(res)) return [];
  let layout: Layout;
  try {
    layout = cgroupLayout();
  } catch (e) {
    return [{ field: 'linux.resources', message: `no usable cgroup hierarchy: ${(e as Error).message}` }];
  }
  const out: Problem[] = [];
  let v2: string[] = [];
  if (layout.v2) {
    try { v2 = fs.readFileSync(path.join(layout.v2.mount, 'cgroup.controllers'), 'utf8').trim().split(/\s+/); } catch { /* none */ }
  }
  const v1 = (c: string) => layout.v1.find((h) => h.controllers.includes(c));
  for (const [key, need] of Object.entries(CONTROLLERS)) {
    if (res[key] === undefined) continue;
    if (key === 'devices' && layout.mode === 'v2') continue;
    const missing = layout.mode === 'v2'
      ? (need.v2.length ? need.v2.filter((c) => !v2.includes(c)) : need.v1)
      : need.v1.filter((c) => !v1(c) && !need.v2.some((n) => n === c && v2.includes(n)));
    if (missing.length) out.push({ field: `linux.resources.${key}`, message: `this host has no ${missing.join(', ')} cgroup controller` });
  }
  if (layout.mode !== 'v2') {
    for (const [key, fields] of Object.entries(V1_FILES)) {
      const r = res[key];
      if (!isObj(r)) continue;
      for (const [f, [ctl, file]] of Object.entries(fields)) {
        const h = v1(ctl);
        if (r[f] === undefined || !h) continue;
        if (!fs.existsSync(path.join(h.mount, file))) out.push({ field: `linux.resources.${key}.${f}`, message: `this kernel has no ${file}` });
      }
    }
  }
  return out;
}

/** What this host cannot do for the config (warnings: the config itself is fine). */
function hostWarnings(spec: Spec, bundle: string): Problem[] {
  const out: Problem[] = [];
  out.push(...checkProcessLsm(spec, lsmFacts()), ...checkMountLabel(spec, lsmFacts()));
  out.push(...cgroupWarnings(spec));
  if (spec.root?.path) {
    const rootfs = path.resolve(bundle, spec.root.path);
    try {
      if (!fs.statSync(rootfs).isDirectory()) out.push({ field: 'root.path', message: `${rootfs} is not a directory` });
    } catch (e) {
      out.push({ field: 'root.path', message: `stat ${rootfs}: ${errnoText(e)}` });
    }
  }
  const criu = (process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin').split(':').some((d) => d && fs.existsSync(path.join(d, 'criu')));
  if (!criu) out.push({ field: '', message: 'criu is not installed on this host: no checkpoint/restore (runts has none either)' });
  return out;
}

/** Every problem of the bundle's config.json, and what the host cannot do for it. Writes nothing. */
export function validateBundle(bundleArg: string, o: { systemdCgroup?: boolean } = {}): ValidateResult {
  const bundle = resolveBundle(bundleArg);
  const file = path.join(bundle, 'config.json');
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(file);
  } catch (e) {
    return { valid: false, errors: [{ field: '', message: `open ${file}: ${errnoText(e)}` }], warnings: [] };
  }
  let parsed: ReturnType<typeof parseJsonBytes>;
  try {
    parsed = parseJsonBytes(bytes, 'config.json');
  } catch (e) {
    if (!(e instanceof RuntimeError)) throw e;
    return { valid: false, errors: [{ field: '', message: e.message }], warnings: [] };
  }
  const errors = configProblems(parsed.doc, parsed.exact);
  let warnings: Problem[] = [];
  // the plan rules read what the schema accepted (a value it refused is reported once, by the schema)
  const spec = schemaValidPart(parsed.doc);
  if (spec) {
    const facts = hostNsFacts();
    const { resctrlMount } = require('../container/rdt') as typeof import('../container/rdt');
    const host = [...planProblems(spec, bundle, facts, o), ...checkIntelRdtSupport(spec, { resctrl: resctrlMount() })];
    for (const p of host) {
      if (!errors.some((e) => e.field !== '' && within(p.field, e.field))) errors.push(p);
    }
    try { warnings = hostWarnings(spec, bundle); } catch { /* a field of the wrong type: the errors say so */ }
  }
  return { valid: errors.length === 0, errors, warnings };
}

export function validate(g: Globals, o: { bundle: string; format: string }): number {
  if (o.format !== 'text' && o.format !== 'json') throw new RuntimeError(`--format: must be text or json, got "${o.format}"`);
  const r = validateBundle(o.bundle, { systemdCgroup: g.systemdCgroup });
  if (o.format === 'json') {
    stdout(JSON.stringify(r) + '\n');
  } else {
    const lines = [...r.errors.map(problemText), ...r.warnings.map((w) => `warning: ${problemText(w)}`)];
    const n = (k: number, what: string) => `${k} ${what}${k === 1 ? '' : 's'}`;
    lines.push(r.valid ? `config.json is valid (${n(r.warnings.length, 'warning')})` : `config.json is not valid: ${n(r.errors.length, 'error')}`);
    stdout(lines.join('\n') + '\n');
  }
  return r.valid ? 0 : 1;
}
