/*
 * lab — `twkit lab NAME`: a sim scenario on the running kernel, in network namespaces, and
 * with --compare beside sim's prediction for the same scenario. Parse, validate, then run
 * with a const config; this is the only place that prints errors and picks exit codes.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "common/opt.h"
#include "common/outpath.h"
#include "common/units.h"
#include "lab/lab_compare.h"
#include "lab/lab_nginx.h"
#include "lab/lab_report.h"
#include "lab/lab_run.h"
#include "lab/lab_scen.h"
#include "lab/lab_topo.h"
#include "model/profile.h"
#include "sim/sim.h"
#include "verbs.h"

struct lab_cfg {
	const struct lab_entry *entry;
	struct lab_entry file_entry; /* a scenario file: entry points here */
	char file_summary[256];
	struct sim_scenario sc;
	struct lab_plan plan;
	int relay; /* enum LAB_RELAY; -1 until chosen (--relay, else from the plan) */
	bool compare, doctor, json, keep, quiet;
	int64_t wait_ns; /* for the run lock; 0: do not wait */
	const char *svg, *csv;
	char self_exe[4096];
};

/* Typed options go straight into struct lab_cfg (opt_apply); --set keeps its own grammar
 * (SECTION.KEY=VALUE, repeatable) and --list/--help are actions, not configuration. */
static const struct opt_spec specs[] = {
    {.name = "compare",
     OPT_FLAG_TO(struct lab_cfg, compare),
     .help = "also run sim (profile host) on the same scenario: both series and fidelity"},
    {.name = "doctor",
     OPT_FLAG_TO(struct lab_cfg, doctor),
     .help = "run `twkit doctor --json` in every host's namespace at half time and at the end, and "
	     "hold each verdict to what the lab measured there (exit 1 if one disagrees)"},
    {.name = "json",
     .shortname = 'j',
     OPT_FLAG_TO(struct lab_cfg, json),
     .help = "JSON report (schema twkit.lab/1) on stdout"},
    {.name = "keep",
     OPT_FLAG_TO(struct lab_cfg, keep),
     .help = "leave the namespaces for inspection (processes are stopped); prints how to remove"},
    {.name = "svg",
     OPT_STR_TO(struct lab_cfg, svg),
     .metavar = "FILE",
     .help = "plot TIME-WAIT, new and failed connections per host"},
    {.name = "csv",
     OPT_STR_TO(struct lab_cfg, csv),
     .metavar = "FILE",
     .help = "the same series as CSV ('-' = stdout)"},
    {.name = "relay",
     OPT_CHOICE_TO(struct lab_cfg, relay, "nginx", "twkit"),
     .choice_val = (const int[]){LAB_RELAY_NGINX, LAB_RELAY_TWKIT},
     .help = "the L7 balancer: nginx as a reverse proxy (HTTP traffic) or twkit's own relay; "
	     "default nginx when " LAB_NGINX_BIN " exists, else twkit"},
    {.name = "set",
     .shortname = 's',
     .kind = OPT_MULTI,
     .metavar = "SECTION.KEY=VALUE",
     .help = "scenario files: override a value, as twkit sim --set (repeatable)"},
    {.name = "wait",
     OPT_DUR_TO(struct lab_cfg, wait_ns),
     .metavar = "DURATION",
     .def = "0",
     .max = 24 * 3600 * 1e9,
     .zero_ok = true,
     .hint = "0: do not wait",
     .help = "another lab run holds the lock: wait up to this long for it (e.g. 5m; 0: do not "
	     "wait)"},
    {.name = "list",
     .shortname = 'l',
     .kind = OPT_FLAG,
     .help = "list the lab scenarios and what each shows"},
    {.name = "show",
     .kind = OPT_FLAG,
     .help = "print the catalogue scenario NAME as a scenario file (its sim built-in, the lab's "
	     "overlay, then the result) and exit; `twkit sim` and `twkit lab` run it as it is"},
    {.name = "quiet",
     .shortname = 'q',
     OPT_FLAG_TO(struct lab_cfg, quiet),
     .help = "no progress line"},
    {.name = "help", .shortname = 'h', .kind = OPT_FLAG, .help = "this help"},
};
#define NSPECS ((int)(sizeof(specs) / sizeof(specs[0])))

