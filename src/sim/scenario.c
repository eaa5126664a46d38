/*
 * scenario — the scenario INI format (docs/scenarios.md): sections [sim], [client NAME],
 * [nat NAME], [l4lb NAME], [l7lb NAME], [server NAME]. One static key table drives parsing,
 * --set and validation; every error names FILE:LINE, the section, the key and what was
 * expected. libinih does the tokenizing; a pre-scan rejects what inih would silently accept
 * or split (binary data, over-long lines, indented continuations) and maps each handler call
 * to its line number.
 */
#include <ctype.h>
#include <errno.h>
#include <ini.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/units.h"
#include "model/portsearch.h"
#include "model/reuse.h"
#include "model/timewait.h"
#include "sim/sim.h"

/* inih reads a line into INI_MAX_LINE (200) bytes: the text, its newline and a NUL. A longer
 * line is cut and flagged, so the pre-scan refuses it first. */
#define MAX_LINE (INI_MAX_LINE - 2)
/* inih keeps a section's name in 50 bytes (MAX_SECTION in ini.c) and silently cuts a longer
 * one; sections are tracked here instead, but a header that long is refused all the same */
#define INIH_MAX_SECTION 49
#define SIM_MAX_CLIENT_IPS 60000 /* a client group's count x ips: 10.n.0.0/16 per node */
#define MAX_TEXT (1 << 20)
#define NAT_MAPPING_TIMEOUT_NS (120LL * 1000000000) /* a plain NAT's default hold */

enum KTYPE { K_LONG, K_BOOL, K_DUR, K_RATE, K_RANGE, K_ENUM, K_NAME, K_KERNEL, K_GWPROF };

/* which kinds accept a key */
#define KC (1 << SIM_NODE_CLIENT)
#define KN (1 << SIM_NODE_NAT)
#define K4 (1 << SIM_NODE_L4LB)
#define K7 (1 << SIM_NODE_L7LB)
#define KS (1 << SIM_NODE_SERVER)
#define KTCP (KC | K7 | KS)

struct key_spec {
	const char *name;
	int kinds;
	enum KTYPE type;
	size_t off;
	long lo, hi;          /* K_LONG bounds; K_DUR/K_RATE bounds in ms / per s */
	const char *const *words; /* K_ENUM */
	const char *expect;
};

static const char *const w_arrival[] = { "constant", "poisson", "ramp", NULL };
static const char *const w_closes[] = { "client", "server", NULL };
static const char *const w_mapping[] = { "preserve", "sequential", "random", NULL };
static const char *const w_port_select[] = { "kernel", "app", NULL };

#define O(f) offsetof(struct sim_node, f)
static const struct key_spec keys[] = {
	{ "kernel", KTCP, K_KERNEL, O(kernel), 0, 0, NULL, "a kernel era (see --list-kernels) or host" },
	{ "count", KC, K_LONG, O(count), 1, 60000, NULL, "an integer 1-60000" },
	{ "ips", KC | KN | K4 | K7 | KS, K_LONG, O(ips), 1, 64, NULL, "an integer 1-64" },
	{ "tw_reuse", KTCP, K_LONG, O(tw_reuse), 0, 2, NULL, "0, 1 or 2" },
	{ "tw_recycle", KTCP, K_LONG, O(tw_recycle), 0, 1, NULL, "0 or 1" },
	{ "timestamps", KTCP, K_LONG, O(timestamps), 0, 2, NULL, "0, 1 or 2" },
	{ "tw_reuse_delay", KTCP, K_LONG, O(tw_reuse_delay_ms), 1, 60000, NULL,
	  "milliseconds 1-60000" },
	{ "max_tw_buckets", KTCP, K_LONG, O(max_tw_buckets), 0, 100000000, NULL,
	  "an integer 0-100000000" },
	{ "port_range", KTCP, K_RANGE, O(port_lo), 1, 65535, NULL, "LO-HI within 1-65535" },
	{ "hz", KTCP, K_LONG, O(hz), 100, 1000, NULL, "100, 250, 300 or 1000" },
	{ "rto", KTCP, K_DUR, O(rto_ns), 1, 120000, NULL, "a duration 1ms-120s" },
	{ "syn_retries", KC | K7, K_LONG, O(syn_retries), 1, 16, NULL, "an integer 1-16" },
	{ "rfc1337", K7 | KS, K_LONG, O(rfc1337), 0, 1, NULL, "0 or 1" },
	{ "arrival", KC, K_ENUM, O(arrival), 0, 0, w_arrival, "constant, poisson or ramp" },
	{ "rate", KC, K_RATE, O(rate), 0, 10000000, NULL, "a rate 0-10M/s (e.g. 500/s, 5k/s)" },
	{ "rate_to", KC, K_RATE, O(rate_to), 0, 10000000, NULL, "a rate 0-10M/s" },
	{ "requests", KC | K7, K_LONG, O(requests), 1, 1000000, NULL, "an integer 1-1000000" },
	{ "closes", KC | K7, K_ENUM, O(closes), 0, 0, w_closes, "client or server" },
	{ "linger0", KC | K7, K_BOOL, O(linger0), 0, 0, NULL, "yes or no" },
	{ "bind_port", KC | K7, K_BOOL, O(bind_port), 0, 0, NULL, "yes or no" },
	{ "port_select", KC | K7, K_ENUM, O(port_select), 0, 0, w_port_select, "kernel or app" },
	{ "connect_probe_ns", KC | K7, K_LONG, O(connect_probe_ns), 0, 1000000, NULL,
	  "nanoseconds 0-1000000 per port examined" },
	{ "connect_base_ns", KC | K7, K_LONG, O(connect_base_ns), 0, 100000000, NULL,
	  "nanoseconds 0-100000000 per connection" },
	{ "rtt", KC | K7, K_DUR, O(rtt_ns), 0, 10000, NULL, "a duration 0-10s" },
	{ "via", KC | KN | K4 | K7, K_NAME, O(via), 0, 0, NULL, "the name of another section" },
	{ "mapping", KN, K_ENUM, O(mapping), 0, 0, w_mapping, "preserve, sequential or random" },
	{ "mapping_timeout", KN | K4, K_DUR, O(mapping_timeout_ns), 0, 3600000, NULL,
	  "a duration 0-1h" },
	{ "strip_timestamps", K4, K_BOOL, O(strip_timestamps), 0, 0, NULL, "yes or no" },
	{ "ports", KS | K7, K_LONG, O(ports), 1, 1000, NULL, "an integer 1-1000" },
	{ "service_time", KS | K7, K_DUR, O(service_ns), 0, 60000, NULL, "a duration 0-60s" },
	/* cloud gateways (sim/natgw.h, docs/cloud-nat.md) */
	{ "idle", KC, K_DUR, O(idle_ns), 0, 604800000L, NULL, "a duration 0-7d" },
	{ "profile", KN, K_GWPROF, O(gw_profile), 0, 0, NULL, NULL },
	{ "ports_per_host", KN, K_LONG, O(ports_per_host), 0, 64512, NULL,
	  "an integer 0-64512 (0: a shared pool)" },
	{ "max_per_destination", KN, K_LONG, O(max_per_destination), 1, 64512, NULL,
	  "an integer 1-64512" },
	{ "tcp_time_wait_timeout", KN, K_DUR, O(gw_time_wait_ns), 0, 3600000, NULL,
	  "a duration 0-1h" },
	{ "idle_timeout", KN, K_DUR, O(gw_idle_ns), 0, 604800000L, NULL,
	  "a duration 0-7d (0: none)" },
	{ "nodes", KN, K_LONG, O(gw_nodes), 1, 1000000, NULL, "an integer 1-1000000" },
};
#define NKEYS ((int)(sizeof(keys) / sizeof(keys[0])))

