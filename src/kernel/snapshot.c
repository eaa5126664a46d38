/*
 * snapshot — collection from the live kernel or a capture (see snapshot.h).
 */
#include "kernel/snapshot.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/utsname.h>
#include <time.h>

#include "kernel/capture.h"

/* Canonical name -> where to read it live. /proc/thread-self/net follows this thread's netns. */
static const struct {
	const char *name;
	const char *live;
	bool optional; /* absent on some kernels: not an error */
} inputs[] = {
	{ "net.ipv4.tcp_timestamps", "/proc/sys/net/ipv4/tcp_timestamps", false },
	{ "net.ipv4.tcp_tw_reuse", "/proc/sys/net/ipv4/tcp_tw_reuse", false },
	{ "net.ipv4.tcp_tw_reuse_delay", "/proc/sys/net/ipv4/tcp_tw_reuse_delay", true },
	{ "net.ipv4.tcp_tw_recycle", "/proc/sys/net/ipv4/tcp_tw_recycle", true },
	{ "net.ipv4.ip_local_port_range", "/proc/sys/net/ipv4/ip_local_port_range", false },
	{ "net.ipv4.ip_local_reserved_ports", "/proc/sys/net/ipv4/ip_local_reserved_ports", true },
	{ "net.ipv4.tcp_max_tw_buckets", "/proc/sys/net/ipv4/tcp_max_tw_buckets", false },
	{ "net.ipv4.tcp_fin_timeout", "/proc/sys/net/ipv4/tcp_fin_timeout", false },
	{ "net.ipv4.tcp_syn_retries", "/proc/sys/net/ipv4/tcp_syn_retries", false },
	{ "fs.file-max", "/proc/sys/fs/file-max", false },
	{ "fs.file-nr", "/proc/sys/fs/file-nr", false },
	{ "/proc/net/netstat", "/proc/thread-self/net/netstat", false },
	{ "/proc/net/snmp", "/proc/thread-self/net/snmp", false },
	{ "/proc/net/sockstat", "/proc/thread-self/net/sockstat", false },
	{ "/proc/net/sockstat6", "/proc/thread-self/net/sockstat6", true },
	{ "/proc/slabinfo", "/proc/slabinfo", false },
};

void snapshot_init(struct snapshot *s)
{
	memset(s, 0, sizeof(*s));
	kcounters_init(&s->counters);
	s->set.tcp_timestamps = s->set.tcp_tw_reuse = s->set.tcp_tw_reuse_delay = -1;
	s->set.tcp_tw_recycle = s->set.tcp_fin_timeout = s->set.tcp_syn_retries = -1;
	s->set.tcp_max_tw_buckets = -1;
	s->set.port_lo = s->set.port_hi = -1;
	s->set.file_max = s->set.file_nr = s->set.nofile_cur = s->set.nofile_max = -1;
}

void snapshot_fini(struct snapshot *s)
{
	kcounters_fini(&s->counters);
	free(s->socks);
	memset(s, 0, sizeof(*s));
}

void snapshot_note_missing(struct snapshot *s, const char *what, const char *why)
{
	if (s->nmissing < SNAP_MAX_MISSING)
		snprintf(s->missing[s->nmissing++], sizeof(s->missing[0]), "%s: %s", what, why);
}

static int parse_i64(const char *text, int64_t *v)
{
	char *e;
	errno = 0;
	long long x = strtoll(text, &e, 10);
	while (*e == '\n' || *e == ' ' || *e == '\t')
		e++;
	if (errno || e == text || *e)
		return -EPROTO;
	*v = x;
	return 0;
}

static int feed_int(const char *text, int *out)
{
	int64_t v;
	if (parse_i64(text, &v) < 0 || v < -1 || v > 1 << 30)
		return -EPROTO;
	*out = (int)v;
	return 0;
}

