// config-linux.md: namespaces (new, inherited, joined by path), user namespace mappings, time offsets, devices,
// cgroups, sysctl, seccomp, rootfs propagation, masked and read-only paths, mount label, personality.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { cgroupOf, cgroupVersion, mountAt, parseMountinfo, sleep, v1Mount } from '../lib.mjs';

const SPEC = 'config-linux.md';
const checks = [];
const check = (id, section, level, desc, run) => checks.push({ id, spec: SPEC, section, level, desc, run });

/** Namespace type in config.json → name under /proc/PID/ns. */
const NS_LINK = { pid: 'pid', network: 'net', mount: 'mnt', ipc: 'ipc', uts: 'uts', cgroup: 'cgroup', user: 'user', time: 'time' };
const USER_MAP = [{ containerID: 0, hostID: 100000, size: 65536 }];

function needTimens(t) {
  if (!t.suite.hostNs.time) t.skip('host kernel has no time namespaces (/proc/self/ns/time is missing)');
}

function addNs(cfg, type, extra = {}) {
  cfg.linux.namespaces = cfg.linux.namespaces.filter((n) => n.type !== type);
  cfg.linux.namespaces.push({ type, ...extra });
}

function withUserns(cfg) {
  addNs(cfg, 'user');
  cfg.linux.uidMappings = USER_MAP;
  cfg.linux.gidMappings = USER_MAP;
}

// ---------------------------------------------------------------------------------------------------------------
// Namespaces

for (const type of Object.keys(NS_LINK)) {
  check(`ns.new-${type}`, 'Namespaces', 'MUST',
    `a ${type} namespace without a path is a new namespace, not the runtime's`,
    async (t) => {
      if (type === 'time') needTimens(t);
      const p = await t.probe((c) => {
        if (type === 'user') withUserns(c);
        else addNs(c, type);
      });
      const link = NS_LINK[type];
      t.ok(p.ns[link], `the container has no /proc/self/ns/${link}`);
      t.ok(p.ns[link] !== t.suite.hostNs[link], `the container is in the runtime's ${type} namespace ${p.ns[link]}`);
      if (type === 'pid') t.eq(p.pid, 1, 'pid of the container process in its new pid namespace');
    });
}

check('ns.inherit', 'Namespaces', 'MUST',
  'a namespace type not listed is inherited from the runtime (pid, network, ipc, uts, cgroup, user, time)',
  async (t) => {
    const p = await t.probe((c) => {
      c.linux.namespaces = [{ type: 'mount' }];
      delete c.hostname;
    });
    const bad = ['pid', 'net', 'ipc', 'uts', 'cgroup', 'user', 'time']
      .filter((l) => t.suite.hostNs[l] && p.ns[l] !== t.suite.hostNs[l])
      .map((l) => `${l} is ${p.ns[l]}, not the runtime's ${t.suite.hostNs[l]}`);
    t.ok(!bad.length, bad.join('; '));
  });

/** Start `unshare FLAGS sleep` on the host and wait until it is in its new namespace; returns the pid inside it. */
async function nsHolder(t, type) {
  const link = NS_LINK[type];
  const flag = { network: '--net', ipc: '--ipc', uts: '--uts', pid: '--pid', cgroup: '--cgroup', time: '--time' }[type];
  const args = type === 'pid' ? [flag, '--fork', '--kill-child', 'sleep', '300'] : [flag, 'sleep', '300'];
  const child = t.background('unshare', args);
  const end = Date.now() + 3000;
  for (;;) {
    let pid = child.pid;
    if (type === 'pid') {
      // the sleep forked by unshare is pid 1 of the new pid namespace
      try { pid = Number(fs.readFileSync(`/proc/${child.pid}/task/${child.pid}/children`, 'utf8').trim().split(' ')[0]) || 0; } catch { pid = 0; }
    }
    let ns;
    try { if (pid) ns = fs.readlinkSync(`/proc/${pid}/ns/${link}`); } catch { /* not yet */ }
    if (ns && ns !== t.suite.hostNs[link]) {
      try {
        if (fs.readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'sleep') {
          if (pid !== child.pid) t.onCleanup(() => { try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ } });
          return { pid, ns };
        }
      } catch { /* not yet */ }
    }
    if (Date.now() > end) t.fail(`could not set up a ${type} namespace to join (unshare ${args.join(' ')})`);
    await sleep(10);
  }
}

