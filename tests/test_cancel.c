/* Cancellation: a request that has not started never executes and its
 * callback reports -1 / ECANCELED (evaio_cancel returns 1); one that is
 * executing, or whose result waits, is only marked (returns 0) and its
 * callback sees the real result; every callback runs exactly once; the
 * errors (NULL, not in flight, from its own callback); restarting after a
 * cancel; the counters after thousands of random cancels; and cancelling
 * from another thread while requests start, run and complete.
 *
 * Nothing here depends on timing: a request is held "not started" behind a
 * context whose single worker is blocked in a custom op on a gate the test
 * opens, and held "executing" by blocking it on a gate the same way. */
#include "check.h"

#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <sys/stat.h>

/* ---- gates: hold a worker inside a custom op until the test opens them -- */

struct gate {
    pthread_mutex_t m;
    pthread_cond_t c;
    int started; /* the op reached the gate on a worker */
    int open;
};

static void gate_init(struct gate *g)
{
    pthread_mutex_init(&g->m, NULL);
    pthread_cond_init(&g->c, NULL);
    g->started = g->open = 0;
}

static void gate_destroy(struct gate *g)
{
    pthread_mutex_destroy(&g->m);
    pthread_cond_destroy(&g->c);
}

static void gate_pass(struct gate *g) /* on a worker */
{
    pthread_mutex_lock(&g->m);
    g->started = 1;
    pthread_cond_broadcast(&g->c);
    while (!g->open)
        pthread_cond_wait(&g->c, &g->m);
    pthread_mutex_unlock(&g->m);
}

static void gate_wait_started(struct gate *g)
{
    pthread_mutex_lock(&g->m);
    while (!g->started)
        pthread_cond_wait(&g->c, &g->m);
    pthread_mutex_unlock(&g->m);
}

static void gate_open(struct gate *g)
{
    pthread_mutex_lock(&g->m);
    g->open = 1;
    pthread_cond_broadcast(&g->c);
    pthread_mutex_unlock(&g->m);
}

/* ---- recorded requests ----------------------------------------------------- */

/* One request's story: whether its op ran, and what its callback saw. */
struct rec {
    int64_t value;     /* what the op returns when it runs */
    struct gate *gate; /* the op waits here when set */
    int ran;           /* atomic: the op executed */
    int ncb;           /* callbacks run (polling thread) */
    int64_t result;
    int errorno;
    int cancelled;     /* evaio_req_cancelled in the callback */
    int live;          /* started, callback not yet run */
    int wrapper;
    evaio_req *req;    /* the request (a wrapper's is freed after its callback) */
    evaio_req own;     /* storage of a caller-owned request */
    int cancel_in_cb;  /* evaio_cancel(req) from inside its callback (-1 ... */
    int cancel_in_cb_errno; /* ... EINVAL: the callback has begun) */
};

static int64_t rec_fn(evaio_req *req)
{
    struct rec *r = req->data;
    __atomic_store_n(&r->ran, 1, __ATOMIC_SEQ_CST);
    if (r->gate)
        gate_pass(r->gate);
    return r->value;
}

static int rec_cb(evaio_req *req)
{
    struct rec *r = req->data;
    r->ncb++;
    r->live = 0;
    r->result = req->result;
    r->errorno = req->errorno;
    r->cancelled = evaio_req_cancelled(req);
    CHECK(r->req == req);
    /* The callback has begun: the request is no longer in flight. */
    errno = 0;
    r->cancel_in_cb = evaio_cancel(req);
    r->cancel_in_cb_errno = errno;
    return 0;
}

static void rec_reset(struct rec *r, int64_t value, struct gate *gate, int wrapper)
{
    memset(r, 0, sizeof *r);
    r->value = value;
    r->gate = gate;
    r->wrapper = wrapper;
}

static evaio_req *rec_submit(evaio_ctx *ctx, struct rec *r, int pri)
{
    r->live = 1;
    if (r->wrapper) {
        r->req = evaio_ctx_custom(ctx, rec_fn, pri, rec_cb, r);
        CHECK(r->req != NULL);
    } else {
        evaio_custom_init(&r->own, rec_fn, rec_cb, r);
        evaio_req_set_pri(&r->own, pri);
        r->req = &r->own;
        CHECK_EQ(evaio_ctx_start(ctx, r->req), 0);
    }
    return r->req;
}

static int rec_ran(struct rec *r)
{
    return __atomic_load_n(&r->ran, __ATOMIC_SEQ_CST);
}

/* Once, from the callback, as cancelled-before-start. */
static void check_cancelled_unstarted(struct rec *r)
{
    CHECK_EQ(rec_ran(r), 0);
    CHECK_EQ(r->ncb, 1);
    CHECK_EQ(r->result, -1);
    CHECK_EQ(r->errorno, ECANCELED);
    CHECK_EQ(r->cancelled, 1);
    CHECK_EQ(r->cancel_in_cb, -1);
    CHECK_EQ(r->cancel_in_cb_errno, EINVAL);
}

