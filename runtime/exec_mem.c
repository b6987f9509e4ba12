/* Memory ranges: msync (widened to whole pages) and mtouch (fault pages in
 * without crashing on a bad range). */
#include "internal.h"
#include "op_executors.h"

#include <errno.h>
#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>

/* [*start, *end) := the pages covering [addr, addr + len); -1 (ENOMEM, as
 * msync and mincore report it) when the range wraps around. */
static int page_range(const void *addr, size_t len, uintptr_t *start, uintptr_t *end)
{
    uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
    uintptr_t a = (uintptr_t)addr;
    if (len > UINTPTR_MAX - a || a + len > UINTPTR_MAX - (page - 1)) {
        errno = ENOMEM;
        return -1;
    }
    *start = a & ~(page - 1);
    *end = (a + len + page - 1) & ~(page - 1);
    return 0;
}

int64_t evaio__exec_msync(evaio_req *req, struct evaio_msync_args *a)
{
    (void)req;
    uintptr_t start, end;
    if (page_range(a->address, a->length, &start, &end) < 0)
        return -1;
    int rc;
    do
        rc = msync((void *)start, end - start, a->flags);
    while (rc < 0 && errno == EINTR);
    return rc;
}

#ifdef __linux__
typedef unsigned char mincore_vec;
#else
typedef char mincore_vec;
#endif

/* Where the kernel cannot populate: check that every page is mapped (mincore
 * fails with ENOMEM otherwise), then touch one byte of each. */
static int touch_pages(uintptr_t start, uintptr_t end, int write)
{
    uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
    enum { CHUNK = 512 }; /* pages per mincore call */
    mincore_vec vec[CHUNK];
    for (uintptr_t p = start; p < end;) {
        uintptr_t n = (end - p) / page < CHUNK ? end - p : CHUNK * page;
        if (mincore((void *)p, n, vec) < 0)
            return -1;
        p += n;
    }
    for (uintptr_t p = start; p < end; p += page) {
        if (write) /* an atomic no-op: a concurrent write is never undone */
            __atomic_fetch_or((unsigned char *)p, 0, __ATOMIC_RELAXED);
        else
            (void)*(volatile const unsigned char *)p;
    }
    return 0;
}

int64_t evaio__exec_mtouch(evaio_req *req, struct evaio_mtouch_args *a)
{
    (void)req;
    if (a->flags & ~EVAIO_MTOUCH_WRITE) {
        errno = EINVAL;
        return -1;
    }
    if (a->length == 0)
        return 0;
    uintptr_t start, end;
    if (page_range(a->address, a->length, &start, &end) < 0)
        return -1;
    int write = a->flags & EVAIO_MTOUCH_WRITE;
#if defined(MADV_POPULATE_READ) && defined(MADV_POPULATE_WRITE)
    /* Linux 5.14+: the kernel faults the pages in and reports errors. */
    int advice = write ? MADV_POPULATE_WRITE : MADV_POPULATE_READ;
    int rc;
    do
        rc = madvise((void *)start, end - start, advice);
    while (rc < 0 && errno == EINTR);
    if (rc == 0 || errno != EINVAL)
        return rc;
    /* EINVAL: the memory refused the access, or the kernel does not know the
     * advice; with a length of 0 only the latter fails. */
    if (madvise((void *)start, 0, advice) == 0) {
        errno = EINVAL;
        return -1;
    }
#endif
    return touch_pages(start, end, write);
}
