/* Event-loop ties: the want_poll / done_poll hooks (once per batch, strictly
 * alternating) and the poll fd (readable exactly while results wait), alone
 * and driving small event loops. */
#include "check.h"

#include <poll.h>
#include <pthread.h>

static evaio_ctx *the_ctx;
static int hook_marker;
static unsigned want_calls, done_calls; /* atomics */
static int results_waiting;              /* as the hooks see it; under the hooks' lock */
static int hook_errors;                  /* atomic */

static void want_hook(evaio_ctx *ctx, void *data)
{
    if (ctx != the_ctx || data != &hook_marker || results_waiting)
        __atomic_fetch_add(&hook_errors, 1, __ATOMIC_SEQ_CST);
    results_waiting = 1;
    __atomic_fetch_add(&want_calls, 1, __ATOMIC_SEQ_CST);
}

static void done_hook(evaio_ctx *ctx, void *data)
{
    if (ctx != the_ctx || data != &hook_marker || !results_waiting)
        __atomic_fetch_add(&hook_errors, 1, __ATOMIC_SEQ_CST);
    results_waiting = 0;
    __atomic_fetch_add(&done_calls, 1, __ATOMIC_SEQ_CST);
}

static unsigned wants(void) { return __atomic_load_n(&want_calls, __ATOMIC_SEQ_CST); }
static unsigned dones(void) { return __atomic_load_n(&done_calls, __ATOMIC_SEQ_CST); }

static int readable(int fd)
{
    struct pollfd p = { .fd = fd, .events = POLLIN };
    int r;
    while ((r = poll(&p, 1, 0)) < 0 && errno == EINTR)
        ;
    CHECK(r >= 0);
    return r == 1 && (p.revents & POLLIN);
}

static int ncalls;
static int ret_first; /* the next callback returns this, once */
static int count_cb(evaio_req *req)
{
    (void)req;
    ncalls++;
    int r = ret_first;
    ret_first = 0;
    return r;
}

static void submit_nops(evaio_ctx *ctx, int n)
{
    for (int i = 0; i < n; i++)
        CHECK(evaio_ctx_nop(ctx, 0, count_cb, NULL) != NULL);
}

