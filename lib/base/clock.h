/*  clock.h: the two clocks of the project and its source of random ids.
    Wall time stamps what is shown or journalled (declared, received, sent);
    the monotonic clock times everything that waits (heartbeats, retries,
    timeouts), so that a wall clock stepped by NTP never fires a timer.    */
#ifndef EL_CLOCK_H
#define EL_CLOCK_H

#include <stdint.h>

/*  Wall clock in microseconds since the Unix epoch.  */
int64_t clock_now_us (void);

/*  Monotonic clock in milliseconds (an arbitrary origin).  */
int64_t clock_mono_ms (void);

/*  Monotonic clock in microseconds (the same origin): to time a step.  */
int64_t clock_mono_us (void);

/*  A random 64-bit number (for epochs and request ids), never 0.  */
uint64_t clock_random_u64 (void);

#endif