static const char *const kind_names[] = { "client", "nat", "l4lb", "l7lb", "server" };

void sim_node_defaults(struct sim_node *n, enum SIM_NODE_KIND kind)
{
	memset(n, 0, sizeof(*n));
	n->kind = kind;
	n->count = 1;
	n->ips = 1;
	n->tw_reuse = -1;
	n->timestamps = 1;
	n->tw_reuse_delay_ms = TW_REUSE_DELAY_DEFAULT_MS; /* §2.2 */
	n->max_tw_buckets = TW_MAX_TW_BUCKETS_DEFAULT; /* §1.4 */
	n->hz = 1000;
	n->rto_ns = TW_RTO_MIN_NS;          /* §10: TCP_RTO_MIN on a LAN */
	n->syn_retries = -1;
	n->rate = 100;
	n->requests = 1;
	n->rtt_ns = 1000000;                /* 1 ms */
	n->mapping_timeout_ns = kind == SIM_NODE_NAT ? NAT_MAPPING_TIMEOUT_NS : 0;
	n->ports = 1;
	n->ports_per_host = n->max_per_destination = n->gw_nodes = SIM_GW_UNSET_U;
	n->gw_time_wait_ns = n->gw_idle_ns = SIM_GW_UNSET_NS;
	n->connect_probe_ns = TW_CONNECT_PROBE_NS_DEFAULT; /* model/portsearch.h */
	n->connect_base_ns = TW_CONNECT_BASE_NS_DEFAULT;
}

static void sanitize(char *dst, size_t len, const char *src)
{
	size_t i = 0;
	for (; *src && i + 4 < len; src++)
		dst[i++] = isprint((unsigned char)*src) ? *src : '?';
	if (*src && i + 4 >= len) {
		memcpy(dst + i, "...", 3);
		i += 3;
	}
	dst[i] = 0;
}

static int parse_bool(const char *v, bool *b)
{
	if (!strcmp(v, "yes") || !strcmp(v, "true") || !strcmp(v, "1") || !strcmp(v, "on"))
		*b = true;
	else if (!strcmp(v, "no") || !strcmp(v, "false") || !strcmp(v, "0") || !strcmp(v, "off"))
		*b = false;
	else
		return -EINVAL;
	return 0;
}

static int valid_name(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n >= SIM_NAME_LEN)
		return 0;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '-' && *s != '_' && *s != '.')
			return 0;
	return 1;
}

/* A name field (SIM_NAME_LEN bytes) set to s, the bytes after it zero: a --set over a longer
 * name leaves nothing of it, so equal scenarios compare equal byte for byte. */
static void set_name(char *dst, const char *s)
{
	memset(dst, 0, SIM_NAME_LEN);
	snprintf(dst, SIM_NAME_LEN, "%s", s);
}

/* Whether the K_LONG field at off is an int (a sysctl that may be -1: unset); the others are
 * uint32_t. */
static bool int_field(size_t off)
{
	return off == O(tw_reuse) || off == O(tw_recycle) || off == O(timestamps) ||
	       off == O(syn_retries) || off == O(rfc1337);
}

/* Apply one key to node n (kind-checked). On error writes "key 'k': ..." into msg. */
/* Store x, of the field's type, in the field at k->off of the node (base). */
#define SET_FIELD(x) memcpy(base + k->off, &(x), sizeof(x))

static int node_set(struct sim_node *n, const char *key, const char *val, char *msg, size_t len)
{
	const struct key_spec *k = NULL;
	char shown[48];
	char *base = (char *)n;
	long l, a, b;
	int64_t d;
	double r;
	bool bo;

	sanitize(shown, sizeof(shown), val);
	for (int i = 0; i < NKEYS; i++)
		if (!strcmp(keys[i].name, key))
			k = &keys[i];
	if (!k) {
		snprintf(msg, len, "unknown key '%.40s'", key);
		return -EINVAL;
	}
	if (!(k->kinds & (1 << n->kind))) {
		snprintf(msg, len, "key '%s' does not apply to a [%s] section", key,
			 kind_names[n->kind]);
		return -EINVAL;
	}
	switch (k->type) {
	case K_LONG:
		if (units_parse_long(val, k->lo, k->hi, &l) < 0)
			goto bad;
		if (k->off == O(hz) && l != 100 && l != 250 && l != 300 && l != 1000)
			goto bad;
		if ((k->off == O(ips) && n->kind == SIM_NODE_CLIENT &&
		     (uint64_t)l * n->count > SIM_MAX_CLIENT_IPS) ||
		    (k->off == O(count) && (uint64_t)l * n->ips > SIM_MAX_CLIENT_IPS)) {
			/* the limit is on the product: name both factors */
			uint64_t c = k->off == O(count) ? (uint64_t)l : n->count;
			uint64_t ip = k->off == O(count) ? n->ips : (uint64_t)l;
			snprintf(msg, len, "key '%s': count x ips must be at most %d, got count %llu "
				 "x ips %llu = %llu", key, SIM_MAX_CLIENT_IPS, (unsigned long long)c,
				 (unsigned long long)ip, (unsigned long long)(c * ip));
			return -EINVAL;
		}
		if (int_field(k->off)) {
			int iv = (int)l;
			SET_FIELD(iv);
		} else {
			uint32_t uv = (uint32_t)l;
			SET_FIELD(uv);
		}
		return 0;
	case K_BOOL:
		if (parse_bool(val, &bo) < 0)
			goto bad;
		SET_FIELD(bo);
		return 0;
	case K_DUR:
		if (units_parse_duration(val, &d) < 0 || d < k->lo * 1000000LL ||
		    d > k->hi * 1000000LL)
			goto bad;
		SET_FIELD(d);
		return 0;
	case K_RATE:
		if (units_parse_rate(val, &r) < 0 || r < (double)k->lo || r > (double)k->hi)
			goto bad;
		SET_FIELD(r);
		return 0;
	case K_RANGE:
		if (units_parse_range(val, k->lo, k->hi, &a, &b) < 0 || a >= b)
			goto bad;
		n->port_lo = (uint16_t)a;
		n->port_hi = (uint16_t)b;
		return 0;
	case K_ENUM:
		for (int i = 0; k->words[i]; i++) {
			if (!strcmp(k->words[i], val)) {
				SET_FIELD(i);
				return 0;
			}
		}
		goto bad;
	case K_NAME:
		if (!valid_name(val))
			goto bad;
		set_name(base + k->off, val);
		return 0;
	case K_KERNEL:
		if (strcmp(val, "host") && !tw_profile_by_name(val, NULL))
			goto bad;
		set_name(base + k->off, val);
		return 0;
	case K_GWPROF: {
		char names[160];
		if (natgw_profile_by_name(val)) {
			set_name(base + k->off, val);
			return 0;
		}
		natgw_profile_names(names, sizeof(names));
		snprintf(msg, len, "key '%.24s': expected a gateway profile: %.80s, got '%.40s'", key, names,
			 shown);
		return -EINVAL;
	}
	}
bad:
	snprintf(msg, len, "key '%s': expected %s, got '%s'", key, k->expect, shown);
	return -EINVAL;
}

