/*  tally.c: the tally engine (see tally.h).

    Every figure a view shows is kept up to date as declarations arrive, so
    that applying one costs O(candidates) whatever the number of seats:
      - seats, scopes and parties are found through string maps (strmap)
        whose keys are borrowed from the names the tally keeps;
      - parties get a dense id; each scope keeps an accumulator per party id
        (seats, change, votes, and baseline votes over the seats that have
        full figures), grown lazily so a new party costs nothing elsewhere;
      - a party is counted by the baseline seats and held candidates that
        name it; when none does any more (a revision dropped it) its code is
        freed and its id reused, so a sender inventing parties cannot make
        the tally grow, nor every scope's view slower, without bound;
      - a seat's contribution to its scopes is added when it declares and
        subtracted again when a revision replaces it or a retraction
        withdraws it (s_seat_contribute with sign +1 / -1);
      - a seat's view (winner, majority, shares...) is computed once, when
        the declaration is applied.
    tally_apply validates everything and allocates everything before it
    touches the state, so a rejection (or an allocation failure) leaves the
    tally exactly as it was.                                                 */

#include <assert.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tally.h"
#include "strmap.h"

#define S_UK_SCOPE "UK"
#define S_SPEAKER "Speaker"
#define S_NO_SEAT SIZE_MAX


//  ---------------------------------------------------------------------
//  Internal structures

//  One party's figures within one scope.
typedef struct {
    int seats;
    int change;                 //  gains - losses
    uint64_t votes;
    uint64_t base_votes;        //  baseline votes over the seats with figures
} s_acc_t;

typedef struct {
    char *name;
    size_t seats_total;
    size_t declared;
    uint64_t total_votes;
    uint64_t base_total;        //  baseline votes over the same seats
    s_acc_t *acc;               //  indexed by party id, `cap` entries
    party_view_t *view;         //  filled by tally_scope, `cap` entries
    size_t cap;
} s_scope_t;

//  One party of a seat in the baseline.
typedef struct {
    size_t party;               //  party id, after baseline Speaker attribution
    uint32_t votes;
} s_base_t;

//  A held declaration's candidate, as sent (for duplicate detection).
typedef struct {
    char *name;
    char *party_raw;            //  party code as sent ("Speaker" stays)
    uint32_t votes;
    bool elected;
    size_t party;               //  party id, after Speaker attribution
} s_cand_t;

//  What a seat's accepted declaration derives to.
typedef struct {
    s_cand_t *cands;            //  canonical order (name, party, votes, elected)
    size_t n_cands;
    candidate_view_t *views;    //  most votes first; names point into cands
    size_t *view_party;         //  party id of each view line
    size_t winner;              //  party id
    int64_t majority;
    uint64_t valid_votes;
    double turnout;
} s_held_t;

typedef struct {
    char *ons_id;
    char *name;
    char *country;
    char *region;
    size_t scopes [3];
    size_t n_scopes;
    s_base_t *base;
    size_t n_base;
    uint64_t base_total;
    size_t prev_winner;         //  party id, or S_NO_SEAT if no baseline figures
    baseline_party_t *base_view;//  the baseline as tally_seat_baseline shows it
    int64_t base_majority;
    uint32_t base_electorate;

    //  The last accepted declaration (or retraction)
    uint32_t revision;          //  0: never declared
    bool declared;
    decl_kind_t kind;
    revision_reason_t reason;
    uint32_t electorate;
    int64_t declared_at_ms;
    uint64_t sequence;          //  the stream's, as tally_seat_sequence set it
    s_held_t held;              //  empty unless declared
    bool has_ballot_papers;     //  the returning officer's totals, as declared
    uint32_t ballot_papers;
    bool has_rejected_ballots;
    uint32_t rejected_ballots;
} s_seat_t;

struct tally {
    char *speaker_as;           //  NULL: "Speaker" is a party of its own
    char *baseline_speaker_as;

    s_seat_t *seats;
    size_t n_seats;
    size_t declared;
    strmap_t *seat_map;

    s_scope_t *scopes;
    size_t n_scopes;
    size_t scope_cap;
    strmap_t *country_map;      //  country name -> scope
    strmap_t *region_map;       //  region name (not a country of its own) -> scope

    char **parties;             //  party id -> code (owned); NULL: a free id
    size_t *party_refs;         //  party id -> baseline seats and held candidates naming it
    size_t *free_ids;           //  ids of parties freed, to reuse
    size_t n_free;
    size_t n_parties;           //  ids in use or free: 0 .. n_parties-1
    size_t party_cap;
    strmap_t *party_map;
    //  Scratch per party id for share changes; all zero between calls
    uint32_t *scratch_cur;
    uint32_t *scratch_base;
    uint32_t *scratch_base_votes;
    s_held_t preview;           //  what tally_check built last; freed by the next call
    const declaration_t *checked;   //  what preview was built for (tally_apply_checked)
};


//  ---------------------------------------------------------------------
//  Parties and scopes

//  The party id of a code, adding the party if new, and counts one more
//  reference to it (s_party_release gives it back). Returns EL_ERR_NOMEM on
//  allocation failure.
static el_err_t
s_party_intern (tally_t *self, const char *code, size_t *id)
{
    if (strmap_get (self->party_map, code, id)) {
        self->party_refs [*id]++;
        return EL_OK;
    }
    if (self->n_free == 0 && self->n_parties == self->party_cap) {
        size_t cap = self->party_cap? self->party_cap * 2: 32;
        char **parties = realloc (self->parties, cap * sizeof (char *));
        if (!parties)
            return EL_ERR_NOMEM;
        self->parties = parties;
        size_t *refs = realloc (self->party_refs, cap * sizeof (size_t));
        if (!refs)
            return EL_ERR_NOMEM;
        self->party_refs = refs;
        size_t *free_ids = realloc (self->free_ids, cap * sizeof (size_t));
        if (!free_ids)
            return EL_ERR_NOMEM;
        self->free_ids = free_ids;
        //  Each array is stored as soon as it has grown, so that a later
        //  failure leaves no dangling pointer (party_cap stays the minimum)
        size_t extra = (cap - self->party_cap) * sizeof (uint32_t);
        uint32_t *grown = realloc (self->scratch_cur, cap * sizeof (uint32_t));
        if (!grown)
            return EL_ERR_NOMEM;
        memset (grown + self->party_cap, 0, extra);
        self->scratch_cur = grown;
        grown = realloc (self->scratch_base, cap * sizeof (uint32_t));
        if (!grown)
            return EL_ERR_NOMEM;
        memset (grown + self->party_cap, 0, extra);
        self->scratch_base = grown;
        grown = realloc (self->scratch_base_votes, cap * sizeof (uint32_t));
        if (!grown)
            return EL_ERR_NOMEM;
        memset (grown + self->party_cap, 0, extra);
        self->scratch_base_votes = grown;
        self->party_cap = cap;
    }
    char *copy = strdup (code);
    if (!copy)
        return EL_ERR_NOMEM;
    size_t fresh = self->n_free? self->free_ids [self->n_free - 1]: self->n_parties;
    if (strmap_put (self->party_map, copy, fresh)) {
        free (copy);
        return EL_ERR_NOMEM;
    }
    if (self->n_free)
        self->n_free--;
    else
        self->n_parties++;
    self->parties [fresh] = copy;
    self->party_refs [fresh] = 1;
    *id = fresh;
    return EL_OK;
}

