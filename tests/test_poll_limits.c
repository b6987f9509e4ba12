/* Poll limits and poll's return value: max_poll_reqs, max_poll_time (checked
 * after each callback), a callback's non-zero return stopping poll, and 0
 * when no result waits even though requests still execute. */
#include "check.h"

#include <pthread.h>

static int ncalls;      /* callbacks run so far */
static int stop_at = -1; /* the callback with this index returns stop_value */
static int stop_value;
static double cb_sleep; /* seconds each callback sleeps */
static unsigned char seen[64];

static int count_cb(evaio_req *req)
{
    int idx = (int)(intptr_t)req->data;
    CHECK(idx >= 0 && idx < 64);
    CHECK_EQ(seen[idx], 0); /* each callback exactly once */
    seen[idx] = 1;
    CHECK_EQ(req->result, 0);
    int me = ncalls++;
    if (cb_sleep > 0)
        check_sleep(cb_sleep);
    return me == stop_at ? stop_value : 0;
}

static void reset(void)
{
    ncalls = 0;
    stop_at = -1;
    stop_value = 0;
    cb_sleep = 0;
    memset(seen, 0, sizeof seen);
}

/* n nops, all completed and waiting when this returns. */
static void submit_waiting(evaio_ctx *ctx, int n)
{
    reset();
    for (int i = 0; i < n; i++)
        CHECK(evaio_ctx_nop(ctx, 0, count_cb, (void *)(intptr_t)i) != NULL);
    CHECK_EVENTUALLY(evaio_ctx_npending(ctx) == (unsigned)n);
}

static void check_all_seen(int n)
{
    for (int i = 0; i < n; i++)
        CHECK_EQ(seen[i], 1);
}

static void test_max_poll_reqs(evaio_ctx *ctx)
{
    evaio_ctx_set_max_poll_reqs(ctx, 3);

    /* 8 waiting: 3, 3, then the last 2 drain and poll says 0. */
    submit_waiting(ctx, 8);
    errno = 0;
    CHECK_EQ(evaio_ctx_poll(ctx), -1);
    CHECK_EQ(errno, EAGAIN);
    CHECK_EQ(ncalls, 3);
    CHECK_EQ(evaio_ctx_npending(ctx), 5);
    CHECK_EQ(evaio_ctx_nreqs(ctx), 5);
    errno = 0;
    CHECK_EQ(evaio_ctx_poll(ctx), -1);
    CHECK_EQ(errno, EAGAIN);
    CHECK_EQ(ncalls, 6);
    CHECK_EQ(evaio_ctx_poll(ctx), 0);
    CHECK_EQ(ncalls, 8);
    check_all_seen(8);
    CHECK_EQ(evaio_ctx_nreqs(ctx), 0);

    /* 6 waiting: the limit is reached exactly as the last one drains, so the
     * second poll says 0, not EAGAIN. */
    submit_waiting(ctx, 6);
    errno = 0;
    CHECK_EQ(evaio_ctx_poll(ctx), -1);
    CHECK_EQ(errno, EAGAIN);
    CHECK_EQ(ncalls, 3);
    CHECK_EQ(evaio_ctx_poll(ctx), 0);
    CHECK_EQ(ncalls, 6);
    CHECK_EQ(evaio_ctx_poll(ctx), 0); /* nothing left: no callback */
    CHECK_EQ(ncalls, 6);
    check_all_seen(6);

    /* Limit 1: one callback per call. */
    evaio_ctx_set_max_poll_reqs(ctx, 1);
    submit_waiting(ctx, 4);
    for (int i = 1; i <= 3; i++) {
        errno = 0;
        CHECK_EQ(evaio_ctx_poll(ctx), -1);
        CHECK_EQ(errno, EAGAIN);
        CHECK_EQ(ncalls, i);
    }
    CHECK_EQ(evaio_ctx_poll(ctx), 0);
    CHECK_EQ(ncalls, 4);

    /* Back to no limit: everything in one call. */
    evaio_ctx_set_max_poll_reqs(ctx, 0);
    submit_waiting(ctx, 20);
    CHECK_EQ(evaio_ctx_poll(ctx), 0);
    CHECK_EQ(ncalls, 20);
    check_all_seen(20);
    CHECK_EQ(evaio_ctx_nreqs(ctx), 0);
}

static void test_max_poll_time(evaio_ctx *ctx)
{
    /* Each callback takes 20 ms, longer than the 10 ms limit, and the time is
     * checked after each callback: every call runs exactly one. */
    evaio_ctx_set_max_poll_time(ctx, 0.01);
    submit_waiting(ctx, 4);
    cb_sleep = 0.02;
    for (int i = 1; i <= 3; i++) {
        errno = 0;
        CHECK_EQ(evaio_ctx_poll(ctx), -1);
        CHECK_EQ(errno, EAGAIN);
        CHECK_EQ(ncalls, i);
        CHECK_EQ(evaio_ctx_npending(ctx), 4 - i);
    }
    CHECK_EQ(evaio_ctx_poll(ctx), 0); /* the last one drains: 0, not EAGAIN */
    CHECK_EQ(ncalls, 4);
    check_all_seen(4);

    /* However small the limit, each call runs one callback before looking at
     * the clock (else a caller could never make progress). */
    evaio_ctx_set_max_poll_time(ctx, 1e-9);
    submit_waiting(ctx, 3);
    cb_sleep = 0.02;
    for (int i = 1; i <= 2; i++) {
        errno = 0;
        CHECK_EQ(evaio_ctx_poll(ctx), -1);
        CHECK_EQ(errno, EAGAIN);
        CHECK_EQ(ncalls, i);
    }
    CHECK_EQ(evaio_ctx_poll(ctx), 0);
    CHECK_EQ(ncalls, 3);

    /* A generous limit with fast callbacks: one call delivers everything. */
    evaio_ctx_set_max_poll_time(ctx, 3600);
    submit_waiting(ctx, 10);
    CHECK_EQ(evaio_ctx_poll(ctx), 0);
    CHECK_EQ(ncalls, 10);

    /* Both limits: whichever is hit first stops the call. */
    evaio_ctx_set_max_poll_time(ctx, 0.01);
    evaio_ctx_set_max_poll_reqs(ctx, 5);
    submit_waiting(ctx, 3);
    cb_sleep = 0.02;
    CHECK_EQ(evaio_ctx_poll(ctx), -1);
    CHECK_EQ(ncalls, 1);
    cb_sleep = 0;
    evaio_ctx_set_max_poll_time(ctx, 0);
    CHECK_EQ(evaio_ctx_poll(ctx), 0);
    CHECK_EQ(ncalls, 3);
    evaio_ctx_set_max_poll_reqs(ctx, 0);
    CHECK_EQ(evaio_ctx_nreqs(ctx), 0);
}

