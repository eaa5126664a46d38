/*
 * profile — the built-in kernel eras (see profile.h). Each field cites the spec section that
 * defines the behaviour; versions marked [M] in the spec are taken as the spec states them.
 */
#include "model/profile.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define P(name_, a, b, c) .name = name_, .ver = TW_KVER3(a, b, c)

static const struct tw_profile profiles[] = {
	{ P("2.6.32", 2, 6, 32), .has_tw_recycle = true, .reuse_default = 0,
	  .reuse_rule = TW_REUSE_SEC_GT1, .port_alg = TW_PORT_ALG_HINT_SEQ, .port_lo = 32768,
	  .port_hi = 61000, .ts_offset = TW_TS_OFF_NONE, .syn_sched = TW_SYN_INIT3S,
	  .timer_wheel = true },
	{ P("3.10", 3, 10, 0), .has_tw_recycle = true, .reuse_rule = TW_REUSE_SEC_GT1,
	  .port_alg = TW_PORT_ALG_HINT_SEQ, .port_lo = 32768, .port_hi = 61000,
	  .ts_offset = TW_TS_OFF_NONE, .syn_sched = TW_SYN_INIT1S, .timer_wheel = true },
	{ P("4.4", 4, 4, 0), .has_tw_recycle = true, .reuse_rule = TW_REUSE_SEC_GT1,
	  .port_alg = TW_PORT_ALG_HINT_EVEN, .has_bind_no_port = true, .port_lo = 32768,
	  .port_hi = 60999, .ts_offset = TW_TS_OFF_NONE, .syn_sched = TW_SYN_INIT1S,
	  .recycle_syn_without_ts_dropped = true },
	{ P("4.10", 4, 10, 0), .has_tw_recycle = true, .reuse_rule = TW_REUSE_SEC_GT1,
	  .port_alg = TW_PORT_ALG_HINT_PARITY, .has_bind_no_port = true, .port_lo = 32768,
	  .port_hi = 60999, .ts_offset = TW_TS_OFF_PER_CONN, .syn_sched = TW_SYN_INIT1S,
	  .recycle_syn_without_ts_dropped = true },
	{ P("4.11", 4, 11, 0), .has_tw_recycle = true, .reuse_rule = TW_REUSE_SEC_GT1,
	  .port_alg = TW_PORT_ALG_HINT_PARITY, .has_bind_no_port = true, .port_lo = 32768,
	  .port_hi = 60999, .ts_offset = TW_TS_OFF_PER_HOSTS, .syn_sched = TW_SYN_INIT1S,
	  .recycle_syn_without_ts_dropped = true },
	/* 4.12 removed tcp_tw_recycle, its per-peer cache and PAWSPassive (§4.5); everything
	 * else is 4.11's: reuse 0/1 with default 0 and the "> 1 s" rule (§2.2, until ~4.18),
	 * the parity search (§3.2 C), per-(saddr, daddr) TS offsets (§6) and the HZ TS clock. */
	{ P("4.12", 4, 12, 0), .reuse_rule = TW_REUSE_SEC_GT1,
	  .port_alg = TW_PORT_ALG_HINT_PARITY, .has_bind_no_port = true, .port_lo = 32768,
	  .port_hi = 60999, .ts_offset = TW_TS_OFF_PER_HOSTS, .syn_sched = TW_SYN_INIT1S },
	/* 4.13: the TS clock becomes a fixed 1 kHz (§5); the rest stays 4.12's until 4.19 */
	{ P("4.13", 4, 13, 0), .reuse_rule = TW_REUSE_SEC_GT1,
	  .port_alg = TW_PORT_ALG_HINT_PARITY, .has_bind_no_port = true, .port_lo = 32768,
	  .port_hi = 60999, .ts_offset = TW_TS_OFF_PER_HOSTS, .ts_fixed_1khz = true,
	  .syn_sched = TW_SYN_INIT1S },
	{ P("4.19", 4, 19, 0), .reuse_default = 2, .reuse_loopback_mode = true,
	  .reuse_rule = TW_REUSE_SEC_GT0, .port_alg = TW_PORT_ALG_HINT_PARITY,
	  .has_bind_no_port = true, .port_lo = 32768, .port_hi = 60999,
	  .ts_offset = TW_TS_OFF_PER_HOSTS, .ts_fixed_1khz = true, .syn_sched = TW_SYN_INIT1S },
	{ P("5.4", 5, 4, 0), .reuse_default = 2, .reuse_loopback_mode = true,
	  .reuse_rule = TW_REUSE_SEC_GT0, .port_alg = TW_PORT_ALG_HINT_PARITY,
	  .has_bind_no_port = true, .port_lo = 32768, .port_hi = 60999,
	  .ts_offset = TW_TS_OFF_PER_HOSTS, .ts_fixed_1khz = true, .syn_sched = TW_SYN_INIT1S },
	{ P("5.15", 5, 15, 0), .reuse_default = 2, .reuse_loopback_mode = true,
	  .reuse_rule = TW_REUSE_SEC_GT0, .port_alg = TW_PORT_ALG_PERTURB_64K,
	  .has_bind_no_port = true, .port_lo = 32768, .port_hi = 60999,
	  .ts_offset = TW_TS_OFF_PER_HOSTS, .ts_fixed_1khz = true, .syn_sched = TW_SYN_INIT1S },
	{ P("6.1", 6, 1, 0), .reuse_default = 2, .reuse_loopback_mode = true,
	  .reuse_rule = TW_REUSE_SEC_GT0, .port_alg = TW_PORT_ALG_PERTURB_64K,
	  .has_bind_no_port = true, .port_lo = 32768, .port_hi = 60999,
	  .ts_offset = TW_TS_OFF_PER_HOSTS, .ts_fixed_1khz = true, .syn_sched = TW_SYN_INIT1S,
	  .tw_kill_via_diag = true },
	{ P("6.12", 6, 12, 0), .reuse_default = 2, .reuse_loopback_mode = true,
	  .reuse_rule = TW_REUSE_SEC_GT0, .reuse_no_fin_wait2 = true,
	  .port_alg = TW_PORT_ALG_PERTURB_64K, .has_local_port_range_opt = true,
	  .has_bind_no_port = true, .port_lo = 32768, .port_hi = 60999,
	  .ts_offset = TW_TS_OFF_PER_HOSTS, .ts_fixed_1khz = true, .syn_sched = TW_SYN_LINEAR4,
	  .tw_kill_via_diag = true },
	{ P("6.14", 6, 14, 0), .reuse_default = 2, .reuse_loopback_mode = true,
	  .reuse_rule = TW_REUSE_MS_DELAY, .reuse_no_fin_wait2 = true,
	  .has_reuse_delay_sysctl = true, .port_alg = TW_PORT_ALG_PERTURB_64K,
	  .has_local_port_range_opt = true, .has_bind_no_port = true, .port_lo = 32768,
	  .port_hi = 60999, .ts_offset = TW_TS_OFF_PER_HOSTS, .ts_fixed_1khz = true,
	  .syn_sched = TW_SYN_LINEAR4, .tw_kill_via_diag = true },
	/* 6.18.y carries the 2026 per-4-tuple TS offset backport (§4.5, S3) and PAWSTimewait */
	{ P("6.18", 6, 18, 0), .reuse_default = 2, .reuse_loopback_mode = true,
	  .reuse_rule = TW_REUSE_MS_DELAY, .reuse_no_fin_wait2 = true,
	  .has_reuse_delay_sysctl = true, .port_alg = TW_PORT_ALG_PERTURB_64K,
	  .has_local_port_range_opt = true, .has_bind_no_port = true, .port_lo = 32768,
	  .port_hi = 60999, .ts_offset = TW_TS_OFF_PER_4TUPLE, .ts_fixed_1khz = true,
	  .syn_sched = TW_SYN_LINEAR4, .tw_kill_via_diag = true, .paws_timewait_counter = true },
};

