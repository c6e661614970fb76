/* runts-init: decoding of the launch plan, with bounds checks on every read. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plan.h"

struct op_info {
	const char *name;
	const char *sig; /* one letter of enum rt_kind per payload value */
};

static const struct op_info ops[RT_LAST_OPCODE + 1] = {
	[RT_OP_SETNS] = {"SETNS", "SU"},
	[RT_OP_UNSHARE] = {"UNSHARE", "U"},
	[RT_OP_USERMAP] = {"USERMAP", ""},
	[RT_OP_SETID_ROOT] = {"SETID_ROOT", ""},
	[RT_OP_TIMENS_OFFSETS] = {"TIMENS_OFFSETS", "S"},
	[RT_OP_FORK] = {"FORK", ""},
	[RT_OP_WAIT_PARENT] = {"WAIT_PARENT", ""},
	[RT_OP_SYNC] = {"SYNC", "U"},
	[RT_OP_ROOTFS] = {"ROOTFS", "S"},
	[RT_OP_MOUNT] = {"MOUNT", "SSSUSU"},
	[RT_OP_MKNOD] = {"MKNOD", "SUUUU"},
	[RT_OP_BIND_DEVICE] = {"BIND_DEVICE", "SS"},
	[RT_OP_SYMLINK] = {"SYMLINK", "SS"},
	[RT_OP_PIVOT_ROOT] = {"PIVOT_ROOT", ""},
	[RT_OP_MOVE_ROOT] = {"MOVE_ROOT", ""},
	[RT_OP_MOUNT_SETATTR] = {"MOUNT_SETATTR", "SUUUUU"},
	[RT_OP_HOSTNAME] = {"HOSTNAME", "S"},
	[RT_OP_DOMAINNAME] = {"DOMAINNAME", "S"},
	[RT_OP_WRITE_FILE] = {"WRITE_FILE", "SS"},
	[RT_OP_CONSOLE] = {"CONSOLE", "UUUUU"},
	[RT_OP_RLIMIT] = {"RLIMIT", "UUU"},
	[RT_OP_PERSONALITY] = {"PERSONALITY", "U"},
	[RT_OP_UMASK] = {"UMASK", "U"},
	[RT_OP_CAPS_BOUNDING] = {"CAPS_BOUNDING", "U"},
	[RT_OP_USER] = {"USER", "UUUW"},
	[RT_OP_CAPS] = {"CAPS", "UUUU"},
	[RT_OP_NO_NEW_PRIVS] = {"NO_NEW_PRIVS", ""},
	[RT_OP_CHDIR] = {"CHDIR", "SU"},
	[RT_OP_LOOKUP] = {"LOOKUP", "SS"},
	[RT_OP_READY] = {"READY", ""},
	[RT_OP_WAIT_START] = {"WAIT_START", "U"},
	[RT_OP_RUN_HOOK] = {"RUN_HOOK", "SSVVU"},
	[RT_OP_EXEC] = {"EXEC", "VV"},
	[RT_OP_CLOEXEC_FROM] = {"CLOEXEC_FROM", "U"},
	[RT_OP_CLOSE] = {"CLOSE", "U"},
	[RT_OP_MKDIR] = {"MKDIR", "SU"},
	[RT_OP_MASK] = {"MASK", "S"},
	[RT_OP_READONLY] = {"READONLY", "S"},
	[RT_OP_SECCOMP] = {"SECCOMP", "UWUVWUV"},
	[RT_OP_SECCOMP_LOAD] = {"SECCOMP_LOAD", ""},
	[RT_OP_CGROUP_JOIN] = {"CGROUP_JOIN", "S"},
	[RT_OP_CGROUP_FORK_INTO] = {"CGROUP_FORK_INTO", "S"},
	[RT_OP_OPEN_TREE] = {"OPEN_TREE", "SSUUU"},
	[RT_OP_MOUNT_TREE] = {"MOUNT_TREE", "USU"},
	[RT_OP_CHROOT] = {"CHROOT", "S"},
	[RT_OP_UMOUNT] = {"UMOUNT", "SU"},
	[RT_OP_SCHEDULER] = {"SCHEDULER", "SUUUUUUU"},
	[RT_OP_IOPRIO] = {"IOPRIO", "SU"},
	[RT_OP_MEMPOLICY] = {"MEMPOLICY", "SUW"},
	[RT_OP_AFFINITY] = {"AFFINITY", "SW"},
	[RT_OP_ERRCTX] = {"ERRCTX", "S"},
	[RT_OP_USERNS] = {"USERNS", "USSS"},
	[RT_OP_IDMAP_TREE] = {"IDMAP_TREE", "UUUU"},
	[RT_OP_IDMAP_MOUNT] = {"IDMAP_MOUNT", "SUUU"},
	[RT_OP_NETDEV_ADDR] = {"NETDEV_ADDR", "SUUSS"},
	[RT_OP_NETDEV_UP] = {"NETDEV_UP", "S"},
};

const char *rt_op_name(uint32_t op)
{
	if (op > RT_LAST_OPCODE)
		return NULL;
	return ops[op].name;
}

struct reader {
	const uint8_t *p;
	size_t len;
	size_t pos;
};

static int rd_u32(struct reader *r, uint32_t *out)
{
	if (r->len - r->pos < 4)
		return -1;
	const uint8_t *b = r->p + r->pos;
	*out = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
	r->pos += 4;
	return 0;
}

