/* runts-init: the in-namespace half of linux.netDevices. runts has moved (and renamed) each device into the
 * container's network namespace; the stub, inside it, puts back the addresses runts chose and brings it up.
 * One NETLINK_ROUTE request per step, acknowledged by the kernel. */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/if_addr.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include "stub.h"

struct nlreq {
	struct nlmsghdr h;
	union {
		struct ifinfomsg link;
		struct ifaddrmsg addr;
	} u;
	char attrs[128];
};

static void add_attr(struct nlreq *r, unsigned short type, const void *data, size_t len)
{
	struct rtattr *a = (struct rtattr *)((char *)&r->h + NLMSG_ALIGN(r->h.nlmsg_len));
	a->rta_type = type;
	a->rta_len = (unsigned short)RTA_LENGTH(len);
	memcpy(RTA_DATA(a), data, len);
	r->h.nlmsg_len = NLMSG_ALIGN(r->h.nlmsg_len) + RTA_ALIGN(a->rta_len);
}

/* send one request, wait for its acknowledgement; 0 or an errno */
static int nl_call(struct nlreq *r)
{
	int s = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (s < 0)
		return errno;
	struct sockaddr_nl sa = {.nl_family = AF_NETLINK};
	r->h.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | r->h.nlmsg_flags;
	r->h.nlmsg_seq = 1;
	int err = 0;
	if (sendto(s, r, r->h.nlmsg_len, 0, (struct sockaddr *)&sa, sizeof sa) < 0) {
		err = errno;
		goto out;
	}
	char buf[4096];
	for (;;) {
		ssize_t n = recv(s, buf, sizeof buf, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			err = errno;
			goto out;
		}
		for (struct nlmsghdr *m = (struct nlmsghdr *)buf; NLMSG_OK(m, (size_t)n); m = NLMSG_NEXT(m, n)) {
			if (m->nlmsg_type == NLMSG_ERROR) {
				err = -((struct nlmsgerr *)NLMSG_DATA(m))->error;
				goto out;
			}
		}
	}
out:
	close(s);
	return err;
}

static unsigned dev_index(const char *name)
{
	unsigned i = if_nametoindex(name);
	if (i == 0)
		rt_fail(errno, "network device %s", name);
	return i;
}

void op_netdev_addr(const char *name, uint64_t family, uint64_t prefixlen, const char *local, const char *broadcast)
{
	unsigned char addr[16], brd[16];
	size_t alen = family == AF_INET6 ? 16 : 4;
	if ((family != AF_INET && family != AF_INET6) || inet_pton((int)family, local, addr) != 1)
		rt_failx("network device %s: invalid address %s", name, local);
	if (*broadcast && inet_pton((int)family, broadcast, brd) != 1)
		rt_failx("network device %s: invalid broadcast address %s", name, broadcast);
	struct nlreq r;
	memset(&r, 0, sizeof r);
	r.h.nlmsg_len = NLMSG_LENGTH(sizeof r.u.addr);
	r.h.nlmsg_type = RTM_NEWADDR;
	r.h.nlmsg_flags = NLM_F_CREATE | NLM_F_EXCL;
	r.u.addr.ifa_family = (unsigned char)family;
	r.u.addr.ifa_prefixlen = (unsigned char)prefixlen;
	r.u.addr.ifa_scope = RT_SCOPE_UNIVERSE;
	r.u.addr.ifa_index = dev_index(name);
	add_attr(&r, IFA_LOCAL, addr, alen);
	add_attr(&r, IFA_ADDRESS, addr, alen);
	if (*broadcast)
		add_attr(&r, IFA_BROADCAST, brd, alen);
	int err = nl_call(&r);
	if (err)
		rt_fail(err, "network device %s: add address %s/%llu", name, local, (unsigned long long)prefixlen);
}

void op_netdev_up(const char *name)
{
	struct nlreq r;
	memset(&r, 0, sizeof r);
	r.h.nlmsg_len = NLMSG_LENGTH(sizeof r.u.link);
	r.h.nlmsg_type = RTM_NEWLINK;
	r.u.link.ifi_family = AF_UNSPEC;
	r.u.link.ifi_index = (int)dev_index(name);
	r.u.link.ifi_flags = IFF_UP;
	r.u.link.ifi_change = IFF_UP;
	int err = nl_call(&r);
	if (err)
		rt_fail(err, "network device %s: set up", name);
}
