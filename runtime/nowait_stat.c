/* stat, lstat and fstat attempts that never block (spec field `nowait`).
 *
 * A stat can block in two places: the path lookup, when a directory entry
 * is not in the kernel's dentry cache, and the filesystem's getattr, which
 * on a network, FUSE or cluster filesystem may ask a server.  So:
 *   1. openat2 with RESOLVE_CACHED opens the path as an O_PATH descriptor
 *      and fails with EAGAIN instead of reading a directory or revalidating
 *      an entry (it also declines automounts);
 *   2. name_to_handle_at names the descriptor's mount (its unique id) and
 *      reads nothing of the file;
 *   3. the mount's filesystem type, asked once per mount with statmount and
 *      remembered, must be one whose getattr reads only memory;
 *   4. fstatat on the descriptor fills the caller's struct stat.
 * That costs about three times a plain stat, and it is tried only when the
 * request is the only one outstanding on its context: a single stat then
 * completes in about a microsecond instead of a round trip through a
 * worker, while a stream of stats keeps the workers and the submitting
 * thread working in parallel.
 *
 * The first attempt checks, on the process's root, that the kernel has
 * RESOLVE_CACHED (5.12), unique mount ids in name_to_handle_at (6.12) and
 * statmount (6.8), and that no sandbox refuses them (a seccomp filter, a
 * chroot without CAP_SYS_ADMIN, valgrind); if not, the attempts are off for
 * the process.  Waits that remain possible, each short and rare: statmount
 * reads the mount table under the lock that mount and umount take (once per
 * mount, or again when more than NVERDICTS mounts are in use), and closing
 * the O_PATH descriptor of a file unlinked meanwhile frees the inode here. */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <sys/stat.h>
#include <unistd.h>

#if defined(__linux__)
#include <sys/syscall.h>
#endif

/* Newer than the oldest headers evaio builds with.  The syscall number is
 * the same on the 64-bit architectures below (the unified table); on others
 * it comes from libc's headers or the attempt is left out.  64-bit only:
 * the verdicts are 64-bit atomics. */
#if defined(__linux__) && !defined(SYS_statmount) &&                                         \
    ((defined(__x86_64__) && !defined(__ILP32__)) || defined(__aarch64__) ||                  \
     (defined(__riscv) && __riscv_xlen == 64))
#define SYS_statmount 457
#endif
#ifndef AT_HANDLE_MNT_ID_UNIQUE
#define AT_HANDLE_MNT_ID_UNIQUE 0x001
#endif
#define EVAIO__RESOLVE_CACHED 0x20 /* <linux/openat2.h> */

#if defined(__linux__) && defined(SYS_openat2) && defined(SYS_statmount) && defined(O_PATH) && \
    __SIZEOF_POINTER__ == 8
#define HAVE_STAT_NOWAIT 1
#endif

#ifdef HAVE_STAT_NOWAIT

/* Filesystems whose getattr reads only the in-memory inode. */
static int getattr_in_memory(uint64_t magic)
{
    switch (magic) {
    case 0xEF53:     /* ext2, ext3, ext4 */
    case 0x58465342: /* xfs */
    case 0x9123683E: /* btrfs */
    case 0xF2F52010: /* f2fs */
    case 0x01021994: /* tmpfs */
        return 1;
    default:
        return 0;
    }
}

/* The first fields of the kernel's struct statmount and struct mnt_id_req. */
#define STATMOUNT_SB_BASIC 0x1
struct statmount_head {
    uint32_t size, mnt_opts;
    uint64_t mask;
    uint32_t sb_dev_major, sb_dev_minor;
    uint64_t sb_magic;
};
struct mnt_id_req_v0 {
    uint32_t size, spare;
    uint64_t mnt_id, param;
};

static int open_cached(int dirfd, const char *path, int nofollow)
{
    struct evaio__open_how how = {
        .flags = (unsigned)(O_PATH | O_CLOEXEC | (nofollow ? O_NOFOLLOW : 0)),
        .resolve = EVAIO__RESOLVE_CACHED,
    };
    return (int)syscall(SYS_openat2, dirfd, path, &how, sizeof how);
}

/* The unique id of fd's mount, or 0 (errno set). */
static uint64_t mount_of(int fd)
{
    struct file_handle fh = { .handle_bytes = 0 };
    uint64_t mnt_id = 0;
    /* With no room for the handle it fails with EOVERFLOW, having stored
     * the mount id; a filesystem that cannot make handles says EOPNOTSUPP. */
    if (name_to_handle_at(fd, "", &fh, (int *)&mnt_id, AT_EMPTY_PATH | AT_HANDLE_MNT_ID_UNIQUE) < 0 &&
        errno != EOVERFLOW)
        return 0;
    if (!mnt_id)
        errno = EINVAL;
    return mnt_id;
}

