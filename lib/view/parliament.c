/*  parliament.c: see parliament.h.  */
#include "parliament.h"
#include <stdio.h>
#include <string.h>

static const char *
s_name (const Election__PartyLine *party)
{
    return party->name && *party->name ? party->name : party->party;
}

parliament_t
parliament_of (const Election__NationalSummary *national)
{
    parliament_t self = { 0 };
    if (national) {
        self.seats_total = national->seats_total;
        self.majority_line = national->majority_line;
        self.declared = national->declared;
    }
    self.complete = self.seats_total > 0 && self.declared >= self.seats_total;
    //  Parties come most seats first, then most votes
    for (size_t i = 0; national && i < national->n_parties && !self.largest; i++)
        if (national->parties [i]->seats > 0)
            self.largest = national->parties [i];
    if (!self.largest) {
        snprintf (self.text, sizeof self.text, "No results yet (0 of %u declared)", self.seats_total);
        return self;
    }
    int seats = self.largest->seats;
    int left = (int) self.seats_total - (int) self.declared;
    const char *code = self.largest->party;
    if (seats >= (int) self.majority_line) {
        self.verdict = PARLIAMENT_MAJORITY;
        self.majority = 2 * seats - (int) self.seats_total;
        if (self.complete)
            snprintf (self.text, sizeof self.text, "%s majority of %d", code, self.majority);
        else
            snprintf (self.text, sizeof self.text, "%s have a majority: %d seats (%u of %u declared)",
                      code, seats, self.declared, self.seats_total);
        return self;
    }
    //  No party can reach the line: the largest could take every seat left
    //  and still fall short (so every other could too)
    if (seats + left < (int) self.majority_line) {
        self.verdict = PARLIAMENT_HUNG;
        self.short_of = (int) self.majority_line - seats;
        if (self.complete)
            snprintf (self.text, sizeof self.text, "HUNG PARLIAMENT \xe2\x80\x94 %s %d short of %u",
                      code, self.short_of, self.majority_line);
        else
            snprintf (self.text, sizeof self.text, "HUNG PARLIAMENT \xe2\x80\x94 no party can reach %u "
                      "(%u of %u declared)", self.majority_line, self.declared, self.seats_total);
        return self;
    }
    snprintf (self.text, sizeof self.text, "%s need %d more for a majority (%u of %u declared)",
              code, (int) self.majority_line - seats, self.declared, self.seats_total);
    return self;
}

json_t *
parliament_json (const Election__NationalSummary *national)
{
    parliament_t self = parliament_of (national);
    json_t *needed = json_array ();
    for (size_t i = 0; national && i < national->n_parties; i++) {
        const Election__PartyLine *p = national->parties [i];
        if (p->seats <= 0)
            continue;
        int need = (int) self.majority_line - p->seats;
        json_array_append_new (needed, json_pack ("{s:s?, s:s?, s:i, s:i}", "party", p->party,
            "name", s_name (p), "seats", p->seats, "needed", need > 0 ? need : 0));
    }
    json_t *hung = self.verdict == PARLIAMENT_UNDECIDED ? json_null ()
                 : json_boolean (self.verdict == PARLIAMENT_HUNG);
    bool final = self.complete && self.verdict != PARLIAMENT_UNDECIDED;
    return json_pack ("{s:i, s:i, s:i, s:b, s:o, s:o, s:o, s:o, s:o, s:o, s:s, s:o}",
        "seats_total", (int) self.seats_total, "majority_line", (int) self.majority_line,
        "declared", (int) self.declared, "complete", self.complete,
        "largest", self.largest ? json_string (self.largest->party) : json_null (),
        "largest_name", self.largest ? json_string (s_name (self.largest)) : json_null (),
        "largest_seats", self.largest ? json_integer (self.largest->seats) : json_null (),
        "hung", hung,
        "short", final && self.verdict == PARLIAMENT_HUNG ? json_integer (self.short_of) : json_null (),
        "majority", final && self.verdict == PARLIAMENT_MAJORITY ? json_integer (self.majority) : json_null (),
        "text", self.text, "needed", needed);
}
