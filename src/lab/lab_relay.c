/*
 * lab_relay — epoll relay (see lab_relay.h).
 * Invariant: a pair is either free (cfd < 0) or holds a client fd and a backend fd; both are
 * closed together by pair_close(), backend first when the client ended the exchange.
 */
#include "lab/lab_relay.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "common/clock.h"

#ifndef IP_BIND_ADDRESS_NO_PORT
#define IP_BIND_ADDRESS_NO_PORT 24
#endif

#define RELAY_BUF 4096
#define RELAY_LISTEN_TAG UINT32_MAX

struct relay_pair {
	int cfd, bfd;
	char c2b[RELAY_BUF], b2c[RELAY_BUF];
	size_t c2b_len, b2c_len;
	int client_eof, backend_eof;
};

/* Close both sides. first_backend: the client finished, so the FIN goes to the server first. */
static void pair_close(struct relay_pair *p, int first_backend)
{
	if (first_backend) {
		close(p->bfd);
		close(p->cfd);
	} else {
		close(p->cfd);
		close(p->bfd);
	}
	p->cfd = p->bfd = -1;
}

/* Reset the client (SO_LINGER {1,0}) when there is no backend for it. */
static void client_reset(int fd)
{
	struct linger lg = { 1, 0 };

	setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	close(fd);
}

static int listen_on(const struct lab_relay_cfg *cfg)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(cfg->listen_port) };
	int one = 1, fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (inet_pton(AF_INET, cfg->listen, &a.sin_addr) != 1) {
		close(fd);
		return -EINVAL;
	}
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(fd, 4096) < 0) {
		int rc = -errno;

		close(fd);
		return rc;
	}
	return fd;
}

/* Non-blocking connect to backend number n. Returns the fd, or -errno (connect's own). */
static int backend_connect(const struct lab_relay_cfg *cfg, uint64_t n)
{
	struct sockaddr_in src = { .sin_family = AF_INET }, dst = { .sin_family = AF_INET };
	int one = 1, rc, fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -errno;
	dst.sin_port = htons((uint16_t)(cfg->backend_port + n % cfg->backend_ports));
	inet_pton(AF_INET, cfg->backend, &dst.sin_addr);
	if (cfg->nsources > 0) {
		/* §3.3: with IP_BIND_ADDRESS_NO_PORT the port is chosen at connect() per
		 * destination, so each source address has its own budget */
		setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(one));
		inet_pton(AF_INET, cfg->sources[n % cfg->nsources], &src.sin_addr);
		if (bind(fd, (struct sockaddr *)&src, sizeof(src)) < 0)
			goto fail;
	}
	if (connect(fd, (struct sockaddr *)&dst, sizeof(dst)) < 0 && errno != EINPROGRESS)
		goto fail;
	return fd;
fail:
	rc = -errno;
	close(fd);
	return rc;
}

/* Move bytes from fd `from` into buf, then from buf to `to`, until nothing moves: the fds are
 * edge-triggered, so a response and its FIN that arrived together must both be read now (one
 * read per event left the EOF unread and the pair open when the server closed first).
 * Returns -1 when that side is done (EOF or error) and flushed, 0 otherwise. */
static int pump(int from, int to, char *buf, size_t *len, int *eof)
{
	for (;;) {
		bool moved = false;
		ssize_t n;

		if (!*eof && *len < RELAY_BUF) {
			n = read(from, buf + *len, RELAY_BUF - *len);
			if (n > 0) {
				*len += (size_t)n;
				moved = true;
			} else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
				*eof = 1;
				moved = true;
			}
		}
		if (*len > 0) {
			n = send(to, buf, *len, MSG_NOSIGNAL);
			if (n > 0) {
				memmove(buf, buf + n, *len - (size_t)n);
				*len -= (size_t)n;
				moved = true;
			} else if (n < 0 && errno != EAGAIN && errno != EINTR) {
				return -1;
			}
		}
		if (!moved)
			break;
	}
	return *eof && *len == 0 ? -1 : 0;
}

static void report(const struct lab_relay_cfg *cfg, int64_t t0, const struct lab_relay_stats *st)
{
	char line[160];
	int n = snprintf(line, sizeof(line), "relay %.3f %llu %llu %llu %llu\n",
			 (double)(tw_mono_ns() - t0) / 1e9, (unsigned long long)st->accepted,
			 (unsigned long long)st->backend_ok, (unsigned long long)st->backend_fail,
			 (unsigned long long)st->eaddrnotavail);

	if (cfg->report_fd >= 0 && write(cfg->report_fd, line, (size_t)n) != n) {
		/* the parent went away: the stop flag follows */
	}
}

