/*
 * runts-init: SECCOMP and SECCOMP_LOAD. SECCOMP builds a filter with libseccomp from the values the TypeScript
 * side resolved (actions, architectures, operators are numbers here), exports its BPF program and, when the plan
 * asks for it, puts runc's ENOSYS prefix in front of it; SECCOMP_LOAD loads that program with seccomp(2) and hands
 * the user-notification fd to runts when the filter has SCMP_ACT_NOTIFY rules. Two steps, so that a filter
 * libseccomp refuses fails `create` although it is loaded only right before EXEC.
 *
 * Payload of SECCOMP: U64 default action, U64V architectures, U64 flags, STRV names, U64V rules, U64 enosys,
 * STRV bound names. Per syscall entry the rules hold: count of its names (taken in order from the names),
 * action, count of conditions, then index, value, valueTwo, operator per condition. A name this libseccomp does
 * not know is skipped (as runc does). `enosys` = 1: syscall numbers above the largest one the profile names
 * (the rules' names and the bound names, which have no rule of their own) fail with ENOSYS, per architecture of
 * the list (runc's libcontainer/seccomp/patchbpf).
 */
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <malloc.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <seccomp.h>

#include "stub.h"

/* SECCOMP_FILTER_FLAG_* (linux/seccomp.h); the plan carries the kernel's bits */
#define RT_SECCOMP_FLAG_TSYNC 1ULL
#define RT_SECCOMP_FLAG_LOG 2ULL
#define RT_SECCOMP_FLAG_SPEC_ALLOW 4ULL
#define RT_SECCOMP_FLAG_NEW_LISTENER 8ULL
#define RT_SECCOMP_FLAG_WAIT_KILLABLE_RECV 32ULL

#define RT_SECCOMP_MAX_ARGS 6
/* the kernel's limit on a filter's length (BPF_MAXINSNS) */
#define RT_BPF_MAXINSNS 4096
/* x32 system calls are x86_64 ones with this bit set in the number */
#define RT_X32_SYSCALL_BIT 0x40000000U
/* libseccomp's token for x32 (not an AUDIT_ARCH value: the kernel reports x32 as AUDIT_ARCH_X86_64) */
#define RT_SCMP_ARCH_X32 0x4000003eU
#define RT_AUDIT_ARCH_S390 0x00000016U
#define RT_AUDIT_ARCH_S390X 0x80000016U

/* the program SECCOMP built, waiting for SECCOMP_LOAD */
static struct sock_filter *pending;
static unsigned short pending_len;
static unsigned long pending_flags;
static int pending_notify;

static void set_attr(scmp_filter_ctx ctx, enum scmp_filter_attr attr, uint32_t v, const char *what)
{
	int rc = seccomp_attr_set(ctx, attr, v);
	if (rc < 0)
		rt_fail(-rc, "seccomp: %s", what);
}

/* ---- the ENOSYS prefix ---- */

struct bpf_buf {
	struct sock_filter *ins;
	size_t n, cap;
	/* per instruction: the label an unconditional jump goes to (-1: none) */
	int *to;
};

#define RT_LABEL_FILTER 0 /* the start of libseccomp's program; section i is label i + 1 */

static void emit(struct bpf_buf *b, struct sock_filter f, int to)
{
	if (b->n == b->cap) {
		b->cap = b->cap ? 2 * b->cap : 64;
		b->ins = realloc(b->ins, b->cap * sizeof *b->ins);
		b->to = realloc(b->to, b->cap * sizeof *b->to);
		if (!b->ins || !b->to)
			rt_fail(ENOMEM, "seccomp: build the ENOSYS prefix");
	}
	b->ins[b->n] = f;
	b->to[b->n++] = to;
}

static void stmt(struct bpf_buf *b, uint16_t code, uint32_t k)
{
	emit(b, (struct sock_filter)BPF_STMT(code, k), -1);
}

static void jump(struct bpf_buf *b, uint16_t code, uint32_t k, uint8_t jt, uint8_t jf)
{
	emit(b, (struct sock_filter)BPF_JUMP(code, k, jt, jf), -1);
}