/* Once, from the callback, with the real result. */
static void check_ran(struct rec *r, int marked)
{
    CHECK_EQ(rec_ran(r), 1);
    CHECK_EQ(r->ncb, 1);
    CHECK_EQ(r->result, r->value);
    CHECK_EQ(r->errorno, 0);
    CHECK_EQ(r->cancelled, marked);
    CHECK_EQ(r->cancel_in_cb, -1);
    CHECK_EQ(r->cancel_in_cb_errno, EINVAL);
}

/* A context whose single worker is held in a gate op. */
static evaio_ctx *blocked_ctx(struct gate *g)
{
    evaio_ctx *ctx = evaio_ctx_new();
    CHECK(ctx != NULL);
    evaio_ctx_set_max_parallel(ctx, 1);
    gate_init(g);
    static struct rec blocker;
    rec_reset(&blocker, 0, g, 1);
    rec_submit(ctx, &blocker, EVAIO_PRI_MAX);
    gate_wait_started(g);
    CHECK_EQ(evaio_ctx_nthreads(ctx), 1);
    return ctx;
}

static void finish_ctx(evaio_ctx *ctx)
{
    CHECK_EQ(evaio_ctx_wait(ctx), 0);
    CHECK_EQ(evaio_ctx_nreqs(ctx), 0);
    CHECK_EQ(evaio_ctx_nready(ctx), 0);
    CHECK_EQ(evaio_ctx_npending(ctx), 0);
    CHECK_EQ(evaio_ctx_free(ctx), 0);
}

/* ---- not started ------------------------------------------------------------ */

static int open_ncb;
static int64_t open_result;
static int open_errno, open_cancelled;
static int open_cb(evaio_req *req)
{
    open_ncb++;
    open_result = req->result;
    open_errno = req->errorno;
    open_cancelled = evaio_req_cancelled(req);
    if (req->result >= 0)
        close((int)req->result);
    return 0;
}

static void test_not_started(void)
{
    struct gate g;
    evaio_ctx *ctx = blocked_ctx(&g);

    /* a0 a1 a2 b0 b1 b2 c0 c1, alternating wrapper and caller-owned; the
     * b's are cancelled out of the middle of the FIFO. */
    enum { N = 8 };
    static struct rec r[N];
    for (int i = 0; i < N; i++) {
        rec_reset(&r[i], 100 + i, NULL, i % 2);
        rec_submit(ctx, &r[i], 0);
    }
    CHECK_EQ(evaio_ctx_nready(ctx), N);
    CHECK_EQ(evaio_ctx_nreqs(ctx), N + 1);

    for (int i = 3; i < 6; i++) {
        errno = 0;
        CHECK_EQ(evaio_cancel(r[i].req), 1);
        CHECK_EQ(evaio_req_cancelled(r[i].req), 1);
    }
    /* Off the request queue at once, its result waiting; still outstanding. */
    CHECK_EQ(evaio_ctx_nready(ctx), N - 3);
    CHECK_EQ(evaio_ctx_npending(ctx), 3);
    CHECK_EQ(evaio_ctx_nreqs(ctx), N + 1);
    /* Delivered without the worker. */
    CHECK_EQ(evaio_ctx_poll(ctx), 0);
    for (int i = 3; i < 6; i++)
        check_cancelled_unstarted(&r[i]);
    for (int i = 0; i < N; i++)
        if (i < 3 || i >= 6)
            CHECK_EQ(r[i].ncb, 0);
    CHECK_EQ(evaio_ctx_nreqs(ctx), N - 3 + 1);

    /* An open queued and cancelled creates no file: wrapper and caller-owned. */
    char p1[4096], p2[4096];
    snprintf(p1, sizeof p1, "%s", check_path("never-created-1"));
    snprintf(p2, sizeof p2, "%s", check_path("never-created-2"));
    open_ncb = 0;
    evaio_req *o1 = evaio_ctx_open(ctx, p1, O_WRONLY | O_CREAT | O_EXCL, 0600, 0, open_cb, NULL);
    CHECK(o1 != NULL);
    evaio_req o2;
    evaio_open_init(&o2, p2, O_WRONLY | O_CREAT | O_EXCL, 0600, open_cb, NULL);
    CHECK_EQ(evaio_ctx_start(ctx, &o2), 0);
    CHECK_EQ(evaio_cancel(o1), 1);
    CHECK_EQ(evaio_cancel(&o2), 1);

    gate_open(&g);
    CHECK_EQ(evaio_ctx_wait(ctx), 0);
    for (int i = 0; i < N; i++) {
        if (i >= 3 && i < 6)
            check_cancelled_unstarted(&r[i]); /* still: never ran, one callback */
        else
            check_ran(&r[i], 0);
    }
    CHECK_EQ(open_ncb, 2);
    CHECK_EQ(open_result, -1);
    CHECK_EQ(open_errno, ECANCELED);
    CHECK_EQ(open_cancelled, 1);
    CHECK(access(p1, F_OK) < 0 && errno == ENOENT);
    CHECK(access(p2, F_OK) < 0 && errno == ENOENT);
    finish_ctx(ctx);
    gate_destroy(&g);
}