//  Gives back one reference to a party: the last one frees it. Its
//  accumulators are all zero by then (no seat contributes to them).
static void
s_party_release (tally_t *self, size_t id)
{
    assert (id < self->n_parties && self->party_refs [id]);
    if (--self->party_refs [id])
        return;
    strmap_remove (self->party_map, self->parties [id]);
    free (self->parties [id]);
    self->parties [id] = NULL;
    self->free_ids [self->n_free++] = id;
}

//  The party code a candidate counts for: "Speaker" may be attributed.
static const char *
s_attribute (const char *party, const char *speaker_as)
{
    if (speaker_as && strcmp (party, S_SPEAKER) == 0)
        return speaker_as;
    return party;
}

//  Makes sure the scope has an accumulator for every party id known now.
static el_err_t
s_scope_reserve (s_scope_t *scope, size_t n_parties)
{
    if (scope->cap >= n_parties)
        return EL_OK;
    size_t cap = scope->cap? scope->cap: 16;
    while (cap < n_parties)
        cap *= 2;
    s_acc_t *acc = realloc (scope->acc, cap * sizeof (s_acc_t));
    if (!acc)
        return EL_ERR_NOMEM;
    memset (acc + scope->cap, 0, (cap - scope->cap) * sizeof (s_acc_t));
    scope->acc = acc;
    party_view_t *view = realloc (scope->view, cap * sizeof (party_view_t));
    if (!view)
        return EL_ERR_NOMEM;   //  acc stays larger than needed: harmless
    scope->view = view;
    scope->cap = cap;
    return EL_OK;
}

static void
s_add_u64 (uint64_t *total, uint64_t amount, int sign)
{
    if (sign > 0)
        *total += amount;
    else
        *total -= amount;
}

//  Adds (sign +1) or removes (sign -1) a declared seat's contribution to
//  each of its scopes. The scopes hold accumulators for every party id the
//  seat names (reserved before the seat was committed).
static void
s_seat_contribute (tally_t *self, const s_seat_t *seat, int sign)
{
    assert (seat->declared);
    const s_held_t *held = &seat->held;
    for (size_t i = 0; i < seat->n_scopes; i++) {
        s_scope_t *scope = &self->scopes [seat->scopes [i]];
        if (sign > 0)
            scope->declared++;
        else
            scope->declared--;
        scope->acc [held->winner].seats += sign;
        if (held->winner != seat->prev_winner) {
            scope->acc [held->winner].change += sign;
            if (seat->prev_winner != S_NO_SEAT)
                scope->acc [seat->prev_winner].change -= sign;
        }
        if (seat->kind == DECL_RUSH)
            continue;       //  a rush counts for seats only, not for votes
        for (size_t c = 0; c < held->n_cands; c++)
            s_add_u64 (&scope->acc [held->cands [c].party].votes,
                       held->cands [c].votes, sign);
        s_add_u64 (&scope->total_votes, held->valid_votes, sign);
        for (size_t b = 0; b < seat->n_base; b++)
            s_add_u64 (&scope->acc [seat->base [b].party].base_votes,
                       seat->base [b].votes, sign);
        s_add_u64 (&scope->base_total, seat->base_total, sign);
    }
}

//  Frees what a declaration derived to, and gives back its references to
//  parties (self NULL: the whole tally is going, nothing to give back to)
static void
s_held_free (tally_t *self, s_held_t *held)
{
    for (size_t i = 0; i < held->n_cands; i++) {
        free (held->cands [i].name);
        free (held->cands [i].party_raw);
        if (self && held->cands [i].party != S_NO_SEAT)
            s_party_release (self, held->cands [i].party);
    }
    free (held->cands);
    free (held->views);
    free (held->view_party);
    memset (held, 0, sizeof (s_held_t));
}


//  ---------------------------------------------------------------------
//  Construction

static el_err_t
s_scope_add (tally_t *self, const char *name, strmap_t *map, size_t *index)
{
    if (self->n_scopes == self->scope_cap) {
        size_t cap = self->scope_cap? self->scope_cap * 2: 16;
        s_scope_t *scopes = realloc (self->scopes, cap * sizeof (s_scope_t));
        if (!scopes)
            return EL_ERR_NOMEM;
        self->scopes = scopes;
        self->scope_cap = cap;
    }
    s_scope_t *scope = &self->scopes [self->n_scopes];
    memset (scope, 0, sizeof (s_scope_t));
    scope->name = strdup (name);
    if (!scope->name)
        return EL_ERR_NOMEM;
    *index = self->n_scopes++;
    if (map && strmap_put (map, scope->name, *index))
        return EL_ERR_NOMEM;
    return EL_OK;
}

static int
s_base_view_cmp (const void *a, const void *b)
{
    const baseline_party_t *x = a;
    const baseline_party_t *y = b;
    if (x->votes != y->votes)
        return x->votes > y->votes? -1: 1;
    return strcmp (x->party, y->party);
}

