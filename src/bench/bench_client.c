/*
 * bench_client — the load generator: one epoll loop per thread, a bounded pool of connection
 * objects per thread, edge-triggered. The pool grows by chunks as connections open (never
 * past the concurrency, or the open loop's bound) and is never freed before the end, so the
 * steady state does not allocate, and a huge -c costs only what it really opens.
 * The closed loop's ramp checks the deadline and the cancel flag before each connect(): a
 * connect() that has to search a spent port range takes milliseconds, and -c 1000000 used to
 * run its whole ramp (17 s) past a 1 s deadline and a Ctrl-C.
 *
 * Closed loop keeps `concurrency` connections in flight; open loop starts connections at
 * intended times spaced 1/rate apart and measures every latency from that intended time, so a
 * stalled server shows up as latency instead of silently lowering the offered load (wrk2's
 * correction of coordinated omission). A failure is a counter by errno (wrk's stats.c), never
 * an abort. Invariant per thread: attempted = completed + sum(failed) + live, after every
 * step; counters are written only by their thread (relaxed stores) and read by the sampler.
 * Timeouts: two FIFO lists (connecting, exchanging), each with one fixed timeout, so each is
 * sorted by deadline and the sweep only looks at its head.
 */
#include "bench/bench.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/queue.h>
#include <time.h>
#include <unistd.h>

#include "bench/bench_portsel.h"
#include "bench/bench_proto.h"
#include "common/clock.h"
#include "common/units.h"

#ifndef IP_LOCAL_PORT_RANGE
#define IP_LOCAL_PORT_RANGE 51
#endif
#ifndef IP_BIND_ADDRESS_NO_PORT
#define IP_BIND_ADDRESS_NO_PORT 24
#endif

#define CL_OPEN_POOL 4096 /* open loop: connections in flight at most, per run */
#define CL_HEAD_MAX 512   /* HTTP response head we accept */
#define CL_REQ_BUF 16384  /* raw requests up to this size leave in one send() */
#define CL_CHUNK 256      /* connection objects allocated at once, as connections open */
#define CL_RAMP_MAX 1024  /* connects per pass: events of the first ones are served meanwhile */

enum CL_STATE { CL_FREE, CL_CONNECTING, CL_SENDING, CL_READING, CL_DRAIN };

struct cl_conn {
	int fd;
	uint8_t state;
	bool got_first, hdr_done, to_eof, last;
	bool out_armed; /* EPOLLOUT is in the fd's epoll mask */
	uint16_t port;  /* --port-select app: the port bound (0: ask getsockname) */
	TAILQ_ENTRY(cl_conn) link;   /* timeout list (connecting or active), or free list */
	int64_t start_ns;            /* intended start of the connection */
	int64_t req_ns;              /* start of the current request */
	int64_t deadline_ns;
	uint32_t reqs_done;
	uint64_t sent;
	uint64_t resp_left;
	uint32_t hlen;
	char hbuf[CL_HEAD_MAX];
};

TAILQ_HEAD(cl_list, cl_conn);

struct cl_thread {
	struct bench_client *cl;
	pthread_t tid;
	bool started;
	int idx, ep;
	struct cl_conn **chunks;     /* chunk k holds min(CL_CHUNK, npool - k*CL_CHUNK) */
	struct cl_list free_list;
	uint32_t nchunks, npool, cap, live, conc; /* npool allocated, cap its bound */
	struct cl_list connecting, active;
	uint64_t quota, started_n; /* quota 0 = unlimited */
	int64_t interval_ns, next_start, deadline;
	uint64_t rr;
	int done;
	struct bench_stats st;
};

struct bench_client {
	const struct bench_cfg *cfg;
	int cancel;
	int nth;
	/* requests: [0] not last, [1] last on the connection. Whole, so that a request leaves
	 * in one send(): a second small segment would wait for the ACK of the first (Nagle
	 * against delayed ACK, ~40 ms per keep-alive exchange). */
	char req[2][CL_REQ_BUF];
	size_t req_len[2];
	struct bench_portsel *ps; /* --port-select app: the cursors, shared by the threads */
	struct cl_thread th[];
};