/* ---- executing ------------------------------------------------------------- */

static void test_executing(void)
{
    for (int wrapper = 0; wrapper < 2; wrapper++) {
        evaio_ctx *ctx = evaio_ctx_new();
        CHECK(ctx != NULL);
        evaio_ctx_set_max_parallel(ctx, 1);
        struct gate g;
        gate_init(&g);
        static struct rec r;
        rec_reset(&r, 4242, &g, wrapper);
        evaio_req *req = rec_submit(ctx, &r, 0);
        gate_wait_started(&g);
        CHECK_EQ(evaio_ctx_nready(ctx), 0);
        CHECK_EQ(evaio_cancel(req), 0);
        CHECK_EQ(evaio_req_cancelled(req), 1);
        CHECK_EQ(evaio_cancel(req), 0); /* twice: harmless, the same answer */
        CHECK_EQ(evaio_ctx_npending(ctx), 0); /* nothing was delivered early */
        CHECK_EQ(evaio_ctx_poll(ctx), 0);
        CHECK_EQ(r.ncb, 0);
        gate_open(&g);
        CHECK_EQ(evaio_ctx_wait(ctx), 0);
        check_ran(&r, 1);
        finish_ctx(ctx);
        gate_destroy(&g);
    }
}

static int count_open_fds(void)
{
    int n = 0;
    for (int fd = 0; fd < 4096; fd++)
        if (fcntl(fd, F_GETFD) != -1)
            n++;
    return n;
}

static int fifo_fd = -1;
static int fifo_cb(evaio_req *req)
{
    open_ncb++;
    open_result = req->result;
    open_errno = req->errorno;
    open_cancelled = evaio_req_cancelled(req);
    fifo_fd = (int)req->result;
    return 0;
}

/* An open blocked in the kernel (a FIFO with no writer yet) is cancelled:
 * the callback still gets the descriptor, which the caller closes. */
static void test_open_executing(void)
{
    char path[4096];
    snprintf(path, sizeof path, "%s", check_path("fifo"));
    CHECK_EQ(mkfifo(path, 0600), 0);
    int before = count_open_fds();

    for (int wrapper = 0; wrapper < 2; wrapper++) {
        evaio_ctx *ctx = evaio_ctx_new();
        CHECK(ctx != NULL);
        evaio_ctx_set_max_parallel(ctx, 1);
        int base = count_open_fds(); /* with the context's own fds */
        open_ncb = 0;
        fifo_fd = -1;
        evaio_req own, *req = &own;
        if (wrapper) {
            req = evaio_ctx_open(ctx, path, O_RDONLY, 0, 0, fifo_cb, NULL);
            CHECK(req != NULL);
        } else {
            evaio_open_init(&own, path, O_RDONLY, 0, fifo_cb, NULL);
            CHECK_EQ(evaio_ctx_start(ctx, &own), 0);
        }
        /* Taken by the worker (off the request queue, no result yet): it
         * is executing, and stays so until a writer opens the FIFO. */
        CHECK_EVENTUALLY(evaio_ctx_nready(ctx) == 0);
        CHECK_EQ(evaio_ctx_npending(ctx), 0);
        CHECK_EQ(evaio_cancel(req), 0);
        int w = open(path, O_WRONLY); /* meets the reader */
        CHECK(w >= 0);
        CHECK_EQ(evaio_ctx_wait(ctx), 0);
        CHECK_EQ(open_ncb, 1);
        CHECK_EQ(open_errno, 0);
        CHECK_EQ(open_cancelled, 1);
        CHECK(fifo_fd >= 0);
        struct stat st;
        CHECK_EQ(fstat(fifo_fd, &st), 0);
        CHECK(S_ISFIFO(st.st_mode));
        CHECK(fcntl(fifo_fd, F_GETFD) & FD_CLOEXEC);
        CHECK_EQ(count_open_fds(), base + 2); /* the writer and the delivered fd */
        CHECK_EQ(close(fifo_fd), 0);
        CHECK_EQ(close(w), 0);
        CHECK_EQ(count_open_fds(), base);
        finish_ctx(ctx);
    }
    CHECK_EQ(count_open_fds(), before);
}