for (const type of ['network', 'ipc', 'uts', 'pid', 'cgroup']) {
  const viaBind = type === 'network';
  check(`ns.join-${type}`, 'Namespaces', 'MUST',
    viaBind
      ? 'with a path (a bind-mounted namespace file, as `ip netns add` makes), the container joins that network namespace'
      : `with a path (/proc/PID/ns/${NS_LINK[type]}), the container joins that ${type} namespace`,
    async (t) => {
      const h = await nsHolder(t, type);
      let nsPath = `/proc/${h.pid}/ns/${NS_LINK[type]}`;
      if (viaBind) {
        const f = path.join(t.dir, 'netns');
        fs.writeFileSync(f, '');
        t.hostMount(['--bind', nsPath, f]);
        nsPath = f;
      }
      const p = await t.probe((c) => {
        addNs(c, type, { path: nsPath });
        if (type === 'uts') delete c.hostname;
      });
      t.eq(p.ns[NS_LINK[type]], h.ns, `${type} namespace of the container`);
    });
}

check('ns.path-wrong-type', 'Namespaces', 'MUST',
  'a namespace path of another type (a network namespace given as ipc) is an error',
  async (t) => {
    const cfg = t.config();
    addNs(cfg, 'ipc', { path: `/proc/${process.pid}/ns/net` });
    const id = t.id();
    t.ok(t.rt(['create', '--bundle', t.bundle(cfg), id]).status !== 0, 'create succeeded');
    t.ok(t.stateMaybe(id).error, 'a container exists after the failed create');
  });

check('ns.duplicate', 'Namespaces', 'MUST',
  'two namespaces entries of the same type are an error',
  async (t) => {
    const cfg = t.config();
    cfg.linux.namespaces.push({ type: 'pid' });
    const id = t.id();
    t.ok(t.rt(['create', '--bundle', t.bundle(cfg), id]).status !== 0, 'create succeeded');
    t.ok(t.stateMaybe(id).error, 'a container exists after the failed create');
  });

// ---------------------------------------------------------------------------------------------------------------
// User namespace mappings

check('userns.mappings', 'User namespace mappings', 'MUST',
  'uidMappings and gidMappings are the uid_map and gid_map of the container\'s user namespace',
  async (t) => {
    const p = await t.probe(withUserns);
    const norm = (s) => (s ?? '').trim().split(/\s+/).join(' ');
    t.eq(norm(p.uidMap), '0 100000 65536', 'uid_map');
    t.eq(norm(p.gidMap), '0 100000 65536', 'gid_map');
    t.eq(p.uid, [0, 0, 0], 'uids in the container');
  });

check('userns.no-chown', 'User namespace mappings', 'SHOULD',
  'the runtime does not change the ownership of the root filesystem to realize the mappings',
  async (t) => {
    const rootfs = t.rootfsCopy(true);
    const before = ['bin/busybox', 'etc/passwd', '.'].map((f) => fs.lstatSync(path.join(rootfs, f))).map((s) => `${s.uid}:${s.gid}`);
    await t.probe((c) => { withUserns(c); c.root.path = rootfs; });
    const after = ['bin/busybox', 'etc/passwd', '.'].map((f) => fs.lstatSync(path.join(rootfs, f))).map((s) => `${s.uid}:${s.gid}`);
    t.eq(after, before, 'owners of /bin/busybox, /etc/passwd and / on the host');
  });

// ---------------------------------------------------------------------------------------------------------------
// Time namespace offsets

check('timens.offsets', 'Offset for Time Namespace', 'MUST',
  'timeOffsets are the offsets of the container\'s time namespace (monotonic and boottime clocks)',
  async (t) => {
    needTimens(t);
    const mono = 86400 * 365;
    const boot = 86400 * 30;
    const hostMono = Number(process.hrtime.bigint()) / 1e9;
    const p = await t.probe((c) => {
      addNs(c, 'time');
      c.linux.timeOffsets = { monotonic: { secs: mono, nanosecs: 0 }, boottime: { secs: boot, nanosecs: 0 } };
    });
    const offsets = Object.fromEntries((p.timensOffsets ?? '').trim().split('\n').map((l) => l.trim().split(/\s+/)).map(([k, s, n]) => [k, `${s} ${n}`]));
    t.eq(offsets, { monotonic: `${mono} 0`, boottime: `${boot} 0` }, '/proc/self/timens_offsets');
    t.ok(Number(p.clocks.monotonic) >= hostMono + mono - 5, `CLOCK_MONOTONIC in the container is ${p.clocks.monotonic}, the host's was ${hostMono.toFixed(0)}`);
  });

