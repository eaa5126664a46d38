/*
 * units — strict parsers and friendly formatters (see units.h).
 */
#include "common/units.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>

/* Parse a leading non-negative decimal number (digits and one optional point). */
static int leading_number(const char *s, double *v, const char **end)
{
	char *e;
	if (!s || !*s || *s == '-' || *s == '+' || *s == ' ')
		return -EINVAL;
	if ((s[0] < '0' || s[0] > '9') && s[0] != '.')
		return -EINVAL;
	errno = 0;
	*v = strtod(s, &e);
	if (e == s || errno || !isfinite(*v) || *v < 0)
		return -EINVAL;
	/* refuse hex, exponents and infinities that strtod accepts */
	for (const char *p = s; p < e; p++)
		if ((*p < '0' || *p > '9') && *p != '.')
			return -EINVAL;
	*end = e;
	return 0;
}

/*
 * One component "<number><unit>" of a duration; the unit may be absent only when the
 * component is the whole string. Units are matched longest first ("ms" before "m").
 */
static int duration_unit(const char *e, double *mult, const char **rest)
{
	static const struct {
		const char *suf;
		double mult;
	} tab[] = { { "ms", 1e6 }, { "us", 1e3 }, { "ns", 1.0 },     { "s", 1e9 },
		    { "m", 60e9 }, { "h", 3600e9 }, { "d", 86400e9 } };
	for (size_t i = 0; i < sizeof(tab) / sizeof(tab[0]); i++) {
		size_t n = strlen(tab[i].suf);
		if (strncmp(e, tab[i].suf, n) == 0) {
			*mult = tab[i].mult;
			*rest = e + n;
			return 0;
		}
	}
	return -EINVAL;
}

int units_parse_duration(const char *s, int64_t *ns)
{
	double total = 0, last_mult = 0;
	const char *p = s;
	double v, mult;
	const char *e;
	if (leading_number(p, &v, &e) < 0)
		return -EINVAL;
	if (!*e) { /* a bare number is seconds */
		total = v * 1e9;
		goto done;
	}
	/* "1h30m", "1m30s", "1d12h": components in strictly decreasing units */
	for (;;) {
		if (duration_unit(e, &mult, &p) < 0)
			return -EINVAL;
		if (last_mult && mult >= last_mult)
			return -EINVAL;
		last_mult = mult;
		total += v * mult;
		if (!*p)
			break;
		if (leading_number(p, &v, &e) < 0 || !*e)
			return -EINVAL; /* "1m30": the last component needs its unit */
	}
done:
	if (total > 9.2e18)
		return -EINVAL;
	*ns = (int64_t)llround(total);
	return 0;
}

static int suffix_mult(const char *e, double *mult, const char **rest, bool binary)
{
	*mult = 1;
	*rest = e;
	switch (*e) {
	case 'k':
	case 'K':
		*mult = binary ? 1024.0 : 1e3;
		break;
	case 'M':
		*mult = binary ? 1048576.0 : 1e6;
		break;
	case 'G':
		*mult = binary ? 1073741824.0 : 1e9;
		break;
	default:
		return 0;
	}
	*rest = e + 1;
	return 0;
}

int units_parse_rate(const char *s, double *per_s)
{
	double v, m;
	const char *e, *rest;
	if (leading_number(s, &v, &e) < 0)
		return -EINVAL;
	suffix_mult(e, &m, &rest, false);
	if (*rest && strcmp(rest, "/s") != 0)
		return -EINVAL;
	*per_s = v * m;
	return 0;
}

int units_parse_count(const char *s, uint64_t *n)
{
	double v, m;
	const char *e, *rest;
	if (s[0] >= '0' && s[0] <= '9' && s[strspn(s, "0123456789")] == '\0') {
		/* plain digits: exact to 2^64-1 (a seed, a byte count), not through a double */
		errno = 0;
		unsigned long long u = strtoull(s, NULL, 10);
		if (errno)
			return -EINVAL;
		*n = u;
		return 0;
	}
	if (leading_number(s, &v, &e) < 0)
		return -EINVAL;
	suffix_mult(e, &m, &rest, false);
	if (*rest)
		return -EINVAL;
	v *= m;
	if (v > 1.8e19 || v != floor(v))
		return -EINVAL;
	*n = (uint64_t)v;
	return 0;
}

int units_parse_size(const char *s, uint64_t *bytes)
{
	double v, m;
	const char *e, *rest;
	if (leading_number(s, &v, &e) < 0)
		return -EINVAL;
	suffix_mult(e, &m, &rest, true);
	if (*rest && strcmp(rest, "iB") != 0 && strcmp(rest, "B") != 0 &&
	    !(m == 1 && strcmp(rest, "B") == 0))
		return -EINVAL;
	v *= m;
	if (v > 1.8e19)
		return -EINVAL;
	*bytes = (uint64_t)v;
	return 0;
}