static volatile sig_atomic_t stop_flag;

static void on_signal(int sig)
{
	(void)sig;
	stop_flag = 1;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: twkit lab NAME|FILE.ini [OPTIONS]      (root)\n\n"
		"Builds the scenario's hosts as network namespaces (client, NAT gateway, L4/L7\n"
		"balancer, server), drives `twkit bench` traffic through them, samples TIME-WAIT\n"
		"and the kernel counters in every namespace each second, and reports per host.\n"
		"--compare runs `twkit sim` on the same scenario beside it. A sim scenario file\n"
		"(docs/scenarios.md) runs too when the lab can build it: one client host at a\n"
		"constant rate, at most one NAT, L4 or L7 hop, a server, up to 90 s.\n\n"
		"options:\n");
	opt_print_help(f, specs, NSPECS);
	fprintf(f, "\nscenarios (twkit lab --list):");
	for (int i = 0; i < lab_catalog_count(); i++)
		fprintf(f, "%s %s", i ? "," : "", lab_catalog_at(i)->name);
	fprintf(f, "\nExit codes: 0 ok, 2 usage error or a scenario the kernel cannot show, "
		   "3 runtime error (not root, no ip/nft, another run active).\n");
}

static void list(FILE *f)
{
	for (int i = 0; i < lab_catalog_count(); i++) {
		const struct lab_entry *e = lab_catalog_at(i);

		fprintf(f, "%-28s %s\n", e->name, e->unsupported ? e->unsupported : e->summary);
	}
}

/* The line of `key` in section `section` ("sim" or a node's name) of the scenario file, or 0
 * when the file does not write it (sections and keys start their lines: docs/scenarios.md). */
static int file_key_line(const char *path, const char *section, const char *key)
{
	char line[256], kind[SIM_NAME_LEN], name[SIM_NAME_LEN];
	size_t klen = strlen(key);
	int ln = 0, found = 0;
	bool in = false;
	FILE *f = fopen(path, "r");

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		ln++;
		if (line[0] == '[') {
			int n = sscanf(line, "[%31[^] \t] %31[^] \t]", kind, name);

			in = (n == 2 && strcmp(name, section) == 0) ||
			     (n == 1 && strcmp(kind, section) == 0);
		} else if (in && strncmp(line, key, klen) == 0 && line[klen] &&
			   strchr(" \t=:", line[klen])) {
			found = ln; /* a key written twice: the last one counts */
		}
	}
	fclose(f);
	return found;
}

/* Where node.key's value comes from, for a message: "--set node.key=V" when an override set
 * it (the last one), else "FILE:LINE" of the key, else of its section (the default). */
static void key_origin(const char *sets, const char *path, const char *node, int node_line,
		       const char *key, char *buf, size_t len)
{
	size_t nlen = strlen(node), klen = strlen(key);
	const char *set = NULL;
	int line;

	for (const char *l = sets; l && *l; l += strcspn(l, "\n"), l += *l == '\n') {
		if (strncmp(l, node, nlen) == 0 && l[nlen] == '.' &&
		    strncmp(l + nlen + 1, key, klen) == 0 && l[nlen + 1 + klen] == '=')
			set = l;
	}
	if (set) {
		snprintf(buf, len, "--set %.*s", (int)strcspn(set, "\n"), set);
		return;
	}
	line = file_key_line(path, node, key);
	if (!line)
		line = node_line;
	if (line > 0)
		snprintf(buf, len, "%s:%d", path, line);
	else
		snprintf(buf, len, "%s", path);
}

/* The model-only keys the file writes: a kernel other than this one (the lab's hosts are
 * namespaces of the running kernel; --compare models it as profile host) and the seed. */
