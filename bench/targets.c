/* The summary: the targets of the performance issue, each as a ratio (or an
 * amount) measured in this run, with PASS or MISS.  For the throughput
 * targets the last column gives what two plain threads reach against the
 * same baseline: on a 2-core machine no pool can do better, so a target
 * above that ceiling cannot be met here. */
#include "bench.h"

#include <evaio.h>

#include <stdio.h>

#ifdef HAVE_LIBUV
#include <uv.h>
#endif

static int W(const char *id)
{
    return find_workload(id);
}

/* The median of a field of one system's entry in a workload, -1 if absent. */
static double med(const char *wid, int sys, unsigned threads, enum field f)
{
    int w = W(wid);
    return entry_summary(w, find_entry(w, sys, threads, 0), f).med;
}

static double ratio(double a, double b)
{
    return a < 0 || b <= 0 ? -1 : a / b;
}

/* One target: `digits` decimals for the measured value and the goal. */
static void row(const char *num, const char *what, double measured, int at_least, double goal,
                int digits, const char *note)
{
    char m[32], g[32];
    if (measured < 0)
        snprintf(m, sizeof m, "not measured");
    else
        snprintf(m, sizeof m, "%.*f", digits, measured);
    snprintf(g, sizeof g, "%s %.*f", at_least ? "≥" : "≤", digits, goal);
    const char *verdict = measured < 0                    ? "–"
                          : (at_least ? measured >= goal : measured <= goal) ? "PASS"
                                                                             : "MISS";
    printf("| %s | %s | %s | %s | %s | %s |\n", num, what, m, g, verdict, note ? note : "");
}

static const char *ceiling(double limit, char *buf, size_t len)
{
    if (limit < 0)
        return "";
    snprintf(buf, len, "2 threads: %.2f", limit);
    return buf;
}

void report_targets(void)
{
    unsigned T = cfg.threads, M = cfg.many_threads;
    char c[64];
    printf("\n#### Targets (ratios of medians from this run)\n\n");
    printf("| # | target | measured | goal | result | ceiling on this machine |\n"
           "|---|---|--:|--:|---|---|\n");

    double nop_ev = med("nop", SYS_EVAIO, T, F_A);
    row("1", "nop throughput: evaio ÷ libuv", ratio(nop_ev, med("nop", SYS_LIBUV, T, F_A)), 1, 4,
        2, NULL);
    row("1", "nop throughput: evaio ÷ io_uring", ratio(nop_ev, med("nop", SYS_URING, T, F_A)), 1,
        1, 2, NULL);

    double st_ev = med("stat", SYS_EVAIO, T, F_A), st_2t = med("stat", SYS_THREADS, 2, F_A);
    double st_sync = med("stat", SYS_SYNC, 1, F_A), st_uv = med("stat", SYS_LIBUV, T, F_A);
    row("2", "stat throughput: evaio ÷ sync", ratio(st_ev, st_sync), 1, 1.4, 2,
        ceiling(ratio(st_2t, st_sync), c, sizeof c));
    row("2", "stat throughput: evaio ÷ libuv", ratio(st_ev, st_uv), 1, 1.6, 2,
        ceiling(ratio(st_2t, st_uv), c, sizeof c));

    double pr_ev = med("pread", SYS_EVAIO, T, F_A), pr_2t = med("pread", SYS_THREADS, 2, F_A);
    double pr_sync = med("pread", SYS_SYNC, 1, F_A), pr_ur = med("pread", SYS_URING, T, F_A);
    row("3", "pread 4 KiB throughput: evaio ÷ sync", ratio(pr_ev, pr_sync), 1, 1.4, 2,
        ceiling(ratio(pr_2t, pr_sync), c, sizeof c));
    row("3", "pread 4 KiB throughput: evaio ÷ io_uring", ratio(pr_ev, pr_ur), 1, 1.3, 2,
        ceiling(ratio(pr_2t, pr_ur), c, sizeof c));

    row("4", "one at a time, nop p50: evaio ÷ libuv",
        ratio(med("nop-lat", SYS_EVAIO, T, F_A), med("nop-lat", SYS_LIBUV, T, F_A)), 0, 0.25, 2,
        NULL);
    row("4", "one at a time, stat p50: evaio ÷ libuv",
        ratio(med("stat-lat", SYS_EVAIO, T, F_A), med("stat-lat", SYS_LIBUV, T, F_A)), 0,
        1.0 / 3, 2, NULL);
    row("4", "one at a time, nop p99: evaio ÷ libuv",
        ratio(med("nop-lat", SYS_EVAIO, T, F_B), med("nop-lat", SYS_LIBUV, T, F_B)), 0, 0.5, 2,
        NULL);
    row("4", "one at a time, stat p99: evaio ÷ libuv",
        ratio(med("stat-lat", SYS_EVAIO, T, F_B), med("stat-lat", SYS_LIBUV, T, F_B)), 0, 0.5, 2,
        NULL);

    row("5", "CPU per stat request: evaio ÷ sync",
        ratio(med("stat", SYS_EVAIO, T, F_CPU), med("stat", SYS_SYNC, 1, F_CPU)), 0, 1.3, 2,
        NULL);

    char what[96];
    snprintf(what, sizeof what, "%zu sleeps of %g ms, %u threads, wall time: evaio ÷ io_uring",
             cfg.sleep_n, cfg.sleep_secs * 1e3, M);
    row("6", what,
        ratio(med("sleep", SYS_EVAIO, M, F_A), med("sleep", SYS_URING, M, F_A)), 0, 1.05, 2, NULL);

    char note[64] = "";
    double uv_many = ratio(med("threads", SYS_LIBUV, M, F_A), med("threads", SYS_LIBUV, T, F_A));
    if (uv_many >= 0)
        snprintf(note, sizeof note, "libuv: %.2f", uv_many);
    snprintf(what, sizeof what, "stat throughput, %u threads ÷ %u threads: evaio", M, T);
    row("7", what,
        ratio(med("threads", SYS_EVAIO, M, F_A), med("threads", SYS_EVAIO, T, F_A)), 1, 0.9, 2,
        note);

    char uvsize[32] = "";
#ifdef HAVE_LIBUV
    snprintf(uvsize, sizeof uvsize, "uv_fs_t: %zu", sizeof(uv_fs_t));
#endif
    row("8", "sizeof(evaio_req), bytes", (double)sizeof(evaio_req), 0, 256, 0, uvsize);
    int wm = W("memory");
    double allocs = entry_summary(wm, find_entry(wm, SYS_EVAIO, 1, 1), F_B).med;
    row("8", "allocations per library-allocated stat (path copy, library struct stat)", allocs, 0,
        1, 3, NULL);
    double rss = entry_summary(wm, find_entry(wm, SYS_EVAIO, 1, 0), F_A).med;
    row("8", "RSS per queued nop (wrapper), bytes", rss, 0, 320, 0, NULL);

    printf("\nMeasured differences of ±15 %% between runs are noise on this kind of machine: only "
           "ratios from one run count, and a target within that of its goal needs several runs.\n");
}
