/* dup2 and dup3: duplicates that are always close-on-exec. */
#include "internal.h"
#include "op_executors.h"

#include <fcntl.h>
#include <unistd.h>

#if defined(__linux__) || defined(__FreeBSD__) || defined(__NetBSD__) || defined(__OpenBSD__) || \
    defined(__DragonFly__)
#define EVAIO__HAVE_DUP3 1
#else
#define EVAIO__HAVE_DUP3 0
#endif

/* dup3(fd, new_fd, flags | O_CLOEXEC), or its emulation: dup2 then
 * FD_CLOEXEC, which a concurrent fork+exec can slip between. */
static int dup_cloexec(int fd, int new_fd, int flags)
{
    int r;
#if EVAIO__HAVE_DUP3
    do
        r = dup3(fd, new_fd, flags | O_CLOEXEC);
    while (r < 0 && errno == EINTR);
#else
    if ((flags & ~O_CLOEXEC) != 0 || fd == new_fd) {
        errno = EINVAL;
        return -1;
    }
    do
        r = dup2(fd, new_fd);
    while (r < 0 && errno == EINTR);
    if (r >= 0)
        (void)fcntl(r, F_SETFD, FD_CLOEXEC); /* cannot fail on an open descriptor */
#endif
    return r;
}

int64_t evaio__exec_dup2(evaio_req *req, struct evaio_dup2_args *a)
{
    (void)req;
    if (a->fd == a->new_fd) /* dup3 refuses this; dup2 only checks fd is open */
        return fcntl(a->fd, F_GETFD) < 0 ? -1 : a->new_fd;
    return dup_cloexec(a->fd, a->new_fd, 0);
}

int64_t evaio__exec_dup3(evaio_req *req, struct evaio_dup3_args *a)
{
    (void)req;
    return dup_cloexec(a->fd, a->new_fd, a->flags);
}
