/* fork: the child gets a working, empty library — no inherited requests, no
 * threads until it submits, the poll fd at the same number but its own, every
 * setting kept — and the parent's requests all complete in the parent.
 * Also fork from inside a callback, with min_parallel threads alive, and
 * with results waiting.  Children leave with _exit (their copies of the
 * parent's in-flight requests are not theirs to free). */
#include "check.h" /* first: it sets _GNU_SOURCE */
#include <fcntl.h>
#include <poll.h>
#include <sys/wait.h>

static int parent_cbs, child_cbs;
static int in_child;

static int count_cb(evaio_req *req)
{
    if (in_child)
        child_cbs++;
    else
        parent_cbs++;
    (void)req;
    return 0;
}

static int readable(int fd)
{
    struct pollfd p = { .fd = fd, .events = POLLIN };
    return poll(&p, 1, 0) == 1;
}

/* Runs fn in a child and returns its exit status (0: all its checks held). */
static int in_a_child(void (*fn)(void *), void *arg)
{
    fflush(NULL);
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        in_child = 1;
        fn(arg);
        _exit(0);
    }
    int status;
    CHECK_EQ(waitpid(pid, &status, 0), pid);
    CHECK(WIFEXITED(status));
    return WEXITSTATUS(status);
}

/* Child side: CHECK exits 1, which the parent sees. */
static void child_uses_library(void *arg)
{
    evaio_ctx *ctx = arg;
    CHECK_EQ(evaio_ctx_nreqs(ctx), 0);
    CHECK_EQ(evaio_ctx_nready(ctx), 0);
    CHECK_EQ(evaio_ctx_npending(ctx), 0);
    CHECK_EQ(evaio_ctx_nthreads(ctx), 0);
    CHECK(!readable(evaio_ctx_poll_fd(ctx)));
    struct stat st;
    CHECK(evaio_ctx_stat(ctx, "/", &st, 0, count_cb, NULL) != NULL);
    CHECK_EQ(evaio_ctx_wait(ctx), 0);
    CHECK_EQ(child_cbs, 1); /* its own, none of the parent's */
    CHECK(S_ISDIR(st.st_mode));
    CHECK_EQ(evaio_ctx_nreqs(ctx), 0);
    CHECK(!readable(evaio_ctx_poll_fd(ctx)));
}

static void test_queued_and_running(void)
{
    fprintf(stderr, "-- fork with requests queued, running and waiting\n");
    evaio_ctx *ctx = evaio_ctx_new();
    CHECK(ctx != NULL);
    evaio_ctx_set_max_parallel(ctx, 2);
    evaio_ctx_set_max_poll_reqs(ctx, 7); /* a setting the child keeps */
    int fd_before = evaio_ctx_poll_fd(ctx);
    parent_cbs = 0;
    CHECK(evaio_ctx_nop(ctx, 0, count_cb, NULL) != NULL); /* its result will wait */
    CHECK_EVENTUALLY(evaio_ctx_npending(ctx) == 1);
    CHECK(evaio_ctx_busy(ctx, 0.3, 0, count_cb, NULL) != NULL);
    CHECK(evaio_ctx_busy(ctx, 0.3, 0, count_cb, NULL) != NULL);
    for (int i = 0; i < 10; i++)
        CHECK(evaio_ctx_stat(ctx, "/", NULL, 0, count_cb, NULL) != NULL);
    CHECK_EVENTUALLY(evaio_ctx_nthreads(ctx) == 2);
    CHECK(readable(fd_before));

    CHECK_EQ(in_a_child(child_uses_library, ctx), 0);

    /* The parent's own fd still works and every request completes here. */
    CHECK_EQ(evaio_ctx_poll_fd(ctx), fd_before);
    CHECK(readable(fd_before));
    CHECK_EQ(evaio_ctx_wait(ctx), 0);
    CHECK_EQ(parent_cbs, 13);
    CHECK_EQ(evaio_ctx_free(ctx), 0);
}

/* The default context too, and the fd number is the same in the child. */
static void child_default(void *arg)
{
    int fd = *(int *)arg;
    CHECK_EQ(evaio_poll_fd(), fd);
    CHECK_EQ(evaio_nreqs(), 0);
    CHECK(evaio_nop(0, count_cb, NULL) != NULL);
    CHECK_EQ(evaio_wait(), 0);
    CHECK_EQ(child_cbs, 1);
}

static void test_default_ctx(void)
{
    fprintf(stderr, "-- fork with the default context busy\n");
    int fd = evaio_poll_fd();
    parent_cbs = 0;
    for (int i = 0; i < 4; i++)
        CHECK(evaio_busy(0.1, 0, count_cb, NULL) != NULL);
    CHECK_EQ(in_a_child(child_default, &fd), 0);
    CHECK_EQ(evaio_wait(), 0);
    CHECK_EQ(parent_cbs, 4);
}

