/* A FIFO per priority level; pop takes from the highest non-empty level. */
#ifndef EVAIO_QUEUE_H
#define EVAIO_QUEUE_H

#include "evaio.h"

#define EVAIO__NPRI (EVAIO_PRI_MAX - EVAIO_PRI_MIN + 1)

struct evaio_queue {
    evaio_req *head[EVAIO__NPRI], *tail[EVAIO__NPRI];
    unsigned nonempty; /* bit i set while level i has requests; stored atomically, like count */
    unsigned count; /* changed under the owner's lock, with atomic stores: a hint may read it unlocked */
};

void evaio__queue_push(struct evaio_queue *q, evaio_req *req);
evaio_req *evaio__queue_pop(struct evaio_queue *q);
/* Appends every request of `from` to `to`, level by level. */
void evaio__queue_append_all(struct evaio_queue *from, struct evaio_queue *to);
/* Removes a request known to be queued in q. */
void evaio__queue_remove(struct evaio_queue *q, evaio_req *req);

#endif
