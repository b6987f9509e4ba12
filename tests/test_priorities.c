/* Priorities: with one worker, queued requests execute highest priority
 * first and first-in first-out within a priority; out-of-range priorities
 * are clamped to -4..4; of the results waiting at one moment, higher
 * priorities are delivered first (completion order within a priority).
 * The policy is strict (docs/architecture.md, "Strict priorities"): a
 * lower level does not run while any higher request is queued, however
 * long a stream of them lasts, and runs as soon as none is.  A priority
 * set while a request is in flight is ignored. */
#include "check.h"

#include <limits.h>
#include <pthread.h>

/* ---- a gate that holds the single worker until released ---------------- */

static pthread_mutex_t gate_mutex = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gate_cond = PTHREAD_COND_INITIALIZER;
static int gate_started, gate_open;

static int64_t gate_fn(evaio_req *req)
{
    (void)req;
    pthread_mutex_lock(&gate_mutex);
    gate_started = 1;
    pthread_cond_broadcast(&gate_cond);
    while (!gate_open)
        pthread_cond_wait(&gate_cond, &gate_mutex);
    pthread_mutex_unlock(&gate_mutex);
    return 0;
}

/* Occupies the context's only worker; returns once the gate fn runs there. */
static void block_worker(evaio_ctx *ctx)
{
    pthread_mutex_lock(&gate_mutex);
    gate_started = 0;
    gate_open = 0;
    pthread_mutex_unlock(&gate_mutex);
    CHECK(evaio_ctx_custom(ctx, gate_fn, EVAIO_PRI_MIN, NULL, NULL) != NULL);
    pthread_mutex_lock(&gate_mutex);
    while (!gate_started)
        pthread_cond_wait(&gate_cond, &gate_mutex);
    pthread_mutex_unlock(&gate_mutex);
}

static void release_worker(void)
{
    pthread_mutex_lock(&gate_mutex);
    gate_open = 1;
    pthread_cond_broadcast(&gate_cond);
    pthread_mutex_unlock(&gate_mutex);
}

/* ---- recording execution and delivery order ------------------------------ */

#define MAXITEMS 128

struct item {
    int id;  /* index into items[] */
    int pri; /* the priority asked for (may be out of range) */
};

static struct item items[MAXITEMS];
static evaio_req owned[MAXITEMS];
static int exec_order[MAXITEMS], nexec; /* written by the single worker */
static int cb_order[MAXITEMS], ncb;     /* written by the polling thread */

static int64_t record_fn(evaio_req *req)
{
    struct item *it = req->data;
    CHECK(nexec < MAXITEMS);
    exec_order[nexec++] = it->id;
    return it->id;
}

static int record_cb(evaio_req *req)
{
    struct item *it = req->data;
    CHECK_EQ(req->result, it->id);
    CHECK_EQ(req->errorno, 0);
    CHECK(ncb < MAXITEMS);
    cb_order[ncb++] = it->id;
    return 0;
}

static int nop_cb(evaio_req *req)
{
    struct item *it = req->data;
    CHECK_EQ(req->result, 0);
    CHECK(ncb < MAXITEMS);
    cb_order[ncb++] = it->id;
    return 0;
}

/* Submits items[id] as a custom request, alternating the two API styles. */
static void submit_custom(evaio_ctx *ctx, int id, int pri)
{
    items[id].id = id;
    items[id].pri = pri;
    if (id % 2 == 0) {
        evaio_req *r = evaio_ctx_custom(ctx, record_fn, pri, record_cb, &items[id]);
        CHECK(r != NULL);
        int want = pri < EVAIO_PRI_MIN ? EVAIO_PRI_MIN : pri > EVAIO_PRI_MAX ? EVAIO_PRI_MAX : pri;
        CHECK_EQ(evaio_req_pri(r), want); /* still queued: the worker is blocked */
    } else {
        evaio_custom_init(&owned[id], record_fn, record_cb, &items[id]);
        evaio_req_set_pri(&owned[id], pri);
        CHECK_EQ(evaio_ctx_start(ctx, &owned[id]), 0);
    }
}

