/*
 * runts-init: SECCOMP and SECCOMP_LOAD. SECCOMP builds a filter with libseccomp from the values the TypeScript
 * side resolved (actions, architectures, operators are numbers here) and keeps it; SECCOMP_LOAD loads it and
 * hands the user-notification fd to runts when the filter has SCMP_ACT_NOTIFY rules. Two steps, so that a
 * filter libseccomp refuses fails `create` although it is loaded only right before EXEC.
 *
 * Payload of SECCOMP: U64 default action, U64V architectures, U64 flags, U64 notify socket fd (~0 = none),
 * STRV names, U64V rules. Per syscall entry the rules hold: count of its names (taken in order from
 * the names), action, count of conditions, then index, value, valueTwo, operator per condition.
 * A name this libseccomp does not know is skipped (as runc does).
 */
#include <errno.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <seccomp.h>

#include "stub.h"

/* SECCOMP_FILTER_FLAG_* (linux/seccomp.h); the plan carries the kernel's bits */
#define RT_SECCOMP_FLAG_TSYNC 1ULL
#define RT_SECCOMP_FLAG_LOG 2ULL
#define RT_SECCOMP_FLAG_SPEC_ALLOW 4ULL
#define RT_SECCOMP_FLAG_WAIT_KILLABLE_RECV 32ULL

#define RT_SECCOMP_MAX_ARGS 6

/* the filter SECCOMP built, waiting for SECCOMP_LOAD */
static scmp_filter_ctx pending;
static int pending_notify_rules;
static uint64_t pending_notify_sock = UINT64_MAX;

static void set_attr(scmp_filter_ctx ctx, enum scmp_filter_attr attr, uint32_t v, const char *what)
{
	int rc = seccomp_attr_set(ctx, attr, v);
	if (rc < 0)
		rt_fail(-rc, "seccomp: %s", what);
}

