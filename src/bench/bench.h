/*
 * bench — the connection-churn load generator and its server (issue 4).
 *
 * Shape: bench_cfg_parse() turns argv into a const struct bench_cfg (its fields are filled by
 * the typed option table of bench_cfg.c: a choice is an int, a flag a bool, a duration int64_t
 * ns); bench_server_* runs the epoll server threads; bench_client_* runs the epoll client
 * threads; bench_run() drives both, samples once a second (counters, TIME-WAIT through
 * kernel/sockdiag) and fills a struct bench_result that bench_report_* renders. Renderers
 * never compute.
 *
 * Invariant kept by the client: attempted = completed + sum(failed[]) + in_flight, at every
 * sample and at the end. A failed connect is data (a counter by errno), never an abort.
 */
#ifndef TWKIT_BENCH_BENCH_H
#define TWKIT_BENCH_BENCH_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>

#include "bench/bench_cpu.h"
#include "bench/bench_threshold.h"
#include "common/hist.h"
#include "common/series.h"

enum BENCH_MODE { BENCH_MODE_SELF, BENCH_MODE_RUN, BENCH_MODE_SERVE };
enum BENCH_PROTO { BENCH_PROTO_RAW, BENCH_PROTO_HTTP };
enum BENCH_CLOSE { BENCH_CLOSE_CLIENT, BENCH_CLOSE_SERVER };
/* Who picks the source port: connect()'s search, or the application (bench_portsel.h) */
enum BENCH_PORTSEL { BENCH_PORTSEL_KERNEL, BENCH_PORTSEL_APP };
#define BENCH_LINGER_CLIENT 1u
#define BENCH_LINGER_SERVER 2u

#define BENCH_MAX_SOURCES 64
/* Listening ports of one bench serve: each thread holds one descriptor per port in a fixed
 * array, and more than this many server ports is no longer a realistic server */
#define BENCH_MAX_LISTEN_PORTS 1024
#define BENCH_NERRNO 134 /* errno values 0..133 (EHWPOISON) get their own counter */
#define BENCH_PATH_MAX 128

/* An address with a port range: ADDR:PORT[-PORT]. */
struct bench_ep {
	struct sockaddr_storage addr; /* port field is 0; ports come from lo..hi */
	socklen_t len;
	uint16_t lo, hi;
};

struct bench_cfg {
	enum BENCH_MODE mode;
	struct bench_ep target; /* run: where to connect; self: filled once the server listens */
	struct bench_ep listen; /* serve and self */
	int proto;		/* enum BENCH_PROTO */
	uint64_t request, response; /* bytes */
	char path[BENCH_PATH_MAX];
	int close;   /* enum BENCH_CLOSE */
	int linger0; /* BENCH_LINGER_* bits */
	uint32_t requests_per_conn;
	struct sockaddr_storage sources[BENCH_MAX_SOURCES];
	int nsources;
	int bind_no_port;     /* 1 on, 0 off */
	int delayed_ack_mode; /* --delayed-ack: -1 auto, 1 on, 0 off */
	bool delayed_ack;     /* TCP_QUICKACK 0 on client sockets before connect (from the mode) */
	uint16_t lpr_lo, lpr_hi; /* IP_LOCAL_PORT_RANGE, 0-0 = not set */
	int port_select;	 /* enum BENCH_PORTSEL; app: the range is lpr_lo-lpr_hi when set */
	bool calibrate;                 /* --calibrate: measure the search (bench_calibrate.h) */
	uint32_t concurrency;
	double rate; /* 0 = closed loop */
	int64_t duration_ns; /* 0 = until --count is done */
	uint64_t count;      /* 0 = until --duration */
	uint32_t threads;
	int64_t connect_timeout_ns, timeout_ns;
	int64_t request_timeout_ns; /* server: a request arrives whole within this (slowloris) */
	uint64_t max_request;       /* server: larger declared requests are refused */
	uint32_t max_conns;         /* server: connections held at once, all threads */
	bool json, quiet;
	const char *csv, *svg, *matrix;
	int nthreshold;             /* --threshold: pass/fail criteria (bench_threshold.h) */
	struct bench_threshold threshold[BENCH_MAX_THRESHOLDS];
	char name[48]; /* matrix variant name, "" otherwise */
};

