/* evaio-bench: evaio against a plain synchronous loop and libuv's thread
 * pool, all measured in the same run.  See bench/README.md.
 *
 * Workloads (each repeated R times, systems interleaved A B C A B C ...):
 *   nop  throughput  N requests, a bounded number in flight (default 1024):
 *                    evaio nop vs libuv uv_queue_work with an empty work
 *                    callback.
 *   stat throughput  stat() of cached files in a temporary directory, 64 in
 *                    flight: evaio stat vs libuv uv_fs_stat vs a sync loop.
 *   nop  latency     one request at a time: submit, wait for the callback,
 *                    repeat; p50 and p99.
 *   stat latency     the same with stat (sync: the time of one stat() call).
 *
 * Every result is checked (nop: 0; stat: 0 and the file's known size) and
 * the program aborts on a wrong one. */
#define _POSIX_C_SOURCE 200809L
#define _DEFAULT_SOURCE

#include <evaio.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#ifdef HAVE_LIBUV
#include <uv.h>
#endif

#define MAX_REPS 101
#define STUCK_TIMEOUT_MS 10000 /* no evaio completion for this long: report and abort */

/* ------------------------------------------------------------------------ */
/* Settings */

static struct {
    unsigned reps;
    size_t files;
    size_t nop_n;         /* nop throughput: requests per run */
    size_t nop_inflight;
    unsigned stat_passes; /* stat throughput: requests per run = passes * files */
    size_t stat_inflight;
    size_t lat_n;         /* latency: samples per run */
    unsigned threads;
    int wrappers;         /* evaio: allocating wrappers instead of caller-owned requests */
    const char *only;     /* run just this workload (profiling), or NULL */
    const char *system;   /* run just this system (profiling), or NULL */
} cfg = {
    .reps = 5,
    .files = 10000,
    .nop_n = 1000000,
    .nop_inflight = 1024,
    .stat_passes = 50,
    .stat_inflight = 64,
    .lat_n = 30000,
    .threads = 4,
    .wrappers = 0,
};

/* ------------------------------------------------------------------------ */
/* Failure handling and the temporary files */

static char *tmp_dir;          /* NULL until created */
static char **paths;           /* paths[i]: file i */
static off_t *sizes;           /* sizes[i]: what file i holds */
static volatile size_t nfiles_made;

static void remove_files(void)
{
    /* Only async-signal-safe calls: also used from the signal handler. */
    size_t n = nfiles_made;
    for (size_t i = 0; i < n; i++)
        unlink(paths[i]);
    nfiles_made = 0;
    if (tmp_dir) {
        rmdir(tmp_dir);
        tmp_dir = NULL;
    }
}

static void on_signal(int sig)
{
    remove_files();
    signal(sig, SIG_DFL);
    raise(sig);
}

