/* scandir: splits a directory's entries into subdirectories and the rest
 * with as few stat calls as possible.
 *
 * A "list" step opens the directory, reads its link count and every entry
 * with its d_type.  Entries whose type the filesystem reported need no stat.
 * For the others, a directory's link count is 2 plus its number of
 * subdirectories on filesystems that keep it (ext4, xfs, tmpfs: those where
 * it is at least 2), so once that many directories are known the remaining
 * unknown entries are not directories and are never stat'ed.  Unknown
 * entries are stat'ed (lstat semantics: a symlink is not a directory) in
 * inode order, at most `maxreq` at once, as `custom` sub-requests of the
 * scandir request, relative to the open directory. */
#include "internal.h"
#include "op_executors.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { T_UNKNOWN, T_DIR, T_OTHER, T_GONE };

struct entry {
    uint64_t ino;
    size_t name;  /* offset in names */
    int type;     /* T_* */
};

struct scan {
    evaio_req *req;
    int fd;                  /* the open directory */
    nlink_t nlink;
    struct entry *entries;
    size_t nentries;
    char *names;             /* NUL-separated, indexed by entry.name */
    size_t names_len;
    struct unknown {         /* entries to stat, in inode order */
        uint64_t ino;
        size_t index;
    } *unknown;
    size_t nunknown, next;   /* next unknown to stat */
    size_t ndirs_known;      /* directories found so far */
    int err;
};

struct stat_step {
    struct scan *sc;
    size_t index;
    int type;
};

