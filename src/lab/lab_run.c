/*
 * lab_run — the lab's run loop (see lab_run.h).
 * Invariant: every child PID we fork is recorded in struct lab_children before anything can
 * fail, and lab_children_stop() signals exactly those PIDs, then reaps them; the namespaces are
 * deleted only after their processes are gone.
 */
#include "lab/lab_run.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/clock.h"
#include "kernel/netns.h"
#include "bench/bench_json.h"
#include "lab/lab_child.h"
#include "lab/lab_nginx.h"
#include "lab/lab_relay.h"

#define LAB_DRAIN_NS (20LL * 1000000000LL) /* bench's own deadlines end a run within this */
#define NS_PER_SEC_LAB 1000000000LL

static const char *const col_names[] = { "time_wait", "established", "tw_overflow",
					 "tw_recycled", "new_ok", "eaddrnotavail" };
#define NCOLS 6

/* A new cumulative relay report st at time t: track the first EADDRNOTAVAIL by interpolating
 * within the second in which it appeared (the relay fails at the arrival rate once its budget
 * is spent). */
static void relay_note(struct lab_result *res, const struct lab_relay_stats *st, double t,
		       struct lab_relay_stats *last, double *last_t)
{
	if (st->eaddrnotavail > 0 && last->eaddrnotavail == 0) {
		double ok = (double)(st->backend_ok - last->backend_ok);
		double bad = (double)(st->backend_fail - last->backend_fail);
		double frac = ok + bad > 0 ? ok / (ok + bad) : 0;

		res->first_eaddrnotavail_s = *last_t + (t - *last_t) * frac;
	}
	*last = *st;
	*last_t = t;
}

/* Read the twkit relay's report lines. */
static void drain_relay(struct lab_children *ch, struct lab_result *res, double offset_s,
			struct lab_relay_stats *last, double *last_t)
{
	struct lab_relay_stats st;
	double t;

	while (lab_child_relay_next(ch, &t, &st))
		relay_note(res, &st, t - offset_s, last, last_t);
}

/*
 * nginx's counters at time t: failed connects from its error log, successful ones from the
 * balancer namespace's Tcp.ActiveOpens (a connect() that fails with EADDRNOTAVAIL sends no
 * SYN, so it is not among them), accepted from its PassiveOpens.
 */
static void nginx_note(const char *dir, const struct klab_sample *mid, struct lab_result *res,
		       double t, struct lab_relay_stats *last, double *last_t)
{
	struct lab_relay_stats st = *last;

	if (lab_nginx_read_stats(dir, &st) < 0)
		return;
	st.backend_ok = mid->active_opens;
	st.accepted = mid->passive_opens;
	relay_note(res, &st, t, last, last_t);
}

/* Where to find a client column in a bench series row: key is one of these. */
/* Number member `key` of obj into *v: 0, or -EPROTO when it is missing or not a number (the
 * keys are bench's own, bench/bench_json.h: a missing one is an error, not a 0). */
static int num_get(json_t *obj, const char *key, double *v)
{
	json_t *x = json_object_get(obj, key);

	if (!json_is_number(x))
		return -EPROTO;
	*v = json_number_value(x);
	return 0;
}