static int sim_set(struct sim_scenario *sc, const char *key, const char *val, char *msg,
		   size_t len)
{
	char shown[48];
	int64_t d;
	uint64_t seed;
	sanitize(shown, sizeof(shown), val);
	if (!strcmp(key, "name")) {
		if (!valid_name(val))
			goto bad_name;
		snprintf(sc->name, sizeof(sc->name), "%s", val);
	} else if (!strcmp(key, "duration")) {
		if (units_parse_duration(val, &d) < 0 || d < 1000000000LL ||
		    d > 7 * 86400 * 1000000000LL) {
			snprintf(msg, len, "key 'duration': expected a duration 1s-7d, got '%s'", shown);
			return -EINVAL;
		}
		sc->duration_ns = d;
	} else if (!strcmp(key, "seed")) {
		char *end;
		if (!*val || !isdigit((unsigned char)*val))
			goto bad_seed;
		errno = 0;
		seed = strtoull(val, &end, 10);
		if (errno || *end)
			goto bad_seed;
		sc->seed = seed;
	} else if (!strcmp(key, "kernel")) {
		if (strcmp(val, "host") && !tw_profile_by_name(val, NULL)) {
			snprintf(msg, len, "key 'kernel': expected a kernel era or host, got '%s'",
				 shown);
			return -EINVAL;
		}
		snprintf(sc->kernel, sizeof(sc->kernel), "%s", val);
	} else {
		snprintf(msg, len, "unknown key '%.40s' (the [sim] section takes name, duration, "
			 "seed, kernel)", key);
		return -EINVAL;
	}
	return 0;
bad_name:
	snprintf(msg, len, "key 'name': expected letters, digits, '-', '_' (1-31), got '%s'",
		 shown);
	return -EINVAL;
bad_seed:
	snprintf(msg, len, "key 'seed': expected an unsigned integer, got '%s'", shown);
	return -EINVAL;
}

static int node_find(const struct sim_scenario *sc, const char *name)
{
	for (int i = 0; i < sc->nnodes; i++)
		if (!strcmp(sc->nodes[i].name, name))
			return i;
	return -1;
}

/* One section of the file as the pre-scan read it. */
struct parse_sect {
	int line;       /* its header's line */
	int node;       /* index in sc->nodes, or -1 for [sim] */
	char hdr[48];   /* the header's text as written (for messages) */
	int key_line[NKEYS]; /* line of each key set in it (0: not yet), to refuse duplicates */
};

struct parse_ctx {
	struct sim_scenario *sc;
	const char *label;
	const char *rp, *rend; /* the reader's position in the text */
	int lineno;      /* lines handed to inih so far: the line a handler call belongs to */
	int nsect;
	struct parse_sect sect[SIM_MAX_NODES + 1];
	char *err;
	size_t errlen;
	int failed;      /* line of the first error a handler call found, 0 if none */
};

static void scenario_defaults(struct sim_scenario *sc, const char *label)
{
	memset(sc, 0, sizeof(*sc));
	snprintf(sc->name, sizeof(sc->name), "custom");
	snprintf(sc->file, sizeof(sc->file), "%s", label);
	sc->duration_ns = 120LL * 1000000000;
	sc->seed = 1;
	snprintf(sc->kernel, sizeof(sc->kernel), "6.1");
}

/* Split s (n bytes) at blanks into up to max tokens (start, length); returns how many there
 * are in all (more than max when there are more). */
static int tokens(const char *s, size_t n, const char **tok, size_t *tlen, int max)
{
	int k = 0;
	size_t i = 0;
	while (i < n) {
		while (i < n && (s[i] == ' ' || s[i] == '\t'))
			i++;
		if (i == n)
			break;
		size_t b = i;
		while (i < n && s[i] != ' ' && s[i] != '\t')
			i++;
		if (k < max) {
			tok[k] = s + b;
			tlen[k] = i - b;
		}
		k++;
	}
	return k;
}

