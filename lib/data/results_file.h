/*  results_file.h: reads and writes the project's results files (data/README.md
    format), and the nominations files that share their columns.

    A results file is CSV (csv_reader.h) with the header
        ons_id,constituency,country,region,electorate,candidate,party,votes
    one row per candidate (or per party total), the rows of a seat
    contiguous. This module checks the values and turns them into plain
    structs. A malformed file is refused whole, with an error naming the
    file, the line and the reason.                                          */
#ifndef EL_RESULTS_FILE_H
#define EL_RESULTS_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdint.h>
#include "err.h"
#include "times_file.h"

typedef struct {
    char *name;         /* as on the ballot; "" in a party-total file */
    char *party;        /* short party code */
    uint32_t votes;
    bool elected;       /* never set by the loader; used by senders to break ties */
} candidate_t;

typedef struct {
    char *ons_id;
    char *name;
    char *country;
    char *region;
    uint32_t electorate;
    candidate_t *candidates;
    size_t n_candidates;
} seat_result_t;

typedef struct {
    seat_result_t *seats;   /* in file order */
    size_t n_seats;
} results_t;

/*  Loads a results file. On success *results_p is set (caller owns it; free
    with results_destroy). On failure returns EL_ERR_IO, EL_ERR_PARSE or
    EL_ERR_NOMEM and writes "FILE:LINE: reason" into err (errlen bytes; may
    be NULL). Refused, besides what csv_reader_read refuses: an empty ons_id
    or party, non-numeric or out-of-range votes or electorate, a seat whose
    electorate (or name, country, region) differs between its rows, a seat
    whose rows are not contiguous.                                           */
el_err_t results_load (const char *path, results_t **results_p, char *err, size_t errlen);

/*  Loads a nominations file: the same columns without `votes` (one row
    per nominated candidate; electorate is the register's), checked alike.
    Every candidate's votes are 0.                                          */
el_err_t results_load_nominations (const char *path, results_t **results_p, char *err,
                                   size_t errlen);

/*  Frees the results and sets *results_p to NULL. NULL-safe.  */
void results_destroy (results_t **results_p);

/*  The seat with this ONS id, or NULL. Linear; for tests and tools.  */
const seat_result_t *results_find (const results_t *results, const char *ons_id);

/*  The order a night declared in: fills order [0 .. results->n_seats-1]
    with seat indexes of results, by declared_at in times (equal times in
    file order), then the seats times does not name, in file order. at_ms
    may be NULL; else at_ms [i] is the time of seat order [i] (INT64_MAX:
    none). times may be NULL (file order). Both arrays are the caller's.
    Returns EL_ERR_NOMEM on allocation failure.                             */
el_err_t results_declaration_order (const results_t *results, const declaration_times_t *times,
                                    size_t *order, int64_t *at_ms);

/*  Writing the same format (fields quoted only where they need it):
    RESULTS_WITH_VOTES a results file, RESULTS_EMPTY_VOTES a results file
    whose votes are left for a person to fill in (ingest template),
    RESULTS_NO_VOTES a nominations file. The header, then a seat's rows.    */
typedef enum {
    RESULTS_WITH_VOTES,
    RESULTS_EMPTY_VOTES,
    RESULTS_NO_VOTES
} results_columns_t;

void results_write_header (FILE *out, results_columns_t columns);
void results_write_seat (FILE *out, const seat_result_t *seat, results_columns_t columns);

#endif