static int rd_u64(struct reader *r, uint64_t *out)
{
	if (r->len - r->pos < 8)
		return -1;
	const uint8_t *b = r->p + r->pos;
	uint64_t v = 0;
	for (int i = 7; i >= 0; i--)
		v = v << 8 | b[i];
	*out = v;
	r->pos += 8;
	return 0;
}

static void set_err(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* STR: returns NULL and sets *why on error */
static const char *rd_str(struct reader *r, uint32_t *n, const char **why)
{
	uint32_t len;
	if (rd_u32(r, &len) < 0) {
		*why = "truncated";
		return NULL;
	}
	if (r->len - r->pos < (size_t)len + 1) {
		*why = "truncated";
		return NULL;
	}
	const char *s = (const char *)r->p + r->pos;
	if (s[len] != '\0') {
		*why = "string is not NUL-terminated";
		return NULL;
	}
	if (memchr(s, '\0', len) != NULL) {
		*why = "string contains a NUL byte";
		return NULL;
	}
	r->pos += (size_t)len + 1;
	*n = len;
	return s;
}

static void free_step(struct rt_step *st)
{
	for (uint32_t i = 0; i < st->nargs; i++) {
		free(st->a[i].sv);
		free(st->a[i].uv);
	}
}

static void free_plan(struct rt_plan *plan)
{
	for (size_t i = 0; i < plan->nsteps; i++)
		free_step(&plan->steps[i]);
	free(plan->steps);
	plan->steps = NULL;
	plan->nsteps = 0;
}

/* decode one payload according to sig; returns NULL or a reason */
static const char *decode_payload(struct reader *r, const char *sig, struct rt_step *st)
{
	const char *why = NULL;
	for (const char *k = sig; *k; k++) {
		struct rt_val *v = &st->a[st->nargs++];
		memset(v, 0, sizeof *v);
		v->kind = (enum rt_kind)*k;
		switch (*k) {
		case RT_K_U64:
			if (rd_u64(r, &v->u) < 0)
				return "truncated";
			break;
		case RT_K_STR:
			v->s = rd_str(r, &v->n, &why);
			if (!v->s)
				return why;
			break;
		case RT_K_STRV: {
			uint32_t count;
			if (rd_u32(r, &count) < 0)
				return "truncated";
			/* each STR takes at least 5 bytes: refuse counts the payload cannot hold */
			if (count > (r->len - r->pos) / 5)
				return "truncated";
			v->n = count;
			v->sv = calloc((size_t)count + 1, sizeof(char *));
			if (!v->sv)
				return "out of memory";
			for (uint32_t i = 0; i < count; i++) {
				uint32_t n;
				const char *s = rd_str(r, &n, &why);
				if (!s)
					return why;
				v->sv[i] = (char *)s;
			}
			break;
		}
		case RT_K_U64V: {
			uint32_t count;
			if (rd_u32(r, &count) < 0)
				return "truncated";
			if (count > (r->len - r->pos) / 8)
				return "truncated";
			v->n = count;
			v->uv = calloc(count ? count : 1, sizeof(uint64_t));
			if (!v->uv)
				return "out of memory";
			for (uint32_t i = 0; i < count; i++)
				if (rd_u64(r, &v->uv[i]) < 0)
					return "truncated";
			break;
		}
		default:
			return "bad signature";
		}
	}
	if (r->pos != r->len)
		return "trailing bytes in the payload";
	return NULL;
}

int rt_plan_decode(const uint8_t *buf, size_t len, struct rt_plan *plan, char *err, size_t errlen)
{
	struct reader r = {buf, len, 0};
	size_t cap = 0;

	plan->steps = NULL;
	plan->nsteps = 0;
	if (len < 8) {
		set_err(err, errlen, "plan: truncated");
		return -1;
	}
	if (memcmp(buf, RT_PLAN_MAGIC, 4) != 0) {
		set_err(err, errlen, "plan: bad magic");
		return -1;
	}
	r.pos = 4;
	uint32_t version;
	rd_u32(&r, &version);
	if (version != RT_PLAN_FORMAT) {
		set_err(err, errlen, "plan: unsupported version %u", version);
		return -1;
	}
	while (r.pos < r.len) {
		uint32_t op, plen;
		size_t index = plan->nsteps;
		if (rd_u32(&r, &op) < 0 || rd_u32(&r, &plen) < 0 || r.len - r.pos < plen) {
			set_err(err, errlen, "plan: truncated");
			goto fail;
		}
		const char *name = rt_op_name(op);
		if (!name) {
			set_err(err, errlen, "plan: unknown op %u", op);
			goto fail;
		}
		if (plan->nsteps == cap) {
			size_t ncap = cap ? cap * 2 : 64;
			struct rt_step *ns = realloc(plan->steps, ncap * sizeof *ns);
			if (!ns) {
				set_err(err, errlen, "plan: out of memory");
				goto fail;
			}
			plan->steps = ns;
			cap = ncap;
		}
		struct rt_step *st = &plan->steps[plan->nsteps++];
		memset(st, 0, sizeof *st);
		st->op = op;
		st->index = (uint32_t)index;
		struct reader pr = {buf + r.pos, plen, 0};
		const char *why = decode_payload(&pr, ops[op].sig, st);
		if (why) {
			set_err(err, errlen, "plan: step %zu (%s): %s", index, name, why);
			goto fail;
		}
		r.pos += plen;
	}
	return 0;
fail:
	free_plan(plan);
	return -1;
}
