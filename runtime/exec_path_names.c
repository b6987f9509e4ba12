/* readlink and realpath: string results of any length, in one allocation
 * the library frees after the callback (req->owned_). */
#include "internal.h"
#include "op_executors.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* No filesystem stores a longer symlink; past this something is wrong. */
#define EVAIO__LINK_MAX ((size_t)1 << 20)

/* readlinkat into a NUL-terminated malloc'd buffer, grown until the whole
 * content fits (readlink truncates silently: a full buffer may be cut). */
static char *read_link(int dirfd, const char *path, size_t *len)
{
    for (size_t cap = 256;; cap *= 2) {
        char *buf = malloc(cap);
        if (!buf)
            return NULL; /* ENOMEM */
        ssize_t n;
        do
            n = readlinkat(dirfd, path, buf, cap);
        while (n < 0 && errno == EINTR);
        if (n >= 0 && (size_t)n < cap) {
            buf[n] = 0;
            *len = (size_t)n;
            return buf;
        }
        int err = errno;
        free(buf);
        if (n < 0) {
            errno = err;
            return NULL;
        }
        if (cap >= EVAIO__LINK_MAX) {
            errno = ENAMETOOLONG;
            return NULL;
        }
    }
}

int64_t evaio__exec_readlink(evaio_req *req, struct evaio_readlink_args *a)
{
    size_t len;
    char *text = read_link(evaio__dirfd(req), a->path, &len);
    if (!text)
        return -1;
    a->text = text;
    req->owned_ = text;
    return (int64_t)len;
}

#if defined(__linux__) && defined(O_PATH)
/* The canonical path of `path` relative to dirfd: the kernel's name for the
 * file, read from /proc/self/fd, and checked to still name the same file
 * (it names no file when that was removed, or lies outside our root). */
static char *resolve_at(int dirfd, const char *path)
{
    int fd;
    do
        fd = openat(dirfd, path, O_PATH | O_CLOEXEC); /* follows a final symlink */
    while (fd < 0 && errno == EINTR);
    if (fd < 0)
        return NULL;
    char proc[64];
    snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
    size_t len;
    char *text = read_link(AT_FDCWD, proc, &len);
    if (!text && errno == ENOENT)
        errno = ENOSYS; /* the descriptor is open: /proc is not mounted */
    if (text) {
        struct stat by_fd, by_name;
        if (text[0] != '/') { /* "anon_inode:..." and the like */
            errno = ENOENT;
        } else if (fstat(fd, &by_fd) == 0 && stat(text, &by_name) == 0) {
            if (by_fd.st_dev != by_name.st_dev || by_fd.st_ino != by_name.st_ino)
                errno = ENOENT; /* removed, or " (deleted)" appended */
            else
                errno = 0;
        }
        if (errno) {
            free(text);
            text = NULL;
        }
    }
    int err = errno;
    close(fd);
    errno = err;
    return text;
}
#else
static char *resolve_at(int dirfd, const char *path)
{
    (void)dirfd;
    (void)path;
    errno = ENOSYS;
    return NULL;
}
#endif

int64_t evaio__exec_realpath(evaio_req *req, struct evaio_realpath_args *a)
{
    int dirfd = evaio__dirfd(req);
    char *text = dirfd == AT_FDCWD || a->path[0] == '/' ? realpath(a->path, NULL)
                                                         : resolve_at(dirfd, a->path);
    if (!text)
        return -1;
    a->text = text;
    req->owned_ = text;
    return (int64_t)strlen(text);
}
