// Configs shaped like the ones containerd's CRI plugin writes for Kubernetes pods (pkg/cri: sandbox and container
// spec generation): a pause-like sandbox, containers joining its namespaces by path, the sandbox's files and
// /dev/shm bound in, the CRI's masked and read-only paths, and pod resources. Assertions are what the container sees.
import { execFileSync, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Ctx, baseConfig, bundle, cleanupContext, context, rt, stateOf } from '../helpers';

let c: Ctx;
const hostMounts: string[] = [];
const CGROUP_PARENT = `/runts-cri-${process.pid}`;

// containerd 1.6's defaults (pkg/oci/spec.go populateDefaultUnixSpec)
const CRI_MASKED = ['/proc/acpi', '/proc/kcore', '/proc/keys', '/proc/latency_stats', '/proc/timer_list', '/proc/timer_stats',
  '/proc/sched_debug', '/proc/scsi', '/sys/firmware'];
const CRI_READONLY = ['/proc/asound', '/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'];

beforeAll(() => {
  c = context('cri');
  fs.chmodSync(c.work, 0o755);
});

afterAll(() => {
  if (!c) return;
  let ids: string[] = [];
  try { ids = fs.readdirSync(c.root); } catch { /* none */ }
  for (const id of ids) rt(c, ['delete', '--force', id]);
  for (const m of hostMounts) spawnSync('umount', ['-l', m]);
  cleanupContext(c);
});

/** A pod sandbox: the pause container's config as the CRI writes it (busybox sleep stands in for pause). */
function sandboxConfig(sbDir: string): any {
  const cfg = baseConfig(['sleep', '300']);
  cfg.root.readonly = true;
  cfg.hostname = 'pod-sandbox';
  cfg.process.capabilities = { bounding: ['CAP_KILL'], effective: ['CAP_KILL'], permitted: ['CAP_KILL'] };
  cfg.mounts = cfg.mounts.filter((m: any) => m.destination !== '/dev/shm');
  cfg.mounts.push({ destination: '/dev/shm', type: 'bind', source: path.join(sbDir, 'shm'), options: ['rbind', 'ro'] });
  cfg.linux.maskedPaths = CRI_MASKED;
  cfg.linux.readonlyPaths = CRI_READONLY;
  cfg.linux.resources = { cpu: { shares: 2 } };
  return cfg;
}

function sandboxDir(name: string): string {
  const d = path.join(c.work, name);
  fs.mkdirSync(path.join(d, 'shm'), { recursive: true });
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m,mode=1777', 'shm', path.join(d, 'shm')]);
  hostMounts.unshift(path.join(d, 'shm'));
  fs.writeFileSync(path.join(d, 'hosts'), '127.0.0.1 localhost\n10.1.2.3 pod-sandbox\n');
  fs.writeFileSync(path.join(d, 'hostname'), 'pod-sandbox\n');
  fs.writeFileSync(path.join(d, 'resolv.conf'), 'nameserver 10.96.0.10\nsearch default.svc.cluster.local\n');
  return d;
}

function sections(out: string): Record<string, string> {
  const s: Record<string, string> = {};
  let cur = '';
  for (const l of out.split('\n')) {
    const m = /^== (.+)$/.exec(l);
    if (m) { cur = m[1]; s[cur] = ''; } else if (cur) s[cur] += l + '\n';
  }
  return s;
}

