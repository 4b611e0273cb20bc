/*  aggregator.h: the aggregator server. It receives declarations on a
    ROUTER socket, validates and applies them with the tally, journals the
    accepted ones (group commit: one fdatasync per batch), and only then
    publishes the changed summaries and acknowledges. It serves snapshots of
    the whole state (Clone pattern) and heartbeats once a second.

    With nominations it also checks each declaration against them and
    holds the improbable for a second look (README "Nominations and
    checks", "The hold"); and it answers requests other than declarations
    on the ingest socket (a command name, then a payload: "nominations",
    "revision"), from one dispatch table. One of a pair (--role), it takes
    declarations only while active, and then acknowledges a batch once its
    standby holds it too (pair.h, replica.h).                              */
#ifndef AGGREGATOR_H
#define AGGREGATOR_H

#include <stdbool.h>
#include "election.pb-c.h"
#include "scrutiny.h"

typedef struct {
    const char *baseline;           /* results CSV of the previous election */
    const char *speaker_as;         /* NULL: Speaker is a party of its own */
    const char *baseline_speaker_as;
    const char *ingest;             /* ROUTER bind endpoint */
    const char *updates;            /* PUB bind endpoint */
    const char *snapshot;           /* ROUTER bind endpoint */
    const char *election;           /* election id declarations must carry */
    Election__Mode mode;
    const char *journal;            /* NULL: no journal (nothing survives a crash) */
    bool truncate_corrupt;          /* start even if the journal is corrupt mid-file */
    int heartbeat_ms;
    const char *curve_secret;       /* secret key file: CURVE on the ingest socket */
    const char *allow;              /* allow-list of centre keys and seats (auth.h) */
    const char *parties;            /* party register; NULL: parties.csv beside the
                                       baseline if there is one, else none */
    const char *nominations;        /* who stands where; NULL: declarations are
                                       checked against nothing (said loudly) */
    double electorate_tolerance;    /* percent a declared electorate may be from
                                       the register's (with nominations) */
    bool hold;                      /* with nominations: hold the improbable */
    scrutiny_options_t scrutiny;    /* what is improbable */
    uint32_t exit_poll_until;       /* the exit poll is the projection's basis until
                                       this many results (desk.h) */
    const char *exit_poll_from;     /* under CURVE: the one centre (allow-list name)
                                       that may publish an exit poll */
    //  A pair (README "A pair of aggregators"); role NULL: on its own
    const char *role;               /* "primary" or "backup" */
    const char *peer;               /* the other's peer endpoint (connect) */
    const char *peer_bind;          /* our peer endpoint (bind) */
    const char *peer_key;           /* our key pair's name; NULL: open link */
    const char *peer_public;        /* the other's public key file */
    bool take_over;                 /* may take over without being a known copy */
    int peer_heartbeat_ms;
    int peer_timeout_ms;
    int copy_timeout_ms;
} aggregator_config_t;

typedef struct aggregator aggregator_t;

/*  Loads the baseline, recovers the journal, binds the sockets. NULL on
    failure (logged). Caller owns it; free with aggregator_destroy.         */
aggregator_t *aggregator_new (const aggregator_config_t *config);
void aggregator_destroy (aggregator_t **self_p);

/*  Serves until SIGINT / SIGTERM. Returns 0 on a clean stop.  */
int aggregator_run (aggregator_t *self);

#endif