int lab_bench_parse(const char *json, size_t len, struct lab_result *res)
{
	json_error_t jerr;
	json_t *root, *totals, *failed, *series, *x;
	double att, comp, non2xx, rate;
	int rc = -EPROTO;

	/* jansson: bounded nesting depth, NUL bytes refused, any bytes safe */
	root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root)
		return -EPROTO;
	x = json_object_get(root, BENCH_JK_SCHEMA);
	totals = json_object_get(root, BENCH_JK_TOTALS);
	series = json_object_get(root, BENCH_JK_SERIES);
	if (!json_is_string(x) || strcmp(json_string_value(x), BENCH_JSON_SCHEMA) != 0 ||
	    !json_is_object(totals) || !json_is_array(series))
		goto out;
	failed = json_object_get(totals, BENCH_JK_FAILED);
	if (num_get(totals, BENCH_JK_ATTEMPTED, &att) < 0 ||
	    num_get(totals, BENCH_JK_COMPLETED, &comp) < 0 ||
	    num_get(totals, BENCH_JK_NON2XX, &non2xx) < 0 ||
	    num_get(totals, BENCH_JK_RATE, &rate) < 0 || !json_is_object(failed))
		goto out;
	res->attempted = (uint64_t)att;
	res->completed = (uint64_t)comp;
	res->non2xx = (uint64_t)non2xx;
	res->rate = rate;
	res->failed = 0;
	res->nerr = 0;
	{
		const char *key;
		json_t *v;
		json_object_foreach(failed, key, v) {
			double n;
			if (!json_is_number(v))
				goto out;
			n = json_number_value(v);
			res->failed += (uint64_t)n;
			if (res->nerr < LAB_MAX_ERRNOS && n > 0) {
				snprintf(res->errs[res->nerr].name, sizeof(res->errs[0].name), "%s", key);
				res->errs[res->nerr++].n = (uint64_t)n;
			}
		}
	}
	res->bench_rows = 0;
	{
		size_t idx;
		json_t *row;
		json_array_foreach(series, idx, row) {
			int i = res->bench_rows;
			if (i >= LAB_MAX_ROWS)
				break;
			/* per second: completed ("rate") and EADDRNOTAVAIL, bench's own columns */
			if (!json_is_object(row) || num_get(row, BENCH_JK_T, &res->bench_t[i]) < 0 ||
			    num_get(row, BENCH_COL_RATE, &res->bench_ok[i]) < 0 ||
			    num_get(row, BENCH_COL_EADDRNOTAVAIL, &res->bench_ean[i]) < 0)
				goto out;
			res->bench_rows++;
		}
	}
	rc = 0;
out:
	json_decref(root);
	return rc;
}

/*
 * The first EADDRNOTAVAIL of the client, from bench's per-second rows: row t covers
 * (t-1, t]; within it the connections that succeeded came first (the budget ran out), so the
 * failure starts ok/(ok+fail) of the way through.
 */
static double bench_first_ean(const struct lab_result *res)
{
	for (int i = 0; i < res->bench_rows; i++) {
		if (res->bench_ean[i] > 0) {
			double ok = res->bench_ok[i], bad = res->bench_ean[i];
			double t0 = i > 0 ? res->bench_t[i - 1] : res->bench_t[i] - 1;

			if (t0 < 0)
				t0 = 0;
			return t0 + (res->bench_t[i] - t0) * (ok / (ok + bad));
		}
	}
	return -1;
}

/* The bench row nearest to time t (within half a second), or -1. */
static int bench_row_at(const struct lab_result *res, double t)
{
	for (int i = 0; i < res->bench_rows; i++)
		if (res->bench_t[i] > t - 0.5 && res->bench_t[i] <= t + 0.5)
			return i;
	return -1;
}

/* Samples kept during the run, turned into series afterwards. */
struct lab_samples {
	int n;
	double t[LAB_MAX_ROWS];
	struct klab_sample s[LAB_MAX_HOSTS][LAB_MAX_ROWS];
	struct lab_relay_stats relay[LAB_MAX_ROWS];
};

static int sample_all(const struct lab_topo *t, struct lab_samples *sm, double now_s,
		      const struct lab_relay_stats *relay)
{
	int r = sm->n;

	if (r >= LAB_MAX_ROWS)
		return 0;
	for (int i = 0; i < t->n; i++) {
		int rc = klab_sample_ns(t->ns[i], &sm->s[i][r]);

		if (rc < 0)
			return rc;
	}
	sm->t[r] = now_s;
	sm->relay[r] = *relay;
	sm->n++;
	return 0;
}