static void test_hooks_and_fd(void)
{
    evaio_ctx *ctx = the_ctx = evaio_ctx_new();
    CHECK(ctx != NULL);
    evaio_ctx_set_max_parallel(ctx, 4);
    evaio_ctx_set_hooks(ctx, want_hook, done_hook, &hook_marker);
    int fd = evaio_ctx_poll_fd(ctx);
    CHECK(fd >= 0);
    CHECK_EQ(evaio_ctx_poll_fd(ctx), fd); /* stable */

    /* Nothing yet: not readable, no hook; polling empty calls no hook. */
    CHECK(!readable(fd));
    CHECK_EQ(evaio_ctx_poll(ctx), 0);
    CHECK_EQ(wants(), 0);
    CHECK_EQ(dones(), 0);

    /* 10 results accumulate while nobody polls: one want_poll for the batch. */
    submit_nops(ctx, 10);
    CHECK_EVENTUALLY(evaio_ctx_npending(ctx) == 10);
    CHECK_EQ(wants(), 1);
    CHECK_EQ(dones(), 0);
    CHECK(readable(fd));
    CHECK(readable(fd)); /* checking does not consume it */

    ncalls = 0;
    CHECK_EQ(evaio_ctx_poll(ctx), 0);
    CHECK_EQ(ncalls, 10);
    CHECK_EQ(dones(), 1);
    CHECK_EQ(wants(), 1);
    CHECK(!readable(fd));

    /* A new batch: readable again, want_poll again; a result arriving while
     * another waits does not call want_poll again. */
    submit_nops(ctx, 1);
    CHECK_EVENTUALLY(evaio_ctx_npending(ctx) == 1);
    CHECK_EQ(wants(), 2);
    CHECK(readable(fd));
    submit_nops(ctx, 1);
    CHECK_EVENTUALLY(evaio_ctx_npending(ctx) == 2);
    CHECK_EQ(wants(), 2);
    CHECK(readable(fd));
    CHECK_EQ(evaio_ctx_poll(ctx), 0);
    CHECK_EQ(dones(), 2);
    CHECK(!readable(fd));

    /* A poll stopped by max_poll_reqs leaves results waiting: still readable,
     * no done_poll until drained. */
    evaio_ctx_set_max_poll_reqs(ctx, 3);
    submit_nops(ctx, 10);
    CHECK_EVENTUALLY(evaio_ctx_npending(ctx) == 10);
    CHECK_EQ(wants(), 3);
    ncalls = 0;
    for (int i = 0; i < 3; i++) {
        errno = 0;
        CHECK_EQ(evaio_ctx_poll(ctx), -1);
        CHECK_EQ(errno, EAGAIN);
        CHECK(readable(fd));
        CHECK_EQ(dones(), 2);
    }
    CHECK_EQ(evaio_ctx_poll(ctx), 0);
    CHECK_EQ(ncalls, 10);
    CHECK(!readable(fd));
    CHECK_EQ(dones(), 3);
    CHECK_EQ(wants(), 3);
    evaio_ctx_set_max_poll_reqs(ctx, 0);

    /* A poll stopped by a callback's return value: likewise. */
    submit_nops(ctx, 3);
    CHECK_EVENTUALLY(evaio_ctx_npending(ctx) == 3);
    CHECK_EQ(wants(), 4);
    ret_first = 5;
    CHECK_EQ(evaio_ctx_poll(ctx), 5);
    CHECK(readable(fd));
    CHECK_EQ(dones(), 3);
    CHECK_EQ(evaio_ctx_poll(ctx), 0);
    CHECK(!readable(fd));
    CHECK_EQ(dones(), 4);

    /* A request refused in the callback (NULL path) is a result like any
     * other, whichever thread queues it. */
    evaio_req r;
    evaio_stat_init(&r, NULL, NULL, count_cb, NULL);
    CHECK_EQ(evaio_ctx_start(ctx, &r), 0);
    CHECK_EVENTUALLY(evaio_ctx_npending(ctx) == 1);
    CHECK_EQ(wants(), 5);
    CHECK(readable(fd));
    ncalls = 0;
    CHECK_EQ(evaio_ctx_poll(ctx), 0);
    CHECK_EQ(ncalls, 1);
    CHECK_EQ(r.result, -1);
    CHECK_EQ(r.errorno, EFAULT);
    CHECK(!readable(fd));
    CHECK_EQ(dones(), 5);

    /* Removing the hooks: no more calls, the fd still works. */
    evaio_ctx_set_hooks(ctx, NULL, NULL, NULL);
    submit_nops(ctx, 2);
    CHECK_EVENTUALLY(evaio_ctx_npending(ctx) == 2);
    CHECK(readable(fd));
    CHECK_EQ(evaio_ctx_poll(ctx), 0);
    CHECK(!readable(fd));
    CHECK_EQ(wants(), 5);
    CHECK_EQ(dones(), 5);

    CHECK_EQ(__atomic_load_n(&hook_errors, __ATOMIC_SEQ_CST), 0);
    CHECK_EQ(evaio_ctx_nreqs(ctx), 0);
    CHECK_EQ(evaio_ctx_free(ctx), 0);
}

/* ---- small event loops --------------------------------------------------- */

#define LOOP_N 300

struct feeder {
    evaio_ctx *ctx;
    int n;
};

static int loop_calls;
static int loop_cb(evaio_req *req)
{
    (void)req;
    loop_calls++;
    return 0;
}

/* Submits requests in small bursts with pauses, so results arrive both while
 * the loop sleeps and while it polls. */
static void *feeder_main(void *arg)
{
    struct feeder *f = arg;
    for (int i = 0; i < f->n; i++) {
        if (i % 3 == 0)
            CHECK(evaio_ctx_busy(f->ctx, 0.0005, (i % 9) - 4, loop_cb, NULL) != NULL);
        else
            CHECK(evaio_ctx_nop(f->ctx, (i % 9) - 4, loop_cb, NULL) != NULL);
        if (i % 7 == 0)
            check_sleep(0.001);
    }
    return NULL;
}

static int wake_pipe[2];

static void pipe_want_hook(evaio_ctx *ctx, void *data)
{
    (void)ctx;
    (void)data;
    char c = 1;
    ssize_t r;
    do
        r = write(wake_pipe[1], &c, 1);
    while (r < 0 && errno == EINTR);
}

