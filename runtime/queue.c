/* Priority queue of requests: one intrusive FIFO per level, doubly linked
 * so that cancelling a queued request is O(1). */
#include "queue.h"

void evaio__queue_push(struct evaio_queue *q, evaio_req *req)
{
    unsigned level = (unsigned)(req->pri_ - EVAIO_PRI_MIN);

    req->next_ = NULL;
    req->prev_ = q->tail[level];
    if (q->tail[level])
        q->tail[level]->next_ = req;
    else
        q->head[level] = req;
    q->tail[level] = req;
    __atomic_store_n(&q->nonempty, q->nonempty | 1u << level, __ATOMIC_RELAXED);
    __atomic_store_n(&q->count, q->count + 1, __ATOMIC_RELAXED); /* read unlocked by a spinning worker */
}

evaio_req *evaio__queue_pop(struct evaio_queue *q)
{
    if (!q->nonempty)
        return NULL;
    unsigned level = 31u - (unsigned)__builtin_clz(q->nonempty);
    evaio_req *req = q->head[level];

    q->head[level] = req->next_;
    if (q->head[level])
        q->head[level]->prev_ = NULL;
    if (!q->head[level]) {
        q->tail[level] = NULL;
        __atomic_store_n(&q->nonempty, q->nonempty & ~(1u << level), __ATOMIC_RELAXED);
    }
    __atomic_store_n(&q->count, q->count - 1, __ATOMIC_RELAXED);
    req->next_ = req->prev_ = NULL;
    return req;
}

void evaio__queue_remove(struct evaio_queue *q, evaio_req *req)
{
    unsigned level = (unsigned)(req->pri_ - EVAIO_PRI_MIN);

    if (req->prev_)
        req->prev_->next_ = req->next_;
    else
        q->head[level] = req->next_;
    if (req->next_)
        req->next_->prev_ = req->prev_;
    else
        q->tail[level] = req->prev_;
    if (!q->head[level])
        __atomic_store_n(&q->nonempty, q->nonempty & ~(1u << level), __ATOMIC_RELAXED);
    __atomic_store_n(&q->count, q->count - 1, __ATOMIC_RELAXED);
    req->next_ = req->prev_ = NULL;
}

void evaio__queue_append_all(struct evaio_queue *from, struct evaio_queue *to)
{
    for (unsigned level = 0; level < EVAIO__NPRI; level++) {
        if (!from->head[level])
            continue;
        if (to->tail[level]) {
            to->tail[level]->next_ = from->head[level];
            from->head[level]->prev_ = to->tail[level];
        } else {
            to->head[level] = from->head[level];
        }
        to->tail[level] = from->tail[level];
        from->head[level] = from->tail[level] = NULL;
    }
    __atomic_store_n(&to->nonempty, to->nonempty | from->nonempty, __ATOMIC_RELAXED);
    __atomic_store_n(&from->nonempty, 0, __ATOMIC_RELAXED);
    __atomic_store_n(&to->count, to->count + from->count, __ATOMIC_RELAXED);
    __atomic_store_n(&from->count, 0, __ATOMIC_RELAXED);
}
