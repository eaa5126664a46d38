/*
 * bench_server — the built-in server: one epoll loop per thread; the listening sockets (one
 * per port) are shared, each thread waits on them with EPOLLEXCLUSIVE so one wakes per
 * connection (no SO_REUSEPORT: a port already in use must fail, not be silently shared). It sniffs the protocol per
 * connection ("TWK1" = raw, else HTTP/1.1) so one server serves every client variant.
 *
 * Robustness (issue 4): memory is bounded (at most max_conns connections over all threads,
 * each a fixed-size object from a pool that only grows up to that bound; request bodies are
 * skipped, never stored, and a request declaring more than --max-request is refused); a
 * connection idle longer than --timeout is closed, and so is one whose request is not whole
 * --request-timeout after its first byte (slowloris: a byte now and then resets only the idle
 * clock); garbage and resets close that one connection and are counted; nothing a client does
 * stops the loop.
 * Admission: a slot is reserved (one shared counter) before accept(). With max_conns held, or
 * when accept() finds no descriptor (EMFILE), the thread takes its level-triggered listeners
 * out of its epoll set, so it neither spins on them nor resets the queued clients: they wait
 * in the kernel's accept queue until a connection of this thread closes, or the retry tick.
 * Deadlines: every activity moves a connection to the tail of its thread's idle list, and a
 * request's first byte puts it at the tail of the request list, so each list is sorted by its
 * deadline (one fixed duration each: a FIFO) and the sweep stops at the first young one.
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

#include "bench/bench_proto.h"
#include "common/clock.h"
#include "common/units.h"

#define SRV_HEAD_MAX 1024 /* an HTTP request head larger than this is garbage here */
#define SRV_CHUNK 256     /* connection objects allocated at once */
#define SRV_MAX_PORTS BENCH_MAX_LISTEN_PORTS
/* paused accepting: try again this often (a descriptor may free in another thread or process;
 * at EMFILE each try costs one failed accept(), 10 a second) */
#define SRV_RETRY_NS (100 * NS_PER_MS)

enum SRV_KIND { SRV_UNKNOWN, SRV_RAW, SRV_HTTP };

struct srv_conn {
	int fd;
	uint8_t kind;
	bool responding, close_after, linger0;
	bool in_req;                        /* on the request list: a request is arriving */
	TAILQ_ENTRY(srv_conn) link;         /* idle list, or free list */
	TAILQ_ENTRY(srv_conn) rq_link;      /* request list, while in_req */
	int64_t last_ns, rq_start_ns;
	uint32_t have;          /* bytes of hdr (raw) or buf (http) held */
	uint64_t skip;          /* request bytes still to read and drop */
	const char *pre;        /* response head (http) */
	size_t pre_len, pre_off;
	uint64_t body_left;     /* response filler bytes still to send */
	uint8_t hdr[BENCH_RAW_HDR];
	char buf[SRV_HEAD_MAX];
};

TAILQ_HEAD(srv_list, srv_conn);

struct srv_thread {
	struct bench_server *srv;
	pthread_t tid;
	bool started;
	int ep;
	int lfd[SRV_MAX_PORTS];
	int nl;
	uint32_t nconns, cap;
	struct srv_list free_list;
	struct srv_conn **chunks;
	int nchunks;
	struct srv_list idle;               /* idle order: least recently active first */
	struct srv_list rq;                 /* requests by first byte */
	bool paused, retrying;              /* listeners out of the epoll set; resumed by a tick */
	int64_t resume_ns;
	struct bench_srv_stats st;
	char head_close[160], head_keep[160];
	size_t head_close_len, head_keep_len;
};

struct bench_server {
	const struct bench_cfg *cfg;
	int stop;
	uint32_t held, held_max; /* connections held (slots reserved) by all threads, and peak */
	int nth;
	struct srv_thread th[];
};

static const char filler[65536]; /* response bytes: zeros, read-only, shared */

#define ST_INC(t, f) __atomic_store_n(&(t)->st.f, (t)->st.f + 1, __ATOMIC_RELAXED)