static const char filler[65536];

#define SET(x, v) __atomic_store_n(&(x), (v), __ATOMIC_RELAXED)
#define INC(x) SET(x, (x) + 1)

static struct cl_list *list_of(struct cl_thread *t, struct cl_conn *c)
{
	return c->state == CL_CONNECTING ? &t->connecting : &t->active;
}

/* End a connection: close, count, give the slot back. err 0 = completed. */
static void conn_end(struct cl_thread *t, struct cl_conn *c, int err)
{
	const struct bench_cfg *cfg = t->cl->cfg;
	if (err == 0 && (cfg->linger0 & BENCH_LINGER_CLIENT)) {
		struct linger lg = { 1, 0 }; /* §7: RST instead of FIN, no TIME-WAIT here */
		setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	}
	if (c->fd >= 0)
		close(c->fd);
	TAILQ_REMOVE(list_of(t, c), c, link);
	c->fd = -1;
	c->state = CL_FREE;
	TAILQ_INSERT_HEAD(&t->free_list, c, link);
	t->live--;
	if (err == 0)
		INC(t->st.completed);
	else
		INC(t->st.failed[err > 0 && err < BENCH_NERRNO ? err : 0]);
	SET(t->st.in_flight, t->live);
}

static void set_phase(struct cl_thread *t, struct cl_conn *c, int state, int64_t now)
{
	const struct bench_cfg *cfg = t->cl->cfg;
	TAILQ_REMOVE(list_of(t, c), c, link);
	c->state = (uint8_t)state;
	c->deadline_ns = now + (state == CL_CONNECTING ? cfg->connect_timeout_ns : cfg->timeout_ns);
	TAILQ_INSERT_TAIL(list_of(t, c), c, link);
}

static void begin_request(struct cl_thread *t, struct cl_conn *c, int64_t now)
{
	c->last = c->reqs_done + 1 >= t->cl->cfg->requests_per_conn;
	c->sent = 0;
	c->got_first = c->hdr_done = c->to_eof = false;
	c->hlen = 0;
	c->resp_left = t->cl->cfg->response;
	c->req_ns = c->reqs_done ? now : c->start_ns;
	set_phase(t, c, CL_SENDING, now);
}

/* Send what is left of the request. 0 = all sent or would block, else an errno. */
static int do_send(struct cl_thread *t, struct cl_conn *c)
{
	const struct bench_client *cl = t->cl;
	const bool raw = cl->cfg->proto == BENCH_PROTO_RAW;
	const uint64_t total = raw ? cl->cfg->request : cl->req_len[c->last];
	while (c->sent < total) {
		const char *p;
		size_t n;
		if (c->sent < cl->req_len[c->last]) {
			p = cl->req[c->last] + c->sent;
			n = (size_t)(cl->req_len[c->last] - c->sent);
		} else {
			p = filler;
			n = total - c->sent < sizeof(filler) ? (size_t)(total - c->sent)
							     : sizeof(filler);
		}
		ssize_t w = send(c->fd, p, n, MSG_NOSIGNAL);
		if (w < 0)
			return errno == EAGAIN ? 0 : errno;
		c->sent += (uint64_t)w;
		SET(t->st.bytes_out, t->st.bytes_out + (uint64_t)w);
	}
	return 0;
}

static void record_port(struct cl_thread *t, struct cl_conn *c)
{
	struct sockaddr_storage ss;
	socklen_t l = sizeof(ss);
	if (c->port) { /* bench bound it: no system call needed */
		t->st.ports[c->port >> 6] |= 1ULL << (c->port & 63);
		return;
	}
	/* Zeroed for the analyzer, which does not see getsockname() fill it (glibc passes the
	 * address as a transparent union); by memset, as the port is read as another type. */
	memset(&ss, 0, sizeof(ss));
	if (getsockname(c->fd, (struct sockaddr *)&ss, &l) == 0) {
		uint16_t p = ntohs(((struct sockaddr_in *)&ss)->sin_port);
		t->st.ports[p >> 6] |= 1ULL << (p & 63);
	}
}