/* ---- finished, result waiting --------------------------------------------- */

static void test_result_waiting(void)
{
    evaio_ctx *ctx = evaio_ctx_new();
    CHECK(ctx != NULL);
    static struct rec r[2];
    for (int wrapper = 0; wrapper < 2; wrapper++) {
        rec_reset(&r[wrapper], 31 + wrapper, NULL, wrapper);
        rec_submit(ctx, &r[wrapper], 0);
        CHECK_EVENTUALLY(evaio_ctx_npending(ctx) == (unsigned)wrapper + 1);
    }
    for (int i = 0; i < 2; i++) {
        CHECK_EQ(rec_ran(&r[i]), 1);
        CHECK_EQ(evaio_cancel(r[i].req), 0);
        CHECK_EQ(evaio_cancel(r[i].req), 0);
        CHECK_EQ(evaio_req_cancelled(r[i].req), 1);
    }
    CHECK_EQ(evaio_ctx_npending(ctx), 2);
    CHECK_EQ(evaio_ctx_poll(ctx), 0);
    for (int i = 0; i < 2; i++)
        check_ran(&r[i], 1);
    finish_ctx(ctx);
}

/* ---- twice, after completion, NULL, never started, restart ---------------- */

static void test_twice_and_errors(void)
{
    struct gate g;
    evaio_ctx *ctx = blocked_ctx(&g);
    static struct rec r[2];
    for (int i = 0; i < 2; i++) {
        rec_reset(&r[i], 7, NULL, i);
        rec_submit(ctx, &r[i], 0);
    }
    for (int i = 0; i < 2; i++) {
        /* The first cancel takes it off the queue (1); its result then
         * waits, so the second only marks it again (0). */
        CHECK_EQ(evaio_cancel(r[i].req), 1);
        CHECK_EQ(evaio_cancel(r[i].req), 0);
        CHECK_EQ(evaio_cancel(r[i].req), 0);
    }
    CHECK_EQ(evaio_ctx_npending(ctx), 2);
    gate_open(&g);
    CHECK_EQ(evaio_ctx_wait(ctx), 0);
    for (int i = 0; i < 2; i++)
        check_cancelled_unstarted(&r[i]); /* one callback each */

    /* After completion: a caller-owned request is not in flight. */
    errno = 0;
    CHECK_EQ(evaio_cancel(&r[0].own), -1);
    CHECK_EQ(errno, EINVAL);
    CHECK_EQ(r[0].ncb, 1);

    /* NULL. */
    errno = 0;
    CHECK_EQ(evaio_cancel(NULL), -1);
    CHECK_EQ(errno, EFAULT);
    CHECK_EQ(evaio_req_cancelled(NULL), 0);

    /* Set up but never started. */
    evaio_req fresh;
    evaio_nop_init(&fresh, NULL, NULL);
    errno = 0;
    CHECK_EQ(evaio_cancel(&fresh), -1);
    CHECK_EQ(errno, EINVAL);
    /* ... and the refused cancel left no mark on its first flight. */
    static struct rec f;
    rec_reset(&f, 55, NULL, 0);
    evaio_custom_init(&f.own, rec_fn, rec_cb, &f);
    f.req = &f.own;
    errno = 0;
    CHECK_EQ(evaio_cancel(&f.own), -1);
    CHECK_EQ(errno, EINVAL);
    CHECK_EQ(evaio_ctx_start(ctx, &f.own), 0);
    CHECK_EQ(evaio_ctx_wait(ctx), 0);
    check_ran(&f, 0);

    /* Restart after a cancel: a new flight, run normally, not marked. */
    r[0].ncb = 0;
    r[0].live = 1;
    CHECK_EQ(evaio_ctx_start(ctx, &r[0].own), 0);
    CHECK_EQ(evaio_ctx_wait(ctx), 0);
    check_ran(&r[0], 0);
    CHECK_EQ(evaio_req_cancelled(&r[0].own), 0);
    finish_ctx(ctx);
    gate_destroy(&g);
}

/* Restarted from inside the callback that reported ECANCELED. */
static int restart_ncb;
static int64_t restart_results[2];
static int restart_cancelled[2];
static int64_t value_fn(evaio_req *req)
{
    (void)req;
    return 99;
}
static int restart_cb(evaio_req *req)
{
    CHECK(restart_ncb < 2);
    restart_results[restart_ncb] = req->result;
    restart_cancelled[restart_ncb] = evaio_req_cancelled(req);
    if (restart_ncb++ == 0)
        CHECK_EQ(evaio_ctx_start(req->data, req), 0);
    return 0;
}