static void rq_del(struct srv_thread *t, struct srv_conn *c)
{
	if (!c->in_req)
		return;
	TAILQ_REMOVE(&t->rq, c, rq_link);
	c->in_req = false;
}

/* A request's first byte: its deadline runs from now, whatever the idle clock does. */
static void rq_begin(struct srv_thread *t, struct srv_conn *c, int64_t now)
{
	c->in_req = true;
	c->rq_start_ns = now;
	TAILQ_INSERT_TAIL(&t->rq, c, rq_link);
}

/* Reserve one connection slot of max_conns, over all threads. false when they are held. */
static bool slot_take(struct bench_server *s)
{
	uint32_t n = __atomic_add_fetch(&s->held, 1, __ATOMIC_RELAXED);
	if (n > s->cfg->max_conns) {
		__atomic_sub_fetch(&s->held, 1, __ATOMIC_RELAXED);
		return false;
	}
	uint32_t m = __atomic_load_n(&s->held_max, __ATOMIC_RELAXED);
	while (n > m && !__atomic_compare_exchange_n(&s->held_max, &m, n, true, __ATOMIC_RELAXED,
						     __ATOMIC_RELAXED))
		;
	return true;
}

static void slot_put(struct bench_server *s)
{
	__atomic_sub_fetch(&s->held, 1, __ATOMIC_RELAXED);
}

/* Clients waiting in the accept queues now (TCP_INFO of a listener: tcpi_unacked). */
static uint64_t backlog_now(const struct srv_thread *t)
{
	uint64_t sum = 0;
	for (int p = 0; p < t->nl; p++) {
		struct tcp_info ti;
		socklen_t l = sizeof(ti);
		memset(&ti, 0, sizeof(ti));
		if (getsockopt(t->lfd[p], IPPROTO_TCP, TCP_INFO, &ti, &l) == 0)
			sum += ti.tcpi_unacked;
	}
	return sum;
}

static void backlog_note(struct srv_thread *t)
{
	uint64_t b = backlog_now(t);
	if (b > t->st.backlog_max)
		__atomic_store_n(&t->st.backlog_max, b, __ATOMIC_RELAXED);
}

/*
 * Stop accepting on this thread: the listeners leave its epoll set (level-triggered, they
 * would wake it at once, again and again). A pause right after a retry is the same episode:
 * the counter `f` (full or emfile) counts episodes, not retries.
 */
static void accept_pause(struct srv_thread *t, uint64_t *f, int64_t now)
{
	if (t->paused)
		return;
	for (int p = 0; p < t->nl; p++)
		epoll_ctl(t->ep, EPOLL_CTL_DEL, t->lfd[p], NULL);
	t->paused = true;
	t->resume_ns = now + SRV_RETRY_NS;
	if (!t->retrying)
		__atomic_store_n(f, *f + 1, __ATOMIC_RELAXED);
	backlog_note(t);
}

static void accept_resume(struct srv_thread *t, bool retry)
{
	if (!t->paused || __atomic_load_n(&t->srv->stop, __ATOMIC_RELAXED))
		return;
	for (int p = 0; p < t->nl; p++) {
		/* EPOLLEXCLUSIVE cannot be MODded: the listener is added anew */
		struct epoll_event e = { .events = EPOLLIN | EPOLLEXCLUSIVE,
					 .data.ptr = (void *)(((uintptr_t)p << 1) | 1) };
		epoll_ctl(t->ep, EPOLL_CTL_ADD, t->lfd[p], &e);
	}
	t->paused = false;
	t->retrying = retry;
}

static void touch(struct srv_thread *t, struct srv_conn *c, int64_t now)
{
	c->last_ns = now;
	if (TAILQ_LAST(&t->idle, srv_list) != c) {
		TAILQ_REMOVE(&t->idle, c, link);
		TAILQ_INSERT_TAIL(&t->idle, c, link);
	}
}

/*
 * A free connection object for a reserved slot, or NULL out of memory. A thread never holds
 * more than max_conns (the slots are shared), so its pool stops growing there.
 */