void op_seccomp(uint64_t def, const uint64_t *archs, uint32_t narchs, uint64_t flags, uint64_t notify_sock,
		char **names, uint32_t nnames, const uint64_t *rules, uint32_t nrules)
{
	if (pending)
		rt_failx("plan: SECCOMP: a filter is already waiting for SECCOMP_LOAD");
	if (def > UINT32_MAX)
		rt_failx("plan: SECCOMP: default action out of range");
	if (flags & RT_SECCOMP_FLAG_WAIT_KILLABLE_RECV)
		rt_failx("seccomp: SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV is not supported by libseccomp %d.%d.%d",
			 SCMP_VER_MAJOR, SCMP_VER_MINOR, SCMP_VER_MICRO);
	if (flags & ~(RT_SECCOMP_FLAG_TSYNC | RT_SECCOMP_FLAG_LOG | RT_SECCOMP_FLAG_SPEC_ALLOW))
		rt_failx("plan: SECCOMP: unknown flags 0x%llx", (unsigned long long)flags);

	scmp_filter_ctx ctx = seccomp_init((uint32_t)def);
	if (!ctx)
		rt_failx("seccomp: invalid default action 0x%llx", (unsigned long long)def);
	/* real errno values from libseccomp instead of ECANCELED */
	set_attr(ctx, SCMP_FLTATR_API_SYSRAWRC, 1, "set SCMP_FLTATR_API_SYSRAWRC");
	/* NO_NEW_PRIVS is the plan's business (NO_NEW_PRIVS step), never libseccomp's */
	set_attr(ctx, SCMP_FLTATR_CTL_NNP, 0, "clear SCMP_FLTATR_CTL_NNP");
	/* TSYNC: single-threaded, nothing to synchronize (runc ignores it as well) */
	if (flags & RT_SECCOMP_FLAG_LOG)
		set_attr(ctx, SCMP_FLTATR_CTL_LOG, 1, "SECCOMP_FILTER_FLAG_LOG");
	if (flags & RT_SECCOMP_FLAG_SPEC_ALLOW)
		set_attr(ctx, SCMP_FLTATR_CTL_SSB, 1, "SECCOMP_FILTER_FLAG_SPEC_ALLOW");

	for (uint32_t i = 0; i < narchs; i++) {
		if (archs[i] > UINT32_MAX)
			rt_failx("plan: SECCOMP: architecture out of range");
		int rc = seccomp_arch_add(ctx, (uint32_t)archs[i]);
		if (rc < 0 && rc != -EEXIST)
			rt_fail(-rc, "seccomp: add architecture 0x%08llx", (unsigned long long)archs[i]);
	}

	int notify_rules = 0;
	uint32_t ni = 0, ri = 0;
	while (ri < nrules) {
		if (nrules - ri < 3)
			rt_failx("plan: SECCOMP: rules truncated");
		uint64_t count = rules[ri], action = rules[ri + 1], nargs = rules[ri + 2];
		ri += 3;
		if (count > nnames - ni || action > UINT32_MAX || nargs > RT_SECCOMP_MAX_ARGS || nargs * 4 > nrules - ri)
			rt_failx("plan: SECCOMP: rules truncated or out of range");
		struct scmp_arg_cmp cmp[RT_SECCOMP_MAX_ARGS];
		for (uint64_t a = 0; a < nargs; a++, ri += 4) {
			uint64_t index = rules[ri], op = rules[ri + 3];
			if (index >= RT_SECCOMP_MAX_ARGS || op <= _SCMP_CMP_MIN || op >= _SCMP_CMP_MAX)
				rt_failx("plan: SECCOMP: condition out of range");
			cmp[a] = (struct scmp_arg_cmp){
				.arg = (unsigned)index,
				.op = (enum scmp_compare)op,
				.datum_a = rules[ri + 1],
				.datum_b = rules[ri + 2],
			};
		}
		for (uint64_t k = 0; k < count; k++) {
			const char *name = names[ni++];
			int nr = seccomp_syscall_resolve_name(name);
			if (nr == __NR_SCMP_ERROR)
				continue; /* not a syscall this libseccomp knows: skipped, as runc does */
			int rc = seccomp_rule_add_array(ctx, (uint32_t)action, nr, (unsigned)nargs, nargs ? cmp : NULL);
			if (rc < 0)
				rt_fail(-rc, "seccomp: add a rule for %s", name);
			if ((uint32_t)action == SCMP_ACT_NOTIFY)
				notify_rules++;
		}
	}
	if (ni != nnames)
		rt_failx("plan: SECCOMP: %u syscall names but rules for %u", nnames, ni);
	pending = ctx;
	pending_notify_rules = notify_rules;
	pending_notify_sock = notify_sock;
}

void op_seccomp_load(void)
{
	scmp_filter_ctx ctx = pending;
	if (!ctx)
		rt_failx("plan: SECCOMP_LOAD without SECCOMP");
	pending = NULL;

	/*
	 * Nothing after the load may need a syscall the filter could refuse: no heap trimming when
	 * libseccomp frees the program it generated, and the signal dispositions are reset now rather
	 * than in EXEC (which skips the reset unless WAIT_START changed them since).
	 */
	mallopt(M_TRIM_THRESHOLD, -1);
	rt_reset_signals();
	int rc = seccomp_load(ctx);
	if (rc < 0)
		rt_fail(-rc, "seccomp: load the filter");

	if (pending_notify_rules && pending_notify_sock != UINT64_MAX) {
		int sock = rt_fd_arg(pending_notify_sock, "SECCOMP");
		int fd = seccomp_notify_fd(ctx);
		if (fd < 0)
			rt_fail(fd == -1 ? EINVAL : -fd, "seccomp: get the listener fd");
		/* over its own socket: the sync socket is read by node, which drops SCM_RIGHTS */
		rt_send_fd(sock, fd, "S", "seccomp: send the listener fd to runts");
		close(fd);
		close(sock);
		/* runts forwards the fd to linux.seccomp.listenerPath before it ACKs */
		rt_send_or_die(RT_MSG_SECCOMP_FD, NULL, 0);
		rt_wait_ack();
	} else if (pending_notify_sock != UINT64_MAX) {
		/* every NOTIFY rule named only unknown syscalls: there is no listener */
		close(rt_fd_arg(pending_notify_sock, "SECCOMP"));
	}
	/* the context is not released: freeing could need a syscall the filter refuses, and EXEC follows */
}