static unsigned lcg_state = 12345;
static unsigned lcg(void)
{
    lcg_state = lcg_state * 1103515245u + 12345u;
    return (lcg_state >> 16) & 0x7fff;
}

static int clamp(int pri)
{
    return pri < EVAIO_PRI_MIN ? EVAIO_PRI_MIN : pri > EVAIO_PRI_MAX ? EVAIO_PRI_MAX : pri;
}

/* The expected order of ids 0..n-1 submitted in id order: by clamped
 * priority descending, then by id (submission order). */
static void expected_order(int n, int *out)
{
    int k = 0;
    for (int pri = EVAIO_PRI_MAX; pri >= EVAIO_PRI_MIN; pri--)
        for (int id = 0; id < n; id++)
            if (clamp(items[id].pri) == pri)
                out[k++] = id;
    CHECK_EQ(k, n);
}

static void check_order(const char *what, const int *got, int n)
{
    int want[MAXITEMS];
    expected_order(n, want);
    for (int i = 0; i < n; i++) {
        if (got[i] != want[i]) {
            fprintf(stderr, "%s order differs at position %d:\n  got: ", what, i);
            for (int j = 0; j < n; j++)
                fprintf(stderr, " %d(p%d)", got[j], items[got[j]].pri);
            fprintf(stderr, "\n want:");
            for (int j = 0; j < n; j++)
                fprintf(stderr, " %d(p%d)", want[j], items[want[j]].pri);
            fprintf(stderr, "\n");
        }
        CHECK_EQ(got[i], want[i]);
    }
}

/* ---- the tests ----------------------------------------------------------- */

/* 4 requests per level -4..4, queued in a scrambled order behind a blocked
 * worker: they run highest first, FIFO within a level. */
static void test_execution_order(void)
{
    evaio_ctx *ctx = evaio_ctx_new();
    CHECK(ctx != NULL);
    evaio_ctx_set_max_parallel(ctx, 1);
    block_worker(ctx);

    enum { PER_LEVEL = 4, N = PER_LEVEL * (EVAIO_PRI_MAX - EVAIO_PRI_MIN + 1) };
    int pris[N];
    for (int i = 0; i < N; i++)
        pris[i] = EVAIO_PRI_MIN + i / PER_LEVEL;
    for (int i = N - 1; i > 0; i--) { /* Fisher-Yates with a fixed seed */
        int j = (int)(lcg() % (unsigned)(i + 1));
        int t = pris[i];
        pris[i] = pris[j];
        pris[j] = t;
    }
    nexec = ncb = 0;
    for (int id = 0; id < N; id++)
        submit_custom(ctx, id, pris[id]);
    CHECK_EQ(evaio_ctx_nready(ctx), N);
    CHECK_EQ(evaio_ctx_nreqs(ctx), N + 1);
    CHECK_EQ(evaio_ctx_nthreads(ctx), 1); /* the premise: one worker */

    release_worker();
    CHECK_EQ(evaio_ctx_wait(ctx), 0);
    CHECK_EQ(nexec, N);
    CHECK_EQ(ncb, N);
    check_order("execution", exec_order, N);
    CHECK_EQ(evaio_ctx_nreqs(ctx), 0);
    CHECK_EQ(evaio_ctx_free(ctx), 0);
}

/* Out-of-range priorities behave exactly like the nearest bound: they join
 * the FIFO of level 4 (or -4) in submission order. */
