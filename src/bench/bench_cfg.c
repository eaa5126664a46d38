/*
 * bench_cfg — the typed option table of `twkit bench`: it drives parsing, --help and the
 * conversion of every single-field option into the const struct bench_cfg every other part
 * reads (opt_apply). What is left in code: options with a grammar of their own (addresses,
 * port ranges, the HTTP path, thresholds), resolving --target, output paths, and the rules
 * between options.
 * Matrix variants reuse the same table: a variant line is parsed as extra options over the
 * base configuration.
 */
#include "bench/bench.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/bench_proto.h"
#include "common/opt.h"
#include "common/outpath.h"
#include "common/units.h"

#define C struct bench_cfg
#define MIB64 ((double)BENCH_RAW_MAX)
static const struct opt_spec specs[] = {
    {.name = "listen",
     .shortname = 'l',
     .kind = OPT_VALUE,
     .metavar = "ADDR:PORT[-PORT]",
     .help = "serve: listen here; a range listens on every port (default 127.0.0.1:0)"},
    {.name = "target",
     .shortname = 't',
     .kind = OPT_VALUE,
     .metavar = "HOST:PORT[-PORT]",
     .help =
	 "run: connect here (an IP, or a name resolved once at start), round-robin over the ports"},
    {.name = "proto",
     OPT_CHOICE_TO(C, proto, "raw", "http"),
     .choice_val = (const int[]){BENCH_PROTO_RAW, BENCH_PROTO_HTTP},
     .def = "raw",
     .help = "wire format"},
    {.name = "request",
     OPT_SIZE_TO(C, request, 0, MIB64),
     .metavar = "BYTES",
     .def = "64",
     .help = "raw request size (at least 16)"},
    {.name = "response",
     OPT_SIZE_TO(C, response, 0, MIB64),
     .metavar = "BYTES",
     .def = "64",
     .help = "response size (raw; body size for http)"},
    {.name = "path", .kind = OPT_VALUE, .metavar = "PATH", .def = "/", .help = "http request path"},
    {.name = "close",
     OPT_CHOICE_TO(C, close, "client", "server"),
     .choice_val = (const int[]){BENCH_CLOSE_CLIENT, BENCH_CLOSE_SERVER},
     .def = "client",
     .help = "who closes first (and so holds the TIME-WAIT)"},
    {.name = "linger0",
     OPT_CHOICE_TO(C, linger0, "client", "server", "both", "none"),
     .choice_val = (const int[]){BENCH_LINGER_CLIENT, BENCH_LINGER_SERVER,
				 BENCH_LINGER_CLIENT | BENCH_LINGER_SERVER, 0},
     .def = "none",
     .help = "close with SO_LINGER {1,0}: RST, no TIME-WAIT"},
    {.name = "requests-per-conn",
     OPT_COUNT_TO(C, requests_per_conn, 1, 1000000),
     .metavar = "N",
     .def = "1",
     .help = "requests per connection (1 = churn)"},
    {.name = "source",
     .shortname = 's',
     .kind = OPT_VALUE,
     .metavar = "IP[,IP..]|A-B",
     .help = "source addresses, round-robin (IP_BIND_ADDRESS_NO_PORT)"},
    {.name = "bind-no-port",
     OPT_CHOICE_TO(C, bind_no_port, "on", "off"),
     .choice_val = (const int[]){1, 0},
     .def = "on",
     .help = "off: bind(ip, 0) before connect, the global-port trap"},
    {.name = "delayed-ack",
     OPT_CHOICE_TO(C, delayed_ack_mode, "auto", "on", "off"),
     .choice_val = (const int[]){-1, 1, 0},
     .def = "auto",
     .help = "ACKs ride on the request and the FIN (auto: churn only)"},
    {.name = "local-port-range",
     .kind = OPT_VALUE,
     .metavar = "A-B",
     .help = "per-socket IP_LOCAL_PORT_RANGE (kernel 6.3+)"},
    {.name = "port-select",
     OPT_CHOICE_TO(C, port_select, "kernel", "app"),
     .choice_val = (const int[]){BENCH_PORTSEL_KERNEL, BENCH_PORTSEL_APP},
     .def = "kernel",
     .help = "who picks the source port: connect()'s search, or bench (bind() of the next port of "
	     "a cursor per source and destination, SO_REUSEADDR, then connect())"},
    {.name = "calibrate",
     OPT_FLAG_TO(C, calibrate),
     .help = "measure connect()'s per-port search price in a private network namespace (root) "
	     "and print the sim settings"},
    {.name = "concurrency",
     .shortname = 'c',
     OPT_COUNT_TO(C, concurrency, 1, 1000000),
     .metavar = "N",
     .def = "64",
     .help = "closed loop: connections in flight"},
    {.name = "rate",
     .shortname = 'r',
     OPT_RATE_TO(C, rate, 1e7),
     .metavar = "R",
     .help = "open loop: new connections per second (latency from the intended start)"},
    {.name = "duration",
     .shortname = 'd',
     OPT_DUR_TO(C, duration_ns),
     .metavar = "DURATION",
     .help = "run this long (default 10s without --count)"},
    {.name = "count",
     .shortname = 'n',
     OPT_COUNT64_TO(C, count, 1, 0),
     .metavar = "N",
     .help = "stop after N connections"},
    {.name = "threads",
     .shortname = 'T',
     OPT_COUNT_TO(C, threads, 1, 64),
     .metavar = "N",
     .def = "1",
     .help = "epoll loops (threads), client and server each"},
    {.name = "connect-timeout",
     OPT_DUR_TO(C, connect_timeout_ns),
     .metavar = "DURATION",
     .def = "5s",
     .help = "connect() deadline"},
    {.name = "timeout",
     OPT_DUR_TO(C, timeout_ns),
     .metavar = "DURATION",
     .def = "10s",
     .help = "exchange deadline (client), idle deadline (server)"},
    {.name = "request-timeout",
     OPT_DUR_TO(C, request_timeout_ns),
     .metavar = "DURATION",
     .def = "5s",
     .help = "server: a request must arrive whole this soon after its first byte"},
    {.name = "max-request",
     OPT_SIZE_TO(C, max_request, 16, MIB64),
     .metavar = "BYTES",
     .def = "1MiB",
     .help = "server: a request declaring more is refused (RST, counted)"},
    {.name = "max-conns",
     OPT_COUNT_TO(C, max_conns, 1, 1000000),
     .metavar = "N",
     .def = "20000",
     .help = "server: connections held at once; more wait in the backlog (lowered to fit "
	     "RLIMIT_NOFILE)"},
    {.name = "matrix",
     .shortname = 'm',
     OPT_STR_TO(C, matrix),
     .metavar = "FILE|builtin",
     .help = "run variants one after another, one comparison table"},
    {.name = "threshold",
     .kind = OPT_MULTI,
     .metavar = "EXPR",
     .help = "pass/fail: exit 1 when crossed; failed<1%, failed<10, p50|p90|p99|max<50ms (exchange "
	     "latency from the intended start), rate>5k/s; repeatable"},
    {.name = "host",
     .kind = OPT_FLAG,
     .help = "on this host's own stack (as any options do); with no arguments at all, twkit bench "
	     "runs its demo in a private network namespace when root"},
    {.name = "json",
     .shortname = 'j',
     OPT_FLAG_TO(C, json),
     .help = "JSON report (schema twkit.bench/1) on stdout"},
    {.name = "csv",
     OPT_STR_TO(C, csv),
     .metavar = "FILE",
     .help = "per-second series as CSV ('-' = stdout)"},
    {.name = "svg",
     OPT_STR_TO(C, svg),
     .metavar = "FILE",
     .help = "plot of rate, failures and TIME-WAIT over time"},
    {.name = "quiet", .shortname = 'q', OPT_FLAG_TO(C, quiet), .help = "no progress line"},
    {.name = "help", .shortname = 'h', .kind = OPT_FLAG, .help = "this help"},
};
#undef MIB64
#undef C
#define NSPECS ((int)(sizeof(specs) / sizeof(specs[0])))

