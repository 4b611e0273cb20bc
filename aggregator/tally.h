/*  tally.h: the tally engine, the aggregator's core (no sockets, no I/O).

    It holds a baseline election (the previous one, per seat and party) and
    the declarations received so far, and answers at any moment, after N of
    the baseline's seats have declared:
      - per seat: winner, previous winner, hold or gain, majority, turnout,
        each candidate's share and share change against the same party in
        that seat last time (defined only where the party stood exactly once
        in the seat in both elections);
      - per scope (the UK, each country, each region): seats, change
        (gains - losses over the declared seats), votes, share, share change
        against the baseline over the same declared seats, seats declared of
        total, majority line, Butler swing between the two largest parties.
    Every total is kept incrementally: applying a declaration costs the same
    whatever the number of seats (a revision subtracts the seat's old
    contribution and adds the new one).

    Definitions are those of data/README.md.                                 */
#ifndef TALLY_H
#define TALLY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "err.h"
#include "results_file.h"

typedef struct tally tally_t;

typedef enum {
    DECL_RESULT = 0,    /* full figures: the numbers of DeclarationKind */
    DECL_RUSH = 1       /* winner only, counted for seats before the votes */
} decl_kind_t;

typedef enum {
    REVISION_NONE = 0,  /* the numbers of RevisionReason */
    REVISION_CORRECTION = 1,
    REVISION_RECOUNT = 2,
    REVISION_RETRACTION = 3
} revision_reason_t;

typedef struct {
    /* Party code the Speaker's seat counts for, in the current election and
       in the baseline; NULL keeps "Speaker" as a party of its own. The BBC
       counted both with "Con" in 2017. */
    const char *speaker_as;
    const char *baseline_speaker_as;
} tally_options_t;

/*  A declaration as the tally sees it. Pointers are borrowed for the call. */
typedef struct {
    const char *ons_id;
    uint32_t revision;              /* 1, 2, ... */
    decl_kind_t kind;
    revision_reason_t reason;       /* REVISION_RETRACTION withdraws the seat */
    uint32_t electorate;
    int64_t declared_at_ms;
    const candidate_t *candidates;  /* any order; a rush has exactly one */
    size_t n_candidates;
    /* The returning officer's totals, each optional (has_ false: not
       declared): candidates' votes must add up to valid_votes, and valid
       votes plus rejected ballots to ballot_papers, which must not exceed
       the electorate and gives the official turnout. */
    bool has_valid_votes, has_rejected_ballots, has_ballot_papers;
    uint32_t valid_votes, rejected_ballots, ballot_papers;
} declaration_t;

typedef enum {
    TALLY_ACCEPTED,     /* applied */
    TALLY_DUPLICATE,    /* same seat, revision and content as held: no change */
    TALLY_REJECTED      /* not applied: reason and text say why */
} tally_status_t;

typedef struct {
    tally_status_t status;
    el_reason_t reason;     /* EL_REASON_NONE unless rejected */
    char text[192];         /* e.g. "E14000800 rev 2: votes 70000 exceed electorate 66811" */
    size_t seat;            /* index of the seat, when it is known */
} tally_verdict_t;

/*  Builds a tally over the baseline's seats (the seats a declaration may
    name). Copies what it needs: the baseline may be freed afterwards.
    opts may be NULL. Returns NULL on allocation failure or an empty
    baseline. Caller owns the result; free with tally_destroy.               */
tally_t *tally_new (const results_t *baseline, const tally_options_t *opts);

void tally_destroy (tally_t **self_p);

/*  Validates and applies one declaration. Always fills *verdict. A rejected
    or duplicate declaration leaves the state untouched. Returns the
    verdict's status.                                                         */
tally_status_t tally_apply (tally_t *self, const declaration_t *decl, tally_verdict_t *verdict);

/*  tally_apply, for a declaration that tally_check has just accepted, with
    no tally_check or tally_apply since and decl unchanged: commits what the
    check built instead of judging it again (the same verdict, half the
    work). For anything else it is tally_apply.                               */
tally_status_t tally_apply_checked (tally_t *self, const declaration_t *decl,
                                    tally_verdict_t *verdict);

/*  Seats in the baseline, and how many are declared now.  */
size_t tally_seats_total (const tally_t *self);
size_t tally_declared (const tally_t *self);

/*  Index of a seat by ONS id, or -1. O(1).  */
long tally_seat_find (const tally_t *self, const char *ons_id);

typedef struct {
    const char *name;
    const char *party;          /* after Speaker attribution */
    uint32_t votes;
    double share;               /* percent of the seat's valid votes */
    bool has_share_change;
    double share_change;        /* percentage points */
    bool elected;               /* the winner */
    size_t party_id;            /* dense id of party (tally_party_name) */
} candidate_view_t;

