/*
 * sockdiag — TCP sockets as the kernel's NETLINK_SOCK_DIAG reports them (what `ss` uses),
 * through libmnl. Spec §9: a TIME-WAIT minisocket reports idiag_state = its substate, so one
 * in the FIN_WAIT2 substate reports FIN_WAIT2 with timer 3; kdiag_sock.tw marks minisockets.
 *
 * Two layers: kdiag_parse_buf() is pure (bytes of one netlink reply -> records) and is what a
 * replayed capture goes through; kdiag_dump() talks to the kernel and hands each raw reply
 * buffer to a callback (which may record it, then parse it). Nothing here allocates per socket.
 */
#ifndef TWKIT_KERNEL_SOCKDIAG_H
#define TWKIT_KERNEL_SOCKDIAG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* TCP states as the kernel numbers them (include/net/tcp_states.h values, ABI). */
enum KDIAG_STATE {
	KDIAG_ESTABLISHED = 1,
	KDIAG_SYN_SENT = 2,
	KDIAG_SYN_RECV = 3,
	KDIAG_FIN_WAIT1 = 4,
	KDIAG_FIN_WAIT2 = 5,
	KDIAG_TIME_WAIT = 6,
	KDIAG_CLOSE = 7,
	KDIAG_CLOSE_WAIT = 8,
	KDIAG_LAST_ACK = 9,
	KDIAG_LISTEN = 10,
	KDIAG_CLOSING = 11,
	KDIAG_NEW_SYN_RECV = 12,
	KDIAG_BOUND_INACTIVE = 13, /* bound, not listening or connected (6.7+ dumps these) */
	KDIAG_NSTATES = 14,
};

#define KDIAG_ALL_STATES 0x3ffeu /* states 1..13 */
#define KDIAG_TS_UNKNOWN 0
#define KDIAG_TS_OFF 1
#define KDIAG_TS_ON 2

/* One socket. Addresses are 16 bytes; IPv4 is stored v4-mapped (::ffff:a.b.c.d). */
struct kdiag_sock {
	uint8_t family;      /* AF_INET or AF_INET6 as reported */
	uint8_t state;       /* enum KDIAG_STATE */
	uint8_t tw;          /* 1: a TIME-WAIT minisocket (either substate) */
	uint8_t ts;          /* KDIAG_TS_*: timestamps negotiated (tcp_info, full sockets only) */
	uint16_t lport, rport; /* host byte order */
	uint32_t expires_ms; /* timer ms left (idiag_expires) */
	uint32_t uid;
	uint32_t ifindex;
	uint8_t laddr[16], raddr[16];
};

/* Called once per parsed socket. Return 0 to go on, negative to stop with that error. */
typedef int (*kdiag_sock_fn)(const struct kdiag_sock *s, void *ctx);
/* Called once per raw reply buffer read from the kernel. Same return convention. */
typedef int (*kdiag_buf_fn)(const void *buf, size_t len, void *ctx);

/*
 * Parse one buffer of netlink messages (as returned by one recv()). Calls fn for each
 * SOCK_DIAG record. Returns the number of records (>= 0), or -EPROTO for a malformed buffer,
 * or the negative errno carried by an NLMSG_ERROR, or fn's error. Sets *done when the buffer
 * holds NLMSG_DONE. Safe on arbitrary bytes.
 */
int kdiag_parse_buf(const void *buf, size_t len, kdiag_sock_fn fn, void *ctx, bool *done);

/*
 * Dump TCP sockets of one family (AF_INET or AF_INET6), or of both in one walk of the
 * kernel's socket tables (AF_UNSPEC: worth it where each walk is long, as the table is shared
 * by every namespace), in `states` (bit 1<<state) of the current network namespace. With want_info, full sockets carry tcp_info (timestamps flag).
 * Each reply buffer goes to bufn. Returns 0 or a negative errno (socket, send, recv, or a
 * kernel error). The caller parses with kdiag_parse_buf (usually inside bufn).
 */
int kdiag_dump(int family, uint32_t states, bool want_info, kdiag_buf_fn bufn, void *ctx);

/* kdiag_dump + kdiag_parse_buf for both families: fn gets every socket. 0 or -errno. */
int kdiag_dump_socks(uint32_t states, bool want_info, kdiag_sock_fn fn, void *ctx);

/* Sockets counted by state, optionally only those with a given local or remote port. */
struct kdiag_filter {
	uint16_t lport; /* 0 = any */
	uint16_t rport; /* 0 = any */
	uint16_t lport_lo, lport_hi; /* when lport_hi != 0: local port within [lo, hi] */
	uint16_t rport_lo, rport_hi; /* when rport_hi != 0: remote port within [lo, hi] */
};
struct kdiag_counts {
	uint32_t by_state[KDIAG_NSTATES]; /* TIME-WAIT minisockets counted under their substate */
	uint32_t time_wait;               /* minisockets in the TIME_WAIT substate */
	uint32_t tw_fin_wait2;            /* minisockets in the FIN_WAIT2 substate */
	uint32_t total;
};
/* Count sockets in the current netns that pass the filter (NULL = all). 0 or -errno. */
int kdiag_count(uint32_t states, const struct kdiag_filter *flt, struct kdiag_counts *out);
/* Whether s passes the filter. */
bool kdiag_filter_match(const struct kdiag_filter *flt, const struct kdiag_sock *s);

/* "TIME-WAIT", "ESTAB", ... as ss names them; "?" when unknown. */
const char *kdiag_state_name(int state);
/* Address to text (IPv4 for v4-mapped). buf needs 46 bytes. */
const char *kdiag_addr_str(const uint8_t addr[16], char *buf, size_t len);
/* Whether an address is loopback (127/8, ::1, v4-mapped 127/8). */
bool kdiag_addr_is_loopback(const uint8_t addr[16]);
bool kdiag_addr_is_any(const uint8_t addr[16]);

#endif
