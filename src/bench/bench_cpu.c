/*
 * bench_cpu — CPU per connection and the ceiling it sets (see bench_cpu.h). The CPU ceiling
 * counts kernel time only: on a churn load the kernel does nearly all the work (user time is a
 * few percent of it), and the kernel time is what grows as connect() searches a filling range.
 */
#include "bench/bench_cpu.h"

#include <sched.h>
#include <stdio.h>
#include <string.h>

#include "common/units.h"

void bench_cpu_compute(double sys_s, double user_s, double elapsed_s, uint64_t attempted, int cores,
		       double port_rate, struct bench_cpu *out)
{
	memset(out, 0, sizeof(*out));
	out->conns = attempted;
	out->cores = cores > 0 ? cores : 1;
	out->port_rate = port_rate > 0 ? port_rate : 0;
	if (elapsed_s > 0)
		out->cores_busy = (sys_s + user_s) / elapsed_s;
	if (attempted) {
		out->sys_us_per_conn = (sys_s > 0 ? sys_s : 0) * 1e6 / (double)attempted;
		out->user_us_per_conn = (user_s > 0 ? user_s : 0) * 1e6 / (double)attempted;
	}
	if (out->sys_us_per_conn > 0) {
		out->per_core_rate = 1e6 / out->sys_us_per_conn;
		out->cpu_rate = out->per_core_rate * out->cores;
	}
	if (out->cpu_rate <= 0)
		out->binds = out->port_rate > 0 ? BENCH_BIND_PORTS : BENCH_BIND_NONE;
	else if (out->port_rate > 0 && out->port_rate <= out->cpu_rate)
		out->binds = BENCH_BIND_PORTS;
	else
		out->binds = BENCH_BIND_CPU;
}

int bench_cpu_count(void)
{
	cpu_set_t set;
	int n;

	if (sched_getaffinity(0, sizeof(set), &set) < 0)
		return 1;
	n = CPU_COUNT(&set);
	return n > 0 ? n : 1;
}

const char *bench_bind_str(enum BENCH_BIND b)
{
	return b == BENCH_BIND_PORTS ? "ports" : b == BENCH_BIND_CPU ? "cpu" : "none";
}

int bench_cpu_explain(const struct bench_cpu *c, double measured_rate, char *buf, size_t len)
{
	char pr[32], cr[32], pc[32], mr[32], ports[96];

	if (len)
		buf[0] = '\0';
	if (!c->conns || c->cpu_rate <= 0)
		return 0;
	if (c->port_rate > 0)
		snprintf(ports, sizeof(ports), "ports %s",
			 units_fmt_rate(pr, sizeof(pr), c->port_rate));
	else
		snprintf(ports, sizeof(ports), "ports none (TIME-WAIT sets no rate bound here)");
	return snprintf(
	    buf, len,
	    "ceilings: %s; CPU %s (%.1f us of kernel time per connection attempted = %s per "
	    "core, x %d core%s; this run kept %.2f busy). %s; measured %s",
	    ports, units_fmt_rate(cr, sizeof(cr), c->cpu_rate), c->sys_us_per_conn,
	    units_fmt_rate(pc, sizeof(pc), c->per_core_rate), c->cores, c->cores > 1 ? "s" : "",
	    c->cores_busy,
	    c->binds == BENCH_BIND_PORTS ? "The ports bind first" : "The CPU binds first",
	    units_fmt_rate(mr, sizeof(mr), measured_rate));
}
