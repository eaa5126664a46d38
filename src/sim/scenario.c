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
#include "model/reuse.h"
#include "model/timewait.h"
#include "sim/sim.h"

#define MAX_LINE 199 /* inih reads at most INI_MAX_LINE (200) bytes per line, newline included */
#define MAX_TEXT (1 << 20)

enum KTYPE { K_LONG, K_BOOL, K_DUR, K_RATE, K_RANGE, K_ENUM, K_NAME, K_KERNEL };

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
	{ "rtt", KC | K7, K_DUR, O(rtt_ns), 0, 10000, NULL, "a duration 0-10s" },
	{ "via", KC | KN | K4 | K7, K_NAME, O(via), 0, 0, NULL, "the name of another section" },
	{ "mapping", KN, K_ENUM, O(mapping), 0, 0, w_mapping, "preserve, sequential or random" },
	{ "mapping_timeout", KN | K4, K_DUR, O(mapping_timeout_ns), 0, 3600000, NULL,
	  "a duration 0-1h" },
	{ "strip_timestamps", K4, K_BOOL, O(strip_timestamps), 0, 0, NULL, "yes or no" },
	{ "ports", KS | K7, K_LONG, O(ports), 1, 1000, NULL, "an integer 1-1000" },
	{ "service_time", KS | K7, K_DUR, O(service_ns), 0, 60000, NULL, "a duration 0-60s" },
};
#define NKEYS ((int)(sizeof(keys) / sizeof(keys[0])))

static const char *const kind_names[] = { "client", "nat", "l4lb", "l7lb", "server" };

static void node_defaults(struct sim_node *n, enum SIM_NODE_KIND kind)
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
	n->mapping_timeout_ns = kind == SIM_NODE_NAT ? 120LL * 1000000000 : 0;
	n->ports = 1;
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
		if (k->off == O(ips) && n->kind == SIM_NODE_CLIENT && (uint64_t)l * n->count > 60000)
			goto bad;
		if (k->off == O(count) && (uint64_t)l * n->ips > 60000)
			goto bad;
		if (k->off == O(tw_reuse) || k->off == O(tw_recycle) || k->off == O(timestamps) ||
		    k->off == O(syn_retries) || k->off == O(rfc1337)) {
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
		snprintf(base + k->off, SIM_NAME_LEN, "%s", val);
		return 0;
	case K_KERNEL:
		if (strcmp(val, "host") && !tw_profile_by_name(val, NULL))
			goto bad;
		snprintf(base + k->off, SIM_NAME_LEN, "%s", val);
		return 0;
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

struct parse_ctx {
	struct sim_scenario *sc;
	const char *label;
	int *lines;      /* line number of the i-th key line */
	int nlines, call;
	char *err;
	size_t errlen;
	int failed;
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

/* Section header "[kind name]" -> a new node (or [sim]). */
static int prescan_section(struct parse_ctx *pc, const char *s, size_t n, int line)
{
	char buf[MAX_LINE + 1], kind[16], name[64], extra[8];
	int k, fields;
	memcpy(buf, s, n);
	buf[n] = 0;
	fields = sscanf(buf, "%15s %63s %7s", kind, name, extra);
	if (fields == 1 && !strcmp(kind, "sim"))
		return 0;
	if (fields < 1 || fields > 2)
		goto bad;
	for (k = 0; k < 5; k++)
		if (!strcmp(kind, kind_names[k]))
			break;
	if (k == 5)
		goto bad;
	if (fields == 1)
		snprintf(name, sizeof(name), "%s", kind);
	if (!valid_name(name)) {
		snprintf(pc->err, pc->errlen, "%s:%d: section name '%.40s': expected letters, "
			 "digits, '-', '_' (1-31 characters)", pc->label, line, name);
		return -EINVAL;
	}
	if (!strcmp(name, "sim") || node_find(pc->sc, name) >= 0) {
		snprintf(pc->err, pc->errlen, "%s:%d: duplicate section name '%s'", pc->label,
			 line, name);
		return -EINVAL;
	}
	if (pc->sc->nnodes == SIM_MAX_NODES) {
		snprintf(pc->err, pc->errlen, "%s:%d: too many sections (at most %d nodes)",
			 pc->label, line, SIM_MAX_NODES);
		return -EINVAL;
	}
	struct sim_node *nd = &pc->sc->nodes[pc->sc->nnodes++];
	node_defaults(nd, (enum SIM_NODE_KIND)k);
	memcpy(nd->name, name, strlen(name) + 1); /* valid_name: shorter than SIM_NAME_LEN */
	nd->line = line;
	return 0;
bad:
	snprintf(pc->err, pc->errlen, "%s:%d: section '[%.40s]': expected [sim] or [KIND NAME] "
		 "with KIND client, nat, l4lb, l7lb or server", pc->label, line, buf);
	return -EINVAL;
}

/* Line-level checks; records the line of each key line in order. */
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
	pc->lines = malloc((len / 2 + 2) * sizeof(int));
	if (!pc->lines)
		return -ENOMEM;
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
		} else if (!memchr(p, '=', n) && !memchr(p, ':', n)) {
			snprintf(pc->err, pc->errlen, "%s:%d: expected KEY = VALUE or [section]",
				 pc->label, line);
			return -EINVAL;
		} else {
			if (p[0] == '=' || p[0] == ':') {
				snprintf(pc->err, pc->errlen, "%s:%d: empty key name", pc->label, line);
				return -EINVAL;
			}
			pc->lines[pc->nlines++] = line;
		}
		p = nl ? nl + 1 : end;
	}
	return 0;
}

