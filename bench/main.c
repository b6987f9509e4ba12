/* evaio-bench: evaio against the plain synchronous loop, two plain threads,
 * libuv's thread pool and io_uring, on the workloads of docs/performance.md,
 * all in one run.  This file: the options and the run's plan, workload by
 * workload, repetition by repetition, system by system (A B C A B C ...). */
#include "bench.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct bench_cfg cfg = {
    .reps = 5,
    .threads = 4,
    .many_threads = 64,
    .files = 10000,
    .data_mib = 256,
    .nop_n = 1000000,
    .nop_inflight = 1024,
    .stat_n = 500000,
    .stat_inflight = 64,
    .pread_n = 500000,
    .pread_inflight = 64,
    .lat_n = 30000,
    .sleep_n = 2000,
    .sleep_secs = 0.001,
    .mem_n = 1000000,
    .child_timeout = 600,
};

struct outcome results[MAX_WORKLOADS][MAX_ENTRIES][MAX_REPS];
int entry_ran[MAX_WORKLOADS][MAX_ENTRIES];

static const char *only;    /* comma-separated workload ids, or NULL for all */
static const char *systems; /* comma-separated system ids, or NULL for all */

static int in_list(const char *list, const char *id)
{
    size_t len = strlen(id);
    for (const char *p = list; p && *p;) {
        const char *end = strchr(p, ',');
        size_t l = end ? (size_t)(end - p) : strlen(p);
        if (l == len && !strncmp(p, id, len))
            return 1;
        p = end ? end + 1 : NULL;
    }
    return 0;
}

static int workload_selected(unsigned w)
{
    return !only || in_list(only, workloads[w].id);
}

static int entry_runs(unsigned w, unsigned e)
{
    const struct sys *s = sys_get(workloads[w].entries[e].sys);
    return s->available && (!systems || in_list(systems, s->id));
}

/* ------------------------------------------------------------------------ */
/* Options */

static void usage(FILE *to)
{
    fprintf(to,
            "usage: evaio-bench [options] > results.md\n"
            "Runs every workload for evaio, the synchronous loop, 2 plain threads, libuv and\n"
            "io_uring, interleaved over R repetitions, checks every result, and prints\n"
            "Markdown tables: one per workload, then the issue's targets. Progress goes to\n"
            "stderr. See bench/README.md and docs/performance.md.\n\n"
            "  --quick             small sizes: a smoke run of a few seconds\n"
            "  --reps R            repetitions (default %u)\n"
            "  --only W,...        run these workloads only:",
            cfg.reps);
    for (unsigned w = 0; w < nworkloads; w++)
        fprintf(to, " %s", workloads[w].id);
    fprintf(to,
            "\n"
            "  --system S,...      run these systems only: sync threads evaio libuv io_uring\n"
            "  --threads T         worker threads of the pools (default %u)\n"
            "  --many-threads T    the sleep and threads workloads' large pool (default %u)\n"
            "  --wrappers          evaio: allocating wrappers, not caller-owned requests\n"
            "  --uring-plain       io_uring: default ring flags, not SINGLE_ISSUER and\n"
            "                      DEFER_TASKRUN\n"
            "  --files N           small files for stat (default %zu)\n"
            "  --data-mib M        size of the pread file in MiB (default %zu)\n"
            "  --nop-n N           requests per nop run (default %zu, %zu in flight)\n"
            "  --stat-n N          requests per stat run (default %zu, %zu in flight)\n"
            "  --pread-n N         requests per pread run (default %zu, %zu in flight)\n"
            "  --lat-n N           requests per latency run (default %zu)\n"
            "  --sleep-n N         sleeping requests per run (default %zu)\n"
            "  --mem-n N           queued requests in the memory workload (default %zu)\n"
            "  --child-timeout S   kill a measurement after S seconds (default %u)\n",
            cfg.threads, cfg.many_threads, cfg.files, cfg.data_mib, cfg.nop_n, cfg.nop_inflight,
            cfg.stat_n, cfg.stat_inflight, cfg.pread_n, cfg.pread_inflight, cfg.lat_n,
            cfg.sleep_n, cfg.mem_n, cfg.child_timeout);
}

static unsigned long long num_arg(int argc, char **argv, int *i, unsigned long long min,
                                  unsigned long long max)
{
    if (*i + 1 >= argc) {
        fprintf(stderr, "evaio-bench: %s needs a value\n", argv[*i]);
        exit(2);
    }
    const char *s = argv[++*i];
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s || *end || s[0] == '-' || v < min || v > max) {
        fprintf(stderr, "evaio-bench: bad value for %s: %s (%llu..%llu)\n", argv[*i - 1], s, min,
                max);
        exit(2);
    }
    return v;
}

