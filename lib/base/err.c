/*  err.c: text for the project-wide codes.  */
#include "err.h"

const char *
el_reason_text (el_reason_t reason)
{
    switch (reason) {
        case EL_REASON_NONE:                    return "none";
        case EL_REASON_MALFORMED:               return "malformed message";
        case EL_REASON_WRONG_MODE:              return "wrong mode";
        case EL_REASON_WRONG_ELECTION:          return "wrong election id";
        case EL_REASON_UNKNOWN_SEAT:            return "unknown constituency";
        case EL_REASON_NO_CANDIDATES:           return "no candidates";
        case EL_REASON_DUPLICATE_CANDIDATE:     return "duplicate candidate";
        case EL_REASON_VOTES_EXCEED_ELECTORATE: return "votes exceed electorate";
        case EL_REASON_TIE_WITHOUT_ELECTED:     return "tie for first place without an elected flag";
        case EL_REASON_EMPTY_PARTY:             return "empty party code";
        case EL_REASON_STALE_REVISION:          return "revision lower than the one held";
        case EL_REASON_REVISION_CONFLICT:       return "same revision with different figures";
        case EL_REASON_BAD_REVISION:            return "revision must be 1 or more";
        case EL_REASON_NOT_DECLARED:            return "retraction of a seat not declared";
        case EL_REASON_BAD_ELECTORATE:          return "electorate zero or out of range";
        case EL_REASON_BAD_FIELD:               return "field too long, not UTF-8, or too many candidates";
        case EL_REASON_NOT_AUTHORISED:          return "sender not authorised for this seat";
        case EL_REASON_BAD_RUSH:                return "a rush must name exactly one winner";
        case EL_REASON_NOT_NOMINATED:           return "candidate not nominated in this seat";
        case EL_REASON_PARTY_MISMATCH:          return "party differs from the nomination";
        case EL_REASON_CANDIDATE_MISSING:       return "a nominated candidate is missing";
        case EL_REASON_CONSTITUENCY_MISMATCH:   return "constituency name is not the seat's";
        case EL_REASON_ELECTORATE_MISMATCH:     return "electorate too far from the register";
        case EL_REASON_VALID_VOTES_MISMATCH:    return "votes do not add up to the valid votes";
        case EL_REASON_BALLOT_PAPERS_MISMATCH:  return "valid and rejected do not add up to the ballot papers";
        case EL_REASON_BAD_EXIT_POLL:           return "bad exit poll";
    }
    return "unknown reason";
}

const char *
el_err_text (el_err_t err)
{
    switch (err) {
        case EL_OK:            return "ok";
        case EL_ERR_NOMEM:     return "out of memory";
        case EL_ERR_IO:        return "input/output error";
        case EL_ERR_PARSE:     return "malformed input";
        case EL_ERR_INVALID:   return "invalid argument";
        case EL_ERR_NOT_FOUND: return "not found";
        case EL_ERR_CORRUPT:   return "corrupt data";
    }
    return "unknown error";
}
