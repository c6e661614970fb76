// The systemd cgroup driver (--systemd-cgroup): the container's cgroup is a transient scope that systemd makes
// over D-Bus (StartTransientUnit), with the resources systemd can express as unit properties; runts then writes
// every resource to the scope's cgroup files as the cgroupfs driver does, and makes the scope's directory in the
// hierarchies systemd does not manage (v1 cpuset, freezer, net_cls...). runc's behaviour is the reference:
// cgroupsPath "slice:prefix:name", an empty slice is system.slice, the unit is "<prefix>-<name>.scope".
import * as fs from 'fs';
import { RuntimeError } from '../errors';
import { logDebug } from '../log';
import { checkSystemdCgroupsPath, sliceNameValid, throwFirst } from '../config/rules';
import { Connection, DBusError, type DBusValue, type Variant } from './dbus';
import { deviceRules, blkioToIoWeight, sharesToWeight } from './fields';
import type { DeviceRule, Resources } from './types';

export const SYSTEM_BUS = '/run/dbus/system_bus_socket';
export const PRIVATE_SOCKET = '/run/systemd/private';
const JOB_TIMEOUT_MS = 30000;

export interface SystemdPath {
  /** the parent slice unit ("system.slice") */
  slice: string;
  /** its cgroup path ("/system.slice", "/a.slice/a-b.slice") */
  slicePath: string;
  /** the unit made for the container ("runts-<id>.scope") */
  unit: string;
}

/** runc's ExpandSlice: "a-b-c.slice" → "/a.slice/a-b.slice/a-b-c.slice"; "-.slice" is the root. */
export function expandSlice(slice: string, field = 'linux.cgroupsPath'): string {
  const bad = () => new RuntimeError(`${field}: invalid slice name "${slice}"`);
  if (!sliceNameValid(slice)) throw bad();
  const name = slice.slice(0, -6);
  if (name === '-') return '/';
  let out = '';
  let prefix = '';
  for (const part of name.split('-')) {
    out += `/${prefix}${part}.slice`;
    prefix += `${part}-`;
  }
  return out;
}

/** cgroupsPath for the systemd driver, as runc parses it ("slice:prefix:name"; empty: system.slice, runts-<id>). */
export function systemdPath(cgroupsPath: string | undefined, id: string): SystemdPath {
  throwFirst(checkSystemdCgroupsPath(cgroupsPath));
  let slice = '';
  let prefix = 'runts';
  let name = id;
  if (cgroupsPath) [slice, prefix, name] = cgroupsPath.split(':');
  if (slice === '') slice = 'system.slice';
  const slicePath = expandSlice(slice);
  // runc's getUnitName: a name ending in .slice is the unit itself, a slice (the prefix ignored); checked above
  // to be a child of the parent, so <parent's path>/<name> is where systemd puts it
  if (name.endsWith('.slice')) return { slice, slicePath, unit: name };
  const unit = prefix === '' ? `${name}.scope` : `${prefix}-${name}.scope`;
  return { slice, slicePath, unit };
}

/** A slice as the container's unit (a name ending in .slice), not a scope. */
export const isSlice = (unit: string) => unit.endsWith('.slice');

const INFINITY = 0xffffffffffffffffn;

/** The "/proc/devices" group name of a major (for systemd's "char-NAME" device entries). */
export function deviceGroups(procDevices: string): { char: Map<number, string>; block: Map<number, string> } {
  const out = { char: new Map<number, string>(), block: new Map<number, string>() };
  let cur: Map<number, string> | undefined;
  for (const line of procDevices.split('\n')) {
    if (/^Character devices:/.test(line)) cur = out.char;
    else if (/^Block devices:/.test(line)) cur = out.block;
    else {
      const m = /^\s*(\d+)\s+(\S+)$/.exec(line);
      if (m && cur && !cur.has(Number(m[1]))) cur.set(Number(m[1]), m[2]);
    }
  }
  return out;
}

/**
 * DevicePolicy and DeviceAllow for the container's device rules (runc's conversion): "strict" with one entry per
 * allowed device ("/dev/char/1:3", "char-pts" for a whole major, "char-*" for every one); an allow-all rule makes it
 * "auto" with no list. Deny rules after the first cannot be expressed: the cgroup files (written after) enforce them.
 */
export function deviceProperties(rules: DeviceRule[] | undefined, groups: ReturnType<typeof deviceGroups>): [string, Variant][] {
  let allowAll = false;
  const allow: [string, string][] = [];
  for (const r of deviceRules(rules).slice(1)) {
    if (!r.allow) continue;
    if (r.type === 'a') {
      if (r.access === 'rwm') { allowAll = true; allow.length = 0; continue; }
      allow.push(['char-*', r.access], ['block-*', r.access]);
      continue;
    }
    if (allowAll) continue;
    const kind = r.type === 'c' ? 'char' : 'block';
    if (r.major === null || r.major < 0) allow.push([`${kind}-*`, r.access]);
    else if (r.minor === null || r.minor < 0) {
      const name = (r.type === 'c' ? groups.char : groups.block).get(r.major);
      if (name) allow.push([`${kind}-${name}`, r.access]);
      else logDebug(`systemd: no ${kind} device group for major ${r.major}; left to the devices cgroup files`);
    } else allow.push([`/dev/${kind}/${r.major}:${r.minor}`, r.access]);
  }
  if (allowAll) return [['DevicePolicy', ['s', 'auto']], ['DeviceAllow', ['a(ss)', []]]];
  return [['DevicePolicy', ['s', 'strict']], ['DeviceAllow', ['a(ss)', allow]]];
}

