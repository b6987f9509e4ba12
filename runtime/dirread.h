/* Reading directories for readdir and the directory streams (opendir,
 * readdir_batch): a reader that yields one entry at a time from a bounded
 * buffer, and a list that collects entries into the one allocation a request
 * hands to the library (req->owned_). */
#ifndef EVAIO_DIRREAD_H
#define EVAIO_DIRREAD_H

#include "internal.h"

#include <stddef.h>
#include <stdint.h>

/* Linux: getdents64(2) into a buffer this big; elsewhere readdir(3). */
#define EVAIO__DIRBUF_SIZE (64 * 1024)

struct evaio__dirreader {
    int fd;
    char *buf;        /* Linux: getdents64 records in buf[pos..len) */
    size_t len, pos;
    size_t prev;      /* Linux: the record last returned, for unread */
    void *dir;        /* elsewhere: the DIR * */
    long prevloc;     /* elsewhere: telldir before the entry last returned */
};

struct evaio__dentry {
    const char *name; /* valid until the next call on the reader */
    size_t len;       /* strlen(name) */
    uint64_t ino;
    unsigned char type; /* EVAIO_DT_* */
};

/* Opens `path` relative to dirfd: 0, or -1 with errno set (nothing left open). */
int evaio__dirreader_open(struct evaio__dirreader *r, int dirfd, const char *path);
/* The next entry other than . and ..: 1, 0 at the end, -1 with errno set.
 * Repeats EINTR itself; after an error the reader may be read again. */
int evaio__dirreader_next(struct evaio__dirreader *r, struct evaio__dentry *e);
/* Steps back over the entry the last successful next returned, so the next
 * call returns it again. */
void evaio__dirreader_unread(struct evaio__dirreader *r);
/* Frees the buffer and closes the descriptor: 0, or close's -1 with errno. */
int evaio__dirreader_close(struct evaio__dirreader *r);

/* Entries collected for one result.  `ents` is kept only when the caller
 * asks for it (dirents or an ordering); `names` always. */
struct evaio__dirlist_ent {
    uint64_t ino;
    size_t off;         /* of the name in names */
    size_t seq;         /* position in the directory, for a stable order */
    unsigned char type;
    unsigned char group; /* sort key before ino: see exec_readdir.c */
};

struct evaio__dirlist {
    char *names;
    size_t used, cap;
    struct evaio__dirlist_ent *ents; /* NULL unless keep_ents */
    size_t n, ecap;
    int keep_ents;
    int found_unknown;  /* some entry had type EVAIO_DT_UNKNOWN */
};

/* An empty list; keep_ents: also record ino/type per entry. */
void evaio__dirlist_init(struct evaio__dirlist *l, int keep_ents);
/* Appends an entry: 0, or -1 with errno ENOMEM (the list is unchanged). */
int evaio__dirlist_add(struct evaio__dirlist *l, const struct evaio__dentry *e);
/* Hands the list to the request as ONE allocation in req->owned_: when
 * want_dents, an array of l->n struct evaio_dirent, then the names in the
 * order of l->ents (or as added, without keep_ents).  Sets *names and *dents
 * (NULL unless want_dents); the list is empty afterwards.  0, or -1 with
 * errno ENOMEM (the list is then freed). */
int evaio__dirlist_finish(struct evaio__dirlist *l, evaio_req *req, int want_dents, char **names,
                          struct evaio_dirent **dents);
void evaio__dirlist_free(struct evaio__dirlist *l);

#endif