__attribute__((noreturn, format(printf, 1, 2))) static void die(const char *fmt, ...)
{
    va_list ap;
    fflush(stdout);
    fputs("evaio-bench: FATAL: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    remove_files();
    abort();
}

static void make_files(void)
{
    const char *base = getenv("TMPDIR");
    if (!base || !*base)
        base = "/tmp";
    size_t len = strlen(base) + 32;
    char *templ = malloc(len);
    if (!templ)
        die("out of memory");
    snprintf(templ, len, "%s/evaio-bench.XXXXXX", base);
    if (!mkdtemp(templ))
        die("mkdtemp(%s): %s", templ, strerror(errno));
    tmp_dir = templ;

    size_t plen = strlen(templ) + 16;
    paths = malloc(cfg.files * sizeof *paths);
    sizes = malloc(cfg.files * sizeof *sizes);
    char *pool = malloc(cfg.files * plen);
    if (!paths || !sizes || !pool)
        die("out of memory");
    static const char fill[256] = { 0 };
    for (size_t i = 0; i < cfg.files; i++) {
        paths[i] = pool + i * plen;
        snprintf(paths[i], plen, "%s/f%06zu", templ, i);
        sizes[i] = (off_t)(i % 251); /* distinct sizes: a stat of the wrong file is caught */
    }
    /* Remove the files on the usual ways out, SIGPIPE included (| head). */
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    signal(SIGHUP, on_signal);
    signal(SIGPIPE, on_signal);
    for (size_t i = 0; i < cfg.files; i++) {
        int fd = open(paths[i], O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        if (fd < 0)
            die("open(%s): %s", paths[i], strerror(errno));
        nfiles_made = i + 1;
        if (sizes[i] && write(fd, fill, (size_t)sizes[i]) != (ssize_t)sizes[i])
            die("write(%s): %s", paths[i], strerror(errno));
        if (close(fd) < 0)
            die("close(%s): %s", paths[i], strerror(errno));
    }
}

static void check_stat_size(const char *who, size_t file, int64_t result, int err, int64_t size)
{
    if (result != 0 || err != 0)
        die("%s: stat(%s) returned %lld, errno %d (%s)", who, paths[file], (long long)result, err,
            strerror(err));
    if (size != (int64_t)sizes[file])
        die("%s: stat(%s) reported st_size %lld, expected %lld", who, paths[file], (long long)size,
            (long long)sizes[file]);
}

/* ------------------------------------------------------------------------ */
/* Measuring */

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t cpu_ns(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru); /* every thread of the process: workers included */
    return ((uint64_t)ru.ru_utime.tv_sec + (uint64_t)ru.ru_stime.tv_sec) * 1000000000u +
           ((uint64_t)ru.ru_utime.tv_usec + (uint64_t)ru.ru_stime.tv_usec) * 1000u;
}

struct span {
    uint64_t wall0, cpu0;
};

static struct span span_begin(void)
{
    struct span s = { .cpu0 = cpu_ns() };
    s.wall0 = now_ns();
    return s;
}

/* Throughput result of one run. */
struct tput {
    double rate;   /* requests per second */
    double cpu_us; /* CPU microseconds (user + sys, all threads) per request */
};

static struct tput span_end(struct span s, size_t n)
{
    uint64_t wall = now_ns() - s.wall0;
    uint64_t cpu = cpu_ns() - s.cpu0;
    return (struct tput){ .rate = (double)n * 1e9 / (double)(wall ? wall : 1),
                          .cpu_us = (double)cpu / 1e3 / (double)n };
}

/* Latency samples: nanoseconds, one per request. */
static uint64_t *lat_samples;

struct lat {
    double p50_us, p99_us;
};

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static double percentile_us(const uint64_t *sorted, size_t n, double q)
{
    /* Nearest rank. */
    size_t rank = (size_t)(q * (double)n + 0.999999);
    if (rank < 1)
        rank = 1;
    if (rank > n)
        rank = n;
    return (double)sorted[rank - 1] / 1e3;
}

static struct lat lat_summary(size_t n)
{
    qsort(lat_samples, n, sizeof *lat_samples, cmp_u64);
    return (struct lat){ .p50_us = percentile_us(lat_samples, n, 0.50),
                         .p99_us = percentile_us(lat_samples, n, 0.99) };
}

/* ------------------------------------------------------------------------ */
/* evaio */

static struct {
    evaio_ctx *ctx;
    size_t n, submitted, done; /* callbacks start new requests while submitted < n */
} ev;

struct ev_slot {
    evaio_req req; /* caller-owned mode; unused with --wrappers */
    struct stat st;
    size_t file;
};

static struct ev_slot *ev_slots;

static int ev_nop_cb(evaio_req *req);
static int ev_stat_cb(evaio_req *req);

static void ev_submit_nop(struct ev_slot *s)
{
    ev.submitted++;
    if (cfg.wrappers) {
        if (!evaio_ctx_nop(ev.ctx, EVAIO_PRI_DEFAULT, ev_nop_cb, s))
            die("evaio_ctx_nop: %s", strerror(errno));
        return;
    }
    evaio_nop_init(&s->req, ev_nop_cb, s);
    if (evaio_ctx_start(ev.ctx, &s->req) < 0)
        die("evaio_ctx_start(nop): %s", strerror(errno));
}

static void ev_submit_stat(struct ev_slot *s, size_t file)
{
    ev.submitted++;
    s->file = file;
    s->st.st_size = -1; /* poison: a callback without a real stat is caught */
    if (cfg.wrappers) {
        if (!evaio_ctx_stat(ev.ctx, paths[file], &s->st, EVAIO_PRI_DEFAULT, ev_stat_cb, s))
            die("evaio_ctx_stat: %s", strerror(errno));
        return;
    }
    evaio_stat_init(&s->req, paths[file], &s->st, ev_stat_cb, s);
    if (evaio_ctx_start(ev.ctx, &s->req) < 0)
        die("evaio_ctx_start(stat): %s", strerror(errno));
}

static int ev_nop_cb(evaio_req *req)
{
    if (req->type != EVAIO_OP_NOP || req->result != 0 || req->errorno != 0)
        die("evaio nop: type %d result %lld errno %d", req->type, (long long)req->result,
            req->errorno);
    ev.done++;
    if (ev.submitted < ev.n)
        ev_submit_nop(req->data);
    return 0;
}

static int ev_stat_cb(evaio_req *req)
{
    struct ev_slot *s = req->data;
    if (req->type != EVAIO_OP_STAT)
        die("evaio stat: callback for a request of type %d", req->type);
    check_stat_size("evaio", s->file, req->result, req->errorno, (int64_t)s->st.st_size);
    ev.done++;
    if (ev.submitted < ev.n)
        ev_submit_stat(s, ev.submitted % cfg.files);
    return 0;
}

/* Runs the event loop until `target` callbacks have run: block on the poll
 * fd, then evaio_ctx_poll. */
static void ev_run_until(size_t target)
{
    int fd = evaio_ctx_poll_fd(ev.ctx);
    while (ev.done < target) {
        struct pollfd p = { .fd = fd, .events = POLLIN };
        int r = poll(&p, 1, STUCK_TIMEOUT_MS);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            die("poll: %s", strerror(errno));
        }
        if (r == 0)
            die("evaio: no result for %d ms with %zu of %zu callbacks run: nreqs %u, nready %u, "
                "npending %u, nthreads %u%s",
                STUCK_TIMEOUT_MS, ev.done, target, evaio_ctx_nreqs(ev.ctx), evaio_ctx_nready(ev.ctx),
                evaio_ctx_npending(ev.ctx), evaio_ctx_nthreads(ev.ctx),
                evaio_ctx_npending(ev.ctx) ? " (results wait but the poll fd is not readable)" : "");
        r = evaio_ctx_poll(ev.ctx);
        if (r != 0)
            die("evaio_ctx_poll returned %d (errno %d: %s)", r, errno, strerror(errno));
    }
}

