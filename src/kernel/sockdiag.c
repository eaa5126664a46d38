/*
 * sockdiag — sock_diag dump and parser over libmnl (see sockdiag.h).
 * The dump loop follows libmnl's examples: caller-owned buffer, one request per family,
 * mnl_cb_run over each reply. Reply buffers are 32 KiB: the kernel sizes dump skbs up to that
 * when the reader offers room, so 100k sockets take ~300 recv() calls.
 */
#include "kernel/sockdiag.h"

#include <arpa/inet.h>
#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/inet_diag.h>
#include <linux/sock_diag.h>
#include <linux/tcp.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define KDIAG_BUF (32u * 1024u)

struct parse_ctx {
	kdiag_sock_fn fn;
	void *ctx;
	int n;
	int err;
};

static void put_addr(uint8_t out[16], int family, const __be32 *src)
{
	if (family == AF_INET) {
		memset(out, 0, 10);
		out[10] = 0xff;
		out[11] = 0xff;
		memcpy(out + 12, src, 4);
	} else {
		memcpy(out, src, 16);
	}
}

static int attr_cb(const struct nlattr *attr, void *data)
{
	const struct nlattr **tb = data;
	int type = mnl_attr_get_type(attr);
	if (mnl_attr_type_valid(attr, INET_DIAG_MAX) > 0)
		tb[type] = attr;
	return MNL_CB_OK;
}

static int msg_cb(const struct nlmsghdr *nlh, void *data)
{
	struct parse_ctx *pc = data;
	const struct inet_diag_msg *m;
	const struct nlattr *tb[INET_DIAG_MAX + 1] = { 0 };
	struct kdiag_sock s;

	/* replies carry the request's type: TCPDIAG_GETSOCK for a dump of both families */
	if (nlh->nlmsg_type != SOCK_DIAG_BY_FAMILY && nlh->nlmsg_type != TCPDIAG_GETSOCK)
		return MNL_CB_OK; /* not ours: ignore */
	if (mnl_nlmsg_get_payload_len(nlh) < sizeof(*m)) {
		pc->err = -EPROTO;
		return MNL_CB_ERROR;
	}
	m = mnl_nlmsg_get_payload(nlh);
	if (m->idiag_family != AF_INET && m->idiag_family != AF_INET6) {
		pc->err = -EPROTO;
		return MNL_CB_ERROR;
	}
	memset(&s, 0, sizeof(s));
	s.family = m->idiag_family;
	s.state = m->idiag_state;
	s.tw = m->idiag_timer == 3 && m->idiag_inode == 0; /* §9: TW records: timer 3, no inode */
	s.lport = ntohs(m->id.idiag_sport);
	s.rport = ntohs(m->id.idiag_dport);
	s.expires_ms = m->idiag_expires;
	s.uid = m->idiag_uid;
	s.ifindex = m->id.idiag_if;
	put_addr(s.laddr, s.family, m->id.idiag_src);
	put_addr(s.raddr, s.family, m->id.idiag_dst);
	s.ts = KDIAG_TS_UNKNOWN;
	if (mnl_attr_parse(nlh, sizeof(*m), attr_cb, tb) == MNL_CB_OK && tb[INET_DIAG_INFO]) {
		const struct tcp_info *ti = mnl_attr_get_payload(tb[INET_DIAG_INFO]);
		/* tcpi_options is the 8th byte: present in every tcp_info version */
		if (mnl_attr_get_payload_len(tb[INET_DIAG_INFO]) >= 8)
			s.ts = (ti->tcpi_options & TCPI_OPT_TIMESTAMPS) ? KDIAG_TS_ON : KDIAG_TS_OFF;
	}
	pc->n++;
	if (pc->fn) {
		int rc = pc->fn(&s, pc->ctx);
		if (rc < 0) {
			pc->err = rc;
			return MNL_CB_ERROR;
		}
	}
	return MNL_CB_OK;
}

