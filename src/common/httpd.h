/*
 * httpd — one text page over HTTP, made anew for each request (libmicrohttpd): what a
 * Prometheus scrape of `twkit doctor --listen` reads. GET or HEAD of the page's path answers
 * 200 with what the page function writes; `/` answers with a pointer to it; other paths 404,
 * other methods 405. Requests are served one at a time on one thread of the library's, so the
 * page function needs no locking. Nothing here prints: errors come back as text.
 */
#ifndef TWKIT_COMMON_HTTPD_H
#define TWKIT_COMMON_HTTPD_H

#include <stddef.h>
#include <stdio.h>
#include <sys/socket.h>

/* Write the page to out; 0, or -1 with a one-line reason in err (answered as 500). */
typedef int (*httpd_page_fn)(void *arg, FILE *out, char *err, size_t el);

struct httpd;

/* A listening TCP socket on addr (SO_REUSEADDR), or -errno with err filled ("cannot listen
 * on ADDR: reason"). Separate from httpd_start so that a caller may change namespace between
 * the two: the socket stays where it was made. */
int httpd_listen(const struct sockaddr_storage *addr, socklen_t len, char *err, size_t el);
/* Serve page at path ("/metrics") with content_type on listening socket fd (taken over, also
 * on failure). NULL on failure, with err filled. */
struct httpd *httpd_start(int fd, const char *path, const char *content_type, httpd_page_fn fn,
			  void *arg, char *err, size_t el);
/* Stop serving (waits for a request in progress) and close the socket. */
void httpd_stop(struct httpd *h);

#endif