/*
 * Parse argv (argv[0] is "bench") into cfg; positional "serve"/"run" choose the mode. Returns 0,
 * 1 when --help was printed, or -EINVAL with a message in err naming what was wrong.
 */
int bench_cfg_parse(int argc, char **argv, struct bench_cfg *cfg, char *err, size_t errlen);
/* Parse argv followed by the options in `words` (a matrix line without its name): later
 * options override. Same returns as bench_cfg_parse. */
int bench_cfg_variant(int argc, char **argv, const char *words, struct bench_cfg *cfg,
		      char *err, size_t errlen);
/* "127.0.0.1:8080-8083" (or [v6]) -> ep. 0 or -EINVAL. */
int bench_ep_parse(const char *s, struct bench_ep *ep);
/* ep as "ADDR:LO[-HI]" into buf. */
char *bench_ep_fmt(const struct bench_ep *ep, char *buf, size_t len);

/* Client counters of one thread, or their sum. Written by the owner thread only. */
struct bench_stats {
	uint64_t attempted, completed, in_flight, requests, non2xx;
	uint64_t bytes_in, bytes_out;
	uint64_t failed[BENCH_NERRNO];
	struct hist connect, first_byte, exchange; /* ns, from the intended start */
	uint64_t ports[1024];                      /* bitmap of source ports used */
	/* --port-select app: ports bind() or connect() refused (the cursor moved on), by errno,
	 * and connections that gave up after BENCH_PS_TRIES ports */
	uint64_t ps_bind_failed[BENCH_NERRNO], ps_connect_failed[BENCH_NERRNO];
	uint64_t ps_exhausted;
};
/* sum of failed[] */
uint64_t bench_stats_failed(const struct bench_stats *s);
/* Add src into dst (counters, histograms, port bitmap). */
void bench_stats_merge(struct bench_stats *dst, const struct bench_stats *src);
/* Distinct source ports in the bitmap. */
uint32_t bench_stats_ports(const struct bench_stats *s);
/* "EADDRNOTAVAIL" for an errno, "E123" when unnamed. buf needs 16 bytes. */
const char *bench_errno_name(int e, char *buf, size_t len);

/* Server counters (summed over threads by bench_server_stats; active_max is the peak of
 * the connections held by all threads together). */
struct bench_srv_stats {
	uint64_t accepted, requests, closed, bad_requests, timeouts, resets, rejected;
	uint64_t active, active_max;
	uint64_t full;             /* times accepting paused: --max-conns held */
	uint64_t emfile;           /* times accept() failed on the fd limit (EMFILE, ENFILE...) */
	uint64_t backlog_max;      /* clients waiting in the accept queues while paused, peak */
	uint64_t request_timeouts; /* requests not whole within --request-timeout */
	uint64_t too_large;        /* requests declaring more than --max-request */
};

/*
 * The connections a server may hold when nofile descriptors are allowed and `reserved` are
 * taken by everything else (open already, listeners, epoll, a self-hosted client): want, or
 * nofile - reserved when that is less, and at least 1.
 */
uint32_t bench_max_conns_fit(uint32_t want, uint64_t nofile, uint64_t reserved);

struct bench_server;
/*
 * Listen on every port of cfg->listen (SO_REUSEPORT, one socket per port per thread) and start
 * cfg->threads epoll threads. *bound receives the address actually bound (port 0 resolved).
 * Returns 0 with *out owned by the caller (bench_server_stop frees), or -errno.
 */
int bench_server_start(const struct bench_cfg *cfg, struct bench_server **out,
		       struct bench_ep *bound);
/* Snapshot of the counters (safe while running). */
void bench_server_stats(const struct bench_server *s, struct bench_srv_stats *st);
/* Stop the threads, close every socket, free. NULL is a no-op. */
void bench_server_stop(struct bench_server *s);

struct bench_client;
/* Start cfg->threads client threads toward cfg->target. 0 or -errno (-ENOMEM, thread start). */
int bench_client_start(const struct bench_cfg *cfg, struct bench_client **out);
/* Sum of the threads' counters so far, for the per-second series (the histograms and the
 * source-port bitmap come whole with bench_client_stop). */
