/* Independent contexts: separate poll fds, result queues, counters, thread
 * limits and hooks; evaio_ctx_free refuses from the context's own callbacks
 * and for the default context. */
#include "check.h"

#include <poll.h>
#include <pthread.h>

static int readable(int fd)
{
    struct pollfd p = { .fd = fd, .events = POLLIN };
    int r;
    while ((r = poll(&p, 1, 0)) < 0 && errno == EINTR)
        ;
    CHECK(r >= 0);
    return r == 1 && (p.revents & POLLIN);
}

/* Callbacks record which context's request they belong to. */
static int calls_a, calls_b, calls_default;
static int cb_a(evaio_req *req)
{
    CHECK_EQ(req->result, 0);
    calls_a++;
    return 0;
}
static int cb_b(evaio_req *req)
{
    CHECK_EQ(req->result, 0);
    calls_b++;
    return 0;
}
static int cb_default(evaio_req *req)
{
    CHECK_EQ(req->result, 0);
    calls_default++;
    return 0;
}

static unsigned want_a, want_b; /* atomics */
static void hook_a(evaio_ctx *ctx, void *data)
{
    (void)ctx;
    (void)data;
    __atomic_add_fetch(&want_a, 1, __ATOMIC_SEQ_CST);
}
static void hook_b(evaio_ctx *ctx, void *data)
{
    (void)ctx;
    (void)data;
    __atomic_add_fetch(&want_b, 1, __ATOMIC_SEQ_CST);
}

/* A gate that holds a worker. */
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

static void wait_gate_started(int n)
{
    pthread_mutex_lock(&gate_mutex);
    while (gate_started < n)
        pthread_cond_wait(&gate_cond, &gate_mutex);
    pthread_mutex_unlock(&gate_mutex);
}

static void open_gate(void)
{
    pthread_mutex_lock(&gate_mutex);
    gate_open = 1;
    pthread_cond_broadcast(&gate_cond);
    pthread_mutex_unlock(&gate_mutex);
}

/* Requests that finish only when `rv_need` of them execute together. */
static int rv_arrived, rv_need; /* atomics */
static int64_t rendezvous_fn(evaio_req *req)
{
    (void)req;
    __atomic_add_fetch(&rv_arrived, 1, __ATOMIC_SEQ_CST);
    double deadline = check_now() + 30.0;
    while (__atomic_load_n(&rv_arrived, __ATOMIC_SEQ_CST) < __atomic_load_n(&rv_need, __ATOMIC_SEQ_CST))
        if (check_now() > deadline) {
            errno = ETIMEDOUT;
            return -1;
        }
        else
            check_sleep(0.0005);
    return 0;
}

