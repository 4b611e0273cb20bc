/*  err.h: the project-wide error and rejection codes.

    el_err_t is what a call that reads or writes files a person looks after
    returns (0 is success), with the reason for a person in the caller's
    err buffer; the README's "Layout" section has the whole convention (what
    returns el_err_t, what returns -1 or NULL and logs, what does not log).
    el_reason_t says why a declaration was refused; its numbers are the
    RejectCode numbers of proto/election.proto (pinned in names.c), so the
    aggregator can put them on the wire without a translation table.       */
#ifndef EL_ERR_H
#define EL_ERR_H

typedef enum {
    EL_OK = 0,
    EL_ERR_NOMEM,       /* out of memory */
    EL_ERR_IO,          /* a file or socket could not be read or written */
    EL_ERR_PARSE,       /* malformed input file or message */
    EL_ERR_INVALID,     /* a value out of range or a bad argument */
    EL_ERR_NOT_FOUND,   /* no such seat, party or record */
    EL_ERR_CORRUPT      /* a checksum or length does not match */
} el_err_t;

typedef enum {
    EL_REASON_NONE = 0,
    EL_REASON_MALFORMED = 1,
    EL_REASON_WRONG_MODE = 2,
    EL_REASON_WRONG_ELECTION = 3,
    EL_REASON_UNKNOWN_SEAT = 4,
    EL_REASON_NO_CANDIDATES = 5,
    EL_REASON_DUPLICATE_CANDIDATE = 6,
    EL_REASON_VOTES_EXCEED_ELECTORATE = 7,
    EL_REASON_TIE_WITHOUT_ELECTED = 8,
    EL_REASON_EMPTY_PARTY = 9,
    EL_REASON_STALE_REVISION = 10,
    EL_REASON_REVISION_CONFLICT = 11,
    EL_REASON_BAD_REVISION = 12,
    EL_REASON_NOT_DECLARED = 13,
    EL_REASON_BAD_ELECTORATE = 14,
    EL_REASON_BAD_FIELD = 15,
    EL_REASON_NOT_AUTHORISED = 16,
    EL_REASON_BAD_RUSH = 17,
    EL_REASON_NOT_NOMINATED = 40,
    EL_REASON_PARTY_MISMATCH = 41,
    EL_REASON_CANDIDATE_MISSING = 42,
    EL_REASON_CONSTITUENCY_MISMATCH = 43,
    EL_REASON_ELECTORATE_MISMATCH = 44,
    EL_REASON_VALID_VOTES_MISMATCH = 45,
    EL_REASON_BALLOT_PAPERS_MISMATCH = 46,
    EL_REASON_BAD_EXIT_POLL = 100   /* ingest exit-poll: unknown party, too many seats... */
} el_reason_t;

/* A short fixed English phrase for a reason, e.g. "votes exceed electorate". */
const char *el_reason_text (el_reason_t reason);

/* A short fixed English phrase for an error code. */
const char *el_err_text (el_err_t err);

#endif
