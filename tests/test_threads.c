/* The thread pool: threads start on demand up to max_parallel; idle threads
 * beyond max_idle are reaped after idle_timeout, and lowering either setting
 * applies to threads already idle; min_parallel threads start eagerly and are
 * never reaped; the counters; workers block every signal. */
#include "check.h"

#include <math.h>
#include <pthread.h>
#include <signal.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

/* Checks that expose runtime bugs report and count instead of stopping the
 * program, so that every one of them is reported by a single run. */
static int soft_failures;

static evaio_ctx *new_ctx(unsigned max_parallel, unsigned max_idle, double idle_timeout)
{
    evaio_ctx *ctx = evaio_ctx_new();
    CHECK(ctx != NULL);
    evaio_ctx_set_min_parallel(ctx, 0);
    evaio_ctx_set_max_parallel(ctx, max_parallel);
    evaio_ctx_set_max_idle(ctx, max_idle);
    evaio_ctx_set_idle_timeout(ctx, idle_timeout);
    return ctx;
}

/* ---- concurrency tracking ------------------------------------------------ */

static int cur, peak, arrived, rendezvous_n; /* atomics */
static int peak_threads;                     /* atomic */
static evaio_ctx *track_ctx;

static void max_into(int *target, int v)
{
    int old = __atomic_load_n(target, __ATOMIC_SEQ_CST);
    while (v > old && !__atomic_compare_exchange_n(target, &old, v, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
        ;
}

static void enter(void)
{
    int now = __atomic_add_fetch(&cur, 1, __ATOMIC_SEQ_CST);
    max_into(&peak, now);
    unsigned nt = evaio_ctx_nthreads(track_ctx);
    max_into(&peak_threads, (int)nt);
}

static void leave(void)
{
    __atomic_sub_fetch(&cur, 1, __ATOMIC_SEQ_CST);
}

/* Runs until rendezvous_n requests are executing at once; fails (instead of
 * hanging) after a generous bound, which only happens when the pool did not
 * start enough threads. */
static int64_t rendezvous_fn(evaio_req *req)
{
    (void)req;
    enter();
    __atomic_add_fetch(&arrived, 1, __ATOMIC_SEQ_CST);
    double deadline = check_now() + 30.0;
    int ok;
    while (!(ok = __atomic_load_n(&arrived, __ATOMIC_SEQ_CST) >= __atomic_load_n(&rendezvous_n, __ATOMIC_SEQ_CST)) &&
           check_now() < deadline)
        check_sleep(0.0005);
    leave();
    if (!ok) {
        errno = ETIMEDOUT;
        return -1;
    }
    return 0;
}

static int64_t sleepy_fn(evaio_req *req)
{
    (void)req;
    enter();
    check_sleep(0.02);
    leave();
    return 0;
}

static int ok_calls;
static int ok_cb(evaio_req *req)
{
    if (req->result != 0)
        fprintf(stderr, "request failed: %s\n", strerror(req->errorno));
    CHECK_EQ(req->result, 0);
    ok_calls++;
    return 0;
}

static void reset_tracking(evaio_ctx *ctx)
{
    track_ctx = ctx;
    __atomic_store_n(&cur, 0, __ATOMIC_SEQ_CST);
    __atomic_store_n(&peak, 0, __ATOMIC_SEQ_CST);
    __atomic_store_n(&arrived, 0, __ATOMIC_SEQ_CST);
    __atomic_store_n(&peak_threads, 0, __ATOMIC_SEQ_CST);
}

/* Runs n requests that can only finish once all n execute together. */
static void rendezvous(evaio_ctx *ctx, int n)
{
    reset_tracking(ctx);
    __atomic_store_n(&rendezvous_n, n, __ATOMIC_SEQ_CST);
    ok_calls = 0;
    for (int i = 0; i < n; i++)
        CHECK(evaio_ctx_custom(ctx, rendezvous_fn, 0, ok_cb, NULL) != NULL);
    CHECK_EQ(evaio_ctx_wait(ctx), 0);
    CHECK_EQ(ok_calls, n);
    CHECK_EQ(__atomic_load_n(&peak, __ATOMIC_SEQ_CST), n);
}

/* ---- the tests ----------------------------------------------------------- */

static void test_max_parallel(void)
{
    evaio_ctx *ctx = new_ctx(3, 3, 3600);
    CHECK_EQ(evaio_ctx_nthreads(ctx), 0); /* nothing started before work */

    /* On demand: three requests that need each other get three threads. */
    rendezvous(ctx, 3);
    CHECK_EQ(evaio_ctx_nthreads(ctx), 3);

    /* Never more than three, however much is queued. */
    reset_tracking(ctx);
    ok_calls = 0;
    for (int i = 0; i < 20; i++)
        CHECK(evaio_ctx_custom(ctx, sleepy_fn, 0, ok_cb, NULL) != NULL);
    CHECK(evaio_ctx_nthreads(ctx) <= 3);
    CHECK_EQ(evaio_ctx_wait(ctx), 0);
    CHECK_EQ(ok_calls, 20);
    CHECK(__atomic_load_n(&peak, __ATOMIC_SEQ_CST) <= 3);
    CHECK(__atomic_load_n(&peak, __ATOMIC_SEQ_CST) >= 1);
    CHECK(__atomic_load_n(&peak_threads, __ATOMIC_SEQ_CST) <= 3);
    CHECK(evaio_ctx_nthreads(ctx) <= 3);

    /* The same from a pool that starts empty. */
    evaio_ctx *fresh = new_ctx(3, 3, 3600);
    reset_tracking(fresh);
    ok_calls = 0;
    for (int i = 0; i < 20; i++)
        CHECK(evaio_ctx_custom(fresh, sleepy_fn, 0, ok_cb, NULL) != NULL);
    CHECK(evaio_ctx_nthreads(fresh) <= 3);
    CHECK_EQ(evaio_ctx_wait(fresh), 0);
    CHECK_EQ(ok_calls, 20);
    CHECK(__atomic_load_n(&peak, __ATOMIC_SEQ_CST) <= 3);
    CHECK(__atomic_load_n(&peak_threads, __ATOMIC_SEQ_CST) <= 3);
    CHECK_EQ(evaio_ctx_free(fresh), 0);

    /* Raising the limit lets more run at once ... */
    evaio_ctx_set_max_parallel(ctx, 5);
    rendezvous(ctx, 5);
    CHECK_EQ(evaio_ctx_nthreads(ctx), 5);
    /* ... and lowering it shrinks an idle pool. */
    evaio_ctx_set_max_parallel(ctx, 2);
    CHECK_EVENTUALLY(evaio_ctx_nthreads(ctx) <= 2);
    rendezvous(ctx, 2);
    reset_tracking(ctx);
    for (int i = 0; i < 10; i++)
        CHECK(evaio_ctx_custom(ctx, sleepy_fn, 0, ok_cb, NULL) != NULL);
    CHECK_EQ(evaio_ctx_wait(ctx), 0);
    CHECK(__atomic_load_n(&peak, __ATOMIC_SEQ_CST) <= 2);
    CHECK(evaio_ctx_nthreads(ctx) <= 2);

    /* max_parallel 0 means 1. */
    evaio_ctx_set_max_parallel(ctx, 0);
    CHECK_EVENTUALLY(evaio_ctx_nthreads(ctx) <= 1);
    reset_tracking(ctx);
    for (int i = 0; i < 5; i++)
        CHECK(evaio_ctx_custom(ctx, sleepy_fn, 0, ok_cb, NULL) != NULL);
    CHECK_EQ(evaio_ctx_wait(ctx), 0);
    CHECK_EQ(__atomic_load_n(&peak, __ATOMIC_SEQ_CST), 1);
    CHECK_EQ(evaio_ctx_free(ctx), 0);
}

static void test_idle_reaping(void)
{
    /* Idle threads within max_idle stay, even after the timeout ... */
    evaio_ctx *ctx = new_ctx(3, 3, 3600);
    rendezvous(ctx, 3);
    CHECK_EQ(evaio_ctx_nthreads(ctx), 3);
    evaio_ctx_set_idle_timeout(ctx, 0.05);
    check_sleep(0.3);
    CHECK_EQ(evaio_ctx_nthreads(ctx), 3);
    /* ... lowering max_idle applies to the threads already idle ... */
    evaio_ctx_set_max_idle(ctx, 1);
    CHECK_EVENTUALLY(evaio_ctx_nthreads(ctx) == 1);
    check_sleep(0.3);
    CHECK_EQ(evaio_ctx_nthreads(ctx), 1); /* one idle thread is allowed */
    evaio_ctx_set_max_idle(ctx, 0);
    CHECK_EVENTUALLY(evaio_ctx_nthreads(ctx) == 0);
    /* ... and threads come back on demand. */
    rendezvous(ctx, 2);
    CHECK_EVENTUALLY(evaio_ctx_nthreads(ctx) == 0);
    CHECK_EQ(evaio_ctx_free(ctx), 0);

    /* Lowering idle_timeout applies to threads already idle. */
    ctx = new_ctx(2, 0, 3600);
    rendezvous(ctx, 2);
    check_sleep(0.2);
    CHECK_EQ(evaio_ctx_nthreads(ctx), 2); /* not reaped before the timeout */
    evaio_ctx_set_idle_timeout(ctx, 0.05);
    CHECK_EVENTUALLY(evaio_ctx_nthreads(ctx) == 0);
    CHECK_EQ(evaio_ctx_free(ctx), 0);

    /* Timeout 0 with max_idle 0: a thread exits as soon as it is idle. */
    ctx = new_ctx(2, 0, 0);
    rendezvous(ctx, 2);
    CHECK_EVENTUALLY(evaio_ctx_nthreads(ctx) == 0);
    ok_calls = 0;
    for (int i = 0; i < 50; i++)
        CHECK(evaio_ctx_nop(ctx, 0, ok_cb, NULL) != NULL);
    CHECK_EQ(evaio_ctx_wait(ctx), 0);
    CHECK_EQ(ok_calls, 50);
    CHECK_EVENTUALLY(evaio_ctx_nthreads(ctx) == 0);
    CHECK_EQ(evaio_ctx_free(ctx), 0);
}

static void test_min_parallel(void)
{
    evaio_ctx *ctx = new_ctx(4, 0, 0.02);
    CHECK_EQ(evaio_ctx_nthreads(ctx), 0);
    evaio_ctx_set_min_parallel(ctx, 2);
    CHECK_EVENTUALLY(evaio_ctx_nthreads(ctx) == 2); /* eagerly, without a request */
    CHECK_EQ(evaio_ctx_nreqs(ctx), 0);
    check_sleep(0.3); /* many idle timeouts */
    CHECK_EQ(evaio_ctx_nthreads(ctx), 2);

    /* Extra threads are reaped down to min_parallel, not below. */
    rendezvous(ctx, 4);
    CHECK_EVENTUALLY(evaio_ctx_nthreads(ctx) == 2);
    check_sleep(0.3);
    CHECK_EQ(evaio_ctx_nthreads(ctx), 2);

    /* The eager threads do work. */
    rendezvous(ctx, 2);
    check_sleep(0.1);
    CHECK_EQ(evaio_ctx_nthreads(ctx), 2);

    /* Raising it starts more at once; dropping it lets them go. */
    evaio_ctx_set_min_parallel(ctx, 3);
    CHECK_EVENTUALLY(evaio_ctx_nthreads(ctx) == 3);
    check_sleep(0.2);
    CHECK_EQ(evaio_ctx_nthreads(ctx), 3);
    evaio_ctx_set_min_parallel(ctx, 0);
    CHECK_EVENTUALLY(evaio_ctx_nthreads(ctx) == 0);
    CHECK_EQ(evaio_ctx_free(ctx), 0);

    /* min_parallel above max_parallel: max_parallel wins. */
    ctx = new_ctx(2, 0, 0.02);
    evaio_ctx_set_min_parallel(ctx, 5);
    CHECK_EVENTUALLY(evaio_ctx_nthreads(ctx) == 2);
    check_sleep(0.2);
    CHECK_EQ(evaio_ctx_nthreads(ctx), 2);
    CHECK_EQ(evaio_ctx_free(ctx), 0); /* frees with threads alive */
}

/* ---- counters ------------------------------------------------------------ */

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

/* A request is outstanding until its callback has run: during its callback
 * nreqs still counts it. */
static unsigned nreqs_in_cb[16];
static int counted_calls;
static evaio_ctx *counted_ctx;
static int counted_cb(evaio_req *req)
{
    CHECK_EQ(req->result, 0);
    CHECK(counted_calls < 16);
    nreqs_in_cb[counted_calls++] = evaio_ctx_nreqs(counted_ctx);
    return 0;
}

static void test_counters(void)
{
    evaio_ctx *ctx = counted_ctx = new_ctx(1, 1, 3600);
    CHECK_EQ(evaio_ctx_nreqs(ctx), 0);
    CHECK_EQ(evaio_ctx_nready(ctx), 0);
    CHECK_EQ(evaio_ctx_npending(ctx), 0);

    ok_calls = 0;
    CHECK(evaio_ctx_custom(ctx, gate_fn, 0, ok_cb, NULL) != NULL);
    pthread_mutex_lock(&gate_mutex);
    while (!gate_started)
        pthread_cond_wait(&gate_cond, &gate_mutex);
    pthread_mutex_unlock(&gate_mutex);
    CHECK_EQ(evaio_ctx_nreqs(ctx), 1);
    CHECK_EQ(evaio_ctx_nready(ctx), 0); /* started: not ready any more */
    CHECK_EQ(evaio_ctx_npending(ctx), 0);

    evaio_req owned[2];
    for (int i = 0; i < 5; i++)
        CHECK(evaio_ctx_nop(ctx, 0, counted_cb, NULL) != NULL);
    for (int i = 0; i < 2; i++) {
        evaio_nop_init(&owned[i], counted_cb, NULL);
        CHECK_EQ(evaio_ctx_start(ctx, &owned[i]), 0);
    }
    CHECK_EQ(evaio_ctx_nreqs(ctx), 8);
    CHECK_EQ(evaio_ctx_nready(ctx), 7);
    CHECK_EQ(evaio_ctx_npending(ctx), 0);
    CHECK_EQ(evaio_ctx_poll(ctx), 0);
    CHECK_EQ(ok_calls, 0);
    CHECK_EQ(counted_calls, 0);

    pthread_mutex_lock(&gate_mutex);
    gate_open = 1;
    pthread_cond_broadcast(&gate_cond);
    pthread_mutex_unlock(&gate_mutex);
    CHECK_EVENTUALLY(evaio_ctx_npending(ctx) == 8);
    CHECK_EQ(evaio_ctx_nready(ctx), 0);
    CHECK_EQ(evaio_ctx_nreqs(ctx), 8); /* done but not polled: outstanding */

    evaio_ctx_set_max_poll_reqs(ctx, 3);
    CHECK_EQ(evaio_ctx_poll(ctx), -1);
    CHECK_EQ(ok_calls + counted_calls, 3);
    CHECK_EQ(evaio_ctx_npending(ctx), 5);
    CHECK_EQ(evaio_ctx_nreqs(ctx), 5);
    evaio_ctx_set_max_poll_reqs(ctx, 0);
    CHECK_EQ(evaio_ctx_poll(ctx), 0);
    CHECK_EQ(ok_calls, 1);
    CHECK_EQ(counted_calls, 7);
    /* The gate's callback came first (it finished first); then each of the
     * others saw itself and those after it as outstanding. */
    for (int i = 0; i < 7; i++)
        CHECK_EQ(nreqs_in_cb[i], 7 - i);
    CHECK_EQ(evaio_ctx_nreqs(ctx), 0);
    CHECK_EQ(evaio_ctx_nready(ctx), 0);
    CHECK_EQ(evaio_ctx_npending(ctx), 0);
    CHECK_EQ(evaio_ctx_free(ctx), 0);
}

/* Lowering max_parallel while every worker is busy and work is queued: the
 * requests that start afterwards respect the new limit (surplus workers
 * exit when they finish instead of taking more work). */
static void test_lower_max_parallel_busy(void)
{
    evaio_ctx *ctx = new_ctx(3, 3, 3600);
    pthread_mutex_lock(&gate_mutex);
    gate_started = 0;
    gate_open = 0;
    pthread_mutex_unlock(&gate_mutex);
    ok_calls = 0;
    for (int i = 0; i < 3; i++)
        CHECK(evaio_ctx_custom(ctx, gate_fn, 0, ok_cb, NULL) != NULL);
    pthread_mutex_lock(&gate_mutex);
    while (gate_started < 3)
        pthread_cond_wait(&gate_cond, &gate_mutex);
    pthread_mutex_unlock(&gate_mutex);
    CHECK_EQ(evaio_ctx_nthreads(ctx), 3);

    reset_tracking(ctx);
    for (int i = 0; i < 9; i++)
        CHECK(evaio_ctx_custom(ctx, sleepy_fn, 0, ok_cb, NULL) != NULL);
    CHECK_EQ(evaio_ctx_nready(ctx), 9);
    evaio_ctx_set_max_parallel(ctx, 1);

    pthread_mutex_lock(&gate_mutex);
    gate_open = 1;
    pthread_cond_broadcast(&gate_cond);
    pthread_mutex_unlock(&gate_mutex);
    CHECK_EQ(evaio_ctx_wait(ctx), 0);
    CHECK_EQ(ok_calls, 12);
    int p = __atomic_load_n(&peak, __ATOMIC_SEQ_CST);
    if (p != 1) {
        fprintf(stderr, "FAIL: after max_parallel was lowered to 1 with 3 busy workers, %d queued "
                        "requests ran at once\n", p);
        soft_failures++;
    }
    CHECK_EVENTUALLY(evaio_ctx_nthreads(ctx) <= 1);
    CHECK_EQ(evaio_ctx_free(ctx), 0);
}

/* An idle timeout too large for a timespec (up to INFINITY, "never") must
 * behave as a very long timeout: threads beyond max_idle are not reaped at
 * once, and the pool does not lock up.  A deadlock here cannot be detected by
 * the calling thread, so a watchdog thread reports it instead of a silent
 * hang (the bound only matters when the test is already stuck). */
static int huge_step_done; /* atomic: bumped after each case */
static int huge_finished;  /* atomic */

static void *watchdog_main(void *arg)
{
    (void)arg;
    int last = -1;
    double since = check_now();
    while (!__atomic_load_n(&huge_finished, __ATOMIC_SEQ_CST)) {
        int now = __atomic_load_n(&huge_step_done, __ATOMIC_SEQ_CST);
        if (now != last) {
            last = now;
            since = check_now();
        } else if (check_now() - since > 90) {
            fprintf(stderr, "FAIL: test_huge_idle_timeout case %d made no progress for 90 s: the "
                            "context is deadlocked\n", now);
            _exit(1);
        }
        check_sleep(0.05);
    }
    return NULL;
}

static void test_huge_idle_timeout(void)
{
    static const double huge[] = { 1e12, 1e19, 1e30, 1.79769313486231570e308, (double)INFINITY };
    pthread_t dog;
    CHECK_EQ(pthread_create(&dog, NULL, watchdog_main, NULL), 0);
    for (size_t i = 0; i < sizeof huge / sizeof huge[0]; i++) {
        evaio_ctx *ctx = new_ctx(2, 0, huge[i]);
        rendezvous(ctx, 2);
        check_sleep(0.2);
        unsigned n = evaio_ctx_nthreads(ctx);
        if (n != 2) {
            fprintf(stderr, "FAIL: idle_timeout %g: idle threads reaped at once (%u of 2 left)\n",
                    huge[i], n);
            soft_failures++;
        }
        /* Lowering it still applies to the idle threads. */
        evaio_ctx_set_idle_timeout(ctx, 0.01);
        CHECK_EVENTUALLY(evaio_ctx_nthreads(ctx) == 0);
        CHECK_EQ(evaio_ctx_free(ctx), 0);
        __atomic_add_fetch(&huge_step_done, 1, __ATOMIC_SEQ_CST);
    }
    __atomic_store_n(&huge_finished, 1, __ATOMIC_SEQ_CST);
    CHECK_EQ(pthread_join(dog, NULL), 0);
}

/* ---- signals ------------------------------------------------------------- */

static const int probe_signals[] = { SIGINT, SIGTERM, SIGUSR1, SIGUSR2, SIGHUP,
                                     SIGQUIT, SIGPIPE, SIGALRM, SIGCHLD, SIGWINCH };
#define NPROBE ((int)(sizeof probe_signals / sizeof probe_signals[0]))

/* Returns how many of the probed signals are NOT blocked on this worker. */
static int64_t sigmask_fn(evaio_req *req)
{
    (void)req;
    sigset_t set;
    sigemptyset(&set);
    if (pthread_sigmask(SIG_BLOCK, NULL, &set) != 0)
        return -1;
    int unblocked = 0;
    for (int i = 0; i < NPROBE; i++)
        if (!sigismember(&set, probe_signals[i])) {
            fprintf(stderr, "signal %d not blocked on a worker\n", probe_signals[i]);
            unblocked++;
        }
    return unblocked;
}

static int mask_checks;
static int sigmask_cb(evaio_req *req)
{
    CHECK_EQ(req->result, 0);
    mask_checks++;
    return 0;
}

static void check_main_mask_empty(void)
{
    sigset_t set;
    CHECK_EQ(pthread_sigmask(SIG_BLOCK, NULL, &set), 0);
    for (int i = 0; i < NPROBE; i++)
        CHECK(!sigismember(&set, probe_signals[i]));
}

static void test_signals(void)
{
    /* The caller blocks nothing, so workers could only inherit an empty mask. */
    sigset_t none;
    sigemptyset(&none);
    CHECK_EQ(pthread_sigmask(SIG_SETMASK, &none, NULL), 0);

    /* A thread started on demand. */
    evaio_ctx *ctx = new_ctx(2, 2, 3600);
    mask_checks = 0;
    for (int i = 0; i < 4; i++)
        CHECK(evaio_ctx_custom(ctx, sigmask_fn, 0, sigmask_cb, NULL) != NULL);
    CHECK_EQ(evaio_ctx_wait(ctx), 0);
    CHECK_EQ(mask_checks, 4);
    check_main_mask_empty(); /* the caller's mask is left alone */
    CHECK_EQ(evaio_ctx_free(ctx), 0);

    /* A thread started eagerly by min_parallel. */
    ctx = new_ctx(1, 1, 3600);
    evaio_ctx_set_min_parallel(ctx, 1);
    CHECK_EVENTUALLY(evaio_ctx_nthreads(ctx) == 1);
    check_main_mask_empty();
    mask_checks = 0;
    CHECK(evaio_ctx_custom(ctx, sigmask_fn, 0, sigmask_cb, NULL) != NULL);
    CHECK_EQ(evaio_ctx_wait(ctx), 0);
    CHECK_EQ(mask_checks, 1);
    CHECK_EQ(evaio_ctx_nthreads(ctx), 1);
    CHECK_EQ(evaio_ctx_free(ctx), 0);
}

/* Raising max_parallel starts threads for work already queued: 4 requests
 * that can only finish together, queued behind a limit of 1. */
static void test_raise_max_parallel(void)
{
    evaio_ctx *ctx = new_ctx(1, 4, 10.0);
    reset_tracking(ctx);
    __atomic_store_n(&rendezvous_n, 4, __ATOMIC_SEQ_CST);
    ok_calls = 0;
    for (int i = 0; i < 4; i++)
        CHECK(evaio_ctx_custom(ctx, rendezvous_fn, 0, ok_cb, NULL) != NULL);
    CHECK_EVENTUALLY(__atomic_load_n(&arrived, __ATOMIC_SEQ_CST) == 1);
    evaio_ctx_set_max_parallel(ctx, 4);
    CHECK_EQ(evaio_ctx_wait(ctx), 0);
    CHECK_EQ(ok_calls, 4);
    CHECK_EQ(__atomic_load_n(&peak, __ATOMIC_SEQ_CST), 4);
    CHECK_EQ(evaio_ctx_free(ctx), 0);
}

#ifdef __linux__
/* Workers sleep as long as asked: their timer slack is 1 ns, not the 50 us
 * default that would add up over a pool of short sleeps. */
static int64_t slack_fn(evaio_req *req)
{
    (void)req;
    return prctl(PR_GET_TIMERSLACK, 0UL, 0UL, 0UL, 0UL);
}

static void test_timer_slack(void)
{
    evaio_ctx *ctx = evaio_ctx_new();
    CHECK(ctx != NULL);
    evaio_req req;
    evaio_custom_init(&req, slack_fn, NULL, NULL);
    CHECK_EQ(evaio_ctx_start(ctx, &req), 0);
    CHECK_EQ(evaio_ctx_wait(ctx), 0);
    CHECK_EQ(req.result, 1);
    CHECK(prctl(PR_GET_TIMERSLACK, 0UL, 0UL, 0UL, 0UL) > 1); /* this thread keeps its own */
    CHECK_EQ(evaio_ctx_free(ctx), 0);
}
#endif

/* max_running: that many submissions to an idle pool each get a worker at
 * once (each starts a thread here), not only the default number (the
 * processors minus one) with the rest left to the watcher. */
static int running_gate[2];
static int64_t running_gate_fn(evaio_req *req)
{
    (void)req;
    char c;
    CHECK_EQ(read(running_gate[0], &c, 1), 1);
    return 0;
}

static void test_max_running(void)
{
    CHECK_EQ(pipe(running_gate), 0);
    evaio_ctx *ctx = evaio_ctx_new();
    CHECK(ctx != NULL);
    evaio_ctx_set_max_parallel(ctx, 4);
    evaio_ctx_set_max_running(ctx, 4);
    for (int i = 0; i < 4; i++)
        CHECK(evaio_ctx_custom(ctx, running_gate_fn, 0, NULL, NULL) != NULL);
    CHECK_EQ(evaio_ctx_nthreads(ctx), 4);
    for (int i = 0; i < 4; i++)
        CHECK_EQ(write(running_gate[1], "x", 1), 1);
    CHECK_EQ(evaio_ctx_wait(ctx), 0);
    /* Back to the default: a setting of 0 is accepted and the pool works. */
    evaio_ctx_set_max_running(ctx, 0);
    CHECK(evaio_ctx_custom(ctx, running_gate_fn, 0, NULL, NULL) != NULL);
    CHECK_EQ(write(running_gate[1], "x", 1), 1);
    CHECK_EQ(evaio_ctx_wait(ctx), 0);
    CHECK_EQ(evaio_ctx_free(ctx), 0);
    close(running_gate[0]);
    close(running_gate[1]);
}

int main(void)
{
    test_max_running();
#ifdef __linux__
    test_timer_slack();
#endif
    test_signals();
    test_counters();
    test_max_parallel();
    test_idle_reaping();
    test_min_parallel();
    test_lower_max_parallel_busy();
    test_raise_max_parallel();
    test_huge_idle_timeout();
    return soft_failures ? 1 : 0;
}