static int list(struct scan *sc)
{
    const struct evaio_scandir_args *a = &sc->req->args.scandir;
    sc->fd = openat(evaio__dirfd(sc->req), a->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (sc->fd < 0)
        return errno;
    struct stat st;
    if (fstat(sc->fd, &st) < 0)
        return errno;
    sc->nlink = st.st_nlink;
    int dup_fd = fcntl(sc->fd, F_DUPFD_CLOEXEC, 0);
    DIR *dir = dup_fd < 0 ? NULL : fdopendir(dup_fd);
    if (!dir) {
        int err = errno;
        if (dup_fd >= 0)
            close(dup_fd);
        return err;
    }
    size_t cap = 0, names_cap = 0;
    int err = 0;
    for (;;) {
        errno = 0;
        struct dirent *e = readdir(dir);
        if (!e) {
            err = errno;
            break;
        }
        const char *n = e->d_name;
        if (n[0] == '.' && (!n[1] || (n[1] == '.' && !n[2])))
            continue;
        size_t len = strlen(n) + 1;
        if (sc->nentries == cap) {
            cap = cap ? cap * 2 : 64;
            struct entry *grown = realloc(sc->entries, cap * sizeof *grown);
            if (!grown) {
                err = ENOMEM;
                break;
            }
            sc->entries = grown;
        }
        if (sc->names_len + len > names_cap) {
            names_cap = names_cap ? names_cap * 2 : 4096;
            while (sc->names_len + len > names_cap)
                names_cap *= 2;
            char *grown = realloc(sc->names, names_cap);
            if (!grown) {
                err = ENOMEM;
                break;
            }
            sc->names = grown;
        }
        memcpy(sc->names + sc->names_len, n, len);
        sc->entries[sc->nentries++] = (struct entry){
            .ino = e->d_ino,
            .name = sc->names_len,
            .type = e->d_type == DT_DIR ? T_DIR : e->d_type == DT_UNKNOWN ? T_UNKNOWN : T_OTHER,
        };
        sc->names_len += len;
    }
    closedir(dir);
    return err;
}

static int64_t run_list(evaio_req *sub)
{
    struct scan *sc = sub->data;
    sc->err = list(sc);
    return 0;
}

static int64_t run_stat(evaio_req *sub)
{
    struct stat_step *s = sub->data;
    struct scan *sc = s->sc;
    struct stat st;
    const char *name = sc->names + sc->entries[s->index].name;
    if (fstatat(sc->fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
        s->type = errno == ENOENT ? T_GONE : T_OTHER; /* unreadable: reported as not a directory */
    else
        s->type = S_ISDIR(st.st_mode) ? T_DIR : T_OTHER;
    return 0;
}

/* Whether the link count already says every remaining unknown entry is not
 * a directory. */
static int all_dirs_found(const struct scan *sc)
{
    return sc->nlink >= 2 && sc->ndirs_known >= (size_t)sc->nlink - 2;
}

static int stat_done(evaio_req *sub);

static void feed(evaio_req *req)
{
    struct scan *sc = req->owned_;
    if (evaio_req_cancelled(req) || all_dirs_found(sc) || sc->next == sc->nunknown)
        return;
    struct stat_step *s = malloc(sizeof *s);
    if (!s) {
        sc->err = ENOMEM;
        return;
    }
    *s = (struct stat_step){ .sc = sc, .index = sc->unknown[sc->next].index };
    evaio_req *sub = evaio_ctx_custom(req->ctx_, run_stat, evaio_req_pri(req), stat_done, s);
    if (!sub) {
        sc->err = errno;
        free(s);
        return;
    }
    sc->next++;
    evaio__drive_add(req, sub); /* cannot fail: in flight, in no group */
}

static int stat_done(evaio_req *sub)
{
    struct stat_step *s = sub->data;
    struct scan *sc = s->sc;
    if (sub->result == 0) {
        sc->entries[s->index].type = s->type;
        sc->ndirs_known += s->type == T_DIR;
    }
    free(s);
    return 0;
}

static int by_inode(const void *a, const void *b)
{
    uint64_t x = ((const struct unknown *)a)->ino, y = ((const struct unknown *)b)->ino;
    return x < y ? -1 : x > y;
}

static int list_done(evaio_req *sub)
{
    struct scan *sc = sub->data;
    evaio_req *req = sc->req;
    if (sub->result < 0)
        sc->err = sub->errorno;
    if (sc->err || evaio_req_cancelled(req))
        return 0;
    sc->unknown = malloc((sc->nentries ? sc->nentries : 1) * sizeof *sc->unknown);
    if (!sc->unknown) {
        sc->err = ENOMEM;
        return 0;
    }
    for (size_t i = 0; i < sc->nentries; i++) {
        if (sc->entries[i].type == T_UNKNOWN)
            sc->unknown[sc->nunknown++] = (struct unknown){ sc->entries[i].ino, i };
        else
            sc->ndirs_known += sc->entries[i].type == T_DIR;
    }
    qsort(sc->unknown, sc->nunknown, sizeof *sc->unknown, by_inode);
    evaio_grp_feed(req, feed);
    return 0;
}

static void begin(evaio_req *req)
{
    struct evaio_scandir_args *a = &req->args.scandir;
    struct scan *sc = calloc(1, sizeof *sc);
    if (!sc) {
        req->errorno = ENOMEM;
        return;
    }
    sc->req = req;
    sc->fd = -1;
    req->owned_ = sc;
    if (a->maxreq < 1) {
        sc->err = EINVAL;
        return;
    }
    evaio_grp_limit(req, (unsigned)a->maxreq);
    evaio_req *sub = evaio_ctx_custom(req->ctx_, run_list, evaio_req_pri(req), list_done, sc);
    if (!sub) {
        sc->err = errno;
        return;
    }
    evaio__drive_add(req, sub);
}

/* The outputs in one allocation: directories' names, then the others'. */
static int build_outputs(evaio_req *req, struct scan *sc)
{
    struct evaio_scandir_args *a = &req->args.scandir;
    char *out = malloc(sc->names_len + 2);
    if (!out)
        return ENOMEM;
    size_t used = 0, count = 0, ndirs = 0;
    for (int pass = 0; pass < 2; pass++) {
        char *start = out + used;
        for (size_t i = 0; i < sc->nentries; i++) {
            int type = sc->entries[i].type;
            if (type == T_GONE || (type == T_DIR) != (pass == 0))
                continue;
            const char *n = sc->names + sc->entries[i].name;
            size_t len = strlen(n) + 1;
            memcpy(out + used, n, len);
            used += len;
            count++;
            ndirs += pass == 0;
        }
        out[used++] = 0; /* so an empty list is still a string */
        if (pass == 0)
            a->dirs = start;
        else
            a->nondirs = start;
    }
    a->ndirs = (int)ndirs;
    req->owned_ = out;
    req->result = (int64_t)count;
    return 0;
}

static void end(evaio_req *req)
{
    struct scan *sc = req->owned_;
    int err = sc ? sc->err : req->errorno;
    req->owned_ = NULL;
    if (!err && evaio_req_cancelled(req))
        err = ECANCELED;
    if (!err)
        err = build_outputs(req, sc);
    if (sc) {
        if (sc->fd >= 0)
            close(sc->fd);
        free(sc->entries);
        free(sc->names);
        free(sc->unknown);
        free(sc);
    }
    if (err) {
        req->result = -1;
        req->args.scandir.dirs = req->args.scandir.nondirs = NULL;
        req->args.scandir.ndirs = 0;
    }
    req->errorno = err;
}

const struct evaio__driver evaio__driver_scandir = { begin, end };
