/* Directory streams: opendir, readdir_batch, closedir.  A stream reads a
 * directory a batch at a time, so memory is bounded by the batch size and the
 * reader's one buffer, however many entries the directory has. */
#include "dirread.h"
#include "op_executors.h"

#include <errno.h>
#include <stdlib.h>

struct evaio_dir {
    struct evaio__dirreader reader;
    int busy;      /* a batch or closedir is running: others get EBUSY; atomic */
    int deferred;  /* an error met after a batch had entries, for the next batch */
};

/* Claims the stream for one batch or closedir; EBUSY if another has it. */
static int claim(evaio_dir *dir)
{
    int expected = 0;
    if (!__atomic_compare_exchange_n(&dir->busy, &expected, 1, 0, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED)) {
        errno = EBUSY;
        return -1;
    }
    return 0;
}

static void unclaim(evaio_dir *dir)
{
    __atomic_store_n(&dir->busy, 0, __ATOMIC_RELEASE);
}

int64_t evaio__exec_opendir(evaio_req *req, struct evaio_opendir_args *a)
{
    evaio_dir *dir = malloc(sizeof *dir);
    if (!dir)
        return -1;
    if (evaio__dirreader_open(&dir->reader, evaio__dirfd(req), a->path) < 0) {
        int err = errno;
        free(dir);
        errno = err;
        return -1;
    }
    dir->busy = 0;
    dir->deferred = 0;
    a->dir = dir;
    return 0;
}

int64_t evaio__exec_readdir_batch(evaio_req *req, struct evaio_readdir_batch_args *a)
{
    if (a->max <= 0 || (a->flags & ~EVAIO_READDIR_DENTS)) {
        errno = EINVAL;
        return -1;
    }
    evaio_dir *dir = a->dir;
    if (claim(dir) < 0)
        return -1;
    if (dir->deferred) {
        errno = dir->deferred;
        dir->deferred = 0;
        unclaim(dir);
        return -1;
    }

    struct evaio__dirlist list;
    evaio__dirlist_init(&list, a->flags & EVAIO_READDIR_DENTS);
    struct evaio__dentry e;
    int rc = 0, err = 0, full = 0;
    while (list.n < (size_t)a->max && (rc = evaio__dirreader_next(&dir->reader, &e)) > 0) {
        if (evaio__dirlist_add(&list, &e) < 0) {
            err = errno;
            full = 1;
            evaio__dirreader_unread(&dir->reader); /* not lost: a later batch returns it */
            break;
        }
    }
    if (rc < 0)
        err = errno;
    if (err && list.n > 0) {
        /* Deliver what was read; a read error comes with the next batch. */
        if (!full)
            dir->deferred = err;
        err = 0;
    }
    unclaim(dir);
    if (err) {
        evaio__dirlist_free(&list);
        errno = err;
        return -1;
    }
    size_t n = list.n;
    /* Without memory here the batch's entries are lost to the stream: the
     * only case where a stream skips entries. */
    if (evaio__dirlist_finish(&list, req, a->flags & EVAIO_READDIR_DENTS, &a->names, &a->dents) < 0)
        return -1;
    return (int64_t)n;
}

int64_t evaio__exec_closedir(evaio_req *req, struct evaio_closedir_args *a)
{
    (void)req;
    evaio_dir *dir = a->dir;
    if (claim(dir) < 0)
        return -1;
    int rc = evaio__dirreader_close(&dir->reader);
    int err = errno;
    free(dir);
    errno = err;
    return rc;
}
