/* fork: a child process gets a working, empty library.
 *
 * Every live context is on one list (the only process-wide state besides
 * the default context, and only for this).  Before fork the forking thread
 * takes the list's lock and every context's two locks, so the child inherits
 * them in a consistent state; the parent releases them after.  In the child,
 * where only the forking thread exists, each context forgets the parent's
 * requests and threads, gets a fresh poll fd at the same number, and keeps
 * every setting; threads start again on demand. */
#include "internal.h"

#include <string.h>

#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

static pthread_mutex_t contexts_lock = PTHREAD_MUTEX_INITIALIZER;
static evaio_ctx *contexts;
static pthread_once_t handlers_once = PTHREAD_ONCE_INIT;

static void prepare(void)
{
    evaio__default_lock(1);
    pthread_mutex_lock(&contexts_lock);
    for (evaio_ctx *ctx = contexts; ctx; ctx = ctx->next_ctx) {
        pthread_mutex_lock(&ctx->lock);
        while (ctx->nstarting)
            pthread_cond_wait(&ctx->worker_exited, &ctx->lock);
        pthread_mutex_lock(&ctx->res_lock);
    }
}

static void parent(void)
{
    for (evaio_ctx *ctx = contexts; ctx; ctx = ctx->next_ctx) {
        pthread_mutex_unlock(&ctx->res_lock);
        pthread_mutex_unlock(&ctx->lock);
    }
    pthread_mutex_unlock(&contexts_lock);
    evaio__default_lock(0);
}

/* The parent's queued and waiting requests: a wrapper's is freed (nothing
 * will ever run it here), a caller-owned one is made IDLE so the child may
 * start it again.  (One that was executing on a worker, or a group parked
 * waiting for one, is not on any list: it stays in flight in the child, to
 * be set up again with its _init before reuse.) */
static void forget(evaio_req *req)
{
    free(req->owned_);
    if (req->flags_ & EVAIO__RF_ALLOCATED) {
        free(req);
    } else {
        req->owned_ = NULL;
        req->state_ = EVAIO__IDLE;
    }
}

/* A queued request still holds its working directory; a waiting result
 * already let go of it. */
static void drop(struct evaio_queue *q, int holds_wd)
{
    evaio_req *req;
    while ((req = evaio__queue_pop(q))) {
        if (holds_wd && !evaio__is_group(req))
            evaio__wd_release(req->wd_);
        forget(req);
    }
}

/* The polling thread takes results from ctx->taken, and adds the ones its
 * callbacks' requests completed at once, without a lock, so a fork from
 * another thread may catch a pop or a push half done: only the head links
 * are trusted (a result cut off is lost to the child, like every result of
 * the parent's; one caught in the push stays DONE there, and a wrapper's
 * is not freed in the child). */
static void drop_taken(struct evaio_queue *q)
{
    for (unsigned level = 0; level < EVAIO__NPRI; level++) {
        evaio_req *req = q->head[level];
        while (req) {
            evaio_req *next = req->next_;
            forget(req);
            req = next;
        }
        q->head[level] = q->tail[level] = NULL;
    }
    q->nonempty = 0;
    q->count = 0;
}

/* Puts fd at number `to`, close-on-exec (only this thread runs in the
 * child, so the two steps of the fallback cannot race an exec). */
static void reuse_number(int fd, int to)
{
#ifdef __linux__
    dup3(fd, to, O_CLOEXEC);
#else
    if (dup2(fd, to) >= 0)
        fcntl(to, F_SETFD, FD_CLOEXEC);
#endif
}

/* A new eventfd (or pipe) at the old numbers: the parent keeps the old one,
 * and the child's must not share its state. */
static void renew_notify(struct evaio_notify *n)
{
    struct evaio_notify fresh;
    if (evaio__notify_open(&fresh) < 0)
        return; /* keeps the shared one: still readable when results wait */
    reuse_number(fresh.read_fd, n->read_fd);
    if (n->write_fd != n->read_fd)
        reuse_number(fresh.write_fd, n->write_fd);
    evaio__notify_close(&fresh);
    n->set = 0;
}

static void child(void)
{
    for (evaio_ctx *ctx = contexts; ctx; ctx = ctx->next_ctx) {
        evaio__ctx_locks_init(ctx);
        pthread_condattr_t attr;
        pthread_condattr_init(&attr);
        pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
        pthread_cond_init(&ctx->wake, &attr);
        pthread_condattr_destroy(&attr);
        pthread_cond_init(&ctx->worker_exited, NULL);
        drop(&ctx->reqq, 1);
        drop(&ctx->resq, 0);
        drop_taken(&ctx->taken);
        ctx->nthreads = ctx->nidle = ctx->nwakeups = ctx->nstarting = 0;
        memset(ctx->nexec, 0, sizeof ctx->nexec); /* the parent's workers */
        __atomic_store_n(&ctx->busy_levels, 0, __ATOMIC_RELAXED); /* nothing queued or executing here */
        evaio__pool_init(ctx);
        ctx->exited_workers = NULL; /* the parent's threads do not exist here */
        __atomic_store_n(&ctx->need_min, ctx->min_parallel > 0, __ATOMIC_RELAXED);
        /* Callbacks running on this thread (a fork from inside one) are the
         * only requests left; they finish normally. */
        ctx->nreqs = ctx->ncallbacks;
        ctx->nblocked = 0;    /* the parent's groups do not exist here */
        ctx->parked = NULL;
        ctx->fork_gen++;
        renew_notify(&ctx->notify);
    }
    pthread_mutex_init(&contexts_lock, NULL);
    evaio__default_lock(-1);
}

static void install_handlers(void)
{
    pthread_atfork(prepare, parent, child);
}

void evaio__fork_register(evaio_ctx *ctx)
{
    pthread_once(&handlers_once, install_handlers);
    pthread_mutex_lock(&contexts_lock);
    ctx->next_ctx = contexts;
    contexts = ctx;
    pthread_mutex_unlock(&contexts_lock);
}

void evaio__fork_unregister(evaio_ctx *ctx)
{
    pthread_mutex_lock(&contexts_lock);
    for (evaio_ctx **p = &contexts; *p; p = &(*p)->next_ctx) {
        if (*p == ctx) {
            *p = ctx->next_ctx;
            break;
        }
    }
    pthread_mutex_unlock(&contexts_lock);
}

void evaio__fork_stop_all(void)
{
    pthread_mutex_lock(&contexts_lock);
    for (evaio_ctx *ctx = contexts; ctx; ctx = ctx->next_ctx)
        evaio__pool_stop(ctx);
    pthread_mutex_unlock(&contexts_lock);
}
