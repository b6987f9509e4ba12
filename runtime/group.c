/* Groups: requests that complete after all their members.  A group goes to
 * the result queue when it starts; when poll reaches it with members
 * outstanding it is parked (GROUP_WAIT) and pushed again when the last of
 * them has had its callback.  Everything here runs on the polling thread,
 * which is where members finish, so the bookkeeping needs no lock. */
#include "internal.h"

#include <stdlib.h>

void evaio_grp_init(evaio_req *grp, evaio_cb cb, void *data)
{
    evaio__req_init(grp, EVAIO_OP_GROUP, cb, data);
}

evaio_req *evaio_ctx_grp(evaio_ctx *ctx, evaio_cb cb, void *data)
{
    evaio_req *grp = evaio__req_alloc(sizeof *grp);
    if (!grp)
        return NULL;
    evaio_grp_init(grp, cb, data);
    return evaio__submit_allocated(ctx, grp, EVAIO_PRI_DEFAULT);
}

evaio_req *evaio_grp(evaio_cb cb, void *data)
{
    return evaio_ctx_grp(NULL, cb, data);
}

static int is_group_in_flight(const evaio_req *grp)
{
    return grp && evaio__is_group(grp) && __atomic_load_n(&grp->state_, __ATOMIC_ACQUIRE) != EVAIO__IDLE;
}

void evaio__grp_start(evaio_req *grp)
{
    struct evaio_grp_state_ *g = &grp->grp_state_;
    g->members = NULL;
    g->feed = NULL;
    g->nmembers = 0;
    g->nadded = 0;
    g->blocking = 0;
    g->flags = 0;
}

static int cancelled(const evaio_req *req)
{
    return evaio__marked(req);
}

static void park(evaio_req *grp);
static void unpark(evaio_req *grp);

/* What keeps a group from completing: members outstanding, a paused feeder,
 * or its feeder running right now (a poll from inside it may reach it). */
static int held(const struct evaio_grp_state_ *g)
{
    return g->nmembers || (g->feed && !g->limit) || (g->flags & EVAIO__GF_FEEDING);
}

/* Completes a parked group whose members are all done and that is not
 * waiting for a paused feeder. */
static void maybe_complete(evaio_req *grp)
{
    struct evaio_grp_state_ *g = &grp->grp_state_;
    if (held(g))
        return;
    if (evaio__state(grp) == EVAIO__GROUP_WAIT) {
        unpark(grp);
        evaio__push_result(grp->ctx_, grp);
    }
}

/* Calls the feeder while the group is below its limit; a call that adds no
 * member ends feeding. */
static void feed(evaio_req *grp)
{
    struct evaio_grp_state_ *g = &grp->grp_state_;
    if (g->flags & EVAIO__GF_FEEDING)
        return; /* the feeder itself changed the limit or added: its loop goes on */
    g->flags |= EVAIO__GF_FEEDING;
    while (g->feed && g->nmembers < g->limit && !cancelled(grp)) {
        unsigned long before = g->nadded;
        /* The group cannot complete while its feeder runs: a wait from the
         * feeder must not wait for it. */
        evaio__grp_block(grp->ctx_, grp, 1);
        g->feed(grp);
        evaio__grp_block(grp->ctx_, grp, -1);
        if (g->nadded == before)
            g->feed = NULL;
    }
    g->flags &= ~EVAIO__GF_FEEDING;
}

void evaio__grp_block(evaio_ctx *ctx, evaio_req *grp, int delta)
{
    for (; grp; grp = grp->grp_) {
        unsigned *b = &grp->grp_state_.blocking;
        if (delta > 0 && (*b)++ == 0)
            ctx->nblocked++;
        else if (delta < 0 && --*b == 0)
            ctx->nblocked--;
    }
}

/* Parked groups are on a list, so that evaio_ctx_free can find the paused
 * ones; a group leaves it when it is pushed to the result queue again. */
static void park(evaio_req *grp)
{
    evaio_ctx *ctx = grp->ctx_;
    grp->prev_ = NULL;
    grp->next_ = ctx->parked;
    if (ctx->parked)
        ctx->parked->prev_ = grp;
    ctx->parked = grp;
}

static void unpark(evaio_req *grp)
{
    evaio_ctx *ctx = grp->ctx_;
    if (grp->prev_)
        grp->prev_->next_ = grp->next_;
    else
        ctx->parked = grp->next_;
    if (grp->next_)
        grp->next_->prev_ = grp->prev_;
    grp->next_ = grp->prev_ = NULL;
}

