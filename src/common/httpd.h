/*
 * httpd — one text page over HTTP, made anew for each request (libmicrohttpd): what a
 * Prometheus scrape of `twkit doctor --listen` reads. GET or HEAD of the page's path answers
 * 200 with what the page function writes; `/` answers with a pointer to it; other paths 404,
 * other methods 405. It runs in the caller's thread (httpd_serve), serving requests one at a
 * time, so the page function needs no locking; idle and slow connections cannot starve it
 * (each has a short deadline for its request, see httpd.c). Nothing here prints: errors come
 * back as text.
 */
#ifndef TWKIT_COMMON_HTTPD_H
#define TWKIT_COMMON_HTTPD_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>

/* Write the page to out; 0, or -1 with a one-line reason in err (answered as 500). */
typedef int (*httpd_page_fn)(void *arg, FILE *out, char *err, size_t el);

struct httpd;

/* A listening TCP socket on addr (SO_REUSEADDR), or -errno with err filled ("cannot listen
 * on ADDR: reason"). Separate from httpd_start so that a caller may change namespace between
 * the two: the socket stays where it was made. */
int httpd_listen(const struct sockaddr_storage *addr, socklen_t len, char *err, size_t el);
/* Get ready to serve page at path ("/metrics") with content_type on listening socket fd
 * (taken over, also on failure); nothing is served until httpd_serve. NULL on failure, with
 * err filled. */
struct httpd *httpd_start(int fd, const char *path, const char *content_type, httpd_page_fn fn,
			  void *arg, char *err, size_t el);
/* Serve in this thread until *stop is set (a signal handler's flag: it is seen within
 * 100 ms, at once when the signal interrupts the wait). 0, or -EIO if the library failed. */
int httpd_serve(struct httpd *h, const volatile sig_atomic_t *stop);
/* Connections shut down so far because their request was not in by its deadline. */
uint64_t httpd_deadline_cuts(const struct httpd *h);
/* Close the socket and every connection; free h (NULL: no-op). */
void httpd_stop(struct httpd *h);

#endif
