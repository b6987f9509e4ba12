/* Fault injection, for the test build only (EVAIO_FAULT_INJECTION): every
 * allocation (malloc, calloc, realloc, posix_memalign, strdup, strndup), thread creation and poll-fd creation of the library goes
 * through a counter that can make the Nth call from now fail, as the system
 * would (ENOMEM, EAGAIN, EMFILE).  In the real build this header is empty. */
#ifndef EVAIO_FAULT_H
#define EVAIO_FAULT_H

#ifdef EVAIO_FAULT_INJECTION
#include <pthread.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/eventfd.h>
#endif

enum evaio_fault_kind { EVAIO_FAULT_ALLOC, EVAIO_FAULT_THREAD, EVAIO_FAULT_FD, EVAIO_FAULT_KINDS };

/* The Nth call of `kind` from now fails (0: none); calls counts them. */
__attribute__((visibility("default"))) void evaio__fault_arm(int kind, unsigned long n);
__attribute__((visibility("default"))) unsigned long evaio__fault_calls(int kind);
__attribute__((visibility("default"))) int evaio__fault_fired(void); /* since the last arm */

void *evaio__fault_malloc(size_t n);
void *evaio__fault_calloc(size_t n, size_t size);
void *evaio__fault_realloc(void *p, size_t n);
int evaio__fault_posix_memalign(void **p, size_t align, size_t n);
char *evaio__fault_strdup(const char *s);
char *evaio__fault_strndup(const char *s, size_t n);
int evaio__fault_pthread_create(pthread_t *t, const pthread_attr_t *a, void *(*fn)(void *), void *arg);
int evaio__fault_eventfd(unsigned initval, int flags);
int evaio__fault_pipe(int fds[2]);

#define malloc(n) evaio__fault_malloc(n)
#define calloc(n, s) evaio__fault_calloc(n, s)
#define realloc(p, n) evaio__fault_realloc(p, n)
#define posix_memalign(p, a, n) evaio__fault_posix_memalign(p, a, n)
#define strdup(s) evaio__fault_strdup(s)
#define strndup(s, n) evaio__fault_strndup(s, n)
#define pthread_create(t, a, f, x) evaio__fault_pthread_create(t, a, f, x)
#define eventfd(v, f) evaio__fault_eventfd(v, f)
#define pipe(fds) evaio__fault_pipe(fds)
#endif

#endif
