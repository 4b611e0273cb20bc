/*  names.c: see names.h.

    The project's own enums that travel on the wire without a translation
    table are pinned here to the schema's numbers, so that a renumbering on
    either side stops the build instead of silently changing a meaning.
    (The tally's decl_kind_t and revision_reason_t are pinned in
    aggregator/summary.c, which the layers allow to see them.)              */
#include "names.h"
#include "err.h"
#include <stddef.h>
#include <string.h>

#define S_PIN(ours, theirs) _Static_assert ((int) (ours) == (int) (theirs), #ours " is " #theirs)
S_PIN (EL_REASON_NONE, ELECTION__REJECT_CODE__REJECT_NONE);
S_PIN (EL_REASON_MALFORMED, ELECTION__REJECT_CODE__REJECT_MALFORMED);
S_PIN (EL_REASON_WRONG_MODE, ELECTION__REJECT_CODE__REJECT_WRONG_MODE);
S_PIN (EL_REASON_WRONG_ELECTION, ELECTION__REJECT_CODE__REJECT_WRONG_ELECTION);
S_PIN (EL_REASON_UNKNOWN_SEAT, ELECTION__REJECT_CODE__REJECT_UNKNOWN_SEAT);
S_PIN (EL_REASON_NO_CANDIDATES, ELECTION__REJECT_CODE__REJECT_NO_CANDIDATES);
S_PIN (EL_REASON_DUPLICATE_CANDIDATE, ELECTION__REJECT_CODE__REJECT_DUPLICATE_CANDIDATE);
S_PIN (EL_REASON_VOTES_EXCEED_ELECTORATE, ELECTION__REJECT_CODE__REJECT_VOTES_EXCEED_ELECTORATE);
S_PIN (EL_REASON_TIE_WITHOUT_ELECTED, ELECTION__REJECT_CODE__REJECT_TIE_WITHOUT_ELECTED);
S_PIN (EL_REASON_EMPTY_PARTY, ELECTION__REJECT_CODE__REJECT_EMPTY_PARTY);
S_PIN (EL_REASON_STALE_REVISION, ELECTION__REJECT_CODE__REJECT_STALE_REVISION);
S_PIN (EL_REASON_REVISION_CONFLICT, ELECTION__REJECT_CODE__REJECT_REVISION_CONFLICT);
S_PIN (EL_REASON_BAD_REVISION, ELECTION__REJECT_CODE__REJECT_BAD_REVISION);
S_PIN (EL_REASON_NOT_DECLARED, ELECTION__REJECT_CODE__REJECT_NOT_DECLARED);
S_PIN (EL_REASON_BAD_ELECTORATE, ELECTION__REJECT_CODE__REJECT_BAD_ELECTORATE);
S_PIN (EL_REASON_BAD_FIELD, ELECTION__REJECT_CODE__REJECT_BAD_FIELD);
S_PIN (EL_REASON_NOT_AUTHORISED, ELECTION__REJECT_CODE__REJECT_NOT_AUTHORISED);
S_PIN (EL_REASON_BAD_RUSH, ELECTION__REJECT_CODE__REJECT_BAD_RUSH);
S_PIN (EL_REASON_NOT_NOMINATED, ELECTION__REJECT_CODE__REJECT_NOT_NOMINATED);
S_PIN (EL_REASON_PARTY_MISMATCH, ELECTION__REJECT_CODE__REJECT_PARTY_MISMATCH);
S_PIN (EL_REASON_CANDIDATE_MISSING, ELECTION__REJECT_CODE__REJECT_CANDIDATE_MISSING);
S_PIN (EL_REASON_CONSTITUENCY_MISMATCH, ELECTION__REJECT_CODE__REJECT_CONSTITUENCY_MISMATCH);
S_PIN (EL_REASON_ELECTORATE_MISMATCH, ELECTION__REJECT_CODE__REJECT_ELECTORATE_MISMATCH);
S_PIN (EL_REASON_VALID_VOTES_MISMATCH, ELECTION__REJECT_CODE__REJECT_VALID_VOTES_MISMATCH);
S_PIN (EL_REASON_BALLOT_PAPERS_MISMATCH, ELECTION__REJECT_CODE__REJECT_BALLOT_PAPERS_MISMATCH);
S_PIN (EL_REASON_BAD_EXIT_POLL, ELECTION__REJECT_CODE__REJECT_BAD_EXIT_POLL);

