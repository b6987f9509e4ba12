/* The memory workload: what a queued request costs.
 *
 * A pool with one worker thread is blocked by a request that waits on a
 * semaphore; then N requests are queued behind it, and the growth of the
 * resident set over N is the memory one queued request needs, everything
 * included (the request, copies, allocator overhead).  Then the blocker is
 * released, all N run and are checked.  Allocations are counted from the
 * first of the N submissions to the last callback: allocations per request
 * round trip.
 *
 * Variants: 0 nop, 1 stat of a path.  evaio uses its allocating wrappers
 * (evaio_ctx_nop; evaio_ctx_stat with a NULL buffer, so the library copies
 * the path and supplies the struct stat).  libuv has no allocating form:
 * the caller mallocs each uv_work_t / uv_fs_t, which is counted too. */
#include "bench.h"

#include <evaio.h>

#include <errno.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifdef HAVE_LIBUV
#include <uv.h>
#endif

static sem_t release;
static atomic_int blocked;
static size_t ndone;

static void block_here(void)
{
    atomic_store(&blocked, 1);
    while (sem_wait(&release) != 0 && errno == EINTR)
        ;
}

static void wait_until_blocked(void)
{
    struct timespec ts = { 0, 100000 };
    while (!atomic_load(&blocked))
        nanosleep(&ts, NULL);
}

/* ------------------------------------------------------------------------ */
/* evaio */

static int64_t ev_blocker(evaio_req *req)
{
    (void)req;
    block_here();
    return 0;
}

static int ev_blocker_done(evaio_req *req)
{
    check_nop("evaio blocker", req->result, req->errorno);
    return 0;
}

static int ev_done(evaio_req *req)
{
    size_t i = (size_t)(uintptr_t)req->data;
    if (req->type == EVAIO_OP_NOP)
        check_nop("evaio", req->result, req->errorno);
    else
        check_stat("evaio", i, req->result, req->errorno,
                   req->result == 0 ? (int64_t)req->args.stat.buf->st_size : -1);
    ndone++;
    return 0;
}

static void ev_memory(int variant, size_t n, long *rss_delta, unsigned long *allocs)
{
    evaio_ctx *ctx = evaio_ctx_new();
    if (!ctx)
        die("evaio_ctx_new: %s", strerror(errno));
    evaio_ctx_set_max_parallel(ctx, 1);
    if (!evaio_ctx_custom(ctx, ev_blocker, EVAIO_PRI_DEFAULT, ev_blocker_done, NULL))
        die("evaio_ctx_custom: %s", strerror(errno));
    wait_until_blocked();

    long rss0 = current_rss_bytes();
    alloc_count_begin();
    for (size_t i = 0; i < n; i++) {
        void *data = (void *)(uintptr_t)i;
        evaio_req *r = variant == 0
                           ? evaio_ctx_nop(ctx, EVAIO_PRI_DEFAULT, ev_done, data)
                           : evaio_ctx_stat(ctx, fx.paths[stat_file(i)], NULL, EVAIO_PRI_DEFAULT,
                                            ev_done, data);
        if (!r)
            die("evaio: queueing request %zu: %s", i, strerror(errno));
    }
    long rss1 = current_rss_bytes();
    if (evaio_ctx_nready(ctx) != n)
        die("evaio: %zu requests queued behind a blocked worker, nready says %u", n,
            evaio_ctx_nready(ctx));
    sem_post(&release);
    if (evaio_ctx_wait(ctx) != 0)
        die("evaio_ctx_wait: %s", strerror(errno));
    *allocs = alloc_count_end();
    if (ndone != n)
        die("evaio: %zu of %zu callbacks ran", ndone, n);
    *rss_delta = rss1 - rss0;
    if (evaio_ctx_free(ctx) != 0)
        die("evaio_ctx_free: %s", strerror(errno));
}

/* ------------------------------------------------------------------------ */
/* libuv */

#ifdef HAVE_LIBUV
static void uv_blocker(uv_work_t *w)
{
    (void)w;
    block_here();
}

static void uv_nop_work(uv_work_t *w)
{
    (void)w;
}

static void uv_blocker_done(uv_work_t *w, int status)
{
    (void)w;
    check_nop("libuv blocker", status, status < 0 ? -status : 0);
}

