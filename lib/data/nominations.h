/*  nominations.h: who stands where, known before the night, and the
    checks of a declaration against it.

    A nominations file has the results file's columns without `votes`
        ons_id,constituency,country,region,electorate,candidate,party
    one row per nominated candidate, the rows of a seat contiguous;
    `electorate` is the register's (results_file.h reads it). Every
    candidate has a name, once per seat.

    nominations_check says whether a declaration's candidates are the seat's
    nominated ones, each for the party nominated, all of them in a full
    result, under the seat's own name and near the register's electorate,
    and when not, why, in words a count-centre clerk can act on ("Kelvin
    Hopkins stands in E14000800 Luton North, not in E14000801 Luton South").
    The aggregator refuses what fails; ingest checks the same before it
    sends. Pure: no I/O after loading.                                      */
#ifndef EL_NOMINATIONS_H
#define EL_NOMINATIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "err.h"
#include "parties.h"
#include "results_file.h"

typedef struct nominations nominations_t;

/*  Loads a nominations file. On success sets *self_p (caller owns it; free
    with nominations_destroy). On failure returns EL_ERR_IO, EL_ERR_PARSE or
    EL_ERR_NOMEM with "FILE:LINE: reason" in err. Refused besides what
    results_load_nominations refuses: a candidate without a name, or named
    twice in a seat.                                                         */
el_err_t nominations_load (const char *path, nominations_t **self_p, char *err, size_t errlen);

/*  The same from seats already in memory (the candidates' votes are
    ignored): takes *seats_p (NULLs it) whatever happens. EL_ERR_PARSE with
    the reason in err as nominations_load says, or EL_ERR_NOMEM.             */
el_err_t nominations_from (results_t **seats_p, nominations_t **self_p, char *err, size_t errlen);

void nominations_destroy (nominations_t **self_p);

/*  Seats in file order, and a seat by ONS id (NULL if none, O(1)). The
    seats belong to the nominations; candidates' votes are 0.              */
size_t nominations_count (const nominations_t *self);
const seat_result_t *nominations_at (const nominations_t *self, size_t index);
const seat_result_t *nominations_seat (const nominations_t *self, const char *ons_id);

/*  True if two names are the same but for case, spaces and punctuation
    ("luton  north" is "Luton North"): how a seat's name is compared.       */
bool nominations_same_name (const char *a, const char *b);

/*  A declaration as the checks see it; pointers borrowed for the call.  */
typedef struct {
    const char *ons_id;
    const char *constituency;       /* the seat's name as sent; NULL or "": not sent */
    uint32_t electorate;            /* 0: not sent (a rush may leave it out) */
    bool rush;                      /* names the winner only: no one is missing */
    const candidate_t *candidates;
    size_t n_candidates;
} nominations_claim_t;

/*  Checks claim against the nominations of its seat: every candidate
    nominated there (else, where he is nominated, if anywhere), for the party
    nominated (parties, which may be NULL, says which code a spelling such as
    "Labour" meant), every nominated candidate present in a full result, the
    constituency's name, the electorate within tolerance_pct percent of the
    register's. Returns EL_REASON_NONE, or the first failure with a sentence
    for the clerk in text (size bytes). A seat without nominations fails as
    EL_REASON_NOT_NOMINATED.                                                 */
el_reason_t nominations_check (const nominations_t *self, const parties_t *parties,
                               const nominations_claim_t *claim, double tolerance_pct,
                               char *text, size_t size);

#endif
