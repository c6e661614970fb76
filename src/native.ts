// The node-addon-api addon (native/addon): the syscalls Node lacks. Loaded lazily, once.
import * as path from 'path';

export interface Native {
  /** copy an executable into a memfd and seal it (write, grow, shrink, seal); returns the fd */
  sealedMemfdFrom(file: string, name: string): number;
  /** the same from bytes (the stub embedded in the single-file executable) */
  sealedMemfdFromBytes(bytes: Uint8Array, name: string): number;
  memfdSeals(fd: number): number;
  /** false only when nonblock and the lock is held elsewhere */
  flock(fd: number, how: 'ex' | 'sh' | 'un', nonblock?: boolean): boolean;
  pidfdOpen(pid: number): number;
  pidfdSendSignal(pidfd: number, sig: number): void;
  /** true once the process has exited (zombie included), waiting at most ms */
  pollPidfdExited(pidfd: number, ms: number): boolean;
  /** reap a child (or an orphan reparented to us as subreaper) */
  waitPidfd(pidfd: number): Promise<{ code: number | null; signal: number | null }>;
  setChildSubreaper(on: boolean): void;
  unixListen(file: string, backlog: number): number;
  unixConnect(file: string): number;
  unixAccept(fd: number): number;
  recvFd(sock: number): { fd: number; data: Buffer };
  sendFd(sock: number, fd: number, data?: string): void;
  getWinsize(fd: number): { rows: number; cols: number };
  setWinsize(fd: number, rows: number, cols: number): void;
  statfsType(file: string): number;
  mkfifo(file: string, mode: number): void;
  /** a connected AF_UNIX stream pair, both ends O_CLOEXEC */
  socketPair(): [number, number];
  /** whether the kernel knows a SECCOMP_FILTER_FLAG_* bit (nothing is loaded) */
  seccompFlagSupported(flag: number): boolean;
  /** load a BPF_PROG_TYPE_CGROUP_DEVICE program and attach it to a cgroup2 directory */
  attachDeviceFilter(cgroupDir: string, insns: Buffer): void;
}

let cached: Native | undefined;

export function loadNative(): Native {
  if (cached) return cached;
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  if (process.env.RUNTS_NATIVE_ADDON) cached = require(path.resolve(process.env.RUNTS_NATIVE_ADDON)) as Native;
  // a literal path: the single-file build (bun build --compile) embeds the addon it names
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  else cached = require('../native/addon/build/Release/runts_native.node') as Native;
  return cached;
}
