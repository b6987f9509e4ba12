/* Shared by the pool (pool.c: threads) and its pacing (pace.c: wake-ups),
 * all under ctx->lock. */
#ifndef EVAIO_POOL_H
#define EVAIO_POOL_H

#include "internal.h"

#include <time.h>

int evaio__pool_start_thread_locked(evaio_ctx *ctx); /* -1 with errno when none could start */
struct timespec evaio__pool_deadline(const struct timespec *since, double secs);
/* The watcher's loop (pace.c), run by a worker asked to be the watcher;
 * returns when it should go back to being a worker. */
void evaio__pace_watch_locked(evaio_ctx *ctx);

#endif
