/* Descriptor operations that use a Linux call where there is one and a
 * portable stand-in elsewhere: readahead (posix_fadvise WILLNEED), fallocate
 * (posix_fallocate for mode 0), sync_file_range and fdatasync (fdatasync, or
 * fsync on macOS, which does not declare fdatasync). */
#include "internal.h"
#include "op_executors.h"

#include <fcntl.h>
#include <unistd.h>

/* fdatasync, or fsync where it is not declared. */
static int data_sync(int fd)
{
    int r;
    do
#ifdef __APPLE__
        r = fsync(fd);
#else
        r = fdatasync(fd);
#endif
    while (r < 0 && errno == EINTR);
    return r;
}

int64_t evaio__exec_fdatasync(evaio_req *req, struct evaio_fdatasync_args *a)
{
    (void)req;
    return data_sync(a->fd);
}

int64_t evaio__exec_readahead(evaio_req *req, struct evaio_readahead_args *a)
{
    (void)req;
#if defined(__linux__)
    ssize_t r;
    do
        r = readahead(a->fd, (off_t)a->offset, a->length);
    while (r < 0 && errno == EINTR);
    return r < 0 ? -1 : 0;
#elif defined(POSIX_FADV_WILLNEED)
    /* Length 0 means "to the end of the file" here, as it does for
     * Linux's readahead. */
    int rc;
    do
        rc = posix_fadvise(a->fd, (off_t)a->offset, (off_t)a->length, POSIX_FADV_WILLNEED);
    while (rc == EINTR);
    return evaio__err(rc);
#else
    (void)a;
    errno = ENOSYS;
    return -1;
#endif
}

int64_t evaio__exec_fallocate(evaio_req *req, struct evaio_fallocate_args *a)
{
    (void)req;
#if defined(__linux__)
    int r;
    do
        r = fallocate(a->fd, a->mode, (off_t)a->offset, (off_t)a->length);
    while (r < 0 && errno == EINTR);
    return r;
#elif !defined(__APPLE__)
    if (a->mode != 0) {
        errno = EOPNOTSUPP;
        return -1;
    }
    int rc;
    do
        rc = posix_fallocate(a->fd, (off_t)a->offset, (off_t)a->length);
    while (rc == EINTR);
    return evaio__err(rc);
#else
    (void)a;
    errno = ENOSYS;
    return -1;
#endif
}

int64_t evaio__exec_sync_file_range(evaio_req *req, struct evaio_sync_file_range_args *a)
{
    (void)req;
#if defined(__linux__)
    int r;
    do
        r = sync_file_range(a->fd, (off_t)a->offset, (off_t)a->length, (unsigned)a->flags);
    while (r < 0 && errno == EINTR);
    return r;
#else
    /* The checks Linux makes on the arguments, then the whole file. */
    if ((a->flags & ~7) != 0 || a->offset < 0 || (off_t)a->length < 0) {
        errno = EINVAL;
        return -1;
    }
    return data_sync(a->fd);
#endif
}