static void usage(FILE *f)
{
	fprintf(
	    f,
	    "usage: twkit bench [serve|run] [OPTIONS]\n\n"
	    "Connection-churn load generator with its own server: reproduces port exhaustion\n"
	    "(\"Cannot assign requested address\") and measures each mitigation.\n"
	    "  twkit bench                      the demo: port exhaustion, then its fixes (as "
	    "root\n"
	    "                                   in a private network namespace, tcp_tw_reuse=0)\n"
	    "  twkit bench --host               own server on this host's loopback, 10 s churn\n"
	    "  twkit bench serve --listen A:P   the server alone (until Ctrl-C or --duration)\n"
	    "  twkit bench run --target A:P     the client alone (also --proto http vs nginx)\n"
	    "  twkit bench --matrix builtin     baseline, linger0, server-close, ... side by "
	    "side\n"
	    "  twkit bench --port-select app    ports chosen by bench, not by connect()'s search\n"
	    "  twkit bench --calibrate          the kernel's price per port connect() examines\n"
	    "\noptions:\n");
	opt_print_help(f, specs, NSPECS);
}

static int fail(char *err, size_t errlen, const char *opt, const char *val, const char *why)
{
	snprintf(err, errlen, "--%s '%s': %s", opt, val ? val : "", why);
	return -EINVAL;
}