/* Accept every pending client and open its backend connection. */
static void accept_all(const struct lab_relay_cfg *cfg, int lfd, int ep, struct relay_pair *pairs,
		       struct lab_relay_stats *st)
{
	for (;;) {
		int cfd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC), bfd;
		struct epoll_event ev = { .events = EPOLLIN | EPOLLOUT | EPOLLET };
		uint32_t i;

		if (cfd < 0)
			return;
		st->accepted++;
		for (i = 0; i < cfg->max_pairs && pairs[i].cfd >= 0; i++)
			;
		if (i == cfg->max_pairs) {
			client_reset(cfd);
			continue;
		}
		bfd = backend_connect(cfg, st->accepted);
		if (bfd < 0) {
			st->backend_fail++;
			if (bfd == -EADDRNOTAVAIL)
				st->eaddrnotavail++;
			client_reset(cfd);
			continue;
		}
		st->backend_ok++;
		memset(&pairs[i], 0, sizeof(pairs[i]));
		pairs[i].cfd = cfd;
		pairs[i].bfd = bfd;
		ev.data.u64 = (uint64_t)i << 1;
		epoll_ctl(ep, EPOLL_CTL_ADD, cfd, &ev);
		ev.data.u64 = ((uint64_t)i << 1) | 1;
		epoll_ctl(ep, EPOLL_CTL_ADD, bfd, &ev);
	}
}

int lab_relay_run(const struct lab_relay_cfg *cfg, volatile sig_atomic_t *stop,
		  struct lab_relay_stats *st)
{
	struct epoll_event ev = { .events = EPOLLIN }, evs[256];
	struct relay_pair *pairs = NULL;
	int64_t t0 = tw_mono_ns(), next = t0 + 1000000000LL;
	int lfd = -1, ep = -1, rc = 0;

	memset(st, 0, sizeof(*st));
	pairs = calloc(cfg->max_pairs, sizeof(*pairs));
	if (!pairs)
		return -ENOMEM;
	for (uint32_t i = 0; i < cfg->max_pairs; i++)
		pairs[i].cfd = pairs[i].bfd = -1;
	lfd = listen_on(cfg);
	if (lfd < 0) {
		rc = lfd;
		goto out;
	}
	ep = epoll_create1(EPOLL_CLOEXEC);
	if (ep < 0) {
		rc = -errno;
		goto out;
	}
	ev.data.u64 = RELAY_LISTEN_TAG;
	epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev);
	while (!*stop) {
		int n = epoll_wait(ep, evs, 256, 100);

		for (int k = 0; k < n; k++) {
			struct relay_pair *p;
			int dc, db;

			if (evs[k].data.u64 == RELAY_LISTEN_TAG) {
				accept_all(cfg, lfd, ep, pairs, st);
				continue;
			}
			p = &pairs[evs[k].data.u64 >> 1];
			if (p->cfd < 0)
				continue;
			/* edge-triggered: pump both directions until nothing moves */
			dc = pump(p->cfd, p->bfd, p->c2b, &p->c2b_len, &p->client_eof);
			db = pump(p->bfd, p->cfd, p->b2c, &p->b2c_len, &p->backend_eof);
			if (dc < 0 || db < 0)
				pair_close(p, dc < 0);
		}
		if (tw_mono_ns() >= next) {
			report(cfg, t0, st);
			next += 1000000000LL;
		}
	}
	report(cfg, t0, st);
out:
	for (uint32_t i = 0; i < cfg->max_pairs; i++)
		if (pairs[i].cfd >= 0)
			pair_close(&pairs[i], 1);
	if (ep >= 0)
		close(ep);
	if (lfd >= 0)
		close(lfd);
	free(pairs);
	return rc;
}

int lab_relay_parse_line(const char *line, double *t_s, struct lab_relay_stats *st)
{
	unsigned long long a, b, c, d;

	if (sscanf(line, "relay %lf %llu %llu %llu %llu", t_s, &a, &b, &c, &d) != 5)
		return -EINVAL;
	st->accepted = a;
	st->backend_ok = b;
	st->backend_fail = c;
	st->eaddrnotavail = d;
	return 0;
}
