/* Attempts that never block, run on the submitting thread (spec field
 * `nowait`): when one succeeds the request skips the trip to a worker.  An
 * attempt that cannot complete without blocking declines with -1 and errno
 * EAGAIN, and a worker runs the request from the start. */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/uio.h>

int64_t evaio__nowait_decline(void)
{
    errno = EAGAIN;
    return -1;
}

ssize_t evaio__pread_nowait(int fd, void *buf, size_t length, int64_t offset)
{
#if defined(__linux__) && defined(RWF_NOWAIT)
    if (offset < 0)
        return evaio__nowait_decline(); /* the file position: a worker's */
    /* O_DIRECT bypasses the page cache: RWF_NOWAIT would still read the
     * device, here on the submitting thread. */
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0 || (fl & O_DIRECT))
        return evaio__nowait_decline();
    struct iovec iov = { buf, length };
    /* A short read (end of file, or only part of the range cached) goes to
     * a worker whole: pread has no file position to undo.  So does every
     * failure: the worker's own call reports it. */
    ssize_t r = preadv2(fd, &iov, 1, (off_t)offset, RWF_NOWAIT);
    return r >= 0 && (size_t)r == length ? r : evaio__nowait_decline();
#else
    (void)fd, (void)buf, (void)length, (void)offset;
    return evaio__nowait_decline();
#endif
}

int64_t evaio__nop_nowait(const evaio_req *req)
{
    return evaio__pool_executing(req->ctx_, req->pri_) ? evaio__nowait_decline() : 0;
}
