/* The harness the per-operation tests share: one record per request, filled
 * by the callback; SUBMIT runs a case through either API style (the
 * library-allocated wrapper, or evaio_OP_init + evaio_start) and waits,
 * alternately with evaio_wait and with poll(2) on the poll fd, checking that
 * the callback ran exactly once, on the polling thread, with its request.
 *
 * Before including it, a test defines REC_OUTPUTS (the fields it copies out
 * of its requests) and declares rec_capture and rec_reset_outputs. */
#ifndef EVAIO_TEST_OP_HARNESS_H
#define EVAIO_TEST_OP_HARNESS_H

#include "check.h"

#include <poll.h>
#include <pthread.h>
#include <stdint.h>

enum { WRAP, INIT };
static const char *const style_names[] = { "wrapper", "init+start" };

static pthread_t main_thread; /* the polling thread; set first in main */

struct rec {
    int calls;             /* callbacks run */
    int rejected;          /* the wrapper returned NULL */
    int submit_errno;      /* errno after a rejected wrapper */
    int64_t result;
    int errorno;
    int type;
    evaio_req *expect_req; /* what the callback must be handed */
    evaio_req *req_seen;
    evaio_req own;         /* storage for the caller-owned style */
    REC_OUTPUTS            /* outputs, copied while the callback runs */
};

static void rec_capture(struct rec *r, evaio_req *req);
static void rec_reset_outputs(struct rec *r);

static int rec_cb(evaio_req *req)
{
    struct rec *r = req->data;
    CHECK(pthread_equal(pthread_self(), main_thread));
    CHECK(r != NULL);
    r->calls++;
    r->result = req->result;
    r->errorno = req->errorno;
    r->type = req->type;
    r->req_seen = req;
    CHECK(evaio_op_name(req->type) != NULL);
    if (req->result < 0 && req->type != EVAIO_OP_CUSTOM) /* custom returns what fn returns */
        CHECK_EQ(req->result, -1);
    CHECK(req->result < 0 ? req->errorno != 0 : req->errorno == 0);
    rec_capture(r, req);
    return 0;
}

static void rec_reset(struct rec *r)
{
    r->calls = r->rejected = r->submit_errno = 0;
    r->result = 12345;
    r->errorno = 12345;
    r->type = 0;
    r->expect_req = r->req_seen = NULL;
    rec_reset_outputs(r);
}

static void wait_by_polling(struct rec *r)
{
    int fd = evaio_poll_fd();
    CHECK(fd >= 0);
    while (!r->calls) {
        struct pollfd p = { .fd = fd, .events = POLLIN };
        int n = poll(&p, 1, 5000);
        if (n < 0) {
            CHECK_EQ(errno, EINTR);
            continue;
        }
        if (n == 0) {
            /* Results waiting must make the fd readable. */
            CHECK(evaio_ctx_npending(NULL) == 0 || poll(&p, 1, 0) == 1);
            continue;
        }
        CHECK_EQ(evaio_poll(), 0);
    }
}

static void rec_wait(struct rec *r)
{
    static unsigned turn;
    if (r->rejected) {
        CHECK_EQ(evaio_wait(), 0);
        CHECK_EQ(r->calls, 0);
    } else {
        if (turn++ % 2)
            wait_by_polling(r);
        else
            CHECK_EQ(evaio_wait(), 0);
        CHECK_EQ(r->calls, 1);
        CHECK(r->req_seen == r->expect_req);
    }
    CHECK_EQ(evaio_nreqs(), 0);
    /* Nothing more arrives later. */
    CHECK_EQ(evaio_poll(), 0);
    CHECK_EQ(r->calls, r->rejected ? 0 : 1);
}

#define SUBMIT(style, r, wrap_call, init_call)                                          \
    do {                                                                                \
        rec_reset(r);                                                                   \
        if ((style) == WRAP) {                                                          \
            errno = 0;                                                                  \
            (r)->expect_req = (wrap_call);                                              \
            (r)->submit_errno = errno;                                                  \
            (r)->rejected = (r)->expect_req == NULL;                                    \
        } else {                                                                        \
            init_call;                                                                  \
            (r)->expect_req = &(r)->own;                                                \
            CHECK_EQ(evaio_start(&(r)->own), 0);                                        \
        }                                                                               \
        rec_wait(r);                                                                    \
    } while (0)

/* The request ran, succeeded or not, with this result and errno. */
static void expect_same(const struct rec *r, int expect_type, int64_t result, int err)
{
    CHECK(!r->rejected);
    CHECK_EQ(r->calls, 1);
    CHECK_EQ(r->type, expect_type);
    CHECK_EQ(r->result, result);
    CHECK_EQ(r->errorno, result < 0 ? err : 0);
}

static inline void expect_fail(const struct rec *r, int expect_type, int err)
{
    expect_same(r, expect_type, -1, err);
}

static void begin(const char *what, int style)
{
    fprintf(stderr, "-- %s (%s)\n", what, style_names[style]);
}

#endif
