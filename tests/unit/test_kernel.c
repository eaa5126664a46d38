/* Unit tests: kernel/ parsers — /proc pairs, sockstat, slabinfo, sock_diag messages, and the
 * capture container — on good, truncated and garbage input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <errno.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <sys/socket.h>
#include <unistd.h>

#include "kernel/capture.h"
#include "kernel/procfs.h"
#include "kernel/snapshot.h"
#include "kernel/sockdiag.h"

static void test_pairs(void **st)
{
	struct kcounters c;
	uint64_t v;
	kcounters_init(&c);
	assert_int_equal(kproc_parse_pairs("TcpExt: SyncookiesSent TW TWRecycled\n"
					   "TcpExt: 0 12 3\n"
					   "Tcp: RtoAlgorithm MaxConn ActiveOpens\n"
					   "Tcp: 1 -1 77\n",
					   &c),
			 6);
	assert_int_equal(kcounters_get(&c, "TcpExt.TW", &v), 0);
	assert_true(v == 12);
	assert_int_equal(kcounters_get(&c, "Tcp.MaxConn", &v), 0);
	assert_true(v == 0);
	assert_int_equal(kcounters_get(&c, "Tcp.ActiveOpens", &v), 0);
	assert_true(v == 77);
	assert_int_equal(kcounters_get(&c, "Tcp.Nope", &v), -2);
	/* mismatched counts, mismatched prefixes, a missing values line, garbage values */
	assert_int_equal(kproc_parse_pairs("TcpExt: A B\nTcpExt: 1\n", &c), -EPROTO);
	assert_int_equal(kproc_parse_pairs("TcpExt: A\nIpExt: 1\n", &c), -EPROTO);
	assert_int_equal(kproc_parse_pairs("TcpExt: A\n", &c), -EPROTO);
	assert_int_equal(kproc_parse_pairs("TcpExt: A\nTcpExt: x1\n", &c), -EPROTO);
	assert_int_equal(kproc_parse_pairs("", &c), 0);
	kcounters_fini(&c);
}

static void test_sockstat_slab(void **st)
{
	struct kcounters c;
	uint64_t v, act;
	uint32_t osz;
	kcounters_init(&c);
	assert_int_equal(kproc_parse_sockstat("sockets: used 5\nTCP: inuse 3 orphan 0 tw 42 alloc 4 "
					      "mem 1\n",
					      "sockstat", &c),
			 6);
	assert_int_equal(kcounters_get(&c, "sockstat.TCP.tw", &v), 0);
	assert_true(v == 42);
	assert_int_equal(kproc_parse_sockstat("TCP: inuse\n", "sockstat", &c), -EPROTO);
	kcounters_fini(&c);
	const char *slab = "slabinfo - version: 2.1\n"
			   "tw_sock_TCPv6   0   0 256  16 1 : tunables 0 0 0\n"
			   "tw_sock_TCP   128 160 264  31 2 : tunables 0 0 0\n";
	assert_int_equal(kproc_parse_slab(slab, "tw_sock_TCP", &osz, &act), 0);
	assert_int_equal(osz, 264);
	assert_true(act == 128);
	assert_int_equal(kproc_parse_slab(slab, "nope", &osz, &act), -ENOENT);
	assert_int_equal(kproc_parse_slab("tw_sock_TCP x\n", "tw_sock_TCP", &osz, &act), -EPROTO);
}

/* Build one SOCK_DIAG_BY_FAMILY message for an IPv4 TIME-WAIT socket, then DONE. */
static size_t build_dump(uint8_t *buf, size_t cap, int state, int timer, uint32_t expires)
{
	struct nlmsghdr *h = (struct nlmsghdr *)buf;
	struct inet_diag_msg *m = NLMSG_DATA(h);
	memset(buf, 0, cap);
	h->nlmsg_len = NLMSG_LENGTH(sizeof(*m));
	h->nlmsg_type = SOCK_DIAG_BY_FAMILY;
	m->idiag_family = AF_INET;
	m->idiag_state = (uint8_t)state;
	m->idiag_timer = (uint8_t)timer;
	m->idiag_expires = expires;
	m->id.idiag_sport = htons(40001);
	m->id.idiag_dport = htons(80);
	inet_pton(AF_INET, "10.0.0.1", &m->id.idiag_src[0]);
	inet_pton(AF_INET, "192.0.2.1", &m->id.idiag_dst[0]);
	size_t off = NLMSG_ALIGN(h->nlmsg_len);
	struct nlmsghdr *d = (struct nlmsghdr *)(buf + off);
	d->nlmsg_len = NLMSG_LENGTH(sizeof(int));
	d->nlmsg_type = NLMSG_DONE;
	return off + NLMSG_ALIGN(d->nlmsg_len);
}

