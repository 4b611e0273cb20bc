/*  log.c: see log.h. The settings are process-wide by nature (stderr is),
    and so is the record of what was held back: the gateway's threads log
    too, hence the lock.                                                    */
#include "log.h"
#include "clock.h"
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define S_ID_SIZE 16
#define S_CAUSES  64        /* ids with a window open at once */

//  One cause's window: how many lines it has shown, how many it held back
typedef struct {
    char id [S_ID_SIZE];
    log_level_t level;
    int64_t opened_ms;      /* mono; 0: slot free */
    size_t shown;
    size_t held;
} s_cause_t;

static const char *s_program = "election";
static log_level_t s_min_level = LOG_INFO;
static s_cause_t s_causes [S_CAUSES];
static pthread_mutex_t s_lock = PTHREAD_MUTEX_INITIALIZER;

void
log_init (const char *program, log_level_t min_level)
{
    static bool registered = false;
    s_program = program;
    s_min_level = min_level;
    if (!registered)
        registered = atexit (log_flush) == 0;
}

//  Lines written while held (log_hold): one write for many at
//  log_release, or when this is full
#define S_HELD_BYTES 65536
static char s_held [S_HELD_BYTES];
static size_t s_held_size;
static int s_holding;

//  Writes out what is held, whole lines, in one write (stderr unbuffered)
static void
s_spill (void)
{
    if (s_held_size)
        fwrite (s_held, 1, s_held_size, stderr);
    s_held_size = 0;
}

//  One write per line (or per held batch of whole lines), so that lines of
//  concurrent processes do not interleave. The time of day is formatted
//  once a second, not once a line.
static void
s_write (log_level_t level, const char *id, const char *text)
{
    static const char *names [] = { "DEBUG", "INFO ", "WARN ", "ERROR" };
    static time_t stamp_of = -1;
    static char stamp [32];
    struct timespec now;
    clock_gettime (CLOCK_REALTIME, &now);
    if (now.tv_sec != stamp_of) {
        struct tm tm;
        gmtime_r (&now.tv_sec, &tm);
        strftime (stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);
        stamp_of = now.tv_sec;
    }
    char line [1200];
    int size = snprintf (line, sizeof line, "%s.%03ldZ %s %s %s %s\n", stamp,
                         now.tv_nsec / 1000000L, s_program, names [level], id, text);
    if (size < 0)
        return;
    if ((size_t) size >= sizeof line) {
        size = sizeof line - 1;
        line [size - 1] = '\n';
    }
    if (!s_holding) {
        fwrite (line, 1, (size_t) size, stderr);
        return;
    }
    if (s_held_size + (size_t) size > S_HELD_BYTES)
        s_spill ();
    memcpy (s_held + s_held_size, line, (size_t) size);
    s_held_size += (size_t) size;
}

void
log_hold (void)
{
    pthread_mutex_lock (&s_lock);
    s_holding++;
    pthread_mutex_unlock (&s_lock);
}

void
log_release (void)
{
    pthread_mutex_lock (&s_lock);
    if (s_holding && --s_holding == 0)
        s_spill ();
    pthread_mutex_unlock (&s_lock);
}

//  Says how many lines of a cause were held back, and closes its window
static void
s_close (s_cause_t *cause, int64_t now)
{
    if (cause->held) {
        char text [128];
        snprintf (text, sizeof text, "... and %zu more like it in the last %lld s (not shown)",
                  cause->held, (long long) ((now - cause->opened_ms + 999) / 1000));
        s_write (cause->level, cause->id, text);
    }
    cause->opened_ms = 0;
}

//  True if a line of this cause may be shown now; counts it if not
static bool
s_admit (log_level_t level, const char *id, int64_t now)
{
    s_cause_t *cause = NULL, *oldest = &s_causes [0];
    for (size_t i = 0; i < S_CAUSES; i++) {
        s_cause_t *slot = &s_causes [i];
        if (slot->opened_ms && now - slot->opened_ms >= LOG_WINDOW_MS)
            s_close (slot, now);
        if (slot->opened_ms && strncmp (slot->id, id, S_ID_SIZE) == 0)
            cause = slot;
        if (slot->opened_ms < oldest->opened_ms)
            oldest = slot;
    }
    if (!cause) {
        cause = oldest;
        if (cause->opened_ms)
            s_close (cause, now);   //  more causes at once than slots
        snprintf (cause->id, sizeof cause->id, "%s", id);
        cause->level = level;
        cause->opened_ms = now;
        cause->shown = cause->held = 0;
    }
    if (cause->shown < LOG_BURST) {
        cause->shown++;
        return true;
    }
    cause->held++;
    return false;
}

void
log_msg (log_level_t level, const char *id, const char *fmt, ...)
{
    if (level < s_min_level)
        return;
    char line [1024];
    va_list args;
    va_start (args, fmt);
    vsnprintf (line, sizeof line, fmt, args);
    va_end (args);
    pthread_mutex_lock (&s_lock);
    if (level < LOG_WARN || s_admit (level, id, clock_mono_ms ()))
        s_write (level, id, line);
    pthread_mutex_unlock (&s_lock);
}

static void
s_close_windows (bool all)
{
    int64_t now = clock_mono_ms ();
    pthread_mutex_lock (&s_lock);
    for (size_t i = 0; i < S_CAUSES; i++)
        if (s_causes [i].opened_ms && (all || now - s_causes [i].opened_ms >= LOG_WINDOW_MS))
            s_close (&s_causes [i], now);
    pthread_mutex_unlock (&s_lock);
}

void
log_tick (void)
{
    s_close_windows (false);
}

void
log_flush (void)
{
    s_close_windows (true);
    pthread_mutex_lock (&s_lock);
    s_spill ();
    pthread_mutex_unlock (&s_lock);
}
