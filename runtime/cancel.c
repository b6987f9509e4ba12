/* evaio_cancel: a request that has not started executing never runs; one
 * that has is only marked.  A request is QUEUED exactly while it is in the
 * request queue, and that state only changes under ctx->lock (start queues
 * it, a worker takes it), so under the lock a QUEUED request can be taken
 * back.  The short STARTING window (argument checks, a nowait attempt,
 * then queueing) is waited out, so a cancel never races the start's own
 * bookkeeping. */
#include "internal.h"

#include <sched.h>

int evaio_cancel(evaio_req *req)
{
    if (!req) {
        errno = EFAULT;
        return -1;
    }
    if (evaio__is_group(req))
        return evaio__grp_cancel(req);
    for (;;) {
        int old = __atomic_load_n(&req->state_, __ATOMIC_ACQUIRE);
        int state = old & EVAIO__STATE_MASK;
        if (state == EVAIO__IDLE) {
            errno = EINVAL; /* not started, or its callback has begun */
            return -1;
        }
        if (state == EVAIO__STARTING) {
            sched_yield();
            continue;
        }
        if (state != EVAIO__QUEUED) {
            /* Running or done: marked, the callback sees the real result.
             * The CAS fails if the state moved on (the callback began, say). */
            if (__atomic_compare_exchange_n(&req->state_, &old, old | EVAIO__CANCEL_MARK, 0, __ATOMIC_ACQ_REL,
                                            __ATOMIC_ACQUIRE))
                return 0;
            continue;
        }
        /* Queued: decided under the context's lock, where QUEUED cannot
         * change, so that the flight it takes back is the one it saw (not a
         * later one, restarted meanwhile, perhaps on another context). */
        evaio_ctx *ctx = __atomic_load_n(&req->ctx_, __ATOMIC_ACQUIRE);
        pthread_mutex_lock(&ctx->lock);
        if (__atomic_load_n(&req->state_, __ATOMIC_ACQUIRE) != old ||
            __atomic_load_n(&req->ctx_, __ATOMIC_ACQUIRE) != ctx) {
            pthread_mutex_unlock(&ctx->lock);
            continue; /* it moved on: look again */
        }
        evaio__pool_unqueue_locked(ctx, req);
        /* Off the queue and not yet DONE: nothing else touches it now. */
        __atomic_store_n(&req->state_, EVAIO__RUNNING | EVAIO__CANCEL_MARK, __ATOMIC_RELEASE);
        pthread_mutex_unlock(&ctx->lock);
        req->result = -1;
        req->errorno = ECANCELED;
        evaio__push_result(ctx, req);
        return 1;
    }
}

void evaio__cancel_queued(evaio_ctx *ctx)
{
    evaio_req *req;
    for (;;) {
        pthread_mutex_lock(&ctx->lock);
        req = evaio__pool_pop_locked(ctx);
        if (req)
            evaio__set_state(req, EVAIO__RUNNING); /* off the queue, ours */
        pthread_mutex_unlock(&ctx->lock);
        if (!req)
            return;
        __atomic_fetch_or(&req->state_, EVAIO__CANCEL_MARK, __ATOMIC_ACQ_REL);
        req->result = -1;
        req->errorno = ECANCELED;
        evaio__push_result(ctx, req);
    }
}

int evaio_req_cancelled(const evaio_req *req)
{
    return req && evaio__marked(req);
}
