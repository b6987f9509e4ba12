/* statvfs and truncate: calls with no *at form.  A relative path with a
 * working directory goes through evaio__at_path (/proc/self/fd/DIRFD/PATH
 * on Linux), which names the same file an *at call would. */
#include "internal.h"
#include "op_executors.h"

#include <errno.h>
#include <limits.h>
#include <sys/statvfs.h>
#include <unistd.h>

#ifndef PATH_MAX
#define PATH_MAX 4096
#endif
/* Room for the path the kernel accepts plus the /proc/self/fd/N/ prefix. */
#define EVAIO__AT_PATH_SIZE (PATH_MAX + 64)

/* The name to hand the call, or NULL with errno set.  An empty path is
 * ENOENT, as for the *at calls: through /proc/self/fd/DIRFD/ it would name
 * the working directory itself. */
static const char *at_path(evaio_req *req, const char *path, char *buf, size_t size)
{
    if (!path[0]) {
        errno = ENOENT;
        return NULL;
    }
    return evaio__at_path(evaio__dirfd(req), path, buf, size);
}

int64_t evaio__exec_statvfs(evaio_req *req, struct evaio_statvfs_args *a)
{
    char buf[EVAIO__AT_PATH_SIZE];
    const char *path = at_path(req, a->path, buf, sizeof buf);
    if (!path)
        return -1;
    int r;
    do
        r = statvfs(path, a->buf);
    while (r == -1 && errno == EINTR);
    return r;
}

int64_t evaio__exec_truncate(evaio_req *req, struct evaio_truncate_args *a)
{
    /* off_t is 64 bits (_FILE_OFFSET_BITS=64); a negative length is EINVAL from the call. */
    char buf[EVAIO__AT_PATH_SIZE];
    const char *path = at_path(req, a->path, buf, sizeof buf);
    if (!path)
        return -1;
    int r;
    do
        r = truncate(path, (off_t)a->length);
    while (r == -1 && errno == EINTR);
    return r;
}