/* Section header "[kind name]" -> a new node (or [sim]). */
static int prescan_section(struct parse_ctx *pc, const char *s, size_t n, int line)
{
	const char *tok[2];
	size_t tlen[2];
	char kind[16], name[SIM_NAME_LEN], shown[48];
	int k, fields = tokens(s, n, tok, tlen, 2);
	struct parse_sect *ps;
	char buf[MAX_LINE + 1];
	memcpy(buf, s, n);
	buf[n] = 0;
	sanitize(shown, sizeof(shown), buf);
	if (fields < 1 || fields > 2 || tlen[0] >= sizeof(kind))
		goto bad;
	memcpy(kind, tok[0], tlen[0]);
	kind[tlen[0]] = 0;
	if (fields == 1 && !strcmp(kind, "sim")) {
		for (int i = 0; i < pc->nsect; i++)
			if (pc->sect[i].node < 0) {
				snprintf(pc->err, pc->errlen, "%s:%d: duplicate section [sim] (first at "
					 "line %d)", pc->label, line, pc->sect[i].line);
				return -EINVAL;
			}
		k = -1;
		goto add;
	}
	for (k = 0; k < 5; k++)
		if (!strcmp(kind, kind_names[k]))
			break;
	if (k == 5)
		goto bad;
	if (fields == 2 && tlen[1] >= SIM_NAME_LEN) {
		snprintf(pc->err, pc->errlen, "%s:%d: section name '%.*s...' is %zu characters long: "
			 "expected letters, digits, '-', '_' (1-31 characters)", pc->label, line,
			 24, tok[1], tlen[1]);
		return -EINVAL;
	}
	if (fields == 2) {
		memcpy(name, tok[1], tlen[1]);
		name[tlen[1]] = 0;
	} else {
		snprintf(name, sizeof(name), "%s", kind);
	}
	if (!valid_name(name)) {
		sanitize(shown, sizeof(shown), name);
		snprintf(pc->err, pc->errlen, "%s:%d: section name '%s': expected letters, "
			 "digits, '-', '_' (1-31 characters)", pc->label, line, shown);
		return -EINVAL;
	}
	if (!strcmp(name, "sim") || node_find(pc->sc, name) >= 0) {
		int first = !strcmp(name, "sim") ? 0 : pc->sc->nodes[node_find(pc->sc, name)].line;
		snprintf(pc->err, pc->errlen, "%s:%d: duplicate section name '%s'", pc->label,
			 line, name);
		if (first) {
			size_t l = strlen(pc->err);
			snprintf(pc->err + l, pc->errlen - l, " (first at line %d)", first);
		}
		return -EINVAL;
	}
	if (pc->sc->nnodes == SIM_MAX_NODES) {
		snprintf(pc->err, pc->errlen, "%s:%d: too many sections (at most %d nodes)",
			 pc->label, line, SIM_MAX_NODES);
		return -EINVAL;
	}
	if (n > INIH_MAX_SECTION) {
		/* valid names fit, but blanks can pad a header past what inih keeps */
		snprintf(pc->err, pc->errlen, "%s:%d: section header '[%s]' is %zu characters long "
			 "inside the brackets: at most %d", pc->label, line, shown, n,
			 INIH_MAX_SECTION);
		return -EINVAL;
	}
	struct sim_node *nd = &pc->sc->nodes[pc->sc->nnodes];
	sim_node_defaults(nd, (enum SIM_NODE_KIND)k);
	memcpy(nd->name, name, strlen(name) + 1); /* valid_name: shorter than SIM_NAME_LEN */
	nd->line = line;
	k = pc->sc->nnodes++;
add:
	ps = &pc->sect[pc->nsect++]; /* at most [sim] and SIM_MAX_NODES nodes */
	memset(ps, 0, sizeof(*ps));
	ps->line = line;
	ps->node = k;
	/* the header as written, blanks squeezed: "[client a]", "[server]" */
	snprintf(ps->hdr, sizeof(ps->hdr), "%s%s%s", kind, fields == 2 ? " " : "",
		 fields == 2 ? name : "");
	return 0;
bad:
	snprintf(pc->err, pc->errlen, "%s:%d: section '[%.40s]': expected [sim] or [KIND NAME] "
		 "with KIND client, nat, l4lb, l7lb or server", pc->label, line, shown);
	return -EINVAL;
}

/* Where inih's KEY = VALUE split falls in line p (n bytes): the first '=' or ':' before an
 * inline comment (a ';' after a blank, as INI_INLINE_COMMENT_PREFIXES), or NULL. *comment
 * tells whether a comment came first. */
static const char *kv_split(const char *p, size_t n, bool *comment)
{
	bool was_space = false;
	*comment = false;
	for (size_t i = 0; i < n; i++) {
		if (p[i] == '=' || p[i] == ':')
			return p + i;
		if (was_space && p[i] == ';') {
			*comment = true;
			return NULL;
		}
		was_space = isspace((unsigned char)p[i]);
	}
	return NULL;
}

/* Line-level checks, and the sections in the order they come. */
static int prescan(struct parse_ctx *pc, const char *text, size_t len)
{
	const char *p = text, *end = text + len;
	int line = 0;
	if (len > MAX_TEXT) {
		snprintf(pc->err, pc->errlen, "%s:1: file too large (over 1 MiB)", pc->label);
		return -EINVAL;
	}
	if (memchr(text, 0, len)) {
		const char *z = memchr(text, 0, len);
		int l = 1;
		for (const char *q = text; q < z; q++)
			l += *q == '\n';
		snprintf(pc->err, pc->errlen, "%s:%d: binary data (NUL byte): not a scenario file",
			 pc->label, l);
		return -EINVAL;
	}
	if (len >= 3 && !memcmp(p, "\xef\xbb\xbf", 3))
		p += 3; /* UTF-8 BOM, skipped by inih too */
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *e = nl ? nl : end;
		size_t n = (size_t)(e - p);
		line++;
		if (n && p[n - 1] == '\r')
			n--;
		if (n > MAX_LINE) {
			snprintf(pc->err, pc->errlen, "%s:%d: line too long (%zu characters, at most %d)",
				 pc->label, line, n, MAX_LINE);
			return -EINVAL;
		}
		for (size_t i = 0; i < n; i++) {
			unsigned char ch = (unsigned char)p[i];
			if (ch < 32 && ch != '\t') {
				snprintf(pc->err, pc->errlen, "%s:%d: control character 0x%02x: not a "
					 "text scenario file", pc->label, line, ch);
				return -EINVAL;
			}
		}
		size_t i = 0;
		bool comment;
		while (i < n && (p[i] == ' ' || p[i] == '\t'))
			i++;
		if (i == n || p[i] == ';' || p[i] == '#') {
			/* blank or comment */
		} else if (i > 0) {
			snprintf(pc->err, pc->errlen, "%s:%d: indented line: continuation lines are not "
				 "allowed; write KEY = VALUE at the start of the line", pc->label, line);
			return -EINVAL;
		} else if (p[0] == '[') {
			const char *close = memchr(p, ']', n);
			if (!close) {
				snprintf(pc->err, pc->errlen, "%s:%d: section header without ']'",
					 pc->label, line);
				return -EINVAL;
			}
			if (prescan_section(pc, p + 1, (size_t)(close - p - 1), line) < 0)
				return -EINVAL;
		} else if (!kv_split(p, n, &comment)) {
			snprintf(pc->err, pc->errlen, "%s:%d: expected KEY = VALUE or [section]%s",
				 pc->label, line, comment ? " (a ';' after a blank starts a comment, "
				 "and this one comes before any '=')" : "");
			return -EINVAL;
		} else if (p[0] == '=' || p[0] == ':') {
			snprintf(pc->err, pc->errlen, "%s:%d: empty key name", pc->label, line);
			return -EINVAL;
		}
		p = nl ? nl + 1 : end;
	}
	return 0;
}