void bench_client_sample(const struct bench_client *c, struct bench_stats *sum);
/* Whether every thread has finished (count reached and drained, or deadline passed). */
bool bench_client_done(const struct bench_client *c);
/* Ask the threads to stop now (Ctrl-C). */
void bench_client_cancel(struct bench_client *c);
/* Join, close every socket, fill *final (counters as they ended), free. NULL is a no-op. */
void bench_client_stop(struct bench_client *c, struct bench_stats *final);

/* What bench_run measured. */
struct bench_result {
	struct bench_cfg cfg;
	struct bench_stats st; /* final client totals (run, self) */
	struct bench_srv_stats srv;
	bool have_client, have_server, server_local, interrupted;
	double elapsed_s;
	uint32_t tw_client_max, tw_server_max, tw_client_end, tw_server_end;
	int tw_err; /* 0, or the -errno of sampling TIME-WAIT (reported, not fatal) */
	double user_s, sys_s;
	uint64_t max_rss_kib;
	struct bench_cpu cpu; /* kernel CPU per connection and the ceiling it sets */
	uint16_t ps_lo, ps_hi; /* --port-select app: the range the cursors walked */
	struct series series;
	char interpretation[512];
	/* --threshold verdicts (bench_thresholds_eval): the measured value of each, and whether
	 * it holds; th_crossed counts those that do not */
	double th_value[BENCH_MAX_THRESHOLDS];
	bool th_ok[BENCH_MAX_THRESHOLDS];
	int th_crossed;
	double budget_rate; /* sustained conn/s the model allows, 0 = not limited by TIME-WAIT */
	uint32_t usable_ports;
	uint32_t max_conns_asked; /* --max-conns as given; cfg.max_conns is what applied */
	uint64_t nofile;          /* RLIMIT_NOFILE (soft) when the server started, 0 = none */
	/* bench_env.h: TIME-WAIT met at the start, TCPTimeWaitOverflow over the run, --rate */
	uint32_t tw_start_target, tw_start_total;
	int env_tw_err;
	bool tw_overflow_ok, rate_short;
	uint64_t tw_overflow_start, tw_overflow;
	double rate_started; /* connections started per second */
};

/*
 * Run one bench as cfg says (self: own server + client; run: client; serve: server until
 * SIGINT/SIGTERM or --duration). SIGINT/SIGTERM must be blocked by the caller; they end the
 * run early and the result is still filled. Returns 0 or -errno (a start failure); res needs
 * bench_result_fini.
 */
int bench_run(const struct bench_cfg *cfg, struct bench_result *res);
void bench_result_fini(struct bench_result *res);

/* Measure each --threshold of r->cfg on the final totals into r->th_* (pure). */
void bench_thresholds_eval(struct bench_result *r);
/* Human report (table + interpretation). */
void bench_report_text(FILE *f, const struct bench_result *r);
/* The twkit.bench/1 object body (without schema) of one result, under key (NULL at root). */
void bench_report_json_obj(struct jw *w, const char *key, const struct bench_result *r);
/* A whole twkit.bench/1 document for one result. */
void bench_report_json(FILE *f, const struct bench_result *r);
/* Matrix: one comparison table, and one JSON document with "variants". */
void bench_report_matrix_text(FILE *f, const struct bench_result *rs, int n);
void bench_report_matrix_json(FILE *f, const struct bench_result *rs, int n);

/* --calibrate (bench_calibrate.c): measure, print, and return the verb's exit code. */
int bench_calibrate_main(const struct bench_cfg *cfg);

/* Run the matrix of cfg->matrix ("builtin" or a file): n results in *out (caller frees each
 * with bench_result_fini, then free()). 0 or -errno; err gets a message on -EINVAL. */
int bench_matrix_run(const struct bench_cfg *cfg, int argc, char **argv,
		     struct bench_result **out, int *n, char *err, size_t errlen);
/* --csv/--svg of a matrix: the variants' per-second series one after another on one time
 * axis (each shifted by the time the earlier ones took), plus a column "variant", the
 * variant's number in the table (1..n). 0 or -errno; out needs series_fini. */
int bench_matrix_series(const struct bench_result *rs, int n, struct series *out);

#endif
