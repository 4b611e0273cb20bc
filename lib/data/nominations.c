/*  nominations.c: see nominations.h.  */
#include "nominations.h"
#include "strmap.h"
#include <assert.h>
#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

//  Where a candidate's name stands: seat and candidate, and the next entry
//  of the same name (another seat), or SIZE_MAX
typedef struct {
    size_t seat;
    size_t next;
} s_stand_t;

struct nominations {
    results_t *seats;
    strmap_t *by_id;            /* ons_id -> seat; keys borrowed */
    strmap_t *by_name;          /* candidate name -> first stand; keys borrowed */
    s_stand_t *stands;          /* one per candidate */
};

//  True if two spellings are equal but for case and anything not a letter
//  or digit ("kelvin  hopkins" and "Kelvin Hopkins"; "LUTON NORTH")
static bool
s_alike (const char *a, const char *b)
{
    while (true) {
        while (*a && !isalnum ((unsigned char) *a) && (unsigned char) *a < 0x80)
            a++;
        while (*b && !isalnum ((unsigned char) *b) && (unsigned char) *b < 0x80)
            b++;
        if (!*a || !*b)
            return !*a && !*b;
        if (tolower ((unsigned char) *a) != tolower ((unsigned char) *b))
            return false;
        a++;
        b++;
    }
}

bool
nominations_same_name (const char *a, const char *b)
{
    return a && b && s_alike (a, b);
}

static el_err_t
s_fail (char *err, size_t errlen, el_err_t rc, const char *format, ...)
    __attribute__ ((format (printf, 4, 5)));

static el_err_t
s_fail (char *err, size_t errlen, el_err_t rc, const char *format, ...)
{
    if (err && errlen) {
        va_list args;
        va_start (args, format);
        vsnprintf (err, errlen, format, args);
        va_end (args);
    }
    return rc;
}

el_err_t
nominations_from (results_t **seats_p, nominations_t **self_p, char *err, size_t errlen)
{
    assert (seats_p);
    assert (self_p);
    *self_p = NULL;
    nominations_t *self = calloc (1, sizeof *self);
    if (!self) {
        results_destroy (seats_p);
        return s_fail (err, errlen, EL_ERR_NOMEM, "out of memory");
    }
    self->seats = *seats_p;
    *seats_p = NULL;
    size_t candidates = 0;
    for (size_t i = 0; i < self->seats->n_seats; i++)
        candidates += self->seats->seats [i].n_candidates;
    self->by_id = strmap_new_borrowed (self->seats->n_seats);
    self->by_name = strmap_new_borrowed (candidates);
    self->stands = calloc (candidates ? candidates : 1, sizeof *self->stands);
    if (!self->by_id || !self->by_name || !self->stands) {
        nominations_destroy (&self);
        return s_fail (err, errlen, EL_ERR_NOMEM, "out of memory");
    }
    el_err_t rc = EL_OK;
    size_t stand = 0;
    for (size_t i = 0; !rc && i < self->seats->n_seats; i++) {
        const seat_result_t *seat = &self->seats->seats [i];
        if (strmap_put (self->by_id, seat->ons_id, i))
            rc = s_fail (err, errlen, EL_ERR_NOMEM, "out of memory");
        for (size_t c = 0; !rc && c < seat->n_candidates; c++, stand++) {
            const char *name = seat->candidates [c].name;
            if (!name || !*name) {
                rc = s_fail (err, errlen, EL_ERR_PARSE, "seat %s: a nominated candidate (%s) "
                             "has no name", seat->ons_id, seat->candidates [c].party);
                break;
            }
            size_t first;
            if (strmap_get (self->by_name, name, &first) && self->stands [first].seat == i) {
                rc = s_fail (err, errlen, EL_ERR_PARSE, "seat %s: %s is nominated twice",
                             seat->ons_id, name);
                break;
            }
            //  The newest stand first: a chain through every seat of the name
            self->stands [stand] = (s_stand_t) { i, strmap_get (self->by_name, name, &first)
                                                    ? first : SIZE_MAX };
            if (strmap_put (self->by_name, name, stand))
                rc = s_fail (err, errlen, EL_ERR_NOMEM, "out of memory");
        }
    }
    if (rc)
        nominations_destroy (&self);
    *self_p = self;
    return rc;
}

el_err_t
nominations_load (const char *path, nominations_t **self_p, char *err, size_t errlen)
{
    assert (path);
    results_t *seats = NULL;
    *self_p = NULL;
    el_err_t rc = results_load_nominations (path, &seats, err, errlen);
    if (rc)
        return rc;
    char reason [256];
    rc = nominations_from (&seats, self_p, reason, sizeof reason);
    if (rc)
        s_fail (err, errlen, rc, "%s: %s", path, reason);
    return rc;
}

void
nominations_destroy (nominations_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    nominations_t *self = *self_p;
    strmap_destroy (&self->by_id);
    strmap_destroy (&self->by_name);
    free (self->stands);
    results_destroy (&self->seats);
    free (self);
    *self_p = NULL;
}

size_t
nominations_count (const nominations_t *self)
{
    return self ? self->seats->n_seats : 0;
}

const seat_result_t *
nominations_at (const nominations_t *self, size_t index)
{
    return self && index < self->seats->n_seats ? &self->seats->seats [index] : NULL;
}

const seat_result_t *
nominations_seat (const nominations_t *self, const char *ons_id)
{
    size_t index;
    if (!self || !ons_id || !strmap_get (self->by_id, ons_id, &index))
        return NULL;
    return &self->seats->seats [index];
}


//  ---------------------------------------------------------------------
//  The checks

