/* Submitting from many threads while another thread polls: 4 submitters x
 * 20000 nops, half through the wrappers and half caller-owned, at mixed
 * priorities; every callback runs exactly once, on the polling thread. */
#include "check.h"

#include <poll.h>
#include <pthread.h>

enum { NSUBMITTERS = 4, PER_THREAD = 20000, TOTAL = NSUBMITTERS * PER_THREAD };

static evaio_ctx *ctx;
static evaio_req owned[TOTAL];
static unsigned char hits[TOTAL]; /* touched by the polling thread only */
static int delivered;              /* atomic: read by the main thread */
static pthread_t poller_self;      /* set by the poller before it polls */

static int cb(evaio_req *req)
{
    size_t k = (size_t)(uintptr_t)req->data;
    CHECK(k < TOTAL);
    CHECK(pthread_equal(pthread_self(), poller_self));
    CHECK_EQ(req->result, 0);
    CHECK_EQ(req->errorno, 0);
    CHECK_EQ(req->type, EVAIO_OP_NOP);
    if (k % 2)
        CHECK(req == &owned[k]); /* a caller-owned request comes back as itself */
    CHECK_EQ(hits[k], 0);
    hits[k]++;
    __atomic_add_fetch(&delivered, 1, __ATOMIC_SEQ_CST);
    return 0;
}

static void *submitter(void *arg)
{
    size_t t = (size_t)(uintptr_t)arg;
    for (size_t i = 0; i < PER_THREAD; i++) {
        size_t k = t * PER_THREAD + i;
        int pri = (int)(k % 9) - 4;
        if (k % 2 == 0) {
            evaio_req *r = evaio_ctx_nop(ctx, pri, cb, (void *)(uintptr_t)k);
            if (!r)
                fprintf(stderr, "evaio_ctx_nop: %s\n", strerror(errno));
            CHECK(r != NULL);
        } else {
            evaio_nop_init(&owned[k], cb, (void *)(uintptr_t)k);
            evaio_req_set_pri(&owned[k], pri);
            int r = evaio_ctx_start(ctx, &owned[k]);
            if (r)
                fprintf(stderr, "evaio_ctx_start: %s\n", strerror(errno));
            CHECK_EQ(r, 0);
        }
    }
    return NULL;
}

static void *poller(void *arg)
{
    (void)arg;
    poller_self = pthread_self();
    int fd = evaio_ctx_poll_fd(ctx);
    int last = -1;
    double last_progress = check_now();
    while (__atomic_load_n(&delivered, __ATOMIC_SEQ_CST) < TOTAL) {
        /* Lost requests would make this loop forever: report them once
         * nothing at all has happened for a long time. */
        int now = __atomic_load_n(&delivered, __ATOMIC_SEQ_CST);
        if (now != last) {
            last = now;
            last_progress = check_now();
        } else if (check_now() - last_progress > 60) {
            fprintf(stderr, "no callback for 60 s: delivered %d of %d, nreqs %u nready %u npending %u\n",
                    now, TOTAL, evaio_ctx_nreqs(ctx), evaio_ctx_nready(ctx), evaio_ctx_npending(ctx));
            CHECK(!"every request is delivered");
        }
        errno = 0;
        int r = evaio_ctx_poll(ctx);
        CHECK(r == 0 || (r == -1 && errno == EAGAIN));
        if (r == 0) {
            struct pollfd p = { .fd = fd, .events = POLLIN };
            poll(&p, 1, 100);
        }
    }
    return NULL;
}

int main(void)
{
    ctx = evaio_ctx_new();
    CHECK(ctx != NULL);
    evaio_ctx_set_max_parallel(ctx, 4);
    evaio_ctx_set_max_idle(ctx, 4);
    evaio_ctx_set_max_poll_reqs(ctx, 64); /* exercise the EAGAIN path too */

    pthread_t poller_tid;
    CHECK_EQ(pthread_create(&poller_tid, NULL, poller, NULL), 0);
    pthread_t subs[NSUBMITTERS];
    for (size_t t = 0; t < NSUBMITTERS; t++)
        CHECK_EQ(pthread_create(&subs[t], NULL, submitter, (void *)(uintptr_t)t), 0);
    for (size_t t = 0; t < NSUBMITTERS; t++)
        CHECK_EQ(pthread_join(subs[t], NULL), 0);
    CHECK_EQ(pthread_join(poller_tid, NULL), 0);

    CHECK_EQ(delivered, TOTAL);
    for (size_t k = 0; k < TOTAL; k++)
        if (hits[k] != 1) {
            fprintf(stderr, "request %zu: callback ran %d times\n", k, hits[k]);
            CHECK_EQ(hits[k], 1);
        }
    CHECK_EQ(evaio_ctx_nreqs(ctx), 0);
    CHECK_EQ(evaio_ctx_nready(ctx), 0);
    CHECK_EQ(evaio_ctx_npending(ctx), 0);
    CHECK_EQ(evaio_ctx_poll(ctx), 0);
    CHECK_EQ(evaio_ctx_free(ctx), 0);
    return 0;
}