int kdiag_parse_buf(const void *buf, size_t len, kdiag_sock_fn fn, void *ctx, bool *done)
{
	struct parse_ctx pc = { .fn = fn, .ctx = ctx };
	const struct nlmsghdr *nlh = buf;
	int left;

	*done = false;
	if (len > (size_t)1 << 30)
		return -EPROTO;
	left = (int)len;
	/* Walk by hand so that garbage is refused with -EPROTO, never read past len. */
	while (left > 0) {
		/* not mnl_nlmsg_ok(): it casts nlmsg_len to int, so a length >= 2^31 passes */
		if (left < (int)sizeof(*nlh) || nlh->nlmsg_len < sizeof(*nlh) ||
		    nlh->nlmsg_len > (uint32_t)left)
			return -EPROTO;
		if (nlh->nlmsg_type == NLMSG_DONE) {
			*done = true;
			break;
		}
		if (nlh->nlmsg_type == NLMSG_ERROR) {
			const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);
			if (mnl_nlmsg_get_payload_len(nlh) < sizeof(*e))
				return -EPROTO;
			if (e->error != 0)
				return e->error < 0 && e->error > -4096 ? e->error : -EPROTO;
		} else if (msg_cb(nlh, &pc) != MNL_CB_OK) {
			return pc.err ? pc.err : -EPROTO;
		}
		nlh = mnl_nlmsg_next(nlh, &left);
	}
	return pc.n;
}

int kdiag_dump(int family, uint32_t states, bool want_info, kdiag_buf_fn bufn, void *ctx)
{
	struct mnl_socket *nl = NULL;
	void *buf = NULL; /* from malloc(), aligned for struct nlmsghdr: no char * cast needed */
	struct nlmsghdr *nlh;
	struct inet_diag_req_v2 *req;
	unsigned int seq = (unsigned int)time(NULL), portid;
	int rc = 0;

	buf = malloc(KDIAG_BUF);
	if (!buf)
		return -ENOMEM;
	nl = mnl_socket_open(NETLINK_SOCK_DIAG);
	if (!nl) {
		rc = -errno;
		goto out;
	}
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		rc = -errno;
		goto out;
	}
	portid = mnl_socket_get_portid(nl);

	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	nlh->nlmsg_seq = seq;
	if (family == AF_UNSPEC) {
		/* The older request (struct inet_diag_req): the kernel answers it for every
		 * family in one walk of its tables, where SOCK_DIAG_BY_FAMILY walks them once
		 * per family. */
		struct inet_diag_req *old;
		nlh->nlmsg_type = TCPDIAG_GETSOCK;
		old = mnl_nlmsg_put_extra_header(nlh, sizeof(*old));
		old->idiag_family = AF_INET;
		old->idiag_states = states;
		old->idiag_ext = want_info ? (1u << (INET_DIAG_INFO - 1)) : 0;
	} else {
		nlh->nlmsg_type = SOCK_DIAG_BY_FAMILY;
		req = mnl_nlmsg_put_extra_header(nlh, sizeof(*req));
		req->sdiag_family = (uint8_t)family;
		req->sdiag_protocol = IPPROTO_TCP;
		req->idiag_states = states;
		req->idiag_ext = want_info ? (1u << (INET_DIAG_INFO - 1)) : 0;
	}
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0) {
		rc = -errno;
		goto out;
	}
	for (;;) {
		ssize_t n = mnl_socket_recvfrom(nl, buf, KDIAG_BUF);
		bool done = false;
		const struct nlmsghdr *h = buf;
		int left;
		if (n < 0) {
			rc = -errno;
			goto out;
		}
		if (n == 0)
			break;
		/* Check sequence/port of the first message and look for DONE/ERROR. */
		if ((size_t)n >= sizeof(*h) && (h->nlmsg_seq != seq || h->nlmsg_pid != portid)) {
			rc = -EPROTO;
			goto out;
		}
		rc = bufn(buf, (size_t)n, ctx);
		if (rc < 0)
			goto out;
		for (left = (int)n; mnl_nlmsg_ok(h, left);) {
			if (h->nlmsg_type == NLMSG_DONE)
				done = true;
			if (h->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *e = mnl_nlmsg_get_payload(h);
				/* as kdiag_parse_buf: a short error message is a protocol error,
				 * not a read past it */
				if (mnl_nlmsg_get_payload_len(h) < sizeof(*e))
					rc = -EPROTO;
				else
					rc = e->error < 0 && e->error > -4096 ? e->error
						: e->error ? -EPROTO : 0;
				if (rc)
					goto out;
			}
			h = mnl_nlmsg_next(h, &left);
		}
		if (done)
			break;
	}
	rc = 0;