/** "0-2,7" → the byte mask systemd's AllowedCPUs/AllowedMemoryNodes take. */
export function cpuMask(list: string, field: string): Buffer {
  const bits: number[] = [];
  for (const part of list.split(',').map((s) => s.trim()).filter(Boolean)) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part);
    if (!m) throw new RuntimeError(`${field}: invalid list "${list}"`);
    const a = Number(m[1]);
    const b = m[2] === undefined ? a : Number(m[2]);
    if (b < a || b > 8191) throw new RuntimeError(`${field}: invalid list "${list}"`);
    for (let i = a; i <= b; i++) bits.push(i);
  }
  const buf = Buffer.alloc(bits.length ? Math.floor(Math.max(...bits) / 8) + 1 : 0);
  for (const i of bits) buf[i >> 3] |= 1 << (i & 7);
  return buf;
}

/**
 * The resources systemd expresses, as unit properties (runc's genV1ResourcesProperties / genV2ResourcesProperties).
 * `v2`: the host's cgroup2 names (MemoryMax, CPUWeight, IOWeight, AllowedCPUs); else v1's (MemoryLimit, CPUShares,
 * BlockIOWeight). `update`: only what is set (no device list unless given).
 */
export function resourceProperties(r: Resources, v2: boolean, groups: ReturnType<typeof deviceGroups>, update = false): [string, Variant][] {
  const p: [string, Variant][] = [];
  const u64 = (n: number) => (n < 0 ? INFINITY : BigInt(n));
  if (!update || r.devices) p.push(...deviceProperties(r.devices, groups));
  const mem = r.memory?.limit;
  if (mem !== undefined && mem !== 0) p.push([v2 ? 'MemoryMax' : 'MemoryLimit', ['t', u64(mem)]]);
  const shares = r.cpu?.shares;
  if (shares) p.push(v2 ? ['CPUWeight', ['t', BigInt(sharesToWeight(shares))]] : ['CPUShares', ['t', BigInt(shares)]]);
  const quota = r.cpu?.quota;
  let period = r.cpu?.period ?? 0;
  if (period) p.push(['CPUQuotaPeriodUSec', ['t', BigInt(period)]]);
  if ((quota !== undefined && quota !== 0) || period) {
    let perSec = INFINITY;
    if (quota !== undefined && quota > 0) {
      if (!period) period = 100000;
      let v = Math.floor((quota * 1000000) / period);
      if (v % 10000 !== 0) v = (Math.floor(v / 10000) + 1) * 10000;
      perSec = BigInt(v);
    }
    p.push(['CPUQuotaPerSecUSec', ['t', perSec]]);
  }
  const pids = r.pids?.limit;
  if (pids !== undefined && pids !== 0) p.push(['TasksMax', ['t', u64(pids)]]);
  const w = r.blockIO?.weight;
  if (w) p.push(v2 ? ['IOWeight', ['t', BigInt(blkioToIoWeight(w))]] : ['BlockIOWeight', ['t', BigInt(w)]]);
  if (v2 && r.cpu?.cpus) p.push(['AllowedCPUs', ['ay', cpuMask(r.cpu.cpus, 'linux.resources.cpu.cpus')]]);
  if (v2 && r.cpu?.mems) p.push(['AllowedMemoryNodes', ['ay', cpuMask(r.cpu.mems, 'linux.resources.cpu.mems')]]);
  return p;
}

/**
 * Every property of the new unit (pure: unit-tested). A scope: its slice (Slice=), the pid, Delegate. A slice (runc:
 * "if we create a slice, the parent is defined via a Wants="): no pid (systemd takes none for a slice; the stub
 * joins the slice's cgroups itself, as it joins the v1 hierarchies systemd does not manage) and no Delegate.
 */
export function scopeProperties(sp: Pick<SystemdPath, 'slice' | 'unit'>, pid: number, r: Resources, v2: boolean, groups: ReturnType<typeof deviceGroups>): [string, Variant][] {
  const name = sp.unit.replace(/\.(scope|slice)$/, '');
  const placement: [string, Variant][] = isSlice(sp.unit)
    ? [['Wants', ['as', [sp.slice]]]]
    : [['Slice', ['s', sp.slice]], ['PIDs', ['au', [pid]]], ['Delegate', ['b', true]]];
  return [
    ['Description', ['s', `runts container ${name}`]],
    ...placement,
    ['DefaultDependencies', ['b', false]],
    ['MemoryAccounting', ['b', true]],
    ['CPUAccounting', ['b', true]],
    [v2 ? 'IOAccounting' : 'BlockIOAccounting', ['b', true]],
    ['TasksAccounting', ['b', true]],
    ...resourceProperties(r, v2, groups),
  ];
}