static struct srv_conn *conn_get(struct srv_thread *t)
{
	struct srv_conn *c = TAILQ_FIRST(&t->free_list);
	if (!c) {
		uint32_t room = t->srv->cfg->max_conns - t->cap;
		uint32_t k = room < SRV_CHUNK ? room : SRV_CHUNK;
		struct srv_conn **nc;
		if (k == 0)
			return NULL;
		nc = realloc(t->chunks, (size_t)(t->nchunks + 1) * sizeof(*nc));
		if (!nc)
			return NULL;
		t->chunks = nc;
		c = calloc(k, sizeof(*c));
		if (!c)
			return NULL;
		t->chunks[t->nchunks++] = c;
		for (uint32_t i = k; i-- > 0;)
			TAILQ_INSERT_HEAD(&t->free_list, &c[i], link);
		t->cap += k;
		c = TAILQ_FIRST(&t->free_list);
	}
	TAILQ_REMOVE(&t->free_list, c, link);
	memset(c, 0, offsetof(struct srv_conn, hdr));
	return c;
}

static void conn_close(struct srv_thread *t, struct srv_conn *c, bool linger0)
{
	if (linger0) {
		struct linger lg = { 1, 0 }; /* §7: RST, no TIME-WAIT */
		setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	}
	close(c->fd); /* also removes it from the epoll set */
	TAILQ_REMOVE(&t->idle, c, link);
	rq_del(t, c);
	c->fd = -1;
	TAILQ_INSERT_HEAD(&t->free_list, c, link);
	t->nconns--;
	slot_put(t->srv);
	ST_INC(t, closed);
	__atomic_store_n(&t->st.active, t->nconns, __ATOMIC_RELAXED);
	accept_resume(t, false); /* a slot and a descriptor are free again */
}

/* Send what is pending. 1 = all sent, 0 = would block, -1 = error (connection closed). */
static int conn_flush(struct srv_thread *t, struct srv_conn *c)
{
	while (c->pre_off < c->pre_len || c->body_left) {
		const char *p;
		size_t n;
		ssize_t w;
		if (c->pre_off < c->pre_len) {
			p = c->pre + c->pre_off;
			n = c->pre_len - c->pre_off;
		} else {
			p = filler;
			n = c->body_left < sizeof(filler) ? (size_t)c->body_left : sizeof(filler);
		}
		w = send(c->fd, p, n, MSG_NOSIGNAL | (c->body_left && c->pre_off < c->pre_len ? MSG_MORE : 0));
		if (w < 0) {
			if (errno == EAGAIN)
				return 0;
			if (errno == ECONNRESET || errno == EPIPE)
				ST_INC(t, resets);
			conn_close(t, c, false);
			return -1;
		}
		if (c->pre_off < c->pre_len)
			c->pre_off += (size_t)w;
		else
			c->body_left -= (uint64_t)w;
	}
	c->responding = false;
	ST_INC(t, requests);
	if (c->close_after) {
		conn_close(t, c, c->linger0);
		return -1;
	}
	return 1;
}

static void start_response(struct srv_thread *t, struct srv_conn *c, uint64_t body, bool close,
			   bool linger0)
{
	rq_del(t, c); /* the request is whole: its deadline is met */
	c->responding = true;
	c->close_after = close;
	c->linger0 = linger0;
	c->body_left = body;
	c->pre_off = 0;
	if (c->kind == SRV_HTTP) {
		c->pre = close ? t->head_close : t->head_keep;
		c->pre_len = close ? t->head_close_len : t->head_keep_len;
	} else {
		c->pre = NULL;
		c->pre_len = 0;
	}
	c->have = 0;
}

/*
 * Feed received bytes. Returns 0 to go on, -1 when the connection was closed (garbage or a
 * request pipelined behind one still being answered).
 */