static void test_clamping(void)
{
    evaio_req r;
    evaio_nop_init(&r, NULL, NULL);
    CHECK_EQ(evaio_req_pri(&r), EVAIO_PRI_DEFAULT);
    evaio_req_set_pri(&r, 100);
    CHECK_EQ(evaio_req_pri(&r), EVAIO_PRI_MAX);
    evaio_req_set_pri(&r, -100);
    CHECK_EQ(evaio_req_pri(&r), EVAIO_PRI_MIN);
    evaio_req_set_pri(&r, INT_MAX);
    CHECK_EQ(evaio_req_pri(&r), EVAIO_PRI_MAX);
    evaio_req_set_pri(&r, INT_MIN);
    CHECK_EQ(evaio_req_pri(&r), EVAIO_PRI_MIN);
    evaio_req_set_pri(&r, 5);
    CHECK_EQ(evaio_req_pri(&r), 4);
    evaio_req_set_pri(&r, -5);
    CHECK_EQ(evaio_req_pri(&r), -4);
    for (int p = EVAIO_PRI_MIN; p <= EVAIO_PRI_MAX; p++) {
        evaio_req_set_pri(&r, p);
        CHECK_EQ(evaio_req_pri(&r), p);
    }

    evaio_ctx *ctx = evaio_ctx_new();
    CHECK(ctx != NULL);
    evaio_ctx_set_max_parallel(ctx, 1);
    block_worker(ctx);
    nexec = ncb = 0;
    /* Unclamped, 100 and INT_MAX would overtake the earlier 4; and -4 would
     * overtake the earlier -100. */
    static const int pris[] = { 4, 100, 1000, 3, -100, -4, INT_MIN, INT_MAX, 0, -5, 5 };
    enum { N = sizeof pris / sizeof pris[0] };
    for (int id = 0; id < N; id++)
        submit_custom(ctx, id, pris[id]);
    CHECK_EQ(evaio_ctx_nready(ctx), N);
    release_worker();
    CHECK_EQ(evaio_ctx_wait(ctx), 0);
    CHECK_EQ(nexec, N);
    CHECK_EQ(ncb, N);
    check_order("clamped execution", exec_order, N);
    CHECK_EQ(evaio_ctx_free(ctx), 0);
}

/* Results that complete one by one in a scrambled priority order, all waiting
 * when poll is called: delivered highest priority first, in completion order
 * within a priority. */
static void test_delivery_order(void)
{
    evaio_ctx *ctx = evaio_ctx_new();
    CHECK(ctx != NULL);
    evaio_ctx_set_max_parallel(ctx, 2);

    enum { PER_LEVEL = 3, N = PER_LEVEL * (EVAIO_PRI_MAX - EVAIO_PRI_MIN + 1) + 2 };
    int pris[N];
    for (int i = 0; i < N - 2; i++)
        pris[i] = EVAIO_PRI_MIN + i / PER_LEVEL;
    pris[N - 2] = 50;  /* clamped to 4 */
    pris[N - 1] = -50; /* clamped to -4 */
    for (int i = N - 1; i > 0; i--) {
        int j = (int)(lcg() % (unsigned)(i + 1));
        int t = pris[i];
        pris[i] = pris[j];
        pris[j] = t;
    }
    ncb = 0;
    for (int id = 0; id < N; id++) {
        items[id].id = id;
        items[id].pri = pris[id];
        if (id % 2) {
            CHECK(evaio_ctx_nop(ctx, pris[id], nop_cb, &items[id]) != NULL);
        } else {
            evaio_nop_init(&owned[id], nop_cb, &items[id]);
            evaio_req_set_pri(&owned[id], pris[id]);
            CHECK_EQ(evaio_ctx_start(ctx, &owned[id]), 0);
        }
        /* Completed before the next one is submitted: completion order is
         * submission order. */
        CHECK_EVENTUALLY(evaio_ctx_npending(ctx) == (unsigned)id + 1);
    }
    CHECK_EQ(ncb, 0);
    CHECK_EQ(evaio_ctx_poll(ctx), 0);
    CHECK_EQ(ncb, N);
    check_order("delivery", cb_order, N);
    CHECK_EQ(evaio_ctx_nreqs(ctx), 0);
    CHECK_EQ(evaio_ctx_free(ctx), 0);
}

