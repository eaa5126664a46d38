/*
 * httpd — one text page over HTTP with libmicrohttpd (see httpd.h).
 *
 * Why it cannot be starved: libmicrohttpd runs without a thread of its own, driven by
 * httpd_serve() in the caller's thread over epoll, so an idle or slow connection costs one
 * file descriptor and a little memory, never a thread and never the loop's attention; up to
 * HTTPD_MAX_CONNS of them (HTTPD_MAX_PER_IP from one address) are held at once. Each is
 * closed when it sends nothing for HTTPD_IDLE_S seconds (the library's timeout) and when its
 * request is not complete HTTPD_REQUEST_MS after it connected or after its previous answer,
 * however steadily it drips bytes (our deadline: the socket is shut down, the library then
 * closes it). A page is made in the loop itself: requests are served one at a time, so the
 * page function needs no locking, and a scrape waits only for the scrape before it.
 */
#include "common/httpd.h"
#include "common/units.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

/* Connections held at once: far above what scrapers need, far below the fds a process may
 * open; lowered to fit RLIMIT_NOFILE. */
#define HTTPD_MAX_CONNS 512u
/* From one address: 100 misbehaving connections from one host leave room for its scrapes,
 * and four hosts are needed to fill the table. */
#define HTTPD_MAX_PER_IP 128u
/* Seconds without a byte before the library closes a connection. A scraper sends its
 * request at once; Prometheus' keep-alive connection is then closed between scrapes (15 s
 * apart or more) and opened again, which costs one handshake on loopback or a LAN. */
#define HTTPD_IDLE_S 3u
/* Milliseconds a connection has for its whole request (line, headers, any body), counted
 * from the connect or from the end of its previous answer: a scrape is a few hundred bytes. */
#define HTTPD_REQUEST_MS 5000
/* Longest wait of the loop: how late a deadline or a stop request is seen at worst. */
#define HTTPD_TICK_MS 100

/* One accepted connection (the library's socket context), on the list until it closes. */
struct hconn {
	struct hconn *next, **pprev;
	int fd;
	int64_t since_ms; /* connect, or the end of the previous answer */
	bool in_request;  /* its request is complete: it is being answered */
	bool cut;	  /* shut down for its deadline */
};

struct httpd {
	struct MHD_Daemon *d;
	const char *path, *type;
	httpd_page_fn fn;
	void *arg;
	struct hconn *conns;
	unsigned nconns, max_conns;
	uint64_t cut_total;
};

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int httpd_listen(const struct sockaddr_storage *addr, socklen_t len, char *err, size_t el)
{
	char where[INET6_ADDRSTRLEN + 16];
	/* sin_port and sin6_port are at the same place */
	unsigned port = ntohs(((const struct sockaddr_in *)addr)->sin_port);
	int one = 1, fd, e;
	units_fmt_ipport(where, sizeof(where), addr, port, port);
	fd = socket(addr->ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		e = errno;
		snprintf(err, el, "cannot listen on %s: %s", where, strerror(e));
		return -e;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (addr->ss_family == AF_INET6) /* [::] means IPv6 only, as written */
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, (const struct sockaddr *)addr, len) < 0 || listen(fd, 512) < 0) {
		e = errno;
		snprintf(err, el, "cannot listen on %s: %s", where, strerror(e));
		close(fd);
		return -e;
	}
	return fd;
}

static enum MHD_Result reply(struct MHD_Connection *c, unsigned status, const char *type,
			     char *body, size_t len, enum MHD_ResponseMemoryMode mode)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(len, body, mode);
	enum MHD_Result ret;
	if (!r) {
		if (mode == MHD_RESPMEM_MUST_FREE)
			free(body);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version, const char *upload,
				  size_t *upload_len, void **state)
{
	struct httpd *h = cls;
	static const char text[] = "text/plain; charset=utf-8";
	char *buf = NULL, err[512] = "", msg[600];
	size_t len = 0;
	FILE *out;
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	static char seen; /* *state once the headers are in */
	(void)version;
	(void)upload;
	if (!*state) {
		/* the headers are in; answer on the next call, once any body is in too: a
		 * response queued before the request ends would close the connection */
		*state = &seen;
		return MHD_YES;
	}
	if (*upload_len) { /* a body nobody asked for: drop it */
		*upload_len = 0;
		return MHD_YES;
	}
	if (ci && ci->socket_context) /* the whole request is in: its deadline is met */
		((struct hconn *)ci->socket_context)->in_request = true;
	if (strcmp(method, MHD_HTTP_METHOD_GET) && strcmp(method, MHD_HTTP_METHOD_HEAD)) {
		static char m[] = "only GET and HEAD are served here\n";
		return reply(c, MHD_HTTP_METHOD_NOT_ALLOWED, text, m, sizeof(m) - 1,
			     MHD_RESPMEM_PERSISTENT);
	}
	if (!strcmp(url, "/")) {
		len = (size_t)snprintf(msg, sizeof(msg), "twkit: the page is at %s\n", h->path);
		return reply(c, MHD_HTTP_OK, text, msg, len, MHD_RESPMEM_MUST_COPY);
	}
	if (strcmp(url, h->path)) {
		len = (size_t)snprintf(msg, sizeof(msg), "not found; the page is at %s\n", h->path);
		return reply(c, MHD_HTTP_NOT_FOUND, text, msg, len, MHD_RESPMEM_MUST_COPY);
	}
	out = open_memstream(&buf, &len);
	if (!out)
		return MHD_NO;
	if (h->fn(h->arg, out, err, sizeof(err)) < 0) {
		fclose(out);
		free(buf);
		len = (size_t)snprintf(msg, sizeof(msg), "%s\n", err[0] ? err : "failed");
		return reply(c, MHD_HTTP_INTERNAL_SERVER_ERROR, text, msg,
			     len < sizeof(msg) ? len : sizeof(msg) - 1, MHD_RESPMEM_MUST_COPY);
	}
	if (fclose(out) != 0) {
		free(buf);
		return MHD_NO;
	}
	return reply(c, MHD_HTTP_OK, h->type, buf, len, MHD_RESPMEM_MUST_FREE);
}