static int collect(const struct kdiag_sock *s, void *ctx)
{
	*(struct kdiag_sock *)ctx = *s;
	return 0;
}

static void test_diag_parse(void **st)
{
	uint8_t buf[512];
	struct kdiag_sock s;
	bool done;
	char a[64];
	size_t n = build_dump(buf, sizeof(buf), 6, 3, 41234);
	assert_int_equal(kdiag_parse_buf(buf, n, collect, &s, &done), 1);
	assert_true(done);
	assert_int_equal(s.state, 6);
	assert_int_equal(s.tw, 1);
	assert_int_equal(s.lport, 40001);
	assert_int_equal(s.rport, 80);
	assert_int_equal(s.expires_ms, 41234);
	assert_string_equal(kdiag_addr_str(s.raddr, a, sizeof(a)), "192.0.2.1");
	/* every truncation is refused or parsed partially, never read past the end */
	for (size_t cut = 1; cut < n; cut++) {
		uint8_t *copy = malloc(cut);
		memcpy(copy, buf, cut);
		int rc = kdiag_parse_buf(copy, cut, collect, &s, &done);
		assert_true(rc == -EPROTO || rc == 1);
		free(copy);
	}
	/* an NLMSG_ERROR carries its errno */
	struct nlmsghdr *h = (struct nlmsghdr *)buf;
	struct nlmsgerr *e = NLMSG_DATA(h);
	memset(buf, 0, sizeof(buf));
	h->nlmsg_len = NLMSG_LENGTH(sizeof(*e));
	h->nlmsg_type = NLMSG_ERROR;
	e->error = -EPERM;
	assert_int_equal(kdiag_parse_buf(buf, h->nlmsg_len, collect, &s, &done), -EPERM);
	/* garbage: pseudo-random bytes, many times */
	unsigned seed = 7;
	for (int round = 0; round < 2000; round++) {
		size_t len = (size_t)(round % 300) + 1;
		uint8_t *g = malloc(len);
		for (size_t i = 0; i < len; i++) {
			seed = seed * 1103515245u + 12345u;
			g[i] = (uint8_t)(seed >> 16);
		}
		if (len >= 4 && round % 3 == 0) { /* plausible length field */
			uint32_t l = (uint32_t)len;
			memcpy(g, &l, 4);
		}
		(void)kdiag_parse_buf(g, len, collect, &s, &done);
		free(g);
	}
}

static char *tmpname(void)
{
	static char path[64];
	snprintf(path, sizeof(path), "/tmp/twkit-test-cap-%d", (int)getpid());
	return path;
}