// ---------------------------------------------------------------------------------------------------------------
// Devices

/** busybox stat of paths: %F|major hex|minor hex|mode octal|uid|gid per line. */
const STAT = (paths) => `for f in ${paths.join(' ')}; do stat -c '%n|%F|%t|%T|%a|%u|%g' $f 2>&1; done`;
function parseStat(out) {
  const res = {};
  for (const l of out.trim().split('\n')) {
    const [n, type, maj, min, mode, uid, gid] = l.split('|');
    if (type === undefined) continue;
    res[n] = { type, dev: `${parseInt(maj, 16)}:${parseInt(min, 16)}`, mode, uid: Number(uid), gid: Number(gid) };
  }
  return res;
}

check('devices.create', 'Devices', 'MUST',
  'linux.devices are created with their type, major:minor, fileMode, uid and gid (char, block and fifo)',
  async (t) => {
    const devs = [
      { path: '/dev/cf-char', type: 'c', major: 1, minor: 3, fileMode: 0o666, uid: 1000, gid: 2000 },
      { path: '/dev/cf-block', type: 'b', major: 7, minor: 0, fileMode: 0o640, uid: 0, gid: 6 },
      { path: '/dev/cf-fifo', type: 'p', fileMode: 0o600, uid: 1000, gid: 1000 },
    ];
    const out = await t.sh(STAT(devs.map((d) => d.path)), (c) => { c.linux.devices = devs; });
    const got = parseStat(out);
    const kind = { c: 'character special file', b: 'block special file', p: 'fifo' };
    const bad = [];
    for (const d of devs) {
      const g = got[d.path];
      if (!g) { bad.push(`${d.path} missing (${out.trim().split('\n').find((l) => l.includes(d.path)) ?? ''})`); continue; }
      const want = { type: kind[d.type], dev: d.type === 'p' ? g.dev : `${d.major}:${d.minor}`, mode: d.fileMode.toString(8), uid: d.uid, gid: d.gid };
      if (JSON.stringify(g) !== JSON.stringify(want)) bad.push(`${d.path} is ${JSON.stringify(g)}, expected ${JSON.stringify(want)}`);
    }
    t.ok(!bad.length, bad.join('; '));
  });

check('devices.existing-mismatch', 'Devices', 'MUST',
  'a device whose path already holds a file that is not that device is an error',
  async (t) => {
    const rootfs = t.rootfsCopy();
    fs.writeFileSync(path.join(rootfs, 'cf-not-a-device'), 'regular file');
    const cfg = t.config();
    cfg.root.path = rootfs;
    cfg.linux.devices = [{ path: '/cf-not-a-device', type: 'c', major: 1, minor: 3, fileMode: 0o666 }];
    const id = t.id();
    const r = t.rt(['create', '--bundle', t.bundle(cfg), id]);
    t.ok(r.status !== 0, 'create succeeded although /cf-not-a-device is a regular file');
  });

check('devices.default', 'Default Devices', 'MUST',
  '/dev/null, zero, full, random, urandom and tty are there as the right character devices, and /dev/ptmx leads to /dev/pts/ptmx',
  async (t) => {
    const want = { '/dev/null': '1:3', '/dev/zero': '1:5', '/dev/full': '1:7', '/dev/random': '1:8', '/dev/urandom': '1:9', '/dev/tty': '5:0' };
    const out = await t.sh(`${STAT(Object.keys(want))}; echo "PTMX=$(stat -L -c %d:%i /dev/ptmx)|$(stat -c %d:%i /dev/pts/ptmx)"`);
    const got = parseStat(out);
    const bad = [];
    for (const [p, dev] of Object.entries(want)) {
      const g = got[p];
      if (!g || g.type !== 'character special file' || g.dev !== dev) bad.push(`${p} is ${g ? `${g.type} ${g.dev}` : 'missing'}`);
    }
    const ptmx = out.match(/PTMX=(\S*)\|(\S*)/);
    if (!ptmx || !ptmx[1] || ptmx[1] !== ptmx[2]) bad.push(`/dev/ptmx (${ptmx?.[1] || 'missing'}) is not /dev/pts/ptmx (${ptmx?.[2] || 'missing'})`);
    t.ok(!bad.length, bad.join('; '));
  });