//  Derives the seat's baseline view once: it never changes, so the readers
//  (seat context, the projection) get it in O(1).
static el_err_t
s_seat_base_view (tally_t *self, s_seat_t *seat, uint32_t electorate)
{
    seat->base_electorate = electorate;
    if (seat->n_base == 0)
        return EL_OK;
    seat->base_view = calloc (seat->n_base, sizeof (baseline_party_t));
    if (!seat->base_view)
        return EL_ERR_NOMEM;
    for (size_t b = 0; b < seat->n_base; b++) {
        baseline_party_t *line = &seat->base_view [b];
        line->party_id = seat->base [b].party;
        line->party = self->parties [line->party_id];
        line->votes = seat->base [b].votes;
        line->share = seat->base_total?
            100.0 * (double) line->votes / (double) seat->base_total: 0.0;
    }
    qsort (seat->base_view, seat->n_base, sizeof (baseline_party_t), s_base_view_cmp);
    seat->base_majority = seat->n_base == 1? (int64_t) seat->base_view [0].votes:
        (int64_t) seat->base_view [0].votes - (int64_t) seat->base_view [1].votes;
    return EL_OK;
}

//  Copies one baseline seat: names, scopes, parties and previous winner.
static el_err_t
s_seat_init (tally_t *self, s_seat_t *seat, const seat_result_t *source)
{
    seat->ons_id = strdup (source->ons_id);
    seat->name = strdup (source->name? source->name: "");
    seat->country = strdup (source->country? source->country: "");
    seat->region = strdup (source->region? source->region: "");
    if (!seat->ons_id || !seat->name || !seat->country || !seat->region)
        return EL_ERR_NOMEM;
    seat->prev_winner = S_NO_SEAT;
    if (source->n_candidates) {
        seat->base = calloc (source->n_candidates, sizeof (s_base_t));
        if (!seat->base)
            return EL_ERR_NOMEM;
    }
    uint32_t best = 0;
    for (size_t i = 0; i < source->n_candidates; i++) {
        const candidate_t *cand = &source->candidates [i];
        if (!cand->party)
            return EL_ERR_INVALID;
        const char *code = s_attribute (cand->party, self->baseline_speaker_as);
        size_t id;
        if (s_party_intern (self, code, &id))
            return EL_ERR_NOMEM;
        seat->base [i].party = id;
        seat->base [i].votes = cand->votes;
        seat->base_total += cand->votes;
        //  No baseline has had a tie; the first of equals wins, for determinism
        if (seat->prev_winner == S_NO_SEAT || cand->votes > best) {
            seat->prev_winner = id;
            best = cand->votes;
        }
        seat->n_base++;
    }
    return s_seat_base_view (self, seat, source->electorate);
}

tally_t *
tally_new (const results_t *baseline, const tally_options_t *opts)
{
    if (!baseline || baseline->n_seats == 0 || !baseline->seats)
        return NULL;
    tally_t *self = calloc (1, sizeof (tally_t));
    if (!self)
        return NULL;
    size_t n_seats = baseline->n_seats;
    //  An empty code would make the Speaker's votes anonymous: treat as NULL
    if (opts && opts->speaker_as && *opts->speaker_as
    && !(self->speaker_as = strdup (opts->speaker_as)))
        goto failed;
    if (opts && opts->baseline_speaker_as && *opts->baseline_speaker_as
    && !(self->baseline_speaker_as = strdup (opts->baseline_speaker_as)))
        goto failed;

    self->seats = calloc (n_seats, sizeof (s_seat_t));
    if (!self->seats
    ||  !(self->seat_map = strmap_new_borrowed (n_seats))
    ||  !(self->country_map = strmap_new_borrowed (8))
    ||  !(self->region_map = strmap_new_borrowed (16))
    ||  !(self->party_map = strmap_new_borrowed (64)))
        goto failed;

    for (size_t i = 0; i < n_seats; i++) {
        const seat_result_t *source = &baseline->seats [i];
        if (!source->ons_id)
            goto failed;
        size_t other;
        if (strmap_get (self->seat_map, source->ons_id, &other))
            goto failed;        //  two seats under one id: not a baseline
        s_seat_t *seat = &self->seats [i];
        self->n_seats++;        //  counted first so that destroy frees it
        if (s_seat_init (self, seat, source)
        ||  strmap_put (self->seat_map, seat->ons_id, i))
            goto failed;
    }

    //  Scopes: the UK, then countries, then regions, by first appearance
    size_t uk;
    if (s_scope_add (self, S_UK_SCOPE, NULL, &uk))
        goto failed;
    for (size_t i = 0; i < n_seats; i++) {
        s_seat_t *seat = &self->seats [i];
        size_t index;
        if (!strmap_get (self->country_map, seat->country, &index)
        &&  s_scope_add (self, seat->country, self->country_map, &index))
            goto failed;
        seat->scopes [0] = uk;
        seat->scopes [1] = index;
        seat->n_scopes = 2;
    }
    for (size_t i = 0; i < n_seats; i++) {
        s_seat_t *seat = &self->seats [i];
        if (strcmp (seat->region, seat->country) == 0)
            continue;
        size_t index;
        if (!strmap_get (self->region_map, seat->region, &index)
        &&  s_scope_add (self, seat->region, self->region_map, &index))
            goto failed;
        seat->scopes [seat->n_scopes++] = index;
    }
    for (size_t i = 0; i < n_seats; i++)
        for (size_t s = 0; s < self->seats [i].n_scopes; s++)
            self->scopes [self->seats [i].scopes [s]].seats_total++;
    for (size_t s = 0; s < self->n_scopes; s++)
        if (s_scope_reserve (&self->scopes [s], self->n_parties))
            goto failed;
    return self;

failed:
    tally_destroy (&self);
    return NULL;
}

void
tally_destroy (tally_t **self_p)
{
    assert (self_p);
    tally_t *self = *self_p;
    if (!self)
        return;
    for (size_t i = 0; i < self->n_seats; i++) {
        s_seat_t *seat = &self->seats [i];
        free (seat->ons_id);
        free (seat->name);
        free (seat->country);
        free (seat->region);
        free (seat->base);
        free (seat->base_view);
        s_held_free (NULL, &seat->held);
    }
    free (self->seats);
    for (size_t s = 0; s < self->n_scopes; s++) {
        free (self->scopes [s].name);
        free (self->scopes [s].acc);
        free (self->scopes [s].view);
    }
    free (self->scopes);
    for (size_t p = 0; p < self->n_parties; p++)
        free (self->parties [p]);
    free (self->parties);
    free (self->party_refs);
    free (self->free_ids);
    free (self->scratch_cur);
    free (self->scratch_base);
    free (self->scratch_base_votes);
    s_held_free (NULL, &self->preview);
    strmap_destroy (&self->seat_map);
    strmap_destroy (&self->country_map);
    strmap_destroy (&self->region_map);
    strmap_destroy (&self->party_map);
    free (self->speaker_as);
    free (self->baseline_speaker_as);
    free (self);
    *self_p = NULL;
}


