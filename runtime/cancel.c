/* evaio_cancel: a request that has not started executing never runs; one
 * that has is only marked.  A request is QUEUED exactly while it is in the
 * request queue, and that state only changes under ctx->lock (start queues
 * it, a worker takes it), so under the lock a QUEUED request can be taken
 * back.  The short STARTING window (argument checks, then queueing) is
 * waited out, so a cancel never races the start's own bookkeeping. */
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
    int old = __atomic_load_n(&req->state_, __ATOMIC_ACQUIRE);
    for (;;) {
        int state = old & EVAIO__STATE_MASK;
        if (state == EVAIO__IDLE) {
            errno = EINVAL; /* not started, or its callback has begun */
            return -1;
        }
        if (state == EVAIO__STARTING) {
            sched_yield();
            old = __atomic_load_n(&req->state_, __ATOMIC_ACQUIRE);
            continue;
        }
        if (__atomic_compare_exchange_n(&req->state_, &old, old | EVAIO__CANCEL_MARK, 1, __ATOMIC_ACQ_REL,
                                        __ATOMIC_ACQUIRE))
            break;
    }
    if ((old & EVAIO__STATE_MASK) != EVAIO__QUEUED)
        return 0; /* running or done: the callback sees the real result, marked */

    evaio_ctx *ctx = req->ctx_;
    pthread_mutex_lock(&ctx->lock);
    if (evaio__state(req) != EVAIO__QUEUED) {
        pthread_mutex_unlock(&ctx->lock); /* a worker took it meanwhile */
        return 0;
    }
    evaio__queue_remove(&ctx->reqq, req);
    /* Off the queue and not yet DONE: nothing else touches it now. */
    evaio__set_state(req, EVAIO__RUNNING);
    pthread_mutex_unlock(&ctx->lock);
    req->result = -1;
    req->errorno = ECANCELED;
    evaio__push_result(ctx, req);
    return 1;
}

void evaio__cancel_queued(evaio_ctx *ctx)
{
    evaio_req *req;
    for (;;) {
        pthread_mutex_lock(&ctx->lock);
        req = evaio__queue_pop(&ctx->reqq);
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