static void test_restart_from_cancelled_callback(void)
{
    struct gate g;
    evaio_ctx *ctx = blocked_ctx(&g);
    evaio_req req;
    evaio_custom_init(&req, value_fn, restart_cb, ctx);
    restart_ncb = 0;
    CHECK_EQ(evaio_ctx_start(ctx, &req), 0);
    CHECK_EQ(evaio_cancel(&req), 1);
    CHECK_EQ(evaio_ctx_poll(ctx), 0);
    CHECK_EQ(restart_ncb, 1);
    CHECK_EQ(restart_results[0], -1);
    CHECK_EQ(restart_cancelled[0], 1);
    gate_open(&g);
    CHECK_EQ(evaio_ctx_wait(ctx), 0);
    CHECK_EQ(restart_ncb, 2);
    CHECK_EQ(restart_results[1], 99);
    CHECK_EQ(restart_cancelled[1], 0);
    finish_ctx(ctx);
    gate_destroy(&g);
}

/* ---- cancelling another request from a callback --------------------------- */

static struct rec *victim_queued, *victim_running;
static int canceller_ret_queued = -2, canceller_ret_running = -2;
static int canceller_cb(evaio_req *req)
{
    rec_cb(req);
    canceller_ret_queued = evaio_cancel(victim_queued->req);
    canceller_ret_running = evaio_cancel(victim_running->req);
    return 0;
}

static void test_cancel_other_from_callback(void)
{
    for (int wrapper = 0; wrapper < 2; wrapper++) {
        evaio_ctx *ctx = evaio_ctx_new();
        CHECK(ctx != NULL);
        evaio_ctx_set_max_parallel(ctx, 1);
        struct gate g1, g2;
        gate_init(&g1);
        gate_init(&g2);
        /* The worker runs a (blocked), then b (blocked) before c, the
         * lowest.  a's callback cancels the executing b and the queued c. */
        static struct rec a, b, c;
        rec_reset(&a, 1, &g1, 1);
        rec_reset(&b, 2, &g2, wrapper);
        rec_reset(&c, 3, NULL, wrapper);
        evaio_req *areq = evaio_ctx_custom(ctx, rec_fn, EVAIO_PRI_MAX, canceller_cb, &a);
        CHECK(areq != NULL);
        a.req = areq;
        a.live = 1;
        gate_wait_started(&g1);
        rec_submit(ctx, &b, EVAIO_PRI_MAX);
        rec_submit(ctx, &c, EVAIO_PRI_MIN);
        victim_running = &b;
        victim_queued = &c;
        gate_open(&g1);
        gate_wait_started(&g2); /* b executing, c still queued */
        CHECK_EQ(evaio_ctx_nready(ctx), 1);
        canceller_ret_queued = canceller_ret_running = -2;
        CHECK_EVENTUALLY(evaio_ctx_npending(ctx) == 1);
        CHECK_EQ(evaio_ctx_poll(ctx), 0); /* a's callback, then c's */
        CHECK_EQ(a.ncb, 1);
        CHECK_EQ(canceller_ret_queued, 1);
        CHECK_EQ(canceller_ret_running, 0);
        check_cancelled_unstarted(&c);
        CHECK_EQ(b.ncb, 0);
        gate_open(&g2);
        CHECK_EQ(evaio_ctx_wait(ctx), 0);
        check_ran(&a, 0);
        check_ran(&b, 1);
        check_cancelled_unstarted(&c);
        finish_ctx(ctx);
        gate_destroy(&g1);
        gate_destroy(&g2);
    }
}

/* ---- 10,000 random cancels from the polling thread ----------------------- */

static unsigned lcg_state = 2024;
static unsigned lcg(void)
{
    lcg_state = lcg_state * 1103515245u + 12345u;
    return (lcg_state >> 16) & 0x7fff;
}

/* What the cancels of one flight returned. */
struct cancel_log {
    int n1, n0, nerr;
};

static void check_consistent(struct rec *r, const struct cancel_log *log)
{
    CHECK_EQ(r->ncb, 1);
    CHECK_EQ(r->live, 0);
    CHECK(log->n1 <= 1);
    if (log->n1) {
        /* Taken off the queue: it never ran. */
        check_cancelled_unstarted(r);
    } else {
        check_ran(r, log->n0 > 0);
    }
}

