/* The counters behind fault.h (test build only). */
#ifdef EVAIO_FAULT_INJECTION
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/eventfd.h>
#endif

enum { ALLOC, THREAD, FD, KINDS };

static unsigned long calls[KINDS], fail_at[KINDS];
static int fired;

void evaio__fault_arm(int kind, unsigned long n);
unsigned long evaio__fault_calls(int kind);
int evaio__fault_fired(void);

__attribute__((visibility("default"))) void evaio__fault_arm(int kind, unsigned long n)
{
    __atomic_store_n(&calls[kind], 0, __ATOMIC_SEQ_CST);
    __atomic_store_n(&fail_at[kind], n, __ATOMIC_SEQ_CST);
    __atomic_store_n(&fired, 0, __ATOMIC_SEQ_CST);
}

__attribute__((visibility("default"))) unsigned long evaio__fault_calls(int kind)
{
    return __atomic_load_n(&calls[kind], __ATOMIC_SEQ_CST);
}

__attribute__((visibility("default"))) int evaio__fault_fired(void)
{
    return __atomic_load_n(&fired, __ATOMIC_SEQ_CST);
}

/* Whether this call fails: the armed one, exactly once. */
static int fail(int kind)
{
    unsigned long n = __atomic_add_fetch(&calls[kind], 1, __ATOMIC_SEQ_CST);
    if (n != __atomic_load_n(&fail_at[kind], __ATOMIC_SEQ_CST))
        return 0;
    __atomic_store_n(&fired, 1, __ATOMIC_SEQ_CST);
    return 1;
}

void *evaio__fault_malloc(size_t n)
{
    if (fail(ALLOC)) {
        errno = ENOMEM;
        return NULL;
    }
    return malloc(n);
}

void *evaio__fault_calloc(size_t n, size_t size)
{
    if (fail(ALLOC)) {
        errno = ENOMEM;
        return NULL;
    }
    return calloc(n, size);
}

void *evaio__fault_realloc(void *p, size_t n)
{
    if (fail(ALLOC)) {
        errno = ENOMEM;
        return NULL;
    }
    return realloc(p, n);
}

int evaio__fault_posix_memalign(void **p, size_t align, size_t n)
{
    if (fail(ALLOC))
        return ENOMEM; /* as posix_memalign reports it, errno untouched */
    return posix_memalign(p, align, n);
}

char *evaio__fault_strdup(const char *s)
{
    if (fail(ALLOC)) {
        errno = ENOMEM;
        return NULL;
    }
    return strdup(s);
}

char *evaio__fault_strndup(const char *s, size_t n)
{
    if (fail(ALLOC)) {
        errno = ENOMEM;
        return NULL;
    }
    return strndup(s, n);
}

int evaio__fault_pthread_create(pthread_t *t, const pthread_attr_t *a, void *(*fn)(void *), void *arg)
{
    if (fail(THREAD))
        return EAGAIN;
    return pthread_create(t, a, fn, arg);
}

int evaio__fault_eventfd(unsigned initval, int flags)
{
    if (fail(FD)) {
        errno = EMFILE;
        return -1;
    }
#ifdef __linux__
    return eventfd(initval, flags);
#else
    (void)initval;
    (void)flags;
    errno = ENOSYS;
    return -1;
#endif
}

int evaio__fault_pipe(int fds[2])
{
    if (fail(FD)) {
        errno = EMFILE;
        return -1;
    }
    return pipe(fds);
}
#else
typedef int evaio__fault_unused; /* an empty translation unit is not ISO C */
#endif
