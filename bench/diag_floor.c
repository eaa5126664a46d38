/*
 * diag_floor — the floor for bench/doctor-scale: the kernel work doctor cannot avoid, a bare
 * NETLINK_SOCK_DIAG dump of every TCP socket of both families (what doctor asks for), counting
 * TIME-WAIT records and nothing else. Written for the benchmark.
 * usage: diag_floor [tw|one]   (tw: only the IPv4 TIME-WAIT dump ss does; one: both families
 *                               in one walk, the older TCPDIAG_GETSOCK request doctor
 *                               --all-netns makes)
 */
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static long dump(int fd, int family, unsigned states);

int main(int argc, char **argv)
{
	int fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
	long a, b = 0;
	if (fd < 0)
		return perror("socket"), 1;
	if (argc > 1 && !strcmp(argv[1], "tw")) {
		a = dump(fd, AF_INET, 1u << 6);
	} else if (argc > 1 && !strcmp(argv[1], "one")) {
		a = dump(fd, AF_UNSPEC, 0x3ffe);
	} else {
		a = dump(fd, AF_INET, 0x3ffe);
		b = dump(fd, AF_INET6, 0x3ffe);
	}
	if (a < 0 || b < 0)
		return 1;
	printf("%ld\n", a + b);
	return 0;
}

static long dump(int fd, int family, unsigned states)
{
	struct {
		struct nlmsghdr h;
		struct inet_diag_req_v2 r;
	} req;
	static char buf[32768];
	long n = 0;
	struct {
		struct nlmsghdr h;
		struct inet_diag_req r;
	} old;
	memset(&req, 0, sizeof(req));
	req.h.nlmsg_len = sizeof(req);
	req.h.nlmsg_type = SOCK_DIAG_BY_FAMILY;
	req.h.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	req.r.sdiag_family = (unsigned char)family;
	req.r.sdiag_protocol = IPPROTO_TCP;
	req.r.idiag_states = states;
	memset(&old, 0, sizeof(old));
	old.h.nlmsg_len = sizeof(old);
	old.h.nlmsg_type = TCPDIAG_GETSOCK; /* every family in one walk */
	old.h.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	old.r.idiag_family = AF_INET;
	old.r.idiag_states = states;
	if (family == AF_UNSPEC ? send(fd, &old, sizeof(old), 0) < 0
				: send(fd, &req, sizeof(req), 0) < 0)
		return perror("send"), -1;
	for (;;) {
		ssize_t len = recv(fd, buf, sizeof(buf), 0);
		if (len <= 0)
			return perror("recv"), -1;
		for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, len);
		     h = NLMSG_NEXT(h, len)) {
			if (h->nlmsg_type == NLMSG_DONE)
				return n;
			if (h->nlmsg_type == NLMSG_ERROR)
				return fprintf(stderr, "netlink error\n"), -1;
			struct inet_diag_msg *m = NLMSG_DATA(h);
			n += m->idiag_state == 6;
		}
	}
}