uint32_t bench_max_conns_fit(uint32_t want, uint64_t nofile, uint64_t reserved)
{
	uint64_t room = nofile > reserved ? nofile - reserved : 0;
	if (room < 1)
		room = 1; /* one: the server still serves, and pauses on EMFILE beyond it */
	return want < room ? want : (uint32_t)room;
}

int bench_ep_parse(const char *s, struct bench_ep *ep)
{
	long lo, hi;
	memset(ep, 0, sizeof(*ep));
	if (units_parse_ipport(s, 0, 65535, &ep->addr, &ep->len, &lo, &hi) < 0 ||
	    (lo == 0 && hi != 0))
		return -EINVAL;
	ep->lo = (uint16_t)lo;
	ep->hi = (uint16_t)hi;
	return 0;
}

/*
 * A target as people type it: IP:PORT as bench_ep_parse, else HOST:PORT[-PORT] with HOST
 * resolved by getaddrinfo (the first address it gives: /etc/hosts and DNS, in the system's
 * order). why gets what was wrong.
 */
static int ep_resolve(const char *s, struct bench_ep *ep, char *why, size_t wl)
{
	char host[256], ipport[320];
	const char *colon = strrchr(s, ':');
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *ai = NULL;
	char abuf[INET6_ADDRSTRLEN];
	int rc;

	if (bench_ep_parse(s, ep) == 0)
		return 0;
	snprintf(why, wl, "expected IP:PORT[-PORT] or HOST:PORT (IPv6 as [ADDR]:PORT)");
	if (!colon || colon == s || (size_t)(colon - s) >= sizeof(host) || s[0] == '[' ||
	    memchr(s, ':', (size_t)(colon - s)))
		return -EINVAL;
	memcpy(host, s, (size_t)(colon - s));
	host[colon - s] = 0;
	snprintf(ipport, sizeof(ipport), "0.0.0.0%s", colon);
	if (bench_ep_parse(ipport, ep) < 0) {
		snprintf(why, wl, "'%.20s' is not a port or port range", colon + 1);
		return -EINVAL;
	}
	rc = getaddrinfo(host, NULL, &hints, &ai);
	if (rc != 0) {
		snprintf(why, wl, "cannot resolve '%.200s': %s", host, gai_strerror(rc));
		return -EINVAL;
	}
	/* the address as text, without casting the sockaddr to its family's type */
	rc = getnameinfo(ai->ai_addr, ai->ai_addrlen, abuf, sizeof(abuf), NULL, 0, NI_NUMERICHOST);
	if (rc != 0) {
		snprintf(why, wl, "'%.200s': %s", host, gai_strerror(rc));
		freeaddrinfo(ai);
		return -EINVAL;
	}
	snprintf(ipport, sizeof(ipport), ai->ai_family == AF_INET6 ? "[%s]%s" : "%s%s", abuf,
		 colon);
	freeaddrinfo(ai);
	return bench_ep_parse(ipport, ep);
}

char *bench_ep_fmt(const struct bench_ep *ep, char *buf, size_t len)
{
	return units_fmt_ipport(buf, len, &ep->addr, ep->lo, ep->hi);
}

