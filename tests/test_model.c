/* Model-based differential test: seeded random programs of filesystem
 * operations (create, write, rename, link, unlink, mkdir, rmdir, chmod,
 * truncate, symlink, copy, move, rmtree, mkpath) run twice: through evaio,
 * many at once, in one directory, and one after the other through plain
 * synchronous POSIX calls in another.  Every operation's result and errno
 * must match, and so must the two trees afterwards (names, types, sizes,
 * contents, modes, symlink targets, link counts).
 *
 *   EVAIO_MODEL_SEQS     number of programs (default 8, the CI run: 400
 *                        operations); with EVAIO_MODEL_PROGRAM, runs of it
 *   EVAIO_MODEL_SEED     seed of the first program; program i uses SEED + i
 *                        (default 1, fixed, so CI always runs the same ones)
 *   EVAIO_MODEL_OPS      operations per program (default 50)
 *   EVAIO_MODEL_PROGRAM  a file holding a printed program to run instead
 *   EVAIO_MODEL_TRACE    1: print footprints, and each start and end
 *
 * The long run, as docs/reliability.md documents:
 *   EVAIO_MODEL_SEQS=5000 EVAIO_MODEL_SEED=$RANDOM build/default/tests/test_model
 *
 * A failure is shrunk (a shorter prefix, then fewer operations, while it
 * still fails) and printed as the seed and the shortest failing sequence,
 * one readable line per operation with both results.
 *
 * Concurrency without changing the meaning.  The POSIX run goes first, in
 * program order; before each operation it records the operation's footprint
 * in the state the operation meets: its paths as written, the same paths
 * with every symlink resolved (the links passed through are included), the
 * first missing directory on the way (which mkpath makes), and the inodes
 * it names (hard links share one).  The evaio run then starts an operation
 * only when its footprint is disjoint from those of the operations in
 * flight and of the earlier ones not yet started; paths overlap when one is
 * the other or a directory above it.  Operations in flight together touch
 * disjoint parts of the tree, so any order of them ends in the state the
 * program order gives, and each one's result is the one the POSIX run saw.
 * Up to `inflight` operations run at once, at random priorities, as
 * wrappers or caller-owned requests, with absolute paths or relative to an
 * evaio_wd; each program picks its number of workers, and a number of
 * sandbox directories its operations mostly stay in, so that independent
 * operations are common.
 *
 * The POSIX counterparts of evaio's composite operations are written here
 * from generated/docs/ops.md: copy checks the source (stat, following a
 * symlink: EISDIR, EINVAL), then the destination's directory and its name
 * (lstat: EISDIR; a trailing slash, "." or "..": ENOTDIR; EEXIST with
 * NOREPLACE), then copies into a temporary beside it, gives it the source's
 * mode and renames it into place; move is rename(2), or
 * renameat2(RENAME_NOREPLACE); rmtree is rm -rf that never follows a
 * symlink, relative to the directory holding the path's last component
 * (opened once); mkpath is mkdir(2) of the whole path and, where a parent is
 * missing, mkdir -p with parents made `mode | 0300`: a last component that
 * exists and is not a directory (nor a symlink to one) is EEXIST, an earlier
 * one ENOENT when it is a dangling symlink and ENOTDIR otherwise.
 *
 * Symlink targets are relative, so both trees mean the same thing; an
 * operation that would resolve a path above its tree's root is skipped in
 * both runs. */
#include "check.h"

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <sys/stat.h>

/* snprintf into an array, failing the test rather than truncating. */
#define FMT(buf, ...) CHECK((size_t)snprintf(buf, sizeof buf, __VA_ARGS__) < sizeof buf)

#ifndef RENAME_NOREPLACE
#define RENAME_NOREPLACE (1 << 0)
#endif

/* ---- programs ---------------------------------------------------------- */

enum kind {
    OP_CREATE, OP_WRITE, OP_RENAME, OP_LINK, OP_UNLINK, OP_MKDIR, OP_RMDIR,
    OP_CHMOD, OP_TRUNCATE, OP_SYMLINK, OP_COPY, OP_MOVE, OP_RMTREE, OP_MKPATH,
    NKINDS
};
static const char *const kind_names[NKINDS] = {
    "create", "write", "rename", "link", "unlink", "mkdir", "rmdir",
    "chmod", "truncate", "symlink", "copy", "move", "rmtree", "mkpath",
};

#define NAME_LEN 64

struct op {
    int kind;
    char a[NAME_LEN]; /* the path; symlink: the target (never resolved) */
    char b[NAME_LEN]; /* the new path of rename, link, copy, move; symlink: the link */
    unsigned mode;    /* create, mkdir, chmod, mkpath */
    int flags;        /* create: O_EXCL / O_TRUNC; copy, move: EVAIO_*_NOREPLACE, EVAIO_COPY_SYNC */
    int64_t num;      /* write: the offset; truncate: the length */
    size_t len;       /* write: bytes */
    uint32_t dseed;   /* write: what the bytes are */
    /* How the evaio run issues it. */
    int pri, owned, use_wd;
};

struct res {
    int64_t result; /* an fd counts as 0: success */
    int err;
    int skipped;    /* resolves outside the tree: run by neither side */
};

