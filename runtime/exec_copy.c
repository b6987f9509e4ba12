/* copy: a regular file copied like cp -p into a temporary beside the
 * destination, which is renamed into place only once complete.  The steps
 * are move's too, for a file crossing filesystems (see composite.h). */
#include "composite.h"
#include "op_executors.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#ifdef __linux__
#include <linux/fs.h> /* FICLONE */
#include <sys/ioctl.h>
#include <sys/sendfile.h>
#include <sys/syscall.h>
#endif

#define EVAIO__COPY_CHUNK ((size_t)1 << 20) /* bytes between two cancellation checks */
#define EVAIO__COPY_BUF ((size_t)64 << 10)  /* the read/write loop's buffer */

void evaio__copy_init(struct evaio__copy *c, int sync)
{
    c->dst.dirfd = -1;
    c->dst.name = NULL;
    c->dst.slash = 0;
    c->tmp[0] = 0;
    c->fd = -1;
    c->sync = sync;
}

void evaio__copy_end(struct evaio__copy *c)
{
    int saved = errno;
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
    if (c->tmp[0]) /* our copy, or what an exchange took out of the way: never a directory */
        unlinkat(c->dst.dirfd, c->tmp, 0);
    c->tmp[0] = 0;
    evaio__leaf_close(&c->dst);
    errno = saved;
}

int evaio__copy_dest(struct evaio__copy *c, int dirfd, const char *dst, int noreplace)
{
    if (evaio__leaf_open(dirfd, dst, EVAIO__DIR_FLAGS, &c->dst) < 0)
        return -1;
    /* A trailing slash, ".", "..": the name of a directory, never a file's. */
    int dir_only = c->dst.slash || evaio__is_dots(c->dst.name);
    struct stat st;
    int r;
    EVAIO__RETRY(r, fstatat(c->dst.dirfd, c->dst.name, &st, dir_only ? 0 : AT_SYMLINK_NOFOLLOW));
    if (r < 0 && errno != ENOENT)
        return -1;
    if (dir_only || (r == 0 && S_ISDIR(st.st_mode))) {
        errno = r == 0 && S_ISDIR(st.st_mode) ? EISDIR : ENOTDIR;
        return -1;
    }
    if (r == 0 && noreplace) {
        errno = EEXIST; /* checked again, atomically, by the commit */
        return -1;
    }
    return 0;
}

int evaio__copy_open_source(int dirfd, const char *path, int flags, struct stat *st)
{
    int r, fd;
    /* Looked at before it is opened: opening a device can have effects. */
    EVAIO__RETRY(r, fstatat(dirfd, path, st, (flags & O_NOFOLLOW) ? AT_SYMLINK_NOFOLLOW : 0));
    if (r < 0)
        return -1;
    if (!S_ISREG(st->st_mode)) {
        errno = S_ISDIR(st->st_mode) ? EISDIR : EINVAL;
        return -1;
    }
    EVAIO__RETRY(fd, openat(dirfd, path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK | flags));
    if (fd < 0)
        return -1;
    int err = fstat(fd, st) < 0 ? errno : S_ISREG(st->st_mode) ? 0 : S_ISDIR(st->st_mode) ? EISDIR : EINVAL;
    if (err) { /* swapped since */
        close(fd);
        errno = err;
        return -1;
    }
    int fl = fcntl(fd, F_GETFL);
    if (fl >= 0)
        fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
    return fd;
}

static uint64_t mix64(uint64_t x)
{
    x += 0x9e3779b97f4a7c15u;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9u;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebu;
    return x ^ (x >> 31);
}