/* inih's line reader: one line of the text per call, so that the calls count the lines and
 * a handler call knows its own (the library's INI_HANDLER_LINENO is off in the distributions'
 * builds, and a line inih refuses calls no handler). The newline is kept, a CR before it
 * dropped; lines are at most MAX_LINE characters (prescan). */
static char *reader(char *str, int num, void *stream)
{
	struct parse_ctx *pc = stream;
	const char *nl, *e;
	size_t n;
	if (pc->rp >= pc->rend || num < 2)
		return NULL;
	nl = memchr(pc->rp, '\n', (size_t)(pc->rend - pc->rp));
	e = nl ? nl : pc->rend;
	n = (size_t)(e - pc->rp);
	if (n && pc->rp[n - 1] == '\r')
		n--;
	if (n > (size_t)num - 2)
		n = (size_t)num - 2; /* cannot happen after prescan */
	memcpy(str, pc->rp, n);
	str[n] = '\n';
	str[n + 1] = 0;
	pc->rp = nl ? nl + 1 : pc->rend;
	pc->lineno++;
	return str;
}

/* The index of key in [sim]'s keys (as sim_set takes them) or the node key table, or -1. */
static int key_index(bool sim, const char *key)
{
	static const char *const sim_keys[] = { "name", "duration", "seed", "kernel" };
	if (sim) {
		for (int i = 0; i < 4; i++)
			if (!strcmp(sim_keys[i], key))
				return i;
		return -1;
	}
	for (int i = 0; i < NKEYS; i++)
		if (!strcmp(keys[i].name, key))
			return i;
	return -1;
}

static int handler(void *user, const char *section, const char *name, const char *value)
{
	struct parse_ctx *pc = user;
	struct parse_sect *ps = NULL;
	char msg[200];
	int line = pc->lineno, rc, ki;
	(void)section; /* inih cuts long names: the pre-scan's sections are the truth */
	if (pc->failed)
		return 1;
	for (int i = 0; i < pc->nsect && pc->sect[i].line < line; i++)
		ps = &pc->sect[i];
	if (!ps) {
		snprintf(pc->err, pc->errlen, "%s:%d: key '%.40s' before any [section]", pc->label,
			 line, name);
		pc->failed = line;
		return 1;
	}
	ki = key_index(ps->node < 0, name);
	if (ki >= 0 && ps->key_line[ki]) {
		snprintf(pc->err, pc->errlen, "%s:%d: [%s] duplicate key '%s' (first at line %d)",
			 pc->label, line, ps->hdr, name, ps->key_line[ki]);
		pc->failed = line;
		return 1;
	}
	if (ps->node < 0)
		rc = sim_set(pc->sc, name, value, msg, sizeof(msg));
	else
		rc = node_set(&pc->sc->nodes[ps->node], name, value, msg, sizeof(msg));
	if (rc < 0) {
		snprintf(pc->err, pc->errlen, "%s:%d: [%s] %s", pc->label, line, ps->hdr, msg);
		pc->failed = line;
	} else if (ki >= 0) {
		ps->key_line[ki] = line;
	}
	return 1;
}

/* Line `line` (1-based) of text into buf, for showing what inih refused. */
static void line_text(const char *text, int line, char *buf, size_t len)
{
	const char *p = text, *nl;
	char tmp[MAX_LINE + 1];
	size_t n;
	for (int l = 1; l < line && (nl = strchr(p, '\n')); l++)
		p = nl + 1;
	nl = strchr(p, '\n');
	n = nl ? (size_t)(nl - p) : strlen(p);
	if (n > MAX_LINE)
		n = MAX_LINE;
	memcpy(tmp, p, n);
	tmp[n] = 0;
	sanitize(buf, len, tmp);
}

int sim_scenario_load_string(const char *text, const char *label, struct sim_scenario *sc,
			     char *err, size_t errlen)
{
	struct parse_ctx *pc = calloc(1, sizeof(*pc));
	size_t len = strlen(text);
	int rc;
	scenario_defaults(sc, label);
	err[0] = 0;
	if (!pc) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	*pc = (struct parse_ctx){ .sc = sc, .label = label, .err = err, .errlen = errlen,
				  .rp = text, .rend = text + len };
	rc = prescan(pc, text, len);
	if (rc < 0)
		goto out;
	rc = ini_parse_stream(reader, pc, handler, pc);
	if (rc > 0 && (!pc->failed || rc < pc->failed)) {
		/* a line inih refused that the pre-scan let through: say which, and what */
		char shown[64];
		line_text(text, rc, shown, sizeof(shown));
		snprintf(err, errlen, "%s:%d: the INI reader refused this line: '%s'", label, rc,
			 shown);
		rc = -EINVAL;
	} else if (pc->failed) {
		rc = -EINVAL;
	} else if (rc != 0) {
		snprintf(err, errlen, "%s:1: the INI reader failed (%d)", label, rc);
		rc = -EINVAL;
	}
out:
	free(pc);
	return rc;
}

int sim_scenario_load_file(const char *path, struct sim_scenario *sc, char *err, size_t errlen)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t n;
	int rc;
	if (!f) {
		rc = -errno;
		snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
		return rc;
	}
	buf = malloc(MAX_TEXT + 2);
	if (!buf) {
		fclose(f);
		return -ENOMEM;
	}
	n = fread(buf, 1, MAX_TEXT + 1, f);
	if (ferror(f)) {
		snprintf(err, errlen, "%s: read error", path);
		rc = -EIO;
		goto out;
	}
	if (n > MAX_TEXT) {
		snprintf(err, errlen, "%s:1: file too large (over 1 MiB)", path);
		rc = -EINVAL;
		goto out;
	}
	buf[n] = 0;
	if (memchr(buf, 0, n)) {
		/* strlen would stop at the NUL: let prescan see the whole buffer */
		struct parse_ctx *pc = calloc(1, sizeof(*pc));
		if (!pc) {
			rc = -ENOMEM;
			goto out;
		}
		*pc = (struct parse_ctx){ .sc = sc, .label = path, .err = err, .errlen = errlen };
		scenario_defaults(sc, path);
		rc = prescan(pc, buf, n);
		free(pc);
		rc = rc < 0 ? rc : -EINVAL;
		goto out;
	}
	rc = sim_scenario_load_string(buf, path, sc, err, errlen);
