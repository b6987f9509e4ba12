/* rename2: renameat2 with RENAME_NOREPLACE / EXCHANGE / WHITEOUT.  On Linux
 * the system call itself (glibc only wraps it from 2.28); a kernel without it,
 * and other systems, do flags 0 with renameat and refuse other flags. */
#include "internal.h"
#include "op_executors.h"

#include <errno.h>
#include <stdio.h>
#include <unistd.h>
#if defined(__linux__)
#include <sys/syscall.h>
#endif

int64_t evaio__exec_rename2(evaio_req *req, struct evaio_rename2_args *a)
{
    int dirfd = evaio__dirfd(req);
    long r;
#if defined(__linux__) && defined(SYS_renameat2)
    /* EVAIO_RENAME_* are the kernel's RENAME_* values. */
    do
        r = syscall(SYS_renameat2, dirfd, a->path, dirfd, a->new_path, (unsigned)a->flags);
    while (r == -1 && errno == EINTR);
    if (!(r == -1 && errno == ENOSYS))
        return r;
#endif
    if (a->flags != 0) {
        errno = EINVAL;
        return -1;
    }
    do
        r = renameat(dirfd, a->path, dirfd, a->new_path);
    while (r == -1 && errno == EINTR);
    return r;
}
