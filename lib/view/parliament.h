/*  parliament.h: what the House looks like so far, from the UK summary: the
    largest party, whether the parliament is hung or a party has a majority,
    and the seats each party still needs (issue 13, README "HTTP and the
    results page"). A pure function of the summary: no I/O, no state.

    Hung or not is said as soon as it is decided: a party holds the majority
    line (it has a majority whatever follows), or no party can reach it with
    every undeclared seat (hung whatever follows). Until then it is unknown.
    A majority is seats - (seats_total - seats), the BBC's "majority of 174";
    short is majority_line - seats of the largest party.                    */
#ifndef PARLIAMENT_H
#define PARLIAMENT_H

#include <stdbool.h>
#include <jansson.h>
#include "election.pb-c.h"

typedef enum { PARLIAMENT_UNDECIDED, PARLIAMENT_HUNG, PARLIAMENT_MAJORITY } parliament_verdict_t;

typedef struct {
    unsigned seats_total, majority_line, declared;
    bool complete;                      /* declared == seats_total (> 0) */
    const Election__PartyLine *largest; /* most seats (then votes); NULL: no seat yet */
    parliament_verdict_t verdict;
    int short_of;                       /* hung: majority_line - largest's seats */
    int majority;                       /* a majority: 2 x seats - seats_total */
    char text [160];                    /* "HUNG PARLIAMENT — Con 8 short of 326" ... */
} parliament_t;

/*  The parliament as the UK summary says (national NULL: no result yet).  */
parliament_t parliament_of (const Election__NationalSummary *national);

/*  {"seats_total", "majority_line", "declared", "complete", "largest",
    "largest_name", "largest_seats", "hung" (true, false, or null until
    decided), "short" and "majority" (when complete, else null), "text",
    "needed": [{"party", "name", "seats", "needed"}] (every party with a
    seat, most first; needed = majority_line - seats, at least 0)}.
    Caller owns the result.                                                 */
json_t *parliament_json (const Election__NationalSummary *national);

#endif
