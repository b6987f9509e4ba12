/* Directory reading shared by readdir and the directory streams: see
 * dirread.h. */
#include "dirread.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/syscall.h>
#endif

#ifdef DT_UNKNOWN
/* The public EVAIO_DT_* values are the system's DT_* values. */
_Static_assert(DT_UNKNOWN == EVAIO_DT_UNKNOWN && DT_FIFO == EVAIO_DT_FIFO && DT_CHR == EVAIO_DT_CHR &&
                   DT_DIR == EVAIO_DT_DIR && DT_BLK == EVAIO_DT_BLK && DT_REG == EVAIO_DT_REG &&
                   DT_LNK == EVAIO_DT_LNK && DT_SOCK == EVAIO_DT_SOCK,
               "EVAIO_DT_* differ from DT_*");
#endif

static int is_dot_or_dotdot(const char *n)
{
    return n[0] == '.' && (n[1] == 0 || (n[1] == '.' && n[2] == 0));
}

int evaio__dirreader_open(struct evaio__dirreader *r, int dirfd, const char *path)
{
    r->buf = NULL;
    r->dir = NULL;
    r->len = r->pos = r->prev = 0;
    r->prevloc = 0;
    do
        r->fd = openat(dirfd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    while (r->fd < 0 && errno == EINTR);
    if (r->fd < 0)
        return -1;
    int err = 0;
#ifdef SYS_getdents64
    if (!(r->buf = malloc(EVAIO__DIRBUF_SIZE)))
        err = ENOMEM;
#else
    if (!(r->dir = fdopendir(r->fd)))
        err = errno;
#endif
    if (err) {
        close(r->fd);
        errno = err;
        return -1;
    }
    return 0;
}

#ifdef SYS_getdents64
/* The kernel's record (linux/dirent.h); d_name runs to d_reclen. */
struct linux_dirent64 {
    uint64_t d_ino;
    int64_t d_off;
    unsigned short d_reclen;
    unsigned char d_type;
    char d_name[];
};

int evaio__dirreader_next(struct evaio__dirreader *r, struct evaio__dentry *e)
{
    for (;;) {
        while (r->pos < r->len) {
            const struct linux_dirent64 *d = (const void *)(r->buf + r->pos);
            r->prev = r->pos;
            r->pos += d->d_reclen;
            if (is_dot_or_dotdot(d->d_name))
                continue;
            e->name = d->d_name;
            e->len = strlen(d->d_name);
            e->ino = d->d_ino;
            e->type = d->d_type;
            return 1;
        }
        long n;
        do
            n = syscall(SYS_getdents64, r->fd, r->buf, (size_t)EVAIO__DIRBUF_SIZE);
        while (n < 0 && errno == EINTR);
        r->pos = 0;
        r->len = n > 0 ? (size_t)n : 0;
        if (n <= 0)
            return n < 0 ? -1 : 0;
    }
}

void evaio__dirreader_unread(struct evaio__dirreader *r)
{
    r->pos = r->prev;
}
#else
int evaio__dirreader_next(struct evaio__dirreader *r, struct evaio__dentry *e)
{
    for (;;) {
        r->prevloc = telldir(r->dir);
        errno = 0;
        struct dirent *d = readdir(r->dir);
        if (!d) {
            if (errno == EINTR)
                continue;
            return errno ? -1 : 0;
        }
        if (is_dot_or_dotdot(d->d_name))
            continue;
        e->name = d->d_name;
        e->len = strlen(d->d_name);
        e->ino = (uint64_t)d->d_ino;
#ifdef DT_UNKNOWN
        e->type = d->d_type;
#else
        e->type = EVAIO_DT_UNKNOWN;
#endif
        return 1;
    }
}

void evaio__dirreader_unread(struct evaio__dirreader *r)
{
    seekdir(r->dir, r->prevloc);
}
#endif

int evaio__dirreader_close(struct evaio__dirreader *r)
{
    int rc;
    free(r->buf);
    r->buf = NULL;
    if (r->dir)
        rc = closedir(r->dir); /* closes fd */
    else
        rc = close(r->fd);
    r->dir = NULL;
    r->fd = -1;
    return rc;
}

void evaio__dirlist_init(struct evaio__dirlist *l, int keep_ents)
{
    memset(l, 0, sizeof *l);
    l->keep_ents = keep_ents;
}

int evaio__dirlist_add(struct evaio__dirlist *l, const struct evaio__dentry *e)
{
    size_t need = e->len + 1;
    if (need > l->cap - l->used) {
        size_t cap = l->cap ? l->cap : 4096;
        while (need > cap - l->used) {
            if (cap > SIZE_MAX / 2)
                goto nomem;
            cap *= 2;
        }
        char *grown = realloc(l->names, cap);
        if (!grown)
            goto nomem;
        l->names = grown;
        l->cap = cap;
    }
    if (l->keep_ents && l->n == l->ecap) {
        size_t ecap = l->ecap ? l->ecap * 2 : 64;
        if (ecap > SIZE_MAX / sizeof *l->ents)
            goto nomem;
        struct evaio__dirlist_ent *grown = realloc(l->ents, ecap * sizeof *l->ents);
        if (!grown)
            goto nomem;
        l->ents = grown;
        l->ecap = ecap;
    }
    if (l->keep_ents)
        l->ents[l->n] = (struct evaio__dirlist_ent){
            .ino = e->ino, .off = l->used, .seq = l->n, .type = e->type, .group = 0
        };
    memcpy(l->names + l->used, e->name, need);
    l->used += need;
    l->n++;
    if (e->type == EVAIO_DT_UNKNOWN)
        l->found_unknown = 1;
    return 0;
nomem:
    errno = ENOMEM;
    return -1;
}

void evaio__dirlist_free(struct evaio__dirlist *l)
{
    free(l->names);
    free(l->ents);
    evaio__dirlist_init(l, l->keep_ents);
}

int evaio__dirlist_finish(struct evaio__dirlist *l, evaio_req *req, int want_dents, char **names,
                          struct evaio_dirent **dents)
{
    *names = NULL;
    *dents = NULL;
    if (!l->keep_ents) {
        /* The names as collected are the result: hand over the buffer. */
        if (!l->names) { /* no entries: an empty buffer, not NULL */
            if (!(l->names = malloc(1))) {
                errno = ENOMEM;
                return -1;
            }
            l->names[0] = 0;
        }
        req->owned_ = *names = l->names;
        l->names = NULL;
        evaio__dirlist_free(l);
        return 0;
    }
    size_t dsize = want_dents ? l->n * sizeof(struct evaio_dirent) : 0;
    char *block = evaio__own(req, dsize + l->used);
    if (!block) {
        evaio__dirlist_free(l);
        errno = ENOMEM;
        return -1;
    }
    struct evaio_dirent *d = want_dents ? (struct evaio_dirent *)(void *)block : NULL;
    char *out = block + dsize;
    for (size_t i = 0; i < l->n; i++) {
        const char *src = l->names + l->ents[i].off;
        size_t len = strlen(src) + 1;
        memcpy(out, src, len);
        if (d)
            d[i] = (struct evaio_dirent){ .name = out, .ino = l->ents[i].ino, .type = l->ents[i].type };
        out += len;
    }
    *names = block + dsize;
    *dents = d;
    evaio__dirlist_free(l);
    return 0;
}
