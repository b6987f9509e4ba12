/* When no worker thread can be started, a submission is refused cleanly:
 * NULL + EAGAIN from a wrapper, -1 + EAGAIN from evaio_start, the request
 * left idle and restartable, nothing counted as outstanding (so a waiter is
 * never left waiting for it), and the library works once threads can be
 * created again.  pthread_create is interposed (the library calls it through
 * the dynamic linker) to fail on demand. */
#include "check.h"

#include <dlfcn.h>
#include <pthread.h>

#define EXPORT __attribute__((visibility("default")))

static int failing;         /* atomic: pthread_create fails with EAGAIN */
static int hold, held;      /* atomic: a failing call waits until hold drops */

typedef void *(*start_fn)(void *);
EXPORT int pthread_create(pthread_t *t, const pthread_attr_t *a, start_fn fn, void *arg)
{
    static int (*real)(pthread_t *, const pthread_attr_t *, start_fn, void *);
    if (!real)
        real = (int (*)(pthread_t *, const pthread_attr_t *, start_fn, void *))dlsym(RTLD_NEXT,
                                                                                   "pthread_create");
    if (__atomic_load_n(&failing, __ATOMIC_ACQUIRE)) {
        __atomic_store_n(&held, 1, __ATOMIC_RELEASE);
        while (__atomic_load_n(&hold, __ATOMIC_ACQUIRE))
            check_sleep(0.001);
        return EAGAIN;
    }
    return real(t, a, fn, arg);
}

static int calls;
static int count_cb(evaio_req *req)
{
    CHECK_EQ(req->result, 0);
    calls++;
    return 0;
}

static evaio_ctx *ctx;
static int submit_errno, go; /* go: atomic */
static void *submitter(void *arg)
{
    (void)arg;
    while (!__atomic_load_n(&go, __ATOMIC_ACQUIRE))
        check_sleep(0.001);
    errno = 0;
    CHECK(evaio_ctx_busy(ctx, 0, 0, count_cb, NULL) == NULL);
    submit_errno = errno;
    return NULL;
}

int main(void)
{
    ctx = evaio_ctx_new();
    CHECK(ctx != NULL);
    __atomic_store_n(&failing, 1, __ATOMIC_RELEASE);

    /* Both styles are refused with EAGAIN. */
    errno = 0;
    CHECK(evaio_ctx_busy(ctx, 0, 0, count_cb, NULL) == NULL);
    CHECK_EQ(errno, EAGAIN);
    evaio_req own;
    evaio_busy_init(&own, 0, count_cb, NULL);
    errno = 0;
    CHECK_EQ(evaio_ctx_start(ctx, &own), -1);
    CHECK_EQ(errno, EAGAIN);
    CHECK_EQ(evaio_ctx_nreqs(ctx), 0);
    CHECK_EQ(evaio_ctx_nready(ctx), 0);
    CHECK_EQ(evaio_ctx_nthreads(ctx), 0);
    CHECK_EQ(evaio_ctx_wait(ctx), 0); /* nothing to wait for */

    /* While a refused submission is being decided, it is not outstanding:
     * a concurrent evaio_ctx_wait must not start waiting for it. */
    __atomic_store_n(&held, 0, __ATOMIC_RELEASE);
    __atomic_store_n(&hold, 1, __ATOMIC_RELEASE);
    pthread_t th;
    __atomic_store_n(&failing, 0, __ATOMIC_RELEASE); /* the test's own thread */
    CHECK_EQ(pthread_create(&th, NULL, submitter, NULL), 0);
    __atomic_store_n(&failing, 1, __ATOMIC_RELEASE);
    __atomic_store_n(&go, 1, __ATOMIC_RELEASE);
    CHECK_EVENTUALLY(__atomic_load_n(&held, __ATOMIC_ACQUIRE));
    CHECK_EQ(evaio_ctx_nreqs(ctx), 0);
    __atomic_store_n(&hold, 0, __ATOMIC_RELEASE);
    CHECK_EQ(pthread_join(th, NULL), 0);
    CHECK_EQ(submit_errno, EAGAIN);
    CHECK_EQ(evaio_ctx_nreqs(ctx), 0);

    /* Threads can be created again: the refused request starts as it is. */
    __atomic_store_n(&failing, 0, __ATOMIC_RELEASE);
    CHECK_EQ(evaio_ctx_start(ctx, &own), 0);
    CHECK(evaio_ctx_busy(ctx, 0, 0, count_cb, NULL) != NULL);
    CHECK_EQ(evaio_ctx_wait(ctx), 0);
    CHECK_EQ(calls, 2);
    CHECK_EQ(evaio_ctx_nreqs(ctx), 0);
    CHECK_EQ(evaio_ctx_free(ctx), 0);
    return 0;
}
