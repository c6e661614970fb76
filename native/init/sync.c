/* runts-init: the stub's state, frames of the sync protocol and error reporting. */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "stub.h"

#define RT_MSG_MAX 8192

struct rt_state rt = {
	.syncfd = -1,
	.reportfd = -1,
	.rootfd = -1,
	.fork_cgroupfd = -1,
};

const char *rt_errstr(int err, char *buf, size_t n)
{
	const char *s = strerror(err);
	snprintf(buf, n, "%s", s);
	if (buf[0] >= 'A' && buf[0] <= 'Z')
		buf[0] = (char)(buf[0] - 'A' + 'a');
	return buf;
}

static void wait_fd(int fd, short events)
{
	struct pollfd p = {.fd = fd, .events = events};
	while (poll(&p, 1, -1) < 0 && errno == EINTR)
		;
}

int rt_write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN) {
				wait_fd(fd, POLLOUT);
				continue;
			}
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* reads exactly len bytes; returns the number read (< len only at EOF) or -1 */
static ssize_t read_full(int fd, void *buf, size_t len)
{
	char *p = buf;
	size_t got = 0;
	while (got < len) {
		ssize_t n = read(fd, p + got, len - got);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN) {
				wait_fd(fd, POLLIN);
				continue;
			}
			return -1;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	return (ssize_t)got;
}

static uint32_t get_le32(const uint8_t *b)
{
	return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

static void put_le32(uint8_t *b, uint32_t v)
{
	b[0] = (uint8_t)v;
	b[1] = (uint8_t)(v >> 8);
	b[2] = (uint8_t)(v >> 16);
	b[3] = (uint8_t)(v >> 24);
}

int rt_recv_frame(int fd, uint32_t *type, uint8_t **payload, uint32_t *len, uint32_t max)
{
	uint8_t hdr[8];
	ssize_t n = read_full(fd, hdr, sizeof hdr);
	if (n < 0)
		return -1;
	if (n < (ssize_t)sizeof hdr)
		return 1;
	*type = get_le32(hdr);
	*len = get_le32(hdr + 4);
	if (*len > max) {
		errno = EMSGSIZE;
		return -1;
	}
	/* one extra NUL so text payloads can be used as strings */
	uint8_t *buf = malloc((size_t)*len + 1);
	if (!buf)
		return -1;
	n = read_full(fd, buf, *len);
	if (n < 0) {
		free(buf);
		return -1;
	}
	if ((size_t)n < *len) {
		free(buf);
		return 1;
	}
	buf[*len] = 0;
	*payload = buf;
	return 0;
}

int rt_send_frame(int fd, uint32_t type, const void *payload, size_t len)
{
	uint8_t hdr[8];
	if (len > UINT32_MAX) {
		errno = EMSGSIZE;
		return -1;
	}
	put_le32(hdr, type);
	put_le32(hdr + 4, (uint32_t)len);
	struct iovec iov[2] = {{hdr, sizeof hdr}, {(void *)payload, len}};
	struct msghdr mh = {.msg_iov = iov, .msg_iovlen = len ? 2 : 1};
	size_t total = sizeof hdr + len;
	ssize_t n;
	for (;;) {
		/* MSG_NOSIGNAL: a vanished peer must give EPIPE, not kill us */
		n = sendmsg(fd, &mh, MSG_NOSIGNAL);
		if (n >= 0)
			break;
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN) {
			wait_fd(fd, POLLOUT);
			continue;
		}
		if (errno == ENOTSOCK) {
			n = writev(fd, iov, (int)mh.msg_iovlen);
			if (n >= 0)
				break;
			if (errno == EINTR)
				continue;
		}
		return -1;
	}
	if ((size_t)n == total)
		return 0;
	/* short write: finish the rest */
	size_t done = (size_t)n;
	if (done < sizeof hdr) {
		if (rt_write_all(fd, hdr + done, sizeof hdr - done) < 0)
			return -1;
		done = sizeof hdr;
	}
	return rt_write_all(fd, (const char *)payload + (done - sizeof hdr), total - done);
}

void rt_send_or_die(uint32_t type, const void *payload, size_t len)
{
	if (rt.syncfd < 0)
		rt_failx("sync: the sync socket is closed");
	if (rt_send_frame(rt.syncfd, type, payload, len) < 0) {
		/* the peer is gone; nobody to report to */
		_exit(1);
	}
}

void rt_wait_ack(void)
{
	uint32_t type, len;
	uint8_t *payload = NULL;
	if (rt.syncfd < 0)
		rt_failx("sync: the sync socket is closed");
	int r = rt_recv_frame(rt.syncfd, &type, &payload, &len, 64u << 20);
	if (r == 1)
		_exit(1);
	if (r < 0)
		rt_fail(errno, "sync: read");
	switch (type) {
	case RT_MSG_ACK:
		free(rt.hook_state);
		rt.hook_state = payload;
		rt.hook_state_len = len;
		return;
	case RT_MSG_ABORT:
		_exit(1);
	default:
		rt_failx("sync: unexpected message %u", type);
	}
}

/* what the plan says the next steps are about (ERRCTX), put in front of their error messages */
static const char *errctx;

void op_errctx(const char *ctx)
{
	errctx = ctx;
}

_Noreturn void rt_die_msg(const char *msg)
{
	char full[RT_MSG_MAX];
	if (errctx && *errctx) {
		snprintf(full, sizeof full, "%s: %s", errctx, msg);
		msg = full;
	}
	size_t len = strlen(msg);
	if (rt.reportfd >= 0) {
		/* if this fails the peer is gone and there is nobody left to tell */
		rt_send_frame(rt.reportfd, RT_MSG_ERROR, msg, len);
	} else {
		/* no channel (between READY and the start connection): the caller's stderr is all we have */
		char line[RT_MSG_MAX + 16];
		int n = snprintf(line, sizeof line, "runts-init: %s\n", msg);
		if (n > 0)
			rt_write_all(2, line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
	}
	_exit(1);
}

_Noreturn void rt_fail(int err, const char *fmt, ...)
{
	char msg[RT_MSG_MAX], e[256];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	if ((size_t)n >= sizeof msg)
		n = (int)sizeof msg - 1;
	snprintf(msg + n, sizeof msg - (size_t)n, ": %s", rt_errstr(err, e, sizeof e));
	rt_die_msg(msg);
}

_Noreturn void rt_failx(const char *fmt, ...)
{
	char msg[RT_MSG_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	rt_die_msg(msg);
}