static int conn_feed(struct srv_thread *t, struct srv_conn *c, const char *p, size_t n)
{
	const unsigned linger_srv = t->srv->cfg->linger0 & BENCH_LINGER_SERVER;
	while (n) {
		if (c->responding)
			goto bad; /* pipelining is not part of a churn benchmark */
		if (c->skip) {
			size_t k = c->skip < n ? (size_t)c->skip : n;
			c->skip -= k;
			p += k;
			n -= k;
			if (!c->skip && c->kind == SRV_RAW) {
				uint32_t rq, rs, fl;
				bench_raw_hdr_decode(c->hdr, &rq, &rs, &fl);
				start_response(t, c, rs, fl & BENCH_RAW_F_CLOSE,
					       (fl & BENCH_RAW_F_LINGER0) || linger_srv);
			} else if (!c->skip) {
				start_response(t, c, t->srv->cfg->response, c->close_after,
					       c->linger0);
			}
			continue;
		}
		if (c->kind == SRV_UNKNOWN)
			c->kind = p[0] == 'T' ? SRV_RAW : SRV_HTTP;
		if (c->kind == SRV_RAW) {
			size_t k = BENCH_RAW_HDR - c->have < n ? BENCH_RAW_HDR - c->have : n;
			uint32_t rq, rs, fl;
			memcpy(c->hdr + c->have, p, k);
			c->have += (uint32_t)k;
			p += k;
			n -= k;
			if (c->have < BENCH_RAW_HDR)
				continue;
			if (bench_raw_hdr_decode(c->hdr, &rq, &rs, &fl) < 0)
				goto bad;
			if (rq > t->srv->cfg->max_request)
				goto too_large;
			c->skip = rq - BENCH_RAW_HDR;
			if (!c->skip)
				start_response(t, c, rs, fl & BENCH_RAW_F_CLOSE,
					       (fl & BENCH_RAW_F_LINGER0) || linger_srv);
			continue;
		}
		/* HTTP: gather the head, then skip any body */
		struct bench_http_req rq;
		size_t k = sizeof(c->buf) - c->have < n ? sizeof(c->buf) - c->have : n;
		int rc;
		memcpy(c->buf + c->have, p, k);
		c->have += (uint32_t)k;
		rc = bench_http_req_parse(c->buf, c->have, &rq);
		if (rc == -EAGAIN) {
			if (c->have == sizeof(c->buf))
				goto bad;
			p += k;
			n -= k;
			continue;
		}
		if (rc < 0)
			goto bad;
		/* bytes of this read that belong after the head */
		size_t after = c->have - rq.hdr_len;
		p += k - after;
		n -= k - after;
		c->have = 0;
		c->close_after = rq.close;
		c->linger0 = rq.linger0 || linger_srv;
		if (rq.hdr_len + rq.body_len > t->srv->cfg->max_request)
			goto too_large;
		c->skip = rq.body_len;
		if (!c->skip)
			start_response(t, c, t->srv->cfg->response, rq.close, c->linger0);
	}
	return 0;
too_large:
	ST_INC(t, too_large);
	conn_close(t, c, true); /* RST: nothing more of it is read */
	return -1;
bad:
	ST_INC(t, bad_requests);
	conn_close(t, c, true); /* RST: no TIME-WAIT kept for garbage */
	return -1;
}

static void conn_event(struct srv_thread *t, struct srv_conn *c, uint32_t ev, char *scratch,
		       size_t scratch_len, int64_t now)
{
	touch(t, c, now);
	if (c->responding && (ev & EPOLLOUT) && conn_flush(t, c) < 0)
		return;
	for (;;) {
		ssize_t r = recv(c->fd, scratch, scratch_len, 0);
		if (r > 0) {
			if (!c->in_req && !c->responding)
				rq_begin(t, c, now);
			if (conn_feed(t, c, scratch, (size_t)r) < 0)
				return;
			if (c->responding && conn_flush(t, c) < 0)
				return;
			if ((size_t)r < scratch_len && !(ev & (EPOLLRDHUP | EPOLLHUP)))
				return; /* drained: see the client's read loop */
			continue;
		}
		if (r == 0) {
			conn_close(t, c, false);
			return;
		}
		if (errno == EAGAIN || errno == EINTR)
			return;
		if (errno == ECONNRESET)
			ST_INC(t, resets);
		conn_close(t, c, false);
		return;
	}
}