static struct tput ev_nop_tput(size_t n)
{
    ev.n = n;
    ev.submitted = ev.done = 0;
    struct span sp = span_begin();
    for (size_t i = 0; i < cfg.nop_inflight && ev.submitted < n; i++)
        ev_submit_nop(&ev_slots[i]);
    ev_run_until(n);
    return span_end(sp, n);
}

static struct tput ev_stat_tput(size_t n)
{
    ev.n = n;
    ev.submitted = ev.done = 0;
    struct span sp = span_begin();
    for (size_t i = 0; i < cfg.stat_inflight && ev.submitted < n; i++)
        ev_submit_stat(&ev_slots[i], ev.submitted % cfg.files);
    ev_run_until(n);
    return span_end(sp, n);
}

static struct lat ev_lat(int is_stat, size_t n)
{
    ev.n = 0; /* callbacks start nothing */
    ev.submitted = ev.done = 0;
    for (size_t i = 0; i < n; i++) {
        uint64_t t0 = now_ns();
        if (is_stat)
            ev_submit_stat(&ev_slots[0], i % cfg.files);
        else
            ev_submit_nop(&ev_slots[0]);
        ev_run_until(i + 1);
        lat_samples[i] = now_ns() - t0;
    }
    return lat_summary(n);
}

/* ------------------------------------------------------------------------ */
/* The synchronous baseline */

static struct tput sync_stat_tput(size_t n)
{
    struct span sp = span_begin();
    for (size_t i = 0; i < n; i++) {
        size_t file = i % cfg.files;
        struct stat st;
        st.st_size = -1;
        int r = stat(paths[file], &st);
        check_stat_size("sync", file, r, r ? errno : 0, (int64_t)st.st_size);
    }
    return span_end(sp, n);
}