check('devices.console', 'Default Devices', 'MUST',
  'with terminal, /dev/console is the container\'s pty',
  async (t) => {
    const text = await t.terminal('echo "CONSOLE=$(stat -c %t:%T /dev/console)|$(stat -L -c %t:%T /proc/$$/fd/0)"; echo "CF-DONE-$((40+2))"\n');
    const m = text.match(/CONSOLE=(\S*)\|(\S*)/);
    t.ok(m && m[1] && m[1] === m[2] && m[1].startsWith('88:'), `/dev/console is ${m?.[1] || 'missing'}, the pty is ${m?.[2]}`);
  });

// ---------------------------------------------------------------------------------------------------------------
// Control groups

/** `needs`: a host feature the check depends on beyond the controller: a reason to skip when missing, or undefined. */
function cgroupCheck(id, section, desc, controller, resources, file, expected, needs) {
  check(id, section, 'MUST', desc, async (t) => {
    if (cgroupVersion() === 1 && !v1Mount(controller)) t.skip(`host has no ${controller} cgroup controller mounted`);
    const lacking = needs?.();
    if (lacking) t.skip(lacking);
    if (cgroupVersion() === 2) {
      const ctrls = fs.readFileSync('/sys/fs/cgroup/cgroup.controllers', 'utf8').split(/\s+/);
      if (!ctrls.includes(controller)) t.skip(`host cgroup v2 root has no ${controller} controller`);
    }
    const cfg = t.config(['sleep', '300']);
    const cgPath = t.cgroupPath(`/cf-${path.basename(t.dir).replace(/[^\w-]/g, '')}`);
    cfg.linux.cgroupsPath = cgPath;
    if (resources) cfg.linux.resources = resources;
    const c = t.create(cfg);
    const { pid } = t.state(c.id);
    const cg = cgroupOf(pid, controller);
    t.ok(cg, `the container process has no ${controller} cgroup`);
    t.ok(cg.path === cgPath, `the container process is in ${controller} cgroup ${cg.path}, not in cgroupsPath ${cgPath}`);
    if (!file) return;
    const f = file[cgroupVersion()];
    let value;
    try { value = fs.readFileSync(path.join(cg.dir, f), 'utf8').trim(); } catch (e) { t.fail(`cannot read ${path.join(cg.dir, f)}: ${e.code}`); }
    const want = expected[cgroupVersion()];
    t.ok(value === want, `${f} of the container's cgroup ${cg.path} is ${value}, expected ${want}`);
  });
}

cgroupCheck('cgroups.path', 'Cgroups Path', 'an absolute cgroupsPath is the container\'s cgroup, relative to the cgroup mount point', 'memory');
cgroupCheck('cgroups.memory', 'Memory', 'resources.memory.limit is the memory limit of the container\'s cgroup', 'memory',
  { memory: { limit: 64 * 1024 * 1024 } }, { 1: 'memory.limit_in_bytes', 2: 'memory.max' }, { 1: String(64 * 1024 * 1024), 2: String(64 * 1024 * 1024) });
cgroupCheck('cgroups.pids', 'PIDs', 'resources.pids.limit is the pids limit of the container\'s cgroup', 'pids',
  { pids: { limit: 32 } }, { 1: 'pids.max', 2: 'pids.max' }, { 1: '32', 2: '32' });
// cgroup v2 has no shares: runtimes convert them to cpu.weight as runc and crun do
cgroupCheck('cgroups.cpu-shares', 'CPU', 'resources.cpu.shares is the CPU share of the container\'s cgroup (cpu.weight on cgroup v2)', 'cpu',
  { cpu: { shares: 512 } }, { 1: 'cpu.shares', 2: 'cpu.weight' }, { 1: '512', 2: String(1 + Math.floor(((512 - 2) * 9999) / 262142)) });

const MiB = 1024 * 1024;
cgroupCheck('cgroups.memory-reservation', 'Memory', 'resources.memory.reservation is the soft limit (memory.low on cgroup v2)', 'memory',
  { memory: { limit: 64 * MiB, reservation: 32 * MiB } }, { 1: 'memory.soft_limit_in_bytes', 2: 'memory.low' }, { 1: String(32 * MiB), 2: String(32 * MiB) });