out:
	free(buf);
	fclose(f);
	return rc;
}

int sim_scenario_load_builtin(const char *name, struct sim_scenario *sc, char *err,
			      size_t errlen)
{
	const char *text = sim_builtin_text(name);
	char label[96];
	if (!text) {
		snprintf(err, errlen, "no built-in scenario '%.40s' (see twkit sim --list)", name);
		return -ENOENT;
	}
	snprintf(label, sizeof(label), "builtin:%s", name);
	return sim_scenario_load_string(text, label, sc, err, errlen);
}

int sim_scenario_set_lines(struct sim_scenario *sc, const char *lines, char *err, size_t errlen)
{
	char *copy = strdup(lines), *save = NULL;
	int rc = 0;
	if (!copy) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	for (char *t = strtok_r(copy, "\n", &save); t && rc == 0; t = strtok_r(NULL, "\n", &save))
		rc = sim_scenario_set(sc, t, err, errlen);
	free(copy);
	return rc;
}

bool sim_scenario_arg_is_file(const char *arg, bool known)
{
	struct stat st;
	if (strchr(arg, '/') || strstr(arg, ".ini"))
		return true;
	return !known && stat(arg, &st) == 0;
}

int sim_scenario_set(struct sim_scenario *sc, const char *assignment, char *err, size_t errlen)
{
	char sect[64], msg[200];
	const char *dot = strchr(assignment, '.'), *eq = strchr(assignment, '=');
	int idx, rc;
	/* connect()'s prices without a section (as `twkit bench --calibrate` prints them): every
	 * node that connects (client, l7lb) */
	if (eq && (!dot || dot > eq) &&
	    (!strncmp(assignment, "connect_probe_ns=", 17) ||
	     !strncmp(assignment, "connect_base_ns=", 16))) {
		char k[20];
		snprintf(k, sizeof(k), "%.*s", (int)(eq - assignment), assignment);
		for (int i = 0; i < sc->nnodes; i++) {
			if (sc->nodes[i].kind != SIM_NODE_CLIENT && sc->nodes[i].kind != SIM_NODE_L7LB)
				continue;
			rc = node_set(&sc->nodes[i], k, eq + 1, msg, sizeof(msg));
			if (rc < 0) {
				snprintf(err, errlen, "--set %s", msg);
				return rc;
			}
		}
		return 0;
	}
	if (!dot || !eq || dot > eq || (size_t)(dot - assignment) >= sizeof(sect) ||
	    dot == assignment) {
		snprintf(err, errlen, "--set '%.60s': expected SECTION.KEY=VALUE", assignment);
		return -EINVAL;
	}
	memcpy(sect, assignment, (size_t)(dot - assignment));
	sect[dot - assignment] = 0;
	char key[64];
	if ((size_t)(eq - dot - 1) >= sizeof(key)) {
		snprintf(err, errlen, "--set '%.60s': key too long", assignment);
		return -EINVAL;
	}
	memcpy(key, dot + 1, (size_t)(eq - dot - 1));
	key[eq - dot - 1] = 0;
	if (!strcmp(sect, "sim")) {
		rc = sim_set(sc, key, eq + 1, msg, sizeof(msg));
	} else {
		idx = node_find(sc, sect);
		if (idx < 0) {
			snprintf(err, errlen, "--set %.60s: no section named '%s' in %s", assignment,
				 sect, sc->file);
			return -EINVAL;
		}
		rc = node_set(&sc->nodes[idx], key, eq + 1, msg, sizeof(msg));
	}
	if (rc < 0)
		snprintf(err, errlen, "--set [%s] %s", sect, msg);
	return rc;
}

/* A duration as the reader takes it back exactly, in its largest whole unit up to seconds, as
 * the built-ins write them ("120s", "100us"). */
static void fmt_duration_exact(char *buf, size_t len, int64_t ns)
{
	static const struct {
		const char *unit;
		int64_t ns;
	} u[] = {{"s", 1000000000LL}, {"ms", 1000000LL}, {"us", 1000LL}, {"ns", 1}};
	size_t i = 0;

	if (ns == 0) {
		snprintf(buf, len, "0s");
		return;
	}
	while (ns % u[i].ns != 0)
		i++;
	snprintf(buf, len, "%lld%s", (long long)(ns / u[i].ns), u[i].unit);
}

/* A rate as the reader takes it back exactly: the fewest decimals that give the same double
 * (the reader takes no exponent). */
static void fmt_rate_exact(char *buf, size_t len, double r)
{
	for (int p = 0; p <= 17; p++) {
		snprintf(buf, len, "%.*f/s", p, r);
		if (strtod(buf, NULL) == r)
			return;
	}
}

/* Key k of node n as a file writes it into buf; returns whether it differs from def's. */
static bool key_text(const struct key_spec *k, const struct sim_node *n, const struct sim_node *def,
		     char *buf, size_t len)
{
	const char *base = (const char *)n, *dbase = (const char *)def;
	int64_t d;
	double r;
	uint32_t uv;
	int iv;
	bool bo;

	switch (k->type) {
	case K_LONG:
		if (int_field(k->off)) {
			memcpy(&iv, base + k->off, sizeof(iv));
			snprintf(buf, len, "%d", iv);
			return memcmp(base + k->off, dbase + k->off, sizeof(iv)) != 0;
		}
		memcpy(&uv, base + k->off, sizeof(uv));
		snprintf(buf, len, "%u", uv);
		return memcmp(base + k->off, dbase + k->off, sizeof(uv)) != 0;
	case K_BOOL:
		memcpy(&bo, base + k->off, sizeof(bo));
		snprintf(buf, len, "%s", bo ? "yes" : "no");
		return memcmp(base + k->off, dbase + k->off, sizeof(bo)) != 0;
	case K_DUR:
		memcpy(&d, base + k->off, sizeof(d));
		fmt_duration_exact(buf, len, d);
		return memcmp(base + k->off, dbase + k->off, sizeof(d)) != 0;
	case K_RATE:
		memcpy(&r, base + k->off, sizeof(r));
		fmt_rate_exact(buf, len, r);
		return memcmp(base + k->off, dbase + k->off, sizeof(r)) != 0;
	case K_RANGE:
		snprintf(buf, len, "%u-%u", n->port_lo, n->port_hi);
		return n->port_lo != def->port_lo || n->port_hi != def->port_hi;
	case K_ENUM:
		memcpy(&iv, base + k->off, sizeof(iv));
		snprintf(buf, len, "?");
		for (int i = 0; k->words[i]; i++)
			if (i == iv)
				snprintf(buf, len, "%s", k->words[i]);
		return memcmp(base + k->off, dbase + k->off, sizeof(iv)) != 0;
	case K_NAME:
	case K_KERNEL:
	case K_GWPROF:
		snprintf(buf, len, "%s", base + k->off);
		return strcmp(base + k->off, dbase + k->off) != 0;
	}
	return false;
}