#define NPROFILES ((int)(sizeof(profiles) / sizeof(profiles[0])))

int tw_profile_count(void)
{
	return NPROFILES;
}

const struct tw_profile *tw_profile_at(int i)
{
	return i >= 0 && i < NPROFILES ? &profiles[i] : NULL;
}

const struct tw_profile *tw_profile_for(uint32_t ver)
{
	const struct tw_profile *best = &profiles[0];
	for (int i = 0; i < NPROFILES; i++)
		if (profiles[i].ver <= ver)
			best = &profiles[i];
	return best;
}

int tw_kernel_version_parse(const char *release, uint32_t *ver)
{
	long part[3] = { 0, 0, 0 };
	const char *p = release;
	char *e;
	int n = 0;

	if (!release)
		return -EINVAL;
	while (n < 3) {
		if (*p < '0' || *p > '9')
			break;
		errno = 0;
		part[n] = strtol(p, &e, 10);
		if (errno || part[n] > 999)
			return -EINVAL;
		n++;
		p = e;
		if (*p != '.')
			break;
		p++;
	}
	if (n < 2 || part[0] < 2 || part[0] > 99)
		return -EINVAL;
	*ver = TW_KVER3(part[0], part[1], part[0] == 2 ? part[2] : 0);
	return 0;
}