static int build_series(const struct lab_plan *p, const struct lab_topo *t,
			const struct lab_samples *sm, struct lab_result *res)
{
	for (int i = 0; i < t->n; i++) {
		struct lab_host_result *h = &res->hosts[i];
		int rc = series_init(&h->series, NCOLS, col_names);

		if (rc < 0)
			return rc;
		for (int r = 0; r < sm->n; r++) {
			const struct klab_sample *s = &sm->s[i][r];
			double v[NCOLS] = { s->time_wait, s->established, (double)s->tw_overflow,
					    (double)s->tw_recycled, 0, 0 };

			if (i == 0) {
				int b = bench_row_at(res, sm->t[r]);

				if (b >= 0) {
					v[4] = res->bench_ok[b];
					v[5] = res->bench_ean[b];
				}
			} else if (i == p->middle && t->relay) {
				const struct lab_relay_stats *a = &sm->relay[r];
				const struct lab_relay_stats *z = r ? &sm->relay[r - 1] : NULL;

				v[4] = (double)(a->backend_ok - (z ? z->backend_ok : 0));
				v[5] = (double)(a->eaddrnotavail - (z ? z->eaddrnotavail : 0));
			} else if (h->kind == SIM_NODE_SERVER) {
				/* what the server accepted: its PassiveOpens per second (the
				 * namespace's MIB starts at zero) */
				double dt = r ? sm->t[r] - sm->t[r - 1] : 1;
				uint64_t was = r ? sm->s[i][r - 1].passive_opens : 0;

				v[4] = dt > 0 ? (double)(s->passive_opens - was) / dt : 0;
			}
			rc = series_add(&h->series, sm->t[r], v);
			if (rc < 0)
				return rc;
			if (s->time_wait > h->time_wait_max)
				h->time_wait_max = s->time_wait;
			if (s->established > h->established_max)
				h->established_max = s->established;
		}
		if (sm->n > 0)
			h->last = sm->s[i][sm->n - 1];
	}
	return 0;
}

/* argv of `twkit bench serve` and `twkit bench run` for the plan; strings live in buf. */
struct lab_argv {
	const char *v[32];
	char buf[8][128];
};

static void argv_server(const struct lab_plan *p, struct lab_argv *a)
{
	int n = 0;

	snprintf(a->buf[0], sizeof(a->buf[0]), "%s:%d-%u", lab_addr_server(p), LAB_SERVER_PORT,
		 LAB_SERVER_PORT + p->server_ports - 1);
	a->v[n++] = "twkit";
	a->v[n++] = "bench";
	a->v[n++] = "serve";
	a->v[n++] = "--listen";
	a->v[n++] = a->buf[0];
	a->v[n++] = "--quiet";
	a->v[n] = NULL;
}

static void argv_client(const struct lab_plan *p, bool http, struct lab_argv *a)
{
	unsigned ports = p->middle >= 0 && p->middle_kind == SIM_NODE_L7LB ? 1 : p->server_ports;
	int n = 0;

	snprintf(a->buf[0], sizeof(a->buf[0]), "%s:%d-%u", lab_addr_target(p), LAB_SERVER_PORT,
		 LAB_SERVER_PORT + ports - 1);
	snprintf(a->buf[1], sizeof(a->buf[1]), "%.3f", p->rate);
	snprintf(a->buf[2], sizeof(a->buf[2]), "%.3fs", (double)p->duration_ns / 1e9);
	snprintf(a->buf[3], sizeof(a->buf[3]), "%u", p->requests);
	a->v[n++] = "twkit";
	a->v[n++] = "bench";
	a->v[n++] = "run";
	a->v[n++] = "--target";
	a->v[n++] = a->buf[0];
	a->v[n++] = "--rate";
	a->v[n++] = a->buf[1];
	a->v[n++] = "--duration";
	a->v[n++] = a->buf[2];
	a->v[n++] = "--requests-per-conn";
	a->v[n++] = a->buf[3];
	a->v[n++] = "--close";
	a->v[n++] = p->closes == SIM_CLOSES_SERVER ? "server" : "client";
	if (p->linger0) {
		a->v[n++] = "--linger0";
		a->v[n++] = p->closes == SIM_CLOSES_SERVER ? "server" : "client";
	}
	if (p->client_ips > 1) {
		size_t off = 0;

		for (unsigned i = 0; i < p->client_ips; i++) {
			char ip[32];

			off += (size_t)snprintf(a->buf[4] + off, sizeof(a->buf[4]) - off, "%s%s",
						i ? "," : "", lab_addr_client(i, ip, sizeof(ip)));
			if (off >= sizeof(a->buf[4]))
				break;
		}
		a->v[n++] = "--source";
		a->v[n++] = a->buf[4];
	}
	if (http) {
		/* nginx speaks HTTP; bench serve answers both wire formats */
		a->v[n++] = "--proto";
		a->v[n++] = "http";
	}
	a->v[n++] = "--json";
	a->v[n++] = "--quiet";
	a->v[n] = NULL;
}

