/*  names.h: the schema's enums as the words people and JSON see, and back:
    mode, declaration kind, revision reason, outcome and ack status. One
    table per enum, so that every program, log line and JSON document spells
    them alike (README "The subscribe --once --json contract").

    A name function returns a static string, or NULL where the value has no
    name: a reason of REASON_NONE (a first declaration has no reason: JSON
    null), an outcome of OUTCOME_NONE, or a number the schema does not know.
    names_mode is the exception: every mode prints, an unknown one as
    "unspecified". A parse function returns false for text it does not know. */
#ifndef EL_NAMES_H
#define EL_NAMES_H

#include <stdbool.h>
#include "election.pb-c.h"

/*  "live", "test", "rehearsal"; anything else "unspecified".  */
const char *names_mode (Election__Mode mode);

/*  The inverse of names_mode; unknown text (or NULL) gives MODE_UNSPECIFIED. */
Election__Mode names_mode_parse (const char *text);

/*  "result", "rush".  */
const char *names_kind (Election__DeclarationKind kind);
bool names_kind_parse (const char *text, Election__DeclarationKind *kind);

/*  "correction", "recount", "retraction"; NULL for REASON_NONE.  */
const char *names_reason (Election__RevisionReason reason);
bool names_reason_parse (const char *text, Election__RevisionReason *reason);

/*  "hold", "gain"; NULL for OUTCOME_NONE (not declared).  */
const char *names_outcome (Election__Outcome outcome);

/*  "accepted", "duplicate", "rejected", "unavailable", "held".  */
const char *names_ack_status (Election__AckStatus status);

/*  "starting", "active", "passive" (one of a pair); NULL for PAIR_NONE.  */
const char *names_pair_state (Election__PairState state);

#endif