static const char *list_arg(int argc, char **argv, int *i, int workloads_list)
{
    if (*i + 1 >= argc) {
        fprintf(stderr, "evaio-bench: %s needs a value\n", argv[*i]);
        exit(2);
    }
    const char *list = argv[++*i];
    /* Every name must be known. */
    char *copy = strdup(list);
    for (char *save, *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        int ok = 0;
        if (workloads_list)
            ok = find_workload(tok) >= 0;
        else
            for (int s = 0; s < NSYS; s++)
                ok |= !strcmp(sys_get(s)->id, tok);
        if (!ok) {
            fprintf(stderr, "evaio-bench: unknown name for %s: %s\n", argv[*i - 1], tok);
            exit(2);
        }
    }
    free(copy);
    return list;
}

static void parse_args(int argc, char **argv)
{
    struct {
        const char *opt;
        size_t *v;
        int given;
        size_t quick;
    } sizes[] = {
        { "--files", &cfg.files, 0, 1000 },      { "--data-mib", &cfg.data_mib, 0, 16 },
        { "--nop-n", &cfg.nop_n, 0, 20000 },     { "--stat-n", &cfg.stat_n, 0, 20000 },
        { "--pread-n", &cfg.pread_n, 0, 20000 }, { "--lat-n", &cfg.lat_n, 0, 1000 },
        { "--sleep-n", &cfg.sleep_n, 0, 200 },   { "--mem-n", &cfg.mem_n, 0, 20000 },
    };
    const size_t nsizes = sizeof sizes / sizeof sizes[0];
    int quick = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        size_t k;
        for (k = 0; k < nsizes; k++)
            if (!strcmp(a, sizes[k].opt))
                break;
        if (k < nsizes) {
            *sizes[k].v = (size_t)num_arg(argc, argv, &i, 1, 1000000000);
            sizes[k].given = 1;
        } else if (!strcmp(a, "--quick")) {
            quick = 1;
        } else if (!strcmp(a, "--reps")) {
            cfg.reps = (unsigned)num_arg(argc, argv, &i, 1, MAX_REPS);
        } else if (!strcmp(a, "--threads")) {
            cfg.threads = (unsigned)num_arg(argc, argv, &i, 1, 1024);
        } else if (!strcmp(a, "--many-threads")) {
            cfg.many_threads = (unsigned)num_arg(argc, argv, &i, 1, 1024);
        } else if (!strcmp(a, "--child-timeout")) {
            cfg.child_timeout = (unsigned)num_arg(argc, argv, &i, 1, 86400);
        } else if (!strcmp(a, "--wrappers")) {
            cfg.wrappers = 1;
        } else if (!strcmp(a, "--uring-plain")) {
            cfg.uring_plain = 1;
        } else if (!strcmp(a, "--only")) {
            only = list_arg(argc, argv, &i, 1);
        } else if (!strcmp(a, "--system")) {
            systems = list_arg(argc, argv, &i, 0);
        } else if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            exit(0);
        } else {
            fprintf(stderr, "evaio-bench: unknown option %s\n", a);
            usage(stderr);
            exit(2);
        }
    }
    if (quick)
        for (size_t k = 0; k < nsizes; k++)
            if (!sizes[k].given)
                *sizes[k].v = sizes[k].quick;
}

/* ------------------------------------------------------------------------ */

int main(int argc, char **argv)
{
    parse_args(argc, argv);
    setvbuf(stdout, NULL, _IOLBF, 0);

    int want_files = 0, want_data = 0;
    for (unsigned w = 0; w < nworkloads; w++)
        if (workload_selected(w)) {
            want_files |= workloads[w].needs_files;
            want_data |= workloads[w].needs_data;
        }
    uint64_t t_start = now_ns();
    fprintf(stderr, "evaio-bench: making the files...\n");
    fixture_create(want_files, want_data);
    report_header(argc, argv);

    for (unsigned w = 0; w < nworkloads; w++) {
        if (!workload_selected(w))
            continue;
        const struct workload *wl = &workloads[w];
        fprintf(stderr, "evaio-bench: %-8s ", wl->id);
        for (unsigned rep = 0; rep < cfg.reps; rep++) {
            for (unsigned e = 0; e < wl->nentries; e++)
                if (entry_runs(w, e)) {
                    results[w][e][rep] = run_in_child(wl, &wl->entries[e]);
                    entry_ran[w][e] = 1;
                }
            fputc('.', stderr);
        }
        fputc('\n', stderr);
        report_workload((int)w);
    }
    fixture_remove();
    report_targets();
    printf("\nTotal time %.0f s. Every result of every request was checked.\n",
           (double)(now_ns() - t_start) / 1e9);
    return 0;
}