int sim_scenario_write(FILE *f, const struct sim_scenario *sc)
{
	struct sim_node def;
	char v[48];

	fprintf(f, "[sim]\nname = %s\n", sc->name);
	fmt_duration_exact(v, sizeof(v), sc->duration_ns);
	fprintf(f, "duration = %s\n", v);
	if (sc->seed != 1)
		fprintf(f, "seed = %llu\n", (unsigned long long)sc->seed);
	fprintf(f, "kernel = %s\n", sc->kernel);
	for (int i = 0; i < sc->nnodes; i++) {
		const struct sim_node *n = &sc->nodes[i];

		fprintf(f, "\n[%s %s]\n", kind_names[n->kind], n->name);
		sim_node_defaults(&def, n->kind);
		for (int j = 0; j < NKEYS; j++)
			if ((keys[j].kinds & (1 << n->kind)) &&
			    key_text(&keys[j], n, &def, v, sizeof(v)))
				fprintf(f, "%s = %s\n", keys[j].name, v);
	}
	return ferror(f) ? -EIO : 0;
}

/*
 * Follow the via keys from node `start` through nodes of any kind. Returns 0 when the walk
 * ends (a node without via, or a name that does not resolve: reported elsewhere), or
 * -EINVAL with err naming the cycle it runs into, from its first node in file order
 * ("a -> b -> a"), at that node's section line. A cycle through an L7 balancer is as wrong
 * as one through NATs: its backend connections would come back to it.
 */
static int via_cycle(const struct sim_scenario *sc, int start, char *err, size_t errlen)
{
	int path[SIM_MAX_NODES + 1], np = 0, j = start, c0, first;
	size_t off;
	for (;;) {
		for (int k = 0; k < np; k++) {
			if (path[k] != j)
				continue;
			/* path[k..np-1] is the cycle: start it at its first node in the file */
			c0 = k;
			for (int m = k; m < np; m++)
				if (path[m] < path[c0])
					c0 = m;
			first = path[c0];
			off = (size_t)snprintf(err, errlen, "%s:%d: [%s] key 'via': the path loops: ",
					       sc->file, sc->nodes[first].line, sc->nodes[first].name);
			for (int m = 0; m <= np - k && off < errlen; m++) {
				int x = path[k + (c0 - k + m) % (np - k)];
				off += (size_t)snprintf(err + off, errlen - off, "%s%s", m ? " -> " : "",
							sc->nodes[x].name);
			}
			if (off < errlen)
				snprintf(err + off, errlen - off, " (a via cycle; the path must end at "
					 "a server)");
			return -EINVAL;
		}
		if (np > SIM_MAX_NODES || !sc->nodes[j].via[0])
			return 0;
		path[np++] = j;
		j = node_find(sc, sc->nodes[j].via);
		if (j < 0)
			return 0;
	}
}

/* Whether the via path from node `from` crosses node `x`. */
static bool path_crosses(const struct sim_scenario *sc, int from, int x)
{
	int j = from;
	for (int hops = 0; hops <= SIM_MAX_NODES && sc->nodes[j].via[0]; hops++) {
		j = node_find(sc, sc->nodes[j].via);
		if (j < 0)
			return false;
		if (j == x)
			return true;
	}
	return false;
}

int sim_gateway_cfg(const struct sim_scenario *sc, const struct sim_node *n,
		    struct natgw_cfg *cfg, bool *is_gw, char *err, size_t errlen)
{
	const struct natgw_profile *p = natgw_profile_by_name(n->gw_profile);
	struct natgw_cfg c = { 0 };
	const char *pn = p ? p->name : "a gateway without a profile";
	int self = (int)(n - sc->nodes);
	*is_gw = n->kind == SIM_NODE_NAT &&
		 (p || n->ports_per_host != SIM_GW_UNSET_U ||
		  n->max_per_destination != SIM_GW_UNSET_U || n->gw_nodes != SIM_GW_UNSET_U ||
		  n->gw_time_wait_ns != SIM_GW_UNSET_NS || n->gw_idle_ns != SIM_GW_UNSET_NS);
	if (!*is_gw)
		return 0;
	if (n->mapping != SIM_NAT_PRESERVE || n->mapping_timeout_ns != NAT_MAPPING_TIMEOUT_NS) {
		/* a gateway picks its own ports and holds them its own time */
		snprintf(err, errlen, "%s:%d: [%s] key '%s' does not apply to a cloud gateway (%s): "
			 "its ports come from its own tables; the hold after a close is "
			 "tcp_time_wait_timeout", sc->file, n->line, n->name,
			 n->mapping != SIM_NAT_PRESERVE ? "mapping" : "mapping_timeout", pn);
		return -EINVAL;
	}
	c.ips = n->ips;
	c.ports_per_ip = p ? p->ports_per_ip : 64512;
	c.ports_per_host = p ? p->ports_per_host : 0;
	if (p && p->max_ips && n->ips > p->max_ips) {
		snprintf(err, errlen, "%s:%d: [%s] key 'ips': %s takes at most %u addresses, got %u",
			 sc->file, n->line, n->name, p->name, p->max_ips, n->ips);
		return -EINVAL;
	}
	if (n->gw_nodes != SIM_GW_UNSET_U && !(p && p->pool_table)) {
		snprintf(err, errlen, "%s:%d: [%s] key 'nodes': only profile azure-lb-snat takes it "
			 "(its default allocation depends on the pool size); this is %s", sc->file,
			 n->line, n->name, pn);
		return -EINVAL;
	}
	if (p && p->pool_table) {
		/* the backend pool: given, or the client hosts whose path crosses the gateway */
		uint64_t nodes = 0;
		if (n->gw_nodes != SIM_GW_UNSET_U)
			nodes = n->gw_nodes;
		else
			for (int i = 0; i < sc->nnodes; i++)
				if (sc->nodes[i].kind == SIM_NODE_CLIENT && path_crosses(sc, i, self))
					nodes += sc->nodes[i].count;
		c.ports_per_host = natgw_azure_default_ports((uint32_t)(nodes > 1000000 ? 1000000
											 : nodes),
							    n->ips);
		if (!c.ports_per_host && n->ports_per_host == SIM_GW_UNSET_U) {
			snprintf(err, errlen, "%s:%d: [%s] key 'nodes': azure-lb-snat's default port "
				 "allocation covers pools of 1-1000 instances, got %llu (set nodes, "
				 "or ports_per_host for outbound rules)", sc->file, n->line, n->name,
				 (unsigned long long)nodes);
			return -EINVAL;
		}
	}
	if (n->ports_per_host != SIM_GW_UNSET_U)
		c.ports_per_host = n->ports_per_host;
	c.max_per_destination = p && p->max_per_destination ? p->max_per_destination
							    : c.ports_per_ip;
	if (n->max_per_destination != SIM_GW_UNSET_U)
		c.max_per_destination = n->max_per_destination;
	c.tcp_time_wait_ns = n->gw_time_wait_ns != SIM_GW_UNSET_NS ? n->gw_time_wait_ns
			     : p ? p->tcp_time_wait_ns : 0;
	c.idle_ns = n->gw_idle_ns != SIM_GW_UNSET_NS ? n->gw_idle_ns : p ? p->idle_ns : 0;
	c.idle_rst = p ? p->idle_rst : false;
	if (c.ports_per_host > c.ports_per_ip || c.max_per_destination > c.ports_per_ip) {
		snprintf(err, errlen, "%s:%d: [%s] key '%s': %u is more than the %u ports an address "
			 "of %s offers", sc->file, n->line, n->name,
			 c.ports_per_host > c.ports_per_ip ? "ports_per_host" : "max_per_destination",
			 c.ports_per_host > c.ports_per_ip ? c.ports_per_host : c.max_per_destination,
			 c.ports_per_ip, pn);
		return -EINVAL;
	}
	if (cfg)
		*cfg = c;
	return 0;
}

