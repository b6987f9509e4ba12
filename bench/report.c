/* The output: a header saying what ran where, then one Markdown table per
 * workload with the raw numbers (median of the repetitions, min, max) and
 * the ratios of evaio's median to each other system's, all from this run.
 * Markdown so that a run's output can be pasted into docs/performance.md. */
#include "bench.h"

#include <evaio.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#ifdef HAVE_LIBUV
#include <uv.h>
#endif

const char *fmt_rate(double v, char *buf, size_t len)
{
    if (v < 0)
        snprintf(buf, len, "–");
    else if (v >= 10e6)
        snprintf(buf, len, "%.1f M", v / 1e6);
    else if (v >= 1e6)
        snprintf(buf, len, "%.2f M", v / 1e6);
    else if (v >= 100e3)
        snprintf(buf, len, "%.0f k", v / 1e3);
    else if (v >= 10e3)
        snprintf(buf, len, "%.1f k", v / 1e3);
    else
        snprintf(buf, len, "%.0f", v);
    return buf;
}

static const char *fmt_num(double v, const char *f, char *buf, size_t len)
{
    if (v < 0)
        snprintf(buf, len, "–");
    else
        snprintf(buf, len, f, v);
    return buf;
}

/* a / b, or a dash when either is missing. */
static const char *fmt_ratio(double a, double b, char *buf, size_t len)
{
    if (a < 0 || b <= 0)
        snprintf(buf, len, "–");
    else
        snprintf(buf, len, "%.2f", a / b);
    return buf;
}

void report_header(int argc, char **argv)
{
    struct utsname u;
    uname(&u);
    char date[64];
    time_t t = time(NULL);
    strftime(date, sizeof date, "%Y-%m-%d %H:%M UTC", gmtime(&t));
    double load[3] = { -1, -1, -1 };
    getloadavg(load, 3);

    printf("### evaio-bench, %s\n\n", date);
    printf("- command: `evaio-bench");
    for (int i = 1; i < argc; i++)
        printf(" %s", argv[i]);
    printf("`\n");
    printf("- machine: %ld CPUs online, %s %s %s, load average %.2f at the start\n",
           sysconf(_SC_NPROCESSORS_ONLN), u.sysname, u.release, u.machine, load[0]);
    printf("- built with: evaio %d.%d.%d", EVAIO_VERSION_MAJOR, EVAIO_VERSION_MINOR,
           EVAIO_VERSION_PATCH);
#ifdef HAVE_LIBUV
    printf(", libuv %s", uv_version_string());
#else
    printf(", libuv not built in (pkg-config found no libuv)");
#endif
#ifdef HAVE_LIBURING
    printf(", liburing %s", LIBURING_VERSION);
#else
    printf(", io_uring not built in (pkg-config found no liburing)");
#endif
    printf("\n- pools: %u worker threads unless a table says otherwise (evaio max_parallel, "
           "libuv UV_THREADPOOL_SIZE, io_uring io-wq max workers)\n",
           cfg.threads);
    printf("- evaio requests: %s\n", cfg.wrappers ? "allocating wrappers (evaio_ctx_OP)"
                                                  : "caller-owned (evaio_OP_init + evaio_ctx_start)");
#ifdef HAVE_LIBURING
    printf("- io_uring ring: %s\n", cfg.uring_plain ? "default flags"
                                                   : "IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN");
#endif
    printf("- %u repetitions, the systems interleaved in each; every measurement in a child "
           "process of its own, after a warm-up at a tenth of its size that is not measured\n",
           cfg.reps);
    printf("- %zu small files and a %zu MiB file, in the page cache\n", cfg.files, cfg.data_mib);
    printf("- each cell: the median of the repetitions, with min and max; ratios: evaio's median "
           "÷ the row's, from this run\n");
}

static void heading(const struct workload *w)
{
    size_t n = *w->n;
    printf("\n#### %s: ", w->title);
    switch (w->kind) {
    case K_TPUT:
        printf("%zu requests per run, %zu in flight", n, *w->inflight);
        if (!w->per_system_ratio)
            printf(", %u worker threads", cfg.threads);
        break;
    case K_LAT: printf("%zu requests per run, each submitted after the previous one's callback", n); break;
    case K_WALL: {
        unsigned t = cfg.many_threads;
        double floor_ms = (double)((n + t - 1) / t) * cfg.sleep_secs * 1e3;
        printf("%zu requests of %g ms, %u worker threads (floor %.0f ms)", n, cfg.sleep_secs * 1e3,
               t, floor_ms);
        break;
    }
    case K_MEM: printf("%zu requests queued behind a blocked worker", n); break;
    }
    printf("\n\n");
}

