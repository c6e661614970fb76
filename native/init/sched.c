/*
 * runts-init: scheduling of the process: sched_setattr, ioprio_set, set_mempolicy, sched_setaffinity.
 * The values are the syscalls' own (the planner converts names); `what` is put in front of a refusal.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "stub.h"

/* struct sched_attr of sched_setattr(2), SCHED_ATTR_SIZE_VER1 (with the utilization clamps, left 0) */
struct rt_sched_attr {
	uint32_t size;
	uint32_t sched_policy;
	uint64_t sched_flags;
	int32_t sched_nice;
	uint32_t sched_priority;
	uint64_t sched_runtime;
	uint64_t sched_deadline;
	uint64_t sched_period;
	uint32_t sched_util_min;
	uint32_t sched_util_max;
};

void op_scheduler(const char *what, uint64_t policy, uint64_t flags, uint64_t nice, uint64_t prio, uint64_t runtime,
		  uint64_t deadline, uint64_t period)
{
	struct rt_sched_attr attr;
	memset(&attr, 0, sizeof attr);
	attr.size = sizeof attr;
	attr.sched_policy = (uint32_t)policy;
	attr.sched_flags = flags;
	attr.sched_nice = (int32_t)(int64_t)nice;
	attr.sched_priority = (uint32_t)prio;
	attr.sched_runtime = runtime;
	attr.sched_deadline = deadline;
	attr.sched_period = period;
	if (syscall(SYS_sched_setattr, 0, &attr, 0) < 0)
		rt_fail(errno, "%s", what);
}

void op_ioprio(const char *what, uint64_t value)
{
	/* IOPRIO_WHO_PROCESS, this process */
	if (syscall(SYS_ioprio_set, 1, 0, (int)value) < 0)
		rt_fail(errno, "%s", what);
}

void op_mempolicy(const char *what, uint64_t mode, const uint64_t *mask, uint32_t nwords)
{
	/* the kernel reads maxnode - 1 bits */
	unsigned long maxnode = nwords ? (unsigned long)nwords * 64 + 1 : 0;
	if (syscall(SYS_set_mempolicy, (int)mode, nwords ? mask : NULL, maxnode) < 0)
		rt_fail(errno, "%s", what);
}

void op_affinity(const char *what, const uint64_t *mask, uint32_t nwords)
{
	if (nwords == 0) {
		/* reset: every CPU there can be; the kernel keeps those the cpuset allows. Best effort, as runc's
		 * tryResetCPUAffinity: a failure leaves the inherited affinity */
		static uint64_t all[8192 / 64];
		memset(all, 0xff, sizeof all);
		syscall(SYS_sched_setaffinity, 0, sizeof all, all);
		return;
	}
	if (syscall(SYS_sched_setaffinity, 0, (size_t)nwords * 8, mask) < 0)
		rt_fail(errno, "%s", what);
}