static struct lat sync_stat_lat(size_t n)
{
    for (size_t i = 0; i < n; i++) {
        size_t file = i % cfg.files;
        struct stat st;
        st.st_size = -1;
        uint64_t t0 = now_ns();
        int r = stat(paths[file], &st);
        lat_samples[i] = now_ns() - t0;
        check_stat_size("sync", file, r, r ? errno : 0, (int64_t)st.st_size);
    }
    return lat_summary(n);
}

/* ------------------------------------------------------------------------ */
/* libuv */

#ifdef HAVE_LIBUV
static struct {
    uv_loop_t loop;
    size_t n, submitted, done;
} uvb;

struct uv_slot {
    union {
        uv_work_t work;
        uv_fs_t fs;
    } u; /* first member: a request pointer is the slot pointer */
    size_t file;
};

static struct uv_slot *uv_slots;

static void uv_work_empty(uv_work_t *w)
{
    (void)w;
}

static void uv_after_nop(uv_work_t *w, int status);
static void uv_stat_cb(uv_fs_t *req);

static void uv_submit_nop(struct uv_slot *s)
{
    uvb.submitted++;
    int r = uv_queue_work(&uvb.loop, &s->u.work, uv_work_empty, uv_after_nop);
    if (r != 0)
        die("uv_queue_work: %s", uv_strerror(r));
}

static void uv_submit_stat(struct uv_slot *s, size_t file)
{
    uvb.submitted++;
    s->file = file;
    int r = uv_fs_stat(&uvb.loop, &s->u.fs, paths[file], uv_stat_cb);
    if (r != 0)
        die("uv_fs_stat: %s", uv_strerror(r));
}

static void uv_after_nop(uv_work_t *w, int status)
{
    if (status != 0)
        die("libuv work: status %d (%s)", status, uv_strerror(status));
    uvb.done++;
    if (uvb.submitted < uvb.n)
        uv_submit_nop((struct uv_slot *)w);
}

static void uv_stat_cb(uv_fs_t *req)
{
    struct uv_slot *s = (struct uv_slot *)req;
    int64_t result = (int64_t)req->result;
    check_stat_size("libuv", s->file, result, result < 0 ? (int)-result : 0,
                    result == 0 ? (int64_t)req->statbuf.st_size : -1);
    uv_fs_req_cleanup(req);
    uvb.done++;
    if (uvb.submitted < uvb.n)
        uv_submit_stat(s, uvb.submitted % cfg.files);
}

static void uv_run_until(size_t target)
{
    uv_run(&uvb.loop, UV_RUN_DEFAULT); /* returns when no request is left */
    if (uvb.done != target)
        die("libuv: uv_run returned with %zu of %zu callbacks run", uvb.done, target);
}

static struct tput uv_nop_tput(size_t n)
{
    uvb.n = n;
    uvb.submitted = uvb.done = 0;
    struct span sp = span_begin();
    for (size_t i = 0; i < cfg.nop_inflight && uvb.submitted < n; i++)
        uv_submit_nop(&uv_slots[i]);
    uv_run_until(n);
    return span_end(sp, n);
}

static struct tput uv_stat_tput(size_t n)
{
    uvb.n = n;
    uvb.submitted = uvb.done = 0;
    struct span sp = span_begin();
    for (size_t i = 0; i < cfg.stat_inflight && uvb.submitted < n; i++)
        uv_submit_stat(&uv_slots[i], uvb.submitted % cfg.files);
    uv_run_until(n);
    return span_end(sp, n);
}

static struct lat uv_lat(int is_stat, size_t n)
{
    uvb.n = 0;
    uvb.submitted = uvb.done = 0;
    for (size_t i = 0; i < n; i++) {
        uint64_t t0 = now_ns();
        if (is_stat)
            uv_submit_stat(&uv_slots[0], i % cfg.files);
        else
            uv_submit_nop(&uv_slots[0]);
        uv_run_until(i + 1);
        lat_samples[i] = now_ns() - t0;
    }
    return lat_summary(n);
}
#endif /* HAVE_LIBUV */