static void model_only_notes(const char *sets, const char *path, const struct sim_scenario *sc,
			     const char *release)
{
	const struct tw_profile *host = tw_profile_by_name("host", release);
	char where[320];

	for (int i = -1; i < sc->nnodes; i++) {
		const char *node = i < 0 ? "sim" : sc->nodes[i].name;
		const char *k = i < 0 ? sc->kernel : sc->nodes[i].kernel;

		key_origin(sets, path, node, i < 0 ? 0 : sc->nodes[i].line, "kernel", where,
			   sizeof(where));
		/* [sim] kernel has a default ("6.1"): only a written one is the file's */
		if (!k[0] || (i < 0 && strncmp(where, "--set", 5) != 0 &&
			      !file_key_line(path, "sim", "kernel")))
			continue;
		if (strcmp(k, "host") == 0 || (host && tw_profile_by_name(k, release) == host))
			continue;
		fprintf(stderr,
			"twkit lab: %s: kernel = %s applies to twkit sim only: the lab runs "
			"on this machine's kernel (%s), and --compare models it as profile "
			"host\n",
			where, k, release ? release : "?");
	}
	key_origin(sets, path, "sim", 0, "seed", where, sizeof(where));
	if (strncmp(where, "--set", 5) == 0 || file_key_line(path, "sim", "seed"))
		fprintf(stderr,
			"twkit lab: %s: seed = %llu applies to twkit sim only: the real "
			"kernel draws its own ports and timestamp offsets\n",
			where, (unsigned long long)sc->seed);
}

/*
 * Load a sim scenario file (and --set overrides) into cfg and plan it: every key is built in
 * its node's namespace (sysctls, bench and nftables options) or refused with exit 2 naming
 * FILE:LINE, the key, its value and why (lab_plan_from_sim, then lab_topo_probe for what this
 * kernel has). Model-only keys (kernel, seed) get a note on stderr; every node runs profile
 * host. Returns -1 to go on, or an exit code after printing why.
 */
static int load_file(const struct opt_result *res, const char *path, struct lab_cfg *cfg)
{
	char err[512], where[320];
	const char *sets = opt_get(specs, NSPECS, res, "set"), *release = NULL;
	struct utsname u;
	int rc = sim_scenario_load_file(path, &cfg->sc, err, sizeof(err)), h, k;

	if (rc == 0 && sets)
		rc = sim_scenario_set_lines(&cfg->sc, sets, err, sizeof(err));
	if (rc < 0) {
		fprintf(stderr, "twkit lab: %s\n",
			err); /* names file:line, key, what was expected */
		return rc == -ENOMEM ? TWKIT_EXIT_RUNTIME : TWKIT_EXIT_USAGE;
	}
	if (uname(&u) == 0)
		release = u.release;
	model_only_notes(sets, path, &cfg->sc, release);
	/* the lab's hosts are namespaces of this kernel: every node is profile host */
	for (int i = 0; i < cfg->sc.nnodes; i++)
		cfg->sc.nodes[i].kernel[0] = '\0';
	snprintf(cfg->sc.kernel, sizeof(cfg->sc.kernel), "host");
	rc = sim_scenario_check(&cfg->sc, release, err, sizeof(err));
	if (rc < 0) {
		fprintf(stderr, "twkit lab: %s\n", err); /* FILE:LINE: as twkit sim says it */
		return TWKIT_EXIT_USAGE;
	}
	rc = lab_plan_from_sim(&cfg->sc, &cfg->plan, err, sizeof(err));
	if (rc < 0) {
		const struct sim_node *n = NULL;

		for (int i = 0; cfg->plan.bad_key && i < cfg->sc.nnodes; i++)
			if (strcmp(cfg->sc.nodes[i].name, cfg->plan.bad_node) == 0)
				n = &cfg->sc.nodes[i];
		if (n)
			key_origin(sets, path, n->name, n->line, cfg->plan.bad_key, where,
				   sizeof(where));
		else
			snprintf(where, sizeof(where), "%s", path);
		fprintf(stderr, "twkit lab: %s: %s (twkit sim %s shows it in the model)\n", where,
			err, path);
		return TWKIT_EXIT_USAGE;
	}
	rc = lab_topo_probe(&cfg->plan, &h, &k, err, sizeof(err));
	if (rc == -EOPNOTSUPP) {
		const struct lab_host *lh = &cfg->plan.hosts[h];
		const struct lab_sysctl *s = &lh->sysctl[k];
		int line = 0;

		for (int i = 0; i < cfg->sc.nnodes; i++)
			if (strcmp(cfg->sc.nodes[i].name, lh->node) == 0)
				line = cfg->sc.nodes[i].line;
		if (s->key) {
			key_origin(sets, path, lh->node, line, s->key, where, sizeof(where));
			fprintf(stderr,
				"twkit lab: %s: [%s %s] %s = %s: %s (twkit sim %s shows it "
				"in the model)\n",
				where, lab_kind_name(lh->kind), lh->node, s->key, s->shown, err,
				path);
		} else {
			fprintf(stderr, "twkit lab: %s: [%s %s] the lab needs %s = %s: %s\n", path,
				lab_kind_name(lh->kind), lh->node, s->name, s->value, err);
		}
		return TWKIT_EXIT_USAGE;
	}
	if (rc < 0) {
		fprintf(stderr, "twkit lab: %s\n", err);
		return TWKIT_EXIT_RUNTIME;
	}
	/* what the lab builds, so that nobody has to guess (the JSON has it per host too) */
	fprintf(stderr, "twkit lab: %s runs on this machine's kernel (%s):", path,
		release ? release : "?");
	for (int i = 0; i < cfg->plan.nhosts; i++) {
		const struct lab_host *lh = &cfg->plan.hosts[i];

		fprintf(stderr, "%s [%s %s]", i ? ";" : "", lab_kind_name(lh->kind), lh->node);
		for (int j = 0; j < lh->nsysctl; j++)
			fprintf(stderr, " %s=%s", lh->sysctl[j].name, lh->sysctl[j].value);
	}
	fprintf(stderr, "\n");
	snprintf(cfg->file_summary, sizeof(cfg->file_summary), "scenario file %s", path);
	cfg->file_entry.name = cfg->sc.name[0] ? cfg->sc.name : path;
	cfg->file_entry.sim_name = path;
	cfg->file_entry.summary = cfg->file_summary;
	cfg->entry = &cfg->file_entry;
	return -1;
}