//  ---------------------------------------------------------------------
//  Applying a declaration

static const char *
s_str (const char *text)
{
    return text? text: "";
}

//  Fills a verdict: "ONS_ID rev N: message".
static tally_status_t
s_verdict (tally_verdict_t *verdict, tally_status_t status, el_reason_t reason,
           const declaration_t *decl, const char *format, ...)
    __attribute__ ((format (printf, 5, 6)));

static tally_status_t
s_verdict (tally_verdict_t *verdict, tally_status_t status, el_reason_t reason,
           const declaration_t *decl, const char *format, ...)
{
    verdict->status = status;
    verdict->reason = reason;
    int used = snprintf (verdict->text, sizeof (verdict->text), "%.40s rev %u: ",
                         decl->ons_id? decl->ons_id: "(no seat)", decl->revision);
    if (used < 0)
        used = 0;
    va_list args;
    va_start (args, format);
    vsnprintf (verdict->text + used, sizeof (verdict->text) - (size_t) used, format, args);
    va_end (args);
    return status;
}

//  The canonical order of candidates: name, party, votes, elected. Two
//  declarations hold the same candidates iff their canonical lists match.
static int
s_canon_cmp (const char *name_a, const char *party_a, uint32_t votes_a, bool elected_a,
             const char *name_b, const char *party_b, uint32_t votes_b, bool elected_b)
{
    int rc = strcmp (name_a, name_b);
    if (rc == 0)
        rc = strcmp (party_a, party_b);
    if (rc == 0)
        rc = (votes_a > votes_b) - (votes_a < votes_b);
    if (rc == 0)
        rc = (int) elected_a - (int) elected_b;
    return rc;
}

static int
s_candidate_ptr_cmp (const void *a, const void *b)
{
    const candidate_t *x = *(const candidate_t * const *) a;
    const candidate_t *y = *(const candidate_t * const *) b;
    return s_canon_cmp (s_str (x->name), x->party, x->votes, x->elected,
                        s_str (y->name), y->party, y->votes, y->elected);
}

//  Most votes first; the winner (flagged when tied) leads; then by name.
static int
s_cand_rank_cmp (const void *a, const void *b)
{
    const s_cand_t *x = *(const s_cand_t * const *) a;
    const s_cand_t *y = *(const s_cand_t * const *) b;
    if (x->votes != y->votes)
        return x->votes > y->votes? -1: 1;
    if (x->elected != y->elected)
        return x->elected? -1: 1;
    int rc = strcmp (x->name, y->name);
    return rc? rc: strcmp (x->party_raw, y->party_raw);
}

//  The returning officer's totals, where declared, against the candidates'
//  votes (total): each mismatch is a misread figure somewhere
static tally_status_t
s_check_totals (const declaration_t *decl, uint64_t total, tally_verdict_t *verdict)
{
    if (decl->has_valid_votes && decl->valid_votes != total)
        return s_verdict (verdict, TALLY_REJECTED, EL_REASON_VALID_VOTES_MISMATCH, decl,
                          "the candidates' votes add up to %llu, not the %u valid votes "
                          "declared: check each figure", (unsigned long long) total,
                          decl->valid_votes);
    if (!decl->has_ballot_papers)
        return TALLY_ACCEPTED;
    if (decl->ballot_papers > decl->electorate)
        return s_verdict (verdict, TALLY_REJECTED, EL_REASON_VOTES_EXCEED_ELECTORATE, decl,
                          "ballot papers %u exceed electorate %u",
                          decl->ballot_papers, decl->electorate);
    uint64_t rejected = decl->has_rejected_ballots? decl->rejected_ballots: 0;
    if (decl->has_rejected_ballots? total + rejected != decl->ballot_papers:
                                    total > decl->ballot_papers)
        return s_verdict (verdict, TALLY_REJECTED, EL_REASON_BALLOT_PAPERS_MISMATCH, decl,
                          "valid votes %llu + rejected ballots %llu make %llu, not the %u "
                          "ballot papers declared: check the totals",
                          (unsigned long long) total, (unsigned long long) rejected,
                          (unsigned long long) (total + rejected), decl->ballot_papers);
    return TALLY_ACCEPTED;
}

//  Checks a result or rush on its own (not against what is held). On
//  success *order_p holds the candidates in canonical order (caller frees).
static tally_status_t
s_validate (const declaration_t *decl, const candidate_t ***order_p,
            tally_verdict_t *verdict)
{
    size_t n = decl->n_candidates;
    if (decl->kind == DECL_RUSH && n != 1)
        return s_verdict (verdict, TALLY_REJECTED, EL_REASON_BAD_RUSH, decl,
                          "a rush must name exactly one candidate, not %zu", n);
    if (n == 0)
        return s_verdict (verdict, TALLY_REJECTED, EL_REASON_NO_CANDIDATES, decl,
                          "no candidates");
    if (!decl->candidates)
        return s_verdict (verdict, TALLY_REJECTED, EL_REASON_MALFORMED, decl,
                          "%zu candidates announced, none given", n);
    for (size_t i = 0; i < n; i++)
        if (!decl->candidates [i].party || !*decl->candidates [i].party)
            return s_verdict (verdict, TALLY_REJECTED, EL_REASON_EMPTY_PARTY, decl,
                              "candidate '%.40s' has no party code",
                              s_str (decl->candidates [i].name));
    //  A rush carries neither figures nor (necessarily) the electorate
    if (decl->kind == DECL_RESULT && decl->electorate == 0)
        return s_verdict (verdict, TALLY_REJECTED, EL_REASON_BAD_ELECTORATE, decl,
                          "electorate is zero");

    const candidate_t **order = malloc (n * sizeof (candidate_t *));
    if (!order)
        return s_verdict (verdict, TALLY_REJECTED, EL_REASON_NONE, decl, "out of memory");
    for (size_t i = 0; i < n; i++)
        order [i] = &decl->candidates [i];
    qsort (order, n, sizeof (candidate_t *), s_candidate_ptr_cmp);
    for (size_t i = 1; i < n; i++)
        if (strcmp (s_str (order [i]->name), s_str (order [i - 1]->name)) == 0
        &&  strcmp (order [i]->party, order [i - 1]->party) == 0) {
            s_verdict (verdict, TALLY_REJECTED, EL_REASON_DUPLICATE_CANDIDATE, decl,
                       "candidate '%.40s' (%.20s) appears twice",
                       s_str (order [i]->name), order [i]->party);
            free (order);
            return TALLY_REJECTED;
        }
    if (decl->kind == DECL_RESULT) {
        uint64_t total = 0;
        uint32_t top = 0;
        size_t at_top = 0, elected_at_top = 0;
        for (size_t i = 0; i < n; i++) {
            const candidate_t *cand = &decl->candidates [i];
            total += cand->votes;
            if (cand->votes > top || i == 0) {
                top = cand->votes;
                at_top = 0;
                elected_at_top = 0;
            }
            if (cand->votes == top) {
                at_top++;
                elected_at_top += cand->elected;
            }
        }
        if (total > decl->electorate) {
            s_verdict (verdict, TALLY_REJECTED, EL_REASON_VOTES_EXCEED_ELECTORATE, decl,
                       "votes %llu exceed electorate %u",
                       (unsigned long long) total, decl->electorate);
            free (order);
            return TALLY_REJECTED;
        }
        if (at_top > 1 && elected_at_top != 1) {
            s_verdict (verdict, TALLY_REJECTED, EL_REASON_TIE_WITHOUT_ELECTED, decl,
                       "%zu candidates tie on %u votes and %s",
                       at_top, top, elected_at_top? "more than one is flagged elected":
                                                     "none is flagged elected");
            free (order);
            return TALLY_REJECTED;
        }
        if (s_check_totals (decl, total, verdict) != TALLY_ACCEPTED) {
            free (order);
            return TALLY_REJECTED;
        }
    }
    *order_p = order;
    return TALLY_ACCEPTED;
}

