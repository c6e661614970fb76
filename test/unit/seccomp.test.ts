// linux.seccomp → the SECCOMP step: libseccomp's numbers, errors that name the field, and where the step goes.
import { execFileSync, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { describe, expect, it } from 'vitest';
import { ACTIONS, ARCHS, FLAGS, OPERATORS, seccompPlan, seccompStep } from '../../src/plan/seccomp';
import { seccompProblems, throwFirst } from '../../src/config/rules';

/** create's order: the rule (config/rules.ts's checkSeccomp) first, then the planner */
const checkedPlan = (c: any) => { throwFirst(seccompProblems(c)); return seccompPlan(c); };
import { processSteps } from '../../src/plan/process';
import type { Step } from '../../src/plan/encode';
import { fakeFacts } from './fakefacts';

const ERRNO = 0x00050000;
const allow = (syscalls: unknown[], extra: Record<string, unknown> = {}) => ({ defaultAction: 'SCMP_ACT_ALLOW', syscalls, ...extra });

describe('seccompPlan: values', () => {
  it('actions as libseccomp values, ERRNO and TRACE with their errno (EPERM by default)', () => {
    const p = seccompPlan({
      defaultAction: 'SCMP_ACT_ERRNO',
      defaultErrnoRet: 38,
      syscalls: [
        { names: ['a'], action: 'SCMP_ACT_ALLOW' },
        { names: ['b'], action: 'SCMP_ACT_ERRNO' },
        { names: ['c'], action: 'SCMP_ACT_ERRNO', errnoRet: 18 },
        { names: ['d'], action: 'SCMP_ACT_KILL' },
        { names: ['e'], action: 'SCMP_ACT_KILL_THREAD' },
        { names: ['f'], action: 'SCMP_ACT_KILL_PROCESS' },
        { names: ['g'], action: 'SCMP_ACT_TRAP' },
        { names: ['h'], action: 'SCMP_ACT_TRACE' },
        { names: ['i'], action: 'SCMP_ACT_TRACE', errnoRet: 5 },
        { names: ['j'], action: 'SCMP_ACT_LOG' },
      ],
    });
    expect(p.defaultAction).toBe(ERRNO | 38);
    const actions: number[] = [];
    for (let i = 0; i < p.rules.length; i += 3 + 4 * Number(p.rules[i + 2])) actions.push(Number(p.rules[i + 1]));
    expect(actions).toEqual([0x7fff0000, ERRNO | 1, ERRNO | 18, 0, 0, 0x80000000, 0x00030000, 0x7ff00001, 0x7ff00005, 0x7ffc0000]);
    expect(p.names).toEqual(['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j']);
    expect(p.notify).toBe(false);
  });

  it('architectures, flags and conditions', () => {
    const p = seccompPlan(allow([
      { names: ['personality'], action: 'SCMP_ACT_ERRNO', args: [{ index: 0, value: 0xffffffff, op: 'SCMP_CMP_EQ' }] },
      { names: ['chmod', 'fchmod'], action: 'SCMP_ACT_ERRNO', args: [{ index: 1, value: 0o4000, valueTwo: 0o4000, op: 'SCMP_CMP_MASKED_EQ' }, { index: 0, value: 3, op: 'SCMP_CMP_NE' }] },
    ], { architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32', 'SCMP_ARCH_X86'], flags: ['SECCOMP_FILTER_FLAG_LOG', 'SECCOMP_FILTER_FLAG_SPEC_ALLOW', 'SECCOMP_FILTER_FLAG_TSYNC'] }));
    expect(p.archs).toEqual([0xc000003e, 0x40000003, 0x4000003e]);
    expect(p.flags).toBe(2 | 4 | 1);
    expect(p.names).toEqual(['personality', 'chmod', 'fchmod']);
    expect(p.rules).toEqual([
      1n, BigInt(ERRNO | 1), 1n, 0n, 0xffffffffn, 0n, 4n,
      2n, BigInt(ERRNO | 1), 2n, 1n, 0o4000n, 0o4000n, 7n, 0n, 3n, 0n, 1n,
    ]);
  });

  it('two conditions on one argument become one rule each (libseccomp cannot AND them), as runc does', () => {
    const p = seccompPlan(allow([{ names: ['clone'], action: 'SCMP_ACT_ERRNO', args: [
      { index: 0, value: 1, op: 'SCMP_CMP_GT' }, { index: 0, value: 9, op: 'SCMP_CMP_LT' },
    ] }]));
    expect(p.names).toEqual(['clone', 'clone']);
    expect(p.rules).toEqual([1n, BigInt(ERRNO | 1), 1n, 0n, 1n, 0n, 6n, 1n, BigInt(ERRNO | 1), 1n, 0n, 9n, 0n, 2n]);
  });

  it('a rule with the default action is skipped (libseccomp refuses it)', () => {
    const p = seccompPlan({ defaultAction: 'SCMP_ACT_ERRNO', syscalls: [{ names: ['x'], action: 'SCMP_ACT_ERRNO' }, { names: ['y'], action: 'SCMP_ACT_ERRNO', errnoRet: 2 }] });
    expect(p.names).toEqual(['y']);
  });

  it('NOTIFY rules need listenerPath, and never on write or as the default action (as runc)', () => {
    const rule = { names: ['mkdir'], action: 'SCMP_ACT_NOTIFY' };
    expect(() => checkedPlan(allow([rule]))).toThrow('linux.seccomp.listenerPath: is required when a rule uses SCMP_ACT_NOTIFY');
    expect(seccompPlan(allow([rule], { listenerPath: '/run/agent.sock' })).notify).toBe(true);
    expect(() => checkedPlan(allow([{ names: ['read', 'write'], action: 'SCMP_ACT_NOTIFY' }], { listenerPath: '/x' }))).toThrow('linux.seccomp.syscalls[0].names: SCMP_ACT_NOTIFY cannot be used for write');
    // the runtime's other syscalls after the load come once the agent has the fd: allowed, as in runc
    expect(seccompPlan(allow([{ names: ['read', 'close', 'sendmsg', 'execve'], action: 'SCMP_ACT_NOTIFY' }], { listenerPath: '/x' })).notify).toBe(true);
    expect(() => checkedPlan({ defaultAction: 'SCMP_ACT_NOTIFY', listenerPath: '/x' })).toThrow('linux.seccomp.defaultAction: SCMP_ACT_NOTIFY cannot be the default action');
  });

  it('the step: default, archs, flags, names, rules, enosys, bound names', () => {
    const p = seccompPlan({ defaultAction: 'SCMP_ACT_ERRNO', architectures: ['SCMP_ARCH_X86_64'], syscalls: [
      { names: ['mkdir'], action: 'SCMP_ACT_ALLOW' }, { names: ['clone3'], action: 'SCMP_ACT_ERRNO' }] });
    const st = seccompStep(p);
    expect(st.op).toBe('SECCOMP');
    expect(st.args.map((a) => a.t)).toEqual(['u64', 'u64v', 'u64', 'strv', 'u64v', 'u64', 'strv']);
    expect(st.args[3]).toEqual({ t: 'strv', v: ['mkdir'] });
    expect(st.args[5]).toEqual({ t: 'u64', v: 1 });
    expect(st.args[6]).toEqual({ t: 'strv', v: ['clone3'] });
    const q = seccompStep(seccompPlan(allow([{ names: ['mkdir'], action: 'SCMP_ACT_ERRNO' }, { names: ['x'], action: 'SCMP_ACT_ALLOW' }])));
    expect(q.args[5]).toEqual({ t: 'u64', v: 0 });
    expect(q.args[6]).toEqual({ t: 'strv', v: [] });
  });

  it('the ENOSYS prefix only where runc adds it: the default action refuses, and not already with ENOSYS', () => {
    const e = (defaultAction: string, defaultErrnoRet?: number) => seccompPlan({ defaultAction, defaultErrnoRet }).enosys;
    expect(e('SCMP_ACT_ERRNO')).toBe(true);
    expect(e('SCMP_ACT_ERRNO', 13)).toBe(true);
    expect(e('SCMP_ACT_ERRNO', 38)).toBe(false);
    expect(e('SCMP_ACT_KILL')).toBe(true);
    expect(e('SCMP_ACT_KILL_PROCESS')).toBe(true);
    expect(e('SCMP_ACT_KILL_THREAD')).toBe(true);
    expect(e('SCMP_ACT_TRAP')).toBe(true);
    expect(e('SCMP_ACT_ALLOW')).toBe(false);
    expect(e('SCMP_ACT_LOG')).toBe(false);
    expect(e('SCMP_ACT_TRACE')).toBe(false);
    expect(e('SCMP_ACT_TRACE', 38)).toBe(false);
  });
});

describe('seccompPlan: errors name the field', () => {
  const cases: Array<[string, unknown, string]> = [
    ['unknown action', allow([{ names: ['a'], action: 'SCMP_ACT_ALLOW' }, { names: ['b'], action: 'SCMP_ACT_ALLOW' }, { names: ['c'], action: 'SCMP_ACT_ALLOW' }, { names: ['d'], action: 'X' }]), 'linux.seccomp.syscalls[3].action: unknown action "X"'],
    ['unknown default action', { defaultAction: 'SCMP_ACT_NOPE' }, 'linux.seccomp.defaultAction: unknown action "SCMP_ACT_NOPE"'],
    ['unknown architecture', { defaultAction: 'SCMP_ACT_ALLOW', architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_VAX'] }, 'linux.seccomp.architectures[1]: unknown architecture "SCMP_ARCH_VAX"'],
    ['libseccomp 2.6 architecture', { defaultAction: 'SCMP_ACT_ALLOW', architectures: ['SCMP_ARCH_LOONGARCH64'] }, 'linux.seccomp.architectures[0]: SCMP_ARCH_LOONGARCH64 is not supported'],
    ['unknown operator', allow([{ names: ['a'], action: 'SCMP_ACT_ERRNO', args: [{ index: 0, value: 1, op: 'SCMP_CMP_ALMOST' }] }]), 'linux.seccomp.syscalls[0].args[0].op: unknown operator "SCMP_CMP_ALMOST"'],
    ['argument index', allow([{ names: ['a'], action: 'SCMP_ACT_ERRNO', args: [{ index: 6, value: 1, op: 'SCMP_CMP_EQ' }] }]), 'linux.seccomp.syscalls[0].args[0].index: must be between 0 and 5'],
    ['unknown flag', { defaultAction: 'SCMP_ACT_ALLOW', flags: ['SECCOMP_FILTER_FLAG_FAST'] }, 'linux.seccomp.flags[0]: unknown flag "SECCOMP_FILTER_FLAG_FAST"'],
    ['WAIT_KILLABLE_RECV', { defaultAction: 'SCMP_ACT_ALLOW', flags: ['SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV'] }, 'linux.seccomp.flags[0]: SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV is not supported'],
    ['errnoRet on ALLOW', allow([{ names: ['a'], action: 'SCMP_ACT_KILL', errnoRet: 1 }]), 'linux.seccomp.syscalls[0].errnoRet: SCMP_ACT_KILL does not take an errno'],
    ['defaultErrnoRet on ALLOW', { defaultAction: 'SCMP_ACT_ALLOW', defaultErrnoRet: 1 }, 'linux.seccomp.defaultErrnoRet: SCMP_ACT_ALLOW does not take an errno'],
    ['errno out of range', allow([{ names: ['a'], action: 'SCMP_ACT_ERRNO', errnoRet: 70000 }]), 'linux.seccomp.syscalls[0].errnoRet: must be an errno between 0 and 65535'],
    ['a value JSON.parse cannot hold exactly', allow([{ names: ['a'], action: 'SCMP_ACT_ERRNO', args: [{ index: 0, value: 2 ** 63, op: 'SCMP_CMP_EQ' }] }]), 'linux.seccomp.syscalls[0].args[0].value: 9223372036854776000 is above 2^53'],
    ['no names', allow([{ names: [], action: 'SCMP_ACT_ERRNO' }]), 'linux.seccomp.syscalls[0].names: must list at least one syscall'],
  ];
  for (const [what, cfg, msg] of cases) {
    it(what, () => expect(() => checkedPlan(cfg)).toThrow(msg));
  }
});

describe('the tables match this libseccomp (seccomp.h)', () => {
  const cc = spawnSync('cc', ['--version']).status === 0 && fs.existsSync('/usr/include/seccomp.h');
  it.skipIf(!cc)('actions, architectures, operators and flags', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'runts-seccomp-'));
    try {
      const P = (n: string) => `printf("%s %llu\\n", "${n}", (unsigned long long)(${n}));`;
      const names = [
        ...Object.keys(ACTIONS).filter((a) => a !== 'SCMP_ACT_ERRNO' && a !== 'SCMP_ACT_TRACE'),
        ...Object.keys(ARCHS), ...Object.keys(OPERATORS), ...Object.keys(FLAGS),
      ];
      fs.writeFileSync(path.join(dir, 't.c'), `#include <stdio.h>\n#include <seccomp.h>\nint main(void){\n${names.map(P).join('\n')}\n` +
        `printf("SCMP_ACT_ERRNO %llu\\n", (unsigned long long)SCMP_ACT_ERRNO(0)); printf("SCMP_ACT_TRACE %llu\\n", (unsigned long long)SCMP_ACT_TRACE(0));\nreturn 0;}\n`);
      execFileSync('cc', ['-o', path.join(dir, 't'), path.join(dir, 't.c')]);
      const got = Object.fromEntries(execFileSync(path.join(dir, 't'), { encoding: 'utf8' }).trim().split('\n').map((l) => l.split(' ')).map(([k, v]) => [k, Number(v)]));
      const want = { ...ACTIONS, ...ARCHS, ...OPERATORS, ...FLAGS };
      expect(got).toEqual(want);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('where the SECCOMP step goes', () => {
  const CAPS = ['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'];
  const spec = (uid: number, nnp: boolean, caps: string[] | null = CAPS): any => ({
    ociVersion: '1.3.0',
    process: { args: ['true'], cwd: '/', user: { uid, gid: uid }, noNewPrivileges: nnp, ...(caps ? { capabilities: { bounding: caps, effective: caps, permitted: caps } } : {}) },
    linux: {},
  });
  const sc = { step: { op: 'SECCOMP', args: [] } as Step, notify: false };
  const order = (s: any, o: { notify?: boolean; ready?: boolean } = {}) => {
    const p = processSteps(s, { facts: fakeFacts(), seccomp: { ...sc, notify: !!o.notify }, readyBeforeExec: o.ready });
    // the steps that matter here (CHDIR, UMASK... may move without changing the answer)
    const keep = new Set(['CAPS_BOUNDING', 'USER', 'CAPS', 'NO_NEW_PRIVS', 'LOOKUP', 'SECCOMP', 'SECCOMP_LOAD', '|']);
    return [...p.setup.map((x) => x.op), '|', ...p.beforeExec.map((x) => x.op)].filter((x) => keep.has(x)).join(' ');
  };

  it('with no_new_privs: built at the end of the set-up, loaded right before EXEC (root or not)', () => {
    expect(order(spec(0, true))).toBe('CAPS_BOUNDING USER CAPS NO_NEW_PRIVS LOOKUP SECCOMP | SECCOMP_LOAD');
    expect(order(spec(1000, true))).toBe('CAPS_BOUNDING USER CAPS NO_NEW_PRIVS LOOKUP SECCOMP | SECCOMP_LOAD');
  });
  it('without no_new_privs: loaded before the step that drops CAP_SYS_ADMIN', () => {
    expect(order(spec(1000, false))).toBe('CAPS_BOUNDING SECCOMP SECCOMP_LOAD USER CAPS LOOKUP |');
    expect(order(spec(1000, false, null))).toBe('SECCOMP SECCOMP_LOAD USER LOOKUP |');
    expect(order(spec(0, false))).toBe('CAPS_BOUNDING USER SECCOMP SECCOMP_LOAD CAPS LOOKUP |');
  });
  it('without no_new_privs but keeping CAP_SYS_ADMIN: loaded last', () => {
    expect(order(spec(0, false, null))).toBe('USER LOOKUP SECCOMP | SECCOMP_LOAD');
    expect(order(spec(1000, false, [...CAPS, 'CAP_SYS_ADMIN']))).toBe('CAPS_BOUNDING USER CAPS LOOKUP SECCOMP | SECCOMP_LOAD');
  });
  it('create with a listener: loaded before READY, which closes the sync socket', () => {
    expect(order(spec(0, true), { notify: true, ready: true })).toBe('CAPS_BOUNDING USER CAPS NO_NEW_PRIVS LOOKUP SECCOMP SECCOMP_LOAD |');
    expect(order(spec(0, true), { notify: true, ready: false })).toBe('CAPS_BOUNDING USER CAPS NO_NEW_PRIVS LOOKUP SECCOMP | SECCOMP_LOAD');
  });
});