/* The mount's filesystem magic, or 0 (errno set). */
static uint64_t magic_of(uint64_t mnt_id)
{
    struct mnt_id_req_v0 req = { .size = sizeof req, .mnt_id = mnt_id, .param = STATMOUNT_SB_BASIC };
    union {
        struct statmount_head head;
        uint64_t room[64]; /* the whole struct as of 6.18 is 512 bytes */
    } sm;
    if (syscall(SYS_statmount, &req, &sm, sizeof sm, 0) < 0)
        return 0;
    if (!(sm.head.mask & STATMOUNT_SB_BASIC) || !sm.head.sb_magic) {
        errno = EINVAL;
        return 0;
    }
    return sm.head.sb_magic;
}

/* 1 once the first attempt found the calls work, -1 if they do not. */
static int usable;

static int probe(void)
{
    int ok = 0;
    int fd = open_cached(AT_FDCWD, "/", 0);
    if (fd >= 0) {
        uint64_t mnt_id = mount_of(fd);
        ok = mnt_id && magic_of(mnt_id);
        close(fd);
    }
    __atomic_store_n(&usable, ok ? 1 : -1, __ATOMIC_RELAXED);
    return ok;
}

/* The verdicts on recent mounts: unique id << 1 | in memory; 0 is empty.
 * Unique mount ids are never reused, so a verdict never goes stale. */
#define NVERDICTS 32
static uint64_t verdicts[NVERDICTS];
static unsigned next_verdict;

static void remember(uint64_t mnt_id, int verdict)
{
    unsigned slot = __atomic_fetch_add(&next_verdict, 1, __ATOMIC_RELAXED) % NVERDICTS;
    __atomic_store_n(&verdicts[slot], mnt_id << 1 | (uint64_t)verdict, __ATOMIC_RELAXED);
}

/* Whether the mount's getattr reads only memory: 1, 0, or -1 for "cannot
 * tell now" (not remembered). */
static int mount_in_memory(uint64_t mnt_id)
{
    for (unsigned i = 0; i < NVERDICTS; i++) {
        uint64_t v = __atomic_load_n(&verdicts[i], __ATOMIC_RELAXED);
        if (v >> 1 == mnt_id)
            return (int)(v & 1);
    }
    uint64_t magic = magic_of(mnt_id);
    if (!magic) {
        /* A mount outside this root or namespace (EPERM, ENOENT) stays so. */
        if (errno != EPERM && errno != ENOENT)
            return -1;
        remember(mnt_id, 0);
        return 0;
    }
    int verdict = getattr_in_memory(magic);
    remember(mnt_id, verdict);
    return verdict;
}

/* fstatat on fd (an open file or an O_PATH descriptor) when its mount's
 * getattr reads only memory; else a decline. */
static int64_t stat_in_memory(int fd, struct stat *buf)
{
    uint64_t mnt_id = mount_of(fd);
    if (!mnt_id || mount_in_memory(mnt_id) != 1)
        return evaio__nowait_decline();
    /* A failure here is unexpected: the worker's own call reports it. */
    return fstatat(fd, "", buf, AT_EMPTY_PATH) == 0 ? 0 : evaio__nowait_decline();
}

static int worth_trying(const evaio_req *req)
{
    int u = __atomic_load_n(&usable, __ATOMIC_RELAXED);
    return u >= 0 && evaio__alone(req) && (u > 0 || probe());
}

int64_t evaio__stat_nowait(const evaio_req *req, int dirfd, const char *path, struct stat *buf, int nofollow)
{
    if (!worth_trying(req))
        return evaio__nowait_decline();
    int fd = open_cached(dirfd, path, nofollow);
    if (fd < 0) {
        /* A name the dentry cache knows to be missing: stat's answer too. */
        if (errno == ENOENT)
            return -1;
        return evaio__nowait_decline(); /* EAGAIN: not cached; EMFILE; ... */
    }
    int64_t r = stat_in_memory(fd, buf);
    int saved = errno;
    close(fd);
    errno = saved;
    return r;
}

int64_t evaio__fstat_nowait(const evaio_req *req, int fd, struct stat *buf)
{
    if (fd < 0 || !worth_trying(req))
        return evaio__nowait_decline();
    return stat_in_memory(fd, buf);
}

#else /* no stat attempt on this platform */

int64_t evaio__stat_nowait(const evaio_req *req, int dirfd, const char *path, struct stat *buf, int nofollow)
{
    (void)req, (void)dirfd, (void)path, (void)buf, (void)nofollow;
    return evaio__nowait_decline();
}

int64_t evaio__fstat_nowait(const evaio_req *req, int fd, struct stat *buf)
{
    (void)req, (void)fd, (void)buf;
    return evaio__nowait_decline();
}

#endif
