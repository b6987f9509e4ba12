/* rmtree: removes a whole tree with parallel, bounded steps.
 *
 * Every step works relative to a directory descriptor opened with
 * O_NOFOLLOW, on single names read from that directory, so a symlink is
 * removed, never followed, and a concurrent rename or symlink swap cannot
 * make the removal leave the tree.  Steps are `custom` sub-requests of the
 * rmtree request (a group): "scan" opens a directory and lists it, "unlink"
 * removes a batch of its non-directories, "rmdir" removes the directory once
 * everything in it is gone.  Pending steps wait on a stack (so subtrees are
 * finished before others are opened) and the group's feeder starts them
 * while fewer than the group's limit run. */
#include "internal.h"
#include "op_executors.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define UNLINK_BATCH 128

struct node {
    struct node *parent; /* NULL for the root */
    struct node *all;    /* every node, to close their fds at the end */
    int fd;              /* the open directory, -1 until scanned */
    unsigned pending;    /* steps and child directories not yet finished */
    char name[];         /* relative to the parent's fd */
};

enum step_kind { SCAN, UNLINK, RMDIR };

struct step {
    struct step *next;    /* on the pending stack */
    struct rmtree *rt;
    enum step_kind kind;
    struct node *node;    /* SCAN, RMDIR: the directory; UNLINK: its parent */
    int err;              /* the first error of the step */
    int not_dir;          /* SCAN of the root: it is not a directory */
    size_t nnames;        /* UNLINK: names; SCAN result: non-directories */
    char *names;          /* NUL-separated */
    size_t nsubdirs;      /* SCAN result */
    char *subdirs;
};

struct rmtree {
    evaio_req *req;
    int base_fd;          /* the root's parent directory, -1 until opened */
    char *root_dir;       /* the root's parent path, relative to the wd */
    struct node *nodes;   /* every node */
    struct step *stack;   /* steps waiting to start */
    int err;              /* the first error */
};

static void record(struct rmtree *rt, int err)
{
    if (err && !rt->err)
        rt->err = err;
}

static int parent_fd(const struct rmtree *rt, const struct node *n)
{
    return n->parent ? n->parent->fd : rt->base_fd;
}

/* Appends a name to a growing NUL-separated list. */
static int append(char **list, size_t *used, size_t *cap, const char *name)
{
    size_t len = strlen(name) + 1;
    if (*used + len > *cap) {
        size_t ncap = *cap ? *cap * 2 : 4096;
        while (*used + len > ncap)
            ncap *= 2;
        char *grown = realloc(*list, ncap);
        if (!grown)
            return ENOMEM;
        *list = grown;
        *cap = ncap;
    }
    memcpy(*list + *used, name, len);
    *used += len;
    return 0;
}

/* On a worker: opens the directory (the root's parent first, for the root)
 * and sorts its entries into subdirectories and the rest. */