/* ---- strict priority: a stream of higher requests starves lower ones ------ */

/* Requests that record when they run and wait there until released. */
struct hold {
    int id;
    int released; /* under hold_mutex */
    int started;  /* under hold_mutex */
    int ncb;      /* polling thread */
    int64_t result;
    evaio_req own;
    evaio_req *req;
};

static pthread_mutex_t hold_mutex = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t hold_cond = PTHREAD_COND_INITIALIZER;
static int hold_log[MAXITEMS], nhold_log; /* execution order, under hold_mutex */

static int64_t hold_fn(evaio_req *req)
{
    struct hold *h = req->data;
    pthread_mutex_lock(&hold_mutex);
    CHECK(nhold_log < MAXITEMS);
    hold_log[nhold_log++] = h->id;
    h->started = 1;
    pthread_cond_broadcast(&hold_cond);
    while (!h->released)
        pthread_cond_wait(&hold_cond, &hold_mutex);
    pthread_mutex_unlock(&hold_mutex);
    return h->id;
}

static void hold_release(struct hold *h)
{
    pthread_mutex_lock(&hold_mutex);
    h->released = 1;
    pthread_cond_broadcast(&hold_cond);
    pthread_mutex_unlock(&hold_mutex);
}

static void hold_wait_started(struct hold *h)
{
    pthread_mutex_lock(&hold_mutex);
    while (!h->started)
        pthread_cond_wait(&hold_cond, &hold_mutex);
    pthread_mutex_unlock(&hold_mutex);
}

static int hold_nlog(void)
{
    pthread_mutex_lock(&hold_mutex);
    int n = nhold_log;
    pthread_mutex_unlock(&hold_mutex);
    return n;
}

static int hold_cb(evaio_req *req);

/* Through a wrapper, or caller-owned with evaio_req_set_pri. */
static void hold_submit(evaio_ctx *ctx, struct hold *h, int id, int pri, int released, int wrapper)
{
    memset(h, 0, sizeof *h);
    h->id = id;
    h->released = released;
    if (wrapper) {
        h->req = evaio_ctx_custom(ctx, hold_fn, pri, hold_cb, h);
        CHECK(h->req != NULL);
    } else {
        evaio_custom_init(&h->own, hold_fn, hold_cb, h);
        evaio_req_set_pri(&h->own, pri);
        h->req = &h->own;
        CHECK_EQ(evaio_ctx_start(ctx, h->req), 0);
    }
}

/* The stream: N_HIGH requests at level 4, then N_MID at level 1; each one's
 * callback submits the one after next, while the worker runs the next. */
enum { N_HIGH = 30, N_MID = 30, N_STREAM = N_HIGH + N_MID, LOW_BASE = 1000 };
static struct hold stream[N_STREAM];
static evaio_ctx *stream_ctx;

static int stream_pri(int k)
{
    return k < N_HIGH ? 4 : 1;
}

static int hold_cb(evaio_req *req)
{
    struct hold *h = req->data;
    CHECK(req == h->req);
    h->ncb++;
    h->result = req->result;
    CHECK_EQ(req->errorno, 0);
    if (h >= stream && h < stream + N_STREAM) {
        int k = (int)(h - stream);
        if (k + 2 < N_STREAM)
            hold_submit(stream_ctx, &stream[k + 2], k + 2, stream_pri(k + 2), 0, k % 2);
    }
    return 0;
}