/* "10.0.0.1,10.0.0.2" or "10.0.0.1-10.0.0.4" (IPv4 ranges) into cfg->sources. */
static int parse_sources(const char *s, struct bench_cfg *cfg)
{
	char tmp[1024];
	const char *dash = strchr(s, '-');
	if (strlen(s) >= sizeof(tmp))
		return -EINVAL;
	cfg->nsources = 0;
	if (dash && !strchr(s, ',') && !strchr(s, ':')) {
		struct in_addr a, b;
		memcpy(tmp, s, (size_t)(dash - s));
		tmp[dash - s] = '\0';
		if (inet_pton(AF_INET, tmp, &a) != 1 || inet_pton(AF_INET, dash + 1, &b) != 1)
			return -EINVAL;
		uint32_t lo = ntohl(a.s_addr), hi = ntohl(b.s_addr);
		if (lo > hi || hi - lo >= BENCH_MAX_SOURCES)
			return -ERANGE;
		for (uint32_t x = lo; x <= hi; x++) {
			struct sockaddr_in *sin =
			    (struct sockaddr_in *)&cfg->sources[cfg->nsources++];
			sin->sin_family = AF_INET;
			sin->sin_addr.s_addr = htonl(x);
		}
		return 0;
	}
	strcpy(tmp, s);
	for (char *save = NULL, *tok = strtok_r(tmp, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		struct sockaddr_storage *ss;
		if (cfg->nsources >= BENCH_MAX_SOURCES)
			return -ERANGE;
		ss = &cfg->sources[cfg->nsources];
		memset(ss, 0, sizeof(*ss));
		if (inet_pton(AF_INET, tok, &((struct sockaddr_in *)ss)->sin_addr) == 1)
			ss->ss_family = AF_INET;
		else if (inet_pton(AF_INET6, tok, &((struct sockaddr_in6 *)ss)->sin6_addr) == 1)
			ss->ss_family = AF_INET6;
		else
			return -EINVAL;
		cfg->nsources++;
	}
	return cfg->nsources ? 0 : -EINVAL;
}

/*
 * Options with a grammar of their own, which opt has no type for: each converts its value
 * (given, or its default) into cfg, or writes the error naming the option and the value.
 */
static int conv_target(const char *v, struct bench_cfg *cfg, char *err, size_t el)
{
	char why[300];
	if (ep_resolve(v, &cfg->target, why, sizeof(why)) < 0)
		return fail(err, el, "target", v, why);
	if (cfg->target.lo == 0)
		return fail(err, el, "target", v, "port 0 cannot be a target");
	return 0;
}

static int conv_listen(const char *v, struct bench_cfg *cfg, char *err, size_t el)
{
	struct bench_ep *ep = &cfg->listen;
	if (bench_ep_parse(v, ep) < 0) /* also refuses a range from port 0 */
		return fail(err, el, "listen", v, "expected IP:PORT[-PORT] (IPv6 as [ADDR]:PORT)");
	if (ep->hi - ep->lo + 1 > BENCH_MAX_LISTEN_PORTS) {
		snprintf(err, el, "--listen %d-%d: %d ports; bench serve listens on at most %d",
			 ep->lo, ep->hi, ep->hi - ep->lo + 1, BENCH_MAX_LISTEN_PORTS);
		return -EINVAL;
	}
	return 0;
}

static int conv_path(const char *v, struct bench_cfg *cfg, char *err, size_t el)
{
	if (v[0] != '/' || strlen(v) >= BENCH_PATH_MAX || strpbrk(v, " \r\n"))
		return fail(err, el, "path", v, "expected /PATH without spaces, under 128 bytes");
	strcpy(cfg->path, v); /* copied: a matrix variant's words do not outlive the parse */
	return 0;
}

static int conv_sources(const char *v, struct bench_cfg *cfg, char *err, size_t el)
{
	int rc = parse_sources(v, cfg);
	if (rc < 0)
		return fail(err, el, "source", v,
			    rc == -ERANGE ? "at most 64 addresses"
					  : "expected IP[,IP...] or an IPv4 range A-B");
	return 0;
}

static int conv_lpr(const char *v, struct bench_cfg *cfg, char *err, size_t el)
{
	long a, b;
	if (units_parse_range(v, 1, 65535, &a, &b) < 0)
		return fail(err, el, "local-port-range", v, "expected A-B within 1-65535");
	cfg->lpr_lo = (uint16_t)a;
	cfg->lpr_hi = (uint16_t)b;
	return 0;
}

/* "--threshold E" as often as given: the values joined with '\n' */
static int conv_thresholds(const char *v, struct bench_cfg *cfg, char *err, size_t el)
{
	char line[128];
	for (const char *p = v; *p;) {
		size_t ln = strcspn(p, "\n");
		int rc;
		if (cfg->nthreshold >= BENCH_MAX_THRESHOLDS) {
			snprintf(err, el, "--threshold: at most %d", BENCH_MAX_THRESHOLDS);
			return -EINVAL;
		}
		snprintf(line, sizeof(line), "%.*s", (int)(ln < 127 ? ln : 127), p);
		rc = bench_threshold_parse(line, &cfg->threshold[cfg->nthreshold++], err, el);
		if (rc < 0)
			return rc;
		p += ln + (p[ln] == '\n');
	}
	return 0;
}

static const struct {
	const char *name;
	int (*conv)(const char *v, struct bench_cfg *cfg, char *err, size_t el);
} convs[] = {
    {"listen", conv_listen},	    {"path", conv_path},
    {"source", conv_sources},	    {"local-port-range", conv_lpr},
    {"threshold", conv_thresholds}, {"target", conv_target}, /* last: it may ask DNS */
};

/* Options as strings -> cfg: the table's types, the grammars above, then what no one option
 * can say alone. */
static int validate(const struct opt_result *res, struct bench_cfg *cfg, char *err, size_t el)
{
	int rc;

	if ((rc = opt_apply(specs, NSPECS, res, cfg, err, el)) < 0)
		return rc;
	for (size_t i = 0; i < sizeof(convs) / sizeof(convs[0]); i++) {
		const char *v = opt_get(specs, NSPECS, res, convs[i].name);
		if (v && (rc = convs[i].conv(v, cfg, err, el)) < 0)
			return rc;
	}

	/* cross-option rules */
	if (cfg->proto == BENCH_PROTO_RAW && cfg->request < 16)
		return fail(err, el, "request", opt_get(specs, NSPECS, res, "request"),
			    "raw requests carry a 16-byte header: at least 16");
	/* the self-hosted server serves its own client's requests unless told otherwise */
	if (cfg->mode == BENCH_MODE_SELF && !opt_has(specs, NSPECS, res, "max-request") &&
	    cfg->request > cfg->max_request)
		cfg->max_request = cfg->request;
	if (cfg->port_select == BENCH_PORTSEL_APP && !cfg->bind_no_port)
		return fail(err, el, "bind-no-port", "off",
			    "--port-select app binds each port itself; drop --bind-no-port");
	if (cfg->nthreshold && cfg->mode == BENCH_MODE_SERVE) {
		snprintf(err, el, "--threshold judges a client's run; bench serve has none");
		return -EINVAL;
	}
	{ /* output paths are checked now, not after the run (issue 21 §4) */
		char pwhy[160];
		if (cfg->csv && outpath_check(cfg->csv, 0, pwhy, sizeof(pwhy)) < 0)
			return fail(err, el, "csv", cfg->csv, pwhy);
		if (cfg->svg && outpath_check(cfg->svg, 0, pwhy, sizeof(pwhy)) < 0)
			return fail(err, el, "svg", cfg->svg, pwhy);
		if (cfg->json + (cfg->csv && !strcmp(cfg->csv, "-")) +
			(cfg->svg && !strcmp(cfg->svg, "-")) >
		    1) {
			snprintf(err, el, "--json, --csv - and --svg - all write stdout: pick one");
			return -EINVAL;
		}
	}
	if (cfg->matrix && cfg->nthreshold) {
		snprintf(err, el,
			 "--threshold judges one run; --matrix compares several in a table");
		return -EINVAL;
	}
	if (cfg->mode == BENCH_MODE_RUN && cfg->target.len == 0)
		return fail(err, el, "target", "", "bench run needs --target ADDR:PORT");
	if (cfg->mode == BENCH_MODE_SERVE && cfg->target.len) {
		snprintf(err, el, "--target is for bench run; bench serve takes --listen");
		return -EINVAL;
	}
	if (cfg->mode == BENCH_MODE_SERVE && cfg->port_select == BENCH_PORTSEL_APP) {
		snprintf(err, el, "--port-select picks the client's ports; bench serve has none");
		return -EINVAL;
	}
	if (cfg->calibrate && (cfg->mode != BENCH_MODE_SELF || cfg->matrix)) {
		snprintf(err, el,
			 "--calibrate measures on its own, in a namespace of its own: it "
			 "takes no serve, run or --matrix");
		return -EINVAL;
	}
	if (cfg->mode == BENCH_MODE_SERVE && cfg->matrix) {
		snprintf(err, el, "--matrix runs clients; it does not apply to bench serve");
		return -EINVAL;
	}
	if (cfg->mode != BENCH_MODE_RUN && cfg->listen.len == 0)
		bench_ep_parse("127.0.0.1:0", &cfg->listen);
	for (int i = 0; i < cfg->nsources; i++) {
		int fam = cfg->target.len ? cfg->target.addr.ss_family : cfg->listen.addr.ss_family;
		if (cfg->sources[i].ss_family != fam) {
			snprintf(err, el, "--source: address family differs from the target's");
			return -EINVAL;
		}
	}
	/*
	 * Delayed ACK from the first segment (pingpong mode): the handshake's last ACK leaves
	 * with the request and the response's ACK with our FIN, 8 segments per churned
	 * connection instead of 10. Safe by default only where nothing waits on those ACKs: one
	 * request per connection and either the server closes (its close pushes out anything
	 * Nagle holds) or the server is ours (raw: it sets TCP_NODELAY). Elsewhere a server that
	 * writes a response in pieces without TCP_NODELAY would stall ~40 ms on each.
	 */
	cfg->delayed_ack = cfg->delayed_ack_mode >= 0
			       ? cfg->delayed_ack_mode == 1
			       : cfg->requests_per_conn == 1 && (cfg->close == BENCH_CLOSE_SERVER ||
								 cfg->proto == BENCH_PROTO_RAW);
	if (cfg->mode != BENCH_MODE_SERVE && !cfg->duration_ns && !cfg->count)
		cfg->duration_ns = 10 * NS_PER_SEC; /* every run is bounded */
	return 0;
}

static int parse_into(int argc, char **argv, int first, struct bench_cfg *cfg, char *err,
		      size_t errlen)
{
	struct opt_result res;
	int rc = opt_parse(specs, NSPECS, argc, argv, first, &res, err, errlen);
	if (rc < 0)
		goto out;
	if (opt_has(specs, NSPECS, &res, "help")) {
		usage(stdout);
		rc = 1;
		goto out;
	}
	for (int i = 0; i < res.npos; i++) {
		if (i == 0 && strcmp(res.pos[0], "serve") == 0) {
			cfg->mode = BENCH_MODE_SERVE;
		} else if (i == 0 && strcmp(res.pos[0], "run") == 0) {
			cfg->mode = BENCH_MODE_RUN;
		} else {
			snprintf(err, errlen, "unexpected argument '%s' (modes: serve, run)",
				 res.pos[i]);
			rc = -EINVAL;
			goto out;
		}
	}
	if (cfg->mode == BENCH_MODE_SELF && opt_has(specs, NSPECS, &res, "target"))
		cfg->mode = BENCH_MODE_RUN;
	rc = validate(&res, cfg, err, errlen);
out:
	opt_result_fini(&res);
	return rc;
}

int bench_cfg_parse(int argc, char **argv, struct bench_cfg *cfg, char *err, size_t errlen)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->mode = BENCH_MODE_SELF;
	return parse_into(argc, argv, 1, cfg, err, errlen);
}

