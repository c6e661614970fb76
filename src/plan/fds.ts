// The stub's file descriptors as the child sees them (docs/ARCHITECTURE.md, "Launching the stub"): the numbers the
// plan is built with. The planner owns the shape; container/stub.ts's stubFds assigns the numbers for create and
// exec and places the host's fds at them.

/** 3 .. 3+N-1 the preserved fds, then the sync socket, create's exec listen socket, the console socket, the memfd last. */
export interface StubFds {
  /** number of fds passed through to the container (the caller's 3 .. 3+preserve-1, at the same numbers) */
  preserve: number;
  sync: number;
  /** create: the exec listen socket `runts start` connects to */
  listen?: number;
  /** the console socket, when process.terminal */
  console?: number;
  memfd: number;
}

/** create's: with the listen socket. */
export type LaunchFds = StubFds & { listen: number };
