/* The result side: workers queue results, evaio_poll runs their callbacks
 * on the caller's thread. */
#include "internal.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>

/* Done with its working directory; dropped before the callback can restart
 * it.  A group or driven op is pushed more than once: a driven op drops its
 * reference when its driver ends. */
static void drop_wd(evaio_req *req)
{
    if (!evaio__is_group(req))
        evaio__wd_release(req->wd_);
}

void evaio__push_result(evaio_ctx *ctx, evaio_req *req)
{
    drop_wd(req);
    pthread_mutex_lock(&ctx->res_lock);
    evaio__set_state(req, EVAIO__DONE);
    evaio__queue_push(&ctx->resq, req);
    /* Signalled once per batch: only when the poll fd was clear. */
    if (evaio__notify_set(&ctx->notify) && ctx->want_poll)
        ctx->want_poll(ctx, ctx->hook_data);
    pthread_mutex_unlock(&ctx->res_lock);
}

/* The context whose callbacks this thread is running, if any: its
 * ncallbacks, nblocked and taken list are then this thread's to use. */
static _Thread_local evaio_ctx *polling;

void evaio__push_own_result(evaio_ctx *ctx, evaio_req *req)
{
    /* From a callback, with no result waiting in the shared queue, the
     * request completed after every waiting one (those are all taken): it
     * joins the taken list of the poll call running here, which delivers
     * it, without the lock.  (A worker's result pushed this instant
     * completed at the same time: either order is right.)  Only while the
     * poll fd is set, which only this thread clears: should the call stop
     * early (a limit, a callback's stop), the fd is readable while the
     * result waits, as between poll calls it must be. */
    if (polling == ctx && !__atomic_load_n(&ctx->resq.count, __ATOMIC_ACQUIRE) &&
        __atomic_load_n(&ctx->notify.set, __ATOMIC_RELAXED)) {
        drop_wd(req);
        evaio__set_state(req, EVAIO__DONE);
        evaio__queue_push(&ctx->taken, req);
        return;
    }
    evaio__push_result(ctx, req);
}

/* With no result left, clears the poll fd and calls done_poll; under the
 * lock, so a result pushed meanwhile is either seen or sets the fd again.
 * Done only when a poll call finds the queue empty, not each time it empties
 * it: a callback's next request often refills it at once, and the fd would
 * be written and read back once per result.  Returns 1 when none is left. */
static int settle_locked(evaio_ctx *ctx)
{
    if (ctx->resq.count || __atomic_load_n(&ctx->taken.count, __ATOMIC_RELAXED))
        return 0;
    if (evaio__notify_clear(&ctx->notify) && ctx->done_poll)
        ctx->done_poll(ctx, ctx->hook_data);
    return 1;
}

static int settle(evaio_ctx *ctx)
{
    pthread_mutex_lock(&ctx->res_lock);
    int none = settle_locked(ctx);
    pthread_mutex_unlock(&ctx->res_lock);
    return none;
}

/* The next result to deliver.  Poll takes every waiting result at once
 * into ctx->taken, which only the polling thread touches, so that workers
 * pushing results contend for the lock once per batch, not per result.  A
 * result of a higher priority than any taken one that arrives meanwhile is
 * merged in and comes first (the result queue's levels are read unlocked,
 * as a hint: one arriving that instant may wait for the next look). */
static evaio_req *take_result(evaio_ctx *ctx)
{
    unsigned mine = ctx->taken.nonempty;
    unsigned theirs = __atomic_load_n(&ctx->resq.nonempty, __ATOMIC_RELAXED);
    if (mine && (!theirs || __builtin_clz(theirs) >= __builtin_clz(mine)))
        return evaio__queue_pop(&ctx->taken);
    pthread_mutex_lock(&ctx->res_lock);
    if (ctx->resq.count)
        evaio__queue_append_all(&ctx->resq, &ctx->taken);
    else if (!mine)
        settle_locked(ctx);
    pthread_mutex_unlock(&ctx->res_lock);
    return evaio__queue_pop(&ctx->taken);
}

/* Runs the callback, then frees what the library owns.  The request is IDLE
 * before its callback, so the callback may restart a caller-owned request;
 * the library does not touch a caller-owned request after its callback. */