/* Blocks until fd is readable; fails after a generous bound (a missed
 * wake-up would hang forever). */
static void wait_readable(int fd)
{
    struct pollfd p = { .fd = fd, .events = POLLIN };
    int r;
    while ((r = poll(&p, 1, 30000)) < 0 && errno == EINTR)
        ;
    if (r == 0)
        fprintf(stderr, "no wake-up within 30 s: missed notification\n");
    CHECK_EQ(r, 1);
}

/* An edge-triggered loop driven by want_poll writing to a self-pipe, with a
 * poll limit: EAGAIN means "call again now", anything else "sleep until the
 * next want_poll". */
static void test_want_poll_loop(void)
{
    CHECK_EQ(pipe(wake_pipe), 0);
    evaio_ctx *ctx = evaio_ctx_new();
    CHECK(ctx != NULL);
    evaio_ctx_set_max_parallel(ctx, 3);
    evaio_ctx_set_max_poll_reqs(ctx, 4);
    evaio_ctx_set_hooks(ctx, pipe_want_hook, NULL, NULL);

    struct feeder f = { ctx, LOOP_N };
    pthread_t th;
    loop_calls = 0;
    CHECK_EQ(pthread_create(&th, NULL, feeder_main, &f), 0);
    int again = 0;
    while (loop_calls < LOOP_N) {
        if (!again) {
            wait_readable(wake_pipe[0]);
            char buf[64];
            CHECK(read(wake_pipe[0], buf, sizeof buf) > 0);
        }
        errno = 0;
        int r = evaio_ctx_poll(ctx);
        CHECK(r == 0 || (r == -1 && errno == EAGAIN));
        again = r == -1;
    }
    CHECK_EQ(pthread_join(th, NULL), 0);
    CHECK_EQ(loop_calls, LOOP_N);
    CHECK_EQ(evaio_ctx_nreqs(ctx), 0);
    CHECK_EQ(evaio_ctx_free(ctx), 0);
    close(wake_pipe[0]);
    close(wake_pipe[1]);
}

/* A level-triggered loop on the poll fd, with no hooks. */
static void test_poll_fd_loop(void)
{
    evaio_ctx *ctx = evaio_ctx_new();
    CHECK(ctx != NULL);
    evaio_ctx_set_max_parallel(ctx, 3);
    evaio_ctx_set_max_poll_reqs(ctx, 5);
    int fd = evaio_ctx_poll_fd(ctx);

    struct feeder f = { ctx, LOOP_N };
    pthread_t th;
    loop_calls = 0;
    CHECK_EQ(pthread_create(&th, NULL, feeder_main, &f), 0);
    while (loop_calls < LOOP_N) {
        wait_readable(fd);
        errno = 0;
        int r = evaio_ctx_poll(ctx);
        CHECK(r == 0 || (r == -1 && errno == EAGAIN));
    }
    CHECK_EQ(pthread_join(th, NULL), 0);
    CHECK(!readable(fd));
    CHECK_EQ(evaio_ctx_nreqs(ctx), 0);
    CHECK_EQ(evaio_ctx_free(ctx), 0);
}

/* Hooks installed while results already wait are told at once. */
static void test_hooks_set_late(void)
{
    evaio_ctx *ctx = the_ctx = evaio_ctx_new();
    CHECK(ctx != NULL);
    __atomic_store_n(&want_calls, 0, __ATOMIC_SEQ_CST);
    __atomic_store_n(&done_calls, 0, __ATOMIC_SEQ_CST);
    results_waiting = 0;
    submit_nops(ctx, 2);
    CHECK_EVENTUALLY(evaio_ctx_npending(ctx) == 2);
    evaio_ctx_set_hooks(ctx, want_hook, done_hook, &hook_marker);
    CHECK_EQ(wants(), 1);
    CHECK_EQ(evaio_ctx_poll(ctx), 0);
    CHECK_EQ(dones(), 1);
    CHECK_EQ(__atomic_load_n(&hook_errors, __ATOMIC_SEQ_CST), 0);
    CHECK_EQ(evaio_ctx_free(ctx), 0);
}

int main(void)
{
    test_hooks_and_fd();
    test_hooks_set_late();
    test_want_poll_loop();
    test_poll_fd_loop();
    return 0;
}