/* One response complete: next request, wait for the server's close, or finish. */
static void exchange_done(struct cl_thread *t, struct cl_conn *c, int64_t now)
{
	const struct bench_cfg *cfg = t->cl->cfg;
	hist_record(&t->st.exchange, (uint64_t)(now - c->req_ns));
	INC(t->st.requests);
	c->reqs_done++;
	if (!c->last)
		begin_request(t, c, now);
	else if (cfg->close == BENCH_CLOSE_SERVER || c->to_eof)
		set_phase(t, c, CL_DRAIN, now);
	else
		conn_end(t, c, 0);
}

/* Consume n received bytes. Returns 0, or an errno (EPROTO: not the expected response). */
static int feed(struct cl_thread *t, struct cl_conn *c, const char *p, size_t n, int64_t now)
{
	if (c->state == CL_DRAIN)
		return EPROTO; /* bytes after the last response */
	if (!c->got_first) {
		c->got_first = true;
		hist_record(&t->st.first_byte, (uint64_t)(now - c->req_ns));
	}
	if (t->cl->cfg->proto == BENCH_PROTO_HTTP && !c->hdr_done) {
		struct bench_http_resp r;
		size_t k = CL_HEAD_MAX - c->hlen < n ? CL_HEAD_MAX - c->hlen : n;
		int rc;
		memcpy(c->hbuf + c->hlen, p, k);
		c->hlen += (uint32_t)k;
		rc = bench_http_resp_parse(c->hbuf, c->hlen, &r);
		if (rc == -EAGAIN)
			return c->hlen == CL_HEAD_MAX ? EPROTO : 0;
		if (rc < 0)
			return EPROTO;
		c->hdr_done = true;
		if (r.status < 200 || r.status > 299)
			INC(t->st.non2xx);
		/* body bytes that came with the header: counted, not read */
		size_t after = c->hlen - r.hdr_len;
		n = n - k + after;
		c->to_eof = !r.has_len || r.close;
		c->resp_left = r.has_len ? r.body_len : UINT64_MAX;
	}
	if (n > c->resp_left)
		return EPROTO;
	c->resp_left -= n;
	if (c->resp_left == 0)
		exchange_done(t, c, now);
	return 0;
}

#define CL_EV_IN (EPOLLIN | EPOLLRDHUP | EPOLLET)

/* Add EPOLLOUT to the mask (a request that did not leave in one go). Edge-triggered: MOD
 * re-polls the socket, so room that is already there gives an event. */
static void arm_out(struct cl_thread *t, struct cl_conn *c)
{
	struct epoll_event e = { .events = CL_EV_IN | EPOLLOUT, .data.ptr = c };
	if (epoll_ctl(t->ep, EPOLL_CTL_MOD, c->fd, &e) == 0)
		c->out_armed = true;
}