static void do_accept(struct srv_thread *t, int lfd, int64_t now)
{
	while (!t->paused) {
		struct srv_conn *c;
		int fd;
		if (!slot_take(t->srv)) { /* max_conns held: the rest wait in the backlog */
			accept_pause(t, &t->st.full, now);
			return;
		}
		fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			int e = errno;
			slot_put(t->srv);
			if (e == EMFILE || e == ENFILE || e == ENOBUFS || e == ENOMEM)
				accept_pause(t, &t->st.emfile, now);
			return; /* EAGAIN, or an error for that one connection: go on */
		}
		t->retrying = false;
		c = conn_get(t);
		if (!c) { /* out of memory: that one client is reset */
			struct linger lg = { 1, 0 };
			setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
			close(fd);
			slot_put(t->srv);
			ST_INC(t, rejected);
			continue;
		}
		c->fd = fd;
		int one = 1;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		struct epoll_event e = { .events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET,
					 .data.ptr = c };
		if (epoll_ctl(t->ep, EPOLL_CTL_ADD, fd, &e) < 0) {
			close(fd);
			TAILQ_INSERT_HEAD(&t->free_list, c, link);
			slot_put(t->srv);
			continue;
		}
		t->nconns++;
		TAILQ_INSERT_TAIL(&t->idle, c, link);
		c->last_ns = now;
		ST_INC(t, accepted);
		__atomic_store_n(&t->st.active, t->nconns, __ATOMIC_RELAXED);
	}
}

static void *srv_thread_main(void *arg)
{
	struct srv_thread *t = arg;
	const int64_t idle = t->srv->cfg->timeout_ns, rq_max = t->srv->cfg->request_timeout_ns;
	static __thread char scratch[65536];
	struct epoll_event ev[256];
	int64_t last_sweep = 0;

	while (!__atomic_load_n(&t->srv->stop, __ATOMIC_RELAXED)) {
		int n = epoll_wait(t->ep, ev, 256, 100);
		int64_t now = tw_mono_ns();
		for (int i = 0; i < n; i++) {
			uintptr_t u = (uintptr_t)ev[i].data.ptr;
			if (u & 1)
				do_accept(t, t->lfd[u >> 1], now);
			else
				conn_event(t, ev[i].data.ptr, ev[i].events, scratch, sizeof(scratch),
					   now);
		}
		if (now - last_sweep >= 100 * NS_PER_MS) { /* deadline sweeps, oldest first */
			last_sweep = now;
			while (!TAILQ_EMPTY(&t->rq) &&
			       now - TAILQ_FIRST(&t->rq)->rq_start_ns > rq_max) {
				ST_INC(t, request_timeouts);
				conn_close(t, TAILQ_FIRST(&t->rq), true);
			}
			while (!TAILQ_EMPTY(&t->idle) && now - TAILQ_FIRST(&t->idle)->last_ns > idle) {
				ST_INC(t, timeouts);
				conn_close(t, TAILQ_FIRST(&t->idle), true);
			}
			if (t->paused)
				backlog_note(t);
		}
		if (t->paused && now >= t->resume_ns)
			accept_resume(t, true);
	}
	return NULL;
}

static int listen_one(const struct bench_ep *ep, uint16_t port, int *fd_out, uint16_t *bound)
{
	struct sockaddr_storage ss = ep->addr;
	int one = 1, fd, rc;
	/* written on every path: the analyzer does not know that a failed call's errno is > 0 */
	*fd_out = -1;
	((struct sockaddr_in *)&ss)->sin_port = htons(port); /* same offset in sockaddr_in6 */
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, ep->len) < 0 || listen(fd, 4096) < 0) {
		rc = -errno;
		close(fd);
		return rc;
	}
	if (bound) {
		socklen_t l = sizeof(ss);
		getsockname(fd, (struct sockaddr *)&ss, &l);
		*bound = ntohs(((struct sockaddr_in *)&ss)->sin_port);
	}
	*fd_out = fd;
	return 0;
}

