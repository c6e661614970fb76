// cgroup v2 device control: the rule list (deny all, the config's rules, the defaults) as an eBPF program of type
// BPF_PROG_TYPE_CGROUP_DEVICE. The addon loads it and attaches it to the container's cgroup (native code);
// this file only emits the instructions, which is pure and unit-tested.
//
// The kernel calls the program with struct bpf_cgroup_dev_ctx { u32 access_type; u32 major; u32 minor; }, where
// access_type = (access << 16) | type, type 1 block / 2 char, access bits 1 mknod / 2 read / 4 write. The program
// returns 1 to allow and 0 to deny. As in the v1 devices cgroup, a later rule overrides an earlier one: the
// rules are emitted last first, and the first block that matches returns.
import type { DeviceRule } from './types';

const DEV_BLOCK = 1;
const DEV_CHAR = 2;
const ACC_MKNOD = 1;
const ACC_READ = 2;
const ACC_WRITE = 4;

// opcodes (linux/bpf_common.h, linux/bpf.h)
const LDX_MEM_W = 0x61; // dst = *(u32 *)(src + off)
const MOV32_X = 0xbc; // wdst = wsrc
const AND32_K = 0x54; // wdst &= imm
const RSH32_K = 0x74; // wdst >>= imm
const MOV64_K = 0xb7; // dst = imm
const JNE_K = 0x55; // if dst != imm goto +off
const JEQ_K = 0x15; // if dst == imm goto +off
const EXIT = 0x95;

interface Insn { code: number; dst: number; src: number; off: number; imm: number }
const ins = (code: number, dst: number, src: number, off: number, imm: number): Insn => ({ code, dst, src, off, imm });

function accessBits(access: string): number {
  let a = 0;
  if (access.includes('m')) a |= ACC_MKNOD;
  if (access.includes('r')) a |= ACC_READ;
  if (access.includes('w')) a |= ACC_WRITE;
  return a;
}

/** One rule's block: checks that jump past the block when they fail, then return allow/deny. */
function block(r: Required<DeviceRule>): { insns: Insn[]; always: boolean } {
  const checks: Insn[][] = [];
  if (r.type === 'c' || r.type === 'b') checks.push([ins(JNE_K, 3, 0, 0, r.type === 'c' ? DEV_CHAR : DEV_BLOCK)]);
  if (r.type !== 'a' && r.major !== null && r.major >= 0) checks.push([ins(JNE_K, 5, 0, 0, r.major)]);
  if (r.type !== 'a' && r.minor !== null && r.minor >= 0) checks.push([ins(JNE_K, 6, 0, 0, r.minor)]);
  const acc = accessBits(r.access);
  const all = ACC_MKNOD | ACC_READ | ACC_WRITE;
  if (acc !== all) {
    // allow: every requested bit must be in the rule; deny: any requested bit in the rule
    checks.push([
      ins(MOV32_X, 7, 4, 0, 0),
      ins(AND32_K, 7, 0, 0, r.allow ? ~acc & all : acc),
      ins(r.allow ? JNE_K : JEQ_K, 7, 0, 0, 0),
    ]);
  }
  const tail = [ins(MOV64_K, 0, 0, 0, r.allow ? 1 : 0), ins(EXIT, 0, 0, 0, 0)];
  const flat = checks.flat().concat(tail);
  // every jump goes to the first instruction after the block
  flat.forEach((x, i) => { if (x.code === JNE_K || x.code === JEQ_K) x.off = flat.length - i - 1; });
  return { insns: flat, always: checks.length === 0 };
}

/** The program for a full rule list (as from fields.deviceRules), as the kernel's 8-byte instructions. */
export function deviceProgram(rules: Required<DeviceRule>[]): Buffer {
  const prog: Insn[] = [
    ins(LDX_MEM_W, 2, 1, 0, 0), // r2 = access_type
    ins(MOV32_X, 3, 2, 0, 0),
    ins(AND32_K, 3, 0, 0, 0xffff), // r3 = type
    ins(MOV32_X, 4, 2, 0, 0),
    ins(RSH32_K, 4, 0, 0, 16), // r4 = access
    ins(LDX_MEM_W, 5, 1, 4, 0), // r5 = major
    ins(LDX_MEM_W, 6, 1, 8, 0), // r6 = minor
  ];
  let closed = false;
  for (let i = rules.length - 1; i >= 0 && !closed; i--) {
    const b = block(rules[i]);
    prog.push(...b.insns);
    // a rule that matches everything ends the program: what comes before it can never apply
    closed = b.always;
  }
  if (!closed) prog.push(ins(MOV64_K, 0, 0, 0, 0), ins(EXIT, 0, 0, 0, 0));
  const buf = Buffer.alloc(prog.length * 8);
  prog.forEach((x, i) => {
    buf.writeUInt8(x.code, i * 8);
    buf.writeUInt8((x.src << 4) | x.dst, i * 8 + 1);
    buf.writeInt16LE(x.off, i * 8 + 2);
    buf.writeInt32LE(x.imm | 0, i * 8 + 4);
  });
  return buf;
}