static uint64_t rng_next(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

static unsigned rnd(uint64_t *s, unsigned n)
{
    return (unsigned)(rng_next(s) % n);
}

/* Directories are mostly named from the first pool, the rest from the
 * second, so that most operations meet what they expect; now and then a
 * name from the other pool makes the two collide. */
static const char *const dir_names[] = { "a", "b", "c" };
static const char *const file_names[] = { "x", "y", "z" };
enum { NNAMES = 3, MAXDEPTH = 3, NGUESS = 48 };

static const char *random_name(uint64_t *rng, int dir)
{
    if (rnd(rng, 10) == 0)
        dir = !dir;
    return dir ? dir_names[rnd(rng, NNAMES)] : file_names[rnd(rng, NNAMES)];
}

/* A random path of 1 to maxdepth names, directories on the way. */
static void random_path(uint64_t *rng, char *out, unsigned maxdepth, int dir)
{
    unsigned r = rnd(rng, 100);
    unsigned depth = r < 50 ? 1 : r < 85 ? 2 : 3;
    if (depth > maxdepth)
        depth = maxdepth;
    out[0] = 0;
    for (unsigned i = 0; i < depth; i++) {
        if (i)
            strcat(out, "/");
        strcat(out, random_name(rng, i + 1 < depth || dir));
    }
}

static unsigned depth_of(const char *p)
{
    unsigned d = 1;
    for (; *p; p++)
        d += *p == '/';
    return d;
}

/* What the generator guesses exists, so that most operations name real
 * files and directories.  It does not run the program and is often wrong,
 * which is as well: the wrong guesses exercise the error paths. */
struct guess {
    char files[NGUESS][NAME_LEN]; /* and symlinks */
    char dirs[NGUESS][NAME_LEN];
    size_t nfiles, ndirs;
};

static void guess_add(char (*list)[NAME_LEN], size_t *n, const char *p)
{
    for (size_t i = 0; i < *n; i++)
        if (!strcmp(list[i], p))
            return;
    if (*n == NGUESS) { /* forget the oldest */
        memmove(list[0], list[1], (NGUESS - 1) * sizeof list[0]);
        (*n)--;
    }
    snprintf(list[(*n)++], NAME_LEN, "%s", p);
}

/* Forgets p and everything below it. */
static void guess_remove(struct guess *g, const char *p)
{
    size_t l = strlen(p);
    char (*lists[2])[NAME_LEN] = { g->files, g->dirs };
    size_t *counts[2] = { &g->nfiles, &g->ndirs };
    for (int k = 0; k < 2; k++) {
        size_t out = 0;
        for (size_t i = 0; i < *counts[k]; i++) {
            const char *q = lists[k][i];
            if (!strncmp(q, p, l) && (!q[l] || q[l] == '/'))
                continue;
            if (out != i)
                memcpy(lists[k][out], q, NAME_LEN);
            out++;
        }
        *counts[k] = out;
    }
}

enum { WANT_FILE, WANT_DIR, WANT_ANY };

/* A path the guess says is there (most of the time), else a random one. */
static void pick(uint64_t *rng, const struct guess *g, int want, char *out)
{
    if (want == WANT_ANY)
        want = rnd(rng, 2) ? WANT_FILE : WANT_DIR;
    size_t n = want == WANT_FILE ? g->nfiles : g->ndirs;
    if (n && rnd(rng, 100) < 92) {
        unsigned k = rnd(rng, (unsigned)n);
        snprintf(out, NAME_LEN, "%s", want == WANT_FILE ? g->files[k] : g->dirs[k]);
    } else
        random_path(rng, out, MAXDEPTH, want == WANT_DIR);
}

/* A name for something new: in a directory the guess knows, or anywhere. */
static void new_path(uint64_t *rng, const struct guess *g, int dir, char *out)
{
    if (g->ndirs && rnd(rng, 100) < 60) {
        const char *parent = g->dirs[rnd(rng, (unsigned)g->ndirs)];
        if (depth_of(parent) <= MAXDEPTH) {
            snprintf(out, NAME_LEN, "%.50s/%s", parent, random_name(rng, dir));
            return;
        }
    }
    random_path(rng, out, rnd(rng, 100) < 85 ? 1 : MAXDEPTH, dir); /* mostly in the root */
}

/* A symlink target, relative to the link at `link`: mostly something the
 * guess knows, reached from the link's directory; sometimes ".", "..", a
 * name never made, or a path that may leave the tree. */
static void gen_target(uint64_t *rng, const struct guess *g, const char *link, char *out)
{
    unsigned r = rnd(rng, 100);
    if (r < 6) {
        strcpy(out, ".");
    } else if (r < 10) {
        strcpy(out, "..");
    } else if (r < 13) {
        strcpy(out, "zz"); /* never made: dangling */
    } else if (r < 20) {
        char t[NAME_LEN];
        random_path(rng, t, 2, rnd(rng, 2));
        CHECK((size_t)snprintf(out, NAME_LEN, "%s%.40s", rnd(rng, 2) ? "../" : "../../", t) < NAME_LEN);
    } else {
        char up[NAME_LEN] = "", t[NAME_LEN];
        for (unsigned k = depth_of(link) - 1; k && k < 8; k--)
            strcat(up, "../");
        pick(rng, g, WANT_ANY, t);
        CHECK((size_t)snprintf(out, NAME_LEN, "%s%.40s", up, t) < NAME_LEN);
    }
}

static unsigned gen_mode(uint64_t *rng, unsigned need)
{
    return (rnd(rng, 512) | need) & 0777;
}

static unsigned mode_need; /* bits every generated mode has: u+rwx when not root */

/* One operation; ga holds its first path, gb the second one's (rename,
 * move, link, copy: most often the same sandbox). */
static void gen_op(uint64_t *rng, struct guess *ga, struct guess *gb, struct op *op)
{
    struct guess *g = ga;
    static const unsigned weights[NKINDS] = {
        [OP_CREATE] = 12, [OP_WRITE] = 10, [OP_RENAME] = 7, [OP_LINK] = 5, [OP_UNLINK] = 5,
        [OP_MKDIR] = 9, [OP_RMDIR] = 4, [OP_CHMOD] = 5, [OP_TRUNCATE] = 6, [OP_SYMLINK] = 6,
        [OP_COPY] = 9, [OP_MOVE] = 6, [OP_RMTREE] = 3, [OP_MKPATH] = 6,
    };
    unsigned total = 0;
    for (int k = 0; k < NKINDS; k++)
        total += weights[k];
    unsigned w = rnd(rng, total);
    int kind = 0;
    while (w >= weights[kind])
        w -= weights[kind++];
    /* Nothing to work on yet: make something first. */
    if (!g->nfiles && (kind == OP_WRITE || kind == OP_TRUNCATE || kind == OP_COPY || kind == OP_LINK ||
                       kind == OP_UNLINK || kind == OP_CHMOD))
        kind = OP_CREATE;
    if (!g->ndirs && (kind == OP_RMDIR || kind == OP_RMTREE))
        kind = OP_MKDIR;
    memset(op, 0, sizeof *op);
    op->kind = kind;
    switch (kind) {
    case OP_CREATE: {
        if (rnd(rng, 100) < 65)
            new_path(rng, g, 0, op->a);
        else
            pick(rng, g, WANT_FILE, op->a);
        unsigned f = rnd(rng, 4);
        op->flags = f == 1 ? O_EXCL : f == 2 ? O_TRUNC : 0;
        op->mode = gen_mode(rng, mode_need | 0600);
        guess_add(g->files, &g->nfiles, op->a);
        break;
    }
    case OP_WRITE:
        pick(rng, g, WANT_FILE, op->a);
        op->num = rnd(rng, 100) < 60 ? 0 : rnd(rng, 8192);
        /* Now and then more than copy's 1 MiB chunk. */
        op->len = rnd(rng, 100) == 0 ? (1u << 20) + 1 + rnd(rng, 200000) : 1 + rnd(rng, 4096);
        op->dseed = (uint32_t)rng_next(rng);
        break;
    case OP_RENAME:
    case OP_MOVE: {
        int dir = rnd(rng, 3) == 0;
        pick(rng, ga, dir ? WANT_DIR : WANT_FILE, op->a);
        if (rnd(rng, 100) < 70)
            new_path(rng, gb, dir, op->b);
        else
            pick(rng, gb, dir ? WANT_DIR : WANT_FILE, op->b);
        if (kind == OP_MOVE)
            op->flags = rnd(rng, 3) == 0 ? EVAIO_MOVE_NOREPLACE : 0;
        guess_remove(ga, op->a);
        if (dir)
            guess_add(gb->dirs, &gb->ndirs, op->b);
        else
            guess_add(gb->files, &gb->nfiles, op->b);
        break;
    }
    case OP_LINK:
        pick(rng, ga, WANT_FILE, op->a);
        new_path(rng, gb, 0, op->b);
        guess_add(gb->files, &gb->nfiles, op->b);
        break;
    case OP_COPY:
        pick(rng, ga, WANT_FILE, op->a);
        if (rnd(rng, 100) < 60)
            new_path(rng, gb, 0, op->b);
        else
            pick(rng, gb, WANT_ANY, op->b);
        op->flags = rnd(rng, 3) == 0 ? EVAIO_COPY_NOREPLACE : 0;
        if (rnd(rng, 10) == 0)
            op->flags |= EVAIO_COPY_SYNC;
        guess_add(gb->files, &gb->nfiles, op->b);
        break;
    case OP_UNLINK:
        pick(rng, g, WANT_FILE, op->a);
        guess_remove(g, op->a);
        break;
    case OP_RMDIR:
        pick(rng, g, WANT_DIR, op->a);
        guess_remove(g, op->a);
        break;
    case OP_RMTREE:
        pick(rng, g, WANT_ANY, op->a);
        guess_remove(g, op->a);
        break;
    case OP_MKDIR:
        new_path(rng, g, 1, op->a);
        op->mode = gen_mode(rng, mode_need | 0700);
        guess_add(g->dirs, &g->ndirs, op->a);
        break;
    case OP_MKPATH: {
        if (rnd(rng, 2))
            new_path(rng, g, 1, op->a);
        else
            random_path(rng, op->a, MAXDEPTH, 1);
        if (depth_of(op->a) <= MAXDEPTH && rnd(rng, 2)) {
            size_t l = strlen(op->a);
            snprintf(op->a + l, NAME_LEN - l, "/%s", random_name(rng, 1));
        }
        op->mode = gen_mode(rng, mode_need | 0700);
        char prefix[NAME_LEN];
        for (const char *p = op->a;; p++) {
            if (*p == '/' || !*p) {
                snprintf(prefix, sizeof prefix, "%.*s", (int)(p - op->a), op->a);
                guess_add(g->dirs, &g->ndirs, prefix);
            }
            if (!*p)
                break;
        }
        break;
    }
    case OP_CHMOD:
        pick(rng, g, WANT_ANY, op->a);
        op->mode = gen_mode(rng, mode_need);
        break;
    case OP_TRUNCATE:
        pick(rng, g, WANT_FILE, op->a);
        op->num = rnd(rng, 100) < 4 ? -1 : rnd(rng, 100) < 30 ? 0 : (int64_t)rnd(rng, 10000);
        break;
    case OP_SYMLINK:
        new_path(rng, g, rnd(rng, 2), op->b);
        gen_target(rng, g, op->b, op->a);
        guess_add(g->files, &g->nfiles, op->b);
        break;
    }
    op->pri = (int)rnd(rng, 9) - 4;
    op->owned = rnd(rng, 2);
    op->use_wd = rnd(rng, 2);
}

/* The paths an operation resolves, and whether it follows a final symlink. */
static int op_paths(const struct op *op, const char *paths[2], int follow[2])
{
    switch (op->kind) {
    case OP_CREATE:
    case OP_WRITE:
    case OP_CHMOD:
    case OP_TRUNCATE:
    case OP_MKPATH: /* follows one that exists, to see a directory */
        paths[0] = op->a, follow[0] = 1;
        return 1;
    case OP_UNLINK:
    case OP_MKDIR:
    case OP_RMDIR:
    case OP_RMTREE:
        paths[0] = op->a, follow[0] = 0;
        return 1;
    case OP_SYMLINK:
        paths[0] = op->b, follow[0] = 0;
        return 1;
    case OP_COPY:
        paths[0] = op->a, follow[0] = 1;
        paths[1] = op->b, follow[1] = 0;
        return 2;
    default: /* rename, link, move */
        paths[0] = op->a, follow[0] = 0;
        paths[1] = op->b, follow[1] = 0;
        return 2;
    }
}

static void fill_data(unsigned char *buf, size_t len, uint32_t seed)
{
    uint64_t s = seed;
    for (size_t i = 0; i < len; i += 8) {
        uint64_t x = rng_next(&s);
        for (size_t j = 0; j < 8 && i + j < len; j++)
            buf[i + j] = (unsigned char)(x >> (8 * j));
    }
}

static const char *err_name(int err)
{
    switch (err) {
#define E(x) case x: return #x;
        E(EPERM) E(ENOENT) E(EIO) E(EBADF) E(EACCES) E(EEXIST) E(EXDEV) E(ENOTDIR) E(EISDIR)
        E(EINVAL) E(EFBIG) E(ENOSPC) E(EROFS) E(EMLINK) E(ENAMETOOLONG) E(ENOTEMPTY) E(ELOOP)
        E(EBUSY) E(ECANCELED) E(EFAULT) E(ENOMEM) E(EAGAIN) E(ENOSYS) E(ETXTBSY) E(EOPNOTSUPP)
#undef E
    default: {
        static char buf[32];
        snprintf(buf, sizeof buf, "errno %d", err);
        return buf;
    }
    }
}

static void format_res(char *buf, size_t cap, const struct res *r)
{
    if (r->skipped)
        snprintf(buf, cap, "skipped");
    else if (r->result < 0)
        snprintf(buf, cap, "%lld %s", (long long)r->result, err_name(r->err));
    else
        snprintf(buf, cap, "%lld", (long long)r->result);
}

static void format_op(char *buf, size_t cap, const struct op *op)
{
    char flags[64] = "";
    switch (op->kind) {
    case OP_CREATE:
        snprintf(buf, cap, "create(\"%s\", O_WRONLY|O_CREAT%s, 0%03o)", op->a,
                 op->flags == O_EXCL ? "|O_EXCL" : op->flags == O_TRUNC ? "|O_TRUNC" : "", op->mode);
        break;
    case OP_WRITE:
        snprintf(buf, cap, "write(\"%s\", %lld, %zu, 0x%x)", op->a, (long long)op->num, op->len,
                 (unsigned)op->dseed);
        break;
    case OP_COPY:
    case OP_MOVE:
        if (op->flags & EVAIO_COPY_NOREPLACE) /* == EVAIO_MOVE_NOREPLACE */
            strcat(flags, op->kind == OP_COPY ? "EVAIO_COPY_NOREPLACE" : "EVAIO_MOVE_NOREPLACE");
        if (op->kind == OP_COPY && (op->flags & EVAIO_COPY_SYNC))
            strcat(flags, *flags ? "|EVAIO_COPY_SYNC" : "EVAIO_COPY_SYNC");
        snprintf(buf, cap, "%s(\"%s\", \"%s\", %s)", kind_names[op->kind], op->a, op->b, *flags ? flags : "0");
        break;
    case OP_RENAME:
    case OP_LINK:
    case OP_SYMLINK:
        snprintf(buf, cap, "%s(\"%s\", \"%s\")", kind_names[op->kind], op->a, op->b);
        break;
    case OP_MKDIR:
    case OP_CHMOD:
    case OP_MKPATH:
        snprintf(buf, cap, "%s(\"%s\", 0%03o)", kind_names[op->kind], op->a, op->mode);
        break;
    case OP_TRUNCATE:
        snprintf(buf, cap, "truncate(\"%s\", %lld)", op->a, (long long)op->num);
        break;
    default:
        snprintf(buf, cap, "%s(\"%s\")", kind_names[op->kind], op->a);
        break;
    }
}

/* ---- footprints ---------------------------------------------------------- */

#define TPATHS 12
#define TPATH 512
#define TINODES 8

struct touch {
    int global; /* conflicts with everything (a path too long, a symlink loop) */
    int escape; /* resolves above the root: the operation is skipped */
    int npaths, ninodes;
    char paths[TPATHS][TPATH];
    struct { dev_t dev; ino_t ino; } inodes[TINODES];
};

static void touch_path(struct touch *t, const char *p)
{
    for (int i = 0; i < t->npaths; i++)
        if (!strcmp(t->paths[i], p))
            return;
    if (t->npaths == TPATHS || strlen(p) >= TPATH) {
        t->global = 1;
        return;
    }
    strcpy(t->paths[t->npaths++], p);
}

static void touch_inode(struct touch *t, const struct stat *st)
{
    for (int i = 0; i < t->ninodes; i++)
        if (t->inodes[i].dev == st->st_dev && t->inodes[i].ino == st->st_ino)
            return;
    if (t->ninodes == TINODES) {
        t->global = 1;
        return;
    }
    t->inodes[t->ninodes].dev = st->st_dev;
    t->inodes[t->ninodes].ino = st->st_ino;
    t->ninodes++;
}

/* Pops the first component of *rest into comp; 0 when none is left. */
static int next_component(char *rest, char *comp, size_t cap)
{
    char *p = rest;
    while (*p == '/')
        p++;
    if (!*p) {
        rest[0] = 0;
        return 0;
    }
    size_t l = strcspn(p, "/");
    if (l >= cap)
        l = cap - 1;
    memcpy(comp, p, l);
    comp[l] = 0;
    memmove(rest, p + l, strlen(p + l) + 1);
    return 1;
}

/* Drops the last component of `path` ("" is the root); -1 above the root. */
static int pop_component(char *path)
{
    if (!*path)
        return -1;
    char *s = strrchr(path, '/');
    if (s)
        *s = 0;
    else
        path[0] = 0;
    return 0;
}

/* Resolves `path` in the tree below rootfd the way the kernel walks it and
 * adds to the footprint the fully resolved path, every symlink passed
 * through, every name ".." leaves and the inode reached.  With follow 0 a
 * final symlink is not followed.  A walk above the root sets `escape`. */
static void resolve(struct touch *t, int rootfd, const char *path, int follow, int *escape)
{
    char done[TPATH] = "";
    char rest[2 * TPATH];
    char comp[NAME_MAX + 1];
    snprintf(rest, sizeof rest, "%s", path);
    int hops = 0;
    while (next_component(rest, comp, sizeof comp)) {
        if (!strcmp(comp, "."))
            continue;
        if (!strcmp(comp, "..")) {
            /* What ".." leaves was looked up all the same: whether it is
             * a directory decides the walk. */
            if (*done)
                touch_path(t, done);
            if (pop_component(done) < 0) {
                *escape = 1;
                return;
            }
            continue;
        }
        char cand[TPATH];
        if ((size_t)snprintf(cand, sizeof cand, "%s%s%s", done, *done ? "/" : "", comp) >= sizeof cand) {
            t->global = 1;
            return;
        }
        struct stat st;
        if (fstatat(rootfd, cand, &st, AT_SYMLINK_NOFOLLOW) < 0) {
            /* Missing (or not a directory on the way): the kernel stops
             * here, creating at most this name.  The rest, lexically. */
            char first_missing[TPATH];
            strcpy(first_missing, cand);
            while (next_component(rest, comp, sizeof comp)) {
                if (!strcmp(comp, "."))
                    continue;
                if (!strcmp(comp, "..")) {
                    if (pop_component(cand) < 0) {
                        t->global = 1; /* the kernel never gets there */
                        return;
                    }
                    continue;
                }
                size_t l = strlen(cand);
                if (l + 1 + strlen(comp) >= sizeof cand) {
                    t->global = 1;
                    return;
                }
                snprintf(cand + l, sizeof cand - l, "%s%s", l ? "/" : "", comp);
            }
            if (!*cand) {
                t->global = 1;
                return;
            }
            touch_path(t, cand);
            /* And the first missing name itself: mkpath makes it (and
             * more below it); for the others it is where they fail.  Past
             * a missing name, ".." means what it will once mkpath has made
             * it: so the first missing prefix of the lexical path too. */
            touch_path(t, first_missing);
            for (char *p = cand;; p++) {
                if (*p == '/' || !*p) {
                    char c = *p;
                    *p = 0;
                    struct stat pst;
                    int missing = fstatat(rootfd, cand, &pst, AT_SYMLINK_NOFOLLOW) < 0;
                    if (missing)
                        touch_path(t, cand);
                    *p = c;
                    if (missing || !c)
                        break;
                }
            }
            return;
        }
        int last = 1;
        for (const char *p = rest; *p; p++)
            if (*p != '/')
                last = 0;
        if (S_ISLNK(st.st_mode) && (!last || follow)) {
            touch_path(t, cand);
            touch_inode(t, &st);
            if (++hops > 40) {
                t->global = 1; /* ELOOP for the kernel */
                return;
            }
            char target[TPATH];
            ssize_t n = readlinkat(rootfd, cand, target, sizeof target - 1);
            if (n < 0 || target[0] == '/') {
                t->global = 1;
                return;
            }
            target[n] = 0;
            char nrest[2 * TPATH];
            if ((size_t)snprintf(nrest, sizeof nrest, "%s/%s", target, rest) >= sizeof rest) {
                t->global = 1;
                return;
            }
            strcpy(rest, nrest);
            continue;
        }
        strcpy(done, cand);
        if (last)
            touch_inode(t, &st);
    }
    if (*done)
        touch_path(t, done);
    else
        t->global = 1; /* the root itself */
}

/* The footprint of `op` in the tree below rootfd as it is now. */
static void footprint(struct touch *t, int rootfd, const struct op *op)
{
    memset(t, 0, sizeof *t);
    const char *paths[2];
    int follow[2];
    int np = op_paths(op, paths, follow);
    for (int i = 0; i < np; i++) {
        touch_path(t, paths[i]);
        size_t l = strlen(paths[i]);
        if (l && paths[i][l - 1] == '/')
            follow[i] = 1; /* a trailing slash follows a final symlink */
        int escape = 0, ignored = 0;
        resolve(t, rootfd, paths[i], follow[i], &escape); /* as the operation walks it */
        if (escape)
            t->escape = 1;
        resolve(t, rootfd, paths[i], !follow[i], &ignored); /* the other way too: more is safe */
        if (ignored)
            t->global = 1;
    }
}

static int related(const char *x, const char *y)
{
    size_t lx = strlen(x), ly = strlen(y), l = lx < ly ? lx : ly;
    if (strncmp(x, y, l))
        return 0;
    return lx == ly || (lx < ly ? y[l] : x[l]) == '/';
}

static int conflict(const struct touch *s, const struct touch *t)
{
    if (s->global || t->global)
        return 1;
    for (int i = 0; i < s->npaths; i++)
        for (int j = 0; j < t->npaths; j++)
            if (related(s->paths[i], t->paths[j]))
                return 1;
    for (int i = 0; i < s->ninodes; i++)
        for (int j = 0; j < t->ninodes; j++)
            if (s->inodes[i].dev == t->inodes[j].dev && s->inodes[i].ino == t->inodes[j].ino)
                return 1;
    return 0;
}

/* ---- the POSIX run --------------------------------------------------------- */

static struct res ok(int64_t v)
{
    return (struct res){ v, 0, 0 };
}

static struct res fail(int err)
{
    return (struct res){ -1, err, 0 };
}

static struct res from_rc(int rc)
{
    return rc < 0 ? fail(errno) : ok(0);
}

/* The directory holding a path's last component and that component, with
 * trailing slashes dropped ("." for a plain name); *slash says there were
 * some. */
static void split_leaf(const char *path, char *dir, size_t dcap, char *name, size_t ncap, int *slash)
{
    size_t end = strlen(path);
    while (end > 1 && path[end - 1] == '/')
        end--;
    *slash = path[end] != 0;
    size_t start = end;
    while (start > 0 && path[start - 1] != '/')
        start--;
    snprintf(name, ncap, "%.*s", (int)(end - start), path + start);
    size_t dend = start;
    while (dend > 1 && path[dend - 1] == '/')
        dend--;
    if (start == 0)
        snprintf(dir, dcap, ".");
    else
        snprintf(dir, dcap, "%.*s", (int)dend, path);
}

static int is_dots(const char *name)
{
    return !strcmp(name, ".") || !strcmp(name, "..");
}

static struct res model_copy(int d, const char *src, const char *dst, int flags)
{
    struct stat st;
    if (fstatat(d, src, &st, 0) < 0)
        return fail(errno);
    if (S_ISDIR(st.st_mode))
        return fail(EISDIR);
    if (!S_ISREG(st.st_mode))
        return fail(EINVAL);
    int in = openat(d, src, O_RDONLY | O_CLOEXEC);
    if (in < 0)
        return fail(errno);
    /* The destination: its directory, then the name, which must be able
     * to take a file: not a directory (EISDIR), not a name only a
     * directory can have, with a trailing slash or "." or ".." (ENOTDIR),
     * and nothing at all with NOREPLACE (EEXIST; a symlink is not followed). */
    char dir[TPATH], name[NAME_MAX + 1], leaf[2 * TPATH];
    int slash, err = 0;
    split_leaf(dst, dir, sizeof dir, name, sizeof name, &slash);
    FMT(leaf, "%s/%s", dir, name);
    struct stat dt;
    if (fstatat(d, dir, &dt, 0) < 0) {
        err = errno;
    } else if (!S_ISDIR(dt.st_mode)) {
        err = ENOTDIR;
    } else {
        int dir_only = slash || is_dots(name);
        int r = fstatat(d, leaf, &dt, dir_only ? 0 : AT_SYMLINK_NOFOLLOW);
        if (r < 0 && errno != ENOENT)
            err = errno;
        else if (r == 0 && S_ISDIR(dt.st_mode))
            err = EISDIR;
        else if (dir_only)
            err = ENOTDIR;
        else if (r == 0 && (flags & EVAIO_COPY_NOREPLACE))
            err = EEXIST;
    }
    if (err) {
        close(in);
        return fail(err);
    }
    char tmp[TPATH + 32];
    FMT(tmp, "%s/.model-copy", dir);
    int out = openat(d, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (out < 0) {
        err = errno;
        close(in);
        return fail(err);
    }
    char buf[65536];
    ssize_t n;
    while ((n = read(in, buf, sizeof buf)) > 0)
        CHECK_EQ(write(out, buf, (size_t)n), n);
    CHECK_EQ(n, 0);
    CHECK_EQ(fchmod(out, st.st_mode & 07777), 0);
    CHECK_EQ(close(out), 0);
    close(in);
    int r = (flags & EVAIO_COPY_NOREPLACE) ? renameat2(d, tmp, d, leaf, RENAME_NOREPLACE) : renameat(d, tmp, d, leaf);
    if (r < 0) {
        err = errno;
        unlinkat(d, tmp, 0);
        return fail(err);
    }
    return ok(0);
}

/* Removes everything in the open directory fd; the first error, or 0. */
static int remove_contents(int fd)
{
    int dup_fd = dup(fd);
    CHECK(dup_fd >= 0);
    DIR *dir = fdopendir(dup_fd);
    CHECK(dir != NULL);
    char (*names)[NAME_MAX + 1] = NULL;
    size_t n = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(dir))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            names = realloc(names, cap * sizeof *names);
            CHECK(names != NULL);
        }
        snprintf(names[n++], sizeof names[0], "%s", e->d_name);
    }
    closedir(dir);
    int first = 0;
    for (size_t i = 0; i < n; i++) {
        struct stat st;
        int err = 0;
        if (fstatat(fd, names[i], &st, AT_SYMLINK_NOFOLLOW) < 0) {
            err = errno;
        } else if (S_ISDIR(st.st_mode)) {
            int sub = openat(fd, names[i], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            if (sub < 0) {
                err = errno;
            } else {
                err = remove_contents(sub);
                close(sub);
            }
            if (unlinkat(fd, names[i], AT_REMOVEDIR) < 0 && !err)
                err = errno;
        } else if (unlinkat(fd, names[i], 0) < 0) {
            err = errno;
        }
        if (err == ENOENT)
            err = 0;
        if (err && !first)
            first = err;
    }
    free(names);
    return first;
}

