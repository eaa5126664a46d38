/*
 * fd_hold — test helper: hold N established loopback TCP connections (both ends in this
 * process, so 2N sockets and 2N file descriptors) for doctor's fd-limit finding, and measure
 * where RLIMIT_NOFILE stops this process. Listens on 127.0.0.1:0, connects to itself N times,
 * optionally tries to open K more sockets (-x K, closed again at once), then holds until stdin
 * reaches end of file or the timeout passes. Used by tests/e2e only.
 *
 * usage: fd_hold -n N [-x K] [-t SECONDS]
 * Prints one line per step, F being the file descriptors open and L the soft RLIMIT_NOFILE:
 *   ready: N connections, 2N sockets, F fds open, limit L
 *   probe: opened X of K more sockets[, then EMFILE], F fds open, limit L
 *   failed: connection I of N: socket|connect|accept: EMFILE, F fds open, limit L  (exit 1)
 * Exits 0 after holding, 1 when the connections could not all be made, 2 on bad arguments.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* Bounds that keep a test's socket count and life small. */
#define FD_HOLD_MAX_CONN 10000
#define FD_HOLD_MAX_S 600
/* fds counted at most when reporting (RLIMIT_NOFILE may be huge when unset) */
#define FD_HOLD_SCAN_MAX 1048576

static long soft_limit(void)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur == RLIM_INFINITY)
		return -1;
	return (long)rl.rlim_cur;
}

/* Open descriptors, counted with fcntl: a scan of /proc/self/fd would need one more, which
 * is exactly what is missing after EMFILE. */
static long fds_open(void)
{
	long lim = soft_limit(), n = 0;
	if (lim < 0 || lim > FD_HOLD_SCAN_MAX)
		lim = FD_HOLD_SCAN_MAX;
	for (long fd = 0; fd < lim; fd++)
		if (fcntl((int)fd, F_GETFD) != -1)
			n++;
	return n;
}

static const char *err_name(int e)
{
	return e == EMFILE ? "EMFILE" : e == ENFILE ? "ENFILE" : strerror(e);
}

int main(int argc, char **argv)
{
	int n = -1, extra = 0, opt, lfd, rc = 1;
	double timeout = 30;
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t sl = sizeof(sa);
	int *fds = NULL, nfds = 0;

	while ((opt = getopt(argc, argv, "n:x:t:")) != -1) {
		switch (opt) {
		case 'n': n = atoi(optarg); break;
		case 'x': extra = atoi(optarg); break;
		case 't': timeout = atof(optarg); break;
		default: fprintf(stderr, "fd_hold: bad option\n"); return 2;
		}
	}
	if (n < 0 || n > FD_HOLD_MAX_CONN || extra < 0 || extra > FD_HOLD_MAX_CONN ||
	    !(timeout >= 0 && timeout <= FD_HOLD_MAX_S)) {
		fprintf(stderr, "usage: fd_hold -n N (0-%d) [-x K] [-t SECONDS (0-%d)]\n",
			FD_HOLD_MAX_CONN, FD_HOLD_MAX_S);
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	fds = calloc((size_t)n * 2 + 1, sizeof(int));
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	lfd = socket(AF_INET, SOCK_STREAM, 0);
	if (!fds || lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(lfd, n + 1) < 0 || getsockname(lfd, (struct sockaddr *)&sa, &sl) < 0) {
		printf("failed: listen: %s, %ld fds open, limit %ld\n", err_name(errno), fds_open(),
		       soft_limit());
		goto out;
	}
	for (int i = 0; i < n; i++) {
		const char *step = "socket";
		int c = socket(AF_INET, SOCK_STREAM, 0), a = -1;
		if (c >= 0) {
			step = "connect";
			fds[nfds++] = c;
			if (connect(c, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
				step = "accept";
				a = accept(lfd, NULL, NULL);
			}
		}
		if (a < 0) {
			int e = errno;
			printf("failed: connection %d of %d: %s: %s, %ld fds open, limit %ld\n", i + 1,
			       n, step, err_name(e), fds_open(), soft_limit());
			goto out;
		}
		fds[nfds++] = a;
	}
	printf("ready: %d connections, %d sockets, %ld fds open, limit %ld\n", n, nfds, fds_open(),
	       soft_limit());
	if (extra > 0) {
		int *more = calloc((size_t)extra, sizeof(int)), got = 0, e = 0;
		long open_now;
		for (; more && got < extra; got++) {
			more[got] = socket(AF_INET, SOCK_STREAM, 0);
			if (more[got] < 0) {
				e = errno;
				break;
			}
		}
		open_now = fds_open();
		for (int i = 0; more && i < got; i++)
			close(more[i]);
		free(more);
		printf("probe: opened %d of %d more sockets%s%s, %ld fds open, limit %ld\n", got,
		       extra, e ? ", then " : "", e ? err_name(e) : "", open_now, soft_limit());
	}
	/* hold until stdin ends or the timeout passes */
	struct timespec t0, now;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		struct pollfd p = { .fd = 0, .events = POLLIN };
		char buf[256];
		double left;
		clock_gettime(CLOCK_MONOTONIC, &now);
		left = timeout - (double)(now.tv_sec - t0.tv_sec) - (now.tv_nsec - t0.tv_nsec) / 1e9;
		if (left <= 0)
			break;
		int r = poll(&p, 1, (int)(left * 1000) + 1);
		if (r < 0 && errno != EINTR)
			break;
		if (r > 0 && read(0, buf, sizeof(buf)) <= 0)
			break;
	}
	rc = 0;
out:
	for (int i = 0; i < nfds; i++)
		close(fds[i]);
	if (lfd >= 0)
		close(lfd);
	free(fds);
	return rc;
}
