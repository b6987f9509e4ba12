/* slurp: open, read until `length` bytes or the end of the file, close, in
 * one request; into the caller's buffer or into library memory.  A cancel
 * is seen after every read (of at most 1 MiB): the request then fails with
 * ECANCELED and keeps nothing. */
#include "internal.h"
#include "op_executors.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* First allocation when the size is unknown (not a regular file). */
#define UNKNOWN_SIZE_START (64 * 1024)

/* Reads are at most this big, so a cancel is seen between them. */
#define CHUNK (1024 * 1024)

/* read(2) until `len` bytes or the end: the count, or -1 with errno set;
 * ECANCELED when the request was cancelled, checked after every read. */
static ssize_t read_full(const evaio_req *req, int fd, char *buf, size_t len)
{
    size_t got = 0;
    while (got < len) {
        ssize_t n = read(fd, buf + got, len - got < CHUNK ? len - got : CHUNK);
        if (evaio_req_cancelled(req)) {
            errno = ECANCELED;
            return -1;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        if (n == 0)
            break;
        got += (size_t)n;
    }
    return (ssize_t)got;
}

/* Library memory: allocated once from the size fstat reports, grown if the
 * file turns out longer.  *out gets the data with a NUL after it. */
static int64_t read_alloc(const evaio_req *req, int fd, int64_t offset, size_t limit, char **out)
{
    struct stat st;
    if (fstat(fd, &st) < 0)
        return -1;
    /* Expected bytes; the +1 is the NUL. */
    size_t want = UNKNOWN_SIZE_START;
    if (S_ISREG(st.st_mode))
        want = st.st_size > offset ? (size_t)(st.st_size - offset) : 0;
    if (want > limit)
        want = limit;
    if (want == SIZE_MAX) /* limit SIZE_MAX and an impossible size */
        want--;
    size_t cap = want + 1, got = 0;
    char *buf = malloc(cap);
    if (!buf)
        return -1;
    for (;;) {
        ssize_t n = read_full(req, fd, buf + got, cap - 1 - got);
        if (n < 0)
            goto fail;
        got += (size_t)n;
        if (got < cap - 1 || got == limit)
            break; /* the end of the file, or all that was asked for */
        /* Full: one byte more tells whether the file goes on. */
        char probe;
        n = read_full(req, fd, &probe, 1);
        if (n < 0)
            goto fail;
        if (n == 0)
            break;
        size_t grow = cap < 4096 ? 4096 : cap; /* double, up to the limit */
        if (grow > limit - got)
            grow = limit - got;
        if (grow >= SIZE_MAX - cap) {
            errno = ENOMEM;
            goto fail;
        }
        char *bigger = realloc(buf, cap + grow);
        if (!bigger)
            goto fail;
        buf = bigger;
        cap += grow;
        buf[got++] = probe;
    }
    if (cap - got > 4096) { /* the file shrank, or a small file of unknown size */
        char *smaller = realloc(buf, got + 1);
        if (smaller)
            buf = smaller;
    }
    buf[got] = 0;
    *out = buf;
    return (int64_t)got;
fail:;
    int err = errno;
    free(buf);
    errno = err;
    return -1;
}

int64_t evaio__exec_slurp(evaio_req *req, struct evaio_slurp_args *a)
{
    if (a->offset < 0 || (a->buf && a->length == 0)) {
        errno = EINVAL;
        return -1;
    }
    int fd;
    do
        fd = openat(evaio__dirfd(req), a->path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    while (fd < 0 && errno == EINTR);
    if (fd < 0)
        return -1;
    int64_t result = -1;
    if (a->offset != 0 && lseek(fd, (off_t)a->offset, SEEK_SET) < 0)
        goto out;
    if (a->buf) {
        result = read_full(req, fd, a->buf, a->length);
        if (result >= 0)
            a->contents = a->buf;
    } else {
        char *data;
        result = read_alloc(req, fd, a->offset, a->length ? a->length : SIZE_MAX, &data);
        if (result >= 0)
            req->owned_ = a->contents = data;
    }
out:;
    int err = errno;
    close(fd); /* read-only: close cannot lose data */
    errno = err;
    return result;
}