int snapshot_feed_file(struct snapshot *s, const char *name, const char *text, size_t len)
{
	struct snap_settings *st = &s->set;
	int64_t a, b;
	int rc = 0;

	if (strlen(text) != len) /* embedded NUL: not text */
		rc = -EPROTO;
	else if (strcmp(name, "net.ipv4.tcp_timestamps") == 0)
		rc = feed_int(text, &st->tcp_timestamps);
	else if (strcmp(name, "net.ipv4.tcp_tw_reuse") == 0)
		rc = feed_int(text, &st->tcp_tw_reuse);
	else if (strcmp(name, "net.ipv4.tcp_tw_reuse_delay") == 0)
		rc = feed_int(text, &st->tcp_tw_reuse_delay);
	else if (strcmp(name, "net.ipv4.tcp_tw_recycle") == 0)
		rc = feed_int(text, &st->tcp_tw_recycle);
	else if (strcmp(name, "net.ipv4.tcp_fin_timeout") == 0)
		rc = feed_int(text, &st->tcp_fin_timeout);
	else if (strcmp(name, "net.ipv4.tcp_syn_retries") == 0)
		rc = feed_int(text, &st->tcp_syn_retries);
	else if (strcmp(name, "net.ipv4.tcp_max_tw_buckets") == 0)
		rc = parse_i64(text, &st->tcp_max_tw_buckets);
	else if (strcmp(name, "fs.file-max") == 0)
		rc = parse_i64(text, &st->file_max);
	else if (strcmp(name, "fs.file-nr") == 0)
		rc = sscanf(text, "%lld", (long long *)&st->file_nr) == 1 ? 0 : -EPROTO;
	else if (strcmp(name, "net.ipv4.ip_local_port_range") == 0) {
		if (sscanf(text, "%lld %lld", (long long *)&a, (long long *)&b) != 2 || a < 1 ||
		    b > 65535 || a > b)
			rc = -EPROTO;
		else {
			st->port_lo = (int)a;
			st->port_hi = (int)b;
		}
	} else if (strcmp(name, "net.ipv4.ip_local_reserved_ports") == 0) {
		tw_portset_clear(&st->reserved);
		rc = tw_portset_parse_list(&st->reserved, text) < 0 ? -EPROTO : 0;
		st->have_reserved = rc == 0;
		snprintf(st->reserved_text, sizeof(st->reserved_text), "%s", text);
		char *nl = strchr(st->reserved_text, '\n');
		if (nl)
			*nl = '\0';
	} else if (strcmp(name, "/proc/net/netstat") == 0 || strcmp(name, "/proc/net/snmp") == 0)
		rc = kproc_parse_pairs(text, &s->counters) < 0 ? -EPROTO : 0;
	else if (strcmp(name, "/proc/net/sockstat") == 0)
		rc = kproc_parse_sockstat(text, "sockstat", &s->counters) < 0 ? -EPROTO : 0;
	else if (strcmp(name, "/proc/net/sockstat6") == 0)
		rc = kproc_parse_sockstat(text, "sockstat6", &s->counters) < 0 ? -EPROTO : 0;
	else if (strcmp(name, "/proc/slabinfo") == 0) {
		int r = kproc_parse_slab(text, "tw_sock_TCP", &s->tw_objsize, &s->tw_slab_active);
		s->have_slab = r == 0;
		rc = r == -EPROTO ? -EPROTO : 0;
	} else if (strcmp(name, "uname.release") == 0) {
		snprintf(s->release, sizeof(s->release), "%s", text);
	} else if (strcmp(name, "time.collected_ms") == 0)
		rc = parse_i64(text, &s->collected_ms);
	else if (strcmp(name, "rlimit.nofile") == 0) {
		if (sscanf(text, "%lld %lld", (long long *)&st->nofile_cur,
			   (long long *)&st->nofile_max) != 2)
			rc = -EPROTO;
	}
	/* unknown names are ignored: newer twkit versions may record more */
	if (rc < 0)
		snapshot_note_missing(s, name, "could not parse its contents");
	return rc;
}

static int add_sock(const struct kdiag_sock *k, void *ctx)
{
	struct snapshot *s = ctx;
	if (s->nsocks == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 4096;
		struct kdiag_sock *n = realloc(s->socks, cap * sizeof(*n));
		if (!n)
			return -ENOMEM;
		s->socks = n;
		s->cap = cap;
	}
	s->socks[s->nsocks++] = *k;
	return 0;
}

int snapshot_feed_diag(struct snapshot *s, const void *buf, size_t len)
{
	bool done;
	int rc = kdiag_parse_buf(buf, len, add_sock, s, &done);
	return rc < 0 ? rc : 0;
}

struct live_ctx {
	struct snapshot *s;
	struct cap_writer *rec;
	int type;
};

static int live_buf(const void *buf, size_t len, void *ctx)
{
	struct live_ctx *l = ctx;
	if (l->rec)
		cap_writer_add(l->rec, (enum CAP_TYPE)l->type, NULL, buf, len);
	return snapshot_feed_diag(l->s, buf, len);
}

