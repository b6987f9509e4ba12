/* openat2: open(2) with RESOLVE_* restrictions on the lookup (Linux 5.6).
 * glibc has no wrapper for it, so this calls the system call directly; where
 * the build headers do not know its number it reports ENOSYS, as the spec's
 * `when` does on other systems. */
#include "internal.h"
#include "op_executors.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>

#if defined(__linux__)
#include <sys/syscall.h>
#include <unistd.h>

int64_t evaio__exec_openat2(evaio_req *req, struct evaio_openat2_args *a)
{
#ifdef SYS_openat2
    /* (unsigned): an int with the sign bit set must not fill the upper 32 bits. */
    uint64_t flags = (unsigned)(a->flags | O_CLOEXEC);
#if defined(O_LARGEFILE) && defined(O_PATH)
    /* As glibc's openat does on 32-bit systems (0 on 64-bit ones); O_PATH refuses it. */
    if (!(flags & O_PATH))
        flags |= (unsigned)O_LARGEFILE;
#endif
    struct evaio__open_how how = { .flags = flags, .mode = a->mode, .resolve = a->resolve };
    long fd;
    do
        fd = syscall(SYS_openat2, evaio__dirfd(req), a->path, &how, sizeof how);
    while (fd == -1 && errno == EINTR);
    return fd;
#else
    (void)req;
    (void)a;
    errno = ENOSYS;
    return -1;
#endif
}

#endif
