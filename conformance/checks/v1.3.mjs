// Fields runtime-spec v1.2/v1.3 added: process.scheduler, process.ioPriority, process.execCPUAffinity (config.md),
// linux.memoryPolicy, linux.netDevices, linux.intelRdt (config-linux.md), id-mapped mounts and the newer mount
// options (config.md Mounts), and the errors a runtime MUST give for values it does not support.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { mountAt, parseMountinfo, v1Mount } from '../lib.mjs';

const checks = [];
const check = (spec, id, section, level, desc, run) => checks.push({ id, spec, section, level, desc, run });

/** create must fail and leave no container */
function refused(t, cfg, what) {
  const id = t.id();
  const r = t.rt(['create', '--bundle', t.bundle(cfg), id]);
  t.ok(r.status !== 0, `create with ${what} succeeded`);
  t.ok(t.stateMaybe(id).error, `a container exists after the failed create with ${what}`);
  return r;
}

/** The CPUs the runner may use (the runtime inherits them), from /proc/self/status. */
function allowedCpus() {
  const l = fs.readFileSync('/proc/self/status', 'utf8').match(/^Cpus_allowed_list:\s*(\S+)/m)?.[1] ?? '';
  const out = [];
  for (const part of l.split(',').filter(Boolean)) {
    const [a, b] = part.split('-').map(Number);
    for (let i = a; i <= (b ?? a); i++) out.push(i);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// config.md: Linux process

check('config.md', 'process.scheduler', 'Linux Process', 'MUST',
  'process.scheduler sets the policy and nice value of the process (sched_getattr inside)',
  async (t) => {
    const p = await t.probe((c) => { c.process.scheduler = { policy: 'SCHED_BATCH', nice: 7 }; });
    t.ok(p.sched, 'the probe could not read sched_getattr');
    t.eq([p.sched.policy, p.sched.nice], [3, 7], '[policy (SCHED_BATCH = 3), nice]');
  });

check('config.md', 'process.scheduler-rt', 'Linux Process', 'MUST',
  'process.scheduler with SCHED_RR sets the real-time priority',
  async (t) => {
    // with CONFIG_RT_GROUP_SCHED (v1 cpu.rt_runtime_us) a real-time task needs a budget in its cgroup
    const rtGroups = v1Mount('cpu') && fs.existsSync(path.join(v1Mount('cpu'), 'cpu.rt_runtime_us'));
    const p = await t.probe((c) => {
      c.process.scheduler = { policy: 'SCHED_RR', priority: 3 };
      if (rtGroups) c.linux.resources = { cpu: { realtimeRuntime: 10000, realtimePeriod: 1000000 } };
    });
    t.ok(p.sched, 'the probe could not read sched_getattr');
    t.eq([p.sched.policy, p.sched.priority], [2, 3], '[policy (SCHED_RR = 2), priority]');
  });

check('config.md', 'process.ioPriority', 'Linux Process', 'MUST',
  'process.ioPriority sets the I/O class and level of the process (ioprio_get inside)',
  async (t) => {
    const p = await t.probe((c) => { c.process.ioPriority = { class: 'IOPRIO_CLASS_BE', priority: 6 }; });
    t.ok(p.ioprio !== undefined, 'the probe could not read ioprio_get');
    t.eq({ class: p.ioprio >> 13, level: p.ioprio & 0x1fff }, { class: 2, level: 6 }, 'I/O priority (IOPRIO_CLASS_BE = 2)');
  });

check('config.md', 'process.execCPUAffinity', 'Linux Process', 'MUST',
  'an exec\'d process with execCPUAffinity.final runs on those CPUs; the container\'s init keeps its own',
  async (t) => {
    const cpus = allowedCpus();
    if (cpus.length < 2) t.skip(`the runner may use ${cpus.length} CPU(s); the check needs two`);
    const last = cpus[cpus.length - 1];
    const c = t.create(t.config(['sleep', '300']));
    t.start(c.id);
    const proc = { ...t.config().process, args: ['sh', '-c', 'grep Cpus_allowed_list /proc/self/status'],
      execCPUAffinity: { initial: String(cpus[0]), final: String(last) } };
    const file = path.join(t.dir, 'process.json');
    fs.writeFileSync(file, JSON.stringify(proc));
    const r = t.rt(['exec', '--process', file, c.id]);
    t.ok(r.status === 0, `exec failed: ${r.reason}`);
    t.eq(r.stdout.trim().split(/\s+/)[1], String(last), 'Cpus_allowed_list of the exec\'d process');
    const pid = t.state(c.id).pid;
    const init = fs.readFileSync(`/proc/${pid}/status`, 'utf8').match(/^Cpus_allowed_list:\s*(\S+)/m)?.[1];
    t.ok(init !== String(last), `the init process was moved to CPU ${init} too`);
  });

// ---------------------------------------------------------------------------------------------------------------
// config-linux.md: memory policy, network devices, Intel RDT

check('config-linux.md', 'linux.memoryPolicy', 'Memory policy', 'MUST',
  'linux.memoryPolicy sets the NUMA policy, nodes and mode flags of the process (get_mempolicy inside)',
  async (t) => {
    if (!fs.existsSync('/sys/devices/system/node/node0')) t.skip('the host has no NUMA node 0 (/sys/devices/system/node/node0)');
    const p = await t.probe((c) => { c.linux.memoryPolicy = { mode: 'MPOL_BIND', nodes: '0', flags: ['MPOL_F_STATIC_NODES'] }; });
    t.ok(p.mempolicy, 'the probe could not read get_mempolicy');
    // get_mempolicy returns the mode with its mode flags (MPOL_BIND = 2, MPOL_F_STATIC_NODES = 1 << 15)
    t.eq(p.mempolicy, { mode: 2 | (1 << 15), nodes: 1 }, 'memory policy');
  });

function netnsTools(t) {
  if (spawnSync('ip', ['netns', 'list']).status !== 0) t.skip('`ip netns` is not available');
  if (spawnSync('nsenter', ['--version']).status !== 0) t.skip('nsenter is not available');
}

/** A network namespace of the check's own holding a veth pair vA/vB, vA with 10.79.0.2/24. */
function vethNs(t) {
  const ns = `cf${process.pid}-${path.basename(t.dir)}`.slice(0, 40);
  const ip = (...a) => {
    const r = spawnSync('ip', a, { encoding: 'utf8' });
    if (r.status !== 0) t.skip(`ip ${a.join(' ')}: ${r.stderr.trim()}`);
  };
  ip('netns', 'add', ns);
  t.onCleanup(() => spawnSync('ip', ['netns', 'del', ns]));
  ip('-n', ns, 'link', 'add', 'vA', 'type', 'veth', 'peer', 'name', 'vB');
  ip('-n', ns, 'addr', 'add', '10.79.0.2/24', 'dev', 'vA');
  // the runtime runs in that namespace only (`ip netns exec` would also remount /sys)
  return { ns, prefix: `exec nsenter --net=/run/netns/${ns} "$0" "$@"` };
}

check('config-linux.md', 'linux.netDevices', 'Network Devices', 'MUST',
  'a device of linux.netDevices is moved into the container\'s network namespace, renamed, with its address',
  async (t) => {
    netnsTools(t);
    const { ns, prefix } = vethNs(t);
    const out = await t.sh('ls /sys/class/net | tr "\\n" " "; echo; ip -o -4 addr show dev ctr0 2>&1',
      (c) => { c.linux.netDevices = { vA: { name: 'ctr0' } }; }, { prefix });
    const [names, addr] = out.split('\n');
    t.ok(names.split(' ').includes('ctr0'), `the container's devices are ${names}`);
    t.ok(/10\.79\.0\.2\/24/.test(addr ?? ''), `the address did not move with the device: ${addr}`);
    const left = spawnSync('ip', ['-n', ns, '-o', 'link', 'show'], { encoding: 'utf8' }).stdout;
    t.ok(!/\bvA\b/.test(left), 'vA is still in the runtime\'s network namespace');
  });

check('config-linux.md', 'linux.netDevices-missing', 'Network Devices', 'MUST',
  'a device of linux.netDevices that does not exist is an error and nothing is created',
  async (t) => {
    const cfg = t.config();
    cfg.linux.netDevices = { cfnodev0: {} };
    refused(t, cfg, 'a missing network device');
  });

check('config-linux.md', 'linux.intelRdt-unavailable', 'IntelRdt', 'MUST',
  'linux.intelRdt where the host has no resctrl filesystem is an error and nothing is created',
  async (t) => {
    const m = parseMountinfo(fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n')).find((x) => x.fstype === 'resctrl');
    if (m) t.skip(`resctrl is mounted at ${m.mountPoint}: the check needs a host without it`);
    const cfg = t.config();
    cfg.linux.intelRdt = { closID: 'conformance' };
    refused(t, cfg, 'linux.intelRdt');
  });

// ---------------------------------------------------------------------------------------------------------------
// config.md: Mounts

function needIdmap(t) {
  const [maj, min] = os.release().split('.').map(Number);
  if (maj < 5 || (maj === 5 && min < 12)) t.skip(`kernel ${os.release()} has no mount_setattr (5.12)`);
}

check('config.md', 'mounts.idmap', 'Mounts', 'MUST',
  'a bind mount with uidMappings/gidMappings is id-mapped: a file of 0 shows as the hostID, an unmapped one as 65534',
  async (t) => {
    needIdmap(t);
    const src = t.mkdir('idmap');
    fs.writeFileSync(path.join(src, 'root-file'), 'x');
    fs.writeFileSync(path.join(src, 'user-file'), 'x');
    fs.chownSync(path.join(src, 'user-file'), 1000, 1000);
    const map = [{ containerID: 0, hostID: 1000, size: 1 }];
    const out = await t.sh('stat -c "%u:%g" /m/root-file /m/user-file | tr "\\n" " "', (c) => {
      c.mounts.push({ destination: '/m', type: 'bind', source: src, options: ['bind', 'idmap'], uidMappings: map, gidMappings: map });
    });
    t.eq(out.trim(), '1000:1000 65534:65534', 'owners seen through the mount (root-file, user-file)');
  });

check('config.md', 'mounts.iversion', 'Mounts', 'MUST',
  'the mount options iversion and noiversion are recognized (a tmpfs with each is mounted)',
  async (t) => {
    const p = await t.probe((c) => {
      c.mounts.push({ destination: '/m', type: 'tmpfs', source: 'tmpfs', options: ['iversion'] });
      c.mounts.push({ destination: '/a', type: 'tmpfs', source: 'tmpfs', options: ['noiversion'] });
    });
    const mounts = parseMountinfo(p.mountinfo ?? []);
    for (const d of ['/m', '/a']) t.eq(mountAt(mounts, d)?.fstype, 'tmpfs', `the file system at ${d}`);
  });

check('config.md', 'mounts.rnorelatime', 'Mounts', 'MUST',
  'rnostrictatime gives a recursive bind relatime, rnorelatime takes relatime away (submounts too)',
  async (t) => {
    const src = t.mkdir('atime');
    fs.mkdirSync(path.join(src, 'sub'));
    t.hostMount(['-t', 'tmpfs', '-o', 'strictatime', 'cf-atime', path.join(src, 'sub')]);
    const p = await t.probe((c) => {
      c.mounts.push({ destination: '/m', type: 'bind', source: src, options: ['rbind', 'rnostrictatime'] });
      c.mounts.push({ destination: '/a', type: 'bind', source: src, options: ['rbind', 'relatime', 'rnorelatime'] });
    });
    const mounts = parseMountinfo(p.mountinfo ?? []);
    for (const d of ['/m', '/m/sub']) t.ok(mountAt(mounts, d)?.opts.has('relatime'), `${d} is not relatime: ${[...(mountAt(mounts, d)?.opts ?? [])].join(',')}`);
    for (const d of ['/a', '/a/sub']) {
      const o = mountAt(mounts, d)?.opts;
      t.ok(o && !o.has('relatime') && !o.has('noatime'), `${d} is not strictatime: ${[...(o ?? [])].join(',')}`);
    }
  });

// ---------------------------------------------------------------------------------------------------------------
// config.md: values a runtime does not support

const BAD_VALUES = [
  ['process.scheduler.policy', (c) => { c.process.scheduler = { policy: 'SCHED_CONFORMANCE' }; }],
  ['process.ioPriority.class', (c) => { c.process.ioPriority = { class: 'IOPRIO_CLASS_CONFORMANCE', priority: 0 }; }],
  ['linux.memoryPolicy.mode', (c) => { c.linux.memoryPolicy = { mode: 'MPOL_CONFORMANCE' }; }],
  ['linux.memoryPolicy.flags', (c) => { c.linux.memoryPolicy = { mode: 'MPOL_BIND', nodes: '0', flags: ['MPOL_F_CONFORMANCE'] }; }],
];
for (const [field, set] of BAD_VALUES) {
  const spec = field.startsWith('linux.') ? 'config-linux.md' : 'config.md';
  check(spec, `invalid.${field.replace(/^(process|linux)\./, '')}`, spec === 'config.md' ? 'Valid values' : 'Memory policy', 'MUST',
    `an unknown ${field} is an error and nothing is created`,
    async (t) => {
      const cfg = t.config();
      set(cfg);
      refused(t, cfg, `an unknown ${field}`);
    });
}

export default checks;