static void tput_table(int w)
{
    const struct workload *wl = &workloads[w];
    int ev = find_entry(w, SYS_EVAIO, cfg.threads, 0);
    double ev_rate = entry_summary(w, ev, F_A).med, ev_cpu = entry_summary(w, ev, F_CPU).med;
    if (wl->per_system_ratio)
        printf("| system | threads | ops/s | min | max | CPU µs/req | switches/req | peak RSS MiB | "
               "÷ %u threads, ops/s |\n|---|--:|--:|--:|--:|--:|--:|--:|--:|\n",
               cfg.threads);
    else
        printf("| system | threads | ops/s | min | max | CPU µs/req | switches/req | peak RSS MiB | "
               "evaio ÷ this, ops/s | evaio ÷ this, CPU |\n|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n");
    for (unsigned e = 0; e < wl->nentries; e++) {
        const struct entry *en = &wl->entries[e];
        char b[8][32];
        struct summary a = entry_summary(w, (int)e, F_A);
        struct summary cpu = entry_summary(w, (int)e, F_CPU);
        struct summary rss = entry_summary(w, (int)e, F_RSS);
        struct summary sw = entry_summary(w, (int)e, F_SWITCHES);
        printf("| %s | %u | %s | %s | %s | %s | %s | %s |", sys_get(en->sys)->name,
               entry_threads(en), fmt_rate(a.med, b[0], 32), fmt_rate(a.min, b[1], 32),
               fmt_rate(a.max, b[2], 32), fmt_num(cpu.med, "%.3f", b[3], 32),
               fmt_num(sw.med, "%.3f", b[7], 32), fmt_num(rss.med, "%.1f", b[4], 32));
        if (wl->per_system_ratio) {
            int base = find_entry(w, en->sys, cfg.threads, 0);
            printf(" %s |\n", (int)e == base ? "–"
                                             : fmt_ratio(a.med, entry_summary(w, base, F_A).med,
                                                         b[5], 32));
        } else if ((int)e == ev) {
            printf(" – | – |\n");
        } else {
            printf(" %s | %s |\n", fmt_ratio(ev_rate, a.med, b[5], 32),
                   fmt_ratio(ev_cpu, cpu.med, b[6], 32));
        }
    }
    if (wl->per_system_ratio)
        printf("\nThe last column is this row's throughput ÷ the same system's with %u threads.\n",
               cfg.threads);
    else
        printf("\nops/s: higher is better, so a ratio above 1 means evaio is faster; CPU µs/req is "
               "user + system time of the whole process (all threads) per request, so a ratio "
               "below 1 means evaio uses less; switches/req: context switches of all its threads "
               "per request (wake-ups and sleeps).\n");
}

static void lat_table(int w)
{
    const struct workload *wl = &workloads[w];
    int ev = find_entry(w, SYS_EVAIO, cfg.threads, 0);
    double ev50 = entry_summary(w, ev, F_A).med, ev99 = entry_summary(w, ev, F_B).med;
    printf("| system | p50 µs | min | max | p99 µs | min | max | CPU µs/req | switches/req | "
           "peak RSS MiB | evaio ÷ this, p50 | evaio ÷ this, p99 |\n"
           "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n");
    for (unsigned e = 0; e < wl->nentries; e++) {
        const struct entry *en = &wl->entries[e];
        char b[11][32];
        struct summary p50 = entry_summary(w, (int)e, F_A), p99 = entry_summary(w, (int)e, F_B);
        struct summary cpu = entry_summary(w, (int)e, F_CPU), rss = entry_summary(w, (int)e, F_RSS);
        struct summary sw = entry_summary(w, (int)e, F_SWITCHES);
        printf("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n",
               sys_get(en->sys)->name, fmt_num(p50.med, "%.2f", b[0], 32),
               fmt_num(p50.min, "%.2f", b[1], 32), fmt_num(p50.max, "%.2f", b[2], 32),
               fmt_num(p99.med, "%.2f", b[3], 32), fmt_num(p99.min, "%.2f", b[4], 32),
               fmt_num(p99.max, "%.2f", b[5], 32), fmt_num(cpu.med, "%.2f", b[6], 32),
               fmt_num(sw.med, "%.2f", b[10], 32), fmt_num(rss.med, "%.1f", b[7], 32),
               (int)e == ev ? "–" : fmt_ratio(ev50, p50.med, b[8], 32),
               (int)e == ev ? "–" : fmt_ratio(ev99, p99.med, b[9], 32));
    }
    printf("\nEach request is timed from its submission to the end of its callback (sync: the "
           "stat call); p50 and p99 of one run's requests, then the median, min and max of those "
           "over the repetitions. A ratio below 1 means evaio is quicker.\n");
}