static void test_isolation(void)
{
    evaio_ctx *a = evaio_ctx_new(), *b = evaio_ctx_new();
    CHECK(a != NULL && b != NULL && a != b);
    CHECK(a != evaio_default_ctx() && b != evaio_default_ctx());
    int fa = evaio_ctx_poll_fd(a), fb = evaio_ctx_poll_fd(b), fd = evaio_ctx_poll_fd(NULL);
    CHECK(fa >= 0 && fb >= 0 && fd >= 0);
    CHECK(fa != fb && fa != fd && fb != fd);
    CHECK_EQ(evaio_poll_fd(), fd);

    evaio_ctx_set_max_parallel(a, 1);
    evaio_ctx_set_max_idle(a, 1);
    evaio_ctx_set_idle_timeout(a, 3600);
    evaio_ctx_set_max_parallel(b, 3);
    evaio_ctx_set_max_idle(b, 3);
    evaio_ctx_set_idle_timeout(b, 3600);
    evaio_ctx_set_hooks(a, hook_a, NULL, NULL);
    evaio_ctx_set_hooks(b, hook_b, NULL, NULL);

    /* A result of A is not delivered by polling B (nor the default). */
    CHECK(evaio_ctx_nop(a, 0, cb_a, NULL) != NULL);
    CHECK_EVENTUALLY(evaio_ctx_npending(a) == 1);
    CHECK_EQ(evaio_ctx_nreqs(a), 1);
    CHECK_EQ(evaio_ctx_nreqs(b), 0);
    CHECK_EQ(evaio_ctx_npending(b), 0);
    CHECK_EQ(evaio_ctx_nreqs(NULL), 0);
    CHECK(readable(fa));
    CHECK(!readable(fb));
    CHECK(!readable(fd));
    CHECK_EQ(__atomic_load_n(&want_a, __ATOMIC_SEQ_CST), 1);
    CHECK_EQ(__atomic_load_n(&want_b, __ATOMIC_SEQ_CST), 0);
    CHECK_EQ(evaio_ctx_poll(b), 0);
    CHECK_EQ(evaio_poll(), 0);
    CHECK_EQ(calls_a, 0);
    CHECK_EQ(evaio_ctx_npending(a), 1);
    CHECK_EQ(evaio_ctx_poll(a), 0);
    CHECK_EQ(calls_a, 1);
    CHECK(!readable(fa));

    /* Separate thread limits: A's single worker is held by a gate and A has
     * more queued, yet B runs three at once. */
    CHECK(evaio_ctx_custom(a, gate_fn, 0, cb_a, NULL) != NULL);
    wait_gate_started(1);
    CHECK(evaio_ctx_nop(a, 0, cb_a, NULL) != NULL);
    CHECK_EQ(evaio_ctx_nready(a), 1);
    CHECK_EQ(evaio_ctx_nthreads(a), 1);

    __atomic_store_n(&rv_need, 3, __ATOMIC_SEQ_CST);
    for (int i = 0; i < 3; i++)
        CHECK(evaio_ctx_custom(b, rendezvous_fn, 0, cb_b, NULL) != NULL);
    CHECK_EVENTUALLY(evaio_ctx_npending(b) == 3);
    CHECK_EQ(evaio_ctx_nthreads(b), 3);
    CHECK_EQ(evaio_ctx_nthreads(a), 1);
    CHECK_EQ(evaio_ctx_nready(a), 1);
    CHECK_EQ(evaio_ctx_npending(a), 0);
    CHECK_EQ(evaio_ctx_nreqs(a), 2);
    CHECK_EQ(evaio_ctx_nreqs(b), 3);
    CHECK(readable(fb));
    CHECK(!readable(fa));
    CHECK_EQ(__atomic_load_n(&want_a, __ATOMIC_SEQ_CST), 1);
    CHECK_EQ(__atomic_load_n(&want_b, __ATOMIC_SEQ_CST), 1);
    CHECK_EQ(evaio_ctx_poll(a), 0);
    CHECK_EQ(calls_b, 0);
    CHECK_EQ(evaio_ctx_poll(b), 0); /* fails in cb_b if the rendezvous timed out */
    CHECK_EQ(calls_b, 3);
    CHECK_EQ(calls_a, 1);

    /* Poll limits are per context. */
    evaio_ctx_set_max_poll_reqs(b, 1);
    for (int i = 0; i < 3; i++)
        CHECK(evaio_ctx_nop(b, 0, cb_b, NULL) != NULL);
    CHECK_EVENTUALLY(evaio_ctx_npending(b) == 3);
    CHECK_EQ(evaio_ctx_poll(b), -1);
    CHECK_EQ(calls_b, 4);
    CHECK_EQ(evaio_ctx_wait(b), 0);
    CHECK_EQ(calls_b, 6);

    /* (Freeing with requests outstanding is test_shutdown's.) */
    open_gate();
    CHECK_EQ(evaio_ctx_wait(a), 0);
    CHECK_EQ(calls_a, 3);
    CHECK_EQ(evaio_ctx_nreqs(a), 0);
    CHECK_EQ(evaio_ctx_free(a), 0);

    /* B is unaffected by A's end, and frees with idle threads alive. */
    CHECK(evaio_ctx_nop(b, 0, cb_b, NULL) != NULL);
    CHECK_EQ(evaio_ctx_wait(b), 0);
    CHECK_EQ(calls_b, 7);
    CHECK(evaio_ctx_nthreads(b) >= 1);
    CHECK_EQ(evaio_ctx_free(b), 0);
    CHECK_EQ(evaio_ctx_nreqs(NULL), 0);
    CHECK_EQ(calls_default, 0);
}

