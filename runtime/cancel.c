/* evaio_cancel: a request that has not started never runs; one that has is
 * only marked.  The mark and the state are a pair: cancel marks, then reads
 * the state; start stores QUEUED (under ctx->lock), then reads the mark; a
 * worker takes a request off the queue under ctx->lock.  So a request is
 * either removed from the queue here, or refused by start, or marked while
 * it runs: never run after a cancel that returned 1. */
#include "internal.h"

int evaio_cancel(evaio_req *req)
{
    if (!req) {
        errno = EFAULT;
        return -1;
    }
    if (evaio__is_group(req))
        return evaio__grp_cancel(req);
    if (__atomic_load_n(&req->state_, __ATOMIC_SEQ_CST) == EVAIO__IDLE) {
        errno = EINVAL; /* not started, or its callback has begun */
        return -1;
    }
    __atomic_store_n(&req->cancelled_, 1, __ATOMIC_SEQ_CST);
    int state = __atomic_load_n(&req->state_, __ATOMIC_SEQ_CST);
    if (state == EVAIO__STARTING)
        return 1; /* start will see the mark and fail it with ECANCELED */
    if (state != EVAIO__QUEUED)
        return 0; /* running or done: the callback sees the real result */

    evaio_ctx *ctx = req->ctx_;
    pthread_mutex_lock(&ctx->lock);
    if (__atomic_load_n(&req->state_, __ATOMIC_RELAXED) != EVAIO__QUEUED) {
        pthread_mutex_unlock(&ctx->lock); /* a worker took it meanwhile */
        return 0;
    }
    evaio__queue_remove(&ctx->reqq, req);
    /* Off the queue and not yet DONE: nothing else touches it now. */
    __atomic_store_n(&req->state_, EVAIO__RUNNING, __ATOMIC_RELAXED);
    pthread_mutex_unlock(&ctx->lock);
    req->result = -1;
    req->errorno = ECANCELED;
    evaio__push_result(ctx, req);
    return 1;
}

int evaio_req_cancelled(const evaio_req *req)
{
    return req && __atomic_load_n(&req->cancelled_, __ATOMIC_ACQUIRE);
}