typedef struct {
    const char *ons_id;
    const char *name;
    const char *country;
    const char *region;
    bool declared;              /* false: never declared, or retracted */
    uint32_t revision;          /* last revision accepted, 0 if none */
    decl_kind_t kind;
    revision_reason_t reason;
    const char *winner;         /* party code; NULL when not declared */
    const char *previous_winner;/* baseline winner's party code */
    bool gain;                  /* winner differs from previous_winner */
    int64_t majority;           /* votes, first minus second; 0 for a rush */
    uint32_t electorate;
    uint64_t valid_votes;
    double turnout;             /* percent: valid votes / electorate; 0 for a rush */
    int64_t declared_at_ms;
    uint64_t sequence;          /* the stream sequence of the last declaration
                                   accepted (tally_seat_sequence); 0: none */
    const candidate_view_t *candidates; /* most votes first */
    size_t n_candidates;
    bool has_ballot_papers;     /* the returning officer's totals, if declared */
    uint32_t ballot_papers;
    bool has_rejected_ballots;
    uint32_t rejected_ballots;
    double official_turnout;    /* percent: ballot papers / electorate; 0 without */
} seat_view_t;

/*  Fills *view with seat `index` (0 .. seats_total-1). The pointers inside
    belong to the tally and stay valid until the next tally_apply.          */
void tally_seat (const tally_t *self, size_t index, seat_view_t *view);

/*  Notes the stream sequence the seat's last accepted declaration went out
    under (the tally does not number them): it orders results in declaration
    order, the same before and after a restart.                            */
void tally_seat_sequence (tally_t *self, size_t index, uint64_t sequence);

/*  Judges a declaration exactly as tally_apply would, without applying it:
    fills *verdict and returns the status tally_apply would return now.
    When that is TALLY_ACCEPTED and preview is not NULL, fills *preview with
    the seat as it would then read (winner, shares, share changes...): its
    pointers stay valid until the next tally_check or tally_apply. Only the
    party table may grow (a new code gets its id); nothing else changes.
    The aggregator judges with it whether to hold a declaration back.       */
tally_status_t tally_check (tally_t *self, const declaration_t *decl, tally_verdict_t *verdict,
                            seat_view_t *preview);

typedef struct {
    const char *party;
    int seats;
    int change;                 /* gains - losses */
    uint64_t votes;
    double share;               /* percent of the scope's valid votes */
    double share_change;        /* against baseline share over the same seats */
} party_view_t;

typedef struct {
    const char *scope;          /* "UK", a country or a region */
    size_t declared;
    size_t seats_total;
    size_t majority_line;       /* seats_total / 2 + 1 */
    uint64_t total_votes;
    const party_view_t *parties;/* seats desc, then votes desc, then name;
                                   parties with seats, change or votes */
    size_t n_parties;
    bool has_swing;
    double swing;               /* Butler swing from swing_from to swing_to, points */
    const char *swing_from;
    const char *swing_to;
} scope_view_t;

/*  Scopes: index 0 is the UK, then each country, then each region that is
    not also a country, in order of first appearance in the baseline.       */
size_t tally_scope_count (const tally_t *self);

/*  Fills *view with scope `index`. The pointers inside belong to the tally
    and stay valid until the next call of tally_scope or tally_apply.       */
void tally_scope (tally_t *self, size_t index, scope_view_t *view);

/*  The name of scope `index` ("UK", "Scotland", "East"...), or NULL. O(1). */
const char *tally_scope_name (const tally_t *self, size_t index);

/*  The scopes a seat counts in (UK, its country, its region if distinct):
    writes up to 3 indexes into out and returns how many.                   */
size_t tally_seat_scopes (const tally_t *self, size_t seat, size_t out[3]);

/*  Index of a scope by name ("UK", "Scotland", "East"...), or -1.  */
long tally_scope_find (const tally_t *self, const char *name);

/*  Parties have dense ids 0 .. tally_party_count-1, given in order of first
    appearance (the baseline's parties first), so a reader can keep arrays
    indexed by party id. A declaration naming a new party takes an id; a
    party that no baseline seat and no held declaration names any more (a
    revision or a retraction dropped it) is forgotten and its id given to
    the next new party. So the count is the most parties named at once, not
    every code ever sent: a reader that keeps figures per id across
    declarations must look the party up again by name. The baseline's
    parties are never forgotten.                                             */
size_t tally_party_count (const tally_t *self);

/*  The code of party `id` (after Speaker attribution), or NULL (no such
    id, or an id free now). The string belongs to the tally and lives as
    long as the party. O(1).                                                */
const char *tally_party_name (const tally_t *self, size_t id);

/*  The id of a party code, or -1. O(1).  */
long tally_party_find (const tally_t *self, const char *code);

/*  A seat's baseline result (the previous election), as the seat-context
    views and the projection need it.                                       */
typedef struct {
    size_t party_id;
    const char *party;          /* after baseline Speaker attribution */
    uint32_t votes;
    double share;               /* percent of the seat's baseline valid votes */
} baseline_party_t;

typedef struct {
    const baseline_party_t *parties;    /* most votes first; a party code
                                           that stood twice appears twice */
    size_t n_parties;
    uint64_t valid_votes;
    const char *winner;         /* party code; NULL: no baseline figures */
    size_t winner_id;           /* valid when winner is not NULL */
    int64_t majority;           /* votes, first minus second */
    uint32_t electorate;        /* baseline electorate; 0 if not known */
    bool has_turnout;           /* electorate known and non-zero */
    double turnout;             /* percent: valid votes / electorate */
} seat_baseline_t;

/*  Fills *view with the baseline of seat `index` (0 .. seats_total-1; out
    of range: an empty view). O(1): computed once by tally_new. The pointers
    inside belong to the tally and live as long as it (the baseline never
    changes).                                                               */
void tally_seat_baseline (const tally_t *self, size_t index, seat_baseline_t *view);

#endif