// swap is memory plus swap; cgroup v2's memory.swap.max holds the swap part alone
cgroupCheck('cgroups.memory-swap', 'Memory', 'resources.memory.swap is the memory+swap limit (memory.swap.max = swap - limit on cgroup v2)', 'memory',
  { memory: { limit: 64 * MiB, swap: 128 * MiB } }, { 1: 'memory.memsw.limit_in_bytes', 2: 'memory.swap.max' }, { 1: String(128 * MiB), 2: String(64 * MiB) },
  () => {
    // swap accounting: v1 shows memory.memsw.* in every memory cgroup; v2's memory.swap.* is absent from the root,
    // so the kernel command line decides (swapaccount=0 or cgroup.memory=noswap turn it off)
    if (cgroupVersion() === 1) return fs.existsSync(path.join(v1Mount('memory'), 'memory.memsw.limit_in_bytes')) ? undefined : 'host kernel does not account swap (no memory.memsw.limit_in_bytes)';
    return /(^|\s)(swapaccount=0|cgroup\.memory=\S*noswap)/.test(fs.readFileSync('/proc/cmdline', 'utf8')) ? 'host kernel does not account swap (swapaccount=0 or cgroup.memory=noswap)' : undefined;
  });
cgroupCheck('cgroups.cpu-quota', 'CPU', 'resources.cpu.quota and period are the CFS bandwidth of the container\'s cgroup (cpu.max on cgroup v2)', 'cpu',
  { cpu: { quota: 50000, period: 200000 } }, { 1: 'cpu.cfs_quota_us', 2: 'cpu.max' }, { 1: '50000', 2: '50000 200000' });
cgroupCheck('cgroups.cpu-period', 'CPU', 'resources.cpu.period is the CFS period of the container\'s cgroup', 'cpu',
  { cpu: { quota: 50000, period: 200000 } }, { 1: 'cpu.cfs_period_us', 2: 'cpu.max' }, { 1: '200000', 2: '50000 200000' });
cgroupCheck('cgroups.cpuset', 'CPU', 'resources.cpu.cpus is the cpuset of the container\'s cgroup', 'cpuset',
  { cpu: { cpus: '0' } }, { 1: 'cpuset.cpus', 2: 'cpuset.cpus' }, { 1: '0', 2: '0' });
cgroupCheck('cgroups.pids-unlimited', 'PIDs', 'resources.pids.limit -1 means no limit (pids.max "max")', 'pids',
  { pids: { limit: -1 } }, { 1: 'pids.max', 2: 'pids.max' }, { 1: 'max', 2: 'max' });
{
  // the first whole disk of the host, as major:minor
  let disk;
  for (const line of fs.readFileSync('/proc/partitions', 'utf8').split('\n').slice(2)) {
    const [maj, min, , name] = line.trim().split(/\s+/);
    if (name && fs.existsSync(`/sys/block/${name}`)) { disk = `${maj}:${min}`; break; }
  }
  const [maj, min] = (disk ?? '0:0').split(':').map(Number);
  cgroupCheck('cgroups.blkio-throttle', 'Block IO', 'resources.blockIO.throttleReadBpsDevice is the read bandwidth limit of that device (io.max on cgroup v2)',
    cgroupVersion() === 2 ? 'io' : 'blkio',
    { blockIO: { throttleReadBpsDevice: [{ major: maj, minor: min, rate: MiB }] } },
    { 1: 'blkio.throttle.read_bps_device', 2: 'io.max' }, { 1: `${disk} ${MiB}`, 2: `${disk} rbps=${MiB} wbps=max riops=max wiops=max` });
}

