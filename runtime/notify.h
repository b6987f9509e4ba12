/* The poll fd: an eventfd on Linux, a pipe elsewhere.  Set when results start
 * waiting; cleared when a poll call finds none left, both under the result
 * lock.  So between poll calls it is readable exactly while results wait;
 * within one it stays set while the queue empties and refills, so callbacks
 * whose next request finishes at once cost no write and read per result. */
#ifndef EVAIO_NOTIFY_H
#define EVAIO_NOTIFY_H

struct evaio_notify {
    int read_fd;
    int write_fd; /* the same fd as read_fd for an eventfd */
    int set;      /* readable: written and not yet read back; changed under the
                   * result lock, read unlocked by the polling thread, the only
                   * one that clears it */
};

int evaio__notify_open(struct evaio_notify *n);
void evaio__notify_close(struct evaio_notify *n);
/* Each returns 1 when it changed the state (0: it was already so). */
int evaio__notify_set(struct evaio_notify *n);
int evaio__notify_clear(struct evaio_notify *n);

#endif