static int finish(evaio_ctx *ctx, evaio_req *req)
{
    if (evaio__is_group(req) && evaio__grp_reached(req))
        return 0; /* parked until its members are done */
    void *owned = req->owned_;
    int allocated = req->flags_ & EVAIO__RF_ALLOCATED;
    evaio_cb cb = req->cb; /* read before IDLE: then the request is the caller's */
    evaio_req *grp = req->grp_;
    req->owned_ = NULL;
    if (grp)
        evaio__grp_detach(req); /* a restart from the callback is no member */
    /* IDLE and the cancel mark in one swap: a later cancel fails (EINVAL). */
    int last = __atomic_exchange_n(&req->state_, EVAIO__IDLE, __ATOMIC_ACQ_REL);
    req->cancelled_ = (last & EVAIO__CANCEL_MARK) != 0;

    unsigned gen = ctx->fork_gen;
    ctx->ncallbacks++;
    if (grp)
        evaio__grp_block(ctx, grp, 1); /* its groups wait for this callback */
    int r = cb ? cb(req) : 0;
    if (grp && gen == ctx->fork_gen)
        evaio__grp_block(ctx, grp, -1);
    ctx->ncallbacks--;

    free(owned);
    if (allocated)
        free(req);
    /* Outstanding until its callback has run; unless the callback forked and
     * this is the child, where the parent's group does not exist. */
    if (grp && gen == ctx->fork_gen)
        evaio__grp_member_done(grp);
    __atomic_fetch_sub(&ctx->nreqs, 1, __ATOMIC_RELEASE);
    return r;
}

int evaio__alone(const evaio_req *req)
{
    evaio_ctx *ctx = req->ctx_;
    unsigned others = __atomic_load_n(&ctx->nreqs, __ATOMIC_RELAXED);
    if (polling == ctx)
        others -= ctx->ncallbacks + ctx->nblocked;
    return others == 0;
}

static int poll_results_as(evaio_ctx *ctx, int *limited);

/* Runs waiting callbacks within the poll limits; *limited tells the caller
 * that a limit, not a callback, produced the -1. */
static int poll_results(evaio_ctx *ctx, int *limited)
{
    evaio_ctx *outer = polling; /* a callback may poll another context */
    polling = ctx;
    int r = poll_results_as(ctx, limited);
    polling = outer;
    return r;
}

static int poll_results_as(evaio_ctx *ctx, int *limited)
{
    unsigned max_reqs = __atomic_load_n(&ctx->max_poll_reqs, __ATOMIC_RELAXED);
    double max_time;
    __atomic_load(&ctx->max_poll_time, &max_time, __ATOMIC_RELAXED);
    double deadline = max_time > 0 ? evaio__now() + max_time : 0;

    *limited = 0;
    for (unsigned done = 1;; done++) {
        evaio_req *req = take_result(ctx);
        if (!req)
            return 0;
        int r = finish(ctx, req);
        if (r) {
            settle(ctx);
            return r;
        }
        if ((max_reqs && done >= max_reqs) || (deadline && evaio__now() >= deadline)) {
            if (settle(ctx))
                return 0;
            *limited = 1;
            errno = EAGAIN;
            return -1;
        }
    }
}

int evaio_ctx_poll(evaio_ctx *ctx)
{
    int limited;
    return (ctx = evaio__resolve(ctx)) ? poll_results(ctx, &limited) : -1;
}

int evaio_poll(void)
{
    return evaio_ctx_poll(NULL);
}

int evaio_ctx_poll_fd(evaio_ctx *ctx)
{
    return (ctx = evaio__resolve(ctx)) ? ctx->notify.read_fd : -1;
}

int evaio_poll_fd(void)
{
    return evaio_ctx_poll_fd(NULL);
}

int evaio_ctx_wait(evaio_ctx *ctx)
{
    if (!(ctx = evaio__resolve(ctx)))
        return -1;
    for (;;) {
        int limited;
        int r = poll_results(ctx, &limited);
        if (limited)
            continue; /* results still wait */
        if (r)
            return r;
        /* Called from a callback, the requests whose callbacks are running
         * (this one and those around it) are outstanding but done, and so,
         * in effect, are the groups that wait for them. */
        if (evaio_ctx_nreqs(ctx) <= ctx->ncallbacks + ctx->nblocked)
            return 0;
        struct pollfd pfd = { .fd = ctx->notify.read_fd, .events = POLLIN };
        while (poll(&pfd, 1, -1) < 0) {
            if (errno != EINTR)
                return -1;
        }
    }
}

int evaio_wait(void)
{
    return evaio_ctx_wait(NULL);
}
