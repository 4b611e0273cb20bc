/*  declaration.h: turns a seat of a results file into the Declaration a
    count centre sends, for every sender (ingest, the benchmark), so that
    what a rush carries is decided in one place.                           */
#ifndef DECLARATION_H
#define DECLARATION_H

#include <stdint.h>
#include "election.pb-c.h"
#include "results_file.h"

typedef struct {
    const char *election_id;
    const char *source_id;
    Election__Mode mode;
    uint32_t revision;
    Election__DeclarationKind kind;     /* a rush names the winner only, no votes */
    Election__RevisionReason reason;
    int64_t declared_at_ms;
} declaration_opts_t;

/*  Fills *decl for seat. cands and pointers are the caller's storage, each
    of seat->n_candidates entries (at least 1). Every string is borrowed from
    seat and opts: decl is valid while they are, and is packed, never freed. */
void declaration_from_seat (const seat_result_t *seat, const declaration_opts_t *opts,
                            Election__Declaration *decl, Election__Candidate *cands,
                            Election__Candidate **pointers);

#endif
