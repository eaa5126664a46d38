/*
 * snapshot — collection from the live kernel or a capture (see snapshot.h).
 */
#include "kernel/snapshot.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
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
	{ "net.ipv4.tcp_ehash_entries", "/proc/sys/net/ipv4/tcp_ehash_entries", true },
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
	else if (strcmp(name, "net.ipv4.tcp_ehash_entries") == 0) {
		rc = parse_i64(text, &st->tcp_ehash_entries);
		st->have_ehash = rc == 0;
	} else if (strcmp(name, "fs.file-max") == 0)
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
	else if (strncmp(name, SNAP_CONF_PREFIX, strlen(SNAP_CONF_PREFIX)) == 0)
		rc = snapshot_feed_conf(s, name + strlen(SNAP_CONF_PREFIX), text, len);
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

/* sysctl config files ------------------------------------------------------------------- */

const char *const snap_conf_keys[] = {
	"net.ipv4.tcp_fin_timeout", "net.ipv4.tcp_max_tw_buckets", "net.ipv4.tcp_tw_recycle",
	"net.ipv4.tcp_timestamps",  "net.ipv4.tcp_tw_reuse",       "net.ipv4.ip_local_port_range",
	NULL,
};

/* A config line is read up to this many bytes: the key comes first, a value we care about is
 * a number or two; a longer line is someone else's key. */
#define CONF_LINE_MAX 256

static bool conf_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

static char *conf_trim(char *p)
{
	char *e = p + strlen(p);
	while (conf_blank(*p))
		p++;
	while (e > p && conf_blank(e[-1]))
		*--e = '\0';
	return p;
}

/* Make room in a full conf[]: drop the earliest line that a later one supersedes. With fewer
 * keys than slots there always is one. */
static void conf_drop_superseded(struct snapshot *s)
{
	for (int i = 0; i < s->nconf; i++)
		for (int j = i + 1; j < s->nconf; j++)
			if (strcmp(s->conf[i].key, s->conf[j].key) == 0) {
				memmove(&s->conf[i], &s->conf[i + 1],
					(size_t)(s->nconf - i - 1) * sizeof(s->conf[0]));
				s->nconf--;
				return;
			}
}

/* One line (NUL-terminated, writable). Keeps it when it sets a key of snap_conf_keys. */
static void conf_line(struct snapshot *s, const char *file, int lineno, char *buf)
{
	char *p = conf_trim(buf), *eq, *key, *val;
	bool dash = false;

	if (*p == '\0' || *p == '#' || *p == ';')
		return;
	if (*p == '-') { /* sysctl.d(5): "-key = value" ignores a failure to set it */
		dash = true;
		p++;
	}
	eq = strchr(p, '=');
	if (!eq)
		return;
	*eq = '\0';
	key = conf_trim(p);
	val = conf_trim(eq + 1);
	/* sysctl.d(5): a key may use '/' as separator ("net/ipv4/tcp_fin_timeout"); none of our
	 * keys has a '.' inside a component, so every '/' is a separator */
	for (char *c = key; *c; c++)
		if (*c == '/')
			*c = '.';
	for (int k = 0; snap_conf_keys[k]; k++) {
		struct snap_conf_line *l;
		if (strcmp(key, snap_conf_keys[k]) != 0)
			continue;
		if (s->nconf == SNAP_MAX_CONF_LINES) {
			conf_drop_superseded(s);
			if (s->nconf == SNAP_MAX_CONF_LINES)
				return;
			if (!s->conf_dropped) {
				s->conf_dropped = true;
				snapshot_note_missing(s, "sysctl config",
						      "too many lines set these keys: only the last "
						      "of each is kept");
			}
		}
		l = &s->conf[s->nconf++];
		memset(l, 0, sizeof(*l));
		snprintf(l->key, sizeof(l->key), "%s", snap_conf_keys[k]);
		snprintf(l->file, sizeof(l->file), "%s", file);
		snprintf(l->value, sizeof(l->value), "%s", val);
		l->line = lineno;
		l->dash = dash;
		return;
	}
}

