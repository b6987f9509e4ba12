/* The directory holding a path's last component, for the composite
 * executors (see composite.h). */
#include "composite.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int evaio__is_dots(const char *name)
{
    return name[0] == '.' && (name[1] == 0 || (name[1] == '.' && name[2] == 0));
}

void evaio__leaf_close(struct evaio__leaf *leaf)
{
    int saved = errno;
    if (leaf->dirfd >= 0)
        close(leaf->dirfd);
    free(leaf->name);
    leaf->dirfd = -1;
    leaf->name = NULL;
    errno = saved;
}

int evaio__leaf_open(int dirfd, const char *path, int oflags, struct evaio__leaf *leaf)
{
    leaf->dirfd = -1;
    leaf->name = NULL;
    leaf->slash = 0;
    size_t len = strlen(path);
    if (len == 0) {
        errno = ENOENT;
        return -1;
    }
    size_t end = len; /* the last component ends here */
    while (end > 1 && path[end - 1] == '/')
        end--;
    leaf->slash = end < len;

    char *parent;
    if (end == 1 && path[0] == '/') { /* the root: its own parent */
        leaf->name = strdup(".");
        parent = strdup("/");
    } else {
        size_t start = end;
        while (start > 0 && path[start - 1] != '/')
            start--;
        leaf->name = strndup(path + start, end - start);
        if (start == 0) {
            parent = strdup(".");
        } else {
            size_t pend = start; /* drop the slashes before the name, keeping a leading one */
            while (pend > 1 && path[pend - 1] == '/')
                pend--;
            parent = strndup(path, pend);
        }
    }
    if (!leaf->name || !parent) {
        free(parent);
        evaio__leaf_close(leaf);
        errno = ENOMEM;
        return -1;
    }
    int fd;
    EVAIO__RETRY(fd, openat(dirfd, parent, oflags | O_DIRECTORY | O_CLOEXEC));
    int err = errno;
    free(parent);
    if (fd < 0) {
        errno = err;
        evaio__leaf_close(leaf);
        return -1;
    }
    leaf->dirfd = fd;
    return 0;
}
