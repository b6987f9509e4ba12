/* fiemap: every extent of a file range, through Linux's FS_IOC_FIEMAP.
 * The Linux headers are included here only, so that other systems build
 * (the op reports ENOSYS there without calling this). */
#include "internal.h"
#include "op_executors.h"

#if defined(__linux__)
#include <linux/fiemap.h>
#include <linux/fs.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/ioctl.h>

static int fiemap_ioctl(int fd, struct fiemap *fm)
{
    int r;
    do
        r = ioctl(fd, FS_IOC_FIEMAP, fm);
    while (r < 0 && errno == EINTR);
    return r;
}

int64_t evaio__exec_fiemap(evaio_req *req, struct evaio_fiemap_args *a)
{
    if (a->offset < 0) {
        errno = EINVAL;
        return -1;
    }
    struct fiemap head = {
        .fm_start = (uint64_t)a->offset,
        .fm_length = a->length == SIZE_MAX ? FIEMAP_MAX_OFFSET : (uint64_t)a->length,
        .fm_flags = (uint32_t)a->flags,
        .fm_extent_count = 0, /* only count them */
    };
    uint64_t end = head.fm_length > UINT64_MAX - head.fm_start ? UINT64_MAX : head.fm_start + head.fm_length;
    if (fiemap_ioctl(a->fd, &head) < 0)
        return -1;

    /* One spare slot: a full array then means the file may have gained
     * extents since they were counted, and is fetched again, larger. */
    size_t cap = (size_t)head.fm_mapped_extents + 1;
    for (;;) {
        if (cap > UINT32_MAX || cap > (SIZE_MAX - sizeof(struct fiemap)) / sizeof(struct fiemap_extent)) {
            errno = ENOMEM;
            return -1;
        }
        struct fiemap *fm = calloc(1, sizeof *fm + cap * sizeof(struct fiemap_extent));
        if (!fm)
            return -1;
        fm->fm_start = head.fm_start;
        fm->fm_length = head.fm_length;
        fm->fm_flags = (uint32_t)a->flags;
        fm->fm_extent_count = (uint32_t)cap;
        if (fiemap_ioctl(a->fd, fm) < 0) {
            int err = errno;
            free(fm);
            errno = err;
            return -1;
        }
        uint32_t n = fm->fm_mapped_extents;
        const struct fiemap_extent *last = n ? &fm->fm_extents[n - 1] : NULL;
        if (n < cap || (last->fe_flags & FIEMAP_EXTENT_LAST) || last->fe_logical + last->fe_length >= end) {
            if (n == 0) {
                free(fm);
                return 0;
            }
            a->extents = fm->fm_extents;
            req->owned_ = fm; /* freed by the library after the callback */
            return n;
        }
        free(fm);
        cap *= 2;
    }
}
#endif
