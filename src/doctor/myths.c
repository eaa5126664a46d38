/*
 * myths — the rules for the fixes that do not work (see myths.h). Each rule fires on the value
 * in effect (the snapshot's sysctl) and cites the config line that will set it again at boot;
 * the kernel facts in the text come from model/ (profile, reuse, timewait), and what sysctl(8)
 * does with a key the kernel lacks was checked with procps-ng 4.0.2 and systemd-sysctl.
 */
#include "doctor/myths.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/units.h"
#include "model/reuse.h"
#include "model/timewait.h"

/* tcp_fin_timeout's default: include/net/tcp.h defines TCP_FIN_TIMEOUT as TCP_TIMEWAIT_LEN
 * (a fresh namespace reads 60 on the running kernel). */
#define FIN_TIMEOUT_DEFAULT_S ((int)(TW_TIMEWAIT_LEN_MS / 1000u))
/* TIME-WAIT count from which a lowered tcp_fin_timeout is a warning: that many on one host is
 * when people start "fixing" it (a sixth of one destination's default budget of 28,232 ports,
 * ~1.3 MiB), and the fix they reached for does nothing. */
#define FIN_TIMEOUT_TW_MANY 5000u

/* The config line's value as an integer; false when it is not one. */
static bool conf_int(const struct snap_conf_line *l, int64_t *v)
{
	char *e;
	long long x;

	errno = 0;
	x = strtoll(l->value, &e, 10);
	if (errno || e == l->value || *e)
		return false;
	*v = x;
	return true;
}

static void conf_ev(struct doc_finding *f, const struct snap_conf_line *l, const char *note)
{
	doc_finding_ev(f, "set in %s:%d: %s%s = %s%s", l->file, l->line, l->dash ? "-" : "", l->key,
		       l->value, note);
}

/* "in FILE:LINE" or "in sysctl.conf" for advice */
static const char *where(const struct snap_conf_line *l, char *buf, size_t len)
{
	if (l)
		snprintf(buf, len, "%s:%d", l->file, l->line);
	else
		snprintf(buf, len, "/etc/sysctl.conf or /etc/sysctl.d (if it is set there)");
	return buf;
}

/* Lowering tcp_fin_timeout "for TIME-WAIT" (§1.1): it bounds orphaned FIN_WAIT2 only. */
static void myth_fin_timeout(const struct snapshot *s, const struct doc_analysis *a,
			     struct doc_findings *fs)
{
	int fin = s->set.tcp_fin_timeout;
	const struct snap_conf_line *cl = snapshot_conf_last(s, "net.ipv4.tcp_fin_timeout");
	uint32_t tw = a->time_wait + a->tw_fin_wait2;
	char b1[32], w[256];
	int64_t cv;

	if (fin < 0 || fin >= FIN_TIMEOUT_DEFAULT_S)
		return;
	struct doc_finding *f = doc_finding_add(
		fs, "myth-fin-timeout", tw >= FIN_TIMEOUT_TW_MANY ? DOC_WARNING : DOC_INFO,
		"net.ipv4.tcp_fin_timeout=%d does not shorten TIME-WAIT: it bounds orphaned "
		"FIN_WAIT2 sockets only; TIME-WAIT lasts %u s whatever it says (compiled in)",
		fin, TW_TIMEWAIT_LEN_MS / 1000u);
	doc_finding_ev(f, "net.ipv4.tcp_fin_timeout = %d (default %d)", fin, FIN_TIMEOUT_DEFAULT_S);
	if (cl)
		conf_ev(f, cl, conf_int(cl, &cv) && cv != fin ? " (not what is in effect now)" : "");
	doc_finding_ev(f, "TIME-WAIT now: %s, each for %u s (TCP_TIMEWAIT_LEN); orphans in the "
			  "FIN_WAIT2 substate, the ones this value shortens: %u",
		       units_fmt_count(b1, sizeof(b1), a->time_wait), TW_TIMEWAIT_LEN_MS / 1000u,
		       a->tw_fin_wait2);
	/* §1.1: an orphan's FIN_WAIT2 timer is max(tcp_fin_timeout, 3.5 x RTO) */
	doc_finding_ev(f, "an orphaned FIN_WAIT2 now waits at most %.1f s for the peer's FIN "
			  "(max(tcp_fin_timeout, 3.5 x RTO), at the minimum RTO of 200 ms)",
		       (double)tw_fin_time(0, (int64_t)fin * 1000000000LL, TW_RTO_MIN_NS) / 1e9);
	doc_finding_adv(f, "For TIME-WAIT this value changes nothing: its 60 s are a compile-time "
			   "constant. If TIME-WAIT holds ports you need, the fixes are tcp_tw_reuse "
			   "for outgoing connections (timestamps on both ends), keep-alive or "
			   "pools, and more 4-tuples; see the other findings.");
	doc_finding_adv(f, "What it does: a socket closed by its application waits in FIN_WAIT2 "
			   "at most this long for the peer's FIN, then is dropped. Keeping %d s "
			   "costs little (a later FIN gets a RST, not a clean close) and helps "
			   "against peers that never close. To undo: sysctl -w "
			   "net.ipv4.tcp_fin_timeout=%d and remove the line in %s.",
			fin, FIN_TIMEOUT_DEFAULT_S, where(cl, w, sizeof(w)));
}

