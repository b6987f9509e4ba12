/* The worker thread pool: threads start on demand up to max_parallel, at
 * least min_parallel stay, and idle threads beyond max_idle exit after
 * idle_timeout.  All of it runs under ctx->lock. */
#include "internal.h"

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <time.h>

static void *worker_main(void *arg);

#define EVAIO__IDLE_TIMEOUT_NEVER (366.0 * 24 * 3600)

static struct timespec deadline_after(const struct timespec *since, double secs)
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

static int start_thread_locked(evaio_ctx *ctx)
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

int evaio__pool_wake_locked(evaio_ctx *ctx)
{
    /* An idle worker not yet signalled takes it; busy workers find it when
     * they finish, so submitting to a busy pool costs no syscall. */
    if (ctx->nidle > ctx->nwakeups) {
        ctx->nwakeups++;
        pthread_cond_signal(&ctx->wake);
        return 0;
    }
    if (ctx->nthreads < ctx->max_parallel && start_thread_locked(ctx) < 0)
        return ctx->nthreads ? 0 : -1;
    return 0;
}

int evaio__pool_busy_locked(const evaio_ctx *ctx, int pri)
{
    unsigned level = (unsigned)(pri - EVAIO_PRI_MIN);
    if (ctx->reqq.nonempty >> level)
        return 1;
    for (; level < EVAIO__NPRI; level++)
        if (ctx->nexec[level])
            return 1;
    return 0;
}

int evaio__pool_start_min_locked(evaio_ctx *ctx)
{
    unsigned want = ctx->min_parallel < ctx->max_parallel ? ctx->min_parallel : ctx->max_parallel;
    while (ctx->nthreads < want && !ctx->stopping)
        if (start_thread_locked(ctx) < 0)
            return -1;
    return 0;
}

void evaio__pool_grow_locked(evaio_ctx *ctx)
{
    unsigned unclaimed_idle = ctx->nidle - ctx->nwakeups;
    unsigned want = ctx->reqq.count > unclaimed_idle ? ctx->reqq.count - unclaimed_idle : 0;
    while (want-- && ctx->nthreads < ctx->max_parallel && !ctx->stopping)
        if (start_thread_locked(ctx) < 0)
            break;
}

static int should_exit_idle_locked(evaio_ctx *ctx)
{
    return ctx->stopping || ctx->nthreads > ctx->max_parallel ||
           (ctx->nidle > ctx->max_idle && ctx->nthreads > ctx->min_parallel);
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
            struct timespec deadline = deadline_after(&since, ctx->idle_timeout);
            rc = pthread_cond_timedwait(&ctx->wake, &ctx->lock, &deadline);
        } else {
            rc = pthread_cond_wait(&ctx->wake, &ctx->lock);
        }
        if (ctx->nwakeups)
            ctx->nwakeups--;
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

    pthread_mutex_lock(&ctx->lock);
    /* Started: a fork may go ahead (fork.c waits for threads in their
     * start-up, which may hold locks of the C library or a sanitizer). */
    if (!--ctx->nstarting)
        pthread_cond_broadcast(&ctx->worker_exited);
    for (;;) {
        /* After max_parallel was lowered, surplus workers leave before
         * taking more work; at least one stays, since max_parallel >= 1.
         * When the pool stops (unload), they leave after the request they
         * execute, whatever is still queued. */
        if (ctx->nthreads > ctx->max_parallel || ctx->stopping)
            break;
        evaio_req *req = evaio__queue_pop(&ctx->reqq);
        if (req) {
            unsigned level = (unsigned)(req->pri_ - EVAIO_PRI_MIN);
            ctx->nexec[level]++;
            evaio__set_state(req, EVAIO__RUNNING);
            pthread_mutex_unlock(&ctx->lock);
            evaio__execute(req);
            evaio__push_result(ctx, req);
            pthread_mutex_lock(&ctx->lock);
            ctx->nexec[level]--;
            continue;
        }
        if (idle_wait_locked(ctx))
            break;
    }
    ctx->nthreads--;
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
    while (ctx->nthreads)
        pthread_cond_wait(&ctx->worker_exited, &ctx->lock);
    join_exited_locked(ctx);
    pthread_mutex_unlock(&ctx->lock);
}
