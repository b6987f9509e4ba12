/* The worker thread pool: threads start on demand up to max_parallel, at
 * least min_parallel stay, and idle threads beyond max_idle exit after
 * idle_timeout; before sleeping, one worker spins briefly for the next
 * request.  Which worker is woken when is pace.c's.  All of it runs under
 * ctx->lock. */
#include "internal.h"
#include "pool.h"

#include <errno.h>
#include <math.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

/* How long a worker spins for the next request before it sleeps. */
#define SPIN 50e-6

static void *worker_main(void *arg);

#define EVAIO__IDLE_TIMEOUT_NEVER (366.0 * 24 * 3600)

struct timespec evaio__pool_deadline(const struct timespec *since, double secs)
{
    struct timespec ts = *since;
    double whole = floor(secs);
    ts.tv_sec += (time_t)whole;
    ts.tv_nsec += (long)((secs - whole) * 1e9);
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    return ts;
}

/* Joins workers that have exited (they are past their last use of ctx). */
static void join_exited_locked(evaio_ctx *ctx)
{
    while (ctx->exited_workers) {
        struct evaio_worker *w = ctx->exited_workers;
        ctx->exited_workers = w->next;
        pthread_join(w->tid, NULL);
        free(w);
    }
}

void evaio__pool_init(evaio_ctx *ctx)
{
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&ctx->watch, &attr);
    pthread_condattr_destroy(&attr);
    evaio__pool_set_cap(ctx);
    ctx->nwatch = 0;
    ctx->watch_parked = 0;
    ctx->want_watcher = 0;
    ctx->workers = NULL;
    /* (In a fork child: a parent's worker may have been spinning.) */
    __atomic_store_n(&ctx->nspinning, 0, __ATOMIC_RELAXED);
    ctx->ntaken = ctx->seen_taken = 0;
    ctx->seen_taken_at = 0;
}

int evaio__pool_start_thread_locked(evaio_ctx *ctx)
{
    if (ctx->stopping) {
        errno = EAGAIN; /* the library is being unloaded */
        return -1;
    }
    join_exited_locked(ctx);
    struct evaio_worker *w = malloc(sizeof *w);
    if (!w)
        return -1;
    w->ctx = ctx;
    w->next = NULL;

    /* Workers block every signal: created with all blocked, they inherit it. */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int err = pthread_create(&w->tid, NULL, worker_main, w);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (err) {
        free(w);
        errno = err;
        return -1;
    }
    ctx->nthreads++;
    ctx->nstarting++;
    return 0;
}

int evaio__pool_start_min_locked(evaio_ctx *ctx)
{
    unsigned want = ctx->min_parallel < ctx->max_parallel ? ctx->min_parallel : ctx->max_parallel;
    while (ctx->nthreads < want && !ctx->stopping)
        if (evaio__pool_start_thread_locked(ctx) < 0)
            return -1;
    return 0;
}

void evaio__pool_grow_locked(evaio_ctx *ctx)
{
    unsigned unclaimed_idle = ctx->nidle - ctx->nwakeups;
    unsigned want = ctx->reqq.count > unclaimed_idle ? ctx->reqq.count - unclaimed_idle : 0;
    while (want-- && ctx->nthreads < ctx->max_parallel && !ctx->stopping)
        if (evaio__pool_start_thread_locked(ctx) < 0)
            break;
}

static int should_exit_idle_locked(evaio_ctx *ctx)
{
    return ctx->stopping || ctx->nthreads > ctx->max_parallel ||
           (ctx->nidle > ctx->max_idle && ctx->nthreads > ctx->min_parallel);
}

/* Before sleeping, one worker at a time watches the queue for SPIN: a
 * request submitted in answer to the result it just delivered (one request
 * at a time, a callback chain) is taken without the wake-up of a sleeping
 * thread, which costs more than most requests.  It counts as awake. */
static void spin_locked(evaio_ctx *ctx)
{
    __atomic_store_n(&ctx->nspinning, ctx->nspinning + 1, __ATOMIC_RELAXED);
    pthread_mutex_unlock(&ctx->lock);
    double end = evaio__now() + SPIN;
    /* Yielding, not pausing: the thread the worker just woke (the poller,
     * with the result) is often placed on this very processor. */
    while (!__atomic_load_n(&ctx->reqq.count, __ATOMIC_RELAXED) && evaio__now() < end)
        sched_yield();
    pthread_mutex_lock(&ctx->lock);
    __atomic_store_n(&ctx->nspinning, ctx->nspinning - 1, __ATOMIC_RELAXED);
}