//  True if the held declaration has the same kind, electorate and
//  candidates (order-insensitive) as this one, given in canonical order.
static bool
s_same_content (const s_seat_t *seat, const declaration_t *decl,
                const candidate_t **order)
{
    if (!seat->declared || seat->kind != decl->kind
    ||  seat->electorate != decl->electorate
    ||  seat->held.n_cands != decl->n_candidates)
        return false;
    for (size_t i = 0; i < decl->n_candidates; i++) {
        const s_cand_t *held = &seat->held.cands [i];
        if (s_canon_cmp (held->name, held->party_raw, held->votes, held->elected,
                         s_str (order [i]->name), order [i]->party,
                         order [i]->votes, order [i]->elected))
            return false;
    }
    return true;
}

//  Decides a result or rush against the revision held. TALLY_ACCEPTED
//  means: go ahead and replace.
static tally_status_t
s_check_revision (const s_seat_t *seat, const declaration_t *decl,
                  const candidate_t **order, tally_verdict_t *verdict)
{
    if (seat->revision == 0)
        return TALLY_ACCEPTED;
    if (decl->revision < seat->revision)
        return s_verdict (verdict, TALLY_REJECTED, EL_REASON_STALE_REVISION, decl,
                          "holds revision %u: send --revision %u --reason correction",
                          seat->revision, seat->revision + 1);
    bool held_full = seat->declared && seat->kind == DECL_RESULT;
    if (decl->revision > seat->revision)
        return TALLY_ACCEPTED;
    //  Same revision
    if (s_same_content (seat, decl, order))
        return s_verdict (verdict, TALLY_DUPLICATE, EL_REASON_NONE, decl,
                          "duplicate of the declaration held");
    if (seat->declared && seat->kind == DECL_RUSH && decl->kind == DECL_RESULT)
        return TALLY_ACCEPTED;      //  the figures arrive after the rush
    if (held_full && decl->kind == DECL_RUSH)
        return s_verdict (verdict, TALLY_REJECTED, EL_REASON_STALE_REVISION, decl,
                          "a rush cannot replace the full result held at revision %u",
                          seat->revision);
    return s_verdict (verdict, TALLY_REJECTED, EL_REASON_REVISION_CONFLICT, decl,
                      "differs from the %s held at the same revision: send --revision %u "
                      "--reason correction",
                      !seat->declared? "retraction":
                      seat->kind == DECL_RUSH? "rush": "result", seat->revision + 1);
}

//  Builds what the declaration derives to, without touching the seat or
//  the scopes (only the party table may grow).
static el_err_t
s_build (tally_t *self, const s_seat_t *seat, const declaration_t *decl,
         const candidate_t **order, s_held_t *held)
{
    size_t n = decl->n_candidates;
    bool rush = decl->kind == DECL_RUSH;
    const s_cand_t **rank = NULL;
    el_err_t rc = EL_ERR_NOMEM;
    memset (held, 0, sizeof (s_held_t));
    held->cands = calloc (n, sizeof (s_cand_t));
    held->views = calloc (n, sizeof (candidate_view_t));
    held->view_party = calloc (n, sizeof (size_t));
    rank = malloc (n * sizeof (s_cand_t *));
    if (!held->cands || !held->views || !held->view_party || !rank)
        goto cleanup;

    for (size_t i = 0; i < n; i++) {
        s_cand_t *cand = &held->cands [i];
        cand->party = S_NO_SEAT;    //  no reference to give back yet
        held->n_cands++;
        cand->name = strdup (s_str (order [i]->name));
        cand->party_raw = strdup (order [i]->party);
        if (!cand->name || !cand->party_raw)
            goto cleanup;
        cand->votes = order [i]->votes;
        cand->elected = order [i]->elected;
        if (s_party_intern (self, s_attribute (cand->party_raw, self->speaker_as),
                            &cand->party))
            goto cleanup;
        if (!rush)
            held->valid_votes += cand->votes;
        rank [i] = cand;
    }
    qsort (rank, n, sizeof (s_cand_t *), s_cand_rank_cmp);
    held->winner = rank [0]->party;
    if (!rush) {
        held->majority = n == 1? (int64_t) rank [0]->votes:
                         (int64_t) rank [0]->votes - (int64_t) rank [1]->votes;
        held->turnout = 100.0 * (double) held->valid_votes / (double) decl->electorate;
    }

    //  A party's share change needs it to stand exactly once in the seat,
    //  now and in the baseline: count both in the zeroed scratch arrays
    for (size_t b = 0; b < seat->n_base; b++) {
        self->scratch_base [seat->base [b].party]++;
        self->scratch_base_votes [seat->base [b].party] = seat->base [b].votes;
    }
    for (size_t i = 0; i < n; i++)
        self->scratch_cur [held->cands [i].party]++;

    for (size_t i = 0; i < n; i++) {
        const s_cand_t *cand = rank [i];
        candidate_view_t *view = &held->views [i];
        view->name = cand->name;
        view->party = self->parties [cand->party];
        view->party_id = cand->party;
        view->elected = i == 0;
        held->view_party [i] = cand->party;
        if (rush)
            continue;       //  no figures: votes, share 0, no share change
        view->votes = cand->votes;
        if (held->valid_votes)
            view->share = 100.0 * (double) cand->votes / (double) held->valid_votes;
        if (self->scratch_cur [cand->party] == 1
        &&  self->scratch_base [cand->party] == 1 && seat->base_total) {
            double base_share = 100.0 * (double) self->scratch_base_votes [cand->party]
                                      / (double) seat->base_total;
            view->has_share_change = true;
            view->share_change = view->share - base_share;
        }
    }
    for (size_t b = 0; b < seat->n_base; b++) {
        self->scratch_base [seat->base [b].party] = 0;
        self->scratch_base_votes [seat->base [b].party] = 0;
    }
    for (size_t i = 0; i < n; i++)
        self->scratch_cur [held->cands [i].party] = 0;
    rc = EL_OK;

cleanup:
    free (rank);
    if (rc)
        s_held_free (self, held);
    return rc;
}

