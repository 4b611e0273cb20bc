/*  publisher.h: the fan-out tier. It follows the aggregator as a Clone
    client (snapshot, then sequenced updates; resync on a gap or a restart)
    and serves its own subscribers the same way: the same bytes on its own
    PUB socket, and snapshots from its own clone server. Several publishers can
    follow one aggregator; a slow subscriber only loses its own updates
    (dropped at the high-water mark, then noticed as a gap and resynced).
    When the upstream falls silent it says so on the "health" topic.       */
#ifndef PUBLISHER_H
#define PUBLISHER_H

#include "http.h"

typedef struct {
    const char *upstream_updates;   /* aggregator's PUB, connected */
    const char *upstream_snapshot;  /* aggregator's snapshot ROUTER, connected */
    const char *updates;            /* own PUB, bound */
    const char *snapshot;           /* own snapshot ROUTER, bound */
    int heartbeat_ms;
    int silence_ms;                 /* upstream silent this long: not live */
    http_config_t http;             /* the HTTP gateway; port 0: none (its nchan is set here) */
    const char *nchan_url;          /* post every event to this nchan location; NULL: none */
    size_t nchan_buffer;            /* bytes queued for nginx at most */
    const char *curve_secret;       /* own secret key file: CURVE on updates + snapshot */
    const char *allow;              /* with curve_secret: subscriber keys let in (auth.h);
                                       NULL: any client that knows our public key */
} publisher_config_t;

typedef struct publisher publisher_t;

/*  NULL on failure (logged). Caller owns it; free with publisher_destroy.  */
publisher_t *publisher_new (const publisher_config_t *config);
void publisher_destroy (publisher_t **self_p);

/*  Relays until SIGINT / SIGTERM. Returns 0 on a clean stop.  */
int publisher_run (publisher_t *self);

#endif
