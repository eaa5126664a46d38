/*
 * httpd — one text page over HTTP with libmicrohttpd (see httpd.h).
 */
#include "common/httpd.h"
#include "common/units.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct httpd {
	struct MHD_Daemon *d;
	const char *path, *type;
	httpd_page_fn fn;
	void *arg;
};

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
	if (bind(fd, (const struct sockaddr *)addr, len) < 0 || listen(fd, 16) < 0) {
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
	(void)version;
	(void)upload;
	(void)state;
	if (*upload_len) { /* a body nobody asked for: drop it, answer once it is in */
		*upload_len = 0;
		return MHD_YES;
	}
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

struct httpd *httpd_start(int fd, const char *path, const char *content_type, httpd_page_fn fn,
			  void *arg, char *err, size_t el)
{
	/* zeroed for the analyzer, which does not see getsockname() fill it (glibc passes the
	 * address as a transparent union) */
	struct sockaddr_storage a = { 0 };
	socklen_t alen = sizeof(a);
	struct httpd *h = calloc(1, sizeof(*h));
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD;
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
	/* one polling thread and no thread per connection: requests are served in turn */
	h->d = MHD_start_daemon(flags, 0, NULL, NULL, on_request, h, MHD_OPTION_LISTEN_SOCKET, fd,
				MHD_OPTION_CONNECTION_LIMIT, (unsigned)16,
				MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)30, MHD_OPTION_END);
	if (!h->d) {
		close(fd);
		free(h);
		snprintf(err, el, "the HTTP server (libmicrohttpd) did not start");
		return NULL;
	}
	return h;
}

void httpd_stop(struct httpd *h)
{
	if (!h)
		return;
	MHD_stop_daemon(h->d); /* closes the listening socket too */
	free(h);
}
