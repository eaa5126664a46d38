/*
 * allns — doctor over every network namespace (see allns.h).
 */
#include "doctor/allns.h"

#include <errno.h>
#include <linux/capability.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "common/jsonw.h"
#include "common/promw.h"
#include "common/units.h"
#include "doctor/analyse.h"
#include "doctor/findings.h"
#include "doctor/render.h"
#include "kernel/netns.h"
#include "kernel/netns_list.h"
#include "kernel/snapshot.h"
#include "verbs.h"

enum NS_STATUS { NS_ANALYSED, NS_GONE, NS_FAILED };

/* One namespace's look: a summary always, the full analysis while it is among the busiest. */
struct ns_res {
	size_t idx; /* into the kns_list */
	enum NS_STATUS st;
	char why[160];
	uint32_t tw, fw2, total, tw_out, tw_in;
	size_t ngroups;
	double busiest_util; /* the first group's utilization (groups come busiest first) */
	int nsev[3], worst;
	bool detailed;	    /* full analysis kept */
	bool shown;	    /* among the --top busiest: reported in full */
	struct snapshot *s; /* detailed only; sockets already freed */
	struct doc_analysis a;
	struct doc_findings *fs;
};

static const char *const status_names[] = {"analysed", "gone", "failed"};

static double elapsed_s(const struct timespec *t0)
{
	struct timespec t1;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

int doc_allns_check_privilege(char *what, size_t len)
{
	struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
	struct __user_cap_data_struct d[2];
	bool admin, ptrace;

	memset(d, 0, sizeof(d));
	if (syscall(SYS_capget, &h, d) < 0) {
		admin = ptrace = geteuid() == 0;
	} else {
		admin = d[0].effective & (1u << CAP_SYS_ADMIN);
		ptrace = d[0].effective & (1u << CAP_SYS_PTRACE);
	}
	if (admin && ptrace) {
		snprintf(what, len, "%s", "");
		return 0;
	}
	snprintf(what, len, "--all-netns needs root: %s%s%s missing (%s%s%s)",
		 admin ? "" : "CAP_SYS_ADMIN", !admin && !ptrace ? " and " : "",
		 ptrace ? "" : "CAP_SYS_PTRACE", admin ? "" : "to enter a namespace with setns",
		 !admin && !ptrace ? "; " : "",
		 ptrace ? "" : "to open another process's /proc/PID/ns/net");
	return -EPERM;
}

/* Busiest first: most TIME-WAIT, then most sockets; looked-at before gone or failed; then the
 * order found (named first, by name; then by pid). */
static int busier(const struct ns_res *x, const struct ns_res *y)
{
	if ((x->st == NS_ANALYSED) != (y->st == NS_ANALYSED))
		return x->st == NS_ANALYSED ? -1 : 1;
	uint64_t tx = (uint64_t)x->tw + x->fw2, ty = (uint64_t)y->tw + y->fw2;
	if (tx != ty)
		return tx > ty ? -1 : 1;
	if (x->total != y->total)
		return x->total > y->total ? -1 : 1;
	return x->idx < y->idx ? -1 : x->idx > y->idx ? 1 : 0;
}

static int cmp_res(const void *a, const void *b)
{
	return busier(a, b);
}

static void res_drop_detail(struct ns_res *r)
{
	if (r->s) {
		snapshot_fini(r->s);
		free(r->s);
		r->s = NULL;
	}
	doc_analysis_fini(&r->a);
	memset(&r->a, 0, sizeof(r->a));
	free(r->fs);
	r->fs = NULL;
	r->detailed = false;
}

/*
 * Look at one namespace: enter it, collect, come back, analyse. Returns 0 (r->st says what
 * happened to this namespace), or -1 with err when this thread could not come back to its
 * own namespace (nothing after that could be trusted).
 */
static int look(const struct kns_ns *ns, const struct doc_allns_cfg *c, struct ns_res *r, char *err,
		size_t el)
{
	char e[256] = "";
	int fd = -1, saved = -1, rc;

	r->st = NS_FAILED;
	r->worst = -1;
	if (!ns->self) {
		fd = kns_open(ns);
		if (fd < 0) {
			r->st = fd == -ESRCH ? NS_GONE : NS_FAILED;
			if (fd == -ESRCH)
				snprintf(r->why, sizeof(r->why),
					 "gone before it could be entered (its "
					 "last process exited or its name was removed)");
			else
				snprintf(r->why, sizeof(r->why), "cannot open: %s", strerror(-fd));
			return 0;
		}
		rc = kns_enter_fd(fd, &saved);
		close(fd);
		if (rc < 0) {
			snprintf(r->why, sizeof(r->why), "cannot enter: %s", strerror(-rc));
			return 0;
		}
	}
	r->s = malloc(sizeof(*r->s));
	if (!r->s) {
		snprintf(r->why, sizeof(r->why), "out of memory");
		rc = -ENOMEM;
	} else {
		snapshot_init(r->s);
		rc = snapshot_collect_flags(r->s, NULL, SNAP_COLLECT_ONE_WALK | SNAP_COLLECT_SKIP_EMPTY,
					   e, sizeof(e));
	}
	if (saved >= 0) {
		int lrc = kns_leave(saved);
		if (lrc < 0) {
			snprintf(err, el, "cannot return to this process's network namespace: %s",
				 strerror(-lrc));
			return -1;
		}
	}
	if (rc < 0) {
		if (r->s)
			snprintf(r->why, sizeof(r->why), "%.159s", e);
		res_drop_detail(r);
		return 0;
	}
	/* sysctl.d sets the initial namespace's values at boot; other namespaces start from
	 * the kernel's defaults, so the files are cited for the host's namespace only */
	if ((ns->host || ns->self) && snapshot_read_conf(r->s, NULL, c->sysctl_conf) < 0) {
		snprintf(r->why, sizeof(r->why), "out of memory");
		res_drop_detail(r);
		return 0;
	}
	struct doc_prev prev;
	memset(&prev, 0, sizeof(prev));
	if (doc_analyse(r->s, &r->a) < 0 || !(r->fs = malloc(sizeof(*r->fs)))) {
		snprintf(r->why, sizeof(r->why), "out of memory");
		res_drop_detail(r);
		return 0;
	}
	doc_analysis_price(&r->a, c->probe_ns, c->base_ns);
	doc_findings_run(r->s, &r->a, &prev, r->fs);
	/* the sockets are in the analysis now; the renderers read only settings and counters */
	free(r->s->socks);
	r->s->socks = NULL;
	r->s->nsocks = r->s->cap = 0;
	r->st = NS_ANALYSED;
	r->detailed = true;
	r->tw = r->a.time_wait;
	r->fw2 = r->a.tw_fin_wait2;
	r->total = r->a.total;
	r->tw_out = r->a.tw_out;
	r->tw_in = r->a.tw_in;
	r->ngroups = r->a.ngroups;
	r->busiest_util = r->a.ngroups ? r->a.groups[0].utilization : 0;
	for (int i = 0; i < r->fs->n; i++)
		r->nsev[r->fs->f[i].sev]++;
	r->worst = doc_findings_max_sev(r->fs);
	return 0;
}

/* Keep the full analysis of at most `top` namespaces (the busiest so far) and of this
 * thread's own (the JSON report's top level). */
static void bound_detail(struct ns_res *res, size_t n, const struct kns_list *l, int top)
{
	size_t kept = 0, least = SIZE_MAX;
	if (top <= 0)
		return;
	for (size_t i = 0; i < n; i++) {
		if (!res[i].detailed || l->v[res[i].idx].self)
			continue;
		kept++;
		if (least == SIZE_MAX || busier(&res[i], &res[least]) > 0)
			least = i;
	}
	if (kept > (size_t)top)
		res_drop_detail(&res[least]);
}

static const char *sev_or_dash(int worst)
{
	return worst < 0 ? "-" : doc_sev_name((enum DOC_SEV)worst);
}

static void render_text(FILE *f, const struct doc_allns_cfg *c, const struct kns_list *l,
			const struct ns_res *res, size_t n, size_t ndet)
{
	size_t gone = 0, failed = 0;
	char lab[160], b1[32], b2[32];

	for (size_t i = 0; i < n; i++) {
		gone += res[i].st == NS_GONE;
		failed += res[i].st == NS_FAILED;
	}
	fprintf(f, "twkit doctor --all-netns: %zu network namespaces, %zu looked at", n,
		n - gone - failed);
	if (gone)
		fprintf(f, ", %zu gone meanwhile (skipped)", gone);
	if (failed)
		fprintf(f, ", %zu not readable", failed);
	fprintf(f, "; busiest first, %zu detailed%s\n\n", ndet,
		ndet < n - gone - failed ? " (--top)" : "");
	/* the name last, never cut: a container's carries its id and pod uid */
	fprintf(f, "%-3s %8s %8s %6s %6s  %-12s %10s %5s  %s\n", "#", "tw", "sockets", "groups",
		"util", "findings", "inode", "procs", "namespace");
	for (size_t i = 0; i < n; i++) {
		const struct ns_res *r = &res[i];
		const struct kns_ns *ns = &l->v[r->idx];
		kns_ns_label(ns, lab, sizeof(lab));
		if (r->st != NS_ANALYSED) {
			fprintf(f, "%-3zu %-45s %10llu %5u  %s (%s: %s)\n", i + 1, "-",
				(unsigned long long)ns->ino, ns->nprocs, lab, status_names[r->st],
				r->why);
			continue;
		}
		char fnd[32];
		if (r->worst < 0)
			snprintf(fnd, sizeof(fnd), "none");
		else /* the worst severity and how many of it */
			snprintf(fnd, sizeof(fnd), "%d %s", r->nsev[r->worst],
				 doc_sev_name((enum DOC_SEV)r->worst));
		fprintf(f, "%-3zu %8s %8s %6zu %5.1f%%  %-12s %10llu %5u  %s\n", i + 1,
			units_fmt_count(b1, sizeof(b1), (uint64_t)r->tw + r->fw2),
			units_fmt_count(b2, sizeof(b2), r->total), r->ngroups, r->busiest_util * 100,
			fnd, (unsigned long long)ns->ino, ns->nprocs, lab);
	}
	if (l->stale || l->unreadable || l->dropped)
		fprintf(f,
			"(also: %u /run/netns names without a namespace, %u processes whose "
			"namespace could not be read, %u namespaces past %d not looked at)\n",
			l->stale, l->unreadable, l->dropped, KNS_LIST_MAX);
	for (size_t i = 0; i < n; i++) {
		const struct ns_res *r = &res[i];
		const struct kns_ns *ns = &l->v[r->idx];
		if (!r->shown)
			continue;
		kns_ns_label(ns, lab, sizeof(lab));
		fprintf(f, "\n==== %zu. %s: inode %llu", i + 1, lab, (unsigned long long)ns->ino);
		if (ns->pid)
			fprintf(f, ", pid %d (%s)", ns->pid, ns->comm);
		if (ns->cgroup[0] && !ns->host)
			fprintf(f, ", cgroup %s", ns->cgroup);
		fprintf(f, " ====\n");
		struct doc_render_opts ro = {.top = c->top, .netns = lab, .color = c->color};
		doc_render_text(f, r->s, &r->a, r->fs, &ro);
	}
}

static void json_ns(struct jw *w, const struct kns_ns *ns, const struct ns_res *r,
		    const struct doc_allns_cfg *c)
{
	char lab[160];

	jw_obj_begin(w, NULL);
	jw_str(w, "name", kns_ns_label(ns, lab, sizeof(lab)));
	jw_str(w, "ip_netns", ns->name[0] ? ns->name : NULL);
	jw_uint(w, "inode", ns->ino);
	jw_uint(w, "dev", ns->dev);
	jw_bool(w, "host", ns->host);
	jw_bool(w, "current", ns->self);
	if (ns->pid)
		jw_int(w, "pid", ns->pid);
	else
		jw_null(w, "pid");
	jw_str(w, "comm", ns->pid ? ns->comm : NULL);
	jw_uint(w, "processes", ns->nprocs);
	jw_str(w, "cgroup", ns->cgroup[0] ? ns->cgroup : NULL);
	if (ns->container[0]) {
		jw_obj_begin(w, "container");
		jw_str(w, "runtime", ns->runtime[0] ? ns->runtime : NULL);
		jw_str(w, "id", ns->container);
		jw_obj_end(w);
	} else {
		jw_null(w, "container");
	}
	jw_str(w, "pod", ns->pod[0] ? ns->pod : NULL);
	jw_str(w, "status", status_names[r->st]);
	if (r->st != NS_ANALYSED) {
		jw_str(w, "error", r->why);
		jw_bool(w, "detailed", false);
		jw_obj_end(w);
		return;
	}
	jw_obj_begin(w, "summary");
	jw_uint(w, "time_wait", r->tw);
	jw_uint(w, "time_wait_fin_wait2", r->fw2);
	jw_uint(w, "time_wait_outgoing", r->tw_out);
	jw_uint(w, "time_wait_incoming", r->tw_in);
	jw_uint(w, "sockets_total", r->total);
	jw_uint(w, "groups_total", r->ngroups);
	jw_double(w, "busiest_utilization", r->busiest_util, 4);
	jw_obj_begin(w, "findings");
	for (int sev = DOC_CRITICAL; sev >= DOC_INFO; sev--)
		jw_int(w, doc_sev_name((enum DOC_SEV)sev), r->nsev[sev]);
	jw_obj_end(w);
	jw_str(w, "worst_severity", r->worst < 0 ? NULL : sev_or_dash(r->worst));
	jw_obj_end(w);
	jw_bool(w, "detailed", r->shown);
	if (r->shown) {
		struct doc_render_opts ro = {.top = c->top, .netns = lab};
		jw_obj_begin(w, "report");
		doc_render_json_body(w, r->s, &r->a, r->fs, &ro);
		jw_obj_end(w);
	}
	jw_obj_end(w);
}

static void render_json(FILE *f, const struct doc_allns_cfg *c, const struct kns_list *l,
			const struct ns_res *res, size_t n, const struct ns_res *self, size_t ndet)
{
	struct jw w;
	size_t gone = 0, failed = 0;
	struct doc_render_opts ro = {.top = c->top};

	for (size_t i = 0; i < n; i++) {
		gone += res[i].st == NS_GONE;
		failed += res[i].st == NS_FAILED;
	}
	jw_init(&w, f, true);
	jw_obj_begin(&w, NULL);
	jw_str(&w, "schema", DOC_SCHEMA);
	jw_str(&w, "source", "live");
	/* the top level stays the report of the namespace twkit runs in, as without the flag */
	doc_render_json_body(&w, self->s, &self->a, self->fs, &ro);
	jw_uint(&w, "namespaces_total", n);
	jw_uint(&w, "namespaces_analysed", n - gone - failed);
	jw_uint(&w, "namespaces_gone", gone);
	jw_uint(&w, "namespaces_failed", failed);
	jw_uint(&w, "namespaces_detailed", ndet);
	jw_uint(&w, "netns_names_stale", l->stale);
	jw_uint(&w, "processes_unreadable", l->unreadable);
	jw_arr_begin(&w, "namespaces");
	for (size_t i = 0; i < n; i++) {
		const struct ns_res *r = &res[i];
		json_ns(&w, &l->v[r->idx], r, c);
	}
	jw_arr_end(&w);
	jw_obj_end(&w);
	jw_finish(&w);
}

/* The --top namespaces shown, each family's samples labelled netns="<name>" (the name the
 * text and JSON give), then how many namespaces there were. -ENOMEM or 0. */
static int render_prom(FILE *f, const struct doc_allns_cfg *c, const struct kns_list *l,
		       const struct ns_res *res, size_t n, double seconds)
{
	struct doc_render_opts ro = {.top = c->top, .scrape_seconds = seconds};
	struct doc_prom_source *src = calloc(n ? n : 1, sizeof(*src));
	struct prom_label *lab = calloc(n ? n : 1, sizeof(*lab));
	char(*names)[160] = calloc(n ? n : 1, sizeof(*names));
	size_t k = 0, st[3] = {0, 0, 0};

	if (!src || !lab || !names) {
		free(src);
		free(lab);
		free(names);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		st[res[i].st]++;
		if (!res[i].shown)
			continue;
		lab[k].name = "netns";
		lab[k].value = kns_ns_label(&l->v[res[i].idx], names[k], sizeof(names[k]));
		src[k] = (struct doc_prom_source){.labels = &lab[k],
						  .nlabels = 1,
						  .s = res[i].s,
						  .a = &res[i].a,
						  .fs = res[i].fs};
		k++;
	}
	if (k)
		doc_render_prom_sources(f, src, k, &ro);
	promw_family(f, "twkit_network_namespaces", "gauge",
		     "Network namespaces found by --all-netns, by what became of their look "
		     "(analysed, gone meanwhile, failed); the --top busiest carry a netns label.");
	for (int i = NS_ANALYSED; i <= NS_FAILED; i++) {
		struct promw w;
		promw_init(&w, f, NULL, 0);
		promw_begin(&w, "twkit_network_namespaces");
		promw_label(&w, "status", status_names[i]);
		promw_end_uint(&w, st[i]);
	}
	free(src);
	free(lab);
	free(names);
	return 0;
}

int doc_allns_run(const struct doc_allns_cfg *c, FILE *out, char *err, size_t el)
{
	struct kns_list l;
	struct ns_res *res = NULL;
	char what[256];
	int ret = -1, rc;
	size_t n = 0, ndet = 0;
	struct timespec t0;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (doc_allns_check_privilege(what, sizeof(what)) < 0) {
		snprintf(err, el, "%s", what);
		return -TWKIT_EXIT_RUNTIME;
	}
	kns_list_init(&l);
	rc = kns_list_scan(&l, err, el);
	if (rc < 0) {
		ret = -TWKIT_EXIT_RUNTIME;
		goto out;
	}
	res = calloc(l.n ? l.n : 1, sizeof(*res));
	if (!res) {
		snprintf(err, el, "out of memory");
		ret = -TWKIT_EXIT_RUNTIME;
		goto out;
	}
	for (n = 0; n < l.n; n++) {
		if (c->stop && *c->stop) {
			snprintf(err, el, "interrupted");
			ret = -TWKIT_EXIT_RUNTIME;
			goto out;
		}
		res[n].idx = n;
		if (look(&l.v[n], c, &res[n], err, el) < 0) {
			n++;
			ret = -TWKIT_EXIT_RUNTIME;
			goto out;
		}
		if (l.v[n].self && res[n].st != NS_ANALYSED) {
			snprintf(err, el, "this process's own network namespace: %s", res[n].why);
			n++;
			ret = -TWKIT_EXIT_RUNTIME;
			goto out;
		}
		bound_detail(res, n + 1, &l, c->top);
	}
	qsort(res, n, sizeof(*res), cmp_res);
	const struct ns_res *self = NULL;
	for (size_t i = 0; i < n; i++) {
		if (l.v[res[i].idx].self)
			self = &res[i];
		if (res[i].worst > ret)
			ret = res[i].worst;
		res[i].shown = res[i].detailed && (c->top <= 0 || ndet < (size_t)c->top);
		ndet += res[i].shown;
	}
	if (!self) { /* kns_list_scan always adds it; a look that failed ended the run above */
		snprintf(err, el, "this process's own network namespace was not found");
		ret = -TWKIT_EXIT_RUNTIME;
		goto out;
	}
	if (c->out == DOC_ALLNS_JSON)
		render_json(out, c, &l, res, n, self, ndet);
	else if (c->out == DOC_ALLNS_PROM && render_prom(out, c, &l, res, n, elapsed_s(&t0)) < 0) {
		snprintf(err, el, "out of memory");
		ret = -TWKIT_EXIT_RUNTIME;
		goto out;
	} else if (c->out == DOC_ALLNS_TEXT)
		render_text(out, c, &l, res, n, ndet);
	fflush(out);
out:
	for (size_t i = 0; i < n && res; i++)
		res_drop_detail(&res[i]);
	free(res);
	kns_list_fini(&l);
	return ret;
}