/* Start nginx in the balancer's namespace from a config in its own directory (dir). */
static int spawn_nginx(struct lab_topo *t, const char *ns, const struct lab_relay_cfg *rcfg,
		       char *dir, size_t dirlen, pid_t *pid)
{
	char conf[LAB_NGINX_DIR_LEN + 16], log[LAB_NGINX_DIR_LEN + 16];
	const char *argv[] = { "nginx", "-p", dir, "-e", log, "-c", conf, NULL };
	int rc = lab_nginx_prepare(rcfg, (int)getpid(), dir, dirlen);

	if (rc < 0)
		return rc;
	lab_lock_record_dir(t, dir); /* a run killed with SIGKILL: the next one removes it */
	snprintf(conf, sizeof(conf), "%s/nginx.conf", dir);
	snprintf(log, sizeof(log), "%s/error.log", dir); /* before the config is read, too */
	return lab_child_exec(ns, LAB_NGINX_BIN, argv, pid, NULL);
}

static void relay_cfg(const struct lab_plan *p, struct lab_relay_cfg *rc)
{
	memset(rc, 0, sizeof(*rc));
	snprintf(rc->listen, sizeof(rc->listen), "%s", lab_addr_target(p));
	rc->listen_port = LAB_SERVER_PORT;
	snprintf(rc->backend, sizeof(rc->backend), "%s", lab_addr_server(p));
	rc->backend_port = LAB_SERVER_PORT;
	rc->backend_ports = p->server_ports;
	rc->nsources = p->middle_ips;
	for (unsigned i = 0; i < p->middle_ips && i < LAB_MAX_IPS; i++)
		lab_addr_middle_back(i, rc->sources[i], sizeof(rc->sources[i]));
	rc->max_pairs = 8192;
	rc->report_fd = -1;
}

/* One progress line: time and TIME-WAIT per host. */
static void progress(const struct lab_topo *t, const struct lab_plan *p,
		     const struct lab_samples *sm)
{
	int r = sm->n - 1;

	fprintf(stderr, "\r  %4.0fs ", sm->t[r]);
	for (int i = 0; i < t->n; i++)
		fprintf(stderr, " %s TIME-WAIT %-6u", p->hosts[i].node, sm->s[i][r].time_wait);
	fflush(stderr);
}

static void doctor_all(const struct lab_run_cfg *cfg, const struct lab_topo *t, int k,
		       double at_s)
{
	struct lab_doctor *d = cfg->doctor;

	d->nhosts = cfg->plan->nhosts;
	for (int i = 0; i < cfg->plan->nhosts; i++) {
		snprintf(d->host[i], sizeof(d->host[i]), "%s", cfg->plan->hosts[i].node);
		lab_child_doctor(cfg->self_exe, t->ns[i], at_s, &d->s[i][k]);
	}
}

