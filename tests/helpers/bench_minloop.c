/*
 * bench_minloop — the kernel's own ceiling for bench/bench-vs-peers: the smallest blocking
 * client there is, one connect/write/read/close loop per thread, speaking bench's raw
 * protocol (so `twkit bench serve` answers it). No epoll, no timers, no statistics beyond a
 * count: what twkit bench must come close to.
 *   bench_minloop ADDR PORT SECONDS THREADS [REQUEST RESPONSE]
 * Prints "connections N rate R/s user_us_per_conn U failed F".
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "bench/bench_proto.h"

struct ml_arg {
	struct sockaddr_in dst;
	double seconds;
	uint32_t req, resp;
	unsigned long n, failed;
};

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void *ml_loop(void *p)
{
	struct ml_arg *a = p;
	static __thread char buf[65536];
	double end = now_s() + a->seconds;
	memset(buf, 0, sizeof(buf));
	bench_raw_hdr_encode((uint8_t *)buf, a->req, a->resp, 0);
	while (now_s() < end) {
		for (int k = 0; k < 64; k++) { /* check the clock every 64 connections */
			int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
			uint32_t got = 0;
			ssize_t r = 0;
			if (fd < 0) {
				a->failed++;
				continue;
			}
			setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
			if (connect(fd, (struct sockaddr *)&a->dst, sizeof(a->dst)) < 0 ||
			    write(fd, buf, a->req) != (ssize_t)a->req) {
				a->failed++;
				close(fd);
				continue;
			}
			while (got < a->resp && (r = read(fd, buf + 16, sizeof(buf) - 16)) > 0)
				got += (uint32_t)r;
			if (got < a->resp)
				a->failed++;
			else
				a->n++;
			close(fd);
		}
	}
	return NULL;
}

int main(int argc, char **argv)
{
	struct ml_arg args[64];
	pthread_t tid[64];
	struct rusage ru;
	unsigned long n = 0, failed = 0;
	int threads;
	double t0, el, user;

	if (argc < 5) {
		fprintf(stderr, "usage: bench_minloop ADDR PORT SECONDS THREADS [REQUEST RESPONSE]\n");
		return 2;
	}
	threads = atoi(argv[4]);
	if (threads < 1 || threads > 64)
		return 2;
	for (int i = 0; i < threads; i++) {
		memset(&args[i], 0, sizeof(args[i]));
		args[i].dst.sin_family = AF_INET;
		args[i].dst.sin_port = htons((uint16_t)atoi(argv[2]));
		if (inet_pton(AF_INET, argv[1], &args[i].dst.sin_addr) != 1)
			return 2;
		args[i].seconds = atof(argv[3]);
		args[i].req = argc > 6 ? (uint32_t)atoi(argv[5]) : 64;
		args[i].resp = argc > 6 ? (uint32_t)atoi(argv[6]) : 64;
		if (args[i].req < 16 || args[i].req > 65536 - 16)
			return 2;
	}
	t0 = now_s();
	for (int i = 0; i < threads; i++)
		pthread_create(&tid[i], NULL, ml_loop, &args[i]);
	for (int i = 0; i < threads; i++) {
		pthread_join(tid[i], NULL);
		n += args[i].n;
		failed += args[i].failed;
	}
	el = now_s() - t0;
	getrusage(RUSAGE_SELF, &ru);
	user = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6;
	printf("connections %lu rate %.0f user_us_per_conn %.3f failed %lu\n", n, n / el,
	       n ? user * 1e6 / (double)n : 0.0, failed);
	return 0;
}