static el_reason_t
s_refuse (el_reason_t reason, char *text, size_t size, const char *format, ...)
    __attribute__ ((format (printf, 4, 5)));

static el_reason_t
s_refuse (el_reason_t reason, char *text, size_t size, const char *format, ...)
{
    va_list args;
    va_start (args, format);
    vsnprintf (text, size, format, args);
    va_end (args);
    return reason;
}

static const candidate_t *
s_nominated (const seat_result_t *seat, const char *name)
{
    for (size_t i = 0; name && i < seat->n_candidates; i++)
        if (strcmp (seat->candidates [i].name, name) == 0)
            return &seat->candidates [i];
    return NULL;
}

//  A candidate the seat does not have: say where he stands, or whom the
//  clerk may have meant
static el_reason_t
s_not_nominated (const nominations_t *self, const seat_result_t *seat, const char *name,
                 char *text, size_t size)
{
    size_t stand;
    if (*name && strmap_get (self->by_name, name, &stand)) {
        const seat_result_t *there = &self->seats->seats [self->stands [stand].seat];
        bool more = self->stands [stand].next != SIZE_MAX;
        return s_refuse (EL_REASON_NOT_NOMINATED, text, size, "%.60s stands in %s %.60s%s, "
                         "not in %s %.60s", name, there->ons_id, there->name,
                         more ? " (and elsewhere)" : "", seat->ons_id, seat->name);
    }
    for (size_t i = 0; i < seat->n_candidates; i++)
        if (s_alike (seat->candidates [i].name, name))
            return s_refuse (EL_REASON_NOT_NOMINATED, text, size, "\"%.60s\" is not nominated "
                             "in %s %.60s: did you mean %.60s?", name, seat->ons_id, seat->name,
                             seat->candidates [i].name);
    int used = snprintf (text, size, "\"%.60s\" is not nominated in %s %.60s; nominated:",
                         name, seat->ons_id, seat->name);
    for (size_t i = 0; used > 0 && (size_t) used < size && i < seat->n_candidates; i++)
        used += snprintf (text + used, size - (size_t) used, "%s %s (%s)", i ? "," : "",
                          seat->candidates [i].name, seat->candidates [i].party);
    return EL_REASON_NOT_NOMINATED;
}

//  The seat whose name the declaration gives, if another
static const seat_result_t *
s_seat_named (const nominations_t *self, const char *name)
{
    for (size_t i = 0; i < self->seats->n_seats; i++)
        if (s_alike (self->seats->seats [i].name, name))
            return &self->seats->seats [i];
    return NULL;
}

el_reason_t
nominations_check (const nominations_t *self, const parties_t *parties,
                   const nominations_claim_t *claim, double tolerance_pct,
                   char *text, size_t size)
{
    assert (self);
    assert (claim);
    const seat_result_t *seat = nominations_seat (self, claim->ons_id);
    if (!seat)
        return s_refuse (EL_REASON_NOT_NOMINATED, text, size, "no candidate is nominated in "
                         "%.40s: it is not in the nominations", claim->ons_id ? claim->ons_id : "");
    for (size_t i = 0; i < claim->n_candidates; i++) {
        const candidate_t *sent = &claim->candidates [i];
        const char *name = sent->name ? sent->name : "";
        const candidate_t *nominated = s_nominated (seat, name);
        if (!nominated)
            return s_not_nominated (self, seat, name, text, size);
        if (strcmp (nominated->party, sent->party ? sent->party : "") != 0) {
            const party_entry_t *meant = parties_match (parties, sent->party);
            bool alias = meant && strcmp (meant->code, nominated->party) == 0;
            return s_refuse (EL_REASON_PARTY_MISMATCH, text, size, "%.60s is nominated for "
                             "%.20s; the declaration says %.40s%s%.20s", name,
                             nominated->party, sent->party ? sent->party : "",
                             alias ? ": send the code " : "", alias ? nominated->party : "");
        }
    }
    if (!claim->rush)
        for (size_t i = 0; i < seat->n_candidates; i++) {
            bool present = false;
            for (size_t j = 0; !present && j < claim->n_candidates; j++)
                present = claim->candidates [j].name
                       && strcmp (claim->candidates [j].name, seat->candidates [i].name) == 0;
            if (!present)
                return s_refuse (EL_REASON_CANDIDATE_MISSING, text, size, "%.60s (%.20s), "
                                 "nominated in %s %.60s, is missing: send every nominated "
                                 "candidate, 0 votes as 0", seat->candidates [i].name,
                                 seat->candidates [i].party, seat->ons_id, seat->name);
        }
    if (claim->constituency && *claim->constituency && !s_alike (claim->constituency, seat->name)) {
        const seat_result_t *named = s_seat_named (self, claim->constituency);
        return s_refuse (EL_REASON_CONSTITUENCY_MISMATCH, text, size, "the declaration names "
                         "%.60s but %s is %.60s: check the seat id%s%s%s", claim->constituency,
                         seat->ons_id, seat->name, named ? " (" : "",
                         named ? named->ons_id : "", named ? " is that name)" : "");
    }
    if (claim->electorate && seat->electorate) {
        double off = 100.0 * ((double) claim->electorate - (double) seat->electorate)
                           / (double) seat->electorate;
        if (fabs (off) > tolerance_pct)
            return s_refuse (EL_REASON_ELECTORATE_MISMATCH, text, size, "electorate %u is "
                             "%.1f%% %s the register's %u for %s (more than %g%%): check it",
                             claim->electorate, fabs (off), off > 0 ? "above" : "below",
                             seat->electorate, seat->ons_id, tolerance_pct);
    }
    return EL_REASON_NONE;
}
