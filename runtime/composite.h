/* What the composite executors (copy, move, pathsync, mkpath) share: the
 * cancellation check between their steps, the directory holding a path's
 * last component, and copying a file into place through a temporary. */
#ifndef EVAIO_COMPOSITE_H
#define EVAIO_COMPOSITE_H

#include "internal.h"

#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>

/* The POSIX names of struct stat's nanosecond times. */
#if defined(__APPLE__) && !defined(st_atim)
#define st_atim st_atimespec
#define st_mtim st_mtimespec
#endif

#ifndef NAME_MAX
#define NAME_MAX 255
#endif

/* Directory descriptors that are only used as the base of *at calls. */
#ifdef O_PATH
#define EVAIO__DIR_FLAGS (O_PATH | O_DIRECTORY | O_CLOEXEC) /* search permission is enough */
#else
#define EVAIO__DIR_FLAGS (O_RDONLY | O_DIRECTORY | O_CLOEXEC)
#endif

/* Between two steps: -1 with errno ECANCELED when evaio_cancel has marked
 * the running request, else 0.  The caller then undoes what it did. */
static inline int evaio__cancel_point(const evaio_req *req)
{
    if (!evaio_req_cancelled(req))
        return 0;
    errno = ECANCELED;
    return -1;
}

/* The last component of a path and the directory holding it (composite.c). */
struct evaio__leaf {
    int dirfd;  /* that directory, or -1 */
    char *name; /* the last component without trailing slashes, malloc'd */
    int slash;  /* the path ended with a slash */
};

/* Opens the directory holding the last component of `path` (lexically:
 * "a/b" for "a/b/c", "." for "c", "/" for "/c") relative to dirfd with
 * `oflags` (EVAIO__DIR_FLAGS, or O_RDONLY | O_DIRECTORY | O_CLOEXEC to
 * fsync it).  The root "/" is its own parent, with name ".".  -1 with errno
 * (ENOENT for an empty path); the leaf then holds nothing. */
int evaio__leaf_open(int dirfd, const char *path, int oflags, struct evaio__leaf *leaf);
void evaio__leaf_close(struct evaio__leaf *leaf); /* keeps errno */
int evaio__is_dots(const char *name);             /* "." or ".." */

/* Copying a file (or recreating a symlink) into place (exec_copy.c):
 *   evaio__copy_dest     open the destination's directory, check its name
 *   evaio__copy_file     copy a source into a new temporary beside it
 *   evaio__copy_commit   put the temporary in place
 *   evaio__copy_end      close, and remove the temporary if one is left
 * The steps check for cancellation in between; a failure leaves the
 * destination as it was. */
enum {
    EVAIO__COMMIT_CREATE,   /* only where nothing exists (EEXIST otherwise) */
    EVAIO__COMMIT_REPLACE,  /* replace what is there */
    EVAIO__COMMIT_EXCHANGE, /* swap: what was there is left under the temporary's name */
};

struct evaio__copy {
    struct evaio__leaf dst;
    char tmp[NAME_MAX + 1]; /* the temporary's name in dst.dirfd; "" when there is none */
    int fd;                 /* the temporary, open for writing, or -1 */
    int sync;               /* fsync the temporary once complete */
};

void evaio__copy_init(struct evaio__copy *c, int sync);
/* Opens the directory of `dst` and refuses a name that cannot take a file:
 * EISDIR (a directory), ENOTDIR (a trailing slash), EEXIST (noreplace and
 * something is there). */
int evaio__copy_dest(struct evaio__copy *c, int dirfd, const char *dst, int noreplace);
/* Opens a regular file to copy (flags: 0 or O_NOFOLLOW), non-blocking so a
 * FIFO swapped in never hangs: EISDIR for a directory, EINVAL for anything
 * else that is not a regular file.  Fills *st. */
int evaio__copy_open_source(int dirfd, const char *path, int flags, struct stat *st);
/* Creates the temporary: a file open in c->fd when `target` is NULL, else a
 * symlink to `target`. */
int evaio__copy_mktemp(struct evaio__copy *c, const char *target);
/* Creates the temporary and copies the open regular file `src` (status
 * `st`) into it: contents, owner and group (best effort), mode, times. */
int evaio__copy_file(evaio_req *req, struct evaio__copy *c, int src, const struct stat *st);
int evaio__copy_commit(struct evaio__copy *c, int how);
/* fsyncs the destination's directory (after a commit). */
int evaio__copy_sync_dir(struct evaio__copy *c);
void evaio__copy_end(struct evaio__copy *c); /* keeps errno */

/* Repeats a call while it fails with EINTR. */
#define EVAIO__RETRY(var, call)                                                         \
    do                                                                                  \
        (var) = (call);                                                                 \
    while ((var) == -1 && errno == EINTR)

#endif