export function hostDeviceGroups(): ReturnType<typeof deviceGroups> {
  try {
    return deviceGroups(fs.readFileSync('/proc/devices', 'utf8'));
  } catch {
    return deviceGroups('');
  }
}

const SYSTEMD = { destination: 'org.freedesktop.systemd1', path: '/org/freedesktop/systemd1', iface: 'org.freedesktop.systemd1.Manager' };

/** A connection to systemd: the system bus, else systemd's private socket (root only, as runc falls back). */
function connect(): Connection {
  const errors: string[] = [];
  for (const [sock, bus] of [[SYSTEM_BUS, true], [PRIVATE_SOCKET, false]] as const) {
    try {
      const c = Connection.open(sock, bus, 5000);
      if (bus) {
        c.call({ destination: 'org.freedesktop.DBus', path: '/org/freedesktop/DBus', iface: 'org.freedesktop.DBus', member: 'AddMatch' }, 's',
          ["type='signal',sender='org.freedesktop.systemd1',interface='org.freedesktop.systemd1.Manager',member='JobRemoved'"]);
      }
      // systemd sends JobRemoved only to subscribers
      c.call({ ...SYSTEMD, member: 'Subscribe' }, '', []);
      return c;
    } catch (e) {
      errors.push(`${sock}: ${(e as Error).message}`);
    }
  }
  throw new RuntimeError(`--systemd-cgroup: no systemd answers over D-Bus (${errors.join('; ')})`);
}

function withSystemd<T>(f: (c: Connection) => T): T {
  const c = connect();
  try {
    return f(c);
  } finally {
    c.close();
  }
}

/** Wait for the job's JobRemoved signal; its result must be "done". */
function waitJob(c: Connection, job: string, what: string): void {
  const m = c.waitSignal((s) => s.member === 'JobRemoved' && s.body[1] === job, JOB_TIMEOUT_MS);
  const result = String(m.body[3]);
  if (result !== 'done') throw new RuntimeError(`${what}: job ${result}`);
}

/** The property an "invalid property" error is about, named for the message. */
function explain(e: unknown, unit: string, what: string): RuntimeError {
  if (e instanceof DBusError) return new RuntimeError(`systemd: ${what} ${unit}: ${e.text} (${e.name_})`);
  return new RuntimeError(`systemd: ${what} ${unit}: ${(e as Error).message}`);
}

/** Start the container's scope with `pid` in it; on any failure the unit is stopped again. */
export function startScope(sp: Pick<SystemdPath, 'slice' | 'unit'>, pid: number, r: Resources, v2: boolean): void {
  const props = scopeProperties(sp, pid, r, v2, hostDeviceGroups());
  withSystemd((c) => {
    let job: string;
    try {
      [job] = c.call({ ...SYSTEMD, member: 'StartTransientUnit' }, 'ssa(sv)a(sa(sv))', [sp.unit, 'replace', props as DBusValue[], []]) as [string];
    } catch (e) {
      throw explain(e, sp.unit, 'start unit');
    }
    try {
      waitJob(c, job, `systemd: start unit ${sp.unit}`);
    } catch (e) {
      stopWith(c, sp.unit);
      throw e;
    }
    logDebug(`systemd: ${sp.unit} started in ${sp.slice}`);
  });
}

function stopWith(c: Connection, unit: string): void {
  try {
    const [job] = c.call({ ...SYSTEMD, member: 'StopUnit' }, 'ss', [unit, 'replace']) as [string];
    waitJob(c, job, `systemd: stop unit ${unit}`);
  } catch (e) {
    if (!(e instanceof DBusError && e.name_ === 'org.freedesktop.systemd1.NoSuchUnit')) throw explain(e, unit, 'stop unit');
  } finally {
    // a failed unit keeps its name until reset: the next create with this name must work
    try { c.call({ ...SYSTEMD, member: 'ResetFailedUnit' }, 's', [unit]); } catch { /* not failed, or gone */ }
  }
}

/** delete: stop the scope (systemd kills what is left in it and removes its cgroups); a missing unit is fine. */
export function stopScope(unit: string): void {
  withSystemd((c) => stopWith(c, unit));
}

/** update: the new limits as unit properties (runtime only, as runc sets them). */
export function setScopeProperties(unit: string, r: Resources, v2: boolean): void {
  const props = resourceProperties(r, v2, hostDeviceGroups(), true);
  if (!props.length) return;
  withSystemd((c) => {
    try {
      c.call({ ...SYSTEMD, member: 'SetUnitProperties' }, 'sba(sv)', [unit, true, props as DBusValue[]]);
    } catch (e) {
      throw explain(e, unit, 'set properties of');
    }
  });
}
