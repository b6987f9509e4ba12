/* Priorities: with one worker, queued requests execute highest priority
 * first and first-in first-out within a priority; out-of-range priorities
 * are clamped to -4..4; of the results waiting at one moment, higher
 * priorities are delivered first (completion order within a priority). */
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

int main(void)
{
    test_execution_order();
    test_clamping();
    test_delivery_order();
    return 0;
}
