/* Counts the process's allocations while the memory workload asks for it:
 * malloc, calloc and realloc(NULL, ...) are replaced by versions that count
 * and then call glibc's own (__libc_malloc, ...), so the allocator is
 * unchanged.  glibc routes its internal allocations (strdup, ...) through
 * these names too.  Outside a count the cost is one relaxed load. */
#include "bench.h"

#include <stdatomic.h>
#include <stddef.h>

/* Visible to the libraries (the build hides symbols by default). */
#define EXPORTED __attribute__((visibility("default")))

extern void *__libc_malloc(size_t size);
extern void *__libc_calloc(size_t n, size_t size);
extern void *__libc_realloc(void *p, size_t size);

static atomic_int counting;
static atomic_ulong count;

static inline void note(void)
{
    if (atomic_load_explicit(&counting, memory_order_relaxed))
        atomic_fetch_add_explicit(&count, 1, memory_order_relaxed);
}

EXPORTED void *malloc(size_t size)
{
    note();
    return __libc_malloc(size);
}

EXPORTED void *calloc(size_t n, size_t size)
{
    note();
    return __libc_calloc(n, size);
}

EXPORTED void *realloc(void *p, size_t size)
{
    if (!p)
        note();
    return __libc_realloc(p, size);
}

void alloc_count_begin(void)
{
    atomic_store(&count, 0);
    atomic_store(&counting, 1);
}

unsigned long alloc_count_end(void)
{
    atomic_store(&counting, 0);
    return atomic_load(&count);
}
