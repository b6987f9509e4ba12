/* Attempts that never block, run on the submitting thread (spec field
 * `nowait`): when one succeeds the request skips the trip to a worker. */
#include "internal.h"

#include <fcntl.h>
#include <sys/uio.h>

ssize_t evaio__pread_nowait(int fd, void *buf, size_t length, int64_t offset)
{
#if defined(__linux__) && defined(RWF_NOWAIT)
    /* O_DIRECT bypasses the page cache: RWF_NOWAIT would still read the
     * device, here on the submitting thread. */
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0 || (fl & O_DIRECT))
        return -1;
    struct iovec iov = { buf, length };
    /* A short read (end of file, or only part of the range cached) goes to
     * a worker whole: pread has no file position to undo. */
    ssize_t r = preadv2(fd, &iov, 1, (off_t)offset, RWF_NOWAIT);
    return r == (ssize_t)length ? r : -1;
#else
    (void)fd, (void)buf, (void)length, (void)offset;
    return -1;
#endif
}

int64_t evaio__nop_nowait(const evaio_req *req)
{
    return evaio__pool_executing(req->ctx_, req->pri_) ? -1 : 0;
}