out:
	if (nl)
		mnl_socket_close(nl);
	free(buf);
	return rc;
}

struct both_ctx {
	kdiag_sock_fn fn;
	void *ctx;
};

static int parse_into(const void *buf, size_t len, void *ctx)
{
	struct both_ctx *b = ctx;
	bool done;
	int rc = kdiag_parse_buf(buf, len, b->fn, b->ctx, &done);
	return rc < 0 ? rc : 0;
}

int kdiag_dump_socks(uint32_t states, bool want_info, kdiag_sock_fn fn, void *ctx)
{
	struct both_ctx b = { fn, ctx };
	int rc = kdiag_dump(AF_INET, states, want_info, parse_into, &b);
	if (rc < 0)
		return rc;
	rc = kdiag_dump(AF_INET6, states, want_info, parse_into, &b);
	/* a kernel without IPv6 answers ENOENT/EAFNOSUPPORT: that is zero IPv6 sockets */
	if (rc == -ENOENT || rc == -EAFNOSUPPORT)
		rc = 0;
	return rc;
}

bool kdiag_filter_match(const struct kdiag_filter *f, const struct kdiag_sock *s)
{
	if (!f)
		return true;
	if (f->lport && s->lport != f->lport)
		return false;
	if (f->rport && s->rport != f->rport)
		return false;
	if (f->lport_hi && (s->lport < f->lport_lo || s->lport > f->lport_hi))
		return false;
	if (f->rport_hi && (s->rport < f->rport_lo || s->rport > f->rport_hi))
		return false;
	return true;
}

struct count_ctx {
	const struct kdiag_filter *flt;
	struct kdiag_counts *out;
};

static int count_one(const struct kdiag_sock *s, void *ctx)
{
	struct count_ctx *c = ctx;
	if (!kdiag_filter_match(c->flt, s))
		return 0;
	if (s->state < KDIAG_NSTATES)
		c->out->by_state[s->state]++;
	if (s->tw) {
		if (s->state == KDIAG_TIME_WAIT)
			c->out->time_wait++;
		else
			c->out->tw_fin_wait2++;
	}
	c->out->total++;
	return 0;
}

int kdiag_count(uint32_t states, const struct kdiag_filter *flt, struct kdiag_counts *out)
{
	struct count_ctx c;
	memset(out, 0, sizeof(*out));
	c = (struct count_ctx){ flt, out };
	return kdiag_dump_socks(states, false, count_one, &c);
}

const char *kdiag_state_name(int state)
{
	static const char *names[KDIAG_NSTATES] = {
		"?",	  "ESTAB",     "SYN-SENT",   "SYN-RECV", "FIN-WAIT-1",
		"FIN-WAIT-2", "TIME-WAIT", "UNCONN",     "CLOSE-WAIT", "LAST-ACK",
		"LISTEN",     "CLOSING",   "NEW-SYN-RECV", "BOUND-INACTIVE",
	};
	return state > 0 && state < KDIAG_NSTATES ? names[state] : "?";
}

static bool is_v4mapped(const uint8_t a[16])
{
	static const uint8_t pre[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	return memcmp(a, pre, 12) == 0;
}

const char *kdiag_addr_str(const uint8_t addr[16], char *buf, size_t len)
{
	if (is_v4mapped(addr))
		inet_ntop(AF_INET, addr + 12, buf, (socklen_t)len);
	else
		inet_ntop(AF_INET6, addr, buf, (socklen_t)len);
	return buf;
}

bool kdiag_addr_is_loopback(const uint8_t a[16])
{
	static const uint8_t lo6[16] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 };
	if (is_v4mapped(a))
		return a[12] == 127;
	return memcmp(a, lo6, 16) == 0;
}

bool kdiag_addr_is_any(const uint8_t a[16])
{
	static const uint8_t z[16];
	if (is_v4mapped(a))
		return memcmp(a + 12, z, 4) == 0;
	return memcmp(a, z, 16) == 0;
}