/* Waits for work.  Returns 1 when the worker should exit instead. */
static int idle_wait_locked(evaio_ctx *ctx)
{
    struct timespec since;
    clock_gettime(CLOCK_MONOTONIC, &since);
    ctx->nidle++;
    int exit_now = 0;
    while (!ctx->reqq.count) {
        if (ctx->stopping || ctx->nthreads > ctx->max_parallel) {
            exit_now = 1;
            break;
        }
        int rc;
        /* An idle_timeout beyond a year is taken as "never": the deadline
         * would overflow a timespec. */
        if (should_exit_idle_locked(ctx) && ctx->idle_timeout < EVAIO__IDLE_TIMEOUT_NEVER) {
            struct timespec deadline = evaio__pool_deadline(&since, ctx->idle_timeout);
            rc = pthread_cond_timedwait(&ctx->wake, &ctx->lock, &deadline);
        } else {
            rc = pthread_cond_wait(&ctx->wake, &ctx->lock);
        }
        if (ctx->nwakeups)
            ctx->nwakeups--;
        if (ctx->want_watcher) {
            ctx->nidle--;
            evaio__pace_watch_locked(ctx);
            ctx->nidle++;
            clock_gettime(CLOCK_MONOTONIC, &since);
            continue;
        }
        if (rc == ETIMEDOUT && !ctx->reqq.count && should_exit_idle_locked(ctx)) {
            exit_now = 1;
            break;
        }
    }
    ctx->nidle--;
    if (ctx->nwakeups > ctx->nidle)
        ctx->nwakeups = ctx->nidle;
    return exit_now;
}

static void *worker_main(void *arg)
{
    struct evaio_worker *self = arg;
    evaio_ctx *ctx = self->ctx;
#ifdef PR_SET_TIMERSLACK
    /* A request that sleeps or waits with a timeout (busy, a lock with a
     * deadline) wakes when asked, not up to 50 us later (Linux's default
     * slack), which would add up over a pool of short sleeps. */
    prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL);
#endif

    pthread_mutex_lock(&ctx->lock);
    /* Started: a fork may go ahead (fork.c waits for threads in their
     * start-up, which may hold locks of the C library or a sanitizer). */
    if (!--ctx->nstarting)
        pthread_cond_broadcast(&ctx->worker_exited);
    self->executing = 0;
    self->seq = self->seen_seq = 0;
    self->seen_at = evaio__now();
    self->live_prev = NULL;
    self->live_next = ctx->workers;
    if (ctx->workers)
        ctx->workers->live_prev = self;
    ctx->workers = self;
    if (ctx->want_watcher)
        evaio__pace_watch_locked(ctx); /* started to be the watcher */
    int spun = 0;
    for (;;) {
        /* After max_parallel was lowered, surplus workers leave before
         * taking more work; at least one stays, since max_parallel >= 1.
         * When the pool stops (unload), they leave after the request they
         * execute, whatever is still queued. */
        if (ctx->nthreads > ctx->max_parallel || ctx->stopping)
            break;
        evaio_req *req = evaio__pool_take_locked(ctx);
        if (req) {
            int pri = req->pri_; /* req may be freed once its result is pushed */
            self->executing = 1;
            self->seq++;
            evaio__set_state(req, EVAIO__RUNNING);
            pthread_mutex_unlock(&ctx->lock);
            evaio__execute(req);
            evaio__push_result(ctx, req);
            pthread_mutex_lock(&ctx->lock);
            evaio__pool_done_locked(ctx, pri);
            self->executing = 0;
            spun = 0;
            continue;
        }
        if (!spun && !ctx->nspinning) {
            spin_locked(ctx);
            spun = 1;
            continue;
        }
        spun = 0;
        if (idle_wait_locked(ctx))
            break;
    }
    ctx->nthreads--;
    if (self->live_prev)
        self->live_prev->live_next = self->live_next;
    else
        ctx->workers = self->live_next;
    if (self->live_next)
        self->live_next->live_prev = self->live_prev;
    join_exited_locked(ctx); /* so at most one exited thread keeps its stack */
    self->next = ctx->exited_workers;
    ctx->exited_workers = self;
    pthread_cond_broadcast(&ctx->worker_exited);
    pthread_mutex_unlock(&ctx->lock);
    return NULL;
}

void evaio__pool_stop(evaio_ctx *ctx)
{
    pthread_mutex_lock(&ctx->lock);
    ctx->stopping = 1;
    pthread_cond_broadcast(&ctx->wake);
    pthread_cond_broadcast(&ctx->watch);
    while (ctx->nthreads)
        pthread_cond_wait(&ctx->worker_exited, &ctx->lock);
    join_exited_locked(ctx);
    pthread_mutex_unlock(&ctx->lock);
}