static void test_random_cancels(void)
{
    evaio_ctx *ctx = evaio_ctx_new();
    CHECK(ctx != NULL);
    enum { WORKERS = 3, HOLD = WORKERS, PER_ROUND = 40, TARGET = 10000 };
    evaio_ctx_set_max_parallel(ctx, WORKERS);
    static struct rec r[HOLD + PER_ROUND];
    static struct cancel_log logs[HOLD + PER_ROUND];
    long ncancels = 0, n_one = 0, n_zero = 0, rounds = 0;

    while (ncancels < TARGET) {
        rounds++;
        struct gate g;
        gate_init(&g);
        memset(logs, 0, sizeof logs);
        /* Every worker held in a gate op: these are executing. */
        for (int i = 0; i < HOLD; i++) {
            rec_reset(&r[i], 1000 + i, &g, (int)(lcg() % 2));
            rec_submit(ctx, &r[i], EVAIO_PRI_MAX);
        }
        CHECK_EVENTUALLY(evaio_ctx_nready(ctx) == 0 && evaio_ctx_nthreads(ctx) == WORKERS);
        for (int i = HOLD; i < HOLD + PER_ROUND; i++) {
            rec_reset(&r[i], i, NULL, (int)(lcg() % 2));
            rec_submit(ctx, &r[i], (int)(lcg() % 9) - 4);
        }
        CHECK_EQ(evaio_ctx_nready(ctx), PER_ROUND);
        CHECK_EQ(evaio_ctx_nreqs(ctx), HOLD + PER_ROUND);
        /* Deterministic part: the held ones are executing (0), a random
         * half of the queued ones are not started (1). */
        for (int i = 0; i < HOLD; i++) {
            if (lcg() % 2) {
                CHECK_EQ(evaio_cancel(r[i].req), 0);
                logs[i].n0++;
                ncancels++;
            }
        }
        unsigned expect_ready = PER_ROUND;
        for (int i = HOLD; i < HOLD + PER_ROUND; i++) {
            if (lcg() % 2) {
                CHECK_EQ(evaio_cancel(r[i].req), 1);
                logs[i].n1++;
                ncancels++;
                expect_ready--;
                CHECK_EQ(evaio_ctx_nready(ctx), expect_ready);
            }
        }
        CHECK_EQ(evaio_ctx_nreqs(ctx), HOLD + PER_ROUND);
        gate_open(&g);
        /* Racing the workers: cancels of whatever is still in flight (a
         * wrapper only until its callback, which frees it), interleaved
         * with polls.  Whatever each returns, the callback must agree. */
        for (;;) {
            int nlive = 0;
            for (int i = 0; i < HOLD + PER_ROUND; i++) {
                if (!r[i].live)
                    continue;
                nlive++;
                if (lcg() % 4)
                    continue;
                errno = 0;
                int ret = evaio_cancel(r[i].req);
                ncancels++;
                CHECK(ret == 0 || ret == 1);
                if (ret == 1)
                    logs[i].n1++;
                else
                    logs[i].n0++;
            }
            if (!nlive)
                break;
            /* A caller-owned request whose callback ran: EINVAL. */
            for (int i = 0; i < HOLD + PER_ROUND; i++) {
                if (!r[i].live && !r[i].wrapper && lcg() % 8 == 0) {
                    errno = 0;
                    CHECK_EQ(evaio_cancel(r[i].req), -1);
                    CHECK_EQ(errno, EINVAL);
                    ncancels++;
                    logs[i].nerr++;
                }
            }
            int pr = evaio_ctx_poll(ctx);
            CHECK_EQ(pr, 0);
        }
        for (int i = 0; i < HOLD + PER_ROUND; i++) {
            check_consistent(&r[i], &logs[i]);
            n_one += logs[i].n1;
            n_zero += logs[i].n0;
        }
        CHECK_EQ(evaio_ctx_nreqs(ctx), 0);
        CHECK_EQ(evaio_ctx_nready(ctx), 0);
        CHECK_EQ(evaio_ctx_npending(ctx), 0);
        gate_destroy(&g);
    }
    CHECK(n_one > 0 && n_zero > 0);
    CHECK(ncancels >= TARGET);
    finish_ctx(ctx);
}

/* ---- cancelling from another thread --------------------------------------- */

/* One flight of a caller-owned request, raced by a second thread that
 * cancels it.  Whatever evaio_cancel returns there must agree with what the
 * callback sees; both are compared once both threads are done with it:
 *   1  -> never executed; callback -1 / ECANCELED, marked;
 *   0  -> executed (or refused by its arguments); the real result, marked;
 *   -1 -> EINVAL (not yet started, or its callback had begun); the real
 *         result, unmarked. */
struct xrec {
    evaio_req req;
    int ran;       /* atomic: the custom op executed */
    int ncb;       /* polling thread */
    int64_t result;
    int errorno;
    int cancelled;
    int cbegun;    /* atomic: the callback has begun */
    int ret;       /* atomic: what the canceller's evaio_cancel returned; -2 none */
    int ret_errno;
};

/* How the canceller races request i (i % XMODES). */
enum {
    X_START,    /* spins on cancel from before the start until it is in flight */
    X_WAITING,  /* one cancel once the result waits, while poll runs */
    X_TAKEN,    /* one cancel the moment poll has taken the result */
    X_REFUSED,  /* as X_START, on an open with a NULL path (refused: EFAULT) */
    XMODES
};
static const char *const x_mode_names[XMODES] = {
    "cancel racing its start",
    "cancel while its result waits or is being delivered",
    "cancel just as poll takes its result",
    "cancel racing the start of a request its arguments refuse",
};

