/*
 * tw_churn — test helper: make N short TCP connections to a listener it owns, closing the
 * client side first (client TIME-WAIT) or the server side first (server TIME-WAIT), at a
 * bounded rate, optionally keeping K connections established, then holding them for a while.
 * The listener can live in another named network namespace (-L), so one process can stand
 * on both sides of a veth pair. Used by tests/e2e only.
 *
 * usage: tw_churn -a ADDR -p PORT [-L NETNS] [-b SRCADDR] [-n N] [-r RATE] [-s] [-e K]
 *                 [-H SECONDS] [-w]
 * -w: the client closes and the server never does, so the client's orphan sits in FIN_WAIT2
 *     (a TIME-WAIT minisocket in the FIN_WAIT2 substate, spec §1.1) until -H ends.
 * Prints "made N, failed F, errno E" and exits 0 when every connection worked.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "kernel/netns.h"

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	const char *addr = "127.0.0.1", *lns = NULL, *src = NULL;
	int port = 0, n = 100, server_first = 0, estab = 0, opt, saved = -1, lfd, fw2 = 0;
	double rate = 0, hold = 0;
	struct sockaddr_in sa = { .sin_family = AF_INET };
	int one = 1, made = 0, failed = 0, last_errno = 0;

	while ((opt = getopt(argc, argv, "a:p:L:b:n:r:se:H:w")) != -1) {
		switch (opt) {
		case 'a': addr = optarg; break;
		case 'p': port = atoi(optarg); break;
		case 'L': lns = optarg; break;
		case 'b': src = optarg; break;
		case 'n': n = atoi(optarg); break;
		case 'r': rate = atof(optarg); break;
		case 's': server_first = 1; break;
		case 'e': estab = atoi(optarg); break;
		case 'H': hold = atof(optarg); break;
		case 'w': fw2 = 1; break;
		default: fprintf(stderr, "tw_churn: bad option\n"); return 2;
		}
	}
	if (port <= 0 || port > 65535 || inet_pton(AF_INET, addr, &sa.sin_addr) != 1 || n < 0 ||
	    n > 200000 || estab < 0 || estab > 10000 || hold < 0 || hold > 600) {
		fprintf(stderr, "tw_churn: bad arguments\n");
		return 2;
	}
	sa.sin_port = htons((uint16_t)port);
	if (lns && kns_enter(lns, &saved) < 0) {
		fprintf(stderr, "tw_churn: cannot enter netns %s\n", lns);
		return 3;
	}
	lfd = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(lfd, 4096) < 0) {
		perror("tw_churn: listen");
		return 3;
	}
	if (saved >= 0)
		kns_leave(saved);
	if (fw2)
		estab = n, n = 0; /* every connection is kept: the server side stays open */
	int *keep = calloc((size_t)estab * 2 + 2, sizeof(int));
	double t0 = now_s();
	for (int i = 0; i < n + estab; i++) {
		int c = socket(AF_INET, SOCK_STREAM, 0), a;
		char b;
		if (src) {
			struct sockaddr_in ca = { .sin_family = AF_INET };
			inet_pton(AF_INET, src, &ca.sin_addr);
			setsockopt(c, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(one));
			if (bind(c, (struct sockaddr *)&ca, sizeof(ca)) < 0) {
				perror("tw_churn: bind");
				return 3;
			}
		}
		if (connect(c, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
			failed++;
			last_errno = errno;
			close(c);
			continue;
		}
		a = accept(lfd, NULL, NULL);
		if (a < 0) {
			perror("tw_churn: accept");
			return 3;
		}
		if (i >= n) { /* keep established */
			if (fw2) {
				close(c);
				c = -1;
				made++;
			}
			keep[2 * (i - n)] = c;
			keep[2 * (i - n) + 1] = a;
			continue;
		}
		if (server_first) {
			close(a);
			if (read(c, &b, 1) < 0) { /* wait for the server's FIN */
			}
			close(c);
		} else {
			close(c);
			if (read(a, &b, 1) < 0) { /* wait for the client's FIN */
			}
			close(a);
		}
		made++;
		if (rate > 0) {
			double due = t0 + (i + 1) / rate, w = due - now_s();
			if (w > 0) {
				struct timespec ts = { (time_t)w, (long)((w - (time_t)w) * 1e9) };
				nanosleep(&ts, NULL);
			}
		}
	}
	printf("made %d, failed %d, errno %d\n", made, failed, last_errno);
	fflush(stdout);
	if (hold > 0) {
		struct timespec ts = { (time_t)hold, (long)((hold - (time_t)hold) * 1e9) };
		nanosleep(&ts, NULL);
	}
	for (int i = 0; i < 2 * estab; i++)
		if (keep[i] > 0)
			close(keep[i]);
	free(keep);
	close(lfd);
	return failed ? 1 : 0;
}
