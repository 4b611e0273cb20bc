/*  times_file.c: see times_file.h.  */
#include "times_file.h"
#include "csv_reader.h"
#include "strmap.h"
#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *const s_times_columns [] = { "ons_id", "declared_at" };

typedef struct {
    declaration_times_t *times;     /* owned until handed to the caller */
    size_t cap;
    strmap_t *index;                /* ons_id -> line, keys borrowed from times */
} s_times_ctx_t;

static bool
s_is_leap (int year)
{
    return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

/*  True if text starts with the shape, where 'd' stands for an ASCII digit
    and anything else for itself.  */
static bool
s_has_shape (const char *text, const char *shape)
{
    for (; *shape; shape++, text++)
        if (*shape == 'd' ? !isdigit ((unsigned char) *text) : *text != *shape)
            return false;
    return true;
}

/*  Parses YYYY-MM-DDTHH:MM:SS[.fraction] followed by Z or +HH:MM / -HH:MM
    into Unix milliseconds. Returns NULL, or a phrase saying what is wrong.
    The shape is checked first, so sscanf only ever sees fixed-width digits. */
static const char *
s_parse_time (const char *text, int64_t *ms_p)
{
    static const int days_in_month [12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    int year, month, day, hour, minute, second;
    if (!s_has_shape (text, "dddd-dd-ddTdd:dd:dd")
    ||  sscanf (text, "%4d-%2d-%2dT%2d:%2d:%2d",
                &year, &month, &day, &hour, &minute, &second) != 6)
        return "not YYYY-MM-DDTHH:MM:SS with a UTC offset";
    if (month < 1 || month > 12)
        return "month out of range";
    int month_days = days_in_month [month - 1] + (month == 2 && s_is_leap (year));
    if (day < 1 || day > month_days)
        return "day out of range";
    //  Unix time has no leap seconds, so 60 is refused too
    if (hour > 23 || minute > 59 || second > 59)
        return "time of day out of range";

    const char *p = text + 19;
    int64_t ms = 0;
    if (*p == '.') {
        int digits = 0, scale = 100;
        for (p++; isdigit ((unsigned char) *p); p++, digits++) {
            ms += (*p - '0') * scale;
            scale /= 10;
        }
        if (digits == 0 || digits > 9)
            return "fraction of a second must have 1 to 9 digits";
    }
    int offset = 0;             /* seconds east of UTC */
    if (*p == 'Z')
        p++;
    else
    if ((*p == '+' || *p == '-') && s_has_shape (p + 1, "dd:dd")) {
        int offset_hours, offset_minutes;
        if (sscanf (p + 1, "%2d:%2d", &offset_hours, &offset_minutes) != 2)
            return "bad UTC offset";
        if (offset_hours > 23 || offset_minutes > 59)
            return "UTC offset out of range";
        offset = (offset_hours * 3600 + offset_minutes * 60) * (*p == '-' ? -1 : 1);
        p += 6;
    }
    else
        return "no UTC offset (Z or +HH:MM)";
    if (*p != '\0')
        return "trailing characters after the UTC offset";

    struct tm tm = { 0 };
    tm.tm_year = year - 1900;
    tm.tm_mon = month - 1;
    tm.tm_mday = day;
    tm.tm_hour = hour;
    tm.tm_min = minute;
    tm.tm_sec = second;
    errno = 0;
    time_t seconds = timegm (&tm);
    if (seconds == (time_t) -1 && errno == EOVERFLOW)
        return "out of range for this system's time_t";
    *ms_p = ((int64_t) seconds - offset) * 1000 + ms;
    return NULL;
}

static el_err_t
s_times_row (csv_reader_t *reader, void *arg, char **fields)
{
    s_times_ctx_t *self = arg;
    size_t line = csv_reader_line (reader);
    //  Made with the first row: the reader refuses a file without one
    if (!self->times
    &&  (!(self->times = calloc (1, sizeof *self->times))
    ||   !(self->index = strmap_new_borrowed (64))))
        return csv_reader_fail (reader, EL_ERR_NOMEM, "out of memory");
    declaration_times_t *times = self->times;
    char buffer [CSV_EXCERPT_SIZE];

    const char *ons_id = fields [0];
    if (*ons_id == '\0')
        return csv_reader_fail (reader, EL_ERR_PARSE, "empty ons_id");
    //  A replay could not tell which time to use
    size_t first_line;
    if (strmap_get (self->index, ons_id, &first_line))
        return csv_reader_fail (reader, EL_ERR_PARSE, "seat %s listed twice (first on line %zu)",
                       csv_reader_excerpt (ons_id, buffer), first_line);
    int64_t declared_at_ms;
    const char *problem = s_parse_time (fields [1], &declared_at_ms);
    if (problem)
        return csv_reader_fail (reader, EL_ERR_PARSE, "bad declared_at \"%s\": %s",
                       csv_reader_excerpt (fields [1], buffer), problem);

    declaration_time_t *entries = csv_reader_grow (times->times, &self->cap,
                                          times->n_times, sizeof *entries);
    if (!entries)
        return csv_reader_fail (reader, EL_ERR_NOMEM, "out of memory");
    times->times = entries;
    declaration_time_t *entry = &entries [times->n_times++];
    entry->declared_at_ms = declared_at_ms;
    entry->ons_id = strdup (ons_id);
    if (!entry->ons_id || strmap_put (self->index, entry->ons_id, line))
        return csv_reader_fail (reader, EL_ERR_NOMEM, "out of memory");
    return EL_OK;
}

el_err_t
declaration_times_load (const char *path, declaration_times_t **times_p,
                        char *err, size_t errlen)
{
    assert (path);
    assert (times_p);
    s_times_ctx_t ctx = { 0 };
    el_err_t rc = csv_reader_read (path, s_times_columns, 2, s_times_row, &ctx, err, errlen);
    if (rc == EL_OK) {
        *times_p = ctx.times;
        ctx.times = NULL;
    }
    strmap_destroy (&ctx.index);
    declaration_times_destroy (&ctx.times);
    return rc;
}

void
declaration_times_destroy (declaration_times_t **times_p)
{
    if (!times_p || !*times_p)
        return;
    declaration_times_t *self = *times_p;
    for (size_t i = 0; i < self->n_times; i++)
        free (self->times [i].ons_id);
    free (self->times);
    free (self);
    *times_p = NULL;
}