int units_parse_ipport(const char *s, long plo, long phi, struct sockaddr_storage *ss,
		       socklen_t *len, long *a, long *b)
{
	char host[INET6_ADDRSTRLEN];
	const char *colon;
	struct sockaddr_in *a4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (!s)
		return -EINVAL;
	if (s[0] == '[') {
		const char *rb = strchr(s, ']');
		if (!rb || rb[1] != ':' || (size_t)(rb - s - 1) >= sizeof(host))
			return -EINVAL;
		memcpy(host, s + 1, (size_t)(rb - s - 1));
		host[rb - s - 1] = '\0';
		colon = rb + 1;
	} else {
		colon = strrchr(s, ':');
		if (!colon || (size_t)(colon - s) >= sizeof(host))
			return -EINVAL;
		memcpy(host, s, (size_t)(colon - s));
		host[colon - s] = '\0';
	}
	if (units_parse_range(colon + 1, plo, phi, a, b) < 0)
		return -EINVAL;
	if (inet_pton(AF_INET, host, &a4->sin_addr) == 1) {
		a4->sin_family = AF_INET;
		*len = sizeof(*a4);
	} else if (inet_pton(AF_INET6, host, &a6->sin6_addr) == 1) {
		a6->sin6_family = AF_INET6;
		*len = sizeof(*a6);
	} else {
		return -EINVAL;
	}
	return 0;
}

char *units_fmt_ipport(char *buf, size_t len, const struct sockaddr_storage *ss, unsigned a,
		       unsigned b)
{
	char ip[INET6_ADDRSTRLEN] = "?";
	bool v6 = ss->ss_family == AF_INET6;
	if (v6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)ss)->sin6_addr, ip, sizeof(ip));
	else
		inet_ntop(AF_INET, &((const struct sockaddr_in *)ss)->sin_addr, ip, sizeof(ip));
	if (a == b)
		snprintf(buf, len, v6 ? "[%s]:%u" : "%s:%u", ip, a);
	else
		snprintf(buf, len, v6 ? "[%s]:%u-%u" : "%s:%u-%u", ip, a, b);
	return buf;
}

int units_parse_long(const char *s, long lo, long hi, long *v)
{
	char *e;
	if (!s || !*s || *s == ' ')
		return -EINVAL;
	errno = 0;
	long x = strtol(s, &e, 10);
	if (errno || *e || x < lo || x > hi)
		return -EINVAL;
	*v = x;
	return 0;
}

int units_parse_double(const char *s, double lo, double hi, double *v)
{
	char *e;
	if (!s || !*s || *s == ' ')
		return -EINVAL;
	errno = 0;
	double x = strtod(s, &e);
	if (errno || *e || !isfinite(x) || x < lo || x > hi)
		return -EINVAL;
	*v = x;
	return 0;
}

int units_parse_range(const char *s, long lo, long hi, long *a, long *b)
{
	char buf[64];
	const char *dash;
	if (!s || strlen(s) >= sizeof(buf))
		return -EINVAL;
	dash = strchr(s, '-');
	if (!dash)
		return units_parse_long(s, lo, hi, a) < 0 ? -EINVAL : (*b = *a, 0);
	memcpy(buf, s, (size_t)(dash - s));
	buf[dash - s] = '\0';
	if (units_parse_long(buf, lo, hi, a) < 0 || units_parse_long(dash + 1, lo, hi, b) < 0)
		return -EINVAL;
	return *a <= *b ? 0 : -EINVAL;
}

char *units_fmt_count(char *buf, size_t len, uint64_t n)
{
	char tmp[32];
	int l = snprintf(tmp, sizeof(tmp), "%" PRIu64, n), o = 0;
	for (int i = 0; i < l && (size_t)o + 2 < len; i++) {
		if (i && (l - i) % 3 == 0)
			buf[o++] = ',';
		buf[o++] = tmp[i];
	}
	buf[o] = '\0';
	return buf;
}

char *units_fmt_bytes(char *buf, size_t len, uint64_t bytes)
{
	static const char *u[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	double v = (double)bytes;
	int i = 0;
	while (v >= 1024 && i < 4) {
		v /= 1024;
		i++;
	}
	if (i == 0)
		snprintf(buf, len, "%" PRIu64 " B", bytes);
	else
		snprintf(buf, len, v < 10 ? "%.1f %s" : "%.0f %s", v, u[i]);
	return buf;
}

char *units_fmt_duration(char *buf, size_t len, int64_t ns)
{
	double s = (double)ns / 1e9;
	if (ns < 0)
		snprintf(buf, len, "-");
	else if (ns < 1000000)
		snprintf(buf, len, "%.0fus", (double)ns / 1e3);
	else if (ns < NS_PER_SEC)
		snprintf(buf, len, "%.0fms", (double)ns / 1e6);
	else if (s < 60)
		snprintf(buf, len, s < 10 ? "%.1fs" : "%.0fs", s);
	else if (s < 3600)
		snprintf(buf, len, "%dm%02ds", (int)(s / 60), (int)s % 60);
	else
		snprintf(buf, len, "%dh%02dm", (int)(s / 3600), ((int)s % 3600) / 60);
	return buf;
}

char *units_fmt_rate(char *buf, size_t len, double r)
{
	if (r >= 1e6)
		snprintf(buf, len, "%.1fM/s", r / 1e6);
	else if (r >= 1e4)
		snprintf(buf, len, "%.0fk/s", r / 1e3);
	else if (r >= 1e3)
		snprintf(buf, len, "%.1fk/s", r / 1e3);
	else if (r >= 10)
		snprintf(buf, len, "%.0f/s", r);
	else
		snprintf(buf, len, "%.1f/s", r);
	return buf;
}
