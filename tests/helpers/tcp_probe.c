/*
 * tcp_probe — test helper: one TCP connect() to IPv4 ADDR:PORT and its outcome, for
 * tests/e2e/trace.bats. Blocking by default; -n makes it non-blocking (the result then comes
 * from poll() and SO_ERROR, the kernel's asynchronous error report). -u MS sets
 * TCP_USER_TIMEOUT, which bounds how long an unanswered SYN is retransmitted.
 *
 * usage: tcp_probe [-n] [-u MS] ADDR PORT
 * Prints "connected" or the errno's name (ECONNREFUSED, ETIMEDOUT, ...) and exits 0; exits 2
 * on bad arguments. Waits at most 30 s.
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

static void outcome(int err)
{
	const char *n = err ? strerrorname_np(err) : "connected";

	printf("%s\n", n ? n : "unknown");
}

int main(int argc, char **argv)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	int nonblock = 0, opt, fd, err = 0;
	long umsec = 0, port;
	char *end;

	while ((opt = getopt(argc, argv, "nu:")) != -1) {
		if (opt == 'n') {
			nonblock = 1;
		} else if (opt == 'u') {
			umsec = strtol(optarg, &end, 10);
			if (*end || umsec <= 0 || umsec > 30000)
				return usage();
		} else {
			return usage();
		}
	}
	if (argc - optind != 2 || inet_pton(AF_INET, argv[optind], &sin.sin_addr) != 1)
		return usage();
	port = strtol(argv[optind + 1], &end, 10);
	if (*end || port < 1 || port > 65535)
		return usage();
	sin.sin_port = htons((unsigned short)port);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | (nonblock ? SOCK_NONBLOCK : 0), 0);
	if (fd < 0) {
		perror("socket");
		return 1;
	}
	if (umsec) {
		unsigned int u = (unsigned int)umsec;

		if (setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &u, sizeof(u)) != 0) {
			perror("TCP_USER_TIMEOUT");
			return 1;
		}
	}
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) != 0) {
		err = errno;
		if (err == EINPROGRESS) {
			struct pollfd p = { .fd = fd, .events = POLLOUT };
			socklen_t len = sizeof(err);

			if (poll(&p, 1, 30000) != 1) {
				printf("no-answer-in-30s\n"); /* ours, not the kernel's */
				close(fd);
				return 0;
			} else if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0)
				err = errno;
		}
	}
	outcome(err);
	close(fd);
	return 0;
}
