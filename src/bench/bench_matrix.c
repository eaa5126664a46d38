/*
 * bench_matrix — run variants one after another and keep every result for one comparison
 * table. A variant is a line "NAME [OPTIONS...]" whose options are applied after the command
 * line's (so a matrix file only says what differs). '#' starts a comment.
 */
#include "bench/bench.h"
#include "kernel/procfs.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/*
 * The mitigations of issue 4, each against the same baseline, and ports chosen by the
 * application (issue 18 §6), last: connect()'s search skips every port whose bind bucket a
 * bind() made (§3.2) while anything holds it, so run earlier it would spend the range of the
 * variants after it for 60 s. On loopback it binds an address of its own, as a balancer's
 * `source ADDR:PORT-PORT` does: 127.0.0.5, past 4-sources' 127.0.0.1-4, where the TIME-WAIT
 * the variants before it left (without SO_REUSEADDR) would make bind() refuse their ports.
 * Elsewhere there is no second address to take; those refusals are counted and explained.
 */
static const char builtin_v4_loop[] =
	"baseline\n"
	"linger0-client --linger0 client\n"
	"server-close --close server\n"
	"4-sources --source 127.0.0.1-127.0.0.4\n"
	"keep-alive --requests-per-conn 100\n"
	"bind-then-conn --bind-no-port off\n"
	"app-ports --port-select app --source 127.0.0.5\n";
static const char builtin_other[] =
	"baseline\n"
	"linger0-client --linger0 client\n"
	"server-close --close server\n"
	"keep-alive --requests-per-conn 100\n"
	"bind-then-conn --bind-no-port off\n"
	"app-ports --port-select app\n";

static bool loopback_v4(const struct bench_cfg *cfg)
{
	const struct bench_ep *ep = cfg->mode == BENCH_MODE_RUN ? &cfg->target : &cfg->listen;
	return ep->addr.ss_family == AF_INET &&
	       (ntohl(((const struct sockaddr_in *)&ep->addr)->sin_addr.s_addr) >> 24) == 127;
}

int bench_matrix_run(const struct bench_cfg *cfg, int argc, char **argv,
		     struct bench_result **out, int *nout, char *err, size_t errlen)
{
	char *text = NULL, *save = NULL;
	size_t tlen;
	struct bench_result *rs = NULL;
	int n = 0, rc = 0, lineno = 0;

	if (strcmp(cfg->matrix, "builtin") == 0) {
		text = strdup(loopback_v4(cfg) ? builtin_v4_loop : builtin_other);
		if (!text)
			return -ENOMEM;
	} else if ((rc = kproc_read(cfg->matrix, 65535, &text, &tlen)) < 0) {
		snprintf(err, errlen, "--matrix '%s': %s", cfg->matrix, strerror(-rc));
		return rc == -ENOMEM ? rc : -EINVAL;
	}
	for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char name[48], *hash = strchr(line, '#'), *p = line;
		struct bench_result *nr;
		struct bench_cfg vc;
		size_t k;
		lineno++;
		if (hash)
			*hash = '\0';
		while (*p == ' ' || *p == '\t')
			p++;
		k = strcspn(p, " \t\r");
		if (!k)
			continue;
		if (k >= sizeof(name)) {
			snprintf(err, errlen, "--matrix line %d: variant name too long", lineno);
			rc = -EINVAL;
			goto out;
		}
		memcpy(name, p, k);
		name[k] = '\0';
		char verr[200];
		rc = bench_cfg_variant(argc, argv, p + k, &vc, verr, sizeof(verr));
		if (rc != 0) {
			snprintf(err, errlen, "--matrix line %d (%s): %s", lineno, name,
				 rc > 0 ? "--help is not a variant" : verr);
			rc = -EINVAL;
			goto out;
		}
		if (vc.mode == BENCH_MODE_SERVE) {
			snprintf(err, errlen, "--matrix line %d: serve is not a variant", lineno);
			rc = -EINVAL;
			goto out;
		}
		strcpy(vc.name, name);

		vc.csv = vc.svg = NULL;
		nr = realloc(rs, (size_t)(n + 1) * sizeof(*rs));
		if (!nr) {
			rc = -ENOMEM;
			goto out;
		}
		rs = nr;
		if (!cfg->quiet)
			fprintf(stderr, "twkit bench: variant %d: %s\n", n + 1, name);
		rc = bench_run(&vc, &rs[n]);
		if (rc < 0) {
			snprintf(err, errlen, "variant %s: %s", name, strerror(-rc));
			goto out;
		}
		n++;
		if (rs[n - 1].interrupted)
			break; /* Ctrl-C ends the matrix; what ran is reported */
	}
out:
	free(text);
	if (rc < 0) {
		for (int i = 0; i < n; i++)
			bench_result_fini(&rs[i]);
		free(rs);
		return rc;
	}
	*out = rs;
	*nout = n;
	return 0;
}

int bench_matrix_series(const struct bench_result *rs, int n, struct series *out)
{
	const char *names[SERIES_MAX_COLS];
	double row[SERIES_MAX_COLS], t0 = 0;
	int nc, rc;

	memset(out, 0, sizeof(*out));
	if (n <= 0)
		return -EINVAL;
	nc = rs[0].series.ncols;
	if (nc + 1 > SERIES_MAX_COLS)
		return -EINVAL;
	for (int k = 0; k < nc; k++)
		names[k] = rs[0].series.names[k];
	names[nc] = "variant";
	rc = series_init(out, nc + 1, names);
	for (int i = 0; i < n && rc == 0; i++) {
		const struct series *s = &rs[i].series;
		double end = 0;
		if (s->ncols != nc) {
			rc = -EINVAL;
			break;
		}
		for (size_t j = 0; j < s->nrows && rc == 0; j++) {
			for (int k = 0; k < nc; k++)
				row[k] = series_get(s, j, k);
			row[nc] = i + 1;
			end = s->t[j];
			rc = series_add(out, t0 + s->t[j], row);
		}
		t0 += end > rs[i].elapsed_s ? end : rs[i].elapsed_s;
	}
	if (rc < 0)
		series_fini(out);
	return rc;
}