int evaio__copy_mktemp(struct evaio__copy *c, const char *target)
{
    static const char digits[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    static const char mid[] = ".evaio-";
    enum { NRAND = 6 };
    size_t nlen = strlen(c->dst.name);
    size_t keep = NAME_MAX - 1 - (sizeof mid - 1) - NRAND; /* ".NAME.evaio-XXXXXX" fits a name */
    if (nlen > keep)
        nlen = keep;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    uint64_t seed = ((uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec) ^
                    ((uint64_t)getpid() << 32) ^ (uint64_t)(uintptr_t)&ts;
    for (unsigned attempt = 0; attempt < 100; attempt++) {
        uint64_t x = mix64(seed + attempt);
        char *p = c->tmp;
        *p++ = '.';
        memcpy(p, c->dst.name, nlen);
        p += nlen;
        memcpy(p, mid, sizeof mid - 1);
        p += sizeof mid - 1;
        for (int i = 0; i < NRAND; i++, x /= 62)
            *p++ = digits[x % 62];
        *p = 0;
        int r;
        if (target) {
            EVAIO__RETRY(r, symlinkat(target, c->dst.dirfd, c->tmp));
        } else {
            EVAIO__RETRY(r, openat(c->dst.dirfd, c->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOCTTY,
                                   0600));
            if (r >= 0)
                c->fd = r;
        }
        if (r >= 0)
            return 0;
        if (errno != EEXIST)
            break;
    }
    c->tmp[0] = 0;
    return -1;
}

/* Errors for which copying by other means may still work. */
static int try_other_way(int err)
{
    switch (err) {
    case EINVAL:
    case ENOSYS:
    case EXDEV:
    case EBADF:
    case EPERM:
    case ETXTBSY:
    case EOPNOTSUPP:
#if defined(ENOTSUP) && ENOTSUP != EOPNOTSUPP
    case ENOTSUP:
#endif
#if defined(ENOTTY)
    case ENOTTY:
#endif
        return 1;
    default:
        return 0;
    }
}

/* One chunk by pread and pwrite at `off`: the bytes copied, 0 at the end. */
static ssize_t rw_chunk(int in, int out, off_t off, char *buf)
{
    ssize_t n;
    EVAIO__RETRY(n, pread(in, buf, EVAIO__COPY_BUF, off));
    if (n <= 0)
        return n;
    for (ssize_t done = 0; done < n;) {
        ssize_t w;
        EVAIO__RETRY(w, pwrite(out, buf + done, (size_t)(n - done), off + done));
        if (w < 0)
            return -1;
        if (w == 0) {
            errno = ENOSPC;
            return -1;
        }
        done += w;
    }
    return n;
}

/* Copies everything `in` holds into the empty file `out`, up to the end of
 * `in` as it is then (a growing source is copied as far as it has grown). */
static int copy_data(evaio_req *req, int in, int out)
{
#ifdef FICLONE
    int r;
    EVAIO__RETRY(r, ioctl(out, FICLONE, in));
    if (r == 0)
        return 0; /* shares the data: one step */
    if (ftruncate(out, 0) < 0) /* whatever a failed clone left */
        return -1;
#endif
    enum { RANGE, SENDFILE, READ_WRITE } way = RANGE;
    off_t off = 0;
    char *buf = NULL;
    int ret = 0;
    for (;;) {
        if (evaio__cancel_point(req) < 0) {
            ret = -1;
            break;
        }
        ssize_t n;
        if (way == RANGE) {
#if defined(__linux__) && defined(SYS_copy_file_range)
            loff_t in_off = off, out_off = off;
            n = syscall(SYS_copy_file_range, in, &in_off, out, &out_off, EVAIO__COPY_CHUNK, 0u);
#else
            n = -1;
            errno = ENOSYS;
#endif
            if (n < 0 && try_other_way(errno)) {
                way = SENDFILE;
                continue;
            }
        } else if (way == SENDFILE) {
#ifdef __linux__
            off_t in_off = off;
            n = lseek(out, off, SEEK_SET) < 0 ? -1 : sendfile(out, in, &in_off, EVAIO__COPY_CHUNK);
#else
            n = -1;
            errno = ENOSYS;
#endif
            if (n < 0 && try_other_way(errno)) {
                way = READ_WRITE;
                continue;
            }
        } else {
            if (!buf && !(buf = malloc(EVAIO__COPY_BUF))) {
                errno = ENOMEM;
                ret = -1;
                break;
            }
            n = rw_chunk(in, out, off, buf);
        }
        if (n < 0) {
            if (errno == EINTR)
                continue;
            ret = -1;
            break;
        }
        if (n == 0) {
            /* The end, unless a fast way reports 0 for a file it cannot
             * copy (some pseudo-filesystems): the plain loop confirms. */
            if (way == READ_WRITE)
                break;
            way = READ_WRITE;
            continue;
        }
        off += n;
    }
    int saved = errno;
    free(buf);
    errno = saved;
    return ret;
}

/* Owner and group (best effort), permission bits, then the times: last,
 * since writing would change them. */
static int copy_meta(int out, const struct stat *st)
{
    mode_t mode = st->st_mode & 07777;
    if (fchown(out, st->st_uid, st->st_gid) < 0) {
        if (errno != EPERM && errno != EINVAL) /* EINVAL: an id this namespace cannot map */
            return -1;
        /* Without the privilege: the group alone, if the caller is in it. */
        if (fchown(out, (uid_t)-1, st->st_gid) < 0 && errno != EPERM && errno != EINVAL)
            return -1;
        struct stat now;
        if (fstat(out, &now) < 0)
            return -1;
        if (now.st_uid != st->st_uid) /* a set-id bit must not pass to another owner */
            mode &= ~(mode_t)S_ISUID;
        if (now.st_gid != st->st_gid)
            mode &= ~(mode_t)S_ISGID;
    }
    if (fchmod(out, mode) < 0)
        return -1;
    struct timespec times[2] = { st->st_atim, st->st_mtim };
    return futimens(out, times);
}

int evaio__copy_file(evaio_req *req, struct evaio__copy *c, int src, const struct stat *st)
{
    if (evaio__cancel_point(req) < 0 || evaio__copy_mktemp(c, NULL) < 0)
        return -1;
    if (copy_data(req, src, c->fd) < 0 || evaio__cancel_point(req) < 0 || copy_meta(c->fd, st) < 0)
        return -1;
    if (c->sync) {
        int r;
        EVAIO__RETRY(r, fsync(c->fd));
        if (r < 0)
            return -1;
    }
    return 0;
}

int evaio__copy_commit(struct evaio__copy *c, int how)
{
    int d = c->dst.dirfd, r;
    const char *name = c->dst.name;
    if (how == EVAIO__COMMIT_EXCHANGE) {
#ifdef RENAME_EXCHANGE
        EVAIO__RETRY(r, renameat2(d, c->tmp, d, name, RENAME_EXCHANGE));
        return r; /* the temporary's name now holds what was there */
#else
        errno = ENOSYS;
        return -1;
#endif
    }
    if (how == EVAIO__COMMIT_REPLACE) {
        EVAIO__RETRY(r, renameat(d, c->tmp, d, name));
    } else {
        int by_link = 1;
#ifdef RENAME_NOREPLACE
        EVAIO__RETRY(r, renameat2(d, c->tmp, d, name, RENAME_NOREPLACE));
        /* EINVAL, ENOSYS: a filesystem or kernel without the flag. */
        by_link = r < 0 && (errno == EINVAL || errno == ENOSYS);
#endif
        if (by_link) {
            /* link(2) fails with EEXIST as atomically; then the temporary
             * name goes (a failure there leaves a second name for it). */
            EVAIO__RETRY(r, linkat(d, c->tmp, d, name, 0));
            if (r == 0)
                unlinkat(d, c->tmp, 0);
        }
    }
    if (r == 0)
        c->tmp[0] = 0;
    return r;
}

int evaio__copy_sync_dir(struct evaio__copy *c)
{
    int fd, r;
    EVAIO__RETRY(fd, openat(c->dst.dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (fd < 0)
        return -1;
    EVAIO__RETRY(r, fsync(fd));
    int saved = errno;
    close(fd);
    errno = saved;
    return r;
}

int64_t evaio__exec_copy(evaio_req *req, struct evaio_copy_args *a)
{
    if (a->flags & ~(EVAIO_COPY_NOREPLACE | EVAIO_COPY_SYNC)) {
        errno = EINVAL;
        return -1;
    }
    int noreplace = (a->flags & EVAIO_COPY_NOREPLACE) != 0;
    int dirfd = evaio__dirfd(req);
    struct stat st;
    int src = evaio__copy_open_source(dirfd, a->path, 0, &st);
    if (src < 0)
        return -1;
    struct evaio__copy c;
    evaio__copy_init(&c, (a->flags & EVAIO_COPY_SYNC) != 0);
    int r = -1;
    if (evaio__copy_dest(&c, dirfd, a->new_path, noreplace) == 0 && evaio__copy_file(req, &c, src, &st) == 0 &&
        evaio__cancel_point(req) == 0 &&
        evaio__copy_commit(&c, noreplace ? EVAIO__COMMIT_CREATE : EVAIO__COMMIT_REPLACE) == 0)
        r = c.sync ? evaio__copy_sync_dir(&c) : 0; /* a failure here leaves the copy in place */
    int saved = errno;
    close(src);
    evaio__copy_end(&c);
    errno = saved;
    return r;
}
