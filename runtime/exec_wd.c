/* wd_open and wd_close: working-directory handles (see wd.c). */
#include "internal.h"
#include "op_executors.h"

#include <fcntl.h>

#ifdef O_PATH
#define EVAIO__WD_FLAGS (O_PATH | O_DIRECTORY | O_CLOEXEC) /* search permission is enough */
#else
#define EVAIO__WD_FLAGS (O_RDONLY | O_DIRECTORY | O_CLOEXEC)
#endif

int64_t evaio__exec_wd_open(evaio_req *req, struct evaio_wd_open_args *a)
{
    int fd;
    do
        fd = openat(evaio__dirfd(req), a->path, EVAIO__WD_FLAGS);
    while (fd < 0 && errno == EINTR);
    if (fd < 0)
        return -1;
    a->handle = evaio__wd_new(fd);
    return a->handle ? 0 : -1;
}

int64_t evaio__exec_wd_close(evaio_req *req, struct evaio_wd_close_args *a)
{
    (void)req;
    evaio__wd_release(a->handle);
    return 0;
}