static void test_capture_roundtrip_and_damage(void **st)
{
	struct cap_writer w;
	struct cap_reader r;
	char err[256];
	uint8_t diag[512];
	size_t dn = build_dump(diag, sizeof(diag), 6, 3, 30000);
	const char *path = tmpname();

	assert_int_equal(cap_writer_open(&w, path), 0);
	cap_writer_add(&w, CAP_FILE, "uname.release", "6.18.0", 6);
	cap_writer_add(&w, CAP_FILE, "net.ipv4.tcp_tw_reuse", "1\n", 2);
	cap_writer_add(&w, CAP_DIAG4, NULL, diag, dn);
	cap_writer_add(&w, CAP_MISSING, "/proc/slabinfo", "Permission denied", 17);
	assert_int_equal(cap_writer_close(&w), 0);
	assert_int_equal(cap_reader_open(&r, path, err, sizeof(err)), 0);
	assert_int_equal(r.nsec, 4);
	assert_non_null(cap_reader_find(&r, "uname.release"));

	struct snapshot s;
	snapshot_init(&s);
	assert_int_equal(snapshot_from_capture(&s, &r, err, sizeof(err)), 0);
	assert_string_equal(s.release, "6.18.0");
	assert_int_equal(s.set.tcp_tw_reuse, 1);
	assert_int_equal(s.nsocks, 1);
	assert_int_equal(s.nmissing, 1);
	snapshot_fini(&s);

	/* every truncation of the file is refused with a reason naming the truncation */
	size_t full = r.len;
	uint8_t *orig = malloc(full);
	memcpy(orig, r.buf, full);
	cap_reader_fini(&r);
	for (size_t cut = 0; cut < full; cut++) {
		uint8_t *b = malloc(cut ? cut : 1);
		memcpy(b, orig, cut);
		assert_int_equal(cap_reader_parse(&r, b, cut, err, sizeof(err)), -EINVAL);
		assert_true(strstr(err, "truncated") || strstr(err, "not a twkit capture"));
	}
	/* future version */
	uint8_t *b = malloc(full);
	memcpy(b, orig, full);
	b[8] = 9;
	assert_int_equal(cap_reader_parse(&r, b, full, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "newer"));
	/* not a capture */
	b = malloc(full);
	memcpy(b, "GARBAGE!", 8);
	assert_int_equal(cap_reader_parse(&r, b, 8, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "not a twkit capture"));
	/* a flipped section type, an impossible length, trailing bytes */
	b = malloc(full);
	memcpy(b, orig, full);
	b[16] = 0x77;
	assert_int_equal(cap_reader_parse(&r, b, full, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "corrupt"));
	b = malloc(full);
	memcpy(b, orig, full);
	b[16 + 8 + 7] = 0x7f;
	assert_int_equal(cap_reader_parse(&r, b, full, err, sizeof(err)), -EINVAL);
	b = malloc(full + 3);
	memcpy(b, orig, full);
	assert_int_equal(cap_reader_parse(&r, b, full + 3, err, sizeof(err)), -EINVAL);
	/* a corrupt dump inside a well-formed container is refused by the snapshot */
	{
		struct cap_writer w2;
		assert_int_equal(cap_writer_open(&w2, path), 0);
		cap_writer_add(&w2, CAP_DIAG4, NULL, "\x05\x00\x00\x00xx", 6);
		assert_int_equal(cap_writer_close(&w2), 0);
		assert_int_equal(cap_reader_open(&r, path, err, sizeof(err)), 0);
		snapshot_init(&s);
		assert_int_equal(snapshot_from_capture(&s, &r, err, sizeof(err)), -EINVAL);
		assert_non_null(strstr(err, "corrupt socket dump"));
		snapshot_fini(&s);
		cap_reader_fini(&r);
	}
	free(orig);
	unlink(path);
}

static void test_snapshot_feed(void **st)
{
	struct snapshot s;
	snapshot_init(&s);
	assert_int_equal(snapshot_feed_file(&s, "net.ipv4.ip_local_port_range", "32768\t60999\n", 12),
			 0);
	assert_int_equal(s.set.port_lo, 32768);
	assert_int_equal(s.set.port_hi, 60999);
	assert_int_equal(snapshot_feed_file(&s, "net.ipv4.ip_local_port_range", "9 8\n", 4), -EPROTO);
	assert_int_equal(snapshot_feed_file(&s, "net.ipv4.ip_local_reserved_ports", "8080,9000-9002\n",
					    15),
			 0);
	assert_true(tw_portset_has(&s.set.reserved, 9001));
	assert_false(tw_portset_has(&s.set.reserved, 9003));
	assert_int_equal(snapshot_feed_file(&s, "net.ipv4.tcp_tw_reuse", "x", 1), -EPROTO);
	assert_int_equal(snapshot_feed_file(&s, "some.future.thing", "1", 1), 0);
	assert_int_equal(s.nmissing, 2);
	snapshot_fini(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pairs),
		cmocka_unit_test(test_sockstat_slab),
		cmocka_unit_test(test_diag_parse),
		cmocka_unit_test(test_capture_roundtrip_and_damage),
		cmocka_unit_test(test_snapshot_feed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