int sim_scenario_check(const struct sim_scenario *sc, const char *host_release, char *err,
		       size_t errlen)
{
	int clients = 0, servers = 0;
	for (int i = 0; i < sc->nnodes; i++) {
		const struct sim_node *n = &sc->nodes[i];
		const char *kern = n->kernel[0] ? n->kernel : sc->kernel;
		clients += n->kind == SIM_NODE_CLIENT;
		servers += n->kind == SIM_NODE_SERVER;
		if (n->via[0] && via_cycle(sc, i, err, errlen) < 0)
			return -EINVAL;
		if (n->kind != SIM_NODE_SERVER && n->kind != SIM_NODE_CLIENT && !n->via[0])
			goto no_via;
		if (n->kind == SIM_NODE_CLIENT && !n->via[0])
			goto no_via;
		if (n->via[0]) {
			int hops = 0, j = i;
			/* follow the path: it must end at a server or l7lb without loops */
			for (;;) {
				j = node_find(sc, sc->nodes[j].via);
				if (j < 0) {
					snprintf(err, errlen, "%s:%d: [%s] key 'via': no section named "
						 "'%s'", sc->file, n->line, n->name, sc->nodes[i].via);
					return -EINVAL;
				}
				if (sc->nodes[j].kind == SIM_NODE_CLIENT) {
					snprintf(err, errlen, "%s:%d: [%s] key 'via': the path reaches "
						 "client '%s'; expected nat, l4lb, l7lb or server",
						 sc->file, n->line, n->name, sc->nodes[j].name);
					return -EINVAL;
				}
				if (sc->nodes[j].kind == SIM_NODE_SERVER ||
				    sc->nodes[j].kind == SIM_NODE_L7LB)
					break;
				if (++hops > 4) {
					snprintf(err, errlen, "%s:%d: [%s] key 'via': more than 4 nat/l4lb "
						 "hops before a server", sc->file, n->line, n->name);
					return -EINVAL;
				}
			}
		}
		if ((n->kind == SIM_NODE_CLIENT || n->kind == SIM_NODE_L7LB ||
		     n->kind == SIM_NODE_SERVER) &&
		    !tw_profile_by_name(kern, host_release)) {
			snprintf(err, errlen, "%s:%d: [%s] kernel '%s' does not resolve (host release "
				 "'%s')", sc->file, n->line, n->name, kern,
				 host_release ? host_release : "?");
			return -EINVAL;
		}
	}
	/* cloud gateways: their limits resolve, and a path crosses at most one */
	for (int i = 0; i < sc->nnodes; i++) {
		bool gw;
		int first = -1;
		if (sim_gateway_cfg(sc, &sc->nodes[i], NULL, &gw, err, errlen) < 0)
			return -EINVAL;
		if (sc->nodes[i].kind != SIM_NODE_CLIENT && sc->nodes[i].kind != SIM_NODE_L7LB)
			continue;
		for (int j = 0; j < sc->nnodes; j++) {
			if (!path_crosses(sc, i, j) ||
			    sim_gateway_cfg(sc, &sc->nodes[j], NULL, &gw, err, errlen) < 0 || !gw)
				continue;
			if (first >= 0) {
				snprintf(err, errlen, "%s:%d: [%s] key 'via': the path crosses two cloud "
					 "gateways, '%s' and '%s': at most one is simulated", sc->file,
					 sc->nodes[i].line, sc->nodes[i].name, sc->nodes[first].name,
					 sc->nodes[j].name);
				return -EINVAL;
			}
			first = j;
		}
	}
	if (!clients || !servers) {
		snprintf(err, errlen, "%s:1: missing section: a scenario needs at least one "
			 "[client NAME] and one [server NAME]", sc->file);
		return -EINVAL;
	}
	return 0;
no_via:
	for (int i = 0; i < sc->nnodes; i++)
		if (!sc->nodes[i].via[0] && sc->nodes[i].kind != SIM_NODE_SERVER) {
			snprintf(err, errlen, "%s:%d: [%s] missing key 'via': expected the next hop "
				 "(a nat, l4lb, l7lb or server section)", sc->file,
				 sc->nodes[i].line, sc->nodes[i].name);
			break;
		}
	return -EINVAL;
}
