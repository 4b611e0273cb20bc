/*  exit_poll_file.h: an exit poll as an editor writes it (ingest
    exit-poll FILE): a CSV with the header `party,seats`, one row per party,
    e.g. `Con,314`. Checked row by row, blaming "FILE:LINE: reason": a party
    code (one the register has, where a register is given: "did you mean"
    otherwise), not twice, whole seats, adding up to no more than the
    seats there are. The aggregator checks it again (desk.h): this is for
    the editor, before anything is sent.                                    */
#ifndef EL_EXIT_POLL_FILE_H
#define EL_EXIT_POLL_FILE_H

#include <stddef.h>
#include <stdint.h>
#include "err.h"
#include "parties.h"

#define EXIT_POLL_MAX_CODE 32       /* bytes of a party code */

typedef struct {
    char party [EXIT_POLL_MAX_CODE + 1];
    uint32_t seats;
} exit_poll_row_t;

typedef struct {
    exit_poll_row_t *rows;
    size_t n_rows;
    uint64_t seats;                 /* their sum */
} exit_poll_t;

/*  Loads and checks the file at path. parties may be NULL (any code goes);
    seats_total 0: the sum is not checked. Returns EL_OK with *self_p (free
    with exit_poll_destroy), or an error with "PATH:LINE: reason" in err.   */
el_err_t exit_poll_load (const char *path, const parties_t *parties, size_t seats_total,
                         exit_poll_t **self_p, char *err, size_t errlen);

void exit_poll_destroy (exit_poll_t **self_p);

#endif
