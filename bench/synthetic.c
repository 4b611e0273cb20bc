/*  synthetic.c: see bench.h. Synthetic elections: N seats of K candidates,
    votes from a hash of seat and revision, so that any revision is known
    without storing it.  */
#include "bench.h"
#include "clock.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *s_countries [] = { "England", "Scotland", "Wales", "Northern Ireland" };
static const struct { const char *name; int country; } s_regions [] = {
    { "North East", 0 }, { "North West", 0 }, { "Yorkshire and The Humber", 0 },
    { "East Midlands", 0 }, { "West Midlands", 0 }, { "East", 0 }, { "London", 0 },
    { "South East", 0 }, { "South West", 0 }, { "Scotland", 1 }, { "Wales", 2 },
    { "Northern Ireland", 3 }
};
#define S_REGIONS (sizeof s_regions / sizeof s_regions [0])
static const char *s_parties [BENCH_MAX_CANDIDATES] = { "Con", "Lab", "LD", "Grn", "Ref", "Ind", "SNP", "PC" };

static uint64_t
s_mix (uint64_t x)
{
    x += 0x9E3779B97F4A7C15ULL;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
    return x ^ (x >> 31);
}

static void
s_ons_id (size_t seat, char *buf, size_t size)
{
    snprintf (buf, size, "S%07u", (unsigned) ((seat + 1) % 100000000));
}

//  Votes of every candidate of a seat at a revision (0: the baseline).
//  Distinct top so that no tie needs an elected flag.
static void
s_votes (size_t seat, uint32_t revision, size_t candidates, uint32_t *votes)
{
    uint32_t cap = 60000 / (uint32_t) candidates;
    size_t top = 0;
    for (size_t c = 0; c < candidates; c++) {
        votes [c] = 100 + (uint32_t) (s_mix ((seat << 24) ^ ((uint64_t) revision << 8) ^ c) % cap);
        if (votes [c] > votes [top])
            top = c;
    }
    for (size_t c = 0; c < candidates; c++)
        if (c != top && votes [c] == votes [top])
            votes [top]++;
}

static uint32_t
s_electorate (size_t seat)
{
    return 70000 + (uint32_t) (s_mix (seat) % 20000);
}

//  Writes the baseline CSV of a synthetic election
int
synthetic_write_baseline (const char *path, size_t seats, size_t candidates)
{
    FILE *file = fopen (path, "w");
    if (!file) {
        fprintf (stderr, "bench: cannot write %s: %s\n", path, strerror (errno));
        return -1;
    }
    fprintf (file, "ons_id,constituency,country,region,electorate,candidate,party,votes\n");
    for (size_t seat = 0; seat < seats; seat++) {
        char ons_id [16];
        s_ons_id (seat, ons_id, sizeof ons_id);
        uint32_t votes [BENCH_MAX_CANDIDATES];
        s_votes (seat, 0, candidates, votes);
        size_t region = seat % S_REGIONS;
        for (size_t c = 0; c < candidates; c++)
            fprintf (file, "%s,Seat %zu,%s,%s,%u,Candidate %zu,%s,%u\n", ons_id, seat + 1,
                     s_countries [s_regions [region].country], s_regions [region].name,
                     s_electorate (seat), c + 1, s_parties [(seat + c) % BENCH_MAX_CANDIDATES],
                     votes [c]);
    }
    if (fclose (file)) {
        fprintf (stderr, "bench: cannot write %s\n", path);
        return -1;
    }
    return 0;
}

//  The ons_id strings of a synthetic election (one block, index by seat)
char *
synthetic_ons_ids (size_t seats)
{
    char *ids = malloc (seats * 16);
    for (size_t seat = 0; ids && seat < seats; seat++)
        s_ons_id (seat, ids + seat * 16, 16);
    return ids;
}

//  Packs one synthetic declaration: result (or rush) of seat at revision
int
synthetic_pack (batch_t *batch, const char *ons_ids, size_t seat, uint32_t revision,
                size_t candidates, bool rush)
{
    const char *ons_id = ons_ids + seat * 16;
    uint32_t votes [BENCH_MAX_CANDIDATES];
    s_votes (seat, revision, candidates, votes);
    static const char *names [BENCH_MAX_CANDIDATES] = { "Candidate 1", "Candidate 2", "Candidate 3",
        "Candidate 4", "Candidate 5", "Candidate 6", "Candidate 7", "Candidate 8" };
    Election__Candidate cands [BENCH_MAX_CANDIDATES];
    Election__Candidate *pointers [BENCH_MAX_CANDIDATES];
    size_t n = 0;
    for (size_t c = 0; c < candidates; c++) {
        if (rush && c > 0)
            break;
        election__candidate__init (&cands [n]);
        cands [n].name = (char *) names [c];
        cands [n].party = (char *) s_parties [(seat + c) % BENCH_MAX_CANDIDATES];
        cands [n].has_votes = true;
        cands [n].votes = rush ? 0 : votes [c];
        pointers [n] = &cands [n];
        n++;
    }
    Election__Declaration decl = ELECTION__DECLARATION__INIT;
    decl.election_id = BENCH_ELECTION;
    decl.ons_id = (char *) ons_id;
    decl.has_revision = true;
    decl.revision = revision;
    decl.has_electorate = true;
    decl.electorate = s_electorate (seat);
    decl.n_candidates = n;
    decl.candidates = pointers;
    decl.has_declared_at_ms = true;
    decl.declared_at_ms = clock_now_us () / 1000;
    decl.source_id = "bench";
    decl.has_mode = true;
    decl.mode = ELECTION__MODE__MODE_REHEARSAL;
    decl.has_kind = true;
    decl.kind = rush ? ELECTION__DECLARATION_KIND__KIND_RUSH : ELECTION__DECLARATION_KIND__KIND_RESULT;
    decl.has_reason = true;
    decl.reason = revision > 1 ? ELECTION__REVISION_REASON__REASON_CORRECTION
                               : ELECTION__REVISION_REASON__REASON_NONE;
    decl.has_request_id = true;
    decl.request_id = batch->n + 1;
    return batch_add (batch, &decl, ons_id);
}


batch_t *
synthetic_probe (void *arg, uint32_t revision)
{
    synthetic_t *election = arg;
    batch_t *batch = malloc (sizeof *batch);
    if (!batch || batch_init (batch, 1)
    ||  synthetic_pack (batch, election->ons_ids, 0, revision, election->candidates, true)) {
        free (batch);
        return NULL;
    }
    return batch;
}

//  `count` declarations going round the seats in a scattered order
//  (a stride coprime with the seat count), each seat's revisions rising
//  from *next_revision; advances *next_revision past what it used.
int
synthetic_batch (batch_t *batch, const synthetic_t *election, size_t count,
                 uint32_t *next_revision)
{
    size_t seats = election->seats;
    size_t stride = 7919;       //  prime: coprime with any seat count it does not divide
    while (seats % stride == 0)
        stride += 2;
    if (batch_init (batch, count))
        return -1;
    for (size_t i = 0; i < count; i++) {
        size_t seat = (size_t) (((uint64_t) (i % seats) * stride) % seats);
        uint32_t revision = *next_revision + (uint32_t) (i / seats);
        if (synthetic_pack (batch, election->ons_ids, seat, revision, election->candidates, false)) {
            batch_free (batch);
            return -1;
        }
    }
    *next_revision += (uint32_t) ((count + seats - 1) / seats);
    return 0;
}
