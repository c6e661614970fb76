// The types of config.json, generated from schema/ (src/config/spec.gen.ts, by scripts/build-spec-types.mjs):
// a document that passed validateConfig (config/validate.ts) is a Spec. Only re-exports here, under the names
// the code uses; runts' own types that are not in the schema live beside the code that uses them.
export type {
  Spec, Root, Mount, IdMapping, Process, ConsoleSize, User, Capabilities, Rlimit, IoPriority, Scheduler,
  ExecCPUAffinity, Hooks, Hook, Linux, Namespace, NamespaceType, TimeOffsets, TimeOffset, Device, NetDevice,
  Resources, DeviceRule, Memory, Cpu, Pids, BlockIO, WeightDevice, ThrottleDevice, HugepageLimit, Network,
  InterfacePriority, Rdma, IntelRdt, Seccomp, SeccompAction, SeccompArch, SeccompFlag, SeccompSyscall, SeccompArg,
  SeccompOperator, Personality, MemoryPolicy, State,
} from './spec.gen';