typedef struct {
    int value;
    const char *name;
} s_name_t;

#define S_COUNT(table) (sizeof (table) / sizeof (table) [0])

static const s_name_t s_modes [] = {
    { ELECTION__MODE__MODE_LIVE, "live" },
    { ELECTION__MODE__MODE_TEST, "test" },
    { ELECTION__MODE__MODE_REHEARSAL, "rehearsal" }
};
static const s_name_t s_kinds [] = {
    { ELECTION__DECLARATION_KIND__KIND_RESULT, "result" },
    { ELECTION__DECLARATION_KIND__KIND_RUSH, "rush" }
};
static const s_name_t s_reasons [] = {
    { ELECTION__REVISION_REASON__REASON_CORRECTION, "correction" },
    { ELECTION__REVISION_REASON__REASON_RECOUNT, "recount" },
    { ELECTION__REVISION_REASON__REASON_RETRACTION, "retraction" }
};
static const s_name_t s_outcomes [] = {
    { ELECTION__OUTCOME__OUTCOME_HOLD, "hold" },
    { ELECTION__OUTCOME__OUTCOME_GAIN, "gain" }
};
static const s_name_t s_pair_states [] = {
    { ELECTION__PAIR_STATE__PAIR_STARTING, "starting" },
    { ELECTION__PAIR_STATE__PAIR_ACTIVE, "active" },
    { ELECTION__PAIR_STATE__PAIR_PASSIVE, "passive" },
};

static const s_name_t s_ack_statuses [] = {
    { ELECTION__ACK_STATUS__ACK_ACCEPTED, "accepted" },
    { ELECTION__ACK_STATUS__ACK_DUPLICATE, "duplicate" },
    { ELECTION__ACK_STATUS__ACK_REJECTED, "rejected" },
    { ELECTION__ACK_STATUS__ACK_UNAVAILABLE, "unavailable" },
    { ELECTION__ACK_STATUS__ACK_HELD, "held" }
};

static const char *
s_name (const s_name_t *table, size_t count, int value)
{
    for (size_t i = 0; i < count; i++)
        if (table [i].value == value)
            return table [i].name;
    return NULL;
}

static bool
s_parse (const s_name_t *table, size_t count, const char *text, int *value)
{
    for (size_t i = 0; text && i < count; i++)
        if (strcmp (table [i].name, text) == 0) {
            *value = table [i].value;
            return true;
        }
    return false;
}

const char *
names_mode (Election__Mode mode)
{
    const char *name = s_name (s_modes, S_COUNT (s_modes), mode);
    return name ? name : "unspecified";
}

Election__Mode
names_mode_parse (const char *text)
{
    int value;
    return s_parse (s_modes, S_COUNT (s_modes), text, &value)
         ? (Election__Mode) value : ELECTION__MODE__MODE_UNSPECIFIED;
}

const char *
names_kind (Election__DeclarationKind kind)
{
    return s_name (s_kinds, S_COUNT (s_kinds), kind);
}

bool
names_kind_parse (const char *text, Election__DeclarationKind *kind)
{
    int value;
    if (!s_parse (s_kinds, S_COUNT (s_kinds), text, &value))
        return false;
    *kind = (Election__DeclarationKind) value;
    return true;
}

const char *
names_reason (Election__RevisionReason reason)
{
    return s_name (s_reasons, S_COUNT (s_reasons), reason);
}

bool
names_reason_parse (const char *text, Election__RevisionReason *reason)
{
    int value;
    if (!s_parse (s_reasons, S_COUNT (s_reasons), text, &value))
        return false;
    *reason = (Election__RevisionReason) value;
    return true;
}

const char *
names_outcome (Election__Outcome outcome)
{
    return s_name (s_outcomes, S_COUNT (s_outcomes), outcome);
}

const char *
names_ack_status (Election__AckStatus status)
{
    return s_name (s_ack_statuses, S_COUNT (s_ack_statuses), status);
}

const char *
names_pair_state (Election__PairState state)
{
    return s_name (s_pair_states, S_COUNT (s_pair_states), state);
}
