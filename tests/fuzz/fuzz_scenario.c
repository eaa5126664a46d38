/*
 * libFuzzer harness for the scenario parser (src/sim/scenario.c): arbitrary bytes as an INI
 * text, then --set style overrides taken from the input's first line, then (for scenarios
 * that parse and check) a short, clamped simulation so odd topologies reach the engine.
 * Built and run by tests/fuzz/run.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sim/sim.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct sim_scenario sc;
	char err[512], *text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = 0;
	if (sim_scenario_load_string(text, "fuzz.ini", &sc, err, sizeof(err)) == 0) {
		/* the first line doubles as a --set assignment */
		char *nl = strchr(text, '\n');
		if (nl)
			*nl = 0;
		(void)sim_scenario_set(&sc, text, err, sizeof(err));
		if (sim_scenario_check(&sc, "6.18.0", err, sizeof(err)) == 0) {
			struct sim_config cfg = { .sc = &sc, .host_release = "6.18.0" };
			struct sim_result r;
			/* keep each run short: 2 s, few hosts, modest rates */
			sc.duration_ns = 2000000000LL;
			for (int i = 0; i < sc.nnodes; i++) {
				struct sim_node *n = &sc.nodes[i];
				if (n->count > 8)
					n->count = 8;
				if (n->rate > 2000)
					n->rate = 2000;
				if (n->rate_to > 2000)
					n->rate_to = 2000;
				if (n->ips > 4)
					n->ips = 4;
			}
			(void)sim_run(&cfg, &r);
			sim_result_fini(&r);
		}
	}
	free(text);
	return 0;
}
