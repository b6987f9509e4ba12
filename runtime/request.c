/* The request life cycle on the submitting side: set-up, allocation and
 * starting. */
#include "internal.h"

#include <errno.h>
#include <stdlib.h>

void evaio__req_init(evaio_req *req, int type, evaio_cb cb, void *data)
{
    req->result = 0;
    req->errorno = 0;
    req->type = type;
    req->data = data;
    req->cb = cb;
    req->pri_ = EVAIO_PRI_DEFAULT;
    req->state_ = EVAIO__IDLE;
    req->flags_ = 0;
    req->next_ = NULL;
    req->ctx_ = NULL;
    req->owned_ = NULL;
    req->wd_ = NULL;
    req->grp_ = NULL;
    req->cancelled_ = 0;
    req->grp_state_.limit = EVAIO_GRP_LIMIT_DEFAULT; /* groups and driven ops */
}

evaio_req *evaio__req_alloc(size_t size)
{
    return malloc(size); /* sets ENOMEM on failure */
}

void *evaio__own(evaio_req *req, size_t size)
{
    void *p = malloc(size ? size : 1);
    if (p)
        req->owned_ = p;
    return p;
}

static int clamp_pri(int pri)
{
    return pri < EVAIO_PRI_MIN ? EVAIO_PRI_MIN : pri > EVAIO_PRI_MAX ? EVAIO_PRI_MAX : pri;
}

void evaio_req_set_pri(evaio_req *req, int pri)
{
    /* Ignored while in flight: the queues hold the request by its priority. */
    if (__atomic_load_n(&req->state_, __ATOMIC_ACQUIRE) == EVAIO__IDLE)
        req->pri_ = clamp_pri(pri);
}

int evaio_req_pri(const evaio_req *req)
{
    return req->pri_;
}

/* Fails a request that never reaches a worker: through its callback. */
static void fail_through_callback(evaio_ctx *ctx, evaio_req *req, int err)
{
    req->result = -1;
    req->errorno = err;
    __atomic_fetch_add(&ctx->nreqs, 1, __ATOMIC_RELAXED);
    evaio__push_result(ctx, req);
}

/* Starts a request of either style.  nreqs counts it only once it is
 * certain to run (or to fail through its callback), so a refused start never
 * makes evaio_ctx_wait wait for it. */
static int start(evaio_ctx *ctx, evaio_req *req)
{
    if (!(ctx = evaio__resolve(ctx)))
        return -1;
    if (__atomic_load_n(&ctx->closing, __ATOMIC_ACQUIRE)) {
        errno = ESHUTDOWN; /* evaio_ctx_free is running */
        return -1;
    }
    int expected = EVAIO__IDLE;
    if (!__atomic_compare_exchange_n(&req->state_, &expected, EVAIO__STARTING, 0, __ATOMIC_ACQ_REL,
                                     __ATOMIC_ACQUIRE)) {
        errno = EBUSY;
        return -1;
    }
    __atomic_store_n(&req->ctx_, ctx, __ATOMIC_RELEASE); /* evaio_cancel reads it unlocked */
    req->result = 0;
    req->errorno = 0;
    req->owned_ = NULL;
    req->grp_ = NULL;
    req->pri_ = clamp_pri(req->pri_); /* the queues index by it */

    if (req->type == EVAIO_OP_GROUP) {
        /* A group runs no code: it goes to the result queue at once, and
         * poll parks it there until its members are done. */
        req->wd_ = NULL;
        evaio__grp_start(req);
        __atomic_fetch_add(&ctx->nreqs, 1, __ATOMIC_RELAXED);
        evaio__push_result(ctx, req);
        return 0;
    }

    evaio__wd_retain(req->wd_); /* released when the result is pushed */
    /* Bad arguments fail through the callback, without reaching a worker. */
    int err = evaio__op_prepare(req);
    if (err) {
        fail_through_callback(ctx, req, err);
        return 0;
    }
    if (evaio__op_driver(req->type)) {
        /* Driven: a group whose driver begins when poll reaches it; it keeps
         * its wd reference until the driver ends. */
        __atomic_fetch_or(&req->flags_, EVAIO__RF_DRIVEN, __ATOMIC_RELAXED);
        evaio__grp_start(req);
        __atomic_fetch_add(&ctx->nreqs, 1, __ATOMIC_RELAXED);
        evaio__push_result(ctx, req);
        return 0;
    }

    /* An attempt here needs nothing of this priority or higher queued (they
     * start first), and no worker spinning for work (it would run the
     * request at no wake-up cost, in parallel with this thread). */
    if (evaio__op_has_nowait(req->type) && !evaio__pool_queued(ctx, req->pri_) &&
        !evaio__pool_spinning(ctx) && !__atomic_load_n(&ctx->need_min, __ATOMIC_RELAXED) &&
        evaio__op_nowait(req)) {
        /* Completed here without blocking: no trip to a worker.  (Still
         * STARTING while it ran, so a cancel from another thread waited.) */
        __atomic_fetch_add(&ctx->nreqs, 1, __ATOMIC_RELAXED);
        evaio__push_own_result(ctx, req);
        return 0;
    }

    pthread_mutex_lock(&ctx->lock);
    if (__atomic_load_n(&ctx->need_min, __ATOMIC_RELAXED)) {
        /* After fork: the min_parallel threads the parent had. */
        __atomic_store_n(&ctx->need_min, 0, __ATOMIC_RELAXED);
        evaio__pool_start_min_locked(ctx);
    }
    evaio__pool_queue_locked(ctx, req);
    if (evaio__pool_wake_locked(ctx) < 0) {
        /* No worker exists and none could be started: take it back. */
        int saved = errno;
        evaio__pool_unqueue_locked(ctx, req);
        pthread_mutex_unlock(&ctx->lock);
        evaio__wd_release(req->wd_);
        __atomic_store_n(&req->state_, EVAIO__IDLE, __ATOMIC_RELEASE);
        errno = saved == EAGAIN || saved == ENOMEM ? saved : EAGAIN;
        return -1;
    }
    /* Before the unlock: no worker can have taken it yet, and a cancel
     * waiting for the lock finds it QUEUED and in the queue. */
    evaio__set_state(req, EVAIO__QUEUED); /* no cancel marks a STARTING request */
    __atomic_fetch_add(&ctx->nreqs, 1, __ATOMIC_RELAXED);
    pthread_mutex_unlock(&ctx->lock);
    return 0;
}

int evaio_ctx_start(evaio_ctx *ctx, evaio_req *req)
{
    if (!req) {
        errno = EFAULT;
        return -1;
    }
    /* A wrapper's request is freed after its callback: it cannot be restarted. */
    if (__atomic_load_n(&req->flags_, __ATOMIC_RELAXED) & EVAIO__RF_ALLOCATED) { /* a worker may set AUTO_OUT */
        errno = EINVAL;
        return -1;
    }
    return start(ctx, req);
}

int evaio_start(evaio_req *req)
{
    return evaio_ctx_start(NULL, req);
}

evaio_req *evaio__submit_allocated(evaio_ctx *ctx, evaio_req *req, int pri)
{
    req->flags_ |= EVAIO__RF_ALLOCATED;
    req->pri_ = clamp_pri(pri);
    if (start(ctx, req) < 0) {
        int saved = errno;
        free(req);
        errno = saved;
        return NULL;
    }
    return req;
}