const struct tw_profile *tw_profile_by_name(const char *name, const char *host_release)
{
	uint32_t v;
	if (!name)
		return NULL;
	if (strcmp(name, "host") == 0)
		return tw_kernel_version_parse(host_release, &v) == 0 ? tw_profile_for(v) : NULL;
	for (int i = 0; i < NPROFILES; i++)
		if (strcmp(profiles[i].name, name) == 0)
			return &profiles[i];
	/* "6.x"-style or any real version: the profile in force for it */
	if (tw_kernel_version_parse(name, &v) == 0)
		return tw_profile_for(v);
	return NULL;
}

/* Strict: "A.B" or "A.B.C", digits only, nothing after. */
static int version_strict(const char *s, uint32_t *ver)
{
	int dots = 0;
	bool digit = false;

	for (const char *c = s; *c; c++) {
		if (*c >= '0' && *c <= '9') {
			digit = true;
		} else if (*c == '.' && digit && dots < 2) {
			dots++;
			digit = false;
		} else {
			return -EINVAL;
		}
	}
	if (!digit || dots < 1)
		return -EINVAL;
	return tw_kernel_version_parse(s, ver);
}

static void eras_list(char *buf, size_t len)
{
	size_t at = 0;

	buf[0] = 0;
	for (int i = 0; i < NPROFILES && at < len; i++) {
		int w = snprintf(buf + at, len - at, "%s%s", i ? ", " : "", profiles[i].name);
		if (w < 0)
			return;
		at += (size_t)w;
	}
	if (at < len)
		snprintf(buf + at, len - at, ", host");
}

int tw_profile_resolve(const char *name, const char *host_release, const struct tw_profile **out,
		       char *msg, size_t len)
{
	const struct tw_profile *newest = &profiles[NPROFILES - 1];
	char known[256];
	uint32_t v;

	if (len)
		msg[0] = 0;
	*out = NULL;
	if (!name || !*name) {
		eras_list(known, sizeof(known));
		snprintf(msg, len, "an empty kernel era; known eras: %s", known);
		return -EINVAL;
	}
	for (int i = 0; i < NPROFILES; i++)
		if (!strcmp(profiles[i].name, name)) {
			*out = &profiles[i];
			return 0;
		}
	if (!strcmp(name, "host")) {
		if (tw_kernel_version_parse(host_release, &v) < 0) {
			snprintf(msg, len, "host: this machine's kernel release '%.40s' is not a "
				 "version", host_release ? host_release : "?");
			return -EINVAL;
		}
		*out = tw_profile_for(v);
		snprintf(msg, len, "host (%.40s) \xe2\x86\x92 modelled as %s", host_release, (*out)->name);
		return 0;
	}
	eras_list(known, sizeof(known));
	if (version_strict(name, &v) < 0) {
		snprintf(msg, len, "'%.40s' is not a kernel era or version (like 5.4 or 5.10.3); "
			 "known eras: %s", name, known);
		return -EINVAL;
	}
	if (v < profiles[0].ver) {
		snprintf(msg, len, "'%.40s' is older than the oldest era twkit models (%s); known "
			 "eras: %s", name, profiles[0].name, known);
		return -EINVAL;
	}
	/* a patch release of the newest era is that era; anything later is unknown ground */
	if (v / 1000 > newest->ver / 1000) {
		snprintf(msg, len, "'%.40s' is newer than the newest era twkit models (%s); known "
			 "eras: %s", name, newest->name, known);
		return -EINVAL;
	}
	*out = tw_profile_for(v);
	snprintf(msg, len, "%.40s \xe2\x86\x92 modelled as %s (the newest era at or below it)", name,
		 (*out)->name);
	return 0;
}