enum { XN = 4000 };
static struct xrec xr[XN];
static evaio_ctx *xctx;
static int xtarget = -1; /* atomic: the index the canceller works on */
static int xspin = -1;   /* atomic: the index the canceller is working on now */
static int xdone = -1;   /* atomic: the last index the canceller finished */
static int xstop;        /* atomic */

static int64_t x_fn(evaio_req *req)
{
    struct xrec *x = req->data;
    __atomic_store_n(&x->ran, 1, __ATOMIC_SEQ_CST);
    return (int64_t)(x - xr) + 10;
}

static int x_cb(evaio_req *req)
{
    struct xrec *x = req->data;
    __atomic_store_n(&x->cbegun, 1, __ATOMIC_SEQ_CST);
    x->cancelled = evaio_req_cancelled(req);
    x->ncb++;
    x->result = req->result;
    x->errorno = req->errorno;
    if (req->result >= 0 && req->type == EVAIO_OP_OPEN)
        close((int)req->result);
    return 0;
}

static void *x_canceller(void *arg)
{
    (void)arg;
    int last = -1;
    while (!__atomic_load_n(&xstop, __ATOMIC_SEQ_CST)) {
        int i = __atomic_load_n(&xtarget, __ATOMIC_SEQ_CST);
        if (i == last) {
            sched_yield();
            continue;
        }
        last = i;
        struct xrec *x = &xr[i];
        int mode = i % XMODES, ret, err;
        __atomic_store_n(&xspin, i, __ATOMIC_SEQ_CST);
        if (mode == X_START || mode == X_REFUSED) {
            /* The first answer other than "not in flight" counts. */
            for (;;) {
                errno = 0;
                ret = evaio_cancel(&x->req);
                err = errno;
                if (ret != -1 || __atomic_load_n(&x->cbegun, __ATOMIC_SEQ_CST))
                    break;
            }
        } else {
            if (mode == X_TAKEN)
                while (evaio_ctx_npending(xctx))
                    ;
            errno = 0;
            ret = evaio_cancel(&x->req);
            err = errno;
        }
        x->ret_errno = err;
        __atomic_store_n(&x->ret, ret, __ATOMIC_SEQ_CST);
        __atomic_store_n(&xdone, i, __ATOMIC_SEQ_CST);
    }
    return NULL;
}

