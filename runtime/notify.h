/* The poll fd: an eventfd on Linux, a pipe elsewhere.  Set when results start
 * waiting, cleared when the last one is taken, both under the result lock, so
 * it is readable exactly while results wait. */
#ifndef EVAIO_NOTIFY_H
#define EVAIO_NOTIFY_H

struct evaio_notify {
    int read_fd;
    int write_fd; /* the same fd as read_fd for an eventfd */
};

int evaio__notify_open(struct evaio_notify *n);
void evaio__notify_close(struct evaio_notify *n);
void evaio__notify_set(struct evaio_notify *n);
void evaio__notify_clear(struct evaio_notify *n);

#endif
