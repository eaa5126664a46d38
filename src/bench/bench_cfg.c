/*
 * bench_cfg — the option table of `twkit bench` (it drives parsing and --help), then a
 * separate validation pass that yields the const struct bench_cfg every other part reads.
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
     .kind = OPT_VALUE,
     .metavar = "raw|http",
     .def = "raw",
     .help = "wire format"},
    {.name = "request",
     .kind = OPT_VALUE,
     .metavar = "BYTES",
     .def = "64",
     .help = "raw request size (at least 16)"},
    {.name = "response",
     .kind = OPT_VALUE,
     .metavar = "BYTES",
     .def = "64",
     .help = "response size (raw; body size for http)"},
    {.name = "path", .kind = OPT_VALUE, .metavar = "PATH", .def = "/", .help = "http request path"},
    {.name = "close",
     .kind = OPT_VALUE,
     .metavar = "client|server",
     .def = "client",
     .help = "who closes first (and so holds the TIME-WAIT)"},
    {.name = "linger0",
     .kind = OPT_VALUE,
     .metavar = "client|server|both",
     .help = "close with SO_LINGER {1,0}: RST, no TIME-WAIT"},
    {.name = "requests-per-conn",
     .kind = OPT_VALUE,
     .metavar = "N",
     .def = "1",
     .help = "requests per connection (1 = churn)"},
    {.name = "source",
     .shortname = 's',
     .kind = OPT_VALUE,
     .metavar = "IP[,IP..]|A-B",
     .help = "source addresses, round-robin (IP_BIND_ADDRESS_NO_PORT)"},
    {.name = "bind-no-port",
     .kind = OPT_VALUE,
     .metavar = "on|off",
     .def = "on",
     .help = "off: bind(ip, 0) before connect, the global-port trap"},
    {.name = "delayed-ack",
     .kind = OPT_VALUE,
     .metavar = "auto|on|off",
     .def = "auto",
     .help = "ACKs ride on the request and the FIN (auto: churn only)"},
    {.name = "local-port-range",
     .kind = OPT_VALUE,
     .metavar = "A-B",
     .help = "per-socket IP_LOCAL_PORT_RANGE (kernel 6.3+)"},
    {.name = "port-select",
     .kind = OPT_VALUE,
     .metavar = "kernel|app",
     .def = "kernel",
     .help = "who picks the source port: connect()'s search, or bench (bind() of the next port of "
	     "a cursor per source and destination, SO_REUSEADDR, then connect())"},
    {.name = "calibrate",
     .kind = OPT_FLAG,
     .help = "measure connect()'s per-port search price in a private network namespace (root) "
	     "and print the sim settings"},
    {.name = "concurrency",
     .shortname = 'c',
     .kind = OPT_VALUE,
     .metavar = "N",
     .def = "64",
     .help = "closed loop: connections in flight"},
    {.name = "rate",
     .shortname = 'r',
     .kind = OPT_VALUE,
     .metavar = "R",
     .help = "open loop: new connections per second (latency from the intended start)"},
    {.name = "duration",
     .shortname = 'd',
     .kind = OPT_VALUE,
     .metavar = "DURATION",
     .help = "run this long (default 10s without --count)"},
    {.name = "count",
     .shortname = 'n',
     .kind = OPT_VALUE,
     .metavar = "N",
     .help = "stop after N connections"},
    {.name = "threads",
     .shortname = 'T',
     .kind = OPT_VALUE,
     .metavar = "N",
     .def = "1",
     .help = "epoll loops (threads), client and server each"},
    {.name = "connect-timeout",
     .kind = OPT_VALUE,
     .metavar = "DURATION",
     .def = "5s",
     .help = "connect() deadline"},
    {.name = "timeout",
     .kind = OPT_VALUE,
     .metavar = "DURATION",
     .def = "10s",
     .help = "exchange deadline (client), idle deadline (server)"},
    {.name = "request-timeout",
     .kind = OPT_VALUE,
     .metavar = "DURATION",
     .def = "5s",
     .help = "server: a request must arrive whole this soon after its first byte"},
    {.name = "max-request",
     .kind = OPT_VALUE,
     .metavar = "BYTES",
     .def = "1MiB",
     .help = "server: a request declaring more is refused (RST, counted)"},
    {.name = "max-conns",
     .kind = OPT_VALUE,
     .metavar = "N",
     .def = "20000",
     .help = "server: connections held at once; more wait in the backlog (lowered to fit "
	     "RLIMIT_NOFILE)"},
    {.name = "matrix",
     .shortname = 'm',
     .kind = OPT_VALUE,
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
     .kind = OPT_FLAG,
     .help = "JSON report (schema twkit.bench/1) on stdout"},
    {.name = "csv",
     .kind = OPT_VALUE,
     .metavar = "FILE",
     .help = "per-second series as CSV ('-' = stdout)"},
    {.name = "svg",
     .kind = OPT_VALUE,
     .metavar = "FILE",
     .help = "plot of rate, failures and TIME-WAIT over time"},
    {.name = "quiet", .shortname = 'q', .kind = OPT_FLAG, .help = "no progress line"},
    {.name = "help", .shortname = 'h', .kind = OPT_FLAG, .help = "this help"},
};
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
	if (ai->ai_family == AF_INET6)
		inet_ntop(AF_INET6, &((struct sockaddr_in6 *)ai->ai_addr)->sin6_addr, abuf,
			  sizeof(abuf));
	else
		inet_ntop(AF_INET, &((struct sockaddr_in *)ai->ai_addr)->sin_addr, abuf,
			  sizeof(abuf));
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

static int get_u32(const char *name, const char *v, uint64_t lo, uint64_t hi, uint32_t *out,
		   char *err, size_t errlen)
{
	uint64_t n;
	if (units_parse_count(v, &n) < 0 || n < lo || n > hi) {
		char why[96];
		snprintf(why, sizeof(why), "expected a count from %llu to %llu",
			 (unsigned long long)lo, (unsigned long long)hi);
		return fail(err, errlen, name, v, why);
	}
	*out = (uint32_t)n;
	return 0;
}

static int get_dur(const char *name, const char *v, int64_t *out, char *err, size_t errlen)
{
	if (units_parse_duration(v, out) < 0 || *out <= 0)
		return fail(err, errlen, name, v,
			    "expected a positive duration such as 5s, 500ms or 1m30s");
	return 0;
}

/* The validation pass: raw strings of res -> cfg. */
static int validate(const struct opt_result *res, struct bench_cfg *cfg, char *err, size_t el)
{
#define V(name) opt_get(specs, NSPECS, res, name)
	const char *v;
	uint64_t n;
	uint32_t u;
	int rc;
	char why[300];

	if ((v = V("target")) && ep_resolve(v, &cfg->target, why, sizeof(why)) < 0)
		return fail(err, el, "target", v, why);
	if (v && cfg->target.lo == 0)
		return fail(err, el, "target", v, "port 0 cannot be a target");
	if ((v = V("listen")) && bench_ep_parse(v, &cfg->listen) < 0)
		return fail(err, el, "listen", v, "expected IP:PORT[-PORT] (IPv6 as [ADDR]:PORT)");
	v = V("proto");
	if (strcmp(v, "raw") == 0)
		cfg->proto = BENCH_PROTO_RAW;
	else if (strcmp(v, "http") == 0)
		cfg->proto = BENCH_PROTO_HTTP;
	else
		return fail(err, el, "proto", v, "expected raw or http");
	if (units_parse_size(V("request"), &n) < 0 || n > BENCH_RAW_MAX)
		return fail(err, el, "request", V("request"), "expected a size up to 64MiB");
	cfg->request = (uint32_t)n;
	if (cfg->proto == BENCH_PROTO_RAW && n < 16)
		return fail(err, el, "request", V("request"),
			    "raw requests carry a 16-byte header: at least 16");
	if (units_parse_size(V("response"), &n) < 0 || n > (64u << 20))
		return fail(err, el, "response", V("response"), "expected a size up to 64MiB");
	cfg->response = (uint32_t)n;
	v = V("path");
	if (v[0] != '/' || strlen(v) >= BENCH_PATH_MAX || strpbrk(v, " \r\n"))
		return fail(err, el, "path", v, "expected /PATH without spaces, under 128 bytes");
	strcpy(cfg->path, v);
	v = V("close");
	if (strcmp(v, "client") == 0)
		cfg->close = BENCH_CLOSE_CLIENT;
	else if (strcmp(v, "server") == 0)
		cfg->close = BENCH_CLOSE_SERVER;
	else
		return fail(err, el, "close", v, "expected client or server");
	cfg->linger0 = 0;
	if ((v = V("linger0"))) {
		if (strcmp(v, "client") == 0)
			cfg->linger0 = BENCH_LINGER_CLIENT;
		else if (strcmp(v, "server") == 0)
			cfg->linger0 = BENCH_LINGER_SERVER;
		else if (strcmp(v, "both") == 0)
			cfg->linger0 = BENCH_LINGER_CLIENT | BENCH_LINGER_SERVER;
		else if (strcmp(v, "none") != 0)
			return fail(err, el, "linger0", v, "expected client, server or both");
	}
	if ((rc = get_u32("requests-per-conn", V("requests-per-conn"), 1, 1000000,
			  &cfg->requests_per_conn, err, el)) < 0)
		return rc;
	cfg->nsources = 0;
	if ((v = V("source")) && (rc = parse_sources(v, cfg)) < 0)
		return fail(err, el, "source", v,
			    rc == -ERANGE ? "at most 64 addresses"
					  : "expected IP[,IP...] or an IPv4 range A-B");
	v = V("bind-no-port");
	if (strcmp(v, "on") != 0 && strcmp(v, "off") != 0)
		return fail(err, el, "bind-no-port", v, "expected on or off");
	cfg->bind_no_port = strcmp(v, "on") == 0;
	v = V("delayed-ack");
	if (strcmp(v, "auto") != 0 && strcmp(v, "on") != 0 && strcmp(v, "off") != 0)
		return fail(err, el, "delayed-ack", v, "expected auto, on or off");
	int dack = strcmp(v, "on") == 0 ? 1 : strcmp(v, "off") == 0 ? 0 : -1;
	cfg->lpr_lo = cfg->lpr_hi = 0;
	if ((v = V("local-port-range"))) {
		long a, b;
		if (units_parse_range(v, 1, 65535, &a, &b) < 0)
			return fail(err, el, "local-port-range", v, "expected A-B within 1-65535");
		cfg->lpr_lo = (uint16_t)a;
		cfg->lpr_hi = (uint16_t)b;
	}
	v = V("port-select");
	if (strcmp(v, "kernel") == 0)
		cfg->port_select = BENCH_PORTSEL_KERNEL;
	else if (strcmp(v, "app") == 0)
		cfg->port_select = BENCH_PORTSEL_APP;
	else
		return fail(err, el, "port-select", v, "expected kernel or app");
	if (cfg->port_select == BENCH_PORTSEL_APP && !cfg->bind_no_port)
		return fail(err, el, "bind-no-port", "off",
			    "--port-select app binds each port itself; drop --bind-no-port");
	cfg->calibrate = opt_has(specs, NSPECS, res, "calibrate");
	if ((rc = get_u32("concurrency", V("concurrency"), 1, 1000000, &cfg->concurrency, err,
			  el)) < 0)
		return rc;
	cfg->rate = 0;
	if ((v = V("rate")) &&
	    (units_parse_rate(v, &cfg->rate) < 0 || cfg->rate <= 0 || cfg->rate > 1e7))
		return fail(err, el, "rate", v, "expected a positive rate such as 500 or 5k/s");
	cfg->duration_ns = 0;
	if ((v = V("duration")) && (rc = get_dur("duration", v, &cfg->duration_ns, err, el)) < 0)
		return rc;
	cfg->count = 0;
	if ((v = V("count")) && (units_parse_count(v, &cfg->count) < 0 || cfg->count == 0))
		return fail(err, el, "count", v, "expected a positive count such as 1000 or 10k");
	if ((rc = get_u32("threads", V("threads"), 1, 64, &u, err, el)) < 0)
		return rc;
	cfg->threads = (int)u;
	if ((rc = get_dur("connect-timeout", V("connect-timeout"), &cfg->connect_timeout_ns, err,
			  el)) < 0 ||
	    (rc = get_dur("timeout", V("timeout"), &cfg->timeout_ns, err, el)) < 0)
		return rc;
	if ((rc = get_dur("request-timeout", V("request-timeout"), &cfg->request_timeout_ns, err,
			  el)) < 0)
		return rc;
	if (units_parse_size(V("max-request"), &n) < 0 || n < 16 || n > BENCH_RAW_MAX)
		return fail(err, el, "max-request", V("max-request"),
			    "expected a size from 16 bytes to 64MiB");
	cfg->max_request = n;
	/* the self-hosted server serves its own client's requests unless told otherwise */
	if (cfg->mode == BENCH_MODE_SELF && !opt_has(specs, NSPECS, res, "max-request") &&
	    cfg->request > cfg->max_request)
		cfg->max_request = cfg->request;
	if ((rc = get_u32("max-conns", V("max-conns"), 1, 1000000, &cfg->max_conns, err, el)) < 0)
		return rc;
	if ((v = V("threshold"))) {
		char line[128];
		const char *p = v;
		while (*p) {
			size_t ln = strcspn(p, "\n");
			if (cfg->nthreshold >= BENCH_MAX_THRESHOLDS) {
				snprintf(err, el, "--threshold: at most %d", BENCH_MAX_THRESHOLDS);
				return -EINVAL;
			}
			snprintf(line, sizeof(line), "%.*s", (int)(ln < 127 ? ln : 127), p);
			rc = bench_threshold_parse(line, &cfg->threshold[cfg->nthreshold++], err,
						   el);
			if (rc < 0)
				return rc;
			p += ln + (p[ln] == '\n');
		}
		if (cfg->mode == BENCH_MODE_SERVE) {
			snprintf(err, el,
				 "--threshold judges a client's run; bench serve has none");
			return -EINVAL;
		}
	}
	cfg->json = opt_has(specs, NSPECS, res, "json");
	cfg->quiet = opt_has(specs, NSPECS, res, "quiet");
	cfg->csv = V("csv");
	cfg->svg = V("svg");
	cfg->matrix = V("matrix");
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
#undef V
	/* cross-option rules */
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
	if (cfg->mode == BENCH_MODE_SELF && cfg->listen.len == 0)
		bench_ep_parse("127.0.0.1:0", &cfg->listen);
	if (cfg->mode == BENCH_MODE_SERVE && cfg->listen.len == 0)
		bench_ep_parse("127.0.0.1:0", &cfg->listen);
	if (cfg->listen.len && cfg->listen.hi - cfg->listen.lo + 1 > BENCH_MAX_LISTEN_PORTS) {
		snprintf(err, el, "--listen %d-%d: %d ports; bench serve listens on at most %d",
			 cfg->listen.lo, cfg->listen.hi, cfg->listen.hi - cfg->listen.lo + 1,
			 BENCH_MAX_LISTEN_PORTS);
		return -EINVAL;
	}
	if (cfg->listen.len && cfg->listen.lo == 0 && cfg->listen.hi != 0) {
		snprintf(err, el, "--listen: a port range cannot start at 0");
		return -EINVAL;
	}
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
	cfg->delayed_ack =
	    dack >= 0 ? dack == 1
		      : cfg->requests_per_conn == 1 &&
			    (cfg->close == BENCH_CLOSE_SERVER || cfg->proto == BENCH_PROTO_RAW);
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
