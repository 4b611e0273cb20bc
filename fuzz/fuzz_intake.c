/*  fuzz_intake: bytes off the wire -> intake_decode -> the nominations'
    checks -> tally_check and the scrutiny -> tally_apply -> the summaries,
    against a tally of part of the 2015 baseline (a fresh one per input, so
    a crash reproduces from its input alone) and the 2017 nominations.

    An input is a sequence of frames, each a 2-byte little-endian length and
    that many bytes (the last may be short): several declarations in a row
    reach revisions, retractions and duplicates, not only first results.   */
#include "fuzz_baseline.h"
#include "intake.h"
#include "nominations.h"
#include "scrutiny.h"
#include "summary.h"
#include "tally.h"
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

static results_t *s_baseline;
static nominations_t *s_nominations;
static parties_t *s_parties;

int LLVMFuzzerInitialize (int *argc, char ***argv);
int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
    s_baseline = fuzz_baseline ();
    char err [512];
    if (nominations_load (EL_DATA_DIR "/nominations_2017.csv", &s_nominations, err, sizeof err)
    ||  parties_load (EL_DATA_DIR "/parties.csv", &s_parties, err, sizeof err)) {
        fprintf (stderr, "%s\n", err);
        abort ();
    }
    return 0;
}

//  Everything a subscriber would be sent about the seat
static void
s_pack_summaries (tally_t *tally, size_t seat)
{
    update_head_t stamp = { .sequence = 1, .epoch = 1, .mode = ELECTION__MODE__MODE_REHEARSAL };
    size_t size;
    char topic [128];
    summary_seat_topic (tally, seat, topic, sizeof topic);
    free (summary_pack_seat (tally, s_parties, seat, &stamp, &size));
    size_t scopes [3];
    size_t n = tally_seat_scopes (tally, seat, scopes);
    for (size_t i = 0; i < n; i++) {
        summary_scope_topic (tally, scopes [i], topic, sizeof topic);
        free (summary_pack_scope (tally, s_parties, scopes [i], &stamp, &size));
    }
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    static const tally_options_t options = { "Con", "Con" };
    //  One input in two runs the Speaker's seat as a party of its own
    tally_t *tally = tally_new (s_baseline, size % 2 ? &options : NULL);
    if (!tally)
        abort ();
    while (size > 0) {
        size_t len = size;
        if (size >= 2) {
            len = (size_t) data [0] | (size_t) data [1] << 8;
            data += 2;
            size -= 2;
            if (len > size)
                len = size;
        }
        intake_t intake;
        uint64_t request_id;
        char text [192];
        if (intake_decode (data, len, ELECTION__MODE__MODE_REHEARSAL, "uk-general",
                           &intake, &request_id, text, sizeof text) == EL_REASON_NONE) {
            const declaration_t *decl = &intake.decl;
            nominations_claim_t claim = { decl->ons_id, intake.message->constituency,
                                          decl->electorate, decl->kind == DECL_RUSH,
                                          decl->candidates, decl->n_candidates };
            nominations_check (s_nominations, s_parties, &claim, 5.0, text, sizeof text);
            tally_verdict_t verdict;
            seat_view_t preview;
            scrutiny_options_t judge = scrutiny_defaults ();
            scrutiny_reasons_t reasons;
            if (tally_check (tally, decl, &verdict, &preview) == TALLY_ACCEPTED)
                scrutiny_judge (tally, verdict.seat, &preview, &judge, &reasons);
            if (tally_apply (tally, decl, &verdict) == TALLY_ACCEPTED)
                s_pack_summaries (tally, verdict.seat);
            intake_release (&intake);
        }
        data += len;
        size -= len;
    }
    tally_destroy (&tally);
    return 0;
}