static int scan(struct step *s)
{
    struct rmtree *rt = s->rt;
    struct node *n = s->node;
    if (!n->parent && rt->base_fd < 0) {
        rt->base_fd = openat(evaio__dirfd(rt->req), rt->root_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (rt->base_fd < 0)
            return errno;
    }
    int fd = openat(parent_fd(rt, n), n->name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        if (!n->parent && (errno == ENOTDIR || errno == ELOOP)) {
            s->not_dir = 1; /* the root is a file or a symlink: remove just that */
            return unlinkat(rt->base_fd, n->name, 0) < 0 ? errno : 0;
        }
        return errno;
    }
    n->fd = fd;
    int dup_fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
    DIR *dir = dup_fd < 0 ? NULL : fdopendir(dup_fd);
    if (!dir) {
        int err = errno;
        if (dup_fd >= 0)
            close(dup_fd);
        return err;
    }
    size_t ncap = 0, scap = 0, nused = 0, sused = 0;
    int err = 0;
    for (;;) {
        errno = 0;
        struct dirent *e = readdir(dir);
        if (!e) {
            err = errno;
            break;
        }
        const char *name = e->d_name;
        if (name[0] == '.' && (!name[1] || (name[1] == '.' && !name[2])))
            continue;
        int is_dir = e->d_type == DT_DIR;
        if (e->d_type == DT_UNKNOWN) {
            struct stat st;
            if (fstatat(fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
                if (errno == ENOENT)
                    continue; /* removed meanwhile */
                err = errno;
                break;
            }
            is_dir = S_ISDIR(st.st_mode);
        }
        if (is_dir) {
            err = append(&s->subdirs, &sused, &scap, name);
            s->nsubdirs += !err;
        } else {
            err = append(&s->names, &nused, &ncap, name);
            s->nnames += !err;
        }
        if (err)
            break;
    }
    closedir(dir);
    return err;
}

static int64_t run_step(evaio_req *sub)
{
    struct step *s = sub->data;
    struct rmtree *rt = s->rt;
    switch (s->kind) {
    case SCAN:
        s->err = scan(s);
        break;
    case UNLINK: {
        const char *name = s->names;
        for (size_t i = 0; i < s->nnames; i++, name += strlen(name) + 1) {
            if (unlinkat(s->node->fd, name, 0) < 0 && errno != ENOENT && !s->err)
                s->err = errno;
        }
        break;
    }
    case RMDIR:
        if (unlinkat(parent_fd(rt, s->node), s->node->name, AT_REMOVEDIR) < 0 && errno != ENOENT)
            s->err = errno;
        break;
    }
    return 0;
}

static void free_step(struct step *s)
{
    free(s->names);
    free(s->subdirs);
    free(s);
}

static struct step *new_step(struct rmtree *rt, enum step_kind kind, struct node *node)
{
    struct step *s = calloc(1, sizeof *s);
    if (!s) {
        record(rt, ENOMEM);
        return NULL;
    }
    s->rt = rt;
    s->kind = kind;
    s->node = node;
    return s;
}

static void push(struct rmtree *rt, struct step *s)
{
    s->next = rt->stack;
    rt->stack = s;
}

static struct node *new_node(struct rmtree *rt, struct node *parent, const char *name)
{
    size_t len = strlen(name) + 1;
    struct node *n = malloc(sizeof *n + len);
    if (!n) {
        record(rt, ENOMEM);
        return NULL;
    }
    n->parent = parent;
    n->fd = -1;
    n->pending = 1; /* its scan */
    memcpy(n->name, name, len);
    n->all = rt->nodes;
    rt->nodes = n;
    return n;
}

/* One of a directory's steps or children finished: once none is left, the
 * directory itself goes. */
static void node_done(struct rmtree *rt, struct node *n)
{
    if (--n->pending)
        return;
    struct step *s = new_step(rt, RMDIR, n);
    if (s)
        push(rt, s);
}

static int step_done(evaio_req *sub);

/* The group's feeder: starts pending steps while the group is below its
 * limit.  A call that starts none ends feeding; step_done restarts it. */
static void feed(evaio_req *req)
{
    struct rmtree *rt = req->owned_;
    struct step *s = rt->stack;
    if (!s || evaio_req_cancelled(req))
        return;
    rt->stack = s->next;
    evaio_req *sub = evaio_ctx_custom(req->ctx_, run_step, evaio_req_pri(req), step_done, s);
    if (!sub) {
        /* Not started (no memory, no thread): the step is abandoned. */
        record(rt, errno);
        free_step(s);
        return;
    }
    /* Cannot fail: sub is in flight on the group's context, in no group. */
    evaio__drive_add(req, sub);
}

/* Queues the steps a scan found: its non-directories in batches, and a
 * child node per subdirectory. */
static void expand(struct rmtree *rt, struct step *s)
{
    struct node *n = s->node;
    const char *p = s->names;
    for (size_t done = 0; done < s->nnames;) {
        const char *start = p;
        size_t k = 0;
        for (; k < UNLINK_BATCH && done + k < s->nnames; k++)
            p += strlen(p) + 1;
        struct step *u = new_step(rt, UNLINK, n);
        if (u && !(u->names = malloc((size_t)(p - start)))) {
            record(rt, ENOMEM);
            free(u);
            u = NULL;
        }
        if (!u)
            return;
        memcpy(u->names, start, (size_t)(p - start));
        u->nnames = k;
        done += k;
        n->pending++;
        push(rt, u);
    }
    const char *d = s->subdirs;
    for (size_t i = 0; i < s->nsubdirs; i++, d += strlen(d) + 1) {
        struct node *child = new_node(rt, n, d);
        struct step *c = child ? new_step(rt, SCAN, child) : NULL;
        if (!c)
            return;
        n->pending++;
        push(rt, c);
    }
}

static int step_done(evaio_req *sub)
{
    struct step *s = sub->data;
    struct rmtree *rt = s->rt;
    evaio_req *req = rt->req;
    int failed = sub->result < 0 || s->err;
    record(rt, sub->result < 0 ? sub->errorno : s->err);
    if (!failed && !evaio_req_cancelled(req)) {
        struct node *n = s->node;
        switch (s->kind) {
        case SCAN:
            if (!s->not_dir) {
                expand(rt, s);
                node_done(rt, n); /* the scan itself */
            }
            break;
        case UNLINK:
            node_done(rt, n);
            break;
        case RMDIR:
            if (n->parent)
                node_done(rt, n->parent);
            break;
        }
        if (rt->stack)
            evaio_grp_feed(req, feed); /* resumes feeding if a call had ended it */
    }
    free_step(s);
    return 0;
}

static void begin(evaio_req *req)
{
    struct evaio_rmtree_args *a = &req->args.rmtree;
    struct rmtree *rt = calloc(1, sizeof *rt);
    if (!rt) {
        req->errorno = ENOMEM;
        return;
    }
    rt->req = req;
    rt->base_fd = -1;
    req->owned_ = rt;

    /* The root's parent and its last component, so that the root itself is
     * opened without following a symlink. */
    size_t len = strlen(a->path);
    while (len > 1 && a->path[len - 1] == '/')
        len--;
    const char *slash = NULL; /* the last '/' within len (memrchr is not portable) */
    for (size_t i = len; i-- > 0;) {
        if (a->path[i] == '/') {
            slash = a->path + i;
            break;
        }
    }
    const char *base = slash ? slash + 1 : a->path;
    size_t base_len = len - (size_t)(base - a->path);
    if (!base_len || (base[0] == '.' && (base_len == 1 || (base_len == 2 && base[1] == '.')))) {
        record(rt, len ? EINVAL : ENOENT);
        return; /* "", ".", "..", "/": refused like rm does */
    }
    size_t dir_len = slash ? (size_t)(slash - a->path) : 0;
    rt->root_dir = malloc(dir_len + 2 + base_len + 1);
    if (!rt->root_dir) {
        record(rt, ENOMEM);
        return;
    }
    if (!slash)
        strcpy(rt->root_dir, ".");
    else if (dir_len == 0)
        strcpy(rt->root_dir, "/");
    else
        memcpy(rt->root_dir, a->path, dir_len), rt->root_dir[dir_len] = 0;
    char *name = strndup(base, base_len);
    struct node *root = name ? new_node(rt, NULL, name) : NULL;
    free(name);
    struct step *s = root ? new_step(rt, SCAN, root) : NULL;
    if (!s) {
        record(rt, ENOMEM);
        return;
    }
    push(rt, s);
    evaio_grp_feed(req, feed);
}

static void end(evaio_req *req)
{
    struct rmtree *rt = req->owned_;
    int err = rt ? rt->err : req->errorno;
    if (rt) {
        while (rt->stack) {
            struct step *s = rt->stack;
            rt->stack = s->next;
            free_step(s);
        }
        for (struct node *n = rt->nodes, *next; n; n = next) {
            next = n->all;
            if (n->fd >= 0)
                close(n->fd);
            free(n);
        }
        if (rt->base_fd >= 0)
            close(rt->base_fd);
        free(rt->root_dir);
        free(rt);
        req->owned_ = NULL;
    }
    if (evaio_req_cancelled(req))
        err = ECANCELED;
    req->result = err ? -1 : 0;
    req->errorno = err;
}

const struct evaio__driver evaio__driver_rmtree = { begin, end };