static void uv_nop_done(uv_work_t *w, int status)
{
    check_nop("libuv", status, status < 0 ? -status : 0);
    free(w);
    ndone++;
}

static void uv_stat_done(uv_fs_t *req)
{
    size_t i = (size_t)(uintptr_t)req->data;
    int64_t res = (int64_t)req->result;
    check_stat("libuv", i, res, res < 0 ? (int)-res : 0,
               res == 0 ? (int64_t)req->statbuf.st_size : -1);
    uv_fs_req_cleanup(req);
    free(req);
    ndone++;
}

static void uv_memory(int variant, size_t n, long *rss_delta, unsigned long *allocs)
{
    if (setenv("UV_THREADPOOL_SIZE", "1", 1) != 0)
        die("setenv: %s", strerror(errno));
    uv_loop_t loop;
    int r = uv_loop_init(&loop);
    if (r != 0)
        die("uv_loop_init: %s", uv_strerror(r));
    uv_work_t blocker;
    r = uv_queue_work(&loop, &blocker, uv_blocker, uv_blocker_done);
    if (r != 0)
        die("uv_queue_work: %s", uv_strerror(r));
    wait_until_blocked();

    long rss0 = current_rss_bytes();
    alloc_count_begin();
    for (size_t i = 0; i < n; i++) {
        if (variant == 0) {
            uv_work_t *w = malloc(sizeof *w);
            if (!w)
                die("out of memory");
            r = uv_queue_work(&loop, w, uv_nop_work, uv_nop_done);
        } else {
            uv_fs_t *f = malloc(sizeof *f);
            if (!f)
                die("out of memory");
            f->data = (void *)(uintptr_t)i;
            r = uv_fs_stat(&loop, f, fx.paths[stat_file(i)], uv_stat_done);
        }
        if (r != 0)
            die("libuv: queueing request %zu: %s", i, uv_strerror(r));
    }
    long rss1 = current_rss_bytes();
    sem_post(&release);
    uv_run(&loop, UV_RUN_DEFAULT);
    *allocs = alloc_count_end();
    if (ndone != n)
        die("libuv: %zu of %zu callbacks ran", ndone, n);
    *rss_delta = rss1 - rss0;
    r = uv_loop_close(&loop);
    if (r != 0)
        die("uv_loop_close: %s", uv_strerror(r));
}
#endif

/* ------------------------------------------------------------------------ */

size_t memory_req_size(const struct entry *e)
{
    if (e->sys == SYS_EVAIO)
        return evaio_req_size();
#ifdef HAVE_LIBUV
    if (e->sys == SYS_LIBUV)
        return e->variant == 0 ? sizeof(uv_work_t) : sizeof(uv_fs_t);
#endif
    return 0;
}

const char *memory_label(const struct entry *e)
{
    if (e->sys == SYS_EVAIO)
        return e->variant == 0 ? "evaio nop (wrapper)"
                               : "evaio stat (wrapper; path copy and struct stat by the library)";
    return e->variant == 0 ? "libuv uv_queue_work (uv_work_t malloc'd by the caller)"
                           : "libuv uv_fs_stat (uv_fs_t malloc'd by the caller)";
}

struct outcome measure_memory(const struct workload *w, const struct entry *e)
{
    size_t n = *w->n;
    long rss_delta = 0;
    unsigned long allocs = 0;
    if (sem_init(&release, 0, 0) != 0)
        die("sem_init: %s", strerror(errno));
    uint64_t cpu0 = cpu_ns();
    if (e->sys == SYS_EVAIO)
        ev_memory(e->variant, n, &rss_delta, &allocs);
#ifdef HAVE_LIBUV
    else if (e->sys == SYS_LIBUV)
        uv_memory(e->variant, n, &rss_delta, &allocs);
#endif
    else
        die("memory: no such system");
    struct outcome o = { 0 };
    o.cpu_us = (double)(cpu_ns() - cpu0) / 1e3 / (double)n;
    o.a = (double)rss_delta / (double)n;
    o.b = (double)allocs / (double)n;
    o.peak_rss_mib = (double)peak_rss_kib() / 1024;
    return o;
}