static void conn_event(struct cl_thread *t, struct cl_conn *c, uint32_t ev, int64_t now)
{
	static __thread char scratch[65536];
	int err = 0;

	if (c->state == CL_CONNECTING) {
		/* a failed connect always shows EPOLLERR or EPOLLHUP (tcp_poll: sk_err, CLOSE),
		 * so only then is SO_ERROR worth a system call */
		if (ev & (EPOLLERR | EPOLLHUP)) {
			socklen_t l = sizeof(err);
			if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &l) < 0)
				err = errno;
			if (err == EINPROGRESS || err == EALREADY)
				return;
			if (err) {
				conn_end(t, c, err);
				return;
			}
		}
		/* EPOLLOUT without an error: connected (no other event comes before it) */
		if (!(ev & (EPOLLOUT | EPOLLIN | EPOLLRDHUP)))
			return;
		hist_record(&t->st.connect, (uint64_t)(now - c->start_ns));
		record_port(t, c);
		begin_request(t, c, now);
	}
	if (c->state == CL_SENDING) {
		if ((err = do_send(t, c))) {
			conn_end(t, c, err);
			return;
		}
		if (c->sent < (t->cl->cfg->proto == BENCH_PROTO_RAW ? t->cl->cfg->request
								    : t->cl->req_len[c->last])) {
			if (!c->out_armed)
				arm_out(t, c);
			return;
		}
		set_phase(t, c, CL_READING, now);
	}
	for (;;) {
		ssize_t r = recv(c->fd, scratch, sizeof(scratch), 0);
		if (r > 0) {
			SET(t->st.bytes_in, t->st.bytes_in + (uint64_t)r);
			uint8_t before = c->state;
			uint32_t reqs = c->reqs_done;
			if ((err = feed(t, c, scratch, (size_t)r, now))) {
				conn_end(t, c, err);
				return;
			}
			if (c->state == CL_FREE)
				return;
			if (c->state == CL_SENDING && (before != CL_SENDING || reqs != c->reqs_done)) {
				conn_event(t, c, ev, now); /* next keep-alive request */
				return;
			}
			/* a short read drained the socket: unless the peer's FIN is already here
			 * (EPOLLRDHUP), the next recv would only say EAGAIN */
			if ((size_t)r < sizeof(scratch) && !(ev & EPOLLRDHUP))
				return;
			/* the FIN was in order before this read (RDHUP is set only then) and the
			 * short read took everything before it: the next recv would say 0, so the
			 * server-closed exchange ends here, one system call sooner */
			if ((size_t)r < sizeof(scratch) && c->state == CL_DRAIN) {
				conn_end(t, c, 0);
				return;
			}
			continue;
		}
		if (r == 0) {
			/* EOF: the end of a server-closed exchange, or a short response */
			if (c->state == CL_DRAIN) {
				conn_end(t, c, 0);
			} else if (c->state == CL_READING && c->to_eof && c->hdr_done) {
				c->resp_left = 0;
				exchange_done(t, c, now);
				if (c->state == CL_DRAIN)
					conn_end(t, c, 0);
			} else {
				conn_end(t, c, EPROTO);
			}
			return;
		}
		if (errno == EAGAIN || errno == EINTR)
			return;
		/* a RST after the whole last response (server linger0) ends it normally */
		conn_end(t, c, c->state == CL_DRAIN ? 0 : errno);
		return;
	}
}

/* Grow the pool by one chunk. 0, or -ENOMEM (also at the bound). */
static int pool_grow(struct cl_thread *t)
{
	uint32_t k = t->cap - t->npool < CL_CHUNK ? t->cap - t->npool : CL_CHUNK;
	struct cl_conn **nc, *c;
	if (k == 0)
		return -ENOMEM;
	nc = realloc(t->chunks, (size_t)(t->nchunks + 1) * sizeof(*nc));
	if (!nc)
		return -ENOMEM;
	t->chunks = nc;
	c = calloc(k, sizeof(*c));
	if (!c)
		return -ENOMEM;
	t->chunks[t->nchunks++] = c;
	for (uint32_t i = k; i-- > 0;) {
		c[i].fd = -1;
		TAILQ_INSERT_HEAD(&t->free_list, &c[i], link);
	}
	t->npool += k;
	return 0;
}

/* A client socket with the run's options (not yet bound or connected). fd or -errno. */
static int sock_open(const struct bench_cfg *cfg, int family)
{
	int one = 1, fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (cfg->delayed_ack) { /* see bench_cfg.c: fewer segments, nothing waits on them */
		int zero = 0;
		setsockopt(fd, IPPROTO_TCP, TCP_QUICKACK, &zero, sizeof(zero));
	}
	if (cfg->request > CL_REQ_BUF) /* the tail goes in several sends: no Nagle wait */
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (cfg->lpr_hi && cfg->port_select == BENCH_PORTSEL_KERNEL) {
		uint32_t r = (uint32_t)cfg->lpr_hi << 16 | cfg->lpr_lo; /* §3.2 F */
		setsockopt(fd, IPPROTO_IP, IP_LOCAL_PORT_RANGE, &r, sizeof(r));
	}
	return fd;
}

/*
 * --port-select app: bind the port of cursor `cur` and connect, moving on to the cursor's next
 * port (on a new socket: a bound socket keeps its port) while the failure is one another port
 * cures, at most BENCH_PS_TRIES ports. 0 with c->fd connected or connecting, else the errno of
 * the last try. Every refused port is counted.
 */
