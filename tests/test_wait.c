/* evaio_wait / evaio_ctx_wait: blocks until every outstanding request has run
 * its callback (including requests started by callbacks meanwhile), copes with
 * poll limits, and returns a callback's non-zero value. */
#include "check.h"

#include <pthread.h>

static evaio_ctx *ctx;

static pthread_mutex_t gate_mutex = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gate_cond = PTHREAD_COND_INITIALIZER;
static int gate_started, gate_open, gate_released_by_helper;

static int64_t gate_fn(evaio_req *req)
{
    (void)req;
    pthread_mutex_lock(&gate_mutex);
    gate_started++;
    pthread_cond_broadcast(&gate_cond);
    while (!gate_open)
        pthread_cond_wait(&gate_cond, &gate_mutex);
    pthread_mutex_unlock(&gate_mutex);
    return 0;
}

static void *opener_main(void *arg)
{
    (void)arg;
    /* Give the main thread time to block in wait (not needed for
     * correctness: wait must return only after the callback either way). */
    check_sleep(0.05);
    pthread_mutex_lock(&gate_mutex);
    gate_open = 1;
    gate_released_by_helper = 1;
    pthread_cond_broadcast(&gate_cond);
    pthread_mutex_unlock(&gate_mutex);
    return NULL;
}

static int calls;
static int gate_cb(evaio_req *req)
{
    CHECK_EQ(req->result, 0);
    pthread_mutex_lock(&gate_mutex);
    CHECK(gate_released_by_helper);
    pthread_mutex_unlock(&gate_mutex);
    calls++;
    return 0;
}

static int plain_cb(evaio_req *req)
{
    CHECK_EQ(req->result, 0);
    calls++;
    return 0;
}

/* Each callback starts a follow-up until the chain is `depth` long. */
static int chain_cb(evaio_req *req)
{
    CHECK_EQ(req->result, 0);
    calls++;
    intptr_t left = (intptr_t)req->data;
    if (left > 0)
        CHECK(evaio_ctx_busy(ctx, 0.002, 0, chain_cb, (void *)(left - 1)) != NULL);
    return 0;
}

static int stop_index = -1, stop_value;
static int stopping_cb(evaio_req *req)
{
    CHECK_EQ(req->result, 0);
    int me = calls++;
    (void)req;
    return me == stop_index ? stop_value : 0;
}

static void test_blocks_until_done(void)
{
    calls = 0;
    CHECK_EQ(evaio_ctx_wait(ctx), 0); /* nothing outstanding: returns at once */
    CHECK_EQ(calls, 0);

    /* A request held on a worker until a helper thread releases it: wait
     * returns only after its callback ran. */
    CHECK(evaio_ctx_custom(ctx, gate_fn, 0, gate_cb, NULL) != NULL);
    pthread_t helper;
    CHECK_EQ(pthread_create(&helper, NULL, opener_main, NULL), 0);
    CHECK_EQ(evaio_ctx_wait(ctx), 0);
    CHECK_EQ(calls, 1);
    CHECK_EQ(evaio_ctx_nreqs(ctx), 0);
    CHECK_EQ(pthread_join(helper, NULL), 0);

    /* A mix of durations, plus chains started from callbacks. */
    calls = 0;
    for (int i = 0; i < 10; i++)
        CHECK(evaio_ctx_busy(ctx, 0.001 * (i % 4), i % 9 - 4, plain_cb, NULL) != NULL);
    for (int i = 0; i < 3; i++)
        CHECK(evaio_ctx_nop(ctx, 0, chain_cb, (void *)(intptr_t)5) != NULL);
    CHECK_EQ(evaio_ctx_wait(ctx), 0);
    CHECK_EQ(calls, 10 + 3 * 6);
    CHECK_EQ(evaio_ctx_nreqs(ctx), 0);
    CHECK_EQ(evaio_ctx_npending(ctx), 0);

    /* Poll limits do not make wait give up early. */
    evaio_ctx_set_max_poll_reqs(ctx, 2);
    evaio_ctx_set_max_poll_time(ctx, 0.000001);
    calls = 0;
    for (int i = 0; i < 25; i++)
        CHECK(evaio_ctx_nop(ctx, 0, plain_cb, NULL) != NULL);
    CHECK_EVENTUALLY(evaio_ctx_npending(ctx) == 25); /* all waiting at once */
    CHECK_EQ(evaio_ctx_wait(ctx), 0);
    CHECK_EQ(calls, 25);
    CHECK_EQ(evaio_ctx_nreqs(ctx), 0);
    evaio_ctx_set_max_poll_reqs(ctx, 0);
    evaio_ctx_set_max_poll_time(ctx, 0);
}