//  Decides a retraction against what the seat holds. TALLY_ACCEPTED means:
//  go ahead and withdraw.
static tally_status_t
s_check_retraction (const s_seat_t *seat, const declaration_t *decl, tally_verdict_t *verdict)
{
    if (seat->revision == 0)
        return s_verdict (verdict, TALLY_REJECTED, EL_REASON_NOT_DECLARED, decl,
                          "retraction of a seat never declared");
    if (decl->revision < seat->revision)
        return s_verdict (verdict, TALLY_REJECTED, EL_REASON_STALE_REVISION, decl,
                          "holds revision %u: send --revision %u",
                          seat->revision, seat->revision + 1);
    if (decl->revision == seat->revision)
        return seat->declared?
            s_verdict (verdict, TALLY_REJECTED, EL_REASON_REVISION_CONFLICT, decl,
                       "differs from the %s held at the same revision: send --revision %u",
                       seat->kind == DECL_RUSH? "rush": "result", seat->revision + 1):
            s_verdict (verdict, TALLY_DUPLICATE, EL_REASON_NONE, decl,
                       "duplicate of the retraction held");
    if (!seat->declared)
        return s_verdict (verdict, TALLY_REJECTED, EL_REASON_NOT_DECLARED, decl,
                          "retraction of a seat already retracted at revision %u",
                          seat->revision);
    return TALLY_ACCEPTED;
}

static tally_status_t
s_retract (tally_t *self, s_seat_t *seat, const declaration_t *decl,
           tally_verdict_t *verdict)
{
    tally_status_t status = s_check_retraction (seat, decl, verdict);
    if (status != TALLY_ACCEPTED)
        return status;
    s_seat_contribute (self, seat, -1);
    s_held_free (self, &seat->held);
    seat->declared = false;
    seat->revision = decl->revision;
    seat->reason = REVISION_RETRACTION;
    seat->electorate = 0;
    seat->declared_at_ms = decl->declared_at_ms;
    seat->has_ballot_papers = seat->has_rejected_ballots = false;
    self->declared--;
    return s_verdict (verdict, TALLY_ACCEPTED, EL_REASON_NONE, decl, "retracted");
}

//  What tally_apply and tally_check share: the seat a declaration names and
//  the checks that need nothing built. Returns TALLY_ACCEPTED with *seat_p
//  set when the declaration may go on.
static tally_status_t
s_find_seat (tally_t *self, const declaration_t *decl, tally_verdict_t *verdict,
             s_seat_t **seat_p)
{
    memset (verdict, 0, sizeof (tally_verdict_t));
    verdict->seat = S_NO_SEAT;
    size_t index;
    if (!decl->ons_id || !strmap_get (self->seat_map, decl->ons_id, &index))
        return s_verdict (verdict, TALLY_REJECTED, EL_REASON_UNKNOWN_SEAT, decl,
                          "unknown constituency");
    verdict->seat = index;
    *seat_p = &self->seats [index];
    if (decl->revision == 0)
        return s_verdict (verdict, TALLY_REJECTED, EL_REASON_BAD_REVISION, decl,
                          "revision must be 1 or more");
    if ((int) decl->kind != DECL_RESULT && (int) decl->kind != DECL_RUSH)
        return s_verdict (verdict, TALLY_REJECTED, EL_REASON_MALFORMED, decl,
                          "unknown declaration kind %d", (int) decl->kind);
    if ((int) decl->reason < REVISION_NONE || (int) decl->reason > REVISION_RETRACTION)
        return s_verdict (verdict, TALLY_REJECTED, EL_REASON_MALFORMED, decl,
                          "unknown revision reason %d", (int) decl->reason);
    return TALLY_ACCEPTED;
}

//  Validates a result or rush against the seat and builds what it derives
//  to, touching nothing but the party table
static tally_status_t
s_judge (tally_t *self, const s_seat_t *seat, const declaration_t *decl,
         tally_verdict_t *verdict, s_held_t *held)
{
    const candidate_t **order = NULL;
    tally_status_t status = s_validate (decl, &order, verdict);
    if (status != TALLY_ACCEPTED)
        return status;
    status = s_check_revision (seat, decl, order, verdict);
    if (status == TALLY_ACCEPTED && s_build (self, seat, decl, order, held))
        status = s_verdict (verdict, TALLY_REJECTED, EL_REASON_NONE, decl, "out of memory");
    free (order);
    return status;
}

//  The verdict of an accepted result or rush: hold or gain
static tally_status_t
s_accepted (const tally_t *self, const s_seat_t *seat, const declaration_t *decl,
            size_t winner, tally_verdict_t *verdict)
{
    const char *code = self->parties [winner];
    if (seat->prev_winner == winner)
        return s_verdict (verdict, TALLY_ACCEPTED, EL_REASON_NONE, decl, "%.20s hold%s",
                          code, decl->kind == DECL_RUSH? " (rush)": "");
    return s_verdict (verdict, TALLY_ACCEPTED, EL_REASON_NONE, decl,
                      "%.20s gain from %.20s%s", code,
                      seat->prev_winner == S_NO_SEAT? "nobody":
                      self->parties [seat->prev_winner],
                      decl->kind == DECL_RUSH? " (rush)": "");
}

