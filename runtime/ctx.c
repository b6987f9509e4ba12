/* Contexts: creation, the default context, settings and counters. */
#include "internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Process-wide state: the default context, created on first use (and, in
 * fork.c, the list of live contexts that fork must reset). */
static pthread_mutex_t default_lock = PTHREAD_MUTEX_INITIALIZER;
static evaio_ctx *default_ctx;

double evaio__now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* The two locks are held for a few instructions each, by threads running on
 * other processors: where the C library offers it, a contended lock spins a
 * little before it sleeps, which costs less than a futex sleep and wake-up. */
void evaio__ctx_locks_init(evaio_ctx *ctx)
{
    pthread_mutexattr_t attr;
    pthread_mutexattr_init(&attr);
#ifdef PTHREAD_ADAPTIVE_MUTEX_INITIALIZER_NP
    pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_ADAPTIVE_NP);
#endif
    pthread_mutex_init(&ctx->lock, &attr);
    pthread_mutex_init(&ctx->res_lock, &attr);
    pthread_mutexattr_destroy(&attr);
}

evaio_ctx *evaio_ctx_new(void)
{
    void *mem;
    int err = posix_memalign(&mem, EVAIO__CACHE_LINE, sizeof(evaio_ctx));
    if (err) {
        errno = err;
        return NULL;
    }
    evaio_ctx *ctx = memset(mem, 0, sizeof *ctx);
    if (evaio__notify_open(&ctx->notify) < 0) {
        int saved = errno;
        free(ctx);
        errno = saved;
        return NULL;
    }
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC); /* idle timeouts */
    evaio__ctx_locks_init(ctx);
    pthread_cond_init(&ctx->wake, &attr);
    pthread_cond_init(&ctx->worker_exited, NULL);
    pthread_condattr_destroy(&attr);
    evaio__pool_init(ctx);
    ctx->min_parallel = 0;
    ctx->max_parallel = 4;
    ctx->max_idle = 4;
    ctx->idle_timeout = 10.0;
    evaio__fork_register(ctx);
    return ctx;
}

evaio_ctx *evaio_default_ctx(void)
{
    evaio_ctx *ctx = __atomic_load_n(&default_ctx, __ATOMIC_ACQUIRE);
    if (ctx)
        return ctx;
    pthread_mutex_lock(&default_lock);
    ctx = default_ctx;
    if (!ctx) {
        ctx = evaio_ctx_new();
        if (ctx)
            __atomic_store_n(&default_ctx, ctx, __ATOMIC_RELEASE);
    }
    pthread_mutex_unlock(&default_lock);
    return ctx;
}

void evaio__default_lock(int how)
{
    if (how > 0)
        pthread_mutex_lock(&default_lock);
    else if (how == 0)
        pthread_mutex_unlock(&default_lock);
    else
        pthread_mutex_init(&default_lock, NULL);
}

evaio_ctx *evaio__resolve(evaio_ctx *ctx)
{
    return ctx ? ctx : evaio_default_ctx();
}

/* The end of a context with nothing outstanding: off the fork list, its
 * threads joined, everything released. */
static void destroy(evaio_ctx *ctx)
{
    evaio__fork_unregister(ctx);
    evaio__pool_stop(ctx);
    pthread_mutex_destroy(&ctx->lock);
    pthread_mutex_destroy(&ctx->res_lock);
    pthread_cond_destroy(&ctx->wake);
    pthread_cond_destroy(&ctx->worker_exited);
    pthread_cond_destroy(&ctx->watch);
    evaio__notify_close(&ctx->notify);
    free(ctx);
}

/* Refuses new starts, cancels what is queued, runs every outstanding
 * callback here (running requests are awaited), then stops the threads. */
int evaio_ctx_free(evaio_ctx *ctx)
{
    if (!ctx || ctx == __atomic_load_n(&default_ctx, __ATOMIC_ACQUIRE)) {
        errno = EINVAL;
        return -1;
    }
    if (ctx->ncallbacks) {
        errno = EBUSY; /* from one of its own callbacks */
        return -1;
    }
    __atomic_store_n(&ctx->closing, 1, __ATOMIC_SEQ_CST);
    evaio__cancel_queued(ctx);
    evaio__grp_end_paused(ctx);
    while (__atomic_load_n(&ctx->nreqs, __ATOMIC_ACQUIRE)) {
        if (evaio_ctx_wait(ctx) > 0)
            continue; /* a callback's stop value: the others still run */
        if (__atomic_load_n(&ctx->nreqs, __ATOMIC_ACQUIRE)) {
            evaio__cancel_queued(ctx); /* queued by a group's bookkeeping meanwhile */
            evaio__grp_end_paused(ctx);
        }
    }
    destroy(ctx);
    return 0;
}

/* Unloading the library (dlclose, or exit): no worker may run its code
 * afterwards.  Every context's threads are stopped, each after the request
 * it executes; the default context is freed when nothing is outstanding. */
__attribute__((destructor)) static void unload(void)
{
    evaio__fork_stop_all();
    evaio_ctx *ctx = __atomic_load_n(&default_ctx, __ATOMIC_ACQUIRE);
    if (ctx && !__atomic_load_n(&ctx->nreqs, __ATOMIC_ACQUIRE) && !ctx->ncallbacks) {
        __atomic_store_n(&default_ctx, NULL, __ATOMIC_RELEASE);
        destroy(ctx);
    }
}

