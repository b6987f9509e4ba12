/* Per-operation tests for the operations that touch no file: nop, busy and
 * custom.  Every case runs through both API styles (the library-allocated
 * wrapper evaio_OP and the caller-owned evaio_OP_init + evaio_start) and
 * counts callbacks: exactly one each, on the polling thread. */
#include "check.h" /* first: it sets _GNU_SOURCE */
#include <math.h>
#include <pthread.h>

#define REC_OUTPUTS                                                                     \
    double cb_time;        /* when the callback ran */                                  \
    double busy_seconds;   /* busy: req->args.busy.seconds in the callback */
#include "op_harness.h"

static void rec_capture(struct rec *r, evaio_req *req)
{
    r->cb_time = check_now();
    if (req->type == EVAIO_OP_BUSY)
        r->busy_seconds = req->args.busy.seconds;
}

static void rec_reset_outputs(struct rec *r)
{
    r->cb_time = 0;
    r->busy_seconds = -12345;
}

/* ---- nop ---- */

static void do_nop(int style, struct rec *r)
{
    SUBMIT(style, r, evaio_nop(EVAIO_PRI_DEFAULT, rec_cb, r), evaio_nop_init(&r->own, rec_cb, r));
}

static void test_nop(int style)
{
    struct rec r = { 0 };
    begin("nop", style);
    do_nop(style, &r);
    expect_same(&r, EVAIO_OP_NOP, 0, 0);
    CHECK(strcmp(evaio_op_name(r.type), "nop") == 0);

    /* Several in a row through the same record. */
    for (int i = 0; i < 5; i++) {
        do_nop(style, &r);
        expect_same(&r, EVAIO_OP_NOP, 0, 0);
    }

    /* A NULL callback: the result is dropped, the request still completes. */
    if (style == WRAP) {
        CHECK(evaio_nop(EVAIO_PRI_DEFAULT, NULL, NULL) != NULL);
    } else {
        evaio_nop_init(&r.own, NULL, NULL);
        CHECK_EQ(evaio_start(&r.own), 0);
    }
    CHECK_EQ(evaio_wait(), 0);
    CHECK_EQ(evaio_nreqs(), 0);

    /* Out-of-range priorities are clamped, not refused. */
    rec_reset(&r);
    if (style == WRAP) {
        r.expect_req = evaio_nop(EVAIO_PRI_MAX + 100, rec_cb, &r);
        CHECK(r.expect_req != NULL);
    } else {
        evaio_nop_init(&r.own, rec_cb, &r);
        evaio_req_set_pri(&r.own, EVAIO_PRI_MIN - 100);
        CHECK_EQ(evaio_req_pri(&r.own), EVAIO_PRI_MIN);
        r.expect_req = &r.own;
        CHECK_EQ(evaio_start(&r.own), 0);
    }
    rec_wait(&r);
    expect_same(&r, EVAIO_OP_NOP, 0, 0);
    rec_reset(&r);
}

/* A caller-owned request in flight cannot be started again (EBUSY), and
 * still completes once. */
static void test_nop_double_start(void)
{
    struct rec r = { 0 };
    begin("nop started twice", INIT);
    rec_reset(&r);
    evaio_nop_init(&r.own, rec_cb, &r);
    r.expect_req = &r.own;
    CHECK_EQ(evaio_start(&r.own), 0);
    /* Its callback cannot have run yet: callbacks run only in our polls. */
    errno = 0;
    CHECK_EQ(evaio_start(&r.own), -1);
    CHECK_EQ(errno, EBUSY);
    rec_wait(&r);
    expect_same(&r, EVAIO_OP_NOP, 0, 0);
    /* Idle again: it may be started anew. */
    r.calls = 0;
    CHECK_EQ(evaio_start(&r.own), 0);
    rec_wait(&r);
    expect_same(&r, EVAIO_OP_NOP, 0, 0);
}

#define NMANY 600