static int connect_app(struct cl_thread *t, struct cl_conn *c, const struct sockaddr_storage *src,
		       const struct sockaddr_storage *dst, uint32_t cur)
{
	const struct bench_cfg *cfg = t->cl->cfg;
	for (int i = 0;; i++) {
		int err;
		uint16_t port = bench_portsel_next(t->cl->ps, cur);
		enum BENCH_PS_STEP r = bench_portsel_try(c->fd, src, dst, cfg->target.len, port,
							 &err);
		if (r == BENCH_PS_CONNECTED) {
			c->port = port;
			return 0;
		}
		if (r == BENCH_PS_BIND_FAILED)
			INC(t->st.ps_bind_failed[err > 0 && err < BENCH_NERRNO ? err : 0]);
		else
			INC(t->st.ps_connect_failed[err > 0 && err < BENCH_NERRNO ? err : 0]);
		if (!bench_portsel_retryable(err, r == BENCH_PS_BIND_FAILED))
			return err;
		if (i + 1 >= BENCH_PS_TRIES) {
			INC(t->st.ps_exhausted);
			return err;
		}
		close(c->fd);
		c->fd = sock_open(cfg, dst->ss_family);
		if (c->fd < 0) {
			err = -c->fd;
			c->fd = -1;
			return err;
		}
	}
}

/* Start one connection whose intended start is `intended`. false when no connection object
 * could be had (out of memory: counted as ENOMEM). */
static bool conn_start(struct cl_thread *t, int64_t intended, int64_t now)
{
	const struct bench_cfg *cfg = t->cl->cfg;
	struct cl_conn *c;
	struct sockaddr_storage dst = cfg->target.addr;
	uint64_t k;
	int fd, nports = cfg->target.hi - cfg->target.lo + 1, one = 1;

	if (TAILQ_EMPTY(&t->free_list) && pool_grow(t) < 0) {
		INC(t->st.attempted);
		INC(t->st.failed[ENOMEM]);
		t->started_n++;
		return false;
	}
	c = TAILQ_FIRST(&t->free_list);
	k = t->rr++ * (uint64_t)t->cl->nth + (uint64_t)t->idx;
	TAILQ_REMOVE(&t->free_list, c, link);
	memset(c, 0, offsetof(struct cl_conn, hbuf));
	c->fd = -1;
	c->start_ns = intended;
	c->state = CL_CONNECTING;
	c->deadline_ns = now + cfg->connect_timeout_ns;
	TAILQ_INSERT_TAIL(&t->connecting, c, link);
	t->live++;
	t->started_n++;
	INC(t->st.attempted);
	SET(t->st.in_flight, t->live);

	fd = sock_open(cfg, dst.ss_family);
	if (fd < 0) {
		conn_end(t, c, -fd); /* EMFILE, ENFILE, ENOBUFS: data */
		return true;
	}
	c->fd = fd;
	if (cfg->port_select == BENCH_PORTSEL_APP) {
		struct sockaddr_storage src;
		uint32_t si = cfg->nsources ? (uint32_t)(k % (uint64_t)cfg->nsources) : 0;
		uint64_t di = (cfg->nsources ? k / (uint64_t)cfg->nsources : k) % (uint64_t)nports;
		int err;
		memset(&src, 0, sizeof(src));
		if (cfg->nsources)
			src = cfg->sources[si];
		else
			src.ss_family = dst.ss_family; /* the wildcard: the route picks the address */
		((struct sockaddr_in *)&dst)->sin_port = htons((uint16_t)(cfg->target.lo + di));
		err = connect_app(t, c, &src, &dst, bench_portsel_cursor(si, (uint32_t)di,
									(uint32_t)nports));
		fd = c->fd;
		if (err) {
			conn_end(t, c, err);
			return true;
		}
	} else if (cfg->nsources || !cfg->bind_no_port) {
		struct sockaddr_storage src;
		memset(&src, 0, sizeof(src));
		if (cfg->nsources)
			src = cfg->sources[k % (uint64_t)cfg->nsources];
		else
			src.ss_family = dst.ss_family;
		/* §3.3: with IP_BIND_ADDRESS_NO_PORT the port is chosen by connect() per
		 * destination; without it bind() takes a port unique on the host. */
		if (cfg->bind_no_port)
			setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(one));
		if (bind(fd, (struct sockaddr *)&src, cfg->target.len) < 0) {
			conn_end(t, c, errno);
			return true;
		}
	}
	if (cfg->port_select == BENCH_PORTSEL_KERNEL) {
		if (cfg->nsources)
			k /= (uint64_t)cfg->nsources;
		((struct sockaddr_in *)&dst)->sin_port =
			htons((uint16_t)(cfg->target.lo + k % (uint64_t)nports));
		if (connect(fd, (struct sockaddr *)&dst, cfg->target.len) < 0 &&
		    errno != EINPROGRESS) {
			conn_end(t, c, errno); /* EADDRNOTAVAIL: the port budget is spent (§3.3) */
			return true;
		}
	}
	/*
	 * Try the request at once. On loopback the whole handshake runs inside connect() (the
	 * SYN, SYN-ACK and ACK are processed in softirq before it returns), so the socket is
	 * usually established already: this saves the EPOLLOUT event, its wake-up and dispatch,
	 * per connection. A socket still connecting refuses with EAGAIN (sk_stream_wait_connect
	 * with no timeout) and nothing is sent; a refused connect reports its error here.
	 */
	int64_t t_conn = tw_mono_ns();
	begin_request(t, c, t_conn);
	int err = do_send(t, c);
	if (err) {
		conn_end(t, c, err);
		return true;
	}
	if (c->sent == 0) { /* still connecting: wait for EPOLLOUT as usual */
		set_phase(t, c, CL_CONNECTING, now);
	} else {
		hist_record(&t->st.connect, (uint64_t)(t_conn - c->start_ns));
		record_port(t, c);
		if (c->sent == (cfg->proto == BENCH_PROTO_RAW ? cfg->request
							  : t->cl->req_len[c->last]))
			set_phase(t, c, CL_READING, t_conn);
	}
	struct epoll_event e = { .events = CL_EV_IN, .data.ptr = c };
	if (c->state != CL_READING)
		e.events |= EPOLLOUT;
	c->out_armed = c->state != CL_READING;
	if (epoll_ctl(t->ep, EPOLL_CTL_ADD, fd, &e) < 0)
		conn_end(t, c, errno);
	return true;
}

