/* Pacing: which worker is woken when, under ctx->lock; and the word of busy
 * priority levels that evaio_start reads without it.
 *
 * Waking a sleeping worker costs a system call and two context switches,
 * more than a cached stat.  So while `cap` workers are awake (the
 * processors minus the one the polling thread needs) a submission wakes no
 * one: the awake workers take it when they finish.  Awake workers that are
 * blocked (disk, network, a sleep) make no progress, though, so one worker,
 * the watcher, looks from time to time (WATCH_PERIOD, backing off to
 * WATCH_PERIOD_MAX while the awake workers keep up): when none of them took
 * a request since its last look, they are all stuck and each waiting
 * request gets a worker (the work waits on I/O, not on the processors);
 * otherwise each worker seen executing the same request for longer than
 * STALLED gets a stand-in.  Workers read no clock: the watcher and the
 * submissions time what they see of the counters.
 * A watcher is asked for (or, parked, signalled) when a submission finds
 * the cap reached or no worker it can wake, and stays until nothing has been
 * queued or executing for WATCH_LINGER; so no request waits much longer
 * than WATCH_PERIOD_MAX for a worker that could run it. */
#include "internal.h"
#include "pool.h"

#include <math.h>
#include <time.h>
#include <unistd.h>

#define WATCH_PERIOD 100e-6
#define WATCH_PERIOD_MAX 10e-3
#define WATCH_LINGER 20e-3
#define WATCH_PARKED 0.1
#define STALLED 1e-3

void evaio__pool_set_cap(evaio_ctx *ctx)
{
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    ctx->cap = ctx->max_running ? ctx->max_running : ncpu > 2 ? (unsigned)ncpu - 1 : 1;
}

/* Workers awake for work: executing, about to look at the queue, or
 * signalled (or started) and not yet up; the watcher, and the worker asked
 * to become it, are not. */
static unsigned awake_locked(const evaio_ctx *ctx)
{
    return ctx->nthreads - ctx->nidle - ctx->nwatch + ctx->nwakeups - (ctx->want_watcher != 0);
}

/* One more worker for the queue: an idle one, else a new thread.  -1 when
 * there is no worker at all and none could be started. */
static int wake_one_locked(evaio_ctx *ctx)
{
    /* An idle worker not yet signalled takes it; busy workers find it when
     * they finish, so submitting to a busy pool costs no syscall. */
    if (ctx->nidle > ctx->nwakeups) {
        ctx->nwakeups++;
        pthread_cond_signal(&ctx->wake);
        return 0;
    }
    if (ctx->nthreads < ctx->max_parallel && evaio__pool_start_thread_locked(ctx) < 0)
        return ctx->nthreads ? 0 : -1;
    return 0;
}

/* Asks an idle worker, or a new thread, to become the watcher. */
static void want_watcher_locked(evaio_ctx *ctx)
{
    if (ctx->nwatch && ctx->watch_parked) {
        ctx->watch_parked = 0; /* requests are queued again: look soon */
        pthread_cond_signal(&ctx->watch);
        return;
    }
    if (ctx->nwatch || ctx->want_watcher)
        return;
    if (ctx->nidle > ctx->nwakeups) {
        ctx->want_watcher = 1;
        ctx->nwakeups++;
        pthread_cond_signal(&ctx->wake);
    } else if (ctx->nthreads < ctx->max_parallel && evaio__pool_start_thread_locked(ctx) == 0) {
        ctx->want_watcher = 1;
    }
}

/* Whether no worker has taken a request for STALLED, as submissions see
 * it (no clock on the workers' path). */
static int stalled_locked(evaio_ctx *ctx)
{
    double now = evaio__now();
    if (ctx->ntaken != ctx->seen_taken || !ctx->seen_taken_at) {
        ctx->seen_taken = ctx->ntaken;
        ctx->seen_taken_at = now;
        return 0;
    }
    return now - ctx->seen_taken_at > STALLED;
}

int evaio__pool_wake_locked(evaio_ctx *ctx)
{
    /* Below the cap; or enough are awake to keep the processors busy but
     * none of them has taken a request for a while (they are blocked). */
    if (awake_locked(ctx) < ctx->cap || (ctx->nidle > ctx->nwakeups && stalled_locked(ctx))) {
        unsigned before = ctx->nthreads + ctx->nwakeups;
        int r = wake_one_locked(ctx);
        if (r < 0 || ctx->nthreads + ctx->nwakeups != before)
            return r;
        /* No worker could be woken or started (all threads exist and are
         * busy, or a thread failed to start): the watcher must look. */
    }
    want_watcher_locked(ctx);
    return 0;
}

void evaio__pool_apply_cap_locked(evaio_ctx *ctx)
{
    /* Raised: wake workers for what is queued, up to the new cap.  Lowered:
     * awake workers finish what they run and take no extra wake-ups. */
    while (awake_locked(ctx) < ctx->cap && ctx->reqq.count > awake_locked(ctx)) {
        unsigned before = ctx->nthreads + ctx->nwakeups;
        wake_one_locked(ctx);
        if (ctx->nthreads + ctx->nwakeups == before)
            break;
    }
}

/* The watcher's look at the pool: wakes the workers the queue needs, and
 * returns how many it woke, or -1 when more are needed than can exist, so
 * the watcher itself must run requests.  `progress`: a request was taken
 * since the last look. */