int snapshot_feed_conf(struct snapshot *s, const char *file, const char *text, size_t len)
{
	char buf[CONF_LINE_MAX];
	size_t off = 0;
	int lineno = 0;

	if (len > SNAP_CONF_FILE_MAX || memchr(text, '\0', len))
		return -EPROTO;
	while (off < len) {
		const char *p = text + off;
		const char *nl = memchr(p, '\n', len - off);
		size_t n = nl ? (size_t)(nl - p) : len - off;
		size_t k = n < sizeof(buf) - 1 ? n : sizeof(buf) - 1;

		off += n + (nl ? 1 : 0);
		lineno++; /* at most SNAP_CONF_FILE_MAX lines: no overflow */
		memcpy(buf, p, k);
		buf[k] = '\0';
		conf_line(s, file, lineno, buf);
	}
	return 0;
}

const struct snap_conf_line *snapshot_conf_last(const struct snapshot *s, const char *key)
{
	for (int i = s->nconf - 1; i >= 0; i--)
		if (strcmp(s->conf[i].key, key) == 0)
			return &s->conf[i];
	return NULL;
}

struct conf_walk {
	struct snapshot *s;
	struct cap_writer *rec;
	bool quiet_enoent; /* the default paths: a host without them is normal */
	int nfiles;
	dev_t dev[SNAP_CONF_MAX_FILES];
	ino_t ino[SNAP_CONF_MAX_FILES];
};

/* Note a config path not read (and record it unless the capture holds the file itself). A
 * long path is cut to its start: with the reason it still says what was not read. */
static void conf_missing(struct conf_walk *w, const char *path, const char *why, bool record)
{
	char what[80];
	size_t n = strlen(path);

	n = n < sizeof(what) - 1 ? n : sizeof(what) - 1;
	memcpy(what, path, n);
	what[n] = '\0';
	snapshot_note_missing(w->s, what, why);
	if (w->rec && record)
		cap_writer_add(w->rec, CAP_MISSING, what, why, strlen(why));
}

/* One file: deduplicated by inode, named by its real path when reached through a symlink. */
static int conf_read_file(struct conf_walk *w, const char *path)
{
	struct stat st, lst;
	char name[sizeof(SNAP_CONF_PREFIX) + PATH_MAX], real[PATH_MAX];
	const char *shown = path;
	char *text = NULL;
	size_t len;
	int rc;

	if (stat(path, &st) < 0) {
		if (!(errno == ENOENT && w->quiet_enoent))
			conf_missing(w, path, strerror(errno), true);
		return 0;
	}
	if (!S_ISREG(st.st_mode))
		return 0;
	for (int i = 0; i < w->nfiles; i++)
		if (w->dev[i] == st.st_dev && w->ino[i] == st.st_ino)
			return 0;
	if (w->nfiles == SNAP_CONF_MAX_FILES) {
		conf_missing(w, path, "too many sysctl config files, skipped", true);
		return 0;
	}
	w->dev[w->nfiles] = st.st_dev;
	w->ino[w->nfiles] = st.st_ino;
	w->nfiles++;
	if (st.st_size > (off_t)SNAP_CONF_FILE_MAX) {
		conf_missing(w, path, "larger than 1 MiB, skipped", true);
		return 0;
	}
	if (lstat(path, &lst) == 0 && S_ISLNK(lst.st_mode) && realpath(path, real))
		shown = real;
	rc = kproc_read(path, SNAP_CONF_FILE_MAX, &text, &len);
	if (rc == -ENOMEM)
		return rc;
	if (rc < 0) {
		conf_missing(w, path, rc == -EFBIG ? "larger than 1 MiB, skipped" : strerror(-rc),
			     true);
		return 0;
	}
	snprintf(name, sizeof(name), "%s%s", SNAP_CONF_PREFIX, shown);
	if (w->rec)
		cap_writer_add(w->rec, CAP_FILE, name, text, len);
	if (snapshot_feed_conf(w->s, shown, text, len) < 0)
		conf_missing(w, shown, "not a text file", false);
	free(text);
	return 0;
}

