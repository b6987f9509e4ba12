/* mkdtemp and mkstemp relative to a working directory (mkdtemp(3) and
 * mkostemp(3) have no *at form): a random suffix replaces the template's
 * XXXXXX, and mkdirat / openat with O_EXCL make the name unique, retried with
 * a new suffix while the name exists. */
#include "internal.h"
#include "op_executors.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#if defined(__linux__) && defined(__has_include)
#if __has_include(<sys/random.h>)
#include <sys/random.h>
#define EVAIO__HAVE_GETRANDOM 1
#endif
#endif
#if defined(__APPLE__) || defined(__FreeBSD__) || defined(__OpenBSD__) || defined(__NetBSD__)
#define EVAIO__HAVE_ARC4RANDOM 1
#endif

#define EVAIO__TEMP_TRIES 1000

static uint64_t mix64(uint64_t x)
{
    /* splitmix64's finaliser */
    x += 0x9e3779b97f4a7c15u;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9u;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebu;
    return x ^ (x >> 31);
}

/* 64 random bits.  Without a system source: the clock, the process, the
 * thread and the attempt number, mixed; O_EXCL keeps names unique anyway. */
static uint64_t random64(unsigned attempt)
{
    uint64_t x;
#if defined(EVAIO__HAVE_GETRANDOM)
    if (getrandom(&x, sizeof x, GRND_NONBLOCK) == (ssize_t)sizeof x)
        return x;
#elif defined(EVAIO__HAVE_ARC4RANDOM)
    arc4random_buf(&x, sizeof x);
    return x;
#endif
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    pthread_t self = pthread_self();
    uint64_t t = 0;
    memcpy(&t, &self, sizeof self < sizeof t ? sizeof self : sizeof t);
    x = mix64((uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec);
    x = mix64(x ^ ((uint64_t)getpid() << 20) ^ attempt);
    return mix64(x ^ t ^ (uint64_t)(uintptr_t)&ts);
}

/* A malloc'd copy of the template, or NULL: EINVAL unless it ends in XXXXXX. */
static char *copy_template(const char *pattern, size_t *len)
{
    size_t n = strlen(pattern);
    if (n < 6 || memcmp(pattern + n - 6, "XXXXXX", 6) != 0) {
        errno = EINVAL;
        return NULL;
    }
    char *name = malloc(n + 1);
    if (!name)
        return NULL; /* ENOMEM */
    memcpy(name, pattern, n + 1);
    *len = n;
    return name;
}

static void fill_suffix(char *suffix, unsigned attempt)
{
    static const char chars[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    uint64_t x = random64(attempt); /* 62^6 < 2^36: the modulo bias is negligible */
    for (int i = 0; i < 6; i++) {
        suffix[i] = chars[x % 62];
        x /= 62;
    }
}

int64_t evaio__exec_mkdtemp(evaio_req *req, struct evaio_mkdtemp_args *a)
{
    size_t len;
    char *name = copy_template(a->pattern, &len);
    if (!name)
        return -1;
    int dirfd = evaio__dirfd(req);
    for (unsigned attempt = 0; attempt < EVAIO__TEMP_TRIES; attempt++) {
        fill_suffix(name + len - 6, attempt);
        int r;
        do
            r = mkdirat(dirfd, name, 0700);
        while (r == -1 && errno == EINTR);
        if (r == 0) {
            a->text = name;
            req->owned_ = name;
            return (int64_t)len;
        }
        if (errno != EEXIST)
            break;
    }
    int err = errno;
    free(name);
    errno = err;
    return -1;
}

/* The open flags mkstemp's caller may add (those mkostemp(3) documents). */
#define EVAIO__MKSTEMP_FLAGS (O_APPEND | O_CLOEXEC | O_SYNC | O_DSYNC | EVAIO__O_DIRECT | EVAIO__O_NOATIME | EVAIO__O_LARGEFILE)
#ifdef O_DIRECT
#define EVAIO__O_DIRECT O_DIRECT
#else
#define EVAIO__O_DIRECT 0
#endif
#ifdef O_NOATIME
#define EVAIO__O_NOATIME O_NOATIME
#else
#define EVAIO__O_NOATIME 0
#endif
#ifdef O_LARGEFILE
#define EVAIO__O_LARGEFILE O_LARGEFILE
#else
#define EVAIO__O_LARGEFILE 0
#endif

int64_t evaio__exec_mkstemp(evaio_req *req, struct evaio_mkstemp_args *a)
{
    if (a->flags & ~EVAIO__MKSTEMP_FLAGS) {
        errno = EINVAL;
        return -1;
    }
    size_t len;
    char *name = copy_template(a->pattern, &len);
    if (!name)
        return -1;
    int dirfd = evaio__dirfd(req);
    int flags = O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | a->flags;
    for (unsigned attempt = 0; attempt < EVAIO__TEMP_TRIES; attempt++) {
        fill_suffix(name + len - 6, attempt);
        int fd;
        do
            fd = openat(dirfd, name, flags, 0600);
        while (fd < 0 && errno == EINTR);
        if (fd >= 0) {
            a->text = name;
            req->owned_ = name;
            return fd;
        }
        if (errno != EEXIST)
            break;
    }
    int err = errno;
    free(name);
    errno = err;
    return -1;
}