/* Validate the parsed options into cfg. Returns an exit code, or -1 to go on. */
static int validate(const struct opt_result *res, struct lab_cfg *cfg)
{
	char err[256];
	ssize_t n;
	int rc;

	if (res->npos != 1) {
		fprintf(stderr, "twkit lab: expected one scenario NAME (twkit lab --list)\n");
		return TWKIT_EXIT_USAGE;
	}
	cfg->relay = -1; /* not given: chosen below from the plan and what is installed */
	if (opt_apply(specs, NSPECS, res, cfg, err, sizeof(err)) < 0) {
		fprintf(stderr, "twkit lab: %s\n", err);
		return TWKIT_EXIT_USAGE;
	}
	if (sim_scenario_arg_is_file(res->pos[0], lab_catalog_find(res->pos[0]) != NULL)) {
		rc = load_file(res, res->pos[0], cfg);
		if (rc >= 0)
			return rc;
	} else {
		if (opt_get(specs, NSPECS, res, "set")) {
			fprintf(stderr,
				"twkit lab: --set applies to scenario files; the built-in lab "
				"scenarios are fixed (twkit sim NAME --set ... for variants)\n");
			return TWKIT_EXIT_USAGE;
		}
		cfg->entry = lab_catalog_find(res->pos[0]);
		if (!cfg->entry) {
			fprintf(stderr,
				"twkit lab: unknown scenario '%s' (twkit lab --list, or a "
				"scenario FILE.ini)\n",
				res->pos[0]);
			return TWKIT_EXIT_USAGE;
		}
		if (cfg->entry->unsupported) {
			fprintf(stderr, "twkit lab: %s: %s\n", cfg->entry->name,
				cfg->entry->unsupported);
			return TWKIT_EXIT_USAGE;
		}
		rc = lab_catalog_scenario(cfg->entry->name, &cfg->sc);
		if (rc == 0)
			rc = lab_plan_from_sim(&cfg->sc, &cfg->plan, err, sizeof(err));
		if (rc < 0) {
			fprintf(stderr, "twkit lab: %s: %s\n", cfg->entry->name, err);
			return TWKIT_EXIT_USAGE;
		}
	}
	cfg->quiet = cfg->quiet || cfg->json || !isatty(2);
	for (int k = 0; k < 2; k++) { /* a bad path fails now, not after the run */
		const char *path = k ? cfg->csv : cfg->svg;
		char pwhy[160];
		if (path && outpath_check(path, 0, pwhy, sizeof(pwhy)) < 0) {
			fprintf(stderr, "twkit lab: --%s '%s': %s\n", k ? "csv" : "svg", path,
				pwhy);
			return TWKIT_EXIT_USAGE;
		}
	}
	if (cfg->relay == LAB_RELAY_NGINX && cfg->plan.l7_server_closes) {
		fprintf(stderr,
			"twkit lab: --relay nginx: nginx closes its backend connections "
			"itself, so the server cannot close first there; this scenario runs "
			"with --relay twkit\n");
		return TWKIT_EXIT_USAGE;
	}
	if (cfg->relay < 0) /* twkit's relay is the one that lets the server close first */
		cfg->relay = access(LAB_NGINX_BIN, X_OK) == 0 && !cfg->plan.l7_server_closes
				 ? LAB_RELAY_NGINX
				 : LAB_RELAY_TWKIT;
	if (cfg->relay == LAB_RELAY_NGINX && cfg->plan.middle_kind == SIM_NODE_L7LB &&
	    cfg->plan.middle >= 0 && access(LAB_NGINX_BIN, X_OK) != 0) {
		fprintf(stderr,
			"twkit lab: --relay nginx: %s is not installed (apt-get install "
			"nginx-light), or use --relay twkit\n",
			LAB_NGINX_BIN);
		return TWKIT_EXIT_RUNTIME;
	}
	/* bench runs from the very binary that runs lab, whatever its path */
	n = readlink("/proc/self/exe", cfg->self_exe, sizeof(cfg->self_exe) - 1);
	if (n <= 0) {
		fprintf(stderr, "twkit lab: cannot find my own executable\n");
		return TWKIT_EXIT_RUNTIME;
	}
	cfg->self_exe[n] = '\0';
	return -1;
}

