/* The workloads, and the drivers that time one system on one of them.
 *
 * Every measurement runs in a forked child of its own (runner.c): the
 * system starts there, runs the workload once at a tenth of its size to
 * start its threads and fault its code in (not measured), then once for the
 * measurement, and stops. */
#include "bench.h"

#include <stdlib.h>

#define MANY ((unsigned)-1) /* entry threads: cfg.many_threads */

/* An entry: a system, its threads (0: cfg.threads; sync 1, two threads 2)
 * and a variant (the memory workload's request kind).  The order of the
 * entries is the order in which each repetition runs them: A B C D E,
 * A B C D E, ... */
#define E(sys, threads, variant) { sys, threads, variant }
#define SYNC E(SYS_SYNC, 0, 0)
#define TWO E(SYS_THREADS, 0, 0)
#define EVAIO E(SYS_EVAIO, 0, 0)
#define LIBUV E(SYS_LIBUV, 0, 0)
#define URING E(SYS_URING, 0, 0)

const struct workload workloads[] = {
    { .id = "nop", .title = "nop round trips", .kind = K_TPUT, .op = OP_NOP,
      .n = &cfg.nop_n, .inflight = &cfg.nop_inflight,
      .nentries = 3, .entries = { EVAIO, LIBUV, URING } },
    { .id = "stat", .title = "stat of cached files", .kind = K_TPUT, .op = OP_STAT,
      .n = &cfg.stat_n, .inflight = &cfg.stat_inflight, .needs_files = 1,
      .nentries = 5, .entries = { SYNC, TWO, EVAIO, LIBUV, URING } },
    { .id = "pread", .title = "random 4 KiB pread from a cached file", .kind = K_TPUT,
      .op = OP_PREAD, .n = &cfg.pread_n, .inflight = &cfg.pread_inflight, .needs_data = 1,
      .nentries = 5, .entries = { SYNC, TWO, EVAIO, LIBUV, URING } },
    { .id = "nop-lat", .title = "one at a time, nop", .kind = K_LAT, .op = OP_NOP,
      .n = &cfg.lat_n,
      .nentries = 3, .entries = { EVAIO, LIBUV, URING } },
    { .id = "stat-lat", .title = "one at a time, stat", .kind = K_LAT, .op = OP_STAT,
      .n = &cfg.lat_n, .needs_files = 1,
      .nentries = 4, .entries = { SYNC, EVAIO, LIBUV, URING } },
    { .id = "sleep", .title = "requests sleeping on a worker", .kind = K_WALL, .op = OP_SLEEP,
      .n = &cfg.sleep_n,
      .nentries = 3,
      .entries = { E(SYS_EVAIO, MANY, 0), E(SYS_LIBUV, MANY, 0), E(SYS_URING, MANY, 0) } },
    { .id = "threads", .title = "stat throughput by worker threads", .kind = K_TPUT,
      .op = OP_STAT, .n = &cfg.stat_n, .inflight = &cfg.stat_inflight, .needs_files = 1,
      .per_system_ratio = 1,
      .nentries = 4,
      .entries = { EVAIO, E(SYS_EVAIO, MANY, 0), LIBUV, E(SYS_LIBUV, MANY, 0) } },
    /* One worker thread; variant 0 queues nops, 1 stats (memory.c). */
    { .id = "memory", .title = "memory per request", .kind = K_MEM, .n = &cfg.mem_n,
      .needs_files = 1,
      .nentries = 4,
      .entries = { E(SYS_EVAIO, 1, 0), E(SYS_EVAIO, 1, 1), E(SYS_LIBUV, 1, 0),
                   E(SYS_LIBUV, 1, 1) } },
};
const unsigned nworkloads = sizeof workloads / sizeof workloads[0];

unsigned entry_threads(const struct entry *e)
{
    if (e->threads == MANY)
        return cfg.many_threads;
    if (e->threads)
        return e->threads;
    if (e->sys == SYS_SYNC)
        return 1;
    if (e->sys == SYS_THREADS)
        return 2;
    return cfg.threads;
}

