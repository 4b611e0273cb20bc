/*  parties.h: the party register (data/parties.csv): each party's short
    code, full name and colour, and the other ways people write it.

    It is for display (the summaries and the JSON carry a party's full name
    and colour, for the page and for graphics) and for "did you mean": a
    declaration that says "Labour" where the nominations say "Lab" is
    refused, and the register lets the refusal say which code was meant.
    It never decides what is valid in a seat (the nominations do), and a
    party it does not know still works: its code stands for its name, in
    a neutral colour.

    The file is CSV (csv_reader.h) with the header
        code,name,colour,aliases
    e.g. `Lab,Labour,#e4003b,Labour Party;Lab Co-op;Labour Co-operative`:
    colour is #rrggbb, aliases are separated by ';' and may be empty.
    Codes, names and aliases are matched ignoring case and everything but
    letters and digits ("lab co-op" is "Lab Co-op"); one spelling may
    belong to one party only, or the file is refused.                     */
#ifndef EL_PARTIES_H
#define EL_PARTIES_H

#include <stddef.h>
#include "err.h"

#define PARTIES_NEUTRAL_COLOUR "#999999"   /* a party the register lacks */

typedef struct parties parties_t;

typedef struct {
    const char *code;
    const char *name;           /* full name, e.g. "Liberal Democrats" */
    const char *colour;         /* "#rrggbb" */
} party_entry_t;

/*  Loads the register at path. On success sets *self_p (caller owns it;
    free with parties_destroy). On failure returns EL_ERR_IO, EL_ERR_PARSE
    or EL_ERR_NOMEM with "FILE:LINE: reason" in err (errlen bytes).
    Refused besides what csv_reader_read refuses: an empty code or name, a
    colour that is not #rrggbb, a code or spelling given twice.            */
el_err_t parties_load (const char *path, parties_t **self_p, char *err, size_t errlen);

/*  Frees the register and sets *self_p to NULL. NULL-safe.  */
void parties_destroy (parties_t **self_p);

/*  The entry of a party code (exact), or NULL. self may be NULL (no
    register). The strings belong to the register. O(1).                  */
const party_entry_t *parties_find (const parties_t *self, const char *code);

/*  The full name of code, or code itself where the register lacks it.  */
const char *parties_name (const parties_t *self, const char *code);

/*  The colour of code, or PARTIES_NEUTRAL_COLOUR.  */
const char *parties_colour (const parties_t *self, const char *code);

/*  The party a spelling stands for: "Labour", "lab co-op", "LAB" give the
    entry of Lab. NULL if none (or self is NULL). O(length of text).       */
const party_entry_t *parties_match (const parties_t *self, const char *text);

/*  Entries in file order: count, and entry `index` (NULL past the end).  */
size_t parties_count (const parties_t *self);
const party_entry_t *parties_at (const parties_t *self, size_t index);

#endif
