/*  declaration.c: see declaration.h.  */
#include "declaration.h"
#include <stdbool.h>

void
declaration_from_seat (const seat_result_t *seat, const declaration_opts_t *opts,
                       Election__Declaration *decl, Election__Candidate *cands,
                       Election__Candidate **pointers)
{
    bool rush = opts->kind == ELECTION__DECLARATION_KIND__KIND_RUSH;
    size_t n = 0, winner = 0;
    for (size_t i = 0; i < seat->n_candidates; i++)
        if (seat->candidates [i].votes > seat->candidates [winner].votes)
            winner = i;
    for (size_t i = 0; i < seat->n_candidates; i++) {
        //  A rush names the winner only, before the figures are read out
        if (rush && i != winner)
            continue;
        election__candidate__init (&cands [n]);
        cands [n].name = seat->candidates [i].name;
        cands [n].party = seat->candidates [i].party;
        cands [n].has_votes = true;
        cands [n].votes = rush ? 0 : seat->candidates [i].votes;
        pointers [n] = &cands [n];
        n++;
    }
    election__declaration__init (decl);
    decl->election_id = (char *) opts->election_id;
    decl->ons_id = seat->ons_id;
    decl->has_revision = true;
    decl->revision = opts->revision;
    decl->has_electorate = true;
    decl->electorate = seat->electorate;
    decl->n_candidates = n;
    decl->candidates = pointers;
    decl->has_declared_at_ms = true;
    decl->declared_at_ms = opts->declared_at_ms;
    decl->source_id = (char *) opts->source_id;
    decl->has_mode = true;
    decl->mode = opts->mode;
    decl->has_kind = true;
    decl->kind = opts->kind;
    decl->has_reason = true;
    decl->reason = opts->reason;
}
