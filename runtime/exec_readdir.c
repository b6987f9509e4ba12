/* readdir: every name of a directory, except . and .., in one allocation,
 * optionally with an entry record per name and in a chosen order. */
#include "dirread.h"
#include "op_executors.h"

#include <errno.h>
#include <stdlib.h>

#define REQUEST_FLAGS (EVAIO_READDIR_DENTS | EVAIO_READDIR_DIRS_FIRST | EVAIO_READDIR_STAT_ORDER)

/* Groups for DIRS_FIRST: known directories, then entries the filesystem gave
 * no type for (they may be directories), then everything else. */
static unsigned char group_of(unsigned char type)
{
    return type == EVAIO_DT_DIR ? 0 : type == EVAIO_DT_UNKNOWN ? 1 : 2;
}

/* Group (all 0 without DIRS_FIRST), then with STAT_ORDER the inode, then the
 * directory's order: total orders, so qsort gives a stable result. */
static int cmp_group(const void *pa, const void *pb)
{
    const struct evaio__dirlist_ent *a = pa, *b = pb;
    if (a->group != b->group)
        return a->group < b->group ? -1 : 1;
    return a->seq < b->seq ? -1 : a->seq > b->seq;
}

static int cmp_group_ino(const void *pa, const void *pb)
{
    const struct evaio__dirlist_ent *a = pa, *b = pb;
    if (a->group != b->group)
        return a->group < b->group ? -1 : 1;
    if (a->ino != b->ino)
        return a->ino < b->ino ? -1 : 1;
    return a->seq < b->seq ? -1 : a->seq > b->seq;
}

int64_t evaio__exec_readdir(evaio_req *req, struct evaio_readdir_args *a)
{
    int flags = a->flags;
    if (flags & ~REQUEST_FLAGS) {
        errno = EINVAL;
        return -1;
    }
    struct evaio__dirreader r;
    if (evaio__dirreader_open(&r, evaio__dirfd(req), a->path) < 0)
        return -1;

    struct evaio__dirlist list;
    evaio__dirlist_init(&list, flags != 0); /* every flag needs ino/type */
    struct evaio__dentry e;
    int rc;
    while ((rc = evaio__dirreader_next(&r, &e)) > 0)
        if ((rc = evaio__dirlist_add(&list, &e)) < 0)
            break;
    int err = rc < 0 ? errno : 0;
    evaio__dirreader_close(&r); /* a read-only descriptor: nothing to lose */
    if (err) {
        evaio__dirlist_free(&list);
        errno = err;
        return -1;
    }

    if (flags & (EVAIO_READDIR_DIRS_FIRST | EVAIO_READDIR_STAT_ORDER) && list.n > 1) {
        if (flags & EVAIO_READDIR_DIRS_FIRST)
            for (size_t i = 0; i < list.n; i++)
                list.ents[i].group = group_of(list.ents[i].type);
        qsort(list.ents, list.n, sizeof *list.ents,
              flags & EVAIO_READDIR_STAT_ORDER ? cmp_group_ino : cmp_group);
    }
    int found = list.found_unknown ? EVAIO_READDIR_FOUND_UNKNOWN : 0;
    size_t n = list.n;
    if (evaio__dirlist_finish(&list, req, flags & EVAIO_READDIR_DENTS, &a->names, &a->dents) < 0)
        return -1;
    a->found = found;
    return (int64_t)n;
}