/* The absolute value of net.ipv4.tcp_ehash_entries (negative: the netns shares the initial
 * namespace's table, of that size), or 0 when it was not read. */
static uint64_t ehash_size(const struct snapshot *s)
{
	int64_t e = s->set.tcp_ehash_entries;

	if (!s->set.have_ehash)
		return 0;
	return e < 0 ? -(uint64_t)e : (uint64_t)e;
}

/* Lowering tcp_max_tw_buckets (§1.4): every overflow destroys a TIME-WAIT early. Fires only
 * when the limit is below this machine's default (half its established hash; the fixed
 * stand-in when the hash size is unknown) AND it bites (TIME-WAIT at the limit, or overflows
 * counted); the overflow itself is tw-bucket-overflow's, this one names the lowering. */
static void myth_max_tw_buckets(const struct snapshot *s, const struct doc_analysis *a,
				struct doc_findings *fs)
{
	int64_t max = s->set.tcp_max_tw_buckets, cv = 0;
	const struct snap_conf_line *cl = snapshot_conf_last(s, "net.ipv4.tcp_max_tw_buckets");
	uint64_t ehash = ehash_size(s);
	uint64_t def = tw_max_tw_buckets_default(ehash);
	bool conf_low = cl && conf_int(cl, &cv) && cv >= 0 && (uint64_t)cv < def;
	bool live_low = max >= 0 && (uint64_t)max < def;
	uint32_t tw = a->time_wait + a->tw_fin_wait2; /* §1.4: both substates use a bucket */
	uint64_t ovf = 0;
	bool have_ovf = kcounters_get(&s->counters, "TcpExt.TCPTimeWaitOverflow", &ovf) == 0;
	char b1[32], b2[32], b3[32], w[256];