static bool may_start(const struct cl_thread *t)
{
	return (!TAILQ_EMPTY(&t->free_list) || t->npool < t->cap) &&
	       (!t->quota || t->started_n < t->quota);
}

/* Whether the run is over for this thread: cancelled, or past its deadline. */
static bool must_stop(const struct cl_thread *t, int64_t now)
{
	return __atomic_load_n(&t->cl->cancel, __ATOMIC_RELAXED) ||
	       (t->deadline && now >= t->deadline);
}

static void *cl_thread_main(void *arg)
{
	struct cl_thread *t = arg;
	const struct bench_cfg *cfg = t->cl->cfg;
	struct epoll_event ev[256];

	for (;;) {
		int64_t now = tw_mono_ns();
		int timeout = 100;
		if (must_stop(t, now))
			break;
		if (t->quota && t->started_n >= t->quota && t->live == 0)
			break;
		if (cfg->rate > 0) {
			for (uint32_t i = 0; t->next_start <= now && may_start(t); i++) {
				if (i && (i >= CL_RAMP_MAX || must_stop(t, now = tw_mono_ns())))
					break;
				if (!conn_start(t, t->next_start, now))
					break;
				t->next_start += t->interval_ns;
			}
			if (t->next_start > now) {
				int64_t ms = (t->next_start - now + NS_PER_MS - 1) / NS_PER_MS;
				timeout = ms < 100 ? (int)ms : 100;
			} else if (may_start(t)) {
				timeout = 0;
			}
		} else {
			/* bounded per pass, so immediate failures cannot spin here forever, and
			 * each connect() is preceded by a look at the clock and the cancel flag */
			for (uint32_t i = 0; i < CL_RAMP_MAX && t->live < t->conc && may_start(t);
			     i++) {
				if (i && must_stop(t, now = tw_mono_ns()))
					break;
				if (!conn_start(t, now, now))
					break;
			}
			if (t->live < t->conc && may_start(t))
				timeout = 0;
		}
		int n = epoll_wait(t->ep, ev, 256, timeout);
		now = tw_mono_ns();
		for (int i = 0; i < n; i++) {
			struct cl_conn *c = ev[i].data.ptr;
			if (c->state != CL_FREE)
				conn_event(t, c, ev[i].events, now);
		}
		while (!TAILQ_EMPTY(&t->connecting) &&
		       TAILQ_FIRST(&t->connecting)->deadline_ns <= now)
			conn_end(t, TAILQ_FIRST(&t->connecting), ETIMEDOUT);
		while (!TAILQ_EMPTY(&t->active) && TAILQ_FIRST(&t->active)->deadline_ns <= now)
			conn_end(t, TAILQ_FIRST(&t->active), ETIMEDOUT);
	}
	SET(t->done, 1);
	return NULL;
}