check('cgroups.devices', 'Allowed Device list', 'MUST',
  'resources.devices: a device node the allow list does not name cannot be opened; one it allows for reading can be read but not written',
  async (t) => {
    if (!fs.existsSync('/dev/fuse')) t.skip('host has no /dev/fuse (10:229) to use as the test device');
    const dev = { path: '/dev/cf-fuse', type: 'c', major: 10, minor: 229, fileMode: 0o666 };
    const script = 'head -c 0 /dev/cf-fuse 2>/dev/null; echo "read=$?"; (echo x > /dev/cf-fuse) 2>/dev/null; echo "write=$?"';
    const denied = await t.sh(script, (c) => {
      c.linux.devices = [dev];
      c.linux.resources = { devices: [{ allow: false, access: 'rwm' }] };
    });
    t.ok(/read=[1-9]/.test(denied), `a device outside the allow list was opened: ${denied.trim()}`);
    const readOnly = await t.sh(script, (c) => {
      c.linux.devices = [dev];
      c.linux.resources = { devices: [{ allow: false, access: 'rwm' }, { allow: true, type: 'c', major: 10, minor: 229, access: 'r' }] };
    });
    t.ok(/read=0/.test(readOnly), `a device allowed for reading could not be read: ${readOnly.trim()}`);
    t.ok(/write=[1-9]/.test(readOnly), `a device allowed only for reading was opened for writing: ${readOnly.trim()}`);
  });

// ---------------------------------------------------------------------------------------------------------------
// Sysctl

check('sysctl', 'Sysctl', 'MUST',
  'linux.sysctl values are set in the container\'s namespaces (a net.* and a kernel.* one)',
  async (t) => {
    const fwd = fs.readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8').trim() === '1' ? '0' : '1';
    const msgmax = fs.readFileSync('/proc/sys/kernel/msgmax', 'utf8').trim() === '4096' ? '8192' : '4096';
    const out = await t.sh('cat /proc/sys/net/ipv4/ip_forward /proc/sys/kernel/msgmax', (c) => {
      c.linux.sysctl = { 'net.ipv4.ip_forward': fwd, 'kernel.msgmax': msgmax };
    });
    t.eq(out.trim().split('\n'), [fwd, msgmax], 'net.ipv4.ip_forward and kernel.msgmax in the container');
  });

// ---------------------------------------------------------------------------------------------------------------
// Seccomp