static void feed_pseudo(struct snapshot *s, struct cap_writer *rec, const char *name,
			const char *text)
{
	if (rec)
		cap_writer_add(rec, CAP_FILE, name, text, strlen(text));
	snapshot_feed_file(s, name, text, strlen(text));
}

int snapshot_collect(struct snapshot *s, struct cap_writer *rec, char *err, size_t errlen)
{
	struct utsname u;
	struct rlimit rl;
	struct timespec ts;
	char tmp[64];
	struct live_ctx l = { s, rec, CAP_DIAG4 };
	int rc;

	if (uname(&u) == 0)
		feed_pseudo(s, rec, "uname.release", u.release);
	clock_gettime(CLOCK_REALTIME, &ts);
	snprintf(tmp, sizeof(tmp), "%lld", (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
	feed_pseudo(s, rec, "time.collected_ms", tmp);
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		snprintf(tmp, sizeof(tmp), "%lld %lld",
			 rl.rlim_cur == RLIM_INFINITY ? -1LL : (long long)rl.rlim_cur,
			 rl.rlim_max == RLIM_INFINITY ? -1LL : (long long)rl.rlim_max);
		feed_pseudo(s, rec, "rlimit.nofile", tmp);
	}
	for (size_t i = 0; i < sizeof(inputs) / sizeof(inputs[0]); i++) {
		char *text = NULL;
		size_t len;
		rc = kproc_read(inputs[i].live, 16u << 20, &text, &len);
		if (rc < 0) {
			if (!(inputs[i].optional && rc == -ENOENT)) {
				snapshot_note_missing(s, inputs[i].name, strerror(-rc));
				if (rec)
					cap_writer_add(rec, CAP_MISSING, inputs[i].name, strerror(-rc),
						       strlen(strerror(-rc)));
			}
			continue;
		}
		if (rec)
			cap_writer_add(rec, CAP_FILE, inputs[i].name, text, len);
		snapshot_feed_file(s, inputs[i].name, text, len);
		free(text);
	}
	/* One dump per family of every state, with tcp_info for full sockets (§9). */
	rc = kdiag_dump(AF_INET, KDIAG_ALL_STATES, true, live_buf, &l);
	if (rc < 0) {
		snprintf(err, errlen, "sock_diag dump (IPv4) failed: %s", strerror(-rc));
		return rc;
	}
	l.type = CAP_DIAG6;
	rc = kdiag_dump(AF_INET6, KDIAG_ALL_STATES, true, live_buf, &l);
	if (rc == -ENOENT || rc == -EAFNOSUPPORT) {
		snapshot_note_missing(s, "sock_diag IPv6", "not supported by this kernel");
		rc = 0;
	}
	if (rc < 0) {
		snprintf(err, errlen, "sock_diag dump (IPv6) failed: %s", strerror(-rc));
		return rc;
	}
	return 0;
}

int snapshot_from_capture(struct snapshot *s, const struct cap_reader *r, char *err,
			  size_t errlen)
{
	for (size_t i = 0; i < r->nsec; i++) {
		const struct cap_section *c = &r->sec[i];
		int rc;
		if (c->type == CAP_FILE) {
			char *text = malloc(c->len + 1);
			if (!text)
				return -ENOMEM;
			memcpy(text, c->data, c->len);
			text[c->len] = '\0';
			snapshot_feed_file(s, c->name, text, c->len);
			free(text);
		} else if (c->type == CAP_MISSING) {
			char why[96];
			snprintf(why, sizeof(why), "%.*s", (int)(c->len < 90 ? c->len : 90),
				 (const char *)c->data);
			snapshot_note_missing(s, c->name, why);
		} else if (c->type == CAP_DIAG4 || c->type == CAP_DIAG6) {
			/* sections sit at any offset: netlink wants 4-byte alignment, so copy */
			void *al = malloc(c->len ? c->len : 1);
			if (!al)
				return -ENOMEM;
			memcpy(al, c->data, c->len);
			rc = snapshot_feed_diag(s, al, c->len);
			free(al);
			if (rc < 0) {
				snprintf(err, errlen, "corrupt socket dump in section %zu: %s", i + 1,
					 strerror(-rc));
				return -EINVAL;
			}
		}
	}
	return 0;
}
