/*  times_file.h: reads the project's declaration-times files
    (data/README.md format): CSV (csv_reader.h) with the header
    `ons_id,declared_at`, one row per seat, the time in ISO 8601 with a UTC
    offset. A replay uses them to declare each seat when it declared on the
    night. A malformed file is refused whole, with an error naming the file,
    the line and the reason.                                                */
#ifndef EL_TIMES_FILE_H
#define EL_TIMES_FILE_H

#include <stddef.h>
#include <stdint.h>
#include "err.h"

typedef struct {
    char *ons_id;
    int64_t declared_at_ms;     /* Unix time, milliseconds */
} declaration_time_t;

typedef struct {
    declaration_time_t *times;  /* in file order */
    size_t n_times;
} declaration_times_t;

/*  Loads a declaration-times file (`ons_id,declared_at`, ISO 8601 with a
    UTC offset such as 2017-06-08T23:52:00+01:00, or Z). Caller owns the
    result; free with declaration_times_destroy. Errors as for results_load;
    a bad time and a seat listed twice are refused.                         */
el_err_t declaration_times_load (const char *path, declaration_times_t **times_p,
                                 char *err, size_t errlen);

void declaration_times_destroy (declaration_times_t **times_p);

#endif