static void jump_to(struct bpf_buf *b, int label)
{
	emit(b, (struct sock_filter)BPF_STMT(BPF_JMP | BPF_JA, 0), label);
}

/* "syscall number above max: ENOSYS, else on to the filter" */
static void enosys_above(struct bpf_buf *b, uint32_t max)
{
	jump(b, BPF_JMP | BPF_JGT | BPF_K, max, 0, 1);
	stmt(b, BPF_RET | BPF_K, SCMP_ACT_ERRNO(ENOSYS));
	jump_to(b, RT_LABEL_FILTER);
}

struct enosys_arch {
	uint32_t audit;   /* the AUDIT_ARCH_* value the kernel puts in seccomp_data.arch */
	int64_t max;      /* largest syscall number of the profile (< 1: none) */
	int64_t max_x32;  /* x86_64 only: the same for x32 (its numbers have RT_X32_SYSCALL_BIT set) */
};

static int64_t largest(uint32_t token, char **names, uint32_t nnames, char **bound, uint32_t nbound)
{
	int64_t max = 0;
	for (uint32_t i = 0; i < nnames + nbound; i++) {
		/* negative: unknown, or a pseudo number for a syscall this architecture does not have */
		int nr = seccomp_syscall_resolve_name_arch(token, i < nnames ? names[i] : bound[i - nnames]);
		if (nr > max)
			max = nr;
	}
	return max;
}

/*
 * runc's ENOSYS prefix (libcontainer/seccomp/patchbpf): for each architecture of the profile, a syscall number
 * greater than the largest one the profile names for it returns ENOSYS, so that a syscall newer than the profile
 * (or one the kernel does not know) fails the way libc expects to fall back from (clone3, openat2...).
 * SCMP_ARCH_X86_64 and SCMP_ARCH_X32 share AUDIT_ARCH_X86_64 and are told apart by the x32 bit; on s390(x)
 * syscall 0 (the multiplexer unknown large numbers end up as) returns ENOSYS too. An architecture whose largest
 * syscall is 0 or none gets no check, as in runc. Layout:
 *   ld arch; (jeq arch_i ? ja section_i)...; ja filter; section_i: ld nr; checks; ...; filter: libseccomp's program
 */
