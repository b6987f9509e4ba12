/* pathsync: fsync a file, then the directory that holds its name. */
#include "composite.h"
#include "op_executors.h"

#include <unistd.h>

static int fsync_fd(int fd)
{
    int r;
    EVAIO__RETRY(r, fsync(fd));
    return r;
}

static int close_keep_errno(int fd, int r)
{
    int saved = errno;
    close(fd);
    errno = saved;
    return r;
}

int64_t evaio__exec_pathsync(evaio_req *req, struct evaio_pathsync_args *a)
{
    int dirfd = evaio__dirfd(req);
    struct stat st;
    int r, fd = -1;
    EVAIO__RETRY(r, fstatat(dirfd, a->path, &st, 0));
    if (r < 0)
        return -1;
    /* Only files and directories hold data to flush.  Non-blocking and
     * without a controlling terminal, in case something else was swapped in. */
    if (S_ISREG(st.st_mode) || S_ISDIR(st.st_mode)) {
        int flags = O_CLOEXEC | O_NOCTTY | O_NONBLOCK;
        EVAIO__RETRY(fd, openat(dirfd, a->path, O_RDONLY | flags));
        if (fd < 0 && errno == EACCES && S_ISREG(st.st_mode)) /* a write-only file */
            EVAIO__RETRY(fd, openat(dirfd, a->path, O_WRONLY | flags));
        if (fd < 0)
            return -1;
        if (fsync_fd(fd) < 0 || evaio__cancel_point(req) < 0)
            return close_keep_errno(fd, -1);
    }

    /* The directory holding the name: lexically the path's parent, except
     * after ".", ".." or for "/", where the name is the directory's own
     * entry in its "..". */
    struct evaio__leaf leaf;
    if (evaio__leaf_open(dirfd, a->path, O_RDONLY, &leaf) < 0)
        return fd >= 0 ? close_keep_errno(fd, -1) : -1;
    int pfd = leaf.dirfd;
    leaf.dirfd = -1;
    int own_entry = evaio__is_dots(leaf.name);
    evaio__leaf_close(&leaf);
    if (own_entry && fd >= 0) {
        close(pfd);
        EVAIO__RETRY(pfd, openat(fd, "..", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    }
    if (fd >= 0)
        close_keep_errno(fd, 0);
    if (pfd < 0)
        return -1;
    return close_keep_errno(pfd, fsync_fd(pfd));
}