static void test_nop_many(void)
{
    static struct rec recs[NMANY];
    begin("many nops, mixed styles and priorities", WRAP);
    for (int i = 0; i < NMANY; i++) {
        rec_reset(&recs[i]);
        int pri = (i % 9) + EVAIO_PRI_MIN;
        if (i % 2) {
            recs[i].expect_req = evaio_nop(pri, rec_cb, &recs[i]);
            CHECK(recs[i].expect_req != NULL);
        } else {
            evaio_nop_init(&recs[i].own, rec_cb, &recs[i]);
            evaio_req_set_pri(&recs[i].own, pri);
            recs[i].expect_req = &recs[i].own;
            CHECK_EQ(evaio_start(&recs[i].own), 0);
        }
    }
    CHECK_EQ(evaio_wait(), 0);
    CHECK_EQ(evaio_nreqs(), 0);
    CHECK_EQ(evaio_poll(), 0);
    for (int i = 0; i < NMANY; i++) {
        expect_same(&recs[i], EVAIO_OP_NOP, 0, 0);
        CHECK(recs[i].req_seen == recs[i].expect_req);
    }
}

/* ---- busy ---- */

static void do_busy(int style, struct rec *r, double secs)
{
    SUBMIT(style, r, evaio_busy(secs, EVAIO_PRI_DEFAULT, rec_cb, r),
           evaio_busy_init(&r->own, secs, rec_cb, r));
}

/* Sleeps at least the time asked (no upper bound: the machine may be slow). */
static void busy_at_least(int style, double secs)
{
    struct rec r = { 0 };
    double t0 = check_now();
    do_busy(style, &r, secs);
    double elapsed = r.cb_time - t0;
    fprintf(stderr, "   busy(%g): %.3f s\n", secs, elapsed);
    expect_same(&r, EVAIO_OP_BUSY, 0, 0);
    CHECK(r.busy_seconds == secs);
    CHECK(elapsed >= secs);
    CHECK(check_now() - t0 >= secs);
}

static void test_busy(int style)
{
    struct rec r = { 0 };
    begin("busy", style);
    busy_at_least(style, 0.125);
    busy_at_least(style, 1.0625); /* whole seconds and a fraction */

    /* Zero, negative and NaN count as 0: done, result 0. */
    do_busy(style, &r, 0);
    expect_same(&r, EVAIO_OP_BUSY, 0, 0);
    do_busy(style, &r, -5);
    expect_same(&r, EVAIO_OP_BUSY, 0, 0);
    CHECK(r.busy_seconds == -5);
    do_busy(style, &r, NAN);
    expect_same(&r, EVAIO_OP_BUSY, 0, 0);
    CHECK(isnan(r.busy_seconds));
    do_busy(style, &r, -INFINITY);
    expect_same(&r, EVAIO_OP_BUSY, 0, 0);
    rec_reset(&r);
}

/* Several at once: each still sleeps its full time, each called back once. */
static void test_busy_parallel(void)
{
    enum { N = 6 };
    static struct rec recs[N];
    static const double secs[N] = { 0.25, 0.125, 0.375, 0.0625, 0.25, 0.125 };
    begin("busy in parallel", WRAP);
    double t0 = check_now();
    for (int i = 0; i < N; i++) {
        rec_reset(&recs[i]);
        if (i % 2) {
            recs[i].expect_req = evaio_busy(secs[i], EVAIO_PRI_DEFAULT, rec_cb, &recs[i]);
            CHECK(recs[i].expect_req != NULL);
        } else {
            evaio_busy_init(&recs[i].own, secs[i], rec_cb, &recs[i]);
            recs[i].expect_req = &recs[i].own;
            CHECK_EQ(evaio_start(&recs[i].own), 0);
        }
    }
    CHECK_EQ(evaio_wait(), 0);
    CHECK_EQ(evaio_nreqs(), 0);
    for (int i = 0; i < N; i++) {
        expect_same(&recs[i], EVAIO_OP_BUSY, 0, 0);
        CHECK(recs[i].req_seen == recs[i].expect_req);
        CHECK(recs[i].cb_time - t0 >= secs[i]);
    }
}

/* ---- custom ---- */

struct custom_rec {
    struct rec r; /* first: the callback sees it through req->data */
    /* set by fn on the worker; read after the callback (ordered by the library) */
    int ran;
    pthread_t thread;
    evaio_req *seen;
    int seen_type;
    evaio_exec_fn seen_fn;
    /* what fn should do */
    int64_t ret;
    int err;
};

static int64_t custom_fn(evaio_req *req)
{
    struct custom_rec *c = req->data;
    c->ran++;
    c->thread = pthread_self();
    c->seen = req;
    c->seen_type = req->type;
    c->seen_fn = req->args.custom.fn;
    errno = c->err;
    return c->ret;
}

