/* TEMPORARY: weak stand-ins while go_runtime.c, proc_stats.c and sched_stats.c are written;
 * the real (strong) definitions replace them at link time. Deleted before landing. */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>

#include "go_runtime.h"
#include "proc_stats.h"
#include "sched_stats.h"

__attribute__((weak)) const double sched_runq_bounds[SCHED_RUNQ_BOUNDS];
__attribute__((weak)) struct go_runtime *go_runtime_open(pid_t pid) { (void)pid; return NULL; }
__attribute__((weak)) int go_runtime_read(struct go_runtime *rt, struct go_runtime_stats *out) { (void)rt; (void)out; return -ENOSYS; }
__attribute__((weak)) void go_runtime_close(struct go_runtime *rt) { (void)rt; }
__attribute__((weak)) int proc_stats_read(pid_t pid, struct proc_stats *out) { (void)pid; (void)out; return -ENOSYS; }
__attribute__((weak)) int sched_stats_open(const pid_t *pids, int npids, struct sched_stats **out) { (void)pids; (void)npids; *out = NULL; return 0; }
__attribute__((weak)) int sched_stats_add(struct sched_stats *s, pid_t pid) { (void)s; (void)pid; return 0; }
__attribute__((weak)) int sched_stats_read(struct sched_stats *s, pid_t pid, struct sched_process_stats *out) { (void)s; (void)pid; (void)out; return -ENOSYS; }
__attribute__((weak)) double sched_runq_quantile(const struct sched_process_stats *a, const struct sched_process_stats *b, double q) { (void)a; (void)b; (void)q; return 0; }
__attribute__((weak)) void sched_stats_close(struct sched_stats *s) { (void)s; }
#include "otlp.h"
__attribute__((weak)) int otlp_enqueue_span(struct otlp_exporter *exp, const struct resource *res, const struct otlp_span *s) { (void)exp; (void)res; (void)s; return -ENOSYS; }
#include "agent_config.h"
__attribute__((weak)) int agent_config_load(struct agent_config *c, const char *path, char *err, size_t errlen) { (void)c; (void)path; snprintf(err, errlen, "no config parser yet"); return -ENOSYS; }
__attribute__((weak)) void agent_config_print(const struct agent_config *c, FILE *out) { (void)c; (void)out; }
