/* Shutdown: evaio_ctx_free with requests queued, executing and waiting
 * cancels the queued ones, awaits the executing ones, runs every callback
 * exactly once on the calling thread, refuses new starts meanwhile
 * (ESHUTDOWN), and leaves no thread behind. */
#include "check.h" /* first: it sets _GNU_SOURCE */
#include <dirent.h>
#include <pthread.h>

enum { NQUEUED = 50 };

static int calls[NQUEUED + 8];
static int cancelled, real, refused_starts, group_calls;
static evaio_ctx *closing_ctx;
static pthread_t main_thread;

static int count_tasks(void)
{
    DIR *d = opendir("/proc/self/task");
    CHECK(d != NULL);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        n += e->d_name[0] != '.';
    closedir(d);
    return n;
}

static int cb(evaio_req *req)
{
    CHECK(pthread_equal(pthread_self(), main_thread));
    int i = (int)(intptr_t)req->data;
    calls[i]++;
    if (req->result == -1 && req->errorno == ECANCELED)
        cancelled++;
    else
        real++;
    /* A start from a callback during the shutdown is refused. */
    errno = 0;
    CHECK(evaio_ctx_nop(closing_ctx, 0, cb, NULL) == NULL);
    CHECK_EQ(errno, ESHUTDOWN);
    evaio_req own;
    evaio_nop_init(&own, cb, NULL);
    errno = 0;
    CHECK_EQ(evaio_ctx_start(closing_ctx, &own), -1);
    CHECK_EQ(errno, ESHUTDOWN);
    refused_starts++;
    return 0;
}

static int group_cb(evaio_req *grp)
{
    group_calls++;
    CHECK_EQ(grp->result, -1); /* its queued members were cancelled: it says so */
    return 0;
}

static int member_cb(evaio_req *req)
{
    evaio_req *grp = req->data;
    if (req->result < 0) {
        grp->result = -1;
        grp->errorno = req->errorno;
    }
    return 0;
}

static void test_free_with_work(void)
{
    fprintf(stderr, "-- free with requests executing, queued and waiting\n");
    int tasks = count_tasks();
    evaio_ctx *ctx = evaio_ctx_new();
    CHECK(ctx != NULL);
    closing_ctx = ctx;
    evaio_ctx_set_max_parallel(ctx, 1);
    /* One waiting result, one executing request, then NQUEUED queued behind
     * it (wrappers and caller-owned), and a group of queued members. */
    CHECK(evaio_ctx_nop(ctx, 0, cb, (void *)(intptr_t)NQUEUED) != NULL);
    CHECK_EVENTUALLY(evaio_ctx_npending(ctx) == 1);
    CHECK(evaio_ctx_busy(ctx, 0.2, 0, cb, (void *)(intptr_t)(NQUEUED + 1)) != NULL);
    CHECK_EVENTUALLY(evaio_ctx_nready(ctx) == 0); /* the worker has it */
    static evaio_req own[NQUEUED / 2];
    for (int i = 0; i < NQUEUED; i++) {
        if (i % 2) {
            CHECK(evaio_ctx_stat(ctx, "/", NULL, 0, cb, (void *)(intptr_t)i) != NULL);
        } else {
            evaio_stat_init(&own[i / 2], "/", NULL, cb, (void *)(intptr_t)i);
            CHECK_EQ(evaio_ctx_start(ctx, &own[i / 2]), 0);
        }
    }
    evaio_req *grp = evaio_ctx_grp(ctx, group_cb, NULL);
    CHECK(grp != NULL);
    for (int i = 0; i < 3; i++)
        CHECK_EQ(evaio_grp_add(grp, evaio_ctx_nop(ctx, 0, member_cb, grp)), 0);
    CHECK(count_tasks() > tasks);

    CHECK_EQ(evaio_ctx_free(ctx), 0);

    for (int i = 0; i < NQUEUED + 2; i++)
        CHECK_EQ(calls[i], 1);
    CHECK_EQ(cancelled, NQUEUED);   /* every queued one */
    CHECK_EQ(real, 2);              /* the waiting nop and the executing busy */
    CHECK_EQ(group_calls, 1);
    CHECK_EQ(refused_starts, NQUEUED + 2);
    CHECK_EQ(count_tasks(), tasks); /* no thread left behind */
}

static int free_from_cb(evaio_req *req)
{
    evaio_ctx *ctx = req->data;
    errno = 0;
    CHECK_EQ(evaio_ctx_free(ctx), -1);
    CHECK_EQ(errno, EBUSY);
    return 0;
}

static void test_refusals(void)
{
    fprintf(stderr, "-- refusals\n");
    errno = 0;
    CHECK_EQ(evaio_ctx_free(NULL), -1);
    CHECK_EQ(errno, EINVAL);
    errno = 0;
    CHECK_EQ(evaio_ctx_free(evaio_default_ctx()), -1);
    CHECK_EQ(errno, EINVAL);
    evaio_ctx *ctx = evaio_ctx_new();
    CHECK(ctx != NULL);
    CHECK(evaio_ctx_nop(ctx, 0, free_from_cb, ctx) != NULL);
    CHECK_EQ(evaio_ctx_wait(ctx), 0);
    CHECK_EQ(evaio_ctx_free(ctx), 0);
    /* An idle context with threads alive, and one never used. */
    ctx = evaio_ctx_new();
    evaio_ctx_set_min_parallel(ctx, 2);
    CHECK_EVENTUALLY(evaio_ctx_nthreads(ctx) == 2);
    CHECK_EQ(evaio_ctx_free(ctx), 0);
    CHECK_EQ(evaio_ctx_free(evaio_ctx_new()), 0);
}

static void *nothing(void *arg)
{
    return arg;
}

int main(void)
{
    main_thread = pthread_self();
    /* A first thread, so a sanitizer's helper thread exists before the
     * thread counts are taken. */
    pthread_t t;
    CHECK_EQ(pthread_create(&t, NULL, nothing, NULL), 0);
    CHECK_EQ(pthread_join(t, NULL), 0);
    test_free_with_work();
    test_refusals();
    fprintf(stderr, "ok\n");
    return 0;
}