int bench_cfg_variant(int argc, char **argv, const char *words, struct bench_cfg *cfg, char *err,
		      size_t errlen)
{
	char buf[512], *v[OPT_MAX_POS * 4 + 4];
	char **all = NULL;
	int nv = 0, rc;

	if (strlen(words) >= sizeof(buf)) {
		snprintf(err, errlen, "matrix line too long");
		return -EINVAL;
	}
	strcpy(buf, words);
	for (char *save = NULL, *t = strtok_r(buf, " \t\r\n", &save); t;
	     t = strtok_r(NULL, " \t\r\n", &save)) {
		if (nv >= (int)(sizeof(v) / sizeof(v[0]))) {
			snprintf(err, errlen, "matrix line has too many words");
			return -EINVAL;
		}
		v[nv++] = t;
	}
	all = calloc((size_t)(argc + nv + 1), sizeof(*all));
	if (!all)
		return -ENOMEM;
	memcpy(all, argv, (size_t)argc * sizeof(*all));
	memcpy(all + argc, v, (size_t)nv * sizeof(*all));
	/* later options win: a variant's --close overrides the command line's */
	memset(cfg, 0, sizeof(*cfg));
	cfg->mode = BENCH_MODE_SELF;
	rc = parse_into(argc + nv, all, 1, cfg, err, errlen);
	free(all);
	return rc;
}