static void do_custom(int style, struct custom_rec *c, evaio_exec_fn fn)
{
    c->ran = 0;
    c->seen = NULL;
    c->seen_type = 0;
    c->seen_fn = NULL;
    struct rec *r = &c->r;
    SUBMIT(style, r, evaio_custom(fn, EVAIO_PRI_DEFAULT, rec_cb, c),
           evaio_custom_init(&r->own, fn, rec_cb, c));
}

static void custom_case(int style, int64_t ret, int err, int64_t want_result, int want_errno)
{
    struct custom_rec c = { 0 };
    c.ret = ret;
    c.err = err;
    do_custom(style, &c, custom_fn);
    expect_same(&c.r, EVAIO_OP_CUSTOM, want_result, want_errno);
    CHECK_EQ(c.ran, 1);
    CHECK(!pthread_equal(c.thread, main_thread)); /* ran on a worker */
    CHECK(c.seen == c.r.expect_req);
    CHECK_EQ(c.seen_type, EVAIO_OP_CUSTOM);
    CHECK(c.seen_fn == custom_fn);
}

static void test_custom(int style)
{
    begin("custom", style);
    /* The return value becomes result; errno only matters when negative. */
    custom_case(style, 42, 0, 42, 0);
    custom_case(style, 0, 0, 0, 0);
    custom_case(style, 0, EIO, 0, 0);
    custom_case(style, (int64_t)1 << 40, 0, (int64_t)1 << 40, 0);
    custom_case(style, -1, EPERM, -1, EPERM);
    custom_case(style, -1, ENOENT, -1, ENOENT);

    /* A NULL function: the wrapper refuses with EFAULT; a caller-owned
     * request fails through its callback with EFAULT. */
    struct custom_rec c = { 0 };
    do_custom(style, &c, NULL);
    CHECK_EQ(c.ran, 0);
    if (style == WRAP) {
        CHECK(c.r.rejected);
        CHECK_EQ(c.r.submit_errno, EFAULT);
        CHECK_EQ(c.r.calls, 0);
    } else {
        expect_same(&c.r, EVAIO_OP_CUSTOM, -1, EFAULT);
    }
}

/* A NULL function fails a caller-owned request in evaio_start, without
 * reaching a worker: on a fresh context no worker thread is started. */
static void test_custom_null_no_worker(void)
{
    begin("custom NULL fn fails without reaching a worker (fresh context)", INIT);
    evaio_ctx *ctx = evaio_ctx_new();
    CHECK(ctx != NULL);
    struct custom_rec c = { 0 };
    rec_reset(&c.r);
    evaio_custom_init(&c.r.own, NULL, rec_cb, &c);
    c.r.expect_req = &c.r.own;
    CHECK_EQ(evaio_ctx_start(ctx, &c.r.own), 0);
    CHECK_EQ(evaio_ctx_npending(ctx), 1);
    CHECK_EQ(evaio_ctx_nthreads(ctx), 0);
    CHECK_EQ(evaio_ctx_wait(ctx), 0);
    expect_same(&c.r, EVAIO_OP_CUSTOM, -1, EFAULT);
    CHECK(c.r.req_seen == &c.r.own);

    errno = 0;
    CHECK(evaio_ctx_custom(ctx, NULL, EVAIO_PRI_DEFAULT, rec_cb, &c) == NULL);
    CHECK_EQ(errno, EFAULT);
    CHECK_EQ(evaio_ctx_nreqs(ctx), 0);
    CHECK_EQ(evaio_ctx_wait(ctx), 0);
    CHECK_EQ(c.r.calls, 1);
    CHECK_EQ(evaio_ctx_nthreads(ctx), 0);
    CHECK_EQ(evaio_ctx_free(ctx), 0);
}

int main(void)
{
    main_thread = pthread_self();
    CHECK(evaio_default_ctx() != NULL);

    for (int style = WRAP; style <= INIT; style++) {
        test_nop(style);
        test_busy(style);
        test_custom(style);
    }
    test_custom_null_no_worker();
    test_nop_double_start();
    test_nop_many();
    test_busy_parallel();

    CHECK_EQ(evaio_wait(), 0);
    CHECK_EQ(evaio_nreqs(), 0);
    fprintf(stderr, "test_ops_misc: all passed\n");
    return 0;
}
