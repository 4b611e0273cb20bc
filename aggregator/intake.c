/*  intake.c: see intake.h.  */
#include "intake.h"
#include "names.h"
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

//  True if text is well-formed UTF-8 (no overlongs, no surrogates)
static bool
s_utf8_valid (const char *text)
{
    const unsigned char *c = (const unsigned char *) text;
    while (*c) {
        size_t extra;
        uint32_t point;
        if (*c < 0x80) { c++; continue; }
        else if ((*c & 0xE0) == 0xC0) { extra = 1; point = *c & 0x1F; }
        else if ((*c & 0xF0) == 0xE0) { extra = 2; point = *c & 0x0F; }
        else if ((*c & 0xF8) == 0xF0) { extra = 3; point = *c & 0x07; }
        else return false;
        c++;
        for (size_t i = 0; i < extra; i++, c++) {
            if ((*c & 0xC0) != 0x80)
                return false;
            point = (point << 6) | (*c & 0x3F);
        }
        if ((extra == 1 && point < 0x80) || (extra == 2 && point < 0x800)
        ||  (extra == 3 && point < 0x10000) || point > 0x10FFFF
        ||  (point >= 0xD800 && point <= 0xDFFF))
            return false;
    }
    return true;
}

//  True if text has no control characters: a newline in a name would let a
//  sender forge lines of the aggregator's log, which echoes names
static bool
s_printable (const char *text)
{
    for (const unsigned char *c = (const unsigned char *) text; *c; c++)
        if (*c < 0x20 || *c == 0x7F)
            return false;
    return true;
}

static bool
s_text_ok (const char *text, size_t max)
{
    return text && strlen (text) <= max && s_utf8_valid (text) && s_printable (text);
}

//  A copy of untrusted text safe to echo in a reply or a log line: printable
//  ASCII, anything else as '?', at most size-1 bytes
static void
s_echo (const char *text, char *buf, size_t size)
{
    size_t i = 0;
    for (; text && text [i] && i + 1 < size; i++)
        buf [i] = text [i] >= 0x20 && text [i] < 0x7F ? text [i] : '?';
    buf [i] = 0;
}

//  Empties an intake but for its arena's bytes (4 KB not worth zeroing)
static void
s_clear (intake_t *intake)
{
    memset (intake, 0, offsetof (intake_t, arena));
}

//  The arena's allocator (protobuf-c's): 16-byte aligned pieces of the
//  arena while they fit, then malloc'd blocks chained for s_arena_free
typedef struct s_block { struct s_block *next; _Alignas (16) uint8_t bytes []; } s_block_t;

static void *
s_arena_alloc (void *data, size_t size)
{
    intake_t *intake = data;
    size_t rounded = (size + 15) & ~(size_t) 15;
    if (rounded >= size && rounded <= INTAKE_ARENA - intake->arena_used) {
        void *piece = intake->arena + intake->arena_used;
        intake->arena_used += rounded;
        return piece;
    }
    s_block_t *block = malloc (sizeof (s_block_t) + size);
    if (!block)
        return NULL;
    block->next = intake->overflow;
    intake->overflow = block;
    return block->bytes;
}

//  Pieces are freed all at once (s_arena_free), never one by one
static void
s_arena_piece_free (void *data, void *pointer)
{
    (void) data;
    (void) pointer;
}

static void
s_arena_free (intake_t *intake)
{
    s_block_t *block = intake->overflow;
    while (block) {
        s_block_t *next = block->next;
        free (block);
        block = next;
    }
    intake->overflow = NULL;
    intake->arena_used = 0;
}

