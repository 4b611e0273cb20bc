/*  clock.c: see clock.h.  */
#include "clock.h"
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

int64_t
clock_now_us (void)
{
    struct timespec now;
    clock_gettime (CLOCK_REALTIME, &now);
    return (int64_t) now.tv_sec * 1000000 + now.tv_nsec / 1000;
}

int64_t
clock_mono_ms (void)
{
    struct timespec now;
    clock_gettime (CLOCK_MONOTONIC, &now);
    return (int64_t) now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

int64_t
clock_mono_us (void)
{
    struct timespec now;
    clock_gettime (CLOCK_MONOTONIC, &now);
    return (int64_t) now.tv_sec * 1000000 + now.tv_nsec / 1000;
}

uint64_t
clock_random_u64 (void)
{
    uint64_t value = 0;
    if (getrandom (&value, sizeof value, 0) != sizeof value)
        value = (uint64_t) clock_now_us () ^ ((uint64_t) getpid () << 32);
    return value ? value : 1;
}
