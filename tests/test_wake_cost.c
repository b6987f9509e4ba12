/* Submitting to a busy pool costs no wake-up: while every worker is busy,
 * evaio_start neither signals a condition variable nor creates a thread.
 * The test interposes pthread_cond_signal, pthread_cond_broadcast and
 * pthread_create (the library calls them through the dynamic linker, so the
 * definitions here win) and counts the calls made while it submits. */
#include "check.h"

#include <dlfcn.h>
#include <pthread.h>

#define EXPORT __attribute__((visibility("default")))

static unsigned long n_signal, n_broadcast, n_create;

EXPORT int pthread_cond_signal(pthread_cond_t *c)
{
    static int (*real)(pthread_cond_t *);
    if (!real)
        real = (int (*)(pthread_cond_t *))dlsym(RTLD_NEXT, "pthread_cond_signal");
    __atomic_fetch_add(&n_signal, 1, __ATOMIC_RELAXED);
    return real(c);
}

EXPORT int pthread_cond_broadcast(pthread_cond_t *c)
{
    static int (*real)(pthread_cond_t *);
    if (!real)
        real = (int (*)(pthread_cond_t *))dlsym(RTLD_NEXT, "pthread_cond_broadcast");
    __atomic_fetch_add(&n_broadcast, 1, __ATOMIC_RELAXED);
    return real(c);
}

typedef void *(*start_fn)(void *);
EXPORT int pthread_create(pthread_t *t, const pthread_attr_t *a, start_fn fn, void *arg)
{
    static int (*real)(pthread_t *, const pthread_attr_t *, start_fn, void *);
    if (!real)
        real = (int (*)(pthread_t *, const pthread_attr_t *, start_fn, void *))dlsym(RTLD_NEXT,
                                                                                   "pthread_create");
    __atomic_fetch_add(&n_create, 1, __ATOMIC_RELAXED);
    return real(t, a, fn, arg);
}

/* The workers are held at check.h's gate, a pipe: holding them uses none of
 * the counted calls. */

static int done;
static int count_cb(evaio_req *req)
{
    CHECK_EQ(req->result, 0);
    done++;
    return 0;
}

enum { WORKERS = 2, SUBMITS = 10000 };

int main(void)
{
    check_gate_open();
    evaio_ctx *ctx = evaio_ctx_new();
    CHECK(ctx != NULL);
    evaio_ctx_set_max_parallel(ctx, WORKERS);

    /* Occupy every worker. */
    for (int i = 0; i < WORKERS; i++)
        CHECK(evaio_ctx_custom(ctx, check_gate_hold, 0, count_cb, NULL) != NULL);
    CHECK_GATE_HOLDS(WORKERS);
    CHECK_EQ(evaio_ctx_nthreads(ctx), WORKERS);
    /* Sanity: the interposition is in effect (the pool created its threads). */
    CHECK(__atomic_load_n(&n_create, __ATOMIC_RELAXED) >= WORKERS);

    unsigned long signals = n_signal, broadcasts = n_broadcast, creates = n_create;
    static evaio_req own[SUBMITS / 2];
    for (int i = 0; i < SUBMITS / 2; i++) {
        CHECK(evaio_ctx_busy(ctx, 0, i % 9 - 4, count_cb, NULL) != NULL);
        evaio_busy_init(&own[i], 0, count_cb, NULL);
        CHECK_EQ(evaio_ctx_start(ctx, &own[i]), 0);
    }
    CHECK_EQ(n_signal - signals, 0);
    CHECK_EQ(n_broadcast - broadcasts, 0);
    CHECK_EQ(n_create - creates, 0);
    CHECK_EQ(evaio_ctx_nready(ctx), SUBMITS);

    /* Release the workers: everything runs and is delivered. */
    for (int i = 0; i < WORKERS; i++)
        check_gate_release();
    CHECK_EQ(evaio_ctx_wait(ctx), 0);
    CHECK_EQ(done, SUBMITS + WORKERS);
    CHECK_EQ(evaio_ctx_nreqs(ctx), 0);
    CHECK_EQ(evaio_ctx_free(ctx), 0);
    return 0;
}
