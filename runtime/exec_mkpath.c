/* mkpath: mkdir -p, leaving the whole path or nothing new. */
#include "composite.h"
#include "op_executors.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* What an existing `path` means for mkpath: 0 if it is a directory (or a
 * symlink to one), else -1 with EEXIST for the last component and ENOTDIR
 * for one before it.  ENOENT (a dangling symlink, or removed meanwhile)
 * is returned as it is. */
static int existing(int dirfd, const char *path, int last)
{
    struct stat st;
    int r;
    EVAIO__RETRY(r, fstatat(dirfd, path, &st, 0));
    if (r == 0 && S_ISDIR(st.st_mode))
        return 0;
    if (r < 0 && errno == ENOENT)
        return -1;
    errno = last ? EEXIST : ENOTDIR;
    return -1;
}

/* Removes the directories this request made, newest first, where empty. */
static void undo(int dirfd, char *buf, const size_t *made, size_t nmade)
{
    int saved = errno;
    while (nmade--) {
        char c = buf[made[nmade]];
        buf[made[nmade]] = 0;
        unlinkat(dirfd, buf, AT_REMOVEDIR);
        buf[made[nmade]] = c;
    }
    errno = saved;
}

int64_t evaio__exec_mkpath(evaio_req *req, struct evaio_mkpath_args *a)
{
    int dirfd = evaio__dirfd(req);
    const char *path = a->path;
    mode_t mode = a->mode, parent_mode = a->mode | S_IWUSR | S_IXUSR;
    size_t len = strlen(path);
    int r;

    /* Usually the parent exists: one call. */
    EVAIO__RETRY(r, mkdirat(dirfd, path, mode));
    if (r == 0)
        return 0;
    if (errno == EEXIST) {
        if (existing(dirfd, path, 1) == 0)
            return 0;
        if (errno == ENOENT)
            errno = EEXIST; /* a dangling symlink */
        return -1;
    }
    if (errno != ENOENT || len == 0)
        return -1;

    /* Component by component: a copy of the path, cut after each one, and
     * where each directory this request made ends in it. */
    char *buf = malloc(len + 1 + (len / 2 + 2) * sizeof(size_t));
    if (!buf) {
        errno = ENOMEM;
        return -1;
    }
    size_t *made = (size_t *)(void *)(buf + ((len + 1 + sizeof(size_t) - 1) / sizeof(size_t)) * sizeof(size_t));
    size_t nmade = 0;
    memcpy(buf, path, len + 1);
    int restarts = 0;
    size_t i = 0;
    while (i < len) {
        while (i < len && buf[i] == '/')
            i++;
        if (i == len)
            break;
        size_t end = i;
        while (end < len && buf[end] != '/')
            end++;
        size_t next = end;
        while (next < len && buf[next] == '/')
            next++;
        int last = next == len;
        if (evaio__cancel_point(req) < 0)
            goto fail;
        char c = buf[end];
        buf[end] = 0;
        EVAIO__RETRY(r, mkdirat(dirfd, buf, last ? mode : parent_mode));
        if (r == 0) {
            made[nmade++] = end;
        } else if (errno == EEXIST) {
            /* Made by someone else, or there before; a symlink to a
             * directory counts.  ENOENT: a dangling symlink, or removed
             * just now: one more try tells. */
            r = existing(dirfd, buf, last);
            if (r < 0 && errno == ENOENT) {
                EVAIO__RETRY(r, mkdirat(dirfd, buf, last ? mode : parent_mode));
                if (r == 0)
                    made[nmade++] = end;
                else if (errno == EEXIST && (r = existing(dirfd, buf, last)) < 0 && errno == ENOENT)
                    errno = last ? EEXIST : ENOENT; /* a dangling symlink */
            }
        } else if (errno == ENOENT && i > 0 && restarts < 8) {
            /* A parent seen a moment ago was removed (another request
             * undoing its own): start again from the top. */
            buf[end] = c;
            restarts++;
            i = 0;
            continue;
        }
        buf[end] = c;
        if (r < 0)
            goto fail;
        i = next;
    }
    free(buf);
    return 0;
fail:
    undo(dirfd, buf, made, nmade);
    int err = errno;
    free(buf);
    errno = err;
    return -1;
}
