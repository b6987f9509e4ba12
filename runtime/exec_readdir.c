/* readdir: every name of a directory, except . and .., in one buffer. */
#include "internal.h"
#include "op_executors.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int64_t evaio__exec_readdir(evaio_req *req, struct evaio_readdir_args *a)
{
    if (a->flags != 0) {
        errno = EINVAL;
        return -1;
    }
    int fd = openat(evaio__dirfd(req), a->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    DIR *dir = fdopendir(fd);
    if (!dir) {
        int saved = errno;
        close(fd);
        errno = saved;
        return -1;
    }

    size_t used = 0, cap = 4096;
    char *names = malloc(cap);
    int64_t count = 0;
    int err = names ? 0 : ENOMEM;
    while (!err) {
        errno = 0;
        struct dirent *ent = readdir(dir);
        if (!ent) {
            err = errno;
            break;
        }
        const char *n = ent->d_name;
        if (n[0] == '.' && (n[1] == 0 || (n[1] == '.' && n[2] == 0)))
            continue;
        size_t len = strlen(n) + 1;
        if (used + len > cap) {
            while (used + len > cap)
                cap *= 2;
            char *grown = realloc(names, cap);
            if (!grown) {
                err = ENOMEM;
                break;
            }
            names = grown;
        }
        memcpy(names + used, n, len);
        used += len;
        count++;
    }
    closedir(dir);
    if (err) {
        free(names);
        errno = err;
        return -1;
    }
    a->names = names;
    req->owned_ = names;
    return count;
}