/* ------------------------------------------------------------------------ */
/* Workloads and results */

enum { SYS_EVAIO, SYS_LIBUV, SYS_SYNC, NSYS };
static const char *const sys_names[NSYS] = { "evaio", "libuv", "sync" };
static int sys_available[NSYS] = { 1, 0, 1 };

enum { W_NOP_TPUT, W_STAT_TPUT, W_NOP_LAT, W_STAT_LAT, NWORK };

static const struct {
    const char *name, *opt; /* opt: the name --only takes */
    int is_lat, is_stat;
    int systems[NSYS]; /* which systems run it */
} work[NWORK] = {
    [W_NOP_TPUT] = { "nop throughput", "nop-tput", 0, 0, { 1, 1, 0 } },
    [W_STAT_TPUT] = { "stat throughput", "stat-tput", 0, 1, { 1, 1, 1 } },
    [W_NOP_LAT] = { "nop latency", "nop-lat", 1, 0, { 1, 1, 0 } },
    [W_STAT_LAT] = { "stat latency", "stat-lat", 1, 1, { 1, 1, 1 } },
};

/* Workloads and systems deselected by --only / --system. */
static int work_selected(int w)
{
    return !cfg.only || !strcmp(cfg.only, work[w].opt);
}

static int sys_selected(int s)
{
    return !cfg.system || !strcmp(cfg.system, sys_names[s]);
}

/* Per workload, system and rep: a = req/s or p50 µs, b = CPU µs/req or p99 µs. */
static double res_a[NWORK][NSYS][MAX_REPS], res_b[NWORK][NSYS][MAX_REPS];

static int runs(int w, int s)
{
    return work[w].systems[s] && sys_available[s] && work_selected(w) && sys_selected(s);
}

static size_t work_n(int w)
{
    switch (w) {
    case W_NOP_TPUT: return cfg.nop_n;
    case W_STAT_TPUT: return (size_t)cfg.stat_passes * cfg.files;
    default: return cfg.lat_n;
    }
}