static void test_cross_thread(void)
{
    evaio_ctx *ctx = evaio_ctx_new();
    CHECK(ctx != NULL);
    evaio_ctx_set_max_parallel(ctx, 2);
    xctx = ctx;
    pthread_t t;
    CHECK_EQ(pthread_create(&t, NULL, x_canceller, NULL), 0);

    for (int i = 0; i < XN; i++) {
        struct xrec *x = &xr[i];
        int mode = i % XMODES;
        memset(x, 0, sizeof *x);
        x->ret = -2;
        if (mode == X_REFUSED)
            evaio_open_init(&x->req, NULL, O_RDONLY, 0, x_cb, x);
        else
            evaio_custom_init(&x->req, x_fn, x_cb, x);
        evaio_req_set_pri(&x->req, i % 9 - 4);
        if (mode == X_START || mode == X_REFUSED) {
            __atomic_store_n(&xtarget, i, __ATOMIC_SEQ_CST);
            while (__atomic_load_n(&xspin, __ATOMIC_SEQ_CST) != i)
                ; /* the canceller is spinning on it */
            CHECK_EQ(evaio_ctx_start(ctx, &x->req), 0);
        } else {
            CHECK_EQ(evaio_ctx_start(ctx, &x->req), 0);
            CHECK_EVENTUALLY(evaio_ctx_npending(ctx) > 0);
            __atomic_store_n(&xtarget, i, __ATOMIC_SEQ_CST);
            if (mode == X_TAKEN)
                while (__atomic_load_n(&xspin, __ATOMIC_SEQ_CST) != i)
                    ; /* the canceller is watching npending */
        }
        /* Delivering, while the canceller works. */
        while (__atomic_load_n(&xdone, __ATOMIC_SEQ_CST) != i || evaio_ctx_nreqs(ctx))
            CHECK_EQ(evaio_ctx_poll(ctx), 0);
    }
    __atomic_store_n(&xstop, 1, __ATOMIC_SEQ_CST);
    CHECK_EQ(pthread_join(t, NULL), 0);

    /* Each kind of disagreement is counted, its first case shown. */
    enum {
        K_RAN_UNMARKED,   /* 1, yet it went ahead: real result, unmarked */
        K_RAN_MARKED,     /* 1, yet the callback has the real result (marked) */
        K_BAD_CANCELLED,  /* 1, callback -1/ECANCELED but evaio_req_cancelled false */
        K_NOT_RAN,        /* 0, yet it never executed: -1/ECANCELED */
        K_NOT_REAL,       /* 0, some other wrong result */
        K_UNMARKED,       /* 0, the real result but evaio_req_cancelled false */
        K_BAD_ERRNO,      /* -1 with an errno other than EINVAL */
        K_REFUSED_CHANGED,/* -1, yet the request was cancelled or marked */
        NKINDS
    };
    static const char *const kinds[NKINDS] = {
        "cancel returned 1, yet the request went ahead: real result, not marked cancelled",
        "cancel returned 1, yet the callback got the real result (marked cancelled)",
        "cancel returned 1, callback -1/ECANCELED but evaio_req_cancelled false",
        "cancel returned 0, yet the request never executed: callback -1/ECANCELED",
        "cancel returned 0, yet the callback did not get the real result",
        "cancel returned 0, yet evaio_req_cancelled was false in the callback",
        "cancel failed with an errno other than EINVAL",
        "cancel failed (EINVAL), yet the callback saw the request cancelled or marked",
    };
    int nkind[NKINDS] = { 0 };
    int n1 = 0, n0 = 0, nerr = 0, bad = 0;
    for (int i = 0; i < XN; i++) {
        struct xrec *x = &xr[i];
        int mode = i % XMODES;
        int ran = __atomic_load_n(&x->ran, __ATOMIC_SEQ_CST);
        CHECK_EQ(x->ncb, 1);
        int is_cancel_result = x->result == -1 && x->errorno == ECANCELED;
        int is_real = mode == X_REFUSED ? x->result == -1 && x->errorno == EFAULT
                                        : ran && x->result == i + 10 && x->errorno == 0;
        if (mode == X_REFUSED)
            CHECK_EQ(ran, 0);
        else if (is_cancel_result)
            CHECK_EQ(ran, 0); /* an op that ran reports its own result */
        int kind = -1;
        if (x->ret == 1) {
            n1++;
            if (!is_cancel_result)
                kind = x->cancelled ? K_RAN_MARKED : K_RAN_UNMARKED;
            else if (!x->cancelled)
                kind = K_BAD_CANCELLED;
        } else if (x->ret == 0) {
            n0++;
            if (is_cancel_result)
                kind = K_NOT_RAN;
            else if (!is_real)
                kind = K_NOT_REAL;
            else if (!x->cancelled)
                kind = K_UNMARKED;
        } else {
            nerr++;
            if (x->ret != -1 || x->ret_errno != EINVAL)
                kind = K_BAD_ERRNO;
            else if (!is_real || x->cancelled)
                kind = K_REFUSED_CHANGED;
        }
        if (kind >= 0) {
            bad++;
            if (nkind[kind]++ == 0)
                fprintf(stderr, "request %d (%s): %s: cancel=%d ran=%d result=%lld errorno=%d cancelled=%d\n",
                        i, x_mode_names[mode], kinds[kind], x->ret, ran, (long long)x->result, x->errorno,
                        x->cancelled);
        }
    }
    fprintf(stderr, "cross-thread: cancel returned 1 %d times, 0 %d times, -1 %d times\n", n1, n0, nerr);
    for (int k = 0; k < NKINDS; k++)
        if (nkind[k])
            fprintf(stderr, "  %d x %s\n", nkind[k], kinds[k]);
    CHECK_EQ(bad, 0);
    CHECK_EQ(evaio_ctx_nreqs(ctx), 0);
    CHECK_EQ(evaio_ctx_nready(ctx), 0);
    CHECK_EQ(evaio_ctx_npending(ctx), 0);
    CHECK_EQ(evaio_ctx_free(ctx), 0);
}

static const struct {
    const char *name;
    void (*fn)(void);
} tests[] = {
    { "not_started", test_not_started },
    { "executing", test_executing },
    { "open_executing", test_open_executing },
    { "result_waiting", test_result_waiting },
    { "twice_and_errors", test_twice_and_errors },
    { "restart_from_cancelled_callback", test_restart_from_cancelled_callback },
    { "cancel_other_from_callback", test_cancel_other_from_callback },
    { "random_cancels", test_random_cancels },
    { "cross_thread", test_cross_thread },
};

/* No argument: every test; otherwise the named ones. */
int main(int argc, char **argv)
{
    for (size_t t = 0; t < sizeof tests / sizeof tests[0]; t++) {
        int run = argc < 2;
        for (int a = 1; a < argc; a++)
            run |= strcmp(argv[a], tests[t].name) == 0;
        if (run) {
            tests[t].fn();
            fprintf(stderr, "ok %s\n", tests[t].name);
        }
    }
    return 0;
}