static int handler(void *user, const char *section, const char *name, const char *value)
{
	struct parse_ctx *pc = user;
	char msg[200], kind[16], sname[64];
	int line = pc->call < pc->nlines ? pc->lines[pc->call] : 0;
	int idx, rc;
	pc->call++;
	if (pc->failed)
		return 1;
	if (!section[0]) {
		snprintf(pc->err, pc->errlen, "%s:%d: key '%.40s' before any [section]", pc->label,
			 line, name);
		pc->failed = 1;
		return 1;
	}
	if (!strcmp(section, "sim")) {
		rc = sim_set(pc->sc, name, value, msg, sizeof(msg));
	} else {
		int f = sscanf(section, "%15s %63s", kind, sname);
		idx = node_find(pc->sc, f == 2 ? sname : kind);
		if (idx < 0) { /* prescan created every section; cannot happen */
			snprintf(msg, sizeof(msg), "unknown section");
			rc = -EINVAL;
		} else {
			rc = node_set(&pc->sc->nodes[idx], name, value, msg, sizeof(msg));
		}
	}
	if (rc < 0) {
		snprintf(pc->err, pc->errlen, "%s:%d: [%.40s] %s", pc->label, line, section, msg);
		pc->failed = 1;
	}
	return 1;
}

int sim_scenario_load_string(const char *text, const char *label, struct sim_scenario *sc,
			     char *err, size_t errlen)
{
	struct parse_ctx pc = { .sc = sc, .label = label, .err = err, .errlen = errlen };
	int rc;
	scenario_defaults(sc, label);
	err[0] = 0;
	rc = prescan(&pc, text, strlen(text));
	if (rc < 0)
		goto out;
	rc = ini_parse_string(text, handler, &pc);
	if (pc.failed) {
		rc = -EINVAL;
	} else if (rc != 0) {
		snprintf(err, errlen, "%s:%d: syntax error", label, rc > 0 ? rc : 1);
		rc = -EINVAL;
	}
out:
	free(pc.lines);
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
		struct parse_ctx pc = { .sc = sc, .label = path, .err = err, .errlen = errlen };
		scenario_defaults(sc, path);
		rc = prescan(&pc, buf, n);
		free(pc.lines);
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

int sim_scenario_check(const struct sim_scenario *sc, const char *host_release, char *err,
		       size_t errlen)
{
	int clients = 0, servers = 0;
	for (int i = 0; i < sc->nnodes; i++) {
		const struct sim_node *n = &sc->nodes[i];
		const char *kern = n->kernel[0] ? n->kernel : sc->kernel;
		clients += n->kind == SIM_NODE_CLIENT;
		servers += n->kind == SIM_NODE_SERVER;
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
						 "hops (or a loop) before a server", sc->file, n->line,
						 n->name);
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