/* min_parallel threads: none in the child until it submits, then all. */
static void child_min(void *arg)
{
    evaio_ctx *ctx = arg;
    CHECK_EQ(evaio_ctx_nthreads(ctx), 0);
    CHECK(evaio_ctx_nop(ctx, 0, count_cb, NULL) != NULL);
    CHECK_EQ(evaio_ctx_wait(ctx), 0);
    /* The three kept ones (the nop may have started a fourth). */
    CHECK_EVENTUALLY(evaio_ctx_nthreads(ctx) >= 3);
}

static void test_min_parallel(void)
{
    fprintf(stderr, "-- fork with min_parallel threads alive\n");
    evaio_ctx *ctx = evaio_ctx_new();
    CHECK(ctx != NULL);
    evaio_ctx_set_min_parallel(ctx, 3);
    CHECK_EVENTUALLY(evaio_ctx_nthreads(ctx) == 3);
    CHECK_EQ(in_a_child(child_min, ctx), 0);
    CHECK_EQ(evaio_ctx_nthreads(ctx), 3);
    CHECK_EQ(evaio_ctx_free(ctx), 0);
}

/* Fork from inside a callback: the child goes on inside it, with a library
 * that knows of nothing but that callback; its group is the parent's. */
static int fork_status = -1;
static evaio_ctx *cb_ctx;

static void child_in_callback(void *arg)
{
    (void)arg;
    CHECK_EQ(evaio_ctx_nready(cb_ctx), 0);
    CHECK_EQ(evaio_ctx_nreqs(cb_ctx), 1); /* the callback running */
    struct stat st;
    CHECK(evaio_ctx_stat(cb_ctx, "/", &st, 0, count_cb, NULL) != NULL);
    CHECK_EQ(evaio_ctx_wait(cb_ctx), 0); /* from a callback: waits for the others */
    CHECK_EQ(child_cbs, 1);
    CHECK(S_ISDIR(st.st_mode));
}

static int forking_cb(evaio_req *req)
{
    (void)req;
    parent_cbs++;
    fork_status = in_a_child(child_in_callback, NULL);
    return 0;
}

static int group_cb(evaio_req *grp)
{
    (void)grp;
    parent_cbs += 100;
    return 0;
}

static void test_from_callback(void)
{
    fprintf(stderr, "-- fork from inside a callback\n");
    cb_ctx = evaio_ctx_new();
    CHECK(cb_ctx != NULL);
    parent_cbs = 0;
    evaio_req *grp = evaio_ctx_grp(cb_ctx, group_cb, NULL);
    CHECK(grp != NULL);
    evaio_req *req = evaio_ctx_nop(cb_ctx, 0, forking_cb, NULL);
    CHECK(req != NULL);
    CHECK_EQ(evaio_grp_add(grp, req), 0);
    for (int i = 0; i < 5; i++)
        CHECK(evaio_ctx_busy(cb_ctx, 0.05, 0, count_cb, NULL) != NULL);
    CHECK_EQ(evaio_ctx_wait(cb_ctx), 0);
    CHECK_EQ(fork_status, 0);
    CHECK_EQ(parent_cbs, 1 + 5 + 100); /* the group completed in the parent */
    CHECK_EQ(evaio_ctx_free(cb_ctx), 0);
}

/* A worker spinning for work at the fork (it just finished a request) does
 * not exist in the child: a nop there completes at once, without a thread. */
static int64_t quick_fn(evaio_req *req)
{
    (void)req;
    return 0;
}

static void child_nop_inline(void *arg)
{
    evaio_ctx *ctx = arg;
    CHECK(evaio_ctx_nop(ctx, 0, NULL, NULL) != NULL);
    CHECK_EQ(evaio_ctx_npending(ctx), 1);
    CHECK_EQ(evaio_ctx_nthreads(ctx), 0);
    CHECK_EQ(evaio_ctx_wait(ctx), 0);
}

static void test_spinning_worker(void)
{
    fprintf(stderr, "-- fork while a worker spins for work\n");
    evaio_ctx *ctx = evaio_ctx_new();
    CHECK(ctx != NULL);
    for (int i = 0; i < 20; i++) {
        CHECK(evaio_ctx_custom(ctx, quick_fn, 0, NULL, NULL) != NULL);
        CHECK_EQ(evaio_ctx_wait(ctx), 0);
        CHECK_EQ(in_a_child(child_nop_inline, ctx), 0);
    }
    CHECK_EQ(evaio_ctx_free(ctx), 0);
}

int main(void)
{
    check_tmpdir();
    test_spinning_worker();
    test_queued_and_running();
    test_default_ctx();
    test_min_parallel();
    test_from_callback();
    fprintf(stderr, "ok\n");
    return 0;
}
