/* Extended attributes: get, set, list and remove, on a path (following a
 * final symlink or not) or on a descriptor.  Linux only: elsewhere the
 * dispatch reports ENOSYS without calling these (their `when`).
 *
 * There are no *at forms of these calls in glibc, so a relative path with a
 * working directory is named through /proc/self/fd/DIRFD/PATH
 * (evaio__at_path); the kernel resolves that like an *at lookup, and the
 * l-variants still do not follow the final component. */
#include "internal.h"
#include "op_executors.h"

#ifdef __linux__

#include <errno.h>
#include <stdlib.h>
#include <sys/xattr.h>

_Static_assert(EVAIO_XATTR_CREATE == XATTR_CREATE && EVAIO_XATTR_REPLACE == XATTR_REPLACE,
               "EVAIO_XATTR_* are passed to the system unchanged");

/* Room for "/proc/self/fd/N/" before a path: a longer path fails with
 * ENAMETOOLONG, as the kernel would fail it anyway. */
#define EVAIO__XATTR_PATH_SIZE (PATH_MAX + 32)

/* The path to hand to the call: `path` itself, or its name through the wd.
 * NULL with errno set. */
static const char *xattr_path(evaio_req *req, const char *path, char *buf)
{
    if (!path[0]) {
        /* "" names nothing, but "/proc/self/fd/N/" would name the wd itself. */
        errno = ENOENT;
        return NULL;
    }
    return evaio__at_path(evaio__dirfd(req), path, buf, EVAIO__XATTR_PATH_SIZE);
}

/* ---- get ---- */

typedef ssize_t (*get_fn)(const char *path, const char *name, void *buf, size_t size);

static int64_t get_at(evaio_req *req, get_fn fn, const char *path, const char *name, void *buf,
                      size_t length)
{
    char tmp[EVAIO__XATTR_PATH_SIZE];
    const char *p = xattr_path(req, path, tmp);
    if (!p)
        return -1;
    ssize_t n;
    do
        n = fn(p, name, buf, length);
    while (n < 0 && errno == EINTR);
    return n;
}

int64_t evaio__exec_getxattr(evaio_req *req, struct evaio_getxattr_args *a)
{
    return get_at(req, getxattr, a->path, a->name, a->buf, a->length);
}

int64_t evaio__exec_lgetxattr(evaio_req *req, struct evaio_lgetxattr_args *a)
{
    return get_at(req, lgetxattr, a->path, a->name, a->buf, a->length);
}

int64_t evaio__exec_fgetxattr(evaio_req *req, struct evaio_fgetxattr_args *a)
{
    (void)req;
    ssize_t n;
    do
        n = fgetxattr(a->fd, a->name, a->buf, a->length);
    while (n < 0 && errno == EINTR);
    return n;
}

/* ---- set ---- */

typedef int (*set_fn)(const char *path, const char *name, const void *value, size_t size, int flags);

static int64_t set_at(evaio_req *req, set_fn fn, const char *path, const char *name, const void *buf,
                      size_t length, int flags)
{
    char tmp[EVAIO__XATTR_PATH_SIZE];
    const char *p = xattr_path(req, path, tmp);
    if (!p)
        return -1;
    int rc;
    do
        rc = fn(p, name, buf, length, flags);
    while (rc < 0 && errno == EINTR);
    return rc;
}

int64_t evaio__exec_setxattr(evaio_req *req, struct evaio_setxattr_args *a)
{
    return set_at(req, setxattr, a->path, a->name, a->buf, a->length, a->flags);
}

int64_t evaio__exec_lsetxattr(evaio_req *req, struct evaio_lsetxattr_args *a)
{
    return set_at(req, lsetxattr, a->path, a->name, a->buf, a->length, a->flags);
}

int64_t evaio__exec_fsetxattr(evaio_req *req, struct evaio_fsetxattr_args *a)
{
    (void)req;
    int rc;
    do
        rc = fsetxattr(a->fd, a->name, a->buf, a->length, a->flags);
    while (rc < 0 && errno == EINTR);
    return rc;
}

/* ---- list ---- */

/* One listing call: on a path (list_path, with follow or not) or on fd. */
struct lister {
    ssize_t (*list_path)(const char *path, char *list, size_t size);
    const char *path;
    int fd;
};

static ssize_t list_once(const struct lister *l, char *list, size_t size)
{
    ssize_t n;
    do
        n = l->list_path ? l->list_path(l->path, list, size) : flistxattr(l->fd, list, size);
    while (n < 0 && errno == EINTR);
    return n;
}

/* Asks for the size, allocates, and lists; when the list grew in between
 * (ERANGE), asks again, as often as it keeps growing.  The buffer has at
 * least one byte, so `names` is never NULL on success. */
static int64_t list_all(evaio_req *req, const struct lister *l, char **names)
{
    size_t cap = 0;
    char *list = NULL;
    for (;;) {
        ssize_t want = list_once(l, NULL, 0);
        if (want < 0)
            break;
        if ((size_t)want + 1 > cap) {
            char *bigger = realloc(list, (size_t)want + 1);
            if (!bigger) {
                errno = ENOMEM;
                break;
            }
            list = bigger;
            cap = (size_t)want + 1;
        }
        ssize_t n = list_once(l, list, cap);
        if (n >= 0) {
            *names = list;
            req->owned_ = list;
            return n;
        }
        if (errno != ERANGE)
            break;
    }
    int saved = errno;
    free(list);
    errno = saved;
    return -1;
}

static int64_t list_at(evaio_req *req, ssize_t (*fn)(const char *, char *, size_t), const char *path,
                       char **names)
{
    char tmp[EVAIO__XATTR_PATH_SIZE];
    const char *p = xattr_path(req, path, tmp);
    if (!p)
        return -1;
    struct lister l = { fn, p, -1 };
    return list_all(req, &l, names);
}

int64_t evaio__exec_listxattr(evaio_req *req, struct evaio_listxattr_args *a)
{
    return list_at(req, listxattr, a->path, &a->names);
}

int64_t evaio__exec_llistxattr(evaio_req *req, struct evaio_llistxattr_args *a)
{
    return list_at(req, llistxattr, a->path, &a->names);
}

int64_t evaio__exec_flistxattr(evaio_req *req, struct evaio_flistxattr_args *a)
{
    struct lister l = { NULL, NULL, a->fd };
    return list_all(req, &l, &a->names);
}

/* ---- remove ---- */

static int64_t remove_at(evaio_req *req, int (*fn)(const char *, const char *), const char *path,
                         const char *name)
{
    char tmp[EVAIO__XATTR_PATH_SIZE];
    const char *p = xattr_path(req, path, tmp);
    if (!p)
        return -1;
    int rc;
    do
        rc = fn(p, name);
    while (rc < 0 && errno == EINTR);
    return rc;
}

int64_t evaio__exec_removexattr(evaio_req *req, struct evaio_removexattr_args *a)
{
    return remove_at(req, removexattr, a->path, a->name);
}

int64_t evaio__exec_lremovexattr(evaio_req *req, struct evaio_lremovexattr_args *a)
{
    return remove_at(req, lremovexattr, a->path, a->name);
}

int64_t evaio__exec_fremovexattr(evaio_req *req, struct evaio_fremovexattr_args *a)
{
    (void)req;
    int rc;
    do
        rc = fremovexattr(a->fd, a->name);
    while (rc < 0 && errno == EINTR);
    return rc;
}

#endif /* __linux__ */
