/* Working directories: a reference-counted directory descriptor that
 * requests resolve relative paths against.  The caller holds one reference
 * (dropped by wd_close) and each request in flight holds one, so closing a
 * handle never pulls the directory from under a running request. */
#include "internal.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

evaio_wd *evaio__wd_new(int fd)
{
    evaio_wd *wd = malloc(sizeof *wd);
    if (!wd) {
        close(fd);
        errno = ENOMEM;
        return NULL;
    }
    wd->fd = fd;
    wd->refs = 1;
    return wd;
}

void evaio__wd_retain(evaio_wd *wd)
{
    if (wd)
        __atomic_fetch_add(&wd->refs, 1, __ATOMIC_RELAXED);
}

void evaio__wd_release(evaio_wd *wd)
{
    if (wd && __atomic_sub_fetch(&wd->refs, 1, __ATOMIC_ACQ_REL) == 0) {
        close(wd->fd);
        free(wd);
    }
}

int evaio__dirfd(const evaio_req *req)
{
    return req->wd_ ? req->wd_->fd : AT_FDCWD;
}

const char *evaio__at_path(int dirfd, const char *path, char *buf, size_t size)
{
    if (dirfd == AT_FDCWD || path[0] == '/')
        return path;
    if (!path[0]) {
        errno = ENOENT; /* as for "" without a wd, not the wd itself */
        return NULL;
    }
#ifdef __linux__
    /* The kernel resolves /proc/self/fd/N as the directory itself, then the
     * rest relative to it: the same lookup as an *at call. */
    int n = snprintf(buf, size, "/proc/self/fd/%d/%s", dirfd, path);
    if (n < 0 || (size_t)n >= size) {
        errno = ENAMETOOLONG;
        return NULL;
    }
    return buf;
#else
    (void)buf;
    (void)size;
    errno = ENOSYS;
    return NULL;
#endif
}

void evaio_req_set_wd(evaio_req *req, evaio_wd *wd)
{
    /* Ignored in flight: the request holds a reference to the wd it started with. */
    if (__atomic_load_n(&req->state_, __ATOMIC_ACQUIRE) == EVAIO__IDLE)
        req->wd_ = wd;
}

evaio_wd *evaio_req_wd(const evaio_req *req)
{
    return req->wd_;
}

int evaio_wd_fd(const evaio_wd *wd)
{
    if (!wd) {
        errno = EFAULT;
        return -1;
    }
    return wd->fd;
}
