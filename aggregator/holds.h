/*  holds.h: the declarations held for a second look (README "The hold"),
    at most one per seat, and the `desk` topic that shows them.

    A held declaration is journaled but not applied: the aggregator keeps
    it here until the count centre confirms it (same revision and figures,
    Declaration.confirmed), which applies it, or a new revision of the seat
    replaces it. The aggregator rebuilds the holds from the journal on
    recovery, as it rebuilds the tally. In memory only; no I/O.            */
#ifndef HOLDS_H
#define HOLDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "election.pb-c.h"
#include "update_head.h"

typedef struct holds holds_t;

/*  NULL on no memory. Caller owns it; free with holds_destroy.  */
holds_t *holds_new (void);
void holds_destroy (holds_t **self_p);

/*  Holds declaration (copied) for its seat, replacing what the seat had
    held; name is the seat's name, reasons[0 .. n_reasons-1] why. Returns
    -1 on no memory (nothing changed).                                      */
int holds_put (holds_t *self, const Election__Declaration *declaration, const char *name,
               const char *source, int64_t received_at_us, uint64_t sequence,
               char *const *reasons, size_t n_reasons);

/*  The declaration held for seat ons_id, or NULL. Owned by the holds;
    valid until they next change.                                          */
const Election__HeldDeclaration *holds_find (const holds_t *self, const char *ons_id);

/*  Forgets what seat ons_id held. True if it held something.  */
bool holds_drop (holds_t *self, const char *ons_id);

void holds_clear (holds_t *self);
size_t holds_count (const holds_t *self);

/*  True if declaration says what held does: the same revision, kind,
    electorate, totals and candidates (in any order). A confirmation must
    (only the confirmed flag, the sender's note, ids and times may differ). */
bool holds_same (const Election__HeldDeclaration *held, const Election__Declaration *declaration);

/*  The `desk` topic's Update (DeskSummary, in the order held) under head.
    Returns a malloc'd buffer of *size bytes (caller frees), or NULL.      */
uint8_t *holds_pack (const holds_t *self, const update_head_t *head, size_t *size);

#endif