static void enosys_prefix(struct bpf_buf *b, const uint64_t *archs, uint32_t narchs, char **names, uint32_t nnames,
			  char **bound, uint32_t nbound)
{
	struct enosys_arch a[32];
	uint32_t na = 0;
	for (uint32_t i = 0; i < narchs; i++) {
		uint32_t token = (uint32_t)archs[i];
		uint32_t audit = token == RT_SCMP_ARCH_X32 ? AUDIT_ARCH_X86_64 : token;
		int64_t max = largest(token, names, nnames, bound, nbound);
		if (max < 1)
			continue;
		uint32_t k = 0;
		while (k < na && a[k].audit != audit)
			k++;
		if (k == na) {
			if (na == sizeof a / sizeof a[0])
				rt_failx("plan: SECCOMP: too many architectures");
			a[na++] = (struct enosys_arch){.audit = audit, .max = 0, .max_x32 = 0};
		}
		if (token == RT_SCMP_ARCH_X32)
			a[k].max_x32 = max;
		else
			a[k].max = max;
	}
	if (!na)
		return;

	stmt(b, BPF_LD | BPF_W | BPF_ABS, (uint32_t)offsetof(struct seccomp_data, arch));
	for (uint32_t k = 0; k < na; k++) {
		jump(b, BPF_JMP | BPF_JEQ | BPF_K, a[k].audit, 0, 1);
		jump_to(b, (int)k + 1);
	}
	/* any other architecture: libseccomp's program decides (its bad-architecture action) */
	jump_to(b, RT_LABEL_FILTER);

	int *at = calloc(na + 1, sizeof *at);
	if (!at)
		rt_fail(ENOMEM, "seccomp: build the ENOSYS prefix");
	for (uint32_t k = 0; k < na; k++) {
		at[k + 1] = (int)b->n;
		stmt(b, BPF_LD | BPF_W | BPF_ABS, (uint32_t)offsetof(struct seccomp_data, nr));
		if (a[k].audit == AUDIT_ARCH_X86_64) {
			if (a[k].max && a[k].max_x32) {
				/* x32 bit set: the x32 check (4 on), else the x86_64 one */
				jump(b, BPF_JMP | BPF_JSET | BPF_K, RT_X32_SYSCALL_BIT, 3, 0);
				enosys_above(b, (uint32_t)a[k].max);
				enosys_above(b, (uint32_t)a[k].max_x32);
			} else if (a[k].max) {
				/* an x32 call: not this profile's business, on to the filter */
				jump(b, BPF_JMP | BPF_JSET | BPF_K, RT_X32_SYSCALL_BIT, 2, 0);
				enosys_above(b, (uint32_t)a[k].max);
			} else {
				jump(b, BPF_JMP | BPF_JSET | BPF_K, RT_X32_SYSCALL_BIT, 0, 2);
				enosys_above(b, (uint32_t)a[k].max_x32);
			}
		} else {
			if (a[k].audit == RT_AUDIT_ARCH_S390 || a[k].audit == RT_AUDIT_ARCH_S390X) {
				jump(b, BPF_JMP | BPF_JEQ | BPF_K, 0, 0, 1);
				stmt(b, BPF_RET | BPF_K, SCMP_ACT_ERRNO(ENOSYS));
			}
			enosys_above(b, (uint32_t)a[k].max);
		}
	}
	at[RT_LABEL_FILTER] = (int)b->n;
	/* resolve the unconditional jumps (relative to the next instruction, always forward) */
	for (size_t i = 0; i < b->n; i++)
		if (b->to[i] >= 0)
			b->ins[i].k = (uint32_t)(at[b->to[i]] - (int)i - 1);
	free(at);
}

/* libseccomp's BPF program for ctx (seccomp_export_bpf writes it to an fd: a memfd here) */
static struct sock_filter *export_program(scmp_filter_ctx ctx, size_t *count)
{
	int fd = memfd_create("runts-seccomp", MFD_CLOEXEC);
	if (fd < 0)
		rt_fail(errno, "seccomp: memfd_create");
	int rc = seccomp_export_bpf(ctx, fd);
	if (rc < 0)
		rt_fail(-rc, "seccomp: export the filter");
	off_t size = lseek(fd, 0, SEEK_END);
	if (size < 0)
		rt_fail(errno, "seccomp: export the filter");
	if (size == 0 || size % (off_t)sizeof(struct sock_filter))
		rt_failx("seccomp: export the filter: %lld bytes is no BPF program", (long long)size);
	struct sock_filter *prog = malloc((size_t)size);
	if (!prog)
		rt_fail(ENOMEM, "seccomp: export the filter");
	for (off_t got = 0; got < size;) {
		ssize_t n = pread(fd, (char *)prog + got, (size_t)(size - got), got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			rt_fail(n < 0 ? errno : EIO, "seccomp: export the filter");
		got += n;
	}
	close(fd);
	*count = (size_t)size / sizeof(struct sock_filter);
	return prog;
}

void op_seccomp(uint64_t def, const uint64_t *archs, uint32_t narchs, uint64_t flags, char **names, uint32_t nnames,
		const uint64_t *rules, uint32_t nrules, uint64_t enosys, char **bound, uint32_t nbound)
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
	if (enosys > 1)
		rt_failx("plan: SECCOMP: enosys must be 0 or 1");