tally_status_t
tally_check (tally_t *self, const declaration_t *decl, tally_verdict_t *verdict,
             seat_view_t *preview)
{
    assert (self);
    assert (decl);
    assert (verdict);
    s_held_free (self, &self->preview);
    self->checked = NULL;
    s_seat_t *seat = NULL;
    tally_status_t status = s_find_seat (self, decl, verdict, &seat);
    if (status != TALLY_ACCEPTED)
        return status;
    if (decl->reason == REVISION_RETRACTION) {
        status = s_check_retraction (seat, decl, verdict);
        if (status == TALLY_ACCEPTED)
            s_verdict (verdict, TALLY_ACCEPTED, EL_REASON_NONE, decl, "retracted");
        if (preview)
            memset (preview, 0, sizeof (seat_view_t));
        return status;
    }
    status = s_judge (self, seat, decl, verdict, &self->preview);
    if (status != TALLY_ACCEPTED)
        return status;
    if (preview) {
        //  The seat as it would read: its own view, with this declaration's
        //  figures in place of what it holds
        tally_seat (self, verdict->seat, preview);
        const s_held_t *held = &self->preview;
        preview->declared = true;
        preview->revision = decl->revision;
        preview->kind = decl->kind;
        preview->reason = decl->reason;
        preview->winner = self->parties [held->winner];
        preview->gain = held->winner != seat->prev_winner;
        preview->majority = held->majority;
        preview->electorate = decl->electorate;
        preview->valid_votes = held->valid_votes;
        preview->turnout = held->turnout;
        preview->declared_at_ms = decl->declared_at_ms;
        preview->candidates = held->views;
        preview->n_candidates = held->n_cands;
        preview->has_ballot_papers = decl->has_ballot_papers;
        preview->ballot_papers = decl->ballot_papers;
        preview->has_rejected_ballots = decl->has_rejected_ballots;
        preview->rejected_ballots = decl->rejected_ballots;
        preview->official_turnout = decl->has_ballot_papers && decl->electorate?
            100.0 * (double) decl->ballot_papers / (double) decl->electorate: 0.0;
    }
    self->checked = decl;
    return s_accepted (self, seat, decl, self->preview.winner, verdict);
}

//  Puts what s_judge built for an accepted result or rush on air: allocates
//  what the totals need, then commits (which cannot fail). Takes held.
static tally_status_t
s_commit (tally_t *self, s_seat_t *seat, const declaration_t *decl, s_held_t held,
          tally_verdict_t *verdict)
{
    for (size_t s = 0; s < seat->n_scopes; s++)
        if (s_scope_reserve (&self->scopes [seat->scopes [s]], self->n_parties)) {
            s_held_free (self, &held);
            return s_verdict (verdict, TALLY_REJECTED, EL_REASON_NONE, decl, "out of memory");
        }
    bool was_declared = seat->declared;
    if (was_declared) {
        s_seat_contribute (self, seat, -1);
        s_held_free (self, &seat->held);
    }
    else
        self->declared++;
    seat->held = held;
    seat->declared = true;
    seat->revision = decl->revision;
    seat->kind = decl->kind;
    seat->reason = decl->reason;
    seat->electorate = decl->electorate;
    seat->declared_at_ms = decl->declared_at_ms;
    seat->has_ballot_papers = decl->has_ballot_papers;
    seat->ballot_papers = decl->ballot_papers;
    seat->has_rejected_ballots = decl->has_rejected_ballots;
    seat->rejected_ballots = decl->rejected_ballots;
    s_seat_contribute (self, seat, +1);
    return s_accepted (self, seat, decl, held.winner, verdict);
}

tally_status_t
tally_apply (tally_t *self, const declaration_t *decl, tally_verdict_t *verdict)
{
    assert (self);
    assert (decl);
    assert (verdict);
    s_held_free (self, &self->preview);
    self->checked = NULL;
    s_seat_t *seat = NULL;
    tally_status_t status = s_find_seat (self, decl, verdict, &seat);
    if (status != TALLY_ACCEPTED)
        return status;
    if (decl->reason == REVISION_RETRACTION)
        return s_retract (self, seat, decl, verdict);
    s_held_t held;
    status = s_judge (self, seat, decl, verdict, &held);
    if (status != TALLY_ACCEPTED)
        return status;
    return s_commit (self, seat, decl, held, verdict);
}

tally_status_t
tally_apply_checked (tally_t *self, const declaration_t *decl, tally_verdict_t *verdict)
{
    assert (self);
    assert (decl);
    assert (verdict);
    if (self->checked != decl || decl->reason == REVISION_RETRACTION)
        return tally_apply (self, decl, verdict);
    //  Judged by tally_check a moment ago: its preview is what tally_apply
    //  would build, so it is committed as it is (the seat found once more
    //  by index, not judged again)
    self->checked = NULL;
    s_held_t held = self->preview;
    memset (&self->preview, 0, sizeof self->preview);
    s_seat_t *seat = NULL;
    tally_status_t status = s_find_seat (self, decl, verdict, &seat);
    if (status != TALLY_ACCEPTED) {
        s_held_free (self, &held);
        return status;
    }
    return s_commit (self, seat, decl, held, verdict);
}


//  ---------------------------------------------------------------------
//  Views

size_t
tally_seats_total (const tally_t *self)
{
    assert (self);
    return self->n_seats;
}

size_t
tally_declared (const tally_t *self)
{
    assert (self);
    return self->declared;
}

long
tally_seat_find (const tally_t *self, const char *ons_id)
{
    assert (self);
    size_t index;
    if (!ons_id || !strmap_get (self->seat_map, ons_id, &index))
        return -1;
    return (long) index;
}

void
tally_seat (const tally_t *self, size_t index, seat_view_t *view)
{
    assert (self);
    assert (view);
    memset (view, 0, sizeof (seat_view_t));
    if (index >= self->n_seats)
        return;
    const s_seat_t *seat = &self->seats [index];
    view->ons_id = seat->ons_id;
    view->name = seat->name;
    view->country = seat->country;
    view->region = seat->region;
    view->declared = seat->declared;
    view->revision = seat->revision;
    view->kind = seat->kind;
    view->reason = seat->reason;
    view->previous_winner = seat->prev_winner == S_NO_SEAT? NULL:
                            self->parties [seat->prev_winner];
    view->declared_at_ms = seat->declared_at_ms;
    view->sequence = seat->sequence;
    if (!seat->declared)
        return;
    view->winner = self->parties [seat->held.winner];
    view->gain = seat->held.winner != seat->prev_winner;
    view->majority = seat->held.majority;
    view->electorate = seat->electorate;
    view->valid_votes = seat->held.valid_votes;
    view->turnout = seat->held.turnout;
    view->candidates = seat->held.views;
    view->n_candidates = seat->held.n_cands;
    view->has_ballot_papers = seat->has_ballot_papers;
    view->ballot_papers = seat->ballot_papers;
    view->has_rejected_ballots = seat->has_rejected_ballots;
    view->rejected_ballots = seat->rejected_ballots;
    if (seat->has_ballot_papers && seat->electorate)
        view->official_turnout = 100.0 * (double) seat->ballot_papers / (double) seat->electorate;
}