	if (!conf_low && !live_low)
		return;
	/* the next closing socket: does it get a TIME-WAIT under this limit? (§1.4) */
	struct tw_enter_in in = { .tw_count = tw, .max_tw_buckets = max >= 0 ? (uint64_t)max : 0 };
	struct tw_enter_out out;
	tw_timewait_enter(a->prof, &in, &out);
	bool full = max >= 0 && out.what == TW_ENTER_OVERFLOW;
	if (!full && !(have_ovf && ovf > 0))
		return;
	struct doc_finding *f;
	if (conf_low)
		f = doc_finding_add(fs, "myth-max-tw-buckets", DOC_WARNING,
				    "tcp_max_tw_buckets was lowered to %s in %s:%d, and it bites: "
				    "past it closing sockets get no TIME-WAIT at all, as if closed "
				    "with SO_LINGER 0",
				    units_fmt_count(b1, sizeof(b1), (uint64_t)cv), cl->file,
				    cl->line);
	else
		f = doc_finding_add(fs, "myth-max-tw-buckets", DOC_WARNING,
				    "tcp_max_tw_buckets is %s, below %s default %s, and it bites: "
				    "past it closing sockets get no TIME-WAIT at all, as if closed "
				    "with SO_LINGER 0",
				    units_fmt_count(b1, sizeof(b1), (uint64_t)max),
				    ehash ? "this machine's" : "the usual",
				    units_fmt_count(b2, sizeof(b2), def));
	if (ehash)
		doc_finding_ev(f, "net.ipv4.tcp_max_tw_buckets = %lld (this machine's default is %s, "
				  "half of its TCP established hash)",
			       (long long)max, units_fmt_count(b3, sizeof(b3), def));
	else
		doc_finding_ev(f, "net.ipv4.tcp_max_tw_buckets = %lld (the usual default is %s, half "
				  "the TCP established hash of a machine with a few GB; this one's "
				  "hash size was not read)",
			       (long long)max, units_fmt_count(b3, sizeof(b3), def));
	if (cl)
		conf_ev(f, cl, cv != max ? " (not what is in effect now)" : "");
	else if (ehash)
		doc_finding_ev(f, "no sysctl config file sets it: it was lowered at run time "
				  "(sysctl -w, or whatever set up this namespace)");
	else
		doc_finding_ev(f, "no sysctl config file sets it: if nobody lowered it at run time, "
				  "it is this machine's own default (a small established hash)");
	if (s->set.have_ehash)
		doc_finding_ev(f, "net.ipv4.tcp_ehash_entries = %lld%s (the default limit is half "
				  "of it)",
			       (long long)s->set.tcp_ehash_entries,
			       s->set.tcp_ehash_entries < 0 ? ", shared with the initial namespace"
							    : "");
	doc_finding_ev(f, "TIME-WAIT sockets now: %s (FIN_WAIT2 substate included)%s",
		       units_fmt_count(b1, sizeof(b1), tw), full ? ": at the limit" : "");
	if (have_ovf)
		doc_finding_ev(f, "TcpExt.TCPTimeWaitOverflow = %llu: each one a connection closed "
				  "without TIME-WAIT",
			       (unsigned long long)ovf);
	doc_finding_adv(f, "Lowering the limit does not clean TIME-WAIT up, it is what destroys "
			   "them early: each overflow loses what TIME-WAIT is for (old duplicate "
			   "segments kept off a new connection on the same 4-tuple, a lost last "
			   "ACK answered again instead of by a RST).");
	doc_finding_adv(f, "Remove the line in %s and set the limit back (sysctl -w "
			   "net.ipv4.tcp_max_tw_buckets=%llu%s). Price: memory only, and only "
			   "while that many exist: %s for a full table.",
			where(cl, w, sizeof(w)), (unsigned long long)def,
			ehash ? ", this machine's boot value" : ", or this machine's boot value",
			units_fmt_bytes(b2, sizeof(b2), tw_timewait_mem_bytes(def)));
	doc_finding_adv(f, "If TIME-WAIT holds ports you need, the fixes that keep its protection "
			   "are tcp_tw_reuse for outgoing connections (timestamps on both ends), "
			   "keep-alive or pools, and more 4-tuples.");
}

/* Whether /proc/sys/net/ipv4/tcp_tw_recycle is absent: the snapshot read no value and did not
 * fail to read one (the key is optional: absent is not noted); when it could not tell, the
 * profile's era decides (§4.5: the key exists before 4.12). */
static bool recycle_key_absent(const struct snapshot *s, const struct doc_analysis *a)
{
	static const char key[] = "net.ipv4.tcp_tw_recycle:";

	if (s->set.tcp_tw_recycle >= 0)
		return false;
	for (int i = 0; i < s->nmissing; i++)
		if (strncmp(s->missing[i], key, sizeof(key) - 1) == 0)
			return !tw_recycle_available(a->prof);
	return true;
}

/* A tcp_tw_recycle line on a kernel without the key (§4.5): sysctl -p fails on it. */
static void myth_recycle_config(const struct snapshot *s, const struct doc_analysis *a,
				struct doc_findings *fs)
{
	const struct snap_conf_line *first = NULL;
	int n = 0;
	bool dash = false;

