/*  intake.h: turns one raw declaration frame from the wire into a tally
    declaration, refusing what no count centre should send: a frame that
    does not decode, the wrong mode or election, oversized or non-UTF-8
    strings, too many candidates, an absurd electorate or revision. What
    passes is then judged by the tally (seat known, figures consistent...). */
#ifndef INTAKE_H
#define INTAKE_H

#include <stddef.h>
#include <stdint.h>
#include "election.pb-c.h"
#include "tally.h"

#define INTAKE_MAX_CANDIDATES   100
#define INTAKE_MAX_NAME         200     /* bytes of a candidate's name */
#define INTAKE_MAX_CODE         64      /* bytes of an id or party code */
#define INTAKE_MAX_ELECTORATE   10000000
#define INTAKE_MAX_REVISION     1000000
#define INTAKE_MAX_MESSAGE      (256 * 1024)    /* ZMQ_MAXMSGSIZE of the ingest socket */

#define INTAKE_ARENA            4096    /* bytes a decoded declaration takes without malloc */

typedef struct {
    Election__Declaration *message;     /* decoded; owned */
    candidate_t *candidates;            /* views into message; owned array */
    declaration_t decl;                 /* what the tally applies */
    const void *bytes;                  /* the frame it came in, as it came (borrowed) */
    size_t size;
    //  What intake_decode decodes into: a declaration of ordinary size
    //  (five candidates take about 700 bytes) needs no malloc, and is
    //  released at once, not piece by piece. Not to be copied once decoded.
    size_t arena_used;
    void *overflow;                     /* blocks past the arena, chained */
    _Alignas (16) uint8_t arena [INTAKE_ARENA];
} intake_t;

/*  Decodes and checks bytes. Returns EL_REASON_NONE and fills *intake (free
    with intake_release), or a reason with text written to text (size bytes)
    and *intake empty. request_id is set whenever the frame decoded.         */
el_reason_t intake_decode (const void *bytes, size_t size, Election__Mode mode,
                           const char *election_id, intake_t *intake,
                           uint64_t *request_id, char *text, size_t text_size);

/*  Converts an already decoded Declaration (from a journal) without the mode
    and election checks. Borrows message: release does not free it.          */
el_reason_t intake_from_message (Election__Declaration *message, intake_t *intake,
                                 char *text, size_t text_size);

void intake_release (intake_t *intake);

#endif