void evaio__grp_end_paused(evaio_ctx *ctx)
{
    evaio_req *grp = ctx->parked;
    while (grp) {
        evaio_req *next = grp->next_;
        if (grp->grp_state_.feed && !grp->grp_state_.limit)
            evaio__grp_cancel(grp); /* its feeding would never resume: it ends */
        grp = next;
    }
}

static int add(evaio_req *grp, evaio_req *req);

int evaio_grp_add(evaio_req *grp, evaio_req *req)
{
    if (!grp || !req) {
        errno = EFAULT;
        return -1;
    }
    if (grp->flags_ & EVAIO__RF_DRIVEN) {
        errno = EINVAL; /* its members are its driver's business */
        return -1;
    }
    return add(grp, req);
}

int evaio__drive_add(evaio_req *req, evaio_req *sub)
{
    return add(req, sub);
}

static int add(evaio_req *grp, evaio_req *req)
{
    if (!is_group_in_flight(grp) || req == grp ||
        __atomic_load_n(&req->state_, __ATOMIC_ACQUIRE) == EVAIO__IDLE || req->ctx_ != grp->ctx_) {
        errno = EINVAL;
        return -1;
    }
    if (req->grp_) {
        errno = EBUSY;
        return -1;
    }
    for (const evaio_req *up = grp->grp_; up; up = up->grp_) {
        if (up == req) {
            errno = EINVAL; /* req contains grp: neither could complete */
            return -1;
        }
    }
    struct evaio_grp_state_ *g = &grp->grp_state_;
    req->grp_ = grp;
    req->grp_prev_ = NULL;
    req->grp_next_ = g->members;
    if (g->members)
        g->members->grp_prev_ = req;
    g->members = req;
    g->nmembers++;
    g->nadded++;
    if (cancelled(grp))
        evaio_cancel(req);
    return 0;
}

void evaio_grp_feed(evaio_req *grp, evaio_feed_cb feed_cb)
{
    if (!is_group_in_flight(grp))
        return;
    grp->grp_state_.feed = cancelled(grp) ? NULL : feed_cb;
    feed(grp);
    maybe_complete(grp);
}

void evaio_grp_limit(evaio_req *grp, unsigned limit)
{
    if (!grp || !evaio__is_group(grp))
        return;
    grp->grp_state_.limit = limit;
    if (!is_group_in_flight(grp))
        return;
    feed(grp);
    maybe_complete(grp);
}

unsigned evaio_grp_outstanding(const evaio_req *grp)
{
    return is_group_in_flight(grp) ? grp->grp_state_.nmembers : 0;
}

int evaio__grp_reached(evaio_req *grp)
{
    struct evaio_grp_state_ *g = &grp->grp_state_;
    const struct evaio__driver *driver =
        grp->flags_ & EVAIO__RF_DRIVEN ? evaio__op_driver(grp->type) : NULL;
    if (!(g->flags & EVAIO__GF_REACHED)) {
        g->flags |= EVAIO__GF_REACHED;
        /* Still DONE while the driver begins: nothing it does can push the
         * group a second time (maybe_complete pushes only a parked group). */
        if (driver && !cancelled(grp))
            driver->begin(grp);
    }
    if (held(g)) {
        evaio__set_state(grp, EVAIO__GROUP_WAIT);
        park(grp);
        return 1;
    }
    if (driver) {
        driver->end(grp);
        evaio__wd_release(grp->wd_);
    } else if (cancelled(grp)) {
        grp->result = -1;
        grp->errorno = ECANCELED;
    }
    return 0;
}

void evaio__grp_detach(evaio_req *req)
{
    evaio_req *grp = req->grp_;
    if (req->grp_prev_)
        req->grp_prev_->grp_next_ = req->grp_next_;
    else
        grp->grp_state_.members = req->grp_next_;
    if (req->grp_next_)
        req->grp_next_->grp_prev_ = req->grp_prev_;
    req->grp_ = req->grp_next_ = req->grp_prev_ = NULL;
}

void evaio__grp_member_done(evaio_req *grp)
{
    grp->grp_state_.nmembers--;
    feed(grp);
    maybe_complete(grp);
}

int evaio__grp_cancel(evaio_req *grp)
{
    if (!is_group_in_flight(grp)) {
        errno = EINVAL;
        return -1;
    }
    __atomic_fetch_or(&grp->state_, EVAIO__CANCEL_MARK, __ATOMIC_ACQ_REL);
    grp->grp_state_.feed = NULL;
    /* Cancelling a member never changes the list: members leave it only
     * when their callbacks run, later, in poll. */
    for (evaio_req *m = grp->grp_state_.members; m; m = m->grp_next_) {
        if (!cancelled(m))
            evaio_cancel(m);
    }
    maybe_complete(grp); /* a group paused with a feeder has nothing left to wait for */
    return 1;
}