int bench_server_start(const struct bench_cfg *cfg, struct bench_server **out,
		       struct bench_ep *bound)
{
	int nports = cfg->listen.hi - cfg->listen.lo + 1, rc = 0;
	struct bench_server *s;
	int lfd[SRV_MAX_PORTS];

	if (nports > SRV_MAX_PORTS)
		return -E2BIG;
	s = calloc(1, sizeof(*s) + (size_t)cfg->threads * sizeof(s->th[0]));
	if (!s)
		return -ENOMEM;
	s->cfg = cfg;
	s->nth = cfg->threads;
	*bound = cfg->listen;
	for (int i = 0; i < s->nth; i++) {
		struct srv_thread *t = &s->th[i];
		t->srv = s;
		TAILQ_INIT(&t->free_list);
		TAILQ_INIT(&t->idle);
		TAILQ_INIT(&t->rq);
		t->ep = epoll_create1(EPOLL_CLOEXEC);
		if (t->ep < 0) {
			rc = -errno;
			goto out;
		}
		for (int p = 0; p < nports; p++) {
			uint16_t port = (uint16_t)(bound->lo + p), got = 0;
			if (i == 0) {
				rc = listen_one(bound, port, &lfd[p], &got);
				if (rc < 0)
					goto out;
				if (port == 0)
					bound->lo = bound->hi = got;
			}
			t->lfd[p] = lfd[p];
			t->nl++;
			struct epoll_event e = { .events = EPOLLIN | EPOLLEXCLUSIVE,
						 .data.ptr = (void *)(((uintptr_t)p << 1) | 1) };
			if (epoll_ctl(t->ep, EPOLL_CTL_ADD, t->lfd[p], &e) < 0) {
				rc = -errno;
				goto out;
			}
		}
		t->head_close_len = (size_t)bench_http_resp_head(t->head_close,
								 sizeof(t->head_close),
								 cfg->response, true);
		t->head_keep_len = (size_t)bench_http_resp_head(t->head_keep, sizeof(t->head_keep),
								cfg->response, false);
	}
	for (int i = 0; i < s->nth; i++) {
		rc = -pthread_create(&s->th[i].tid, NULL, srv_thread_main, &s->th[i]);
		if (rc < 0)
			goto out;
		s->th[i].started = true;
	}
out:
	if (rc < 0) {
		bench_server_stop(s);
		return rc;
	}
	*out = s;
	return 0;
}

void bench_server_stats(const struct bench_server *s, struct bench_srv_stats *st)
{
	memset(st, 0, sizeof(*st));
	for (int i = 0; i < s->nth; i++) {
		const struct bench_srv_stats *x = &s->th[i].st;
#define L(f) st->f += __atomic_load_n(&x->f, __ATOMIC_RELAXED)
		L(accepted);
		L(requests);
		L(closed);
		L(bad_requests);
		L(timeouts);
		L(resets);
		L(rejected);
		L(active);
		L(full);
		L(emfile);
		L(request_timeouts);
		L(too_large);
#undef L
		uint64_t b = __atomic_load_n(&x->backlog_max, __ATOMIC_RELAXED);
		if (b > st->backlog_max)
			st->backlog_max = b;
	}
	st->active_max = __atomic_load_n(&s->held_max, __ATOMIC_RELAXED);
}

void bench_server_stop(struct bench_server *s)
{
	if (!s)
		return;
	__atomic_store_n(&s->stop, 1, __ATOMIC_RELAXED);
	for (int i = 0; i < s->nth; i++) {
		struct srv_thread *t = &s->th[i];
		if (t->started)
			pthread_join(t->tid, NULL);
		while (!TAILQ_EMPTY(&t->idle))
			conn_close(t, TAILQ_FIRST(&t->idle), false);
		for (int p = 0; i == 0 && p < t->nl; p++)
			close(t->lfd[p]); /* shared: thread 0's copy owns them */
		if (t->ep > 0)
			close(t->ep);
		for (int k = 0; k < t->nchunks; k++)
			free(t->chunks[k]);
		free(t->chunks);
	}
	free(s);
}
