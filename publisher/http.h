/*  http.h: the publisher's HTTP gateway for graphics templates and browsers
    (libmicrohttpd). It serves the state as JSON (GET /state, the
    `subscribe --once --json` contract; GET /seat/<ons_id>), streams every
    update as Server-Sent Events (GET /events: first the whole state, then
    one event per update with the sequence as its id, so a reconnecting
    browser resumes with Last-Event-ID), and static files (the results page)
    from a web root.

    Two sides, two threads. The publisher's zmq thread feeds it through the
    http_on_* calls, which only take a mutex, copy and render (they never
    wait on a client). Requests run on libmicrohttpd's threads, one per
    connection; an SSE client reads pre-rendered events from a ring, and one
    that falls a whole ring behind skips to a fresh state event.          */
#ifndef PUBLISHER_HTTP_H
#define PUBLISHER_HTTP_H

#include <stdbool.h>
#include "update_head.h"

typedef struct http http_t;

/*  Listens on address:port (a numeric IPv4 or IPv6 address) and serves
    static files from web_root (borrowed; must outlive the gateway). NULL on
    failure (logged). Caller owns the result; free with http_destroy, which
    ends every stream and joins the server's threads.                       */
http_t *http_new (const char *address, int port, const char *web_root);
void http_destroy (http_t **self_p);

/*  Feeding, from one thread only (the publisher's). A snapshot comes as
    http_on_reset, http_on_update with live false for each topic, then
    http_on_synced; only then do clients see it, all at once. Live updates
    (live true) are applied at once and streamed. bytes (a packed Update,
    head its top-level fields) are borrowed.                                */
void http_on_reset (http_t *self, const Election__Snapshot *header);
void http_on_update (http_t *self, const char *topic, const update_head_t *head,
                     const void *bytes, size_t size, bool live);
void http_on_synced (http_t *self, const Election__Snapshot *header);
/*  The publisher's own heartbeat (upstream_ok says if figures are live).   */
void http_on_health (http_t *self, const Election__Update *update);

#endif
