/*  pair.c: see pair.h.  */
#include "pair.h"
#include <stdio.h>
#include <stdlib.h>

struct pair {
    pair_config_t config;
    Election__PairState state;
    uint64_t term;              /* the highest term this node knows */
    int64_t heard_at;           /* mono ms the peer last spoke (or we started) */
    bool heard;                 /* the peer has spoken since we started */
    bool copy;                  /* our active last said we were its synced copy */
};

static const char *
s_name (Election__PairState state)
{
    switch (state) {
        case ELECTION__PAIR_STATE__PAIR_STARTING: return "starting";
        case ELECTION__PAIR_STATE__PAIR_ACTIVE:   return "active";
        case ELECTION__PAIR_STATE__PAIR_PASSIVE:  return "passive";
        default:                                  return "not paired";
    }
}

pair_t *
pair_new (const pair_config_t *config, uint64_t term, int64_t now)
{
    pair_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->config = *config;
    self->state = ELECTION__PAIR_STATE__PAIR_STARTING;
    self->term = term;
    //  A peer not heard since we started counts as silent only after the
    //  timeout, as one that stopped speaking
    self->heard_at = now;
    return self;
}

void
pair_destroy (pair_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    free (*self_p);
    *self_p = NULL;
}

Election__PairState
pair_state (const pair_t *self)
{
    return self->state;
}

uint64_t
pair_term (const pair_t *self)
{
    return self->term;
}

bool
pair_primary (const pair_t *self)
{
    return self->config.primary;
}

const char *
pair_role (const pair_t *self)
{
    return self->config.primary ? "primary" : "backup";
}

bool
pair_peer_alive (const pair_t *self, int64_t now)
{
    return now - self->heard_at < self->config.peer_timeout_ms;
}

bool
pair_may_take_over (const pair_t *self)
{
    return self->copy || self->config.take_over;
}

//  The next term that is ours: above all we know, odd for the primary
static void
s_take_term (pair_t *self)
{
    uint64_t term = self->term + 1;
    if ((term % 2 == 1) != self->config.primary)
        term++;
    self->term = term;
}

void
pair_new_term (pair_t *self)
{
    s_take_term (self);
}

static Election__PairState
s_become (pair_t *self, Election__PairState state)
{
    if (state == ELECTION__PAIR_STATE__PAIR_ACTIVE)
        s_take_term (self);
    if (state != ELECTION__PAIR_STATE__PAIR_PASSIVE)
        self->copy = false;
    self->state = state;
    return state;
}

//  True if our journal is further on than the peer's; a tie goes to the primary
static bool
s_we_lead (const pair_t *self, const pair_peer_t *peer, const pair_log_t *own)
{
    if (own->last_term != peer->last_term)
        return own->last_term > peer->last_term;
    if (own->last_sequence != peer->last_sequence)
        return own->last_sequence > peer->last_sequence;
    return self->config.primary;
}

Election__PairState
pair_on_peer (pair_t *self, const pair_peer_t *peer, const pair_log_t *own,
              int64_t now, char *why, size_t why_size)
{
    self->heard_at = now;
    self->heard = true;
    uint64_t our_term = self->term;
    if (peer->term > self->term)
        self->term = peer->term;
    const char *their_role = peer->primary ? "primary" : "backup";
    bool they_active = peer->state == ELECTION__PAIR_STATE__PAIR_ACTIVE;

    if (self->state == ELECTION__PAIR_STATE__PAIR_ACTIVE) {
        //  Two actives (they took over while we could not hear each other):
        //  the later term stands, the other steps down at once
        if (they_active && peer->term > our_term) {
            snprintf (why, why_size, "the %s is active in a later term (%llu, ours %llu): "
                      "stepping down to standby", their_role, (unsigned long long) peer->term,
                      (unsigned long long) our_term);
            return s_become (self, ELECTION__PAIR_STATE__PAIR_PASSIVE);
        }
        self->term = our_term;      //  an active keeps its own term
        return ELECTION__PAIR_STATE__PAIR_NONE;
    }
    if (they_active) {
        //  Our active says whether every declaration it acknowledges waits
        //  for us: that is what lets us take over when it is gone
        self->copy = peer->copy;
        if (self->state == ELECTION__PAIR_STATE__PAIR_PASSIVE)
            return ELECTION__PAIR_STATE__PAIR_NONE;
        snprintf (why, why_size, "the %s is active (term %llu): standby",
                  their_role, (unsigned long long) peer->term);
        return s_become (self, ELECTION__PAIR_STATE__PAIR_PASSIVE);
    }
    //  Neither of us is active: the one that holds more becomes active
    if (s_we_lead (self, peer, own)) {
        snprintf (why, why_size, "the %s is %s and our journal is %s (ours: sequence %llu "
                  "term %llu; theirs: %llu term %llu): taking over",
                  their_role, s_name (peer->state),
                  own->last_term == peer->last_term && own->last_sequence == peer->last_sequence
                      ? "as far on, and we are the primary" : "further on",
                  (unsigned long long) own->last_sequence, (unsigned long long) own->last_term,
                  (unsigned long long) peer->last_sequence, (unsigned long long) peer->last_term);
        return s_become (self, ELECTION__PAIR_STATE__PAIR_ACTIVE);
    }
    return ELECTION__PAIR_STATE__PAIR_NONE;     //  the peer will take over
}

Election__PairState
pair_on_vote (pair_t *self, const pair_log_t *own, int64_t now, char *why, size_t why_size)
{
    (void) own;
    if (self->state == ELECTION__PAIR_STATE__PAIR_ACTIVE)
        return ELECTION__PAIR_STATE__PAIR_NONE;
    if (pair_peer_alive (self, now)) {
        snprintf (why, why_size, "the %s is %s", self->config.primary ? "backup" : "primary",
                  self->heard ? "alive" : "not heard yet, and may be alive");
        return ELECTION__PAIR_STATE__PAIR_NONE;
    }
    if (!pair_may_take_over (self)) {
        snprintf (why, why_size, "the peer has been silent for %lld ms, but this aggregator "
                  "was not its synced copy%s: it may lack acknowledged declarations, so it "
                  "will NOT take over by itself (restart the peer, or start this one with "
                  "--take-over to accept that loss)", (long long) (now - self->heard_at),
                  self->heard ? " when it last heard it" : " (it has not heard it since it started)");
        return ELECTION__PAIR_STATE__PAIR_NONE;
    }
    snprintf (why, why_size, "the peer has been silent for %lld ms and a client turned to us%s: "
              "taking over", (long long) (now - self->heard_at),
              self->copy ? " (we were its synced copy)" : " (--take-over)");
    return s_become (self, ELECTION__PAIR_STATE__PAIR_ACTIVE);
}