static void run_one(int w, int s, size_t n, double *a, double *b)
{
    struct tput t = { 0, 0 };
    struct lat l = { 0, 0 };
    switch (w * NSYS + s) {
    case W_NOP_TPUT * NSYS + SYS_EVAIO: t = ev_nop_tput(n); break;
    case W_STAT_TPUT * NSYS + SYS_EVAIO: t = ev_stat_tput(n); break;
    case W_STAT_TPUT * NSYS + SYS_SYNC: t = sync_stat_tput(n); break;
    case W_NOP_LAT * NSYS + SYS_EVAIO: l = ev_lat(0, n); break;
    case W_STAT_LAT * NSYS + SYS_EVAIO: l = ev_lat(1, n); break;
    case W_STAT_LAT * NSYS + SYS_SYNC: l = sync_stat_lat(n); break;
#ifdef HAVE_LIBUV
    case W_NOP_TPUT * NSYS + SYS_LIBUV: t = uv_nop_tput(n); break;
    case W_STAT_TPUT * NSYS + SYS_LIBUV: t = uv_stat_tput(n); break;
    case W_NOP_LAT * NSYS + SYS_LIBUV: l = uv_lat(0, n); break;
    case W_STAT_LAT * NSYS + SYS_LIBUV: l = uv_lat(1, n); break;
#endif
    default: die("internal: no runner for %s / %s", work[w].name, sys_names[s]);
    }
    if (work[w].is_lat) {
        *a = l.p50_us;
        *b = l.p99_us;
    } else {
        *a = t.rate;
        *b = t.cpu_us;
    }
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

struct stats {
    double med, min, max;
};

static struct stats stats_of(const double *v, unsigned n)
{
    double tmp[MAX_REPS];
    memcpy(tmp, v, n * sizeof *v);
    qsort(tmp, n, sizeof *tmp, cmp_double);
    double med = n % 2 ? tmp[n / 2] : (tmp[n / 2 - 1] + tmp[n / 2]) / 2;
    return (struct stats){ med, tmp[0], tmp[n - 1] };
}

/* ------------------------------------------------------------------------ */
/* Output */

static void print_results(void)
{
    unsigned R = cfg.reps;
    printf("\nResults: median of %u reps [min .. max]\n\n", R);

    printf("%-16s %-6s %28s   %28s\n", "workload", "system", "throughput (kreq/s)",
           "CPU per request (us)");
    for (int w = 0; w < NWORK; w++) {
        if (work[w].is_lat || !work_selected(w))
            continue;
        for (int s = 0; s < NSYS; s++) {
            if (!work[w].systems[s])
                continue;
            if (!sys_available[s] || !sys_selected(s)) {
                printf("%-16s %-6s %28s   %28s\n", work[w].name, sys_names[s],
                       sys_available[s] ? "(not run)" : "(not built)", "");
                continue;
            }
            struct stats a = stats_of(res_a[w][s], R), b = stats_of(res_b[w][s], R);
            printf("%-16s %-6s %8.1f [%7.1f .. %7.1f]   %8.3f [%7.3f .. %7.3f]\n", work[w].name,
                   sys_names[s], a.med / 1e3, a.min / 1e3, a.max / 1e3, b.med, b.min, b.max);
        }
    }

    printf("\n%-16s %-6s %28s   %28s\n", "workload", "system", "p50 latency (us)",
           "p99 latency (us)");
    for (int w = 0; w < NWORK; w++) {
        if (!work[w].is_lat || !work_selected(w))
            continue;
        for (int s = 0; s < NSYS; s++) {
            if (!work[w].systems[s])
                continue;
            if (!sys_available[s] || !sys_selected(s)) {
                printf("%-16s %-6s %28s   %28s\n", work[w].name, sys_names[s],
                       sys_available[s] ? "(not run)" : "(not built)", "");
                continue;
            }
            struct stats a = stats_of(res_a[w][s], R), b = stats_of(res_b[w][s], R);
            printf("%-16s %-6s %8.2f [%7.2f .. %7.2f]   %8.2f [%7.2f .. %7.2f]\n", work[w].name,
                   sys_names[s], a.med, a.min, a.max, b.med, b.min, b.max);
        }
    }

    printf("\nRatios of medians, evaio / baseline, same run\n\n");
    printf("%-34s %11s %12s   %s\n", "metric", "evaio/sync", "evaio/libuv", "reading");
    for (int w = 0; w < NWORK; w++) {
        if (!work_selected(w))
            continue;
        for (int which = 0; which < 2; which++) {
            char metric[64];
            const char *reading;
            if (work[w].is_lat) {
                snprintf(metric, sizeof metric, "%s %s", work[w].name, which ? "p99" : "p50");
                reading = "<1: evaio lower latency";
            } else if (which == 0) {
                snprintf(metric, sizeof metric, "%s (req/s)", work[w].name);
                reading = ">1: evaio faster";
            } else {
                snprintf(metric, sizeof metric, "%s CPU/req", work[w].name);
                reading = "<1: evaio uses less CPU";
            }
            double (*res)[NSYS][MAX_REPS] = which ? res_b : res_a;
            double ev_med = runs(w, SYS_EVAIO) ? stats_of(res[w][SYS_EVAIO], R).med : 0;
            char cols[2][16];
            int base[2] = { SYS_SYNC, SYS_LIBUV };
            for (int i = 0; i < 2; i++) {
                int s = base[i];
                if (!work[w].systems[s])
                    snprintf(cols[i], sizeof cols[i], "-");
                else if (!sys_available[s] || !runs(w, s) || !runs(w, SYS_EVAIO))
                    snprintf(cols[i], sizeof cols[i], "n/a");
                else
                    snprintf(cols[i], sizeof cols[i], "%.2f", ev_med / stats_of(res[w][s], R).med);
            }
            printf("%-34s %11s %12s   %s\n", metric, cols[0], cols[1], reading);
        }
    }
#ifndef HAVE_LIBUV
    printf("\nlibuv columns missing: the bench was built without libuv "
           "(pkg-config found no libuv).\n");
#endif
}

/* ------------------------------------------------------------------------ */
/* Main */

static void usage(FILE *to)
{
    fprintf(to,
            "usage: evaio-bench [options]\n"
            "  --quick            small N for a fast smoke run\n"
            "  --reps R           repetitions of each workload (default %u, max %d)\n"
            "  --files N          files created for the stat workloads (default %zu)\n"
            "  --nop-n N          requests per nop throughput run (default %zu)\n"
            "  --inflight N       nop requests in flight (default %zu)\n"
            "  --stat-passes P    stat throughput runs stat P times over every file (default %u)\n"
            "  --stat-inflight N  stat requests in flight (default %zu)\n"
            "  --lat-n N          samples per latency run (default %zu)\n"
            "  --threads T        worker threads for evaio and libuv (default %u)\n"
            "  --wrappers         evaio: use the allocating wrappers (evaio_ctx_nop/stat)\n"
            "                     instead of caller-owned requests (evaio_*_init + start)\n"
            "  --only W           run one workload: nop-tput, stat-tput, nop-lat, stat-lat\n"
            "  --system S         run one system: evaio, libuv, sync (for profiling)\n",
            cfg.reps, MAX_REPS, cfg.files, cfg.nop_n, cfg.nop_inflight, cfg.stat_passes,
            cfg.stat_inflight, cfg.lat_n, cfg.threads);
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

static void parse_args(int argc, char **argv)
{
    int quick = 0, have_files = 0, have_nop = 0, have_passes = 0, have_lat = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--quick")) {
            quick = 1;
        } else if (!strcmp(a, "--reps")) {
            cfg.reps = (unsigned)num_arg(argc, argv, &i, 1, MAX_REPS);
        } else if (!strcmp(a, "--files")) {
            cfg.files = (size_t)num_arg(argc, argv, &i, 1, 10000000);
            have_files = 1;
        } else if (!strcmp(a, "--nop-n")) {
            cfg.nop_n = (size_t)num_arg(argc, argv, &i, 1, 1000000000);
            have_nop = 1;
        } else if (!strcmp(a, "--inflight")) {
            cfg.nop_inflight = (size_t)num_arg(argc, argv, &i, 1, 1000000);
        } else if (!strcmp(a, "--stat-passes")) {
            cfg.stat_passes = (unsigned)num_arg(argc, argv, &i, 1, 100000);
            have_passes = 1;
        } else if (!strcmp(a, "--stat-inflight")) {
            cfg.stat_inflight = (size_t)num_arg(argc, argv, &i, 1, 1000000);
        } else if (!strcmp(a, "--lat-n")) {
            cfg.lat_n = (size_t)num_arg(argc, argv, &i, 1, 100000000);
            have_lat = 1;
        } else if (!strcmp(a, "--threads")) {
            cfg.threads = (unsigned)num_arg(argc, argv, &i, 1, 1024);
        } else if (!strcmp(a, "--wrappers")) {
            cfg.wrappers = 1;
        } else if (!strcmp(a, "--only") || !strcmp(a, "--system")) {
            if (i + 1 >= argc) {
                fprintf(stderr, "evaio-bench: %s needs a value\n", a);
                exit(2);
            }
            int found = 0;
            if (a[2] == 'o') {
                for (int w = 0; w < NWORK; w++)
                    found |= !strcmp(argv[i + 1], work[w].opt);
                cfg.only = argv[++i];
            } else {
                for (int s = 0; s < NSYS; s++)
                    found |= !strcmp(argv[i + 1], sys_names[s]);
                cfg.system = argv[++i];
            }
            if (!found) {
                fprintf(stderr, "evaio-bench: unknown value for %s: %s\n", a, argv[i]);
                exit(2);
            }
        } else if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            exit(0);
        } else {
            fprintf(stderr, "evaio-bench: unknown option %s\n", a);
            usage(stderr);
            exit(2);
        }
    }
    if (quick) {
        if (!have_files)
            cfg.files = 1000;
        if (!have_nop)
            cfg.nop_n = 20000;
        if (!have_passes)
            cfg.stat_passes = 5;
        if (!have_lat)
            cfg.lat_n = 1000;
    }
}