static void test_strict_starvation(void)
{
    evaio_ctx *ctx = stream_ctx = evaio_ctx_new();
    CHECK(ctx != NULL);
    evaio_ctx_set_max_parallel(ctx, 1);
    pthread_mutex_lock(&hold_mutex);
    nhold_log = 0;
    pthread_mutex_unlock(&hold_mutex);

    /* The worker holds stream[0]; behind it wait three lower requests, at
     * levels 0, -4, -4 (those two FIFO), and stream[1]. */
    static struct hold low[3];
    hold_submit(ctx, &stream[0], 0, stream_pri(0), 0, 0);
    hold_wait_started(&stream[0]);
    CHECK_EQ(evaio_ctx_nthreads(ctx), 1);
    hold_submit(ctx, &low[0], LOW_BASE + 1, -4, 1, 1);
    hold_submit(ctx, &low[1], LOW_BASE + 0, 0, 1, 0);
    hold_submit(ctx, &low[2], LOW_BASE + 3, -4, 1, 0);
    hold_submit(ctx, &stream[1], 1, stream_pri(1), 0, 1);

    for (int k = 0; k < N_STREAM; k++) {
        /* stream[k] runs; stream[k+1] is queued above the three others. */
        CHECK_EQ(hold_nlog(), k + 1);
        CHECK_EQ(evaio_ctx_nready(ctx), 3 + (k + 1 < N_STREAM));
        hold_release(&stream[k]);
        if (k + 1 < N_STREAM) {
            hold_wait_started(&stream[k + 1]);
            /* The worker chose the higher request over all three. */
            CHECK_EQ(hold_nlog(), k + 2);
            CHECK_EQ(hold_log[k + 1], k + 1);
        }
        /* stream[k]'s callback queues stream[k+2], while stream[k+1] keeps
         * the worker busy. */
        while (stream[k].ncb == 0)
            CHECK_EQ(evaio_ctx_poll(ctx), 0);
        CHECK_EQ(stream[k].result, k);
    }
    /* No higher request is queued any more: the lower ones run at once, in
     * level order, without anything else happening. */
    CHECK_EVENTUALLY(hold_nlog() == N_STREAM + 3);
    CHECK_EQ(evaio_ctx_nready(ctx), 0);
    for (int k = 0; k < N_STREAM; k++)
        CHECK_EQ(hold_log[k], k);
    CHECK_EQ(hold_log[N_STREAM + 0], LOW_BASE + 0); /* level 0 */
    CHECK_EQ(hold_log[N_STREAM + 1], LOW_BASE + 1); /* level -4, first in */
    CHECK_EQ(hold_log[N_STREAM + 2], LOW_BASE + 3); /* level -4, second in */
    CHECK_EQ(evaio_ctx_wait(ctx), 0);
    for (int i = 0; i < 3; i++)
        CHECK_EQ(low[i].ncb, 1);
    for (int k = 0; k < N_STREAM; k++)
        CHECK_EQ(stream[k].ncb, 1);
    CHECK_EQ(evaio_ctx_nreqs(ctx), 0);
    CHECK_EQ(evaio_ctx_free(ctx), 0);
}

/* A request one level higher wins just the same: the stream is one level
 * above the waiting one, at every level pair. */
static void test_strict_adjacent_levels(void)
{
    for (int pri = EVAIO_PRI_MIN; pri < EVAIO_PRI_MAX; pri++) {
        evaio_ctx *ctx = evaio_ctx_new();
        CHECK(ctx != NULL);
        evaio_ctx_set_max_parallel(ctx, 1);
        pthread_mutex_lock(&hold_mutex);
        nhold_log = 0;
        pthread_mutex_unlock(&hold_mutex);
        static struct hold h[4], lowly;
        hold_submit(ctx, &h[0], 0, pri + 1, 0, 1);
        hold_wait_started(&h[0]);
        hold_submit(ctx, &lowly, LOW_BASE + 1, pri, 1, pri % 2 != 0);
        for (int k = 0; k < 3; k++) {
            hold_submit(ctx, &h[k + 1], k + 1, pri + 1, 0, k % 2);
            hold_release(&h[k]);
            hold_wait_started(&h[k + 1]);
            CHECK_EQ(hold_nlog(), k + 2);
            CHECK_EQ(hold_log[k + 1], k + 1); /* not the lower one */
        }
        hold_release(&h[3]);
        CHECK_EVENTUALLY(hold_nlog() == 5);
        CHECK_EQ(hold_log[4], LOW_BASE + 1);
        CHECK_EQ(evaio_ctx_wait(ctx), 0);
        CHECK_EQ(evaio_ctx_free(ctx), 0);
    }
}