static void build_requests(struct bench_client *cl)
{
	const struct bench_cfg *cfg = cl->cfg;
	for (int last = 0; last < 2; last++) {
		bool srv_close = last && cfg->close == BENCH_CLOSE_SERVER;
		bool lg = last && (cfg->linger0 & BENCH_LINGER_SERVER);
		if (cfg->proto == BENCH_PROTO_RAW) {
			bench_raw_hdr_encode((uint8_t *)cl->req[last], cfg->request, cfg->response,
					     (srv_close ? BENCH_RAW_F_CLOSE : 0) |
						     (lg ? BENCH_RAW_F_LINGER0 : 0));
			cl->req_len[last] = cfg->request < CL_REQ_BUF ? cfg->request : CL_REQ_BUF;
		} else {
			char host[64];
			bench_ep_fmt(&cfg->target, host, sizeof(host));
			char *dash = strchr(strrchr(host, ':'), '-');
			if (dash)
				*dash = '\0';
			int n = bench_http_req_build(cl->req[last], sizeof(cl->req[last]), cfg->path,
						     host, srv_close, lg);
			cl->req_len[last] = n > 0 ? (size_t)n : 0;
		}
	}
}

int bench_client_start(const struct bench_cfg *cfg, struct bench_client **out)
{
	struct bench_client *cl;
	int rc = 0, nth = (int)cfg->threads;
	uint64_t total_pool = cfg->rate > 0 ? (cfg->concurrency > CL_OPEN_POOL ? cfg->concurrency
									      : CL_OPEN_POOL)
					    : cfg->concurrency;
	int64_t t0 = tw_mono_ns();

	if (cfg->lpr_hi && cfg->port_select == BENCH_PORTSEL_KERNEL) {
		/* fail once, clearly, rather than once per connection */
		int fd = socket(cfg->target.addr.ss_family, SOCK_STREAM, 0);
		uint32_t r = (uint32_t)cfg->lpr_hi << 16 | cfg->lpr_lo;
		if (fd < 0)
			return -errno;
		rc = setsockopt(fd, IPPROTO_IP, IP_LOCAL_PORT_RANGE, &r, sizeof(r)) < 0 ? -errno : 0;
		close(fd);
		if (rc < 0)
			return rc;
	}
	if ((uint64_t)nth > total_pool)
		nth = (int)total_pool;
	cl = calloc(1, sizeof(*cl) + (size_t)nth * sizeof(cl->th[0])); /* zeroed: filler */
	if (!cl)
		return -ENOMEM;
	cl->cfg = cfg;
	cl->nth = nth;
	build_requests(cl);
	if (cfg->port_select == BENCH_PORTSEL_APP) {
		uint16_t lo, hi;
		uint32_t ncur = (uint32_t)(cfg->nsources ? cfg->nsources : 1) *
				(uint32_t)(cfg->target.hi - cfg->target.lo + 1);
		if ((rc = bench_portsel_range(cfg->lpr_lo, cfg->lpr_hi, &lo, &hi)) < 0 ||
		    (rc = bench_portsel_new(lo, hi, ncur, &cl->ps)) < 0) {
			free(cl);
			return rc;
		}
	}
	for (int i = 0; i < nth; i++) {
		struct cl_thread *t = &cl->th[i];
		t->cl = cl;
		TAILQ_INIT(&t->connecting);
		TAILQ_INIT(&t->active);
		TAILQ_INIT(&t->free_list);
		t->idx = i;
		t->ep = -1;
		t->cap = (uint32_t)(total_pool / (uint64_t)nth + ((uint64_t)i < total_pool % (uint64_t)nth));
		t->conc = t->cap;
		if (cfg->count)
			t->quota = cfg->count / (uint64_t)nth + ((uint64_t)i < cfg->count % (uint64_t)nth);
		if (cfg->count && !t->quota)
			t->quota = 0, t->done = 1;
		if (cfg->rate > 0) {
			t->interval_ns = (int64_t)(1e9 * nth / cfg->rate);
			if (t->interval_ns < 1)
				t->interval_ns = 1;
			t->next_start = t0 + t->interval_ns * i / nth; /* stagger the threads */
		}
		t->deadline = cfg->duration_ns ? t0 + cfg->duration_ns : 0;
		hist_init(&t->st.connect);
		hist_init(&t->st.first_byte);
		hist_init(&t->st.exchange);
		t->ep = epoll_create1(EPOLL_CLOEXEC);
		if (t->ep < 0 || pool_grow(t) < 0) { /* the first chunk: a start that cannot
							 * allocate is an error, not data */
			rc = t->ep < 0 ? -errno : -ENOMEM;
			goto out;
		}
	}
	for (int i = 0; i < nth; i++) {
		if (cl->th[i].done)
			continue;
		rc = -pthread_create(&cl->th[i].tid, NULL, cl_thread_main, &cl->th[i]);
		if (rc < 0)
			goto out;
		cl->th[i].started = true;
	}
out:
	if (rc < 0) {
		bench_client_cancel(cl);
		bench_client_stop(cl, NULL);
		return rc;
	}
	*out = cl;
	return 0;
}