	for (int i = 0; i < s->nconf; i++)
		if (strcmp(s->conf[i].key, "net.ipv4.tcp_tw_recycle") == 0) {
			first = first ? first : &s->conf[i];
			dash = dash || s->conf[i].dash;
			n++;
		}
	if (!first || !recycle_key_absent(s, a))
		return;
	struct doc_finding *f = doc_finding_add(
		fs, "myth-recycle-config", DOC_WARNING,
		"net.ipv4.tcp_tw_recycle is set in %s:%d%s, but this kernel has no such key "
		"(removed in 4.12): sysctl -p on that file fails",
		first->file, first->line, n > 1 ? " and elsewhere" : "");
	for (int i = 0; i < s->nconf; i++)
		if (strcmp(s->conf[i].key, "net.ipv4.tcp_tw_recycle") == 0)
			conf_ev(f, &s->conf[i], "");
	doc_finding_ev(f, "kernel %s: /proc/sys/net/ipv4/tcp_tw_recycle does not exist",
		       s->release[0] ? s->release : "?");
	doc_finding_adv(f, "Delete the line%s. Price: none, the key does nothing here. Until then "
			   "sysctl -p on the file prints \"cannot stat "
			   "/proc/sys/net/ipv4/tcp_tw_recycle\" and exits 1 (it still applies the "
			   "other lines), which fails any provisioning that checks the exit status; "
			   "systemd-sysctl logs it and carries on.%s",
			n > 1 ? "s" : "",
			dash ? " The leading '-' quiets systemd-sysctl only: sysctl -p still exits 1."
			     : "");
	doc_finding_adv(f, "Where it still existed it was no TIME-WAIT fix either: it dropped SYNs "
			   "from clients behind NAT. For outgoing connections stuck on TIME-WAIT, "
			   "tcp_tw_reuse with timestamps on both ends is the safe one.");
}

/* tcp_timestamps=0 (§2.2, §6): tcp_tw_reuse has nothing to check, PAWS is off. Warning when
 * there is TIME-WAIT (reuse, on this host or at its clients, would be the fix and cannot work)
 * or tcp_tw_reuse=1 was asked for; info on a host without TIME-WAIT. */
static void myth_timestamps_off(const struct snapshot *s, const struct doc_analysis *a,
				struct doc_findings *fs)
{
	const struct snap_conf_line *cl = snapshot_conf_last(s, "net.ipv4.tcp_timestamps");
	uint32_t tw = a->time_wait + a->tw_fin_wait2;
	char b1[32], b2[32], w[256];

	if (s->set.tcp_timestamps != 0)
		return;
	/* the model's answer for the best case: reuse on, loopback, an outgoing connection */
	struct tw_reuse_scope sc = { .reuse = 1, .timestamps = 0, .peer_timestamps = 1,
				     .loopback = true, .outgoing = true };
	enum TW_REUSE_WHY why = tw_reuse_explain(a->prof, &sc);
	struct doc_finding *f = doc_finding_add(
		fs, "timestamps-off", (tw > 0 || a->tw_reuse == 1) ? DOC_WARNING : DOC_INFO,
		"net.ipv4.tcp_timestamps=0: tcp_tw_reuse silently does nothing and PAWS no longer "
		"keeps old segments out");
	doc_finding_ev(f, "net.ipv4.tcp_timestamps = 0, net.ipv4.tcp_tw_reuse = %d", a->tw_reuse);
	if (cl)
		conf_ev(f, cl, "");
	doc_finding_ev(f, "TIME-WAIT now: %s outgoing, %s incoming",
		       units_fmt_count(b1, sizeof(b1), a->tw_out),
		       units_fmt_count(b2, sizeof(b2), a->tw_in));
	doc_finding_ev(f, "even with tcp_tw_reuse=1 on loopback: %s", tw_reuse_why_str(why));
	doc_finding_adv(f, "sysctl -w net.ipv4.tcp_timestamps=1 and remove the line in %s. Price: "
			   "12 bytes of options in every segment.%s",
			where(cl, w, sizeof(w)),
			a->prof->ts_offset != TW_TS_OFF_NONE
				? " The uptime leak hardening guides cite is gone on this kernel: it "
				  "adds a random offset to every timestamp."
				: "");
	doc_finding_adv(f, "What 0 costs: connect() can never take over a TIME-WAIT (tcp_tw_reuse "
			   "needs the old connection's timestamp), and it costs the clients of this "
			   "host theirs too, since reuse needs timestamps on both ends; PAWS, which "
			   "drops old duplicate segments by their timestamp, is off.");
}

void doc_myths_run(const struct snapshot *s, const struct doc_analysis *a,
		   struct doc_findings *out)
{
	myth_fin_timeout(s, a, out);
	myth_max_tw_buckets(s, a, out);
	myth_recycle_config(s, a, out);
	myth_timestamps_off(s, a, out);
}
