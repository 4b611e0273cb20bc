/*  http.h: the publisher's HTTP gateway for graphics templates and browsers
    (libmicrohttpd). It serves the state as JSON (GET /state, the
    `subscribe --once --json` contract, gzip-compressed when the client
    accepts it, with an ETag of epoch and sequence; GET /seats, every seat
    the store holds, the same way; GET /gains; GET /seat/<ons_id>, 404 for
    an id that is not a seat),
    streams every update as Server-Sent Events (GET /events: first the whole
    state, then one event per update, named by its topic's kind (seat,
    region, national, health), with the sequence as its id, so a
    reconnecting browser resumes with Last-Event-ID), and static files (the
    results page) from a web root.

    Two sides, two threads. The publisher's zmq thread feeds it through the
    http_on_* calls, which only take a mutex, copy and render (they never
    wait on a client). Requests run on libmicrohttpd's threads, one per
    connection; an SSE client reads pre-rendered events from a ring, and one
    that falls a whole ring behind skips to a fresh state event. The updates
    of one sequence reach the state and the streams together, with the
    "national" update that ends it, so /state is always a whole sequence.

    It is built for a graphics desk and a known audience, not the open
    internet: at most max_streams event streams (then 503 with Retry-After),
    per_ip connections from one address, idle connections closed after
    timeout_s. A large audience reads through nginx (nchan.h, deploy/nginx). */
#ifndef PUBLISHER_HTTP_H
#define PUBLISHER_HTTP_H

#include <stdbool.h>
#include "nchan.h"
#include "update_head.h"

#define HTTP_MAX_STREAMS    500     /* defaults of http_config_t */
#define HTTP_PER_IP         64
#define HTTP_TIMEOUT_S      15

typedef struct {
    const char *address;        /* numeric IPv4 or IPv6 address to bind; NULL: 127.0.0.1 */
    int port;
    const char *web_root;       /* static files; borrowed, must outlive the gateway */
    unsigned max_streams;       /* SSE clients at once; the next is told 503 */
    unsigned per_ip;            /* connections at once from one address */
    unsigned timeout_s;         /* a connection idle this long is closed */
    nchan_t *nchan;             /* borrowed: every event is also posted there; NULL: none */
} http_config_t;

typedef struct http http_t;

/*  NULL on failure (logged). Caller owns the result; free with
    http_destroy, which ends every stream and joins the server's threads.   */
http_t *http_new (const http_config_t *config);
void http_destroy (http_t **self_p);

/*  Feeding, from one thread only (the publisher's). A snapshot comes as
    http_on_reset, http_on_update with live false for each topic, then
    http_on_synced; only then do clients see it, all at once. Live updates
    (live true) are held until the "national" update that ends their
    sequence, then applied and streamed together. bytes (a packed Update,
    head its top-level fields) are borrowed.                                */
void http_on_reset (http_t *self, const Election__Snapshot *header);
void http_on_update (http_t *self, const char *topic, const update_head_t *head,
                     const void *bytes, size_t size, bool live);
void http_on_synced (http_t *self, const Election__Snapshot *header);
/*  The publisher's own heartbeat (upstream_ok says if figures are live).   */
void http_on_health (http_t *self, const Election__Update *update);

#endif
