/* Medians, minima, maxima and percentiles, and looking results up. */
#include "bench.h"

#include <stdlib.h>
#include <string.h>

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

struct summary summarize(const double *v, unsigned n)
{
    double tmp[MAX_REPS];
    memcpy(tmp, v, n * sizeof *v);
    qsort(tmp, n, sizeof *tmp, cmp_double);
    double med = n % 2 ? tmp[n / 2] : (tmp[n / 2 - 1] + tmp[n / 2]) / 2;
    return (struct summary){ med, tmp[0], tmp[n - 1] };
}

double percentile(uint64_t *samples, size_t n, double q)
{
    qsort(samples, n, sizeof *samples, cmp_u64);
    size_t rank = (size_t)(q * (double)n + 0.999999); /* nearest rank */
    if (rank < 1)
        rank = 1;
    if (rank > n)
        rank = n;
    return (double)samples[rank - 1];
}

struct summary entry_summary(int w, int e, enum field f)
{
    if (w < 0 || e < 0 || !entry_ran[w][e])
        return (struct summary){ -1, -1, -1 };
    double v[MAX_REPS];
    for (unsigned r = 0; r < cfg.reps; r++) {
        const struct outcome *o = &results[w][e][r];
        switch (f) {
        case F_A: v[r] = o->a; break;
        case F_B: v[r] = o->b; break;
        case F_CPU: v[r] = o->cpu_us; break;
        case F_RSS: v[r] = o->peak_rss_mib; break;
        case F_SWITCHES: v[r] = o->switches; break;
        }
    }
    return summarize(v, cfg.reps);
}

int find_workload(const char *id)
{
    for (unsigned w = 0; w < nworkloads; w++)
        if (!strcmp(workloads[w].id, id))
            return (int)w;
    return -1;
}

int find_entry(int w, int sys, unsigned threads, int variant)
{
    if (w < 0)
        return -1;
    const struct workload *wl = &workloads[w];
    for (unsigned e = 0; e < wl->nentries; e++) {
        const struct entry *en = &wl->entries[e];
        if (en->sys == sys && entry_threads(en) == threads && en->variant == variant)
            return (int)e;
    }
    return -1;
}
