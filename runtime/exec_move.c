/* move: rename(2), or across filesystems a copy put in place before the
 * source is removed, taken back if the source cannot be: the old state or
 * the new one, never both. */
#include "composite.h"
#include "op_executors.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

/* rename(2) that fails with EEXIST when new_path exists. */
static int rename_noreplace(int dirfd, const char *path, const char *new_path)
{
    int r;
#ifdef RENAME_NOREPLACE
    EVAIO__RETRY(r, renameat2(dirfd, path, dirfd, new_path, RENAME_NOREPLACE));
    /* EINVAL, ENOSYS: a filesystem or kernel without the flag (or, for
     * EINVAL, a directory moved into itself, which stays EINVAL below). */
    if (r == 0 || (errno != EINVAL && errno != ENOSYS))
        return r;
#endif
    struct stat st;
    EVAIO__RETRY(r, fstatat(dirfd, path, &st, AT_SYMLINK_NOFOLLOW));
    if (r < 0)
        return -1;
    if (S_ISDIR(st.st_mode)) { /* no link(2) for a directory */
        errno = EINVAL;
        return -1;
    }
    EVAIO__RETRY(r, linkat(dirfd, path, dirfd, new_path, 0)); /* EEXIST atomically, or EXDEV */
    if (r < 0)
        return -1;
    EVAIO__RETRY(r, unlinkat(dirfd, path, 0));
    if (r < 0) {
        int err = errno;
        unlinkat(dirfd, new_path, 0);
        errno = err;
    }
    return r;
}

/* Recreates the symlink `path` as the temporary: same target, owner and
 * group (best effort), times. */
static int copy_symlink(evaio_req *req, struct evaio__copy *c, int dirfd, const char *path,
                        const struct stat *st)
{
    size_t size = (size_t)st->st_size + 1; /* the target's length, or 0 on some filesystems */
    if (size < 256)
        size = 256;
    char *target = NULL;
    for (;;) {
        char *grown = realloc(target, size);
        if (!grown) {
            free(target);
            errno = ENOMEM;
            return -1;
        }
        target = grown;
        ssize_t n = readlinkat(dirfd, path, target, size);
        if (n < 0) {
            int err = errno;
            free(target);
            errno = err;
            return -1;
        }
        if ((size_t)n < size) {
            target[n] = 0;
            break;
        }
        size *= 2; /* it grew: read it again */
    }
    int r = evaio__cancel_point(req) < 0 ? -1 : evaio__copy_mktemp(c, target);
    int err = errno;
    free(target);
    errno = err;
    if (r < 0)
        return -1;
    int d = c->dst.dirfd;
    if (fchownat(d, c->tmp, st->st_uid, st->st_gid, AT_SYMLINK_NOFOLLOW) < 0) {
        if (errno != EPERM && errno != EINVAL)
            return -1;
        if (fchownat(d, c->tmp, (uid_t)-1, st->st_gid, AT_SYMLINK_NOFOLLOW) < 0 && errno != EPERM &&
            errno != EINVAL)
            return -1;
    }
    struct timespec times[2] = { st->st_atim, st->st_mtim };
    return utimensat(d, c->tmp, times, AT_SYMLINK_NOFOLLOW);
}

/* Puts the copy in place and says how (for take_back), or -1.  A file
 * replaced is exchanged with the copy, so that it can come back until the
 * source is gone; where the filesystem cannot exchange, it is replaced. */
static int put_in_place(struct evaio__copy *c, int noreplace)
{
    for (int tries = 0; tries < 4; tries++) {
        if (evaio__copy_commit(c, EVAIO__COMMIT_CREATE) == 0)
            return EVAIO__COMMIT_CREATE;
        if (errno != EEXIST || noreplace)
            return -1;
        if (evaio__copy_commit(c, EVAIO__COMMIT_EXCHANGE) == 0) {
            struct stat st;
            if (fstatat(c->dst.dirfd, c->tmp, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode)) {
                /* A directory came there meanwhile: rename(2) would refuse. */
                if (evaio__copy_commit(c, EVAIO__COMMIT_EXCHANGE) < 0)
                    c->tmp[0] = 0; /* leave it where it is rather than lose it */
                errno = EISDIR;
                return -1;
            }
            return EVAIO__COMMIT_EXCHANGE;
        }
        if (errno == ENOENT)
            continue; /* gone meanwhile: create again */
        if (errno != EINVAL && errno != ENOSYS)
            return -1;
        return evaio__copy_commit(c, EVAIO__COMMIT_REPLACE) == 0 ? EVAIO__COMMIT_REPLACE : -1;
    }
    return -1;
}

/* Undoes put_in_place: the destination as it was before (except a file
 * replaced without an exchange, which is gone). */
static void take_back(struct evaio__copy *c, int how)
{
    int saved = errno;
    if (how == EVAIO__COMMIT_EXCHANGE) {
        /* Swap again: the copy gets the temporary's name, which
         * evaio__copy_end removes; if that fails, keep both. */
        if (evaio__copy_commit(c, EVAIO__COMMIT_EXCHANGE) < 0)
            c->tmp[0] = 0;
    } else {
        unlinkat(c->dst.dirfd, c->dst.name, 0);
    }
    errno = saved;
}

static int move_across(evaio_req *req, int dirfd, const char *path, const char *new_path, int noreplace)
{
    struct stat st;
    int r;
    EVAIO__RETRY(r, fstatat(dirfd, path, &st, AT_SYMLINK_NOFOLLOW));
    if (r < 0)
        return -1;
    if (!S_ISREG(st.st_mode) && !S_ISLNK(st.st_mode)) {
        errno = EXDEV; /* directories and special files stay where they are */
        return -1;
    }
    struct evaio__copy c;
    evaio__copy_init(&c, 1); /* flushed before the source goes */
    int how = -1, ret = -1;
    if (evaio__copy_dest(&c, dirfd, new_path, noreplace) < 0)
        goto out;
    if (S_ISREG(st.st_mode)) {
        int src = evaio__copy_open_source(dirfd, path, O_NOFOLLOW, &st);
        if (src < 0)
            goto out;
        r = evaio__copy_file(req, &c, src, &st);
        int err = errno;
        close(src);
        errno = err;
        if (r < 0)
            goto out;
    } else if (copy_symlink(req, &c, dirfd, path, &st) < 0) {
        goto out;
    }
    if (evaio__cancel_point(req) < 0 || (how = put_in_place(&c, noreplace)) < 0)
        goto out;
    if (evaio__copy_sync_dir(&c) < 0 || evaio__cancel_point(req) < 0)
        goto undo;
    EVAIO__RETRY(r, unlinkat(dirfd, path, 0));
    if (r < 0)
        goto undo;
    ret = 0; /* an exchanged-out destination is removed with the temporary */
    goto out;
undo:
    take_back(&c, how);
out:
    evaio__copy_end(&c);
    return ret;
}

int64_t evaio__exec_move(evaio_req *req, struct evaio_move_args *a)
{
    if (a->flags & ~EVAIO_MOVE_NOREPLACE) {
        errno = EINVAL;
        return -1;
    }
    int noreplace = (a->flags & EVAIO_MOVE_NOREPLACE) != 0;
    int dirfd = evaio__dirfd(req);
    int r;
    if (noreplace)
        r = rename_noreplace(dirfd, a->path, a->new_path);
    else
        EVAIO__RETRY(r, renameat(dirfd, a->path, dirfd, a->new_path));
    if (r == 0 || errno != EXDEV)
        return r;
    return move_across(req, dirfd, a->path, a->new_path, noreplace);
}