function seccompConfig(rule) {
  const s = { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO', ...rule }] };
  if (os.arch() === 'x64') s.architectures = ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'];
  return s;
}

const SECCOMP_SCRIPT = 'grep Seccomp: /proc/self/status; mkdir /dev/shm/cf-dir 2>&1; echo "mkdir=$?"; touch /dev/shm/cf-file && echo touch=0';

check('seccomp.errno', 'Seccomp', 'MUST',
  'a seccomp filter is installed: an SCMP_ACT_ERRNO rule makes the syscall fail with EPERM while others work',
  async (t) => {
    const out = await t.sh(SECCOMP_SCRIPT, (c) => { c.linux.seccomp = seccompConfig({}); });
    t.ok(/Seccomp:\s+2/.test(out), `the process is not under a seccomp filter (${out.match(/Seccomp:.*/)?.[0] ?? 'no Seccomp line'})`);
    t.ok(/mkdir=[1-9]/.test(out) && /Operation not permitted/.test(out), `mkdir was not refused with EPERM: ${out.trim().split('\n').slice(1, 3).join(' ')}`);
    t.ok(/touch=0/.test(out), 'an unrelated syscall failed too');
  });

check('seccomp.errno-ret', 'Seccomp', 'MUST',
  'a seccomp rule\'s errnoRet is the errno the refused syscall returns',
  async (t) => {
    const out = await t.sh(SECCOMP_SCRIPT, (c) => { c.linux.seccomp = seccompConfig({ errnoRet: 18 }); });
    t.ok(/mkdir=[1-9]/.test(out) && /Invalid cross-device link/.test(out), `mkdir did not fail with EXDEV: ${out.trim().split('\n').slice(1, 3).join(' ')}`);
  });

// ---------------------------------------------------------------------------------------------------------------
// Rootfs mount propagation

function rootMount(t, p) {
  const m = mountAt(parseMountinfo(p.mountinfo ?? []), '/');
  t.ok(m, 'no / in the container\'s mountinfo');
  return m;
}

check('propagation.private', 'Rootfs Mount Propagation', 'MUST',
  'rootfsPropagation "private": the container\'s / is neither shared nor a slave',
  async (t) => {
    const m = rootMount(t, await t.probe((c) => { c.linux.rootfsPropagation = 'private'; }));
    t.ok(!m.optional.some((o) => /^(shared|master):/.test(o)), `/ has propagation "${m.optional.join(' ')}"`);
  });

check('propagation.shared', 'Rootfs Mount Propagation', 'MUST',
  'rootfsPropagation "shared": the container\'s / is in a peer group',
  async (t) => {
    const m = rootMount(t, await t.probe((c) => { c.linux.rootfsPropagation = 'shared'; }));
    t.ok(m.optional.some((o) => o.startsWith('shared:')), `/ has propagation "${m.optional.join(' ')}", not shared`);
  });

check('propagation.slave', 'Rootfs Mount Propagation', 'MUST',
  'rootfsPropagation "slave": the container\'s / receives propagation from the host (rootfs on a shared host mount)',
  async (t) => {
    // the rootfs lives on a shared mount of the host so that there is something to be a slave of
    const d = t.mkdir('shared-root');
    t.hostMount(['--bind', d, d]);
    t.hostMount(['--make-shared', d]);
    const rootfs = t.rootfsCopy(true, path.join(d, 'rootfs'));
    const m = rootMount(t, await t.probe((c) => { c.linux.rootfsPropagation = 'slave'; c.root.path = rootfs; }));
    t.ok(m.optional.some((o) => o.startsWith('master:')), `/ has propagation "${m.optional.join(' ')}", not a slave`);
  });

check('propagation.unbindable', 'Rootfs Mount Propagation', 'MUST',
  'rootfsPropagation "unbindable": the container\'s / is unbindable',
  async (t) => {
    const m = rootMount(t, await t.probe((c) => { c.linux.rootfsPropagation = 'unbindable'; }));
    t.ok(m.optional.includes('unbindable'), `/ has propagation "${m.optional.join(' ')}", not unbindable`);
  });

// ---------------------------------------------------------------------------------------------------------------
// Masked and read-only paths

check('masked-paths', 'Masked Paths', 'MUST',
  'maskedPaths cannot be read: a masked file reads empty, a masked directory lists empty',
  async (t) => {
    const out = await t.sh('echo "F=$(cat /etc/hostname 2>&1)"; echo "D=$(ls -A /home 2>&1)"', (c) => {
      c.linux.maskedPaths = ['/etc/hostname', '/home'];
    });
    t.eq(out.trim().split('\n'), ['F=', 'D='], 'masked /etc/hostname and /home');
  });

check('readonly-paths', 'Readonly Paths', 'MUST',
  'readonlyPaths are read-only in the container (/proc/sys and a tmpfs at /data)',
  async (t) => {
    const out = await t.sh('touch /data/x 2>/dev/null && echo DATA=writable || echo DATA=read-only; awk \'$5 == "/proc/sys" { o = $6 } END { print "SYS=" o }\' /proc/self/mountinfo', (c) => {
      c.mounts.push({ destination: '/data', type: 'tmpfs', source: 'tmpfs', options: ['mode=1777'] });
      c.linux.readonlyPaths = ['/proc/sys', '/data'];
    });
    t.ok(/DATA=read-only/.test(out), 'writing to /data worked');
    const sys = out.match(/SYS=(\S*)/)?.[1] ?? '';
    t.ok(sys.split(',').includes('ro'), `/proc/sys is not a read-only mount (options "${sys}")`);
  });

// ---------------------------------------------------------------------------------------------------------------
// Mount label, personality

check('mount-label', 'Mount Label', 'MUST',
  'mountLabel is the SELinux context of the container\'s mounts',
  async (t) => {
    if (!fs.existsSync('/sys/fs/selinux/enforce')) t.skip('host has no SELinux (/sys/fs/selinux is not mounted)');
    const label = 'system_u:object_r:container_file_t:s0:c1,c2';
    const p = await t.probe((c) => { c.linux.mountLabel = label; });
    const m = mountAt(parseMountinfo(p.mountinfo), '/dev/shm');
    t.ok(m && [...m.superOpts].some((o) => o.includes(label)), `/dev/shm has no context=${label}`);
  });

check('personality', 'Personality', 'MUST',
  'personality domain LINUX32 makes uname report a 32-bit machine (i686)',
  async (t) => {
    if (os.arch() !== 'x64') t.skip(`host is ${os.arch()}, the check knows only x86_64's 32-bit name`);
    const p = await t.probe((c) => { c.linux.personality = { domain: 'LINUX32' }; });
    t.eq(p.machine, 'i686', 'uname machine');
  });

export default checks;