static void test_callback_stops_poll(evaio_ctx *ctx)
{
    submit_waiting(ctx, 6);
    stop_at = 1;
    stop_value = 42;
    CHECK_EQ(evaio_ctx_poll(ctx), 42);
    CHECK_EQ(ncalls, 2);
    CHECK_EQ(evaio_ctx_npending(ctx), 4);
    CHECK_EQ(evaio_ctx_nreqs(ctx), 4);
    CHECK_EQ(evaio_ctx_poll(ctx), 0); /* the rest are still delivered */
    CHECK_EQ(ncalls, 6);
    check_all_seen(6);

    /* A negative value is returned as is, too; and the stopping callback may
     * be the last one. */
    submit_waiting(ctx, 3);
    stop_at = 2;
    stop_value = -7;
    CHECK_EQ(evaio_ctx_poll(ctx), -7);
    CHECK_EQ(ncalls, 3);
    CHECK_EQ(evaio_ctx_poll(ctx), 0);
    CHECK_EQ(ncalls, 3);

    /* With a limit: the callback's value wins over EAGAIN. */
    evaio_ctx_set_max_poll_reqs(ctx, 2);
    submit_waiting(ctx, 5);
    stop_at = 1;
    stop_value = 9;
    CHECK_EQ(evaio_ctx_poll(ctx), 9);
    CHECK_EQ(ncalls, 2);
    errno = 0;
    CHECK_EQ(evaio_ctx_poll(ctx), -1);
    CHECK_EQ(errno, EAGAIN);
    CHECK_EQ(ncalls, 4);
    CHECK_EQ(evaio_ctx_poll(ctx), 0);
    CHECK_EQ(ncalls, 5);
    check_all_seen(5);
    evaio_ctx_set_max_poll_reqs(ctx, 0);
    CHECK_EQ(evaio_ctx_nreqs(ctx), 0);
}

/* A custom fn that holds its worker until released. */
static pthread_mutex_t gate_mutex = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gate_cond = PTHREAD_COND_INITIALIZER;
static int gate_started, gate_open;

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

static int gate_cb_calls;
static int gate_cb(evaio_req *req)
{
    (void)req;
    gate_cb_calls++;
    return 0;
}

static void test_zero_while_executing(evaio_ctx *ctx)
{
    reset();
    CHECK_EQ(evaio_ctx_poll(ctx), 0); /* nothing at all */

    evaio_ctx_set_max_poll_reqs(ctx, 1);
    CHECK(evaio_ctx_custom(ctx, gate_fn, 0, gate_cb, NULL) != NULL);
    pthread_mutex_lock(&gate_mutex);
    while (!gate_started)
        pthread_cond_wait(&gate_cond, &gate_mutex);
    pthread_mutex_unlock(&gate_mutex);

    /* Executing, not waiting: 0, not EAGAIN, not blocking. */
    errno = 0;
    CHECK_EQ(evaio_ctx_poll(ctx), 0);
    CHECK_EQ(evaio_ctx_nreqs(ctx), 1);
    CHECK_EQ(gate_cb_calls, 0);

    /* One finished while another executes: the limited poll delivers it and
     * says 0, because no result is left waiting. */
    CHECK(evaio_ctx_nop(ctx, 0, count_cb, (void *)(intptr_t)0) != NULL);
    CHECK_EVENTUALLY(evaio_ctx_npending(ctx) == 1);
    CHECK_EQ(evaio_ctx_poll(ctx), 0);
    CHECK_EQ(ncalls, 1);
    CHECK_EQ(evaio_ctx_nreqs(ctx), 1);

    pthread_mutex_lock(&gate_mutex);
    gate_open = 1;
    pthread_cond_broadcast(&gate_cond);
    pthread_mutex_unlock(&gate_mutex);
    CHECK_EVENTUALLY(evaio_ctx_npending(ctx) == 1);
    CHECK_EQ(evaio_ctx_poll(ctx), 0);
    CHECK_EQ(gate_cb_calls, 1);
    CHECK_EQ(evaio_ctx_nreqs(ctx), 0);
    evaio_ctx_set_max_poll_reqs(ctx, 0);
}

int main(void)
{
    evaio_ctx *ctx = evaio_ctx_new();
    CHECK(ctx != NULL);
    evaio_ctx_set_max_parallel(ctx, 4);
    test_max_poll_reqs(ctx);
    test_max_poll_time(ctx);
    test_callback_stops_poll(ctx);
    test_zero_while_executing(ctx);
    CHECK_EQ(evaio_ctx_free(ctx), 0);
    return 0;
}