static int watch_once_locked(evaio_ctx *ctx, int progress)
{
    double now = evaio__now();
    unsigned running = 0, blocked = 0;
    for (struct evaio_worker *w = ctx->workers; w; w = w->live_next) {
        if (w->seq != w->seen_seq) {
            w->seen_seq = w->seq;
            w->seen_at = now;
        }
        if (w->executing) {
            running++;
            blocked += now - w->seen_at > STALLED;
        }
    }
    unsigned awake = awake_locked(ctx);
    unsigned spare = awake > running ? awake - running : 0; /* about to take one */
    unsigned unclaimed = ctx->reqq.count > spare ? ctx->reqq.count - spare : 0;
    /* No request taken since the last look: every awake worker is stuck, and
     * each waiting request deserves one.  Else the cap, plus one for each
     * worker executing for long. */
    unsigned cap = ctx->cap < ctx->max_parallel ? ctx->cap : ctx->max_parallel;
    unsigned want = !progress ? running + unclaimed : cap + blocked;
    int woken = 0;
    while (awake < want && unclaimed) {
        if (ctx->nidle <= ctx->nwakeups && ctx->nthreads >= ctx->max_parallel)
            return -1;
        unsigned before = ctx->nthreads + ctx->nwakeups;
        wake_one_locked(ctx);
        if (ctx->nthreads + ctx->nwakeups == before)
            break; /* no thread could start: the next look tries again */
        awake++;
        unclaimed--;
        woken++;
    }
    return woken;
}

/* The watcher's loop.  It looks often while it finds work to wake workers
 * for, and less often (up to WATCH_PERIOD_MAX) while the awake workers keep
 * up.  Once nothing has been queued for WATCH_LINGER it parks: it looks
 * only every WATCH_PARKED, or when a submission finds the cap reached (which
 * signals it), rather than every WATCH_PERIOD_MAX while long requests
 * execute.  Returns when nothing has been queued or executing for
 * WATCH_LINGER, when it must run requests itself, or when the pool stops or
 * shrinks. */
void evaio__pace_watch_locked(evaio_ctx *ctx)
{
    ctx->want_watcher = 0;
    ctx->nwatch = 1;
    double period = WATCH_PERIOD, empty_since = 0;
    unsigned long taken = ctx->ntaken;
    for (;;) {
        struct timespec now, deadline;
        clock_gettime(CLOCK_MONOTONIC, &now);
        int was_parked = ctx->watch_parked;
        deadline = evaio__pool_deadline(&now, was_parked ? WATCH_PARKED : period);
        pthread_cond_timedwait(&ctx->watch, &ctx->lock, &deadline);
        if (ctx->stopping || ctx->nthreads > ctx->max_parallel)
            break;
        if (was_parked && !ctx->watch_parked)
            empty_since = 0; /* signalled: at most one signal per WATCH_LINGER */
        int progress = ctx->ntaken != taken;
        taken = ctx->ntaken;
        if (ctx->reqq.count) {
            if (was_parked || empty_since)
                period = WATCH_PERIOD; /* queued again: look closely */
            ctx->watch_parked = 0;
            empty_since = 0;
            int woken = watch_once_locked(ctx, progress);
            if (woken < 0)
                break;
            period = woken ? WATCH_PERIOD : fmin(period * 2, WATCH_PERIOD_MAX);
            continue;
        }
        double now_s = evaio__now();
        if (!empty_since)
            empty_since = now_s;
        if (now_s - empty_since >= WATCH_LINGER) {
            if (!awake_locked(ctx))
                break; /* quiet: a pool that often runs dry keeps it this long */
            ctx->watch_parked = 1;
        } else {
            period = fmin(period * 2, WATCH_PERIOD_MAX);
        }
    }
    ctx->nwatch = 0;
    ctx->watch_parked = 0;
}

int evaio__pool_queued(const evaio_ctx *ctx, int pri)
{
    unsigned busy = __atomic_load_n(&ctx->busy_levels, __ATOMIC_ACQUIRE);
    return ((busy & ((1u << EVAIO__NPRI) - 1)) >> (pri - EVAIO_PRI_MIN)) != 0;
}

int evaio__pool_executing(const evaio_ctx *ctx, int pri)
{
    unsigned busy = __atomic_load_n(&ctx->busy_levels, __ATOMIC_ACQUIRE);
    return (busy >> EVAIO__NPRI >> (pri - EVAIO_PRI_MIN)) != 0;
}

int evaio__pool_spinning(const evaio_ctx *ctx)
{
    return __atomic_load_n(&ctx->nspinning, __ATOMIC_RELAXED) != 0;
}

static void publish_locked(evaio_ctx *ctx)
{
    unsigned executing = 0;
    for (unsigned level = 0; level < EVAIO__NPRI; level++)
        executing |= (ctx->nexec[level] != 0) << level;
    __atomic_store_n(&ctx->busy_levels, ctx->reqq.nonempty | executing << EVAIO__NPRI, __ATOMIC_RELEASE);
}

/* The request queue and the executing counts change only through these,
 * so busy_levels always follows them. */
void evaio__pool_queue_locked(evaio_ctx *ctx, evaio_req *req)
{
    evaio__queue_push(&ctx->reqq, req);
    publish_locked(ctx);
}

void evaio__pool_unqueue_locked(evaio_ctx *ctx, evaio_req *req)
{
    evaio__queue_remove(&ctx->reqq, req);
    publish_locked(ctx);
}

evaio_req *evaio__pool_pop_locked(evaio_ctx *ctx)
{
    evaio_req *req = evaio__queue_pop(&ctx->reqq);
    if (req)
        publish_locked(ctx);
    return req;
}

evaio_req *evaio__pool_take_locked(evaio_ctx *ctx)
{
    evaio_req *req = evaio__queue_pop(&ctx->reqq);
    if (req) {
        ctx->nexec[req->pri_ - EVAIO_PRI_MIN]++;
        ctx->ntaken++;
        publish_locked(ctx);
    }
    return req;
}

void evaio__pool_done_locked(evaio_ctx *ctx, int pri)
{
    ctx->nexec[pri - EVAIO_PRI_MIN]--;
    publish_locked(ctx);
}