static void sum_counters(struct bench_stats *d, const struct bench_stats *s)
{
#define L(f) d->f += __atomic_load_n(&s->f, __ATOMIC_RELAXED)
	L(attempted);
	L(completed);
	L(in_flight);
	L(requests);
	L(non2xx);
	L(bytes_in);
	L(bytes_out);
	for (int e = 0; e < BENCH_NERRNO; e++)
		L(failed[e]);
#undef L
}

void bench_client_sample(const struct bench_client *c, struct bench_stats *sum)
{
	memset(sum, 0, offsetof(struct bench_stats, connect));
	for (int i = 0; i < c->nth; i++)
		sum_counters(sum, &c->th[i].st);
}

bool bench_client_done(const struct bench_client *c)
{
	for (int i = 0; i < c->nth; i++)
		if (!__atomic_load_n(&c->th[i].done, __ATOMIC_RELAXED))
			return false;
	return true;
}

void bench_client_cancel(struct bench_client *c)
{
	if (c)
		__atomic_store_n(&c->cancel, 1, __ATOMIC_RELAXED);
}

void bench_client_stop(struct bench_client *c, struct bench_stats *final)
{
	if (!c)
		return;
	if (final) {
		memset(final, 0, sizeof(*final));
		hist_init(&final->connect);
		hist_init(&final->first_byte);
		hist_init(&final->exchange);
	}
	for (int i = 0; i < c->nth; i++) {
		struct cl_thread *t = &c->th[i];
		if (t->started)
			pthread_join(t->tid, NULL);
		/* what is still open at the end stays counted as in flight */
		for (uint32_t k = 0; k < t->npool; k++) {
			struct cl_conn *x = &t->chunks[k / CL_CHUNK][k % CL_CHUNK];
			if (x->state != CL_FREE && x->fd >= 0)
				close(x->fd);
		}
		if (final)
			bench_stats_merge(final, &t->st);
		if (t->ep >= 0)
			close(t->ep);
		for (uint32_t k = 0; k < t->nchunks; k++)
			free(t->chunks[k]);
		free(t->chunks);
	}
	bench_portsel_free(c->ps);
	free(c);
}