/* A callback's own request is outstanding until the callback has run, so
 * its context cannot be freed from inside it. */
static int free_attempts;
static int free_own_ctx_cb(evaio_req *req)
{
    evaio_ctx *c = req->data;
    CHECK_EQ(evaio_ctx_nreqs(c), 1);
    errno = 0;
    CHECK_EQ(evaio_ctx_free(c), -1);
    CHECK_EQ(errno, EBUSY);
    free_attempts++;
    return 0;
}

/* A caller-owned request started on a context (not the default). */
static void test_caller_owned_on_ctx(void)
{
    evaio_ctx *c = evaio_ctx_new();
    CHECK(c != NULL);
    evaio_req r;
    evaio_nop_init(&r, cb_b, NULL);
    calls_b = 0;
    CHECK_EQ(evaio_ctx_start(c, &r), 0);
    CHECK_EVENTUALLY(evaio_ctx_npending(c) == 1);
    CHECK_EQ(evaio_ctx_nreqs(NULL), 0);
    CHECK_EQ(evaio_poll(), 0);
    CHECK_EQ(calls_b, 0);
    CHECK_EQ(evaio_ctx_wait(c), 0);
    CHECK_EQ(calls_b, 1);

    CHECK(evaio_ctx_nop(c, 0, free_own_ctx_cb, c) != NULL);
    CHECK_EQ(evaio_ctx_wait(c), 0);
    CHECK_EQ(free_attempts, 1);
    CHECK_EQ(evaio_ctx_free(c), 0);
}

static void test_free_rules(void)
{
    /* The default context cannot be freed, whichever way it is named. */
    errno = 0;
    CHECK_EQ(evaio_ctx_free(NULL), -1);
    CHECK_EQ(errno, EINVAL);
    evaio_ctx *def = evaio_default_ctx();
    CHECK(def != NULL);
    CHECK(evaio_default_ctx() == def);
    errno = 0;
    CHECK_EQ(evaio_ctx_free(def), -1);
    CHECK_EQ(errno, EINVAL);
    /* ... and still works afterwards. */
    CHECK(evaio_nop(0, cb_default, NULL) != NULL);
    CHECK_EQ(evaio_wait(), 0);
    CHECK_EQ(calls_default, 1);
    CHECK(evaio_ctx_nop(def, 0, cb_default, NULL) != NULL);
    CHECK_EQ(evaio_ctx_wait(NULL), 0);
    CHECK_EQ(calls_default, 2);

    /* A context that never ran anything, and one with eager threads. */
    evaio_ctx *c = evaio_ctx_new();
    CHECK(c != NULL);
    CHECK_EQ(evaio_ctx_free(c), 0);
    c = evaio_ctx_new();
    CHECK(c != NULL);
    evaio_ctx_set_min_parallel(c, 2);
    CHECK_EVENTUALLY(evaio_ctx_nthreads(c) == 2);
    CHECK_EQ(evaio_ctx_free(c), 0);

    /* Many contexts at once, each with its own fd. */
    enum { N = 16 };
    evaio_ctx *many[N];
    int fds[N];
    for (int i = 0; i < N; i++) {
        many[i] = evaio_ctx_new();
        CHECK(many[i] != NULL);
        fds[i] = evaio_ctx_poll_fd(many[i]);
        for (int j = 0; j < i; j++)
            CHECK(fds[i] != fds[j]);
        CHECK(evaio_ctx_nop(many[i], 0, cb_b, NULL) != NULL);
    }
    calls_b = 0;
    for (int i = N - 1; i >= 0; i--) {
        CHECK_EQ(evaio_ctx_wait(many[i]), 0);
        CHECK_EQ(calls_b, N - i);
        CHECK_EQ(evaio_ctx_free(many[i]), 0);
    }
}

int main(void)
{
    test_isolation();
    test_caller_owned_on_ctx();
    test_free_rules();
    return 0;
}