int main(int argc, char **argv)
{
    parse_args(argc, argv);
    setvbuf(stdout, NULL, _IOLBF, 0);

#ifdef HAVE_LIBUV
    /* Before the first libuv call: the thread pool reads it when it starts. */
    char nthreads[16];
    snprintf(nthreads, sizeof nthreads, "%u", cfg.threads);
    if (setenv("UV_THREADPOOL_SIZE", nthreads, 1) != 0)
        die("setenv: %s", strerror(errno));
    sys_available[SYS_LIBUV] = 1;
#endif

    size_t nslots = cfg.nop_inflight > cfg.stat_inflight ? cfg.nop_inflight : cfg.stat_inflight;
    ev_slots = calloc(nslots, sizeof *ev_slots);
    lat_samples = malloc(cfg.lat_n * sizeof *lat_samples);
    if (!ev_slots || !lat_samples)
        die("out of memory");

    ev.ctx = evaio_ctx_new();
    if (!ev.ctx)
        die("evaio_ctx_new: %s", strerror(errno));
    evaio_ctx_set_max_parallel(ev.ctx, cfg.threads);
    evaio_ctx_set_max_idle(ev.ctx, cfg.threads); /* keep the workers between runs */
#ifdef HAVE_LIBUV
    uv_slots = calloc(nslots, sizeof *uv_slots);
    if (!uv_slots)
        die("out of memory");
    int r = uv_loop_init(&uvb.loop);
    if (r != 0)
        die("uv_loop_init: %s", uv_strerror(r));
#endif

    double load[3] = { -1, -1, -1 };
    getloadavg(load, 3);
    printf("evaio-bench: evaio %d.%d.%d", EVAIO_VERSION_MAJOR, EVAIO_VERSION_MINOR,
           EVAIO_VERSION_PATCH);
#ifdef HAVE_LIBUV
    printf(", libuv %s", uv_version_string());
#else
    printf(", libuv MISSING (built without it: no libuv columns)");
#endif
    printf(", %ld CPUs online, load average %.2f at start\n", sysconf(_SC_NPROCESSORS_ONLN),
           load[0]);
    printf("threads: %u per pool (evaio max_parallel, libuv UV_THREADPOOL_SIZE); evaio requests: %s\n",
           cfg.threads, cfg.wrappers ? "allocating wrappers" : "caller-owned (init + start)");
    printf("nop throughput: %zu requests, %zu in flight\n", cfg.nop_n, cfg.nop_inflight);
    printf("stat throughput: %zu requests (%u passes over %zu files), %zu in flight\n",
           (size_t)cfg.stat_passes * cfg.files, cfg.stat_passes, cfg.files, cfg.stat_inflight);
    printf("latency: %zu requests one at a time per run\n", cfg.lat_n);
    printf("reps: %u, systems interleaved within each rep\n", cfg.reps);

    uint64_t t_start = now_ns();
    if (work_selected(W_STAT_TPUT) || work_selected(W_STAT_LAT)) {
        make_files();
        printf("created %zu files in %s\n", cfg.files, tmp_dir);
    }

    /* Warm-up, not measured: starts the worker threads, faults in the code
     * and fills the dentry and inode caches. */
    for (int w = 0; w < NWORK; w++)
        for (int s = 0; s < NSYS; s++)
            if (runs(w, s)) {
                size_t n = work_n(w) / 10;
                double a, b;
                run_one(w, s, n ? n : 1, &a, &b);
            }

    for (int w = 0; w < NWORK; w++) {
        if (!work_selected(w))
            continue;
        size_t n = work_n(w);
        printf("running %s (%zu requests per run) ", work[w].name, n);
        for (unsigned rep = 0; rep < cfg.reps; rep++) {
            for (int s = 0; s < NSYS; s++)
                if (runs(w, s))
                    run_one(w, s, n, &res_a[w][s][rep], &res_b[w][s][rep]);
            putchar('.');
            fflush(stdout);
        }
        putchar('\n');
    }

    remove_files();
    print_results();

    if (evaio_ctx_free(ev.ctx) != 0)
        die("evaio_ctx_free: %s", strerror(errno));
#ifdef HAVE_LIBUV
    r = uv_loop_close(&uvb.loop);
    if (r != 0)
        die("uv_loop_close: %s", uv_strerror(r));
#endif
    printf("\ntotal time %.1f s; every result was verified\n", (double)(now_ns() - t_start) / 1e9);
    return 0;
}