static int conf_select(const struct dirent *d)
{
	size_t n = strlen(d->d_name);
	return d->d_name[0] != '.' && n > 5 && strcmp(d->d_name + n - 5, ".conf") == 0;
}

/* sysctl.d(5) orders files by name, byte by byte (not by locale) */
static int conf_byname(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

static int conf_read_path(struct conf_walk *w, const char *path)
{
	struct stat st;
	struct dirent **ents = NULL;
	char file[PATH_MAX];
	int n, rc = 0;

	if (stat(path, &st) < 0 || !S_ISDIR(st.st_mode))
		return conf_read_file(w, path);
	n = scandir(path, &ents, conf_select, conf_byname);
	if (n < 0) {
		conf_missing(w, path, strerror(errno), true);
		return 0;
	}
	for (int i = 0; i < n; i++) {
		if (rc == 0) {
			if (snprintf(file, sizeof(file), "%s/%s", path, ents[i]->d_name) >=
			    (int)sizeof(file))
				conf_missing(w, path, "a file name is too long", true);
			else
				rc = conf_read_file(w, file);
		}
		free(ents[i]);
	}
	free(ents);
	return rc;
}

int snapshot_read_conf(struct snapshot *s, struct cap_writer *rec, const char *paths)
{
	struct conf_walk *w = calloc(1, sizeof(*w));
	char path[PATH_MAX];
	const char *p;
	int rc = 0;

	if (!w)
		return -ENOMEM;
	w->s = s;
	w->rec = rec;
	w->quiet_enoent = paths == NULL;
	p = paths ? paths : SNAP_CONF_DEFAULT;
	while (rc == 0 && *p) {
		const char *e = strchr(p, '\n');
		size_t n = e ? (size_t)(e - p) : strlen(p);
		if (n >= sizeof(path)) {
			conf_missing(w, "sysctl config", "a path is too long", true);
		} else if (n > 0) {
			memcpy(path, p, n);
			path[n] = '\0';
			rc = conf_read_path(w, path);
		}
		p += n + (e ? 1 : 0);
	}
	free(w);
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

/* Whether this namespace's sockstat counts no TCP socket at all: none hashed (listening,
 * connecting, connected, closing: `inuse`, per namespace since 2.6.26) in either family, and
 * no TIME-WAIT minisocket (`tw`; on kernels where it counted the whole host it is never 0
 * while any exists). A request (SYN-RECV) needs a listener, counted in inuse. Unread
 * counters count as sockets. */
static bool no_tcp_socket(const struct snapshot *s)
{
	static const char *const keys[] = { "sockstat.TCP.inuse", "sockstat.TCP.tw",
					     "sockstat6.TCP6.inuse" };
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		uint64_t v;
		if (kcounters_get(&s->counters, keys[i], &v) < 0 || v != 0)
			return false;
	}
	return true;
}

int snapshot_collect(struct snapshot *s, struct cap_writer *rec, char *err, size_t errlen)
{
	return snapshot_collect_flags(s, rec, 0, err, errlen);
}

int snapshot_collect_flags(struct snapshot *s, struct cap_writer *rec, unsigned flags, char *err,
			   size_t errlen)
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
	if ((flags & SNAP_COLLECT_SKIP_EMPTY) && !rec && no_tcp_socket(s))
		return 0;
	if ((flags & SNAP_COLLECT_ONE_WALK) && !rec) {
		/* both families in one walk; a kernel that refuses the request gets two */
		size_t n0 = s->nsocks;
		rc = kdiag_dump(AF_UNSPEC, KDIAG_ALL_STATES, true, live_buf, &l);
		if (rc == 0)
			return 0;
		s->nsocks = n0;
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