/* A connection opens or closes: keep the list the deadlines are checked on. */
static void on_connection(void *cls, struct MHD_Connection *c, void **ctx,
			  enum MHD_ConnectionNotificationCode code)
{
	struct httpd *h = cls;
	struct hconn *k = *ctx;
	if (code == MHD_CONNECTION_NOTIFY_STARTED) {
		const union MHD_ConnectionInfo *ci =
			MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
		if (!ci || !(k = calloc(1, sizeof(*k))))
			return; /* no deadline for it, the idle timeout still applies */
		k->fd = ci->connect_fd;
		k->since_ms = now_ms();
		k->next = h->conns;
		if (h->conns)
			h->conns->pprev = &k->next;
		k->pprev = &h->conns;
		h->conns = k;
		h->nconns++;
		*ctx = k;
	} else if (code == MHD_CONNECTION_NOTIFY_CLOSED && k) {
		*k->pprev = k->next;
		if (k->next)
			k->next->pprev = k->pprev;
		h->nconns--;
		free(k);
		*ctx = NULL;
	}
}

/* An answer is sent (or abandoned): a kept-alive connection has a new deadline for its next
 * request. */
static void on_completed(void *cls, struct MHD_Connection *c, void **state,
			 enum MHD_RequestTerminationCode toe)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	struct hconn *k = ci ? ci->socket_context : NULL;
	(void)cls;
	(void)state;
	(void)toe;
	if (k) {
		k->in_request = false;
		k->since_ms = now_ms();
	}
}

/* Shut down the connections whose request is late. Called between runs of the library, in
 * the thread that runs it: every fd on the list is still the library's (it tells us of a
 * close before it closes), and shutdown() leaves the fd to it to close. */
static void enforce_deadlines(struct httpd *h)
{
	int64_t now = now_ms();
	for (struct hconn *k = h->conns; k; k = k->next)
		if (!k->in_request && !k->cut && now - k->since_ms >= HTTPD_REQUEST_MS) {
			shutdown(k->fd, SHUT_RDWR);
			k->cut = true;
			h->cut_total++;
		}
}

struct httpd *httpd_start(int fd, const char *path, const char *content_type, httpd_page_fn fn,
			  void *arg, char *err, size_t el)
{
	/* zeroed for the analyzer, which does not see getsockname() fill it (glibc passes the
	 * address as a transparent union) */
	struct sockaddr_storage a = { 0 };
	socklen_t alen = sizeof(a);
	struct httpd *h = calloc(1, sizeof(*h));
	/* no thread of the library's: httpd_serve() runs it (see the top of this file) */
	unsigned flags = MHD_USE_EPOLL;
	struct rlimit rl;
	if (!h) {
		close(fd);
		snprintf(err, el, "out of memory");
		return NULL;
	}
	if (getsockname(fd, (struct sockaddr *)&a, &alen) == 0 && a.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	h->path = path;
	h->type = content_type;
	h->fn = fn;
	h->arg = arg;
	/* room for the page's own files (netlink, /proc, a capture) beside the connections */
	h->max_conns = HTTPD_MAX_CONNS;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
	    rl.rlim_cur < HTTPD_MAX_CONNS + 64)
		h->max_conns = rl.rlim_cur > 64 + 16 ? (unsigned)rl.rlim_cur - 64 : 16;
	h->d = MHD_start_daemon(
		flags, 0, NULL, NULL, on_request, h, MHD_OPTION_LISTEN_SOCKET, fd,
		MHD_OPTION_CONNECTION_LIMIT, h->max_conns, MHD_OPTION_PER_IP_CONNECTION_LIMIT,
		h->max_conns < HTTPD_MAX_PER_IP ? h->max_conns : HTTPD_MAX_PER_IP,
		MHD_OPTION_CONNECTION_TIMEOUT, HTTPD_IDLE_S, MHD_OPTION_NOTIFY_CONNECTION,
		on_connection, h, MHD_OPTION_NOTIFY_COMPLETED, on_completed, h, MHD_OPTION_END);
	if (!h->d) {
		close(fd);
		free(h);
		snprintf(err, el, "the HTTP server (libmicrohttpd) did not start");
		return NULL;
	}
	return h;
}

int httpd_serve(struct httpd *h, const volatile sig_atomic_t *stop)
{
	while (!*stop) {
		/* a signal ends the wait early (EINTR): the flag is then seen at once */
		if (MHD_run_wait(h->d, HTTPD_TICK_MS) != MHD_YES && errno != EINTR)
			return -EIO;
		enforce_deadlines(h);
	}
	return 0;
}

uint64_t httpd_deadline_cuts(const struct httpd *h)
{
	return h->cut_total;
}

void httpd_stop(struct httpd *h)
{
	if (!h)
		return;
	MHD_stop_daemon(h->d); /* closes the listening socket and every connection */
	while (h->conns) {	/* in case a close was not notified */
		struct hconn *k = h->conns;
		h->conns = k->next;
		free(k);
	}
	free(h);
}