void
tally_seat_sequence (tally_t *self, size_t index, uint64_t sequence)
{
    assert (self);
    if (index < self->n_seats)
        self->seats [index].sequence = sequence;
}

static int
s_party_view_cmp (const void *a, const void *b)
{
    const party_view_t *x = a;
    const party_view_t *y = b;
    if (x->seats != y->seats)
        return x->seats > y->seats? -1: 1;
    if (x->votes != y->votes)
        return x->votes > y->votes? -1: 1;
    return strcmp (x->party, y->party);
}

size_t
tally_scope_count (const tally_t *self)
{
    assert (self);
    return self->n_scopes;
}

const char *
tally_scope_name (const tally_t *self, size_t index)
{
    assert (self);
    return index < self->n_scopes ? self->scopes [index].name : NULL;
}

void
tally_scope (tally_t *self, size_t index, scope_view_t *view)
{
    assert (self);
    assert (view);
    memset (view, 0, sizeof (scope_view_t));
    if (index >= self->n_scopes)
        return;
    s_scope_t *scope = &self->scopes [index];
    view->scope = scope->name;
    view->declared = scope->declared;
    view->seats_total = scope->seats_total;
    view->majority_line = scope->seats_total / 2 + 1;
    view->total_votes = scope->total_votes;

    //  The two largest parties by votes, for the swing
    size_t first = S_NO_SEAT, second = S_NO_SEAT;
    size_t n = 0;
    size_t limit = scope->cap < self->n_parties? scope->cap: self->n_parties;
    for (size_t p = 0; p < limit; p++) {
        const s_acc_t *acc = &scope->acc [p];
        if (acc->seats == 0 && acc->change == 0 && acc->votes == 0)
            continue;
        party_view_t *line = &scope->view [n++];
        line->party = self->parties [p];
        line->seats = acc->seats;
        line->change = acc->change;
        line->votes = acc->votes;
        double share = scope->total_votes?
            100.0 * (double) acc->votes / (double) scope->total_votes: 0.0;
        double base = scope->base_total?
            100.0 * (double) acc->base_votes / (double) scope->base_total: 0.0;
        line->share = share;
        line->share_change = share - base;
        if (acc->votes == 0)
            continue;
        if (first == S_NO_SEAT || acc->votes > scope->acc [first].votes
        || (acc->votes == scope->acc [first].votes
            && strcmp (self->parties [p], self->parties [first]) < 0)) {
            second = first;
            first = p;
        }
        else
        if (second == S_NO_SEAT || acc->votes > scope->acc [second].votes
        || (acc->votes == scope->acc [second].votes
            && strcmp (self->parties [p], self->parties [second]) < 0))
            second = p;
    }
    qsort (scope->view, n, sizeof (party_view_t), s_party_view_cmp);
    view->parties = scope->view;
    view->n_parties = n;

    if (scope->declared && second != S_NO_SEAT) {
        //  Butler swing: half the difference of the two changes in share,
        //  reported from the party that did worse to the one that did better
        double total = (double) scope->total_votes;
        double base_total = (double) scope->base_total;
        double change [2];
        size_t pair [2] = { first, second };
        for (int i = 0; i < 2; i++) {
            const s_acc_t *acc = &scope->acc [pair [i]];
            double base = base_total? 100.0 * (double) acc->base_votes / base_total: 0.0;
            change [i] = 100.0 * (double) acc->votes / total - base;
        }
        double swing = (change [0] - change [1]) / 2.0;
        view->has_swing = true;
        if (swing >= 0) {
            view->swing = swing;
            view->swing_to = self->parties [first];
            view->swing_from = self->parties [second];
        }
        else {
            view->swing = -swing;
            view->swing_to = self->parties [second];
            view->swing_from = self->parties [first];
        }
    }
}

size_t
tally_seat_scopes (const tally_t *self, size_t seat, size_t out [3])
{
    assert (self);
    if (seat >= self->n_seats)
        return 0;
    const s_seat_t *s = &self->seats [seat];
    for (size_t i = 0; i < s->n_scopes; i++)
        out [i] = s->scopes [i];
    return s->n_scopes;
}

long
tally_scope_find (const tally_t *self, const char *name)
{
    assert (self);
    if (!name)
        return -1;
    if (strcmp (name, S_UK_SCOPE) == 0)
        return 0;
    size_t index;
    if (strmap_get (self->country_map, name, &index)
    ||  strmap_get (self->region_map, name, &index))
        return (long) index;
    return -1;
}

size_t
tally_party_count (const tally_t *self)
{
    assert (self);
    return self->n_parties;
}

const char *
tally_party_name (const tally_t *self, size_t id)
{
    assert (self);
    return id < self->n_parties? self->parties [id]: NULL;
}

long
tally_party_find (const tally_t *self, const char *code)
{
    assert (self);
    size_t id;
    if (!code || !strmap_get (self->party_map, code, &id))
        return -1;
    return (long) id;
}

void
tally_seat_baseline (const tally_t *self, size_t index, seat_baseline_t *view)
{
    assert (self);
    assert (view);
    memset (view, 0, sizeof (seat_baseline_t));
    if (index >= self->n_seats)
        return;
    const s_seat_t *seat = &self->seats [index];
    view->parties = seat->base_view;
    view->n_parties = seat->base_view? seat->n_base: 0;
    view->valid_votes = seat->base_total;
    view->electorate = seat->base_electorate;
    if (seat->prev_winner != S_NO_SEAT) {
        view->winner = self->parties [seat->prev_winner];
        view->winner_id = seat->prev_winner;
        view->majority = seat->base_majority;
    }
    if (seat->base_electorate) {
        view->has_turnout = true;
        view->turnout = 100.0 * (double) seat->base_total / (double) seat->base_electorate;
    }
}