/* Write --svg / --csv. 0 or an exit code. */
static int save_plots(const struct lab_cfg *cfg, const struct lab_report *rep)
{
	struct series s = {0};
	char title[128];
	int rc = lab_report_series(rep, &s);

	snprintf(title, sizeof(title), "twkit lab %s", cfg->entry->name);
	if (rc == 0 && cfg->svg) {
		struct plot *p = malloc(sizeof(*p));

		rc = -ENOMEM;
		if (p) {
			plot_init(p, title);
			lab_report_plot(rep, &cfg->sc, rep->lab->release, p);
			rc = plot_save(p, cfg->svg);
			free(p);
		}
	}
	if (rc == 0 && cfg->csv)
		rc = series_save(&s, cfg->csv, 0, title);
	series_fini(&s);
	if (rc < 0) {
		fprintf(stderr, "twkit lab: writing the plot: %s\n", strerror(-rc));
		return TWKIT_EXIT_RUNTIME;
	}
	return 0;
}

static int run(const struct lab_cfg *cfg)
{
	struct lab_run_cfg rcfg = {.plan = &cfg->plan,
				   .self_exe = cfg->self_exe,
				   .relay = (enum LAB_RELAY)cfg->relay,
				   .keep = cfg->keep,
				   .progress = !cfg->quiet,
				   .stop = &stop_flag};
	static struct lab_doctor doc; /* ~10 KiB: not on the stack */
	struct lab_report rep = {.entry = cfg->entry, .plan = &cfg->plan, .kept = cfg->keep};
	struct sigaction sa = {.sa_handler = on_signal};
	struct lab_result lr;
	struct sim_result sr;
	struct lab_fidelity fid;
	struct lab_topo topo;
	bool have_sim = false;
	char err[512] = "";
	int rc, recovered, code = TWKIT_EXIT_OK;

	memset(&lr, 0, sizeof(lr));
	memset(&sr, 0, sizeof(sr));
	rc = lab_env_check(err, sizeof(err));
	if (rc < 0) {
		fprintf(stderr, "twkit lab: %s\n", err);
		return TWKIT_EXIT_RUNTIME;
	}
	lab_topo_init(&topo, &cfg->plan, (int)getpid());
	rc = lab_lock_acquire(&topo, cfg->wait_ns, &recovered, err, sizeof(err));
	if (rc < 0) {
		fprintf(stderr, "twkit lab: %s\n", err);
		return TWKIT_EXIT_RUNTIME;
	}
	if (recovered > 0)
		fprintf(stderr, "twkit lab: removed %d namespace(s) left by a run that died\n",
			recovered);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	memset(&doc, 0, sizeof(doc));
	doc.enabled = cfg->doctor;
	rcfg.doctor = cfg->doctor ? &doc : NULL;
	rc = lab_run(&rcfg, &topo, &lr, err, sizeof(err));
	lab_lock_release(&topo);
	if (rc < 0) {
		fprintf(stderr, "twkit lab: %s\n", err);
		if (cfg->keep)
			lab_report_keep_hint(stderr, &topo);
		code = TWKIT_EXIT_RUNTIME;
		goto out;
	}
	if (cfg->compare) {
		rc = lab_compare_sim(&cfg->sc, lr.release, &sr, err, sizeof(err));
		if (rc < 0) {
			fprintf(stderr, "twkit lab: --compare: %s\n", err);
			code = TWKIT_EXIT_RUNTIME;
			goto out;
		}
		have_sim = true;
		lab_fidelity_compute(&lr, &sr, cfg->plan.duration_ns,
				     lab_catalog_checks_sys(cfg->entry), &fid);
		rep.sim = &sr;
		rep.fid = &fid;
	}
	if (cfg->doctor) {
		struct lab_doc_measured m[LAB_MAX_HOSTS];

		lab_doc_measure(&cfg->plan, &lr, m);
		doc.end_s = (double)cfg->plan.duration_ns / 1e9;
		lab_doc_check_all(&doc, m);
		rep.doctor = &doc;
	}
	rep.topo = &topo;
	rep.lab = &lr;
	if (cfg->json) {
		lab_report_json(stdout, &rep);
		if (cfg->keep)
			lab_report_keep_hint(stderr, &topo);
	} else {
		lab_report_text(stdout, &rep);
	}
	if (cfg->svg || cfg->csv)
		code = save_plots(cfg, &rep);
	if (lr.interrupted && code == TWKIT_EXIT_OK)
		code = TWKIT_EXIT_RUNTIME;
	if (cfg->doctor && !doc.all_agree && code == TWKIT_EXIT_OK)
		code = TWKIT_EXIT_FINDINGS;
out:
	if (have_sim)
		lab_sim_fini(&sr);
	lab_result_fini(&lr);
	return code;
}

