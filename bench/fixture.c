/* The temporary files the workloads use, and the checks of every result.
 *
 * In $TMPDIR (default /tmp), a directory evaio-bench.XXXXXX holding
 *   - N small files f000000 ...: file i holds i % 251 bytes, so a stat of
 *     the wrong file is caught by its size;
 *   - data: the pread file, whose every 8-byte word holds a value derived
 *     from its offset (pattern_word), so a read at the wrong offset, a short
 *     read or a stale buffer is caught by comparing the whole block.
 * Both are made before any measurement and, far smaller than the free RAM,
 * stay in the page cache, so every measured stat and pread is served from
 * the caches: the numbers are the dispatch overhead, not the disk. */
#include "bench.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct fixture fx = { .data_fd = -1 };

static volatile size_t nfiles_made;
static volatile int data_made;

#define PATTERN_SEED 0x5eed0f0ffe7c0deULL
#define PATTERN_STEP 0x9e3779b97f4a7c15ULL /* odd: distinct words get distinct values */

static uint64_t pattern_word(uint64_t offset)
{
    return PATTERN_SEED + (offset / 8) * PATTERN_STEP;
}

int64_t file_size(size_t file)
{
    return (int64_t)(file % 251);
}

size_t stat_file(size_t i)
{
    return i % fx.nfiles;
}

static uint64_t splitmix64(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

int64_t pread_offset(size_t i)
{
    uint64_t blocks = fx.data_size / BLOCK;
    return (int64_t)((splitmix64(i) % blocks) * BLOCK);
}

/* ------------------------------------------------------------------------ */
/* Making and removing the files */

void fixture_remove(void)
{
    /* Only async-signal-safe calls: also used from the signal handler. */
    size_t n = nfiles_made;
    for (size_t i = 0; i < n; i++)
        unlink(fx.paths[i]);
    nfiles_made = 0;
    if (data_made) {
        unlink(fx.data_path);
        data_made = 0;
    }
    if (fx.dir) {
        rmdir(fx.dir);
        fx.dir = NULL;
    }
}

static void on_signal(int sig)
{
    if (!in_child)
        fixture_remove();
    signal(sig, SIG_DFL);
    raise(sig);
}

static void make_dir(void)
{
    const char *base = getenv("TMPDIR");
    if (!base || !*base)
        base = "/tmp";
    size_t len = strlen(base) + 32;
    char *templ = malloc(len);
    if (!templ)
        die("out of memory");
    snprintf(templ, len, "%s/evaio-bench.XXXXXX", base);
    if (!mkdtemp(templ))
        die("mkdtemp(%s): %s", templ, strerror(errno));
    fx.dir = templ;
    /* Remove the files on the usual ways out, SIGPIPE included (| head). */
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    signal(SIGHUP, on_signal);
    signal(SIGPIPE, on_signal);
}

static void make_files(void)
{
    size_t plen = strlen(fx.dir) + 16;
    fx.paths = malloc(cfg.files * sizeof *fx.paths);
    char *pool = malloc(cfg.files * plen);
    if (!fx.paths || !pool)
        die("out of memory");
    static const char fill[256];
    for (size_t i = 0; i < cfg.files; i++) {
        fx.paths[i] = pool + i * plen;
        snprintf(fx.paths[i], plen, "%s/f%06zu", fx.dir, i);
    }
    for (size_t i = 0; i < cfg.files; i++) {
        int fd = open(fx.paths[i], O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        if (fd < 0)
            die("open(%s): %s", fx.paths[i], strerror(errno));
        nfiles_made = i + 1;
        size_t size = (size_t)file_size(i);
        if (size && write(fd, fill, size) != (ssize_t)size)
            die("write(%s): %s", fx.paths[i], strerror(errno));
        if (close(fd) < 0)
            die("close(%s): %s", fx.paths[i], strerror(errno));
    }
    fx.nfiles = cfg.files;
    /* Fill the dentry and inode caches. */
    struct stat st;
    for (size_t i = 0; i < fx.nfiles; i++)
        if (stat(fx.paths[i], &st) != 0 || st.st_size != file_size(i))
            die("stat(%s) after creating it: wrong", fx.paths[i]);
}

static void make_data(void)
{
    size_t plen = strlen(fx.dir) + 8;
    fx.data_path = malloc(plen);
    if (!fx.data_path)
        die("out of memory");
    snprintf(fx.data_path, plen, "%s/data", fx.dir);
    int fd = open(fx.data_path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0)
        die("open(%s): %s", fx.data_path, strerror(errno));
    data_made = 1;
    fx.data_size = (uint64_t)cfg.data_mib << 20;
    enum { CHUNK = 1 << 20 };
    uint64_t *buf = malloc(CHUNK);
    if (!buf)
        die("out of memory");
    for (uint64_t off = 0; off < fx.data_size; off += CHUNK) {
        for (size_t k = 0; k < CHUNK / 8; k++)
            buf[k] = pattern_word(off + 8 * k);
        if (pwrite(fd, buf, CHUNK, (off_t)off) != CHUNK)
            die("write(%s): %s", fx.data_path, strerror(errno));
    }
    /* Written back now, so that no writeback runs during the measurements;
     * the pages stay in the cache. */
    if (fdatasync(fd) != 0)
        die("fdatasync(%s): %s", fx.data_path, strerror(errno));
    free(buf);
    fx.data_fd = fd; /* inherited by the children */
}

void fixture_create(int want_files, int want_data)
{
    make_dir();
    if (want_files)
        make_files();
    if (want_data)
        make_data();
}

/* ------------------------------------------------------------------------ */
/* Checks */

void poison_block(void *buf)
{
    /* The first and last words can match no offset's pattern by chance:
     * their values are those of the words just past the end of the file. */
    uint64_t *w = buf;
    w[0] = pattern_word(fx.data_size);
    w[BLOCK / 8 - 1] = pattern_word(fx.data_size + 8);
}

static const char *err_name(int err)
{
    return err ? strerror(err) : "no error";
}

void check_nop(const char *who, int64_t result, int err)
{
    if (result != 0 || err != 0)
        die("%s: nop returned %lld, errno %d (%s)", who, (long long)result, err, err_name(err));
}

void check_sleep(const char *who, int64_t result, int err)
{
    if (result != 0 || err != 0)
        die("%s: sleep returned %lld, errno %d (%s)", who, (long long)result, err, err_name(err));
}

void check_stat(const char *who, size_t i, int64_t result, int err, int64_t size)
{
    size_t file = stat_file(i);
    if (result != 0 || err != 0)
        die("%s: stat(%s) returned %lld, errno %d (%s)", who, fx.paths[file], (long long)result,
            err, err_name(err));
    if (size != file_size(file))
        die("%s: stat(%s) reported st_size %lld, expected %lld", who, fx.paths[file],
            (long long)size, (long long)file_size(file));
}

void check_pread(const char *who, size_t i, int64_t result, int err, const void *buf)
{
    int64_t off = pread_offset(i);
    if (result != BLOCK || err != 0)
        die("%s: pread of %d bytes at %lld returned %lld, errno %d (%s)", who, BLOCK,
            (long long)off, (long long)result, err, err_name(err));
    const uint64_t *w = buf;
    uint64_t want = pattern_word((uint64_t)off);
    int bad = 0;
    for (size_t k = 0; k < BLOCK / 8; k++, want += PATTERN_STEP)
        bad |= w[k] != want;
    if (bad)
        die("%s: pread at %lld returned the wrong bytes", who, (long long)off);
}