//  The checks and views of a decoded message, into an intake cleared
//  (whose arena may hold the message)
static el_reason_t
s_from_message (Election__Declaration *message, intake_t *intake, char *text, size_t text_size)
{
    const char *ons_id = message->ons_id ? message->ons_id : "";
    if (!s_text_ok (ons_id, INTAKE_MAX_CODE)
    ||  (message->source_id && !s_text_ok (message->source_id, INTAKE_MAX_NAME))) {
        snprintf (text, text_size, "seat id or source id too long, not UTF-8 or with control characters");
        return EL_REASON_BAD_FIELD;
    }
    if ((message->constituency && !s_text_ok (message->constituency, INTAKE_MAX_NAME))
    ||  (message->note && !s_text_ok (message->note, INTAKE_MAX_NAME))) {
        snprintf (text, text_size, "%s: constituency or note too long, not UTF-8 or with "
                  "control characters", ons_id);
        return EL_REASON_BAD_FIELD;
    }
    if (message->n_candidates > INTAKE_MAX_CANDIDATES) {
        snprintf (text, text_size, "%s: %zu candidates, at most %d", ons_id,
                  message->n_candidates, INTAKE_MAX_CANDIDATES);
        return EL_REASON_BAD_FIELD;
    }
    if (message->electorate > INTAKE_MAX_ELECTORATE) {
        snprintf (text, text_size, "%s: electorate %u is absurd", ons_id, message->electorate);
        return EL_REASON_BAD_ELECTORATE;
    }
    if (message->revision > INTAKE_MAX_REVISION) {
        snprintf (text, text_size, "%s: revision %u is absurd", ons_id, message->revision);
        return EL_REASON_BAD_REVISION;
    }
    if (message->kind != ELECTION__DECLARATION_KIND__KIND_RESULT
    &&  message->kind != ELECTION__DECLARATION_KIND__KIND_RUSH) {
        snprintf (text, text_size, "%s: unknown declaration kind %d", ons_id, message->kind);
        return EL_REASON_BAD_FIELD;
    }
    if ((unsigned) message->reason > ELECTION__REVISION_REASON__REASON_RETRACTION) {
        snprintf (text, text_size, "%s: unknown revision reason %d", ons_id, message->reason);
        return EL_REASON_BAD_FIELD;
    }
    intake->candidates = calloc (message->n_candidates ? message->n_candidates : 1,
                                 sizeof *intake->candidates);
    if (!intake->candidates) {
        snprintf (text, text_size, "out of memory");
        return EL_REASON_MALFORMED;
    }
    for (size_t i = 0; i < message->n_candidates; i++) {
        Election__Candidate *in = message->candidates [i];
        const char *name = in->name ? in->name : "";
        const char *party = in->party ? in->party : "";
        if (!s_text_ok (name, INTAKE_MAX_NAME) || !s_text_ok (party, INTAKE_MAX_CODE)) {
            snprintf (text, text_size, "%s: candidate %zu name or party too long, not UTF-8 "
                      "or with control characters",
                      ons_id, i + 1);
            free (intake->candidates);
            intake->candidates = NULL;
            return EL_REASON_BAD_FIELD;
        }
        intake->candidates [i] = (candidate_t) {
            .name = (char *) name, .party = (char *) party,
            .votes = in->votes, .elected = in->has_elected && in->elected
        };
    }
    intake->decl = (declaration_t) {
        .ons_id = ons_id,
        .revision = message->revision,
        .kind = message->kind == ELECTION__DECLARATION_KIND__KIND_RUSH ? DECL_RUSH : DECL_RESULT,
        .reason = (revision_reason_t) message->reason,
        .electorate = message->electorate,
        .declared_at_ms = message->declared_at_ms,
        .candidates = intake->candidates,
        .n_candidates = message->n_candidates,
        .has_valid_votes = message->has_valid_votes,
        .valid_votes = message->valid_votes,
        .has_rejected_ballots = message->has_rejected_ballots,
        .rejected_ballots = message->rejected_ballots,
        .has_ballot_papers = message->has_ballot_papers,
        .ballot_papers = message->ballot_papers
    };
    return EL_REASON_NONE;
}

el_reason_t
intake_from_message (Election__Declaration *message, intake_t *intake,
                     char *text, size_t text_size)
{
    s_clear (intake);
    return s_from_message (message, intake, text, text_size);
}

el_reason_t
intake_decode (const void *bytes, size_t size, Election__Mode mode,
               const char *election_id, intake_t *intake,
               uint64_t *request_id, char *text, size_t text_size)
{
    s_clear (intake);
    *request_id = 0;
    ProtobufCAllocator arena = { s_arena_alloc, s_arena_piece_free, intake };
    Election__Declaration *message = election__declaration__unpack (&arena, size, bytes);
    if (!message) {
        s_arena_free (intake);
        snprintf (text, text_size, "frame of %zu bytes is not a Declaration", size);
        return EL_REASON_MALFORMED;
    }
    *request_id = message->request_id;
    el_reason_t reason = EL_REASON_NONE;
    if (message->mode != mode) {
        snprintf (text, text_size, "declaration in %s mode sent to a %s aggregator",
                  names_mode (message->mode), names_mode (mode));
        reason = EL_REASON_WRONG_MODE;
    }
    else
    if (!message->election_id || strcmp (message->election_id, election_id) != 0) {
        char echo [65];
        s_echo (message->election_id, echo, sizeof echo);
        snprintf (text, text_size, "election id \"%s\" is not \"%s\"", echo, election_id);
        reason = EL_REASON_WRONG_ELECTION;
    }
    else
        reason = s_from_message (message, intake, text, text_size);
    if (reason) {
        free (intake->candidates);
        s_arena_free (intake);
        s_clear (intake);
        return reason;
    }
    intake->message = message;
    intake->bytes = bytes;
    intake->size = size;
    return EL_REASON_NONE;
}

void
intake_release (intake_t *intake)
{
    //  A decoded message is all in the arena (and its overflow)
    s_arena_free (intake);
    free (intake->candidates);
    s_clear (intake);
}
