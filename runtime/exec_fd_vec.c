/* readv and writev: vectored I/O at an offset or at the file position, with
 * RWF_* flags where the C library has preadv2/pwritev2. */
#include "internal.h"
#include "op_executors.h"

#include <sys/uio.h>
#include <unistd.h>

/* glibc 2.26 declares preadv2/pwritev2 (and falls back to preadv/readv by
 * itself when the kernel lacks them and flags are 0). */
#if defined(__linux__) && defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 26))
#define EVAIO__HAVE_PRWV2 1
#else
#define EVAIO__HAVE_PRWV2 0
#endif

int64_t evaio__exec_readv(evaio_req *req, struct evaio_readv_args *a)
{
    (void)req;
    ssize_t n;
#if EVAIO__HAVE_PRWV2
    /* An offset of -1 means the file position to preadv2 itself. */
    do
        n = preadv2(a->fd, a->iov, a->count, (off_t)a->offset, a->flags);
    while (n < 0 && errno == EINTR);
#else
    if (a->flags != 0) {
        errno = EOPNOTSUPP;
        return -1;
    }
    do
        n = a->offset == -1 ? readv(a->fd, a->iov, a->count) : preadv(a->fd, a->iov, a->count, (off_t)a->offset);
    while (n < 0 && errno == EINTR);
#endif
    return n;
}

int64_t evaio__exec_writev(evaio_req *req, struct evaio_writev_args *a)
{
    (void)req;
    ssize_t n;
#if EVAIO__HAVE_PRWV2
    do
        n = pwritev2(a->fd, a->iov, a->count, (off_t)a->offset, a->flags);
    while (n < 0 && errno == EINTR);
#else
    if (a->flags != 0) {
        errno = EOPNOTSUPP;
        return -1;
    }
    do
        n = a->offset == -1 ? writev(a->fd, a->iov, a->count) : pwritev(a->fd, a->iov, a->count, (off_t)a->offset);
    while (n < 0 && errno == EINTR);
#endif
    return n;
}