/* rm -rf, relative to the directory holding the last component, opened
 * once: what is removed is what that directory held when it was opened,
 * even when the path reached it through a symlink inside the tree. */
static struct res model_rmtree(int d, const char *path)
{
    if (!*path)
        return fail(ENOENT);
    /* Trailing slashes are dropped: a symlink is removed, not followed. */
    char dir[TPATH], name[NAME_MAX + 1];
    int slash;
    split_leaf(path, dir, sizeof dir, name, sizeof name, &slash);
    if (is_dots(name))
        return fail(EINVAL);
    int pd = openat(d, dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (pd < 0)
        return fail(errno);
    struct stat st;
    int err = 0;
    if (fstatat(pd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
        err = errno;
    } else if (!S_ISDIR(st.st_mode)) {
        if (unlinkat(pd, name, 0) < 0)
            err = errno;
    } else {
        int fd = openat(pd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0) {
            err = errno;
        } else {
            err = remove_contents(fd);
            close(fd);
            if (unlinkat(pd, name, AT_REMOVEDIR) < 0 && !err)
                err = errno;
        }
    }
    close(pd);
    return err ? fail(err) : ok(0);
}

static struct res model_mkpath(int d, const char *path, unsigned mode)
{
    char buf[TPATH];
    size_t made[16], nmade = 0;
    size_t len = strlen(path);
    if (!len)
        return fail(ENOENT);
    snprintf(buf, sizeof buf, "%s", path);
    /* mkdir(2) of the whole path says most: done, there already, or why
     * not; only a missing parent (ENOENT) needs the walk. */
    if (mkdirat(d, path, mode) == 0)
        return ok(0);
    if (errno == EEXIST) {
        struct stat st;
        return fstatat(d, path, &st, 0) == 0 && S_ISDIR(st.st_mode) ? ok(0) : fail(EEXIST);
    }
    if (errno != ENOENT)
        return fail(errno);
    /* The walk: trailing slashes end the last component, which mkdir(2)
     * takes with or without them. */
    while (len > 1 && buf[len - 1] == '/')
        buf[--len] = 0;
    int err = 0;
    for (size_t end = 0; end <= len && !err; end++) {
        if (end < len && buf[end] != '/')
            continue;
        int last = end == len;
        char c = buf[end];
        buf[end] = 0;
        if (mkdirat(d, buf, last ? mode : mode | 0300) == 0) {
            CHECK(nmade < sizeof made / sizeof made[0]);
            made[nmade++] = end;
        } else if (errno == EEXIST) {
            struct stat st;
            /* A name that is there and is not a directory, nor a symlink
             * to one: EEXIST for the last component; before it, ENOENT
             * for a dangling symlink and ENOTDIR for the rest. */
            if (fstatat(d, buf, &st, 0) == 0)
                err = S_ISDIR(st.st_mode) ? 0 : last ? EEXIST : ENOTDIR;
            else
                err = last ? EEXIST : errno == ENOENT ? ENOENT : ENOTDIR;
        } else {
            err = errno;
        }
        buf[end] = c;
    }
    if (!err)
        return ok(0);
    while (nmade--) { /* what this call made goes again */
        char c = buf[made[nmade]];
        buf[made[nmade]] = 0;
        unlinkat(d, buf, AT_REMOVEDIR);
        buf[made[nmade]] = c;
    }
    return fail(err);
}

static struct res posix_op(int d, const char *root, const struct op *op)
{
    switch (op->kind) {
    case OP_CREATE: {
        int fd = openat(d, op->a, O_WRONLY | O_CREAT | O_CLOEXEC | op->flags, op->mode);
        if (fd < 0)
            return fail(errno);
        return from_rc(close(fd));
    }
    case OP_WRITE: {
        int fd = openat(d, op->a, O_WRONLY | O_CLOEXEC);
        if (fd < 0)
            return fail(errno);
        unsigned char *buf = malloc(op->len);
        CHECK(buf != NULL);
        fill_data(buf, op->len, op->dseed);
        ssize_t w = pwrite(fd, buf, op->len, (off_t)op->num);
        int err = errno;
        free(buf);
        close(fd);
        return w < 0 ? fail(err) : ok(w);
    }
    case OP_RENAME: return from_rc(renameat(d, op->a, d, op->b));
    case OP_LINK: return from_rc(linkat(d, op->a, d, op->b, 0));
    case OP_UNLINK: return from_rc(unlinkat(d, op->a, 0));
    case OP_MKDIR: return from_rc(mkdirat(d, op->a, op->mode));
    case OP_RMDIR: return from_rc(unlinkat(d, op->a, AT_REMOVEDIR));
    case OP_CHMOD: return from_rc(fchmodat(d, op->a, op->mode, 0));
    case OP_TRUNCATE: {
        char p[PATH_MAX + NAME_LEN];
        snprintf(p, sizeof p, "%s/%s", root, op->a);
        return from_rc(truncate(p, (off_t)op->num));
    }
    case OP_SYMLINK: return from_rc(symlinkat(op->a, d, op->b));
    case OP_COPY: return model_copy(d, op->a, op->b, op->flags);
    case OP_MOVE:
        return from_rc((op->flags & EVAIO_MOVE_NOREPLACE) ? renameat2(d, op->a, d, op->b, RENAME_NOREPLACE)
                                                           : renameat(d, op->a, d, op->b));
    case OP_RMTREE: return model_rmtree(d, op->a);
    case OP_MKPATH: return model_mkpath(d, op->a, op->mode);
    }
    CHECK(!"known operation");
    return fail(EINVAL);
}

/* ---- the evaio run ------------------------------------------------------- */

struct run;

struct flight {
    struct run *run;
    size_t i;
    int step;
    int fd;
    struct res wres;     /* write: the write's own result */
    unsigned char *wbuf; /* write: the bytes, until the write's callback */
    char pa[PATH_MAX + NAME_LEN], pb[PATH_MAX + NAME_LEN]; /* the paths as evaio gets them */
    evaio_req req;       /* the caller-owned request, when op->owned */
};

struct run {
    const struct op *ops;
    size_t n;
    struct res *posix, *got;
    struct touch *touch;
    struct flight *fl;
    unsigned char *state; /* 0 waiting, 1 in flight, 2 done */
    size_t inflight, ndone, max_inflight_seen;
    size_t sum_inflight, nissued, nglobal; /* statistics */
    unsigned max_inflight, workers;
    evaio_ctx *ctx;
    evaio_wd *wd;
    char dir[PATH_MAX];   /* this run's directory */
    char ra[PATH_MAX + 16]; /* evaio's tree */
    char rb[PATH_MAX + 16]; /* the POSIX tree */
};

static int trace; /* EVAIO_MODEL_TRACE=1: every start and end of the evaio run */

static void flight_done(struct flight *f, struct res r)
{
    struct run *run = f->run;
    if (trace) {
        char b[64];
        format_res(b, sizeof b, &r);
        fprintf(stderr, "  done  #%zu: %s\n", f->i, b);
    }
    run->got[f->i] = r;
    run->state[f->i] = 2;
    run->inflight--;
    run->ndone++;
}

static int step_cb(evaio_req *req);

/* Submits through the wrapper, its _at form, or a caller-owned request. */
#define SUBMIT_PATH(OPN, ...)                                                              \
    do {                                                                                   \
        if (op->owned) {                                                                   \
            evaio_##OPN##_init(&f->req, __VA_ARGS__, step_cb, f);                          \
            if (op->use_wd)                                                                \
                evaio_req_set_wd(&f->req, f->run->wd);                                     \
            evaio_req_set_pri(&f->req, op->pri);                                           \
            rc = evaio_ctx_start(ctx, &f->req);                                            \
        } else if (op->use_wd) {                                                           \
            rc = evaio_ctx_##OPN##_at(ctx, f->run->wd, __VA_ARGS__, op->pri, step_cb, f) ? 0 : -1; \
        } else {                                                                           \
            rc = evaio_ctx_##OPN(ctx, __VA_ARGS__, op->pri, step_cb, f) ? 0 : -1;          \
        }                                                                                  \
    } while (0)

#define SUBMIT_FD(OPN, ...)                                                                \
    do {                                                                                   \
        if (op->owned) {                                                                   \
            evaio_##OPN##_init(&f->req, __VA_ARGS__, step_cb, f);                          \
            evaio_req_set_pri(&f->req, op->pri);                                           \
            rc = evaio_ctx_start(ctx, &f->req);                                            \
        } else {                                                                           \
            rc = evaio_ctx_##OPN(ctx, __VA_ARGS__, op->pri, step_cb, f) ? 0 : -1;          \
        }                                                                                  \
    } while (0)

static void submit_step(struct flight *f)
{
    const struct op *op = &f->run->ops[f->i];
    evaio_ctx *ctx = f->run->ctx;
    int rc = -1;
    switch (op->kind) {
    case OP_CREATE:
        if (f->step == 0)
            SUBMIT_PATH(open, f->pa, O_WRONLY | O_CREAT | op->flags, op->mode);
        else
            SUBMIT_FD(close, f->fd);
        break;
    case OP_WRITE:
        if (f->step == 0)
            SUBMIT_PATH(open, f->pa, O_WRONLY, 0);
        else if (f->step == 1)
            SUBMIT_FD(write, f->fd, op->num, op->len, f->wbuf);
        else
            SUBMIT_FD(close, f->fd);
        break;
    case OP_RENAME: SUBMIT_PATH(rename, f->pa, f->pb); break;
    case OP_LINK: SUBMIT_PATH(link, f->pa, f->pb); break;
    case OP_UNLINK: SUBMIT_PATH(unlink, f->pa); break;
    case OP_MKDIR: SUBMIT_PATH(mkdir, f->pa, op->mode); break;
    case OP_RMDIR: SUBMIT_PATH(rmdir, f->pa); break;
    case OP_CHMOD: SUBMIT_PATH(chmod, f->pa, op->mode); break;
    case OP_TRUNCATE: SUBMIT_PATH(truncate, f->pa, op->num); break;
    case OP_SYMLINK: SUBMIT_PATH(symlink, op->a, f->pb); break; /* the target as written */
    case OP_COPY: SUBMIT_PATH(copy, f->pa, f->pb, op->flags); break;
    case OP_MOVE: SUBMIT_PATH(move, f->pa, f->pb, op->flags); break;
    case OP_RMTREE: SUBMIT_PATH(rmtree, f->pa); break;
    case OP_MKPATH: SUBMIT_PATH(mkpath, f->pa, op->mode); break;
    }
    if (rc < 0)
        fprintf(stderr, "submitting %s (step %d): %s\n", kind_names[op->kind], f->step, strerror(errno));
    CHECK_EQ(rc, 0);
}

static int step_cb(evaio_req *req)
{
    struct flight *f = req->data;
    const struct op *op = &f->run->ops[f->i];
    struct res r = { req->result, req->result < 0 ? req->errorno : 0, 0 };
    if (op->kind == OP_CREATE || op->kind == OP_WRITE) {
        int last_step = op->kind == OP_CREATE ? 1 : 2;
        if (f->step == 0) { /* the open */
            if (r.result < 0) {
                free(f->wbuf);
                f->wbuf = NULL;
                flight_done(f, r);
                return 0;
            }
            f->fd = (int)r.result;
            f->step = 1;
            submit_step(f); /* a caller-owned request restarts from its callback */
            return 0;
        }
        if (op->kind == OP_WRITE && f->step == 1) {
            f->wres = r;
            free(f->wbuf);
            f->wbuf = NULL;
            f->step = 2;
            submit_step(f);
            return 0;
        }
        CHECK_EQ(f->step, last_step); /* the close */
        if (r.result < 0)
            flight_done(f, r);
        else
            flight_done(f, op->kind == OP_WRITE ? f->wres : ok(0));
        return 0;
    }
    flight_done(f, r);
    return 0;
}

static void issue(struct run *run, size_t i)
{
    const struct op *op = &run->ops[i];
    struct flight *f = &run->fl[i];
    memset(f, 0, offsetof(struct flight, req));
    f->run = run;
    f->i = i;
    f->fd = -1;
    run->state[i] = 1;
    run->inflight++;
    if (trace) {
        char line[256];
        format_op(line, sizeof line, op);
        fprintf(stderr, "  start #%zu: %s, %zu in flight\n", i, line, run->inflight);
    }
    if (run->inflight > run->max_inflight_seen)
        run->max_inflight_seen = run->inflight;
    run->sum_inflight += run->inflight;
    run->nissued++;
    if (run->posix[i].skipped) {
        flight_done(f, run->posix[i]);
        return;
    }
    const char *root = op->use_wd ? "" : run->ra;
    const char *sep = op->use_wd ? "" : "/";
    FMT(f->pa, "%s%s%s", root, sep, op->a);
    FMT(f->pb, "%s%s%s", root, sep, op->b);
    if (op->kind == OP_WRITE) {
        f->wbuf = malloc(op->len);
        CHECK(f->wbuf != NULL);
        fill_data(f->wbuf, op->len, op->dseed);
    }
    submit_step(f);
}

/* Starts every operation that may start now, in program order, looking a
 * bounded way past the first one that has to wait. */
static void issue_ready(struct run *run)
{
    enum { WINDOW = 24 };
    size_t lo = 0; /* the first operation not done */
    while (lo < run->n && run->state[lo] == 2)
        lo++;
    size_t first = lo; /* the first not started */
    while (first < run->n && run->state[first] != 0)
        first++;
    size_t seen = 0;
    for (size_t i = first; i < run->n && seen < WINDOW; i++) {
        if (run->state[i] != 0)
            continue;
        seen++;
        if (run->inflight >= run->max_inflight)
            return;
        int blocked = 0;
        for (size_t j = lo; j < run->n && !blocked; j++) {
            if (j == i || run->state[j] == 2 || (j > i && run->state[j] == 0))
                continue;
            blocked = conflict(&run->touch[i], &run->touch[j]);
        }
        if (!blocked)
            issue(run, i);
    }
}

static int wd_cb(evaio_req *req)
{
    CHECK_EQ(req->result, 0);
    *(evaio_wd **)req->data = req->args.wd_open.handle;
    return 0;
}

static int count_open_fds(void)
{
    int count = 0;
    for (int fd = 0; fd < 4096; fd++)
        if (fcntl(fd, F_GETFD) != -1)
            count++;
    return count;
}

static void evaio_run(struct run *run)
{
    run->ctx = evaio_ctx_new();
    CHECK(run->ctx != NULL);
    evaio_ctx_set_max_parallel(run->ctx, run->workers);
    CHECK(evaio_ctx_wd_open(run->ctx, run->ra, 0, wd_cb, &run->wd) != NULL);
    CHECK_EQ(evaio_ctx_wait(run->ctx), 0);
    CHECK(run->wd != NULL);

    int pfd = evaio_ctx_poll_fd(run->ctx);
    double last_progress = check_now();
    size_t last_done = (size_t)-1;
    while (run->ndone < run->n) {
        issue_ready(run);
        if (run->ndone == run->n)
            break;
        errno = 0;
        int r = evaio_ctx_poll(run->ctx);
        CHECK(r == 0 || (r == -1 && errno == EAGAIN));
        if (run->ndone != last_done) {
            last_done = run->ndone;
            last_progress = check_now();
            continue;
        }
        if (check_now() - last_progress > 60) {
            fprintf(stderr, "no operation finished for 60 s: %zu of %zu done, %zu in flight\n", run->ndone,
                    run->n, run->inflight);
            CHECK(!"the evaio run makes progress");
        }
        struct pollfd p = { .fd = pfd, .events = POLLIN };
        poll(&p, 1, 100);
    }
    CHECK(evaio_ctx_wd_close(run->ctx, run->wd, 0, NULL, NULL) != NULL);
    CHECK_EQ(evaio_ctx_wait(run->ctx), 0);
    CHECK_EQ(evaio_ctx_nreqs(run->ctx), 0);
    CHECK_EQ(evaio_ctx_free(run->ctx), 0);
    run->ctx = NULL;
    run->wd = NULL;
}

/* ---- comparing the trees -------------------------------------------------- */

struct report {
    char text[16384];
    size_t len;
    int n;
};

static void say(struct report *rep, const char *fmt, ...)
{
    rep->n++;
    if (rep->n > 20) {
        if (rep->n == 21 && rep->len < sizeof rep->text)
            rep->len += (size_t)snprintf(rep->text + rep->len, sizeof rep->text - rep->len, "    ...\n");
        return;
    }
    if (rep->len >= sizeof rep->text)
        return;
    va_list ap;
    va_start(ap, fmt);
    rep->len += (size_t)vsnprintf(rep->text + rep->len, sizeof rep->text - rep->len, fmt, ap);
    va_end(ap);
    if (rep->len >= sizeof rep->text)
        rep->len = sizeof rep->text;
}

static int cmp_names(const void *x, const void *y)
{
    return strcmp(x, y);
}

/* The names in an open directory, sorted; *n of them. */
static char (*list_dir(int fd, size_t *n))[NAME_MAX + 1]
{
    int dup_fd = dup(fd);
    CHECK(dup_fd >= 0);
    DIR *dir = fdopendir(dup_fd);
    CHECK(dir != NULL);
    char (*names)[NAME_MAX + 1] = NULL;
    size_t cap = 0;
    *n = 0;
    struct dirent *e;
    while ((e = readdir(dir))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        if (*n == cap) {
            cap = cap ? cap * 2 : 16;
            names = realloc(names, cap * sizeof *names);
            CHECK(names != NULL);
        }
        snprintf(names[(*n)++], sizeof names[0], "%s", e->d_name);
    }
    closedir(dir);
    if (*n)
        qsort(names, *n, sizeof *names, cmp_names);
    return names;
}

static const char *type_name(mode_t m)
{
    return S_ISREG(m) ? "file" : S_ISDIR(m) ? "directory" : S_ISLNK(m) ? "symlink" : "special file";
}

static void compare_dir(int fa, int fb, const char *rel, struct report *rep);

/* One entry present in both trees (name "." for the roots themselves). */
static void compare_entry(int pa, int pb, const char *name, const char *rel, struct report *rep)
{
    struct stat sa, sb;
    CHECK_EQ(fstatat(pa, name, &sa, AT_SYMLINK_NOFOLLOW), 0);
    CHECK_EQ(fstatat(pb, name, &sb, AT_SYMLINK_NOFOLLOW), 0);
    if ((sa.st_mode & S_IFMT) != (sb.st_mode & S_IFMT)) {
        say(rep, "    %s: a %s in the evaio tree, a %s in the POSIX tree\n", rel, type_name(sa.st_mode),
            type_name(sb.st_mode));
        return;
    }
    if (!S_ISLNK(sa.st_mode) && (sa.st_mode & 07777) != (sb.st_mode & 07777))
        say(rep, "    %s: mode 0%o in the evaio tree, 0%o in the POSIX tree\n", rel,
            (unsigned)(sa.st_mode & 07777), (unsigned)(sb.st_mode & 07777));
    if (sa.st_nlink != sb.st_nlink)
        say(rep, "    %s: %lu links in the evaio tree, %lu in the POSIX tree\n", rel, (unsigned long)sa.st_nlink,
            (unsigned long)sb.st_nlink);
    if (S_ISREG(sa.st_mode)) {
        if (sa.st_size != sb.st_size) {
            say(rep, "    %s: %lld bytes in the evaio tree, %lld in the POSIX tree\n", rel, (long long)sa.st_size,
                (long long)sb.st_size);
            return;
        }
        int a = openat(pa, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        int b = openat(pb, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        CHECK(a >= 0 && b >= 0);
        static char ba[65536], bb[65536];
        off_t off = 0;
        for (;;) {
            ssize_t na = pread(a, ba, sizeof ba, off), nb = pread(b, bb, sizeof bb, off);
            CHECK(na >= 0 && na == nb);
            if (na == 0)
                break;
            if (memcmp(ba, bb, (size_t)na)) {
                size_t k = 0;
                while (ba[k] == bb[k])
                    k++;
                say(rep, "    %s: contents differ from byte %lld\n", rel, (long long)(off + (off_t)k));
                break;
            }
            off += na;
        }
        close(a);
        close(b);
    } else if (S_ISLNK(sa.st_mode)) {
        char ta[PATH_MAX], tb[PATH_MAX];
        ssize_t na = readlinkat(pa, name, ta, sizeof ta - 1), nb = readlinkat(pb, name, tb, sizeof tb - 1);
        CHECK(na >= 0 && nb >= 0);
        ta[na] = tb[nb] = 0;
        if (strcmp(ta, tb))
            say(rep, "    %s: symlink to \"%s\" in the evaio tree, to \"%s\" in the POSIX tree\n", rel, ta, tb);
    } else if (S_ISDIR(sa.st_mode)) {
        int a = openat(pa, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        int b = openat(pb, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        CHECK(a >= 0 && b >= 0);
        compare_dir(a, b, rel, rep);
        close(a);
        close(b);
    }
}

static void compare_dir(int fa, int fb, const char *rel, struct report *rep)
{
    size_t na, nb;
    char (*la)[NAME_MAX + 1] = list_dir(fa, &na);
    char (*lb)[NAME_MAX + 1] = list_dir(fb, &nb);
    size_t i = 0, j = 0;
    while (i < na || j < nb) {
        int c = i == na ? 1 : j == nb ? -1 : strcmp(la[i], lb[j]);
        char sub[PATH_MAX];
        snprintf(sub, sizeof sub, "%s%s%s", strcmp(rel, ".") ? rel : "", strcmp(rel, ".") ? "/" : "",
                 c <= 0 ? la[i] : lb[j]);
        if (c < 0) {
            struct stat st;
            CHECK_EQ(fstatat(fa, la[i], &st, AT_SYMLINK_NOFOLLOW), 0);
            say(rep, "    %s: a %s only in the evaio tree\n", sub, type_name(st.st_mode));
            i++;
        } else if (c > 0) {
            struct stat st;
            CHECK_EQ(fstatat(fb, lb[j], &st, AT_SYMLINK_NOFOLLOW), 0);
            say(rep, "    %s: a %s only in the POSIX tree\n", sub, type_name(st.st_mode));
            j++;
        } else {
            compare_entry(fa, fb, la[i], sub, rep);
            i++;
            j++;
        }
    }
    free(la);
    free(lb);
}

/* ---- one run of a program ------------------------------------------------- */

struct config {
    unsigned workers;      /* the context's max_parallel */
    unsigned max_inflight; /* operations at once */
    unsigned sandboxes;    /* directories s0, s1, ... made before the program */
};

struct verdict {
    int failed;
    size_t first_bad;      /* the first operation whose results differ, or n */
    struct report rep;
    struct res *posix, *got; /* per operation, owned by the caller */
    size_t max_inflight_seen;
    size_t sum_inflight, nissued, nglobal;
};

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static unsigned long run_counter;

static void run_program(const struct op *ops, size_t n, const struct config *cfg, struct verdict *v)
{
    struct run run;
    memset(&run, 0, sizeof run);
    run.ops = ops;
    run.n = n;
    run.posix = v->posix;
    run.got = v->got;
    run.touch = calloc(n ? n : 1, sizeof *run.touch);
    run.fl = calloc(n ? n : 1, sizeof *run.fl);
    run.state = calloc(n ? n : 1, 1);
    CHECK(run.touch && run.fl && run.state);
    run.workers = cfg->workers;
    run.max_inflight = cfg->max_inflight;
    snprintf(run.dir, sizeof run.dir, "%s", check_path(""));
    snprintf(run.dir + strlen(run.dir), sizeof run.dir - strlen(run.dir), "run%lu", run_counter++);
    FMT(run.ra, "%s/evaio", run.dir);
    FMT(run.rb, "%s/posix", run.dir);
    CHECK_EQ(mkdir(run.dir, 0700), 0);
    CHECK_EQ(mkdir(run.ra, 0755), 0);
    CHECK_EQ(mkdir(run.rb, 0755), 0);
    for (unsigned k = 0; k < cfg->sandboxes; k++) {
        char sand[PATH_MAX + 16];
        FMT(sand, "%s/s%u", run.ra, k);
        CHECK_EQ(mkdir(sand, 0755), 0);
        FMT(sand, "%s/s%u", run.rb, k);
        CHECK_EQ(mkdir(sand, 0755), 0);
    }

    /* The POSIX run, in program order, with each operation's footprint. */
    int db = open(run.rb, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    CHECK(db >= 0);
    for (size_t i = 0; i < n; i++) {
        footprint(&run.touch[i], db, &ops[i]);
        run.nglobal += run.touch[i].global;
        if (run.touch[i].escape) {
            memset(&run.touch[i], 0, sizeof run.touch[i]); /* runs nowhere: no footprint */
            run.posix[i] = (struct res){ 0, 0, 1 };
            continue;
        }
        if (trace) {
            fprintf(stderr, "  footprint #%zu:%s", i, run.touch[i].global ? " everything" : "");
            for (int k = 0; k < run.touch[i].npaths; k++)
                fprintf(stderr, " \"%s\"", run.touch[i].paths[k]);
            for (int k = 0; k < run.touch[i].ninodes; k++)
                fprintf(stderr, " inode %llu", (unsigned long long)run.touch[i].inodes[k].ino);
            fprintf(stderr, "\n");
        }
        errno = 0;
        run.posix[i] = posix_op(db, run.rb, &ops[i]);
    }

    /* The evaio run. */
    int fds_before = count_open_fds();
    evaio_run(&run);
    int fds_after = count_open_fds();

    memset(&v->rep, 0, sizeof v->rep);
    v->failed = 0;
    v->first_bad = n;
    v->max_inflight_seen = run.max_inflight_seen;
    v->sum_inflight = run.sum_inflight;
    v->nissued = run.nissued;
    v->nglobal = run.nglobal;
    for (size_t i = 0; i < n; i++) {
        const struct res *p = &run.posix[i], *g = &run.got[i];
        if (p->skipped == g->skipped && p->result == g->result && p->err == g->err)
            continue;
        if (v->first_bad == n)
            v->first_bad = i;
        v->failed = 1;
    }
    if (v->first_bad < n)
        say(&v->rep, "    results differ, first at #%zu\n", v->first_bad);
    if (fds_after != fds_before) {
        v->failed = 1;
        say(&v->rep, "    the evaio run left %d descriptors open\n", fds_after - fds_before);
    }
    int da = open(run.ra, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    CHECK(da >= 0);
    int before = v->rep.n;
    compare_entry(da, db, ".", ".", &v->rep); /* the roots too: a symlink to "." reaches them */
    if (v->rep.n != before)
        v->failed = 1;
    close(da);
    close(db);

    CHECK_EQ(nftw(run.dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS), 0);
    free(run.touch);
    free(run.fl);
    free(run.state);
}

/* ---- shrinking ------------------------------------------------------------ */

static unsigned long shrink_runs;

/* Whether `ops` fails in one of `tries` runs (a race may need more than one). */
static int fails(const struct op *ops, size_t n, const struct config *cfg, int tries, struct verdict *v)
{
    for (int t = 0; t < tries; t++) {
        shrink_runs++;
        run_program(ops, n, cfg, v);
        if (v->failed)
            return 1;
    }
    return 0;
}

/* Shrinks the failing program in place; returns its new length. */
static size_t shrink(struct op *ops, size_t n, const struct config *cfg, struct verdict *v, size_t first_bad)
{
    enum { TRIES = 3, BUDGET = 4000 };
    struct op *cand = malloc((n ? n : 1) * sizeof *cand);
    CHECK(cand != NULL);
    /* A prefix up to the first differing result. */
    if (first_bad < n && first_bad + 1 < n && fails(ops, first_bad + 1, cfg, TRIES, v))
        n = first_bad + 1;
    /* Then drop chunks, halving their size, and single operations, until
     * no removal keeps it failing. */
    for (size_t chunk = n / 2 ? n / 2 : 1;; chunk = chunk / 2 ? chunk / 2 : 1) {
        int removed_any = 0;
        for (size_t start = 0; start < n && shrink_runs < BUDGET;) {
            size_t len = start + chunk <= n ? chunk : n - start;
            if (len == n) {
                start += len;
                continue;
            }
            memcpy(cand, ops, start * sizeof *ops);
            memcpy(cand + start, ops + start + len, (n - start - len) * sizeof *ops);
            if (fails(cand, n - len, cfg, TRIES, v)) {
                n -= len;
                memcpy(ops, cand, n * sizeof *ops);
                removed_any = 1;
            } else {
                start += len;
            }
        }
        if (shrink_runs >= BUDGET || (chunk == 1 && !removed_any))
            break;
    }
    free(cand);
    return n;
}

/* ---- main ----------------------------------------------------------------- */

static unsigned long env_ulong(const char *name, unsigned long dflt)
{
    const char *s = getenv(name);
    if (!s || !*s)
        return dflt;
    char *end;
    errno = 0;
    unsigned long v = strtoul(s, &end, 0);
    if (errno || *end) {
        fprintf(stderr, "%s=%s: not a number\n", name, s);
        exit(1);
    }
    return v;
}

/* Puts a generated path into sandbox s, now and then written another way
 * that names the same thing, or fails where a directory is missing: a
 * trailing slash, "./", "//", or "DIR/../" before it. */
static void place(uint64_t *rng, char *path, unsigned s)
{
    char tmp[NAME_LEN];
    unsigned r = rnd(rng, 100);
    const char *sep = r < 3 ? "/./" : r < 5 ? "//" : "/";
    if (r >= 5 && r < 8)
        CHECK((size_t)snprintf(tmp, sizeof tmp, "s%u/%s/../%.40s", s, random_name(rng, 1), path) < sizeof tmp);
    else
        CHECK((size_t)snprintf(tmp, sizeof tmp, "s%u%s%.50s", s, sep, path) < sizeof tmp);
    if (rnd(rng, 100) < 4 && strlen(tmp) + 1 < sizeof tmp)
        strcat(tmp, "/");
    strcpy(path, tmp);
}

/* A program works in `sandboxes` directories s0, s1, ...: an operation
 * picks one, and a second path is in another one now and then, so that
 * independent operations are common and some still cross. */
static void gen_program(uint64_t seed, struct op *ops, size_t n, struct config *cfg)
{
    uint64_t rng = seed * 0x2545f4914f6cdd1du + 1;
    static const unsigned workers[] = { 1, 2, 4, 8 };
    static const unsigned inflight[] = { 1, 4, 16, 64 };
    static const unsigned sandboxes[] = { 1, 3, 6, 10 };
    cfg->workers = workers[rnd(&rng, 4)];
    cfg->max_inflight = inflight[rnd(&rng, 4)];
    cfg->sandboxes = sandboxes[rnd(&rng, 4)];
    struct guess *g = calloc(cfg->sandboxes, sizeof *g);
    CHECK(g != NULL);
    for (size_t i = 0; i < n; i++) {
        unsigned sa = rnd(&rng, cfg->sandboxes);
        unsigned sb = rnd(&rng, 100) < 85 ? sa : rnd(&rng, cfg->sandboxes);
        struct op *op = &ops[i];
        gen_op(&rng, &g[sa], &g[sb], op);
        if (op->kind == OP_SYMLINK) { /* a is the target, relative to the link */
            place(&rng, op->b, sa);
        } else {
            place(&rng, op->a, sa);
            if (op->b[0])
                place(&rng, op->b, sb);
        }
    }
    free(g);
}

static void print_program(const struct op *ops, size_t n, const struct config *cfg, const struct verdict *v)
{
    fprintf(stderr, "  config: workers %u, inflight %u, sandboxes %u\n", cfg->workers, cfg->max_inflight,
            cfg->sandboxes);
    for (size_t i = 0; i < n; i++) {
        char line[256], p[64], g[64], how[64];
        format_op(line, sizeof line, &ops[i]);
        format_res(p, sizeof p, &v->posix[i]);
        format_res(g, sizeof g, &v->got[i]);
        snprintf(how, sizeof how, "[%s, %s, pri %d]", ops[i].owned ? "caller-owned" : "wrapper",
                 ops[i].use_wd ? "wd" : "absolute", ops[i].pri);
        int differs = v->posix[i].skipped != v->got[i].skipped || v->posix[i].result != v->got[i].result ||
                      v->posix[i].err != v->got[i].err;
        fprintf(stderr, "  #%-3zu %-52s %-32s posix: %-12s evaio: %-12s%s\n", i, line, how, p, g,
                differs ? " <-- differs" : "");
    }
}

/* ---- replaying a printed program ------------------------------------------ */

/* Parses the lines print_program writes (a failure report saved to a
 * file): a "config: workers W, inflight I, sandboxes S" line and one
 * operation per line, "OP(ARGS) [HOW]" with an optional "#N" before and the
 * results after; lines that start with no operation name are skipped.
 * Exits on a syntax error. */
static int parse_flags(const char *text, int *out)
{
    static const struct { const char *name; int value; } names[] = {
        { "O_WRONLY", O_WRONLY }, { "O_CREAT", O_CREAT }, { "O_EXCL", O_EXCL }, { "O_TRUNC", O_TRUNC },
        { "EVAIO_COPY_NOREPLACE", EVAIO_COPY_NOREPLACE }, { "EVAIO_COPY_SYNC", EVAIO_COPY_SYNC },
        { "EVAIO_MOVE_NOREPLACE", EVAIO_MOVE_NOREPLACE },
    };
    *out = 0;
    char buf[256];
    snprintf(buf, sizeof buf, "%s", text);
    for (char *save, *tok = strtok_r(buf, "| ", &save); tok; tok = strtok_r(NULL, "| ", &save)) {
        size_t k = 0;
        while (k < sizeof names / sizeof names[0] && strcmp(names[k].name, tok))
            k++;
        if (k < sizeof names / sizeof names[0]) {
            *out |= names[k].value;
        } else {
            char *end;
            long v = strtol(tok, &end, 0);
            if (*end)
                return -1;
            *out |= (int)v;
        }
    }
    return 0;
}

static size_t parse_program(const char *file, struct op **ops_out, struct config *cfg)
{
    FILE *f = fopen(file, "r");
    if (!f) {
        fprintf(stderr, "%s: %s\n", file, strerror(errno));
        exit(1);
    }
    cfg->workers = 4;
    cfg->max_inflight = 64;
    cfg->sandboxes = 0;
    struct op *ops = NULL;
    size_t n = 0, cap = 0, lineno = 0;
    char line[1024];
    while (fgets(line, sizeof line, f)) {
        lineno++;
        char *p = line;
        while (*p == ' ' || *p == '\t')
            p++;
        if (sscanf(p, "config: workers %u, inflight %u, sandboxes %u", &cfg->workers, &cfg->max_inflight,
                   &cfg->sandboxes) >= 2)
            continue;
        int numbered = *p == '#' && p[1] >= '0' && p[1] <= '9';
        if (numbered) {
            p++;
            while (*p >= '0' && *p <= '9')
                p++;
            while (*p == ' ' || *p == '\t')
                p++;
        }
        struct op op;
        memset(&op, 0, sizeof op);
        size_t klen = strcspn(p, "(");
        int kind = 0;
        while (kind < NKINDS && (strlen(kind_names[kind]) != klen || strncmp(kind_names[kind], p, klen)))
            kind++;
        if (kind == NKINDS || p[klen] != '(') {
            if (numbered)
                goto bad;
            continue; /* the rest of a failure report */
        }
        op.kind = kind;
        p += klen + 1;
        /* The arguments: strings in quotes, the rest as text. */
        char args[4][NAME_LEN];
        int nargs = 0;
        for (;;) {
            while (*p == ' ')
                p++;
            if (*p == ')')
                break;
            if (nargs == 4)
                goto bad;
            if (*p == '"') {
                char *q = strchr(p + 1, '"');
                if (!q || q - p - 1 >= NAME_LEN)
                    goto bad;
                snprintf(args[nargs++], NAME_LEN, "%.*s", (int)(q - p - 1), p + 1);
                p = q + 1;
            } else {
                size_t l = strcspn(p, ",)");
                if (l >= NAME_LEN)
                    goto bad;
                snprintf(args[nargs++], NAME_LEN, "%.*s", (int)l, p);
                p += l;
            }
            while (*p == ' ')
                p++;
            if (*p == ',')
                p++;
            else if (*p != ')')
                goto bad;
        }
        p++;
        char *end;
        switch (kind) {
        case OP_CREATE:
            if (nargs != 3 || parse_flags(args[1], &op.flags) < 0)
                goto bad;
            op.flags &= O_EXCL | O_TRUNC;
            op.mode = (unsigned)strtoul(args[2], &end, 0);
            break;
        case OP_WRITE:
            if (nargs != 4)
                goto bad;
            op.num = strtoll(args[1], &end, 0);
            op.len = strtoul(args[2], &end, 0);
            op.dseed = (uint32_t)strtoul(args[3], &end, 0);
            break;
        case OP_RENAME:
        case OP_LINK:
        case OP_SYMLINK:
            if (nargs != 2)
                goto bad;
            break;
        case OP_COPY:
        case OP_MOVE:
            if (nargs != 3 || parse_flags(args[2], &op.flags) < 0)
                goto bad;
            break;
        case OP_MKDIR:
        case OP_CHMOD:
        case OP_MKPATH:
            if (nargs != 2)
                goto bad;
            op.mode = (unsigned)strtoul(args[1], &end, 0);
            break;
        case OP_TRUNCATE:
            if (nargs != 2)
                goto bad;
            op.num = strtoll(args[1], &end, 0);
            break;
        default:
            if (nargs != 1)
                goto bad;
        }
        snprintf(op.a, sizeof op.a, "%s", args[0]);
        if (nargs > 1 && (kind == OP_RENAME || kind == OP_LINK || kind == OP_SYMLINK || kind == OP_COPY ||
                          kind == OP_MOVE))
            snprintf(op.b, sizeof op.b, "%s", args[1]);
        /* How evaio runs it: "[wrapper|caller-owned, wd|absolute, pri N]". */
        char *br = strchr(p, '[');
        if (br) {
            op.owned = !strncmp(br + 1, "caller-owned", 12);
            op.use_wd = strstr(br, ", wd,") != NULL;
            char *pri = strstr(br, "pri ");
            op.pri = pri ? atoi(pri + 4) : 0;
        }
        if (n == cap) {
            cap = cap ? cap * 2 : 32;
            ops = realloc(ops, cap * sizeof *ops);
            CHECK(ops != NULL);
        }
        ops[n++] = op;
        continue;
    bad:
        fprintf(stderr, "%s:%zu: cannot read: %s", file, lineno, line);
        exit(1);
    }
    fclose(f);
    *ops_out = ops;
    return n;
}

/* ---- main ----------------------------------------------------------------- */

/* Runs a program; on a failure shrinks it, prints it, and returns 1. */
static int check_program(struct op *ops, size_t n, const struct config *cfg, struct verdict *v, const char *what,
                         const char *reproduce)
{
    run_program(ops, n, cfg, v);
    if (!v->failed)
        return 0;
    fprintf(stderr, "\n%s failed (%u workers, up to %u operations at once):\n%s", what, cfg->workers,
            cfg->max_inflight, v->rep.text);
    shrink_runs = 0;
    size_t m = shrink(ops, n, cfg, v, v->first_bad);
    /* Run the minimal program again for its results to show. */
    int again = fails(ops, m, cfg, 10, v);
    fprintf(stderr,
            "\nminimal failing sequence, %zu operation%s (found in %lu runs; %s; or save the lines below "
            "to a file F and run EVAIO_MODEL_PROGRAM=F):\n",
            m, m == 1 ? "" : "s", shrink_runs, reproduce);
    print_program(ops, m, cfg, v);
    if (again)
        fprintf(stderr, "  what differs:\n%s", v->rep.text);
    else
        fprintf(stderr, "  (it passed 10 runs in a row now: the failure depends on timing)\n");
    return 1;
}

int main(void)
{
    umask(022);
    trace = getenv("EVAIO_MODEL_TRACE") && atoi(getenv("EVAIO_MODEL_TRACE"));
    mode_need = geteuid() == 0 ? 0 : 0700; /* the owner must keep access when not root */
    unsigned long seqs = env_ulong("EVAIO_MODEL_SEQS", 8);
    unsigned long seed = env_ulong("EVAIO_MODEL_SEED", 1);
    size_t nops = env_ulong("EVAIO_MODEL_OPS", 50);
    const char *program = getenv("EVAIO_MODEL_PROGRAM");
    struct config cfg;
    struct op *ops;
    if (program && *program) {
        nops = parse_program(program, &ops, &cfg);
        fprintf(stderr, "test_model: EVAIO_MODEL_PROGRAM=%s (%zu operations), run %lu times\n", program, nops,
                seqs);
    } else {
        ops = calloc(nops ? nops : 1, sizeof *ops);
        fprintf(stderr, "test_model: EVAIO_MODEL_SEQS=%lu EVAIO_MODEL_SEED=%lu EVAIO_MODEL_OPS=%zu\n", seqs,
                seed, nops);
    }
    struct verdict v;
    memset(&v, 0, sizeof v);
    v.posix = calloc(nops ? nops : 1, sizeof *v.posix);
    v.got = calloc(nops ? nops : 1, sizeof *v.got);
    CHECK(ops && v.posix && v.got);

    /* What the programs exercised, to show the runs are not trivial. */
    unsigned long nresults[NKINDS][2] = { { 0 } }, nskipped = 0, total = 0;
    size_t max_seen = 0, sum_inflight = 0, nissued = 0, nglobal = 0;
    double t0 = check_now();
    for (unsigned long s = 0; s < seqs; s++) {
        char what[128], reproduce[160];
        if (program && *program) {
            snprintf(what, sizeof what, "the program of %s, run %lu", program, s + 1);
            snprintf(reproduce, sizeof reproduce, "reproduce with EVAIO_MODEL_PROGRAM=%s", program);
        } else {
            uint64_t sseed = seed + s;
            gen_program(sseed, ops, nops, &cfg);
            snprintf(what, sizeof what, "program with seed %llu", (unsigned long long)sseed);
            snprintf(reproduce, sizeof reproduce,
                     "the whole program: EVAIO_MODEL_SEED=%llu EVAIO_MODEL_SEQS=1 EVAIO_MODEL_OPS=%zu",
                     (unsigned long long)sseed, nops);
        }
        if (check_program(ops, nops, &cfg, &v, what, reproduce)) {
            free(ops);
            free(v.posix);
            free(v.got);
            return 1;
        }
        if (trace) {
            fprintf(stderr, "%s passed:\n", what);
            print_program(ops, nops, &cfg, &v);
        }
        for (size_t i = 0; i < nops; i++) {
            total++;
            if (v.posix[i].skipped)
                nskipped++;
            else
                nresults[ops[i].kind][v.posix[i].result < 0]++;
        }
        if (v.max_inflight_seen > max_seen)
            max_seen = v.max_inflight_seen;
        sum_inflight += v.sum_inflight;
        nissued += v.nissued;
        nglobal += v.nglobal;
    }
    fprintf(stderr,
            "%lu programs, %lu operations (%lu skipped) in %.1f s; in flight when one started: %.1f on "
            "average, up to %zu; %lu footprints conflicting with everything; succeeded/failed:",
            seqs, total, nskipped, check_now() - t0, nissued ? (double)sum_inflight / (double)nissued : 0.0,
            max_seen, (unsigned long)nglobal);
    for (int k = 0; k < NKINDS; k++)
        fprintf(stderr, "%s %s %lu/%lu", k ? "," : "", kind_names[k], nresults[k][0], nresults[k][1]);
    fprintf(stderr, "\n");
    free(ops);
    free(v.posix);
    free(v.got);
    return 0;
}