static void wall_table(int w)
{
    const struct workload *wl = &workloads[w];
    int ev = find_entry(w, SYS_EVAIO, cfg.many_threads, 0);
    double ev_ms = entry_summary(w, ev, F_A).med;
    printf("| system | threads | wall ms | min | max | CPU µs/req | switches/req | peak RSS MiB | "
           "evaio ÷ this |\n|---|--:|--:|--:|--:|--:|--:|--:|--:|\n");
    for (unsigned e = 0; e < wl->nentries; e++) {
        const struct entry *en = &wl->entries[e];
        char b[8][32];
        struct summary a = entry_summary(w, (int)e, F_A);
        struct summary cpu = entry_summary(w, (int)e, F_CPU), rss = entry_summary(w, (int)e, F_RSS);
        struct summary sw = entry_summary(w, (int)e, F_SWITCHES);
        printf("| %s | %u | %s | %s | %s | %s | %s | %s | %s |\n", sys_get(en->sys)->name,
               entry_threads(en), fmt_num(a.med, "%.1f", b[0], 32), fmt_num(a.min, "%.1f", b[1], 32),
               fmt_num(a.max, "%.1f", b[2], 32), fmt_num(cpu.med, "%.2f", b[3], 32),
               fmt_num(sw.med, "%.2f", b[6], 32), fmt_num(rss.med, "%.1f", b[4], 32),
               (int)e == ev ? "–" : fmt_ratio(ev_ms, a.med, b[5], 32));
    }
    printf("\nevaio: busy(%g) requests and libuv: uv_queue_work with a nanosleep of %g ms, all "
           "queued at once, their pools running %u at a time; io_uring: IORING_OP_TIMEOUT of "
           "%g ms, its analogue (no thread sleeps), %u in flight. A ratio below 1 means evaio "
           "finishes sooner.\n",
           cfg.sleep_secs, cfg.sleep_secs * 1e3, cfg.many_threads, cfg.sleep_secs * 1e3,
           cfg.many_threads);
}

static void mem_table(int w)
{
    const struct workload *wl = &workloads[w];
    printf("| request | struct bytes | allocations per request | RSS bytes per queued request "
           "| min | max | peak RSS MiB |\n|---|--:|--:|--:|--:|--:|--:|\n");
    for (unsigned e = 0; e < wl->nentries; e++) {
        const struct entry *en = &wl->entries[e];
        char b[6][32];
        struct summary rss = entry_summary(w, (int)e, F_A), al = entry_summary(w, (int)e, F_B);
        struct summary peak = entry_summary(w, (int)e, F_RSS);
        size_t size = memory_req_size(en);
        printf("| %s | %s | %s | %s | %s | %s | %s |\n", memory_label(en),
               fmt_num(size ? (double)size : -1, "%.0f", b[0], 32),
               fmt_num(al.med, "%.3f", b[1], 32), fmt_num(rss.med, "%.0f", b[2], 32),
               fmt_num(rss.min, "%.0f", b[3], 32), fmt_num(rss.max, "%.0f", b[4], 32),
               fmt_num(peak.med, "%.1f", b[5], 32));
    }
    printf("\nA pool of one worker thread is blocked by a request waiting on a semaphore; the "
           "requests queued behind it grow the resident set by the RSS column each. "
           "Allocations: every malloc, calloc and realloc(NULL) of the process from the first "
           "submission to the last callback, per request.\n");
}

void report_workload(int w)
{
    heading(&workloads[w]);
    switch (workloads[w].kind) {
    case K_TPUT: tput_table(w); break;
    case K_LAT: lat_table(w); break;
    case K_WALL: wall_table(w); break;
    case K_MEM: mem_table(w); break;
    }
}