/* Results waiting: in the result queue, or taken by a poll call and not
 * yet delivered (counted atomically: the polling thread takes them from
 * ctx->taken without the lock). */
static unsigned pending_locked(evaio_ctx *ctx)
{
    return ctx->resq.count + __atomic_load_n(&ctx->taken.count, __ATOMIC_RELAXED);
}

void evaio_ctx_set_hooks(evaio_ctx *ctx, evaio_hook want_poll, evaio_hook done_poll, void *hook_data)
{
    if (!(ctx = evaio__resolve(ctx)))
        return;
    pthread_mutex_lock(&ctx->res_lock);
    ctx->want_poll = want_poll;
    ctx->done_poll = done_poll;
    ctx->hook_data = hook_data;
    /* Results already waiting would otherwise never be announced. */
    if (want_poll && pending_locked(ctx))
        want_poll(ctx, hook_data);
    pthread_mutex_unlock(&ctx->res_lock);
}

void evaio_ctx_set_max_poll_reqs(evaio_ctx *ctx, unsigned n)
{
    if ((ctx = evaio__resolve(ctx)))
        __atomic_store_n(&ctx->max_poll_reqs, n, __ATOMIC_RELAXED);
}

void evaio_ctx_set_max_poll_time(evaio_ctx *ctx, double secs)
{
    if ((ctx = evaio__resolve(ctx)))
        __atomic_store(&ctx->max_poll_time, &secs, __ATOMIC_RELAXED);
}

/* Pool settings wake idle workers so they re-evaluate whether to exit under
 * the new limits, and start threads up to min_parallel. */
enum pool_setting { MIN_PARALLEL, MAX_PARALLEL, MAX_IDLE, IDLE_TIMEOUT, MAX_RUNNING };

static void set_pool(evaio_ctx *ctx, enum pool_setting which, double value)
{
    if (!(ctx = evaio__resolve(ctx)))
        return;
    pthread_mutex_lock(&ctx->lock);
    switch (which) {
    case MIN_PARALLEL: ctx->min_parallel = (unsigned)value; break;
    case MAX_PARALLEL: ctx->max_parallel = value < 1 ? 1 : (unsigned)value; break;
    case MAX_IDLE: ctx->max_idle = (unsigned)value; break;
    case IDLE_TIMEOUT: ctx->idle_timeout = value > 0 ? value : 0; break;
    case MAX_RUNNING:
        /* Only the pacing changes: no thread is woken beyond the new cap. */
        ctx->max_running = (unsigned)value;
        evaio__pool_set_cap(ctx);
        evaio__pool_apply_cap_locked(ctx);
        pthread_mutex_unlock(&ctx->lock);
        return;
    }
    pthread_cond_broadcast(&ctx->wake);
    pthread_cond_broadcast(&ctx->watch);
    evaio__pool_start_min_locked(ctx);
    evaio__pool_grow_locked(ctx);
    pthread_mutex_unlock(&ctx->lock);
}

void evaio_ctx_set_min_parallel(evaio_ctx *ctx, unsigned n) { set_pool(ctx, MIN_PARALLEL, n); }
void evaio_ctx_set_max_parallel(evaio_ctx *ctx, unsigned n) { set_pool(ctx, MAX_PARALLEL, n); }
void evaio_ctx_set_max_idle(evaio_ctx *ctx, unsigned n) { set_pool(ctx, MAX_IDLE, n); }
void evaio_ctx_set_idle_timeout(evaio_ctx *ctx, double secs) { set_pool(ctx, IDLE_TIMEOUT, secs); }
void evaio_ctx_set_max_running(evaio_ctx *ctx, unsigned n) { set_pool(ctx, MAX_RUNNING, n); }

/* Reads a counter guarded by one of the context's locks. */
static unsigned locked_read(pthread_mutex_t *lock, const unsigned *counter)
{
    pthread_mutex_lock(lock);
    unsigned n = *counter;
    pthread_mutex_unlock(lock);
    return n;
}

unsigned evaio_ctx_nready(evaio_ctx *ctx)
{
    return (ctx = evaio__resolve(ctx)) ? locked_read(&ctx->lock, &ctx->reqq.count) : 0;
}

unsigned evaio_ctx_nthreads(evaio_ctx *ctx)
{
    return (ctx = evaio__resolve(ctx)) ? locked_read(&ctx->lock, &ctx->nthreads) : 0;
}

unsigned evaio_ctx_npending(evaio_ctx *ctx)
{
    if (!(ctx = evaio__resolve(ctx)))
        return 0;
    pthread_mutex_lock(&ctx->res_lock);
    unsigned n = pending_locked(ctx);
    pthread_mutex_unlock(&ctx->res_lock);
    return n;
}

unsigned evaio_ctx_nreqs(evaio_ctx *ctx)
{
    return (ctx = evaio__resolve(ctx)) ? __atomic_load_n(&ctx->nreqs, __ATOMIC_ACQUIRE) : 0;
}

unsigned evaio_nreqs(void) { return evaio_ctx_nreqs(NULL); }
size_t evaio_req_size(void) { return sizeof(evaio_req); }