int lab_main(int argc, char **argv)
{
	static struct lab_cfg cfg; /* large (scenario + path); one per process */
	struct opt_result res;
	char err[256];
	int code;

	memset(&cfg, 0, sizeof(cfg));
	if (opt_parse(specs, NSPECS, argc, argv, 1, &res, err, sizeof(err)) < 0) {
		fprintf(stderr, "twkit lab: %s\n\n", err);
		usage(stderr);
		return TWKIT_EXIT_USAGE;
	}
	if (opt_has(specs, NSPECS, &res, "help")) {
		usage(stdout);
		code = TWKIT_EXIT_OK;
	} else if (opt_has(specs, NSPECS, &res, "list")) {
		list(stdout);
		code = TWKIT_EXIT_OK;
	} else if (opt_has(specs, NSPECS, &res, "show")) {
		const struct lab_entry *e = res.npos == 1 ? lab_catalog_find(res.pos[0]) : NULL;
		if (!e) {
			fprintf(stderr, "twkit lab: --show takes one catalogue NAME (twkit lab --list)%s%s\n",
				res.npos == 1 ? ", not " : "", res.npos == 1 ? res.pos[0] : "");
			code = TWKIT_EXIT_USAGE;
		} else if (e->unsupported) {
			fprintf(stderr, "twkit lab: %s: %s\n", e->name, e->unsupported);
			code = TWKIT_EXIT_USAGE;
		} else {
			code = lab_catalog_show(stdout, e) == 0 && fflush(stdout) == 0
				       ? TWKIT_EXIT_OK
				       : TWKIT_EXIT_RUNTIME;
		}
	} else {
		code = validate(&res, &cfg);
		if (code < 0)
			code = run(&cfg);
	}
	opt_result_fini(&res);
	return code;
}