/* evaio_req_set_pri on a request in flight is ignored: it keeps its level
 * and its place; once its callback has run, the priority can change. */
static int64_t id_fn(evaio_req *req)
{
    struct item *it = req->data;
    pthread_mutex_lock(&hold_mutex);
    CHECK(nhold_log < MAXITEMS);
    hold_log[nhold_log++] = it->id;
    pthread_mutex_unlock(&hold_mutex);
    return it->id;
}

static int id_cb(evaio_req *req)
{
    struct item *it = req->data;
    CHECK_EQ(req->result, it->id);
    return 0;
}

static void test_set_pri_in_flight(void)
{
    evaio_ctx *ctx = evaio_ctx_new();
    CHECK(ctx != NULL);
    evaio_ctx_set_max_parallel(ctx, 1);
    pthread_mutex_lock(&hold_mutex);
    nhold_log = 0;
    pthread_mutex_unlock(&hold_mutex);
    block_worker(ctx);
    items[0].id = 0;
    items[1].id = 1;
    evaio_custom_init(&owned[0], id_fn, id_cb, &items[0]);
    evaio_req_set_pri(&owned[0], -4);
    CHECK_EQ(evaio_ctx_start(ctx, &owned[0]), 0);
    evaio_custom_init(&owned[1], id_fn, id_cb, &items[1]);
    evaio_req_set_pri(&owned[1], 0);
    CHECK_EQ(evaio_ctx_start(ctx, &owned[1]), 0);
    evaio_req_set_pri(&owned[0], 4); /* queued: ignored */
    CHECK_EQ(evaio_req_pri(&owned[0]), -4);
    release_worker();
    CHECK_EQ(evaio_ctx_wait(ctx), 0);
    pthread_mutex_lock(&hold_mutex);
    CHECK_EQ(nhold_log, 2);
    CHECK_EQ(hold_log[0], 1);
    CHECK_EQ(hold_log[1], 0);
    nhold_log = 0;
    pthread_mutex_unlock(&hold_mutex);
    /* After its callback: takes effect. */
    evaio_req_set_pri(&owned[0], 4);
    CHECK_EQ(evaio_req_pri(&owned[0]), 4);
    block_worker(ctx);
    CHECK_EQ(evaio_ctx_start(ctx, &owned[1]), 0); /* level 0 */
    CHECK_EQ(evaio_ctx_start(ctx, &owned[0]), 0); /* level 4: overtakes */
    release_worker();
    CHECK_EQ(evaio_ctx_wait(ctx), 0);
    pthread_mutex_lock(&hold_mutex);
    CHECK_EQ(nhold_log, 2);
    CHECK_EQ(hold_log[0], 0);
    CHECK_EQ(hold_log[1], 1);
    pthread_mutex_unlock(&hold_mutex);
    CHECK_EQ(evaio_ctx_free(ctx), 0);
}

static const struct {
    const char *name;
    void (*fn)(void);
} tests[] = {
    { "execution_order", test_execution_order },
    { "clamping", test_clamping },
    { "delivery_order", test_delivery_order },
    { "strict_starvation", test_strict_starvation },
    { "strict_adjacent_levels", test_strict_adjacent_levels },
    { "set_pri_in_flight", test_set_pri_in_flight },
};

/* No argument: every test; otherwise the named ones. */
int main(int argc, char **argv)
{
    for (size_t t = 0; t < sizeof tests / sizeof tests[0]; t++) {
        int run = argc < 2;
        for (int a = 1; a < argc; a++)
            run |= strcmp(argv[a], tests[t].name) == 0;
        if (run)
            tests[t].fn();
    }
    return 0;
}