const struct sys *sys_get(int id)
{
    static const struct sys *const all[NSYS] = {
        [SYS_SYNC] = &sys_sync, [SYS_THREADS] = &sys_threads, [SYS_EVAIO] = &sys_evaio,
        [SYS_LIBUV] = &sys_libuv, [SYS_URING] = &sys_uring,
    };
    return all[id];
}

/* ------------------------------------------------------------------------ */
/* The asynchronous driver: keeps `inflight` requests going until n are done;
 * each completion starts the next request in the slot it freed. */

static struct {
    const struct sys *sys;
    enum op op;
    size_t n, submitted, done;
} drv;

void bench_complete(unsigned slot)
{
    drv.done++;
    if (drv.submitted < drv.n)
        drv.sys->submit(drv.op, drv.submitted++, slot);
}

static void batch(const struct sys *s, enum op op, size_t n, size_t inflight)
{
    if (s->run) {
        s->run(op, n);
        return;
    }
    drv.sys = s;
    drv.op = op;
    drv.n = n;
    drv.submitted = drv.done = 0;
    for (size_t k = 0; k < inflight && drv.submitted < n; k++)
        s->submit(op, drv.submitted++, (unsigned)k);
    while (drv.done < n)
        s->wait();
}

/* One request at a time, each timed from submission to the end of its
 * callback (or, for a blocking system, around the call). */
static void latencies(const struct sys *s, enum op op, size_t n, uint64_t *samples)
{
    if (s->time_one) {
        for (size_t i = 0; i < n; i++)
            samples[i] = s->time_one(op, i);
        return;
    }
    drv.sys = s;
    drv.op = op;
    drv.n = 0; /* completions start nothing */
    drv.submitted = drv.done = 0;
    for (size_t i = 0; i < n; i++) {
        uint64_t t0 = now_ns();
        s->submit(op, i, 0);
        while (drv.done < i + 1)
            s->wait();
        samples[i] = now_ns() - t0;
    }
}

/* ------------------------------------------------------------------------ */
/* One measurement, in the child */

struct outcome measure(const struct workload *w, const struct entry *e)
{
    if (w->kind == K_MEM)
        return measure_memory(w, e);
    const struct sys *s = sys_get(e->sys);
    unsigned threads = entry_threads(e);
    size_t n = *w->n;
    size_t inflight = 1;
    if (w->kind == K_TPUT)
        inflight = *w->inflight;
    else if (w->kind == K_WALL) /* a pool takes them all at once; io_uring, one per "thread" */
        inflight = s->has_pool ? n : threads;
    size_t warm = n / 10 ? n / 10 : 1;

    s->start(threads, inflight);
    struct outcome o = { 0 };
    uint64_t *samples = NULL;
    if (w->kind == K_LAT) {
        samples = malloc(n * sizeof *samples);
        if (!samples)
            die("out of memory");
        latencies(s, w->op, warm, samples);
    } else {
        batch(s, w->op, warm, inflight);
    }

    uint64_t sw0 = switches(), cpu0 = cpu_ns(), t0 = now_ns();
    if (w->kind == K_LAT)
        latencies(s, w->op, n, samples);
    else
        batch(s, w->op, n, inflight);
    uint64_t wall = now_ns() - t0, cpu = cpu_ns() - cpu0, sw = switches() - sw0;

    o.cpu_us = (double)cpu / 1e3 / (double)n;
    o.switches = (double)sw / (double)n;
    switch (w->kind) {
    case K_TPUT: o.a = (double)n * 1e9 / (double)(wall ? wall : 1); break;
    case K_WALL: o.a = (double)wall / 1e6; break;
    case K_LAT:
        o.a = percentile(samples, n, 0.50) / 1e3;
        o.b = percentile(samples, n, 0.99) / 1e3;
        break;
    case K_MEM: break;
    }
    s->stop();
    free(samples);
    o.peak_rss_mib = (double)peak_rss_kib() / 1024;
    return o;
}
