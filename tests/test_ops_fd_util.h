/* Helpers the descriptor-operation tests (test_ops_fd2.c, test_ops_fd3.c)
 * share: a descriptor number that is surely closed, the errno of a failing
 * synchronous call, small file helpers and an open-descriptor count for the
 * leak check.  Include after op_harness.h. */
#ifndef EVAIO_TEST_OPS_FD_UTIL_H
#define EVAIO_TEST_OPS_FD_UTIL_H

#include "check.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

/* A descriptor number that is certainly closed, and far above the numbers
 * the process (or the library, opening its eventfd) would be handed next. */
static inline int closed_fd(void)
{
    long max = sysconf(_SC_OPEN_MAX);
    int floor_fd = max > 300 ? (int)(max - 100 > 4000 ? 4000 : max - 100) : 100;
    int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    CHECK(fd >= 0);
    int hi = fcntl(fd, F_DUPFD_CLOEXEC, floor_fd);
    CHECK(hi >= floor_fd);
    CHECK_EQ(close(fd), 0);
    CHECK_EQ(close(hi), 0);
    errno = 0;
    CHECK_EQ(fcntl(hi, F_GETFD), -1);
    CHECK_EQ(errno, EBADF);
    return hi;
}

/* A closed descriptor number other than `than` (itself closed). */
static inline int closed_fd_besides(int than)
{
    int fd = than + 1;
    while (fcntl(fd, F_GETFD) >= 0)
        fd++;
    CHECK_EQ(errno, EBADF);
    return fd;
}

/* Runs a failing syscall, returning its errno (and checking it failed). */
#define SYNC_ERRNO(call) sync_errno_((call) == -1, #call)
static inline int sync_errno_(int failed, const char *what)
{
    int err = errno;
    if (!failed) {
        fprintf(stderr, "expected the synchronous %s to fail\n", what);
        exit(1);
    }
    return err;
}

/* The number of descriptors open in this process. */
static inline int count_open_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    CHECK(d != NULL);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (e->d_name[0] != '.')
            n++;
    closedir(d);
    return n - 1; /* the directory stream's own */
}

/* The byte at offset i of a pattern file. */
static inline unsigned char pattern_byte(size_t i)
{
    return (unsigned char)((i * 7 + 3) ^ (i >> 8));
}

/* A new file in the scratch directory holding `len` bytes of `data`
 * (or `len` pattern bytes when data is NULL), then opened with `flags`. */
static inline int make_file(const char *name, const void *data, size_t len, int flags)
{
    const char *path = check_path(name);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    CHECK(fd >= 0);
    unsigned char chunk[4096];
    size_t done = 0;
    while (done < len) {
        size_t n = len - done < sizeof chunk ? len - done : sizeof chunk;
        if (data)
            memcpy(chunk, (const unsigned char *)data + done, n);
        else
            for (size_t i = 0; i < n; i++)
                chunk[i] = pattern_byte(done + i);
        CHECK_EQ(pwrite(fd, chunk, n, (off_t)done), (ssize_t)n);
        done += n;
    }
    CHECK_EQ(close(fd), 0);
    fd = open(path, flags | O_CLOEXEC);
    CHECK(fd >= 0);
    return fd;
}

static inline void check_pattern(const unsigned char *got, size_t off, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (got[i] != pattern_byte(off + i)) {
            fprintf(stderr, "byte %zu (file offset %zu) differs\n", i, off + i);
            CHECK(got[i] == pattern_byte(off + i));
        }
}

/* The whole content of an open file, read with pread (malloc'd; *len set). */
static inline unsigned char *file_bytes(int fd, size_t *len)
{
    struct stat st;
    CHECK_EQ(fstat(fd, &st), 0);
    unsigned char *buf = malloc((size_t)st.st_size + 1);
    CHECK(buf != NULL);
    size_t done = 0;
    while (done < (size_t)st.st_size) {
        ssize_t n = pread(fd, buf + done, (size_t)st.st_size - done, (off_t)done);
        CHECK(n > 0);
        done += (size_t)n;
    }
    *len = done;
    return buf;
}

static inline off_t file_pos(int fd)
{
    off_t pos = lseek(fd, 0, SEEK_CUR);
    CHECK(pos >= 0);
    return pos;
}

static inline off_t file_size(int fd)
{
    struct stat st;
    CHECK_EQ(fstat(fd, &st), 0);
    return st.st_size;
}

#endif