describe('CRI pod sandbox', () => {
  it('oomScoreAdj -998: applied where lowering is allowed, else a clear error naming process.oomScoreAdj and nothing left', () => {
    // lowering oom_score_adj below the caller's needs CAP_SYS_RESOURCE (this host's root lacks it)
    const canLower = spawnSync('sh', ['-c', 'echo -998 > /proc/self/oom_score_adj'], { stdio: 'ignore' }).status === 0;
    if (!canLower) console.log('cri: this host cannot lower oom_score_adj (no CAP_SYS_RESOURCE): checking the error instead');
    const sb = sandboxDir('sb-oom');
    const cfg = sandboxConfig(sb);
    cfg.process.oomScoreAdj = -998;
    const id = `crioom-${process.pid}`;
    const r = rt(c, ['run', '-d', '--bundle', bundle(c, cfg), id]);
    if (canLower) {
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      expect(fs.readFileSync(`/proc/${stateOf(c, id).pid}/oom_score_adj`, 'utf8').trim()).toBe('-998');
      rt(c, ['delete', '--force', id]);
    } else {
      expect(r.status).not.toBe(0);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(/^runts: process\.oomScoreAdj: .*permission denied/);
      expect(fs.existsSync(path.join(c.root, id))).toBe(false);
      expect(fs.existsSync(path.join('/sys/fs/cgroup/memory', id))).toBe(false);
    }
  });

  it('a container joins the sandbox\'s network, ipc, uts and pid namespaces by path, gets its files and /dev/shm, the CRI\'s masks and read-only paths, and its resources', () => {
    const sb = sandboxDir('sb-pod');
    const sbId = `crisb-${process.pid}`;
    const s = rt(c, ['run', '-d', '--bundle', bundle(c, sandboxConfig(sb)), sbId]);
    expect(s.stderr).toBe('');
    expect(s.status).toBe(0);
    const sbPid = stateOf(c, sbId).pid;
    fs.writeFileSync(path.join(sb, 'shm', 'fromsb'), 'sandbox\n');

    const script = [
      'echo "== ns"; for n in net ipc uts pid; do readlink /proc/self/ns/$n; done',
      'echo "== hostname"; hostname',
      'echo "== pid1"; tr "\\0" " " < /proc/1/cmdline; echo',
      'echo "== files"; cat /etc/hosts /etc/hostname /etc/resolv.conf',
      'echo "== shm"; cat /dev/shm/fromsb; echo container > /dev/shm/fromct',
      'echo "== masked"; wc -c < /proc/timer_list; wc -c < /proc/keys; ls -A /sys/firmware | wc -l',
      'echo "== readonly"; (echo 1 > /proc/sys/vm/overcommit_memory) 2>&1',
      'echo "== oom"; cat /proc/self/oom_score_adj',
      'echo "== cgroup"; for f in cpu/cpu.cfs_quota_us cpu/cpu.cfs_period_us cpu/cpu.shares memory/memory.limit_in_bytes cpu.max cpu.weight memory.max; do [ -f /sys/fs/cgroup/$f ] && echo "$f=$(cat /sys/fs/cgroup/$f)"; done',
      'echo "== mountinfo"; cat /proc/self/mountinfo',
    ].join('; ');
    const cfg = baseConfig(['sh', '-c', script]);
    cfg.root.readonly = false;
    cfg.hostname = undefined;
    cfg.process.oomScoreAdj = 1000; // best-effort pod
    cfg.mounts = cfg.mounts.filter((m: any) => m.destination !== '/dev/shm');
    cfg.mounts.push(
      { destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['nosuid', 'noexec', 'nodev', 'relatime', 'ro'] },
      { destination: '/etc/hosts', type: 'bind', source: path.join(sb, 'hosts'), options: ['rbind', 'rprivate', 'rw'] },
      { destination: '/etc/hostname', type: 'bind', source: path.join(sb, 'hostname'), options: ['rbind', 'rprivate', 'rw'] },
      { destination: '/etc/resolv.conf', type: 'bind', source: path.join(sb, 'resolv.conf'), options: ['rbind', 'rprivate', 'rw'] },
      { destination: '/dev/shm', type: 'bind', source: path.join(sb, 'shm'), options: ['rbind', 'rprivate', 'rw'] },
    );
    cfg.linux.namespaces = [
      { type: 'mount' },
      { type: 'network', path: `/proc/${sbPid}/ns/net` },
      { type: 'ipc', path: `/proc/${sbPid}/ns/ipc` },
      { type: 'uts', path: `/proc/${sbPid}/ns/uts` },
      { type: 'pid', path: `/proc/${sbPid}/ns/pid` },
    ];
    cfg.linux.maskedPaths = CRI_MASKED;
    cfg.linux.readonlyPaths = CRI_READONLY;
    cfg.linux.cgroupsPath = `${CGROUP_PARENT}/cri-ct-${process.pid}`;
    cfg.linux.resources = {
      devices: [{ allow: false, access: 'rwm' }],
      cpu: { shares: 512, quota: 50000, period: 100000 },
      memory: { limit: 64 * 1024 * 1024 },
    };
    const ctId = `crict-${process.pid}`;
    try {
      const r = rt(c, ['run', '--bundle', bundle(c, cfg), ctId]);
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      const o = sections(r.stdout);
      const nsOf = (n: string) => fs.readlinkSync(`/proc/${sbPid}/ns/${n}`);
      expect(o.ns.trim().split('\n')).toEqual(['net', 'ipc', 'uts', 'pid'].map(nsOf));
      expect(o.hostname).toBe('pod-sandbox\n');
      expect(o.pid1).toBe('sleep 300 \n');
      expect(o.files).toBe('127.0.0.1 localhost\n10.1.2.3 pod-sandbox\npod-sandbox\nnameserver 10.96.0.10\nsearch default.svc.cluster.local\n');
      expect(o.shm).toBe('sandbox\n');
      expect(fs.readFileSync(path.join(sb, 'shm', 'fromct'), 'utf8')).toBe('container\n');
      // the sandbox sees what the container wrote: one /dev/shm for the pod
      const x = rt(c, ['exec', sbId, 'cat', '/dev/shm/fromct']);
      expect(x.stdout).toBe('container\n');
      expect(o.masked).toBe('0\n0\n0\n');
      expect(o.readonly).toMatch(/overcommit_memory: Read-only file system/);
      expect(o.oom).toBe('1000\n');
      const cg = Object.fromEntries(o.cgroup.trim().split('\n').map((l) => l.split('=')));
      if ('cpu/cpu.cfs_quota_us' in cg) {
        expect(cg).toMatchObject({ 'cpu/cpu.cfs_quota_us': '50000', 'cpu/cpu.cfs_period_us': '100000', 'cpu/cpu.shares': '512', 'memory/memory.limit_in_bytes': String(64 * 1024 * 1024) });
      } else {
        expect(cg).toMatchObject({ 'cpu.max': '50000 100000', 'memory.max': String(64 * 1024 * 1024) });
      }
      // the sandbox's files are binds of the host files, not copies
      const mi = o.mountinfo.split('\n');
      for (const f of ['/etc/hosts', '/etc/hostname', '/etc/resolv.conf']) expect(mi.some((l) => l.split(' ')[4] === f)).toBe(true);
    } finally {
      rt(c, ['delete', '--force', ctId]);
      rt(c, ['delete', '--force', sbId]);
    }
    expect(fs.existsSync(path.join('/sys/fs/cgroup/memory', CGROUP_PARENT.slice(1)))).toBe(false);
  });
  it('hugepageLimits as the CRI sends them (limit 0 for each page size): set where the host has a v1 hugetlb hierarchy, else an error naming the field and nothing left', () => {
    const v1 = fs.existsSync('/sys/fs/cgroup/hugetlb') && !fs.existsSync('/sys/fs/cgroup/cgroup.controllers');
    const v2 = fs.existsSync('/sys/fs/cgroup/cgroup.controllers');
    if (!v1 && !v2) console.log('cri: no hugetlb v1 hierarchy on this hybrid host (runc fails the same way): checking the error');
    const id = `crihp-${process.pid}`;
    const cfg = baseConfig(['sh', '-c', 'cat /sys/fs/cgroup/hugetlb/hugetlb.2MB.limit_in_bytes 2>/dev/null || cat /sys/fs/cgroup/hugetlb.2MB.max']);
    cfg.mounts.push({ destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['nosuid', 'noexec', 'nodev', 'relatime', 'ro'] });
    cfg.linux.cgroupsPath = `${CGROUP_PARENT}/${id}`;
    cfg.linux.resources = { hugepageLimits: [{ pageSize: '2MB', limit: 0 }] };
    const r = rt(c, ['run', '--bundle', bundle(c, cfg), id]);
    if (v1 || v2) {
      expect(r.stderr).toBe('');
      expect(r.stdout).toBe('0\n');
    } else {
      expect(r.status).not.toBe(0);
      expect(r.stderr).toMatch(/^runts: linux\.resources\.hugepageLimits\[0\]: /);
      expect(fs.existsSync(path.join(c.root, id))).toBe(false);
      expect(fs.existsSync(path.join('/sys/fs/cgroup/memory', CGROUP_PARENT.slice(1)))).toBe(false);
    }
  });
});