int lab_run(const struct lab_run_cfg *cfg, struct lab_topo *t, struct lab_result *res,
	    char *err, size_t errlen)
{
	const struct lab_plan *p = cfg->plan;
	struct lab_children ch = { .fd = { -1, -1, -1 } };
	struct lab_relay_stats relay_last = { 0 };
	struct lab_samples *sm = calloc(1, sizeof(*sm));
	struct lab_argv sargv, cargv;
	bool nginx = t->relay && cfg->relay == LAB_RELAY_NGINX;
	char ngx_dir[LAB_NGINX_DIR_LEN] = "";
	int64_t t0, next, relay_t0 = 0;
	double relay_last_t = 0;
	struct utsname un;
	int rc, status;
	bool doc_half = false;

	memset(res, 0, sizeof(*res));
	res->first_eaddrnotavail_s = -1;
	res->client_sys_s = -1;
	res->nhosts = p->nhosts;
	if (uname(&un) == 0)
		snprintf(res->release, sizeof(res->release), "%s", un.release);
	for (int i = 0; i < p->nhosts; i++) {
		snprintf(res->hosts[i].node, sizeof(res->hosts[i].node), "%s", p->hosts[i].node);
		res->hosts[i].kind = p->hosts[i].kind;
		snprintf(res->hosts[i].ns, sizeof(res->hosts[i].ns), "%s", t->ns[i]);
	}
	if (t->relay)
		res->relay = nginx ? "nginx" : "twkit";
	if (!sm)
		return -ENOMEM;
	rc = lab_topo_build(t, p, err, errlen);
	if (rc < 0)
		goto out;

	argv_server(p, &sargv);
	rc = lab_child_exec(t->ns[p->nhosts - 1], cfg->self_exe, sargv.v, &ch.pid[LAB_CH_SERVER], NULL);
	if (rc == 0)
		rc = lab_child_wait_listen(t->ns[p->nhosts - 1], LAB_SERVER_PORT,
				 (uint16_t)(LAB_SERVER_PORT + p->server_ports - 1), p->server_ports,
				 ch.pid[LAB_CH_SERVER]);
	if (rc < 0) {
		snprintf(err, errlen, "`twkit bench serve` did not start listening in %s: %s",
			 t->ns[p->nhosts - 1], strerror(-rc));
		goto out;
	}
	if (t->relay) {
		struct lab_relay_cfg rcfg;

		relay_cfg(p, &rcfg);
		relay_t0 = tw_mono_ns();
		if (nginx)
			rc = spawn_nginx(t, t->ns[p->middle], &rcfg, ngx_dir, sizeof(ngx_dir),
					 &ch.pid[LAB_CH_RELAY]);
		else
			rc = lab_child_relay(t->ns[p->middle], &rcfg, &ch.pid[LAB_CH_RELAY],
					 &ch.fd[LAB_CH_RELAY]);
		if (rc == 0)
			rc = lab_child_wait_listen(t->ns[p->middle], LAB_SERVER_PORT, LAB_SERVER_PORT, 1,
					 ch.pid[LAB_CH_RELAY]);
		if (rc < 0) {
			snprintf(err, errlen, "the L7 relay (%s) did not start in %s: %s%s%s",
				 res->relay, t->ns[p->middle], strerror(-rc),
				 nginx ? "; its log: " : "", nginx ? ngx_dir : "");
			goto out;
		}
	}
	argv_client(p, nginx, &cargv);
	t0 = tw_mono_ns();
	rc = lab_child_exec(t->ns[0], cfg->self_exe, cargv.v, &ch.pid[LAB_CH_CLIENT], &ch.fd[LAB_CH_CLIENT]);
	if (rc < 0) {
		snprintf(err, errlen, "cannot start `twkit bench run`: %s", strerror(-rc));
		goto out;
	}
	next = t0 + NS_PER_SEC_LAB;
	for (;;) {
		struct pollfd pf[2] = { { ch.fd[LAB_CH_CLIENT], POLLIN, 0 }, { ch.fd[LAB_CH_RELAY], POLLIN, 0 } };
		int64_t now = tw_mono_ns();
		int wait_ms = (int)((next - now) / 1000000LL);

		poll(pf, 2, wait_ms < 0 ? 0 : wait_ms > 100 ? 100 : wait_ms);
		lab_child_read_client(&ch);
		if (ch.fd[LAB_CH_RELAY] >= 0)
			drain_relay(&ch, res, (double)(t0 - relay_t0) / 1e9, &relay_last,
				    &relay_last_t);
		now = tw_mono_ns();
		if (now >= next) {
			rc = sample_all(t, sm, (double)(next - t0) / 1e9, &relay_last);
			if (rc < 0) {
				snprintf(err, errlen, "sampling the namespaces: %s", strerror(-rc));
				goto out;
			}
			if (nginx && sm->n > 0) {
				nginx_note(ngx_dir, &sm->s[p->middle][sm->n - 1], res,
					   sm->t[sm->n - 1], &relay_last, &relay_last_t);
				sm->relay[sm->n - 1] = relay_last;
			}
			if (cfg->progress)
				progress(t, p, sm);
			next += NS_PER_SEC_LAB;
			if (cfg->doctor && !doc_half && now - t0 >= p->duration_ns / 2) {
				doctor_all(cfg, t, 0, (double)(now - t0) / 1e9);
				doc_half = true;
			}
		}
		struct rusage cru;
		if (lab_child_gone_ru(ch.pid[LAB_CH_CLIENT], &status, &cru)) {
			ch.pid[LAB_CH_CLIENT] = 0;
			res->client_sys_s = (double)cru.ru_stime.tv_sec +
					    (double)cru.ru_stime.tv_usec / 1e6;
			break;
		}
		if (lab_child_gone(ch.pid[LAB_CH_SERVER], &status) ||
		    (ch.pid[LAB_CH_RELAY] && lab_child_gone(ch.pid[LAB_CH_RELAY], &status))) {
			ch.pid[LAB_CH_SERVER] = ch.pid[LAB_CH_SERVER] && kill(ch.pid[LAB_CH_SERVER], 0) == 0 ?
						    ch.pid[LAB_CH_SERVER] : 0;
			snprintf(err, errlen, "a lab process (server or relay) died during the run");
			rc = -ECHILD;
			goto out;
		}
		if (*cfg->stop && !res->interrupted) {
			/* bench prints what it has so far on SIGTERM; the loop then ends */
			res->interrupted = true;
			kill(ch.pid[LAB_CH_CLIENT], SIGTERM);
		}
		if (now > t0 + p->duration_ns + LAB_DRAIN_NS) {
			snprintf(err, errlen, "`twkit bench run` did not finish in time");
			rc = -ETIMEDOUT;
			goto out;
		}
	}
	res->elapsed_s = (double)(tw_mono_ns() - t0) / 1e9;
	lab_child_read_client(&ch);
	rc = sample_all(t, sm, res->elapsed_s, &relay_last);
	if (rc < 0)
		goto out;
	if (nginx && sm->n > 0) {
		nginx_note(ngx_dir, &sm->s[p->middle][sm->n - 1], res, sm->t[sm->n - 1],
			   &relay_last, &relay_last_t);
		sm->relay[sm->n - 1] = relay_last;
	}
	if (cfg->progress)
		fprintf(stderr, "\n");
	if (cfg->doctor) /* the end: the TIME-WAITs are still there, traffic has stopped */
		doctor_all(cfg, t, LAB_DOC_SAMPLES - 1, (double)(tw_mono_ns() - t0) / 1e9);
	if (!WIFEXITED(status) || ch.out_len == 0) {
		snprintf(err, errlen, "`twkit bench run` %s without a report",
			 WIFEXITED(status) ? "ended" : "was killed");
		rc = -EPROTO;
		goto out;
	}
	rc = lab_bench_parse(ch.out, ch.out_len, res);
	if (rc < 0) {
		snprintf(err, errlen, "cannot read the JSON of `twkit bench run`");
		goto out;
	}
	if (res->non2xx > 0 && res->non2xx <= res->completed) {
		/* an answer that says the balancer failed is not a completed exchange */
		double per = res->completed ? res->rate / (double)res->completed : 0;

		res->completed -= res->non2xx;
		res->rate = per * (double)res->completed;
		res->failed += res->non2xx;
		if (res->nerr < LAB_MAX_ERRNOS) {
			snprintf(res->errs[res->nerr].name, sizeof(res->errs[0].name), "HTTP_non2xx");
			res->errs[res->nerr++].n = res->non2xx;
		}
	}
	lab_children_stop(&ch);
	if (ch.fd[LAB_CH_RELAY] >= 0)
		drain_relay(&ch, res, (double)(t0 - relay_t0) / 1e9, &relay_last, &relay_last_t);
	res->relay_ok = relay_last.backend_ok;
	res->relay_fail = relay_last.backend_fail;
	res->relay_eaddrnotavail = relay_last.eaddrnotavail;
	if (res->first_eaddrnotavail_s >= 0) {
		snprintf(res->first_eaddrnotavail_at, sizeof(res->first_eaddrnotavail_at), "%s",
			 p->hosts[p->middle].node);
	} else {
		res->first_eaddrnotavail_s = bench_first_ean(res);
		if (res->first_eaddrnotavail_s >= 0)
			snprintf(res->first_eaddrnotavail_at, sizeof(res->first_eaddrnotavail_at),
				 "%s", p->hosts[0].node);
	}
	if (res->completed > 0 && res->elapsed_s > 0 && res->rate <= 0)
		res->rate = (double)res->completed / ((double)p->duration_ns / 1e9);
	rc = build_series(p, t, sm, res);
out:
	lab_children_stop(&ch);
	if (ngx_dir[0])
		lab_nginx_remove(ngx_dir);
	for (int i = 0; i < LAB_NCHILDREN; i++)
		if (ch.fd[i] >= 0)
			close(ch.fd[i]);
	free(ch.out);
	free(sm);
	if (!cfg->keep && lab_topo_destroy(t) > 0 && rc == 0) {
		snprintf(err, errlen, "could not delete every namespace of this run");
		rc = -EBUSY;
	}
	return rc;
}