static void test_returns_callback_value(void)
{
    calls = 0;
    stop_index = 2;
    stop_value = 7;
    for (int i = 0; i < 5; i++)
        CHECK(evaio_ctx_nop(ctx, 0, stopping_cb, NULL) != NULL);
    CHECK_EQ(evaio_ctx_wait(ctx), 7);
    CHECK_EQ(calls, 3);
    CHECK_EQ(evaio_ctx_nreqs(ctx), 2); /* the rest remain */
    stop_index = -1;
    CHECK_EQ(evaio_ctx_wait(ctx), 0);
    CHECK_EQ(calls, 5);
    CHECK_EQ(evaio_ctx_nreqs(ctx), 0);

    /* The value of a callback that runs after wait had to block. */
    calls = 0;
    stop_index = 0;
    stop_value = -3;
    CHECK(evaio_ctx_busy(ctx, 0.02, 0, stopping_cb, NULL) != NULL);
    CHECK_EQ(evaio_ctx_wait(ctx), -3);
    CHECK_EQ(calls, 1);
    CHECK_EQ(evaio_ctx_nreqs(ctx), 0);
    stop_index = -1;
}

static void test_default_context(void)
{
    calls = 0;
    CHECK_EQ(evaio_wait(), 0);
    for (int i = 0; i < 5; i++)
        CHECK(evaio_busy(0.001, 0, plain_cb, NULL) != NULL);
    evaio_req r;
    evaio_nop_init(&r, plain_cb, NULL);
    CHECK_EQ(evaio_start(&r), 0);
    CHECK_EQ(evaio_wait(), 0);
    CHECK_EQ(calls, 6);
    CHECK_EQ(evaio_nreqs(), 0);

    stop_index = 1;
    stop_value = 11;
    calls = 0;
    for (int i = 0; i < 3; i++)
        CHECK(evaio_nop(0, stopping_cb, NULL) != NULL);
    CHECK_EQ(evaio_wait(), 11);
    CHECK_EQ(evaio_nreqs(), 1);
    CHECK_EQ(evaio_wait(), 0);
    CHECK_EQ(calls, 3);
    stop_index = -1;
}

/* A callback's -1 is returned even when it leaves errno EAGAIN: only a poll
 * limit makes wait go on. */
static int minus_one_calls;
static int minus_one_cb(evaio_req *req)
{
    (void)req;
    if (minus_one_calls++ == 0) {
        errno = EAGAIN;
        return -1;
    }
    return 0;
}

static void test_callback_minus_one(void)
{
    minus_one_calls = 0;
    evaio_ctx_set_max_parallel(ctx, 1);
    evaio_ctx_set_max_poll_reqs(ctx, 1);
    for (int i = 0; i < 3; i++)
        CHECK(evaio_ctx_nop(ctx, 0, minus_one_cb, NULL) != NULL);
    CHECK_EQ(evaio_ctx_wait(ctx), -1);
    CHECK_EQ(minus_one_calls, 1);
    CHECK_EQ(evaio_ctx_wait(ctx), 0); /* the rest, across the poll limit */
    CHECK_EQ(minus_one_calls, 3);
    evaio_ctx_set_max_poll_reqs(ctx, 0);
    evaio_ctx_set_max_parallel(ctx, 3);
}

/* evaio_ctx_wait from inside a callback waits for the other requests, not
 * for the callbacks running around it. */
static int inner_calls, outer_saw_inner;
static int inner_cb(evaio_req *req)
{
    (void)req;
    inner_calls++;
    return 0;
}

static int outer_cb(evaio_req *req)
{
    (void)req;
    for (int i = 0; i < 5; i++)
        CHECK(evaio_ctx_busy(ctx, 0.01, 0, inner_cb, NULL) != NULL);
    CHECK_EQ(evaio_ctx_wait(ctx), 0);
    outer_saw_inner = inner_calls;
    return 0;
}

static void test_wait_in_callback(void)
{
    inner_calls = outer_saw_inner = 0;
    CHECK(evaio_ctx_nop(ctx, 0, outer_cb, NULL) != NULL);
    CHECK_EQ(evaio_ctx_wait(ctx), 0);
    CHECK_EQ(outer_saw_inner, 5);
    CHECK_EQ(evaio_ctx_nreqs(ctx), 0);
}

int main(void)
{
    ctx = evaio_ctx_new();
    CHECK(ctx != NULL);
    evaio_ctx_set_max_parallel(ctx, 3);
    test_blocks_until_done();
    test_returns_callback_value();
    test_callback_minus_one();
    test_wait_in_callback();
    CHECK_EQ(evaio_ctx_free(ctx), 0);
    test_default_context();
    return 0;
}
