/*
 * tcp_probe — test helper: one TCP connect() to IPv4 ADDR:PORT and its outcome, for
 * tests/e2e/trace.bats. Blocking by default; -n makes it non-blocking (the result then comes
 * from poll() and SO_ERROR, the kernel's asynchronous error report). -u MS sets
 * TCP_USER_TIMEOUT, which bounds how long an unanswered SYN is retransmitted.
 *
 * -c N connects N times, to PORT, PORT+1, ... (N distinct destinations), and prints one line
 * per distinct outcome with its count ("ECONNREFUSED 8300"), for the bounded-table tests.
 *
 * usage: tcp_probe [-n] [-u MS] [-c N] ADDR PORT
 * Prints "connected" or the errno's name (ECONNREFUSED, ETIMEDOUT, ...) and exits 0; exits 2
 * on bad arguments. Waits at most 30 s per connect.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int usage(void)
{
	fprintf(stderr, "usage: tcp_probe [-n] [-u MS] ADDR PORT\n");
	return 2;
}

static const char *outcome(int err)
{
	const char *n = err ? strerrorname_np(err) : "connected";

	return n ? n : "unknown";
}

/* One connect; its errno (0: connected, -1: no answer in 30 s, -2: socket() failed). */
static int probe(struct sockaddr_in sin, int nonblock, long umsec);

int main(int argc, char **argv)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	int nonblock = 0, opt;
	long umsec = 0, port, count = 0;
	char *end;

	while ((opt = getopt(argc, argv, "nu:c:")) != -1) {
		if (opt == 'n') {
			nonblock = 1;
		} else if (opt == 'u') {
			umsec = strtol(optarg, &end, 10);
			if (*end || umsec <= 0 || umsec > 30000)
				return usage();
		} else if (opt == 'c') {
			count = strtol(optarg, &end, 10);
			if (*end || count < 1 || count > 60000)
				return usage();
		} else {
			return usage();
		}
	}
	if (argc - optind != 2 || inet_pton(AF_INET, argv[optind], &sin.sin_addr) != 1)
		return usage();
	port = strtol(argv[optind + 1], &end, 10);
	if (*end || port < 1 || port > 65535 || port + (count ? count : 1) - 1 > 65535)
		return usage();
	if (count) {
		/* outcomes by errno value (0..4095), then printed by name */
		static long seen[4096];
		long none = 0;

		for (long i = 0; i < count; i++) {
			sin.sin_port = htons((unsigned short)(port + i));
			int e = probe(sin, nonblock, umsec);

			if (e < 0 || e >= 4096)
				none++;
			else
				seen[e]++;
		}
		for (int e = 0; e < 4096; e++)
			if (seen[e])
				printf("%s %ld\n", outcome(e), seen[e]);
		if (none)
			printf("other %ld\n", none);
		return 0;
	}
	sin.sin_port = htons((unsigned short)port);
	int e = probe(sin, nonblock, umsec);

	if (e == -2)
		return 1;
	printf("%s\n", e == -1 ? "no-answer-in-30s" : outcome(e));
	return 0;
}

static int probe(struct sockaddr_in sin, int nonblock, long umsec)
{
	int fd, err = 0;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | (nonblock ? SOCK_NONBLOCK : 0), 0);
	if (fd < 0) {
		perror("socket");
		return -2;
	}
	if (umsec) {
		unsigned int u = (unsigned int)umsec;

		if (setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &u, sizeof(u)) != 0) {
			perror("TCP_USER_TIMEOUT");
			close(fd);
			return -2;
		}
	}
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) != 0) {
		err = errno;
		if (err == EINPROGRESS) {
			struct pollfd p = { .fd = fd, .events = POLLOUT };
			socklen_t len = sizeof(err);

			if (poll(&p, 1, 30000) != 1) {
				close(fd); /* ours, not the kernel's */
				return -1;
			} else if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0)
				err = errno;
		}
	}
	close(fd);
	return err;
}