	scmp_filter_ctx ctx = seccomp_init((uint32_t)def);
	if (!ctx)
		rt_failx("seccomp: invalid default action 0x%llx", (unsigned long long)def);
	/* real errno values from libseccomp instead of ECANCELED */
	set_attr(ctx, SCMP_FLTATR_API_SYSRAWRC, 1, "set SCMP_FLTATR_API_SYSRAWRC");
	/* NO_NEW_PRIVS is the plan's business (NO_NEW_PRIVS step), never libseccomp's */
	set_attr(ctx, SCMP_FLTATR_CTL_NNP, 0, "clear SCMP_FLTATR_CTL_NNP");
	/* TSYNC: single-threaded, nothing to synchronize (runc ignores it as well). LOG and SPEC_ALLOW are load
	 * flags (SECCOMP_LOAD passes them); set here too, so that a kernel without them fails the build */
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

	size_t n;
	struct sock_filter *prog = export_program(ctx, &n);
	seccomp_release(ctx);
	struct bpf_buf b = {0};
	if (enosys)
		enosys_prefix(&b, archs, narchs, names, nnames, bound, nbound);
	if (b.n + n > RT_BPF_MAXINSNS)
		rt_failx("seccomp: the filter has %zu instructions, more than the kernel's %d", b.n + n, RT_BPF_MAXINSNS);
	if (b.n) {
		struct sock_filter *all = malloc((b.n + n) * sizeof *all);
		if (!all)
			rt_fail(ENOMEM, "seccomp: build the ENOSYS prefix");
		memcpy(all, b.ins, b.n * sizeof *all);
		memcpy(all + b.n, prog, n * sizeof *all);
		free(prog);
		prog = all;
		n += b.n;
	}
	free(b.ins);
	free(b.to);

	pending = prog;
	pending_len = (unsigned short)n;
	pending_notify = notify_rules > 0;
	pending_flags = (unsigned long)(flags & (RT_SECCOMP_FLAG_LOG | RT_SECCOMP_FLAG_SPEC_ALLOW)) |
			(pending_notify ? RT_SECCOMP_FLAG_NEW_LISTENER : 0);
}

/*
 * Load the program and, with NOTIFY rules, hand the listener over. Between the load and the handover the stub
 * makes exactly one syscall, the write(2) of the SECCOMP_FD frame with the listener's fd number (which is why
 * SCMP_ACT_NOTIFY cannot be used for write, as in runc). runts takes the fd out of this process with
 * pidfd_getfd(2) and gives it to the agent before it ACKs: every later syscall (the read of the ACK, the close
 * of the fd, the rest of the plan, execve) may be notified, the agent is there to answer.
 */
void op_seccomp_load(void)
{
	struct sock_filter *prog = pending;
	if (!prog)
		rt_failx("plan: SECCOMP_LOAD without SECCOMP");
	pending = NULL;
	if (pending_notify && rt.syncfd < 0)
		rt_failx("plan: SECCOMP_LOAD with a listener after READY");

	/*
	 * Nothing after the load may need a syscall the filter could refuse: no heap trimming when something is
	 * freed later, and the signal dispositions are reset now rather than in EXEC (which skips the reset unless
	 * WAIT_START changed them since).
	 */
	mallopt(M_TRIM_THRESHOLD, -1);
	rt_reset_signals();
	struct sock_fprog fprog = {.len = pending_len, .filter = prog};
	long fd = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, pending_flags, &fprog);
	if (fd < 0)
		rt_fail(errno, "seccomp: load the filter");

	if (pending_notify) {
		uint8_t msg[12];
		uint32_t v[3] = {RT_MSG_SECCOMP_FD, 4, (uint32_t)fd};
		for (int i = 0; i < 3; i++)
			for (int j = 0; j < 4; j++)
				msg[4 * i + j] = (uint8_t)(v[i] >> (8 * j));
		ssize_t w;
		do
			w = write(rt.syncfd, msg, sizeof msg);
		while (w < 0 && errno == EINTR);
		/* nobody to report to (and reporting could use a syscall the agent, who has no fd yet, must answer) */
		if (w != (ssize_t)sizeof msg)
			_exit(1);
		rt_wait_ack();
		close((int)fd);
	}
	/* the program is not freed: freeing could need a syscall the filter refuses, and EXEC follows */
}