void lab_result_fini(struct lab_result *res)
{
	for (int i = 0; i < LAB_MAX_HOSTS; i++)
		series_fini(&res->hosts[i].series);
}

void lab_doc_measure(const struct lab_plan *p, const struct lab_result *res,
		     struct lab_doc_measured m[LAB_MAX_HOSTS])
{
	static const char *const connect_errnos[] = { "EADDRNOTAVAIL", "ECONNREFUSED", "ETIMEDOUT",
						      "EHOSTUNREACH", "ENETUNREACH" };

	memset(m, 0, LAB_MAX_HOSTS * sizeof(*m));
	for (int h = 0; h < p->nhosts && h < LAB_MAX_HOSTS; h++) {
		m[h].first_eaddrnotavail_s = -1;
		if (res->first_eaddrnotavail_s >= 0 &&
		    !strcmp(res->first_eaddrnotavail_at, p->hosts[h].node))
			m[h].first_eaddrnotavail_s = res->first_eaddrnotavail_s;
	}
	for (int i = 0; i < res->nerr; i++)
		for (size_t k = 0; k < sizeof(connect_errnos) / sizeof(connect_errnos[0]); k++)
			if (!strcmp(res->errs[i].name, connect_errnos[k])) {
				m[0].connect_failed += res->errs[i].n;
				if (k == 0)
					m[0].eaddrnotavail += res->errs[i].n;
			}
	if (p->middle >= 0 && p->middle_kind == SIM_NODE_L7LB) {
		m[p->middle].connect_failed = res->relay_fail;
		m[p->middle].eaddrnotavail = res->relay_eaddrnotavail;
	}
}
