/* sendfile: copies until `length` bytes, the end of the input, or an error.
 * Native on Linux; elsewhere, and where Linux refuses the pair before
 * copying anything, read/pread + write through a bounded buffer.  An error
 * after some bytes were copied is dropped in favour of the count, since
 * those bytes cannot be taken back. */
#include "internal.h"
#include "op_executors.h"

#include <stdlib.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/sendfile.h>
#endif

#define EVAIO__SENDFILE_CHUNK (64 * 1024)

/* Writes as much of buf as out_fd takes; on a stop sets *err (0 when write
 * reported no error but took nothing). */
static size_t write_all(int fd, const char *buf, size_t len, int *err)
{
    size_t done = 0;
    while (done < len) {
        ssize_t n = write(fd, buf + done, len - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            *err = n < 0 ? errno : 0;
            break;
        }
        done += (size_t)n;
    }
    return done;
}

static int64_t emulate(int out_fd, int in_fd, int64_t offset, size_t length)
{
    size_t cap = length < EVAIO__SENDFILE_CHUNK ? length : EVAIO__SENDFILE_CHUNK;
    char *buf = malloc(cap ? cap : 1);
    if (!buf)
        return -1;
    int64_t done = 0;
    int err = 0;
    if (length == 0) {
        /* Nothing to copy, but the descriptors must suit the copy. */
        ssize_t n;
        do
            n = offset == -1 ? read(in_fd, buf, 0) : pread(in_fd, buf, 0, (off_t)offset);
        while (n < 0 && errno == EINTR);
        if (n == 0)
            do
                n = write(out_fd, buf, 0);
            while (n < 0 && errno == EINTR);
        if (n < 0)
            err = errno;
    }
    while ((size_t)done < length) {
        size_t want = length - (size_t)done < cap ? length - (size_t)done : cap;
        ssize_t n;
        do
            n = offset == -1 ? read(in_fd, buf, want) : pread(in_fd, buf, want, (off_t)(offset + done));
        while (n < 0 && errno == EINTR);
        if (n <= 0) {
            err = n < 0 ? errno : 0;
            break; /* the error, or the end of the input */
        }
        size_t wrote = write_all(out_fd, buf, (size_t)n, &err);
        done += (int64_t)wrote;
        if (wrote < (size_t)n) {
            /* Give back what was read and not written, where in_fd can seek. */
            if (offset == -1)
                (void)lseek(in_fd, -(off_t)((size_t)n - wrote), SEEK_CUR);
            break;
        }
    }
    free(buf);
    if (done == 0 && err) {
        errno = err;
        return -1;
    }
    return done;
}

int64_t evaio__exec_sendfile(evaio_req *req, struct evaio_sendfile_args *a)
{
    (void)req;
#ifdef __linux__
    off_t off = (off_t)a->offset;
    int64_t done = 0;
    for (;;) {
        ssize_t n = sendfile(a->out_fd, a->in_fd, a->offset == -1 ? NULL : &off, a->length - (size_t)done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && done == 0 && (errno == EINVAL || errno == ENOSYS))
            return emulate(a->out_fd, a->in_fd, a->offset, a->length);
        if (n < 0)
            return done ? done : -1;
        done += n;
        if (n == 0 || (size_t)done == a->length)
            return done; /* the end of the input, or all of it (length 0 included) */
    }
#else
    return emulate(a->out_fd, a->in_fd, a->offset, a->length);
#endif
}
