/* The poll fd: eventfd where available, else a non-blocking pipe. */
#include "notify.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/eventfd.h>
#endif

#include "fault.h"

int evaio__notify_open(struct evaio_notify *n)
{
#ifdef __linux__
    int fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (fd < 0)
        return -1;
    n->read_fd = n->write_fd = fd;
    n->set = 0;
    return 0;
#else
    int fds[2];
    if (pipe(fds) < 0)
        return -1;
    for (int i = 0; i < 2; i++) {
        if (fcntl(fds[i], F_SETFD, FD_CLOEXEC) < 0 || fcntl(fds[i], F_SETFL, O_NONBLOCK) < 0) {
            int saved = errno;
            close(fds[0]);
            close(fds[1]);
            errno = saved;
            return -1;
        }
    }
    n->read_fd = fds[0];
    n->write_fd = fds[1];
    n->set = 0;
    return 0;
#endif
}

void evaio__notify_close(struct evaio_notify *n)
{
    close(n->read_fd);
    if (n->write_fd != n->read_fd)
        close(n->write_fd);
}

int evaio__notify_set(struct evaio_notify *n)
{
    if (n->set)
        return 0;
    __atomic_store_n(&n->set, 1, __ATOMIC_RELAXED); /* read unlocked by the polling thread */
    uint64_t one = 1;
    ssize_t r;
    /* Only fails with EAGAIN when the counter or pipe is already full, which
     * leaves it readable: the state we want. */
    do
        r = write(n->write_fd, &one, n->write_fd == n->read_fd ? sizeof one : 1);
    while (r < 0 && errno == EINTR);
    return 1;
}

int evaio__notify_clear(struct evaio_notify *n)
{
    if (!n->set)
        return 0;
    __atomic_store_n(&n->set, 0, __ATOMIC_RELAXED);
    char buf[64];
    ssize_t r;
    do
        r = read(n->read_fd, buf, n->write_fd == n->read_fd ? sizeof(uint64_t) : sizeof buf);
    while (r > 0 ? n->write_fd != n->read_fd : (r < 0 && errno == EINTR));
    return 1;
}
