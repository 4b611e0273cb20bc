/*  publisher.c: see publisher.h.  */
#include "publisher.h"
#include "auth.h"
#include "clone_client.h"
#include "http.h"
#include "keys.h"
#include "nchan.h"
#include "log.h"
#include "clone_server.h"
#include "clock.h"
#include "guard.h"
#include "signals.h"
#include "update_head.h"
#include "net.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define S_PUB_HWM 100000
#define S_FRESHEN_MS 1000       /* reading upstream before a snapshot, at most */
#define S_QUIET_MS   3          /* ... until it has been quiet this long */
#define S_UPDATES_PEERS 4096    /* subscribers at once */
#define S_SUBSCRIPTIONS 256     /* (un)subscriptions admitted per turn */

struct publisher {
    publisher_config_t config;
    void *ctx;
    void *updates;
    void *snapshot;
    guard_t *updates_guard;     /* what each subscriber may make us hold */
    guard_t *snapshot_guard;
    clone_client_t *upstream;
    auth_t *auth;               /* subscribers' allow-list; NULL: none */
    clone_server_t *server;
    http_t *http;               /* NULL: no HTTP gateway */
    nchan_t *nchan;             /* NULL: no nginx web tier */
    Election__Mode mode;
    bool was_live;              /* upstream state at the last heartbeat */
    int64_t next_heartbeat;
    uint64_t forwarded;
    Election__Heartbeat pair;   /* upstream's pair fields, relayed on ours */
    char pair_role [16];
    //  What upstream says of its own source (its heartbeats, its snapshot
    //  header), relayed: a failing journal at the aggregator is not live
    //  at any screen, however well the links below it work
    bool upstream_says_ok;
    char upstream_stale [16];   /* which tier upstream says is not live */
    bool was_relayed_ok;
};

//  What upstream says of its source; stale_source NULL: the tier that said
//  it, `from` (an upstream from before stale_source)
static void
s_upstream_health (publisher_t *self, bool ok, const char *stale_source, const char *from)
{
    self->upstream_says_ok = ok;
    snprintf (self->upstream_stale, sizeof self->upstream_stale, "%s",
              ok ? "" : stale_source && *stale_source ? stale_source : from);
}

static void
s_on_reset (void *arg, const Election__Snapshot *header)
{
    publisher_t *self = arg;
    if (clone_server_clear (self->server))
        log_error ("PUB010", "out of memory clearing the store");
    self->mode = header->mode;
    s_upstream_health (self, !header->has_upstream_ok || header->upstream_ok, header->stale_source,
                       "publisher");
    if (self->http)
        http_on_reset (self->http, header);
}

static void
s_on_update (void *arg, const char *topic, const update_head_t *head,
             const void *bytes, size_t size, bool live)
{
    publisher_t *self = arg;
    if (clone_server_put (self->server, topic, bytes, size))
        log_error ("PUB011", "out of memory storing %s", topic);
    if (self->http)
        http_on_update (self->http, topic, head, bytes, size, live);
    if (live) {
        //  The same bytes as received: encoded once, at the aggregator
        net_send_str (self->updates, topic, ZMQ_SNDMORE);
        zmq_send (self->updates, bytes, size, 0);
        self->forwarded++;
    }
}

static void
s_on_synced (void *arg, const Election__Snapshot *header)
{
    publisher_t *self = arg;
    log_info ("PUB002", "following upstream at sequence %llu (%zu topics)",
              (unsigned long long) header->sequence, clone_server_count (self->server));
    if (self->http)
        http_on_synced (self->http, header);
}

//  The aggregator's word on its pair (which is active, whether a copy
//  exists) is relayed on our own heartbeats, for the screens' indicator
static void
s_on_heartbeat (void *arg, const Election__Update *update)
{
    publisher_t *self = arg;
    const Election__Heartbeat *beat = update->heartbeat;
    Election__Heartbeat pair = ELECTION__HEARTBEAT__INIT;
    pair.has_pair_state = beat->has_pair_state && beat->pair_state == ELECTION__PAIR_STATE__PAIR_ACTIVE;
    pair.pair_state = beat->pair_state;
    snprintf (self->pair_role, sizeof self->pair_role, "%s", beat->pair_role ? beat->pair_role : "");
    pair.has_copy = beat->has_copy;
    pair.copy = beat->copy;
    pair.has_copy_behind = beat->has_copy_behind;
    pair.copy_behind = beat->copy_behind;
    pair.has_term = beat->has_term;
    pair.term = beat->term;
    self->pair = pair;
    s_upstream_health (self, !beat->has_upstream_ok || beat->upstream_ok, beat->stale_source,
                       beat->source ? beat->source : "aggregator");
}

static bool
s_upstream_live (const publisher_t *self)
{
    return clone_client_synced (self->upstream)
        && clone_client_silent_ms (self->upstream) < self->config.silence_ms;
}

//  Whether the figures we serve are live: our own link, and what upstream
//  says of its source. *stale: which tier is not live ("" when live)
static bool
s_live (const publisher_t *self, const char **stale)
{
    bool linked = s_upstream_live (self);
    *stale = !linked ? "publisher" : !self->upstream_says_ok ? self->upstream_stale : "";
    return linked && self->upstream_says_ok;
}

static void
s_heartbeat (publisher_t *self)
{
    bool linked = s_upstream_live (self);
    int64_t silent = clone_client_silent_ms (self->upstream);
    if (linked != self->was_live) {
        if (linked)
            log_info ("PUB020", "upstream live");
        else
            log_warn ("PUB021", "upstream %s silent for %lld ms: telling subscribers figures may be stale",
                      self->config.upstream_updates, (long long) silent);
        self->was_live = linked;
    }
    const char *stale;
    bool live = s_live (self, &stale);
    bool relayed_ok = !linked || self->upstream_says_ok;    //  what upstream says, while we hear it
    if (relayed_ok != self->was_relayed_ok) {
        if (relayed_ok)
            log_info ("PUB301", "upstream says its source is live again");
        else
            log_warn ("PUB300", "upstream says its source is not live (%s): telling subscribers "
                      "figures may be stale", self->upstream_stale);
        self->was_relayed_ok = relayed_ok;
    }
    clone_server_set_stale_source (self->server, live ? NULL : stale);
    Election__Heartbeat heartbeat = self->pair;
    heartbeat.pair_role = self->pair_role [0] ? self->pair_role : NULL;
    heartbeat.has_upstream_ok = true;
    heartbeat.upstream_ok = live;
    heartbeat.stale_source = live ? NULL : (char *) stale;
    heartbeat.has_silent_ms = true;
    heartbeat.silent_ms = (uint32_t) (silent > UINT32_MAX ? UINT32_MAX : silent);
    heartbeat.source = "publisher";
    if (self->nchan) {
        //  Whether the web tier has every event: readers of nginx rely on it
        bool ok;
        uint64_t dropped;
        nchan_stats (self->nchan, &ok, &dropped);
        heartbeat.has_web_ok = heartbeat.has_web_dropped = true;
        heartbeat.web_ok = ok;
        heartbeat.web_dropped = dropped;
    }
    Election__Update update;
    update_head_t head = { .sequence = clone_client_sequence (self->upstream),
                           .epoch = clone_client_epoch (self->upstream),
                           .mode = self->mode, .sent_at_us = clock_now_us () };
    clone_server_send_heartbeat (self->updates, &head, &heartbeat, &update);
    if (self->http)
        http_on_health (self->http, &update);
    self->next_heartbeat = clock_mono_ms () + self->config.heartbeat_ms;
    log_tick ();        //  the count of warnings held back, once their window ends
}

static void
s_serve_snapshots (publisher_t *self)
{
    //  Epoch 0 tells followers we hold nothing yet: they wait and ask again
    update_head_t head = { .sequence = clone_client_sequence (self->upstream),
                           .epoch = clone_client_synced (self->upstream)
                                  ? clone_client_epoch (self->upstream) : 0,
                           .mode = self->mode };
    const char *stale;
    bool live = s_live (self, &stale);
    clone_server_set_stale_source (self->server, live ? NULL : stale);
    clone_server_serve_guarded (self->server, self->snapshot_guard, &head, live, 16);
}

//  The paid-feed option: CURVE on both serving sockets (before they bind),
//  with an allow-list of subscriber keys if one is given
static int
s_secure (publisher_t *self)
{
    if (!self->config.curve_secret)
        return 0;
    char secret [KEYS_Z85_SIZE], err [512];
    if (keys_read_secret (self->config.curve_secret, secret, err, sizeof err)) {
        log_error ("PUB040", "%s", err);
        return -1;
    }
    if (self->config.allow
    &&  auth_load (self->ctx, self->config.allow, "feed", &self->auth, err, sizeof err)) {
        log_error ("PUB040", "%s", err);
        memset (secret, 0, sizeof secret);
        return -1;
    }
    int rc = keys_apply_server (self->updates, secret, "feed")
          || keys_apply_server (self->snapshot, secret, "feed") ? -1 : 0;
    memset (secret, 0, sizeof secret);
    if (rc)
        log_error ("PUB043", "cannot make the feed sockets CURVE servers: %s", zmq_strerror (errno));
    else
    if (self->auth)
        log_info ("PUB041", "feed is CURVE-secured: %zu subscriber keys allowed", auth_keys (self->auth));
    else
        log_warn ("PUB042", "feed is CURVE-encrypted, but with no --allow any client that has "
                  "our public key may subscribe");
    return rc;
}

publisher_t *
publisher_new (const publisher_config_t *config)
{
    static const clone_handlers_t handlers = { s_on_reset, s_on_update, s_on_synced, s_on_heartbeat };
    publisher_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->config = *config;
    self->ctx = zmq_ctx_new ();
    self->server = clone_server_new (1024);
    election__heartbeat__init (&self->pair);
    self->upstream_says_ok = self->was_relayed_ok = true;
    if (!self->ctx || !self->server)
        goto failed;
    self->updates = net_socket (self->ctx, ZMQ_XPUB, NULL, true);
    self->snapshot = net_socket (self->ctx, ZMQ_ROUTER, NULL, true);
    if (!self->updates || !self->snapshot)
        goto failed;
    int hwm = S_PUB_HWM;
    zmq_setsockopt (self->updates, ZMQ_SNDHWM, &hwm, sizeof hwm);
    if (s_secure (self))
        goto failed;
    self->updates_guard = clone_server_guard_updates (self->ctx, self->updates, S_UPDATES_PEERS);
    self->snapshot_guard = clone_server_guard_snapshot (self->ctx, self->snapshot);
    if (!self->updates_guard || !self->snapshot_guard)
        goto failed;
    if (net_attach (self->updates, config->updates, true)
    ||  net_attach (self->snapshot, config->snapshot, true))
        goto failed;
    self->upstream = clone_client_new (self->ctx, config->upstream_updates, config->upstream_snapshot,
                                       NULL, 0, &handlers, self);
    if (!self->upstream)
        goto failed;
    if (config->nchan_url && !(self->nchan = nchan_new (config->nchan_url, config->nchan_buffer)))
        goto failed;
    if (config->http.port) {
        http_config_t http = config->http;
        http.nchan = self->nchan;
        if (!(self->http = http_new (&http)))
            goto failed;
    }
    log_info ("PUB001", "ready: following %s + %s, serving %s + %s",
              config->upstream_updates, config->upstream_snapshot, config->updates, config->snapshot);
    return self;
failed:
    publisher_destroy (&self);
    return NULL;
}

void
publisher_destroy (publisher_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    publisher_t *self = *self_p;
    http_destroy (&self->http);
    nchan_destroy (&self->nchan);
    clone_client_destroy (&self->upstream);
    auth_destroy (&self->auth);
    guard_destroy (&self->updates_guard);
    guard_destroy (&self->snapshot_guard);
    if (self->updates)
        zmq_close (self->updates);
    if (self->snapshot)
        zmq_close (self->snapshot);
    if (self->ctx)
        zmq_ctx_term (self->ctx);
    clone_server_destroy (&self->server);
    free (self);
    *self_p = NULL;
}

//  Before a snapshot: reads upstream until it has been quiet for
//  S_QUIET_MS, so that the snapshot holds all upstream has sent, not only
//  what the last turn read: a follower that joins just after a burst
//  (subscribe --once after a replay) must not get part of it. At most
//  S_FRESHEN_MS, so that a flood cannot starve late joiners. Returns -1 on
//  a fatal error.
static int
s_catch_up (publisher_t *self)
{
    int64_t until = clock_mono_ms () + S_FRESHEN_MS;
    while (clone_client_synced (self->upstream) && clock_mono_ms () < until) {
        zmq_pollitem_t item = { clone_client_socket (self->upstream), 0, ZMQ_POLLIN, 0 };
        if (!clone_client_behind (self->upstream)
        &&  (zmq_poll (&item, 1, S_QUIET_MS) <= 0 || !(item.revents & ZMQ_POLLIN)))
            break;
        if (clone_client_handle (self->upstream, true))
            return -1;
    }
    return 0;
}

int
publisher_run (publisher_t *self)
{
    self->next_heartbeat = clock_mono_ms ();
    guard_t *guards [] = { self->updates_guard, self->snapshot_guard };
    while (!signals_interrupted ()) {
        zmq_pollitem_t items [] = {
            { clone_client_socket (self->upstream), 0, ZMQ_POLLIN, 0 },
            { self->snapshot, 0, ZMQ_POLLIN, 0 },
            { self->updates, 0, ZMQ_POLLIN, 0 },
            { self->auth ? auth_socket (self->auth) : NULL, 0, ZMQ_POLLIN, 0 }
        };
        int64_t wait = self->next_heartbeat - clock_mono_ms ();
        long waits [] = { clone_client_timeout_ms (self->upstream),
                          guard_timeout_ms (guards [0]), guard_timeout_ms (guards [1]) };
        for (size_t i = 0; i < 3; i++)
            if (waits [i] >= 0 && waits [i] < wait)
                wait = waits [i];
        if (zmq_poll (items, self->auth ? 4 : 3, wait > 0 ? (long) wait : 0) < 0) {
            if (errno == EINTR)
                continue;
            log_error ("PUB060", "poll failed: %s", zmq_strerror (errno));
            return 1;
        }
        //  Upstream first: a snapshot we serve is as fresh as we can make it
        if (clone_client_handle (self->upstream, items [0].revents & ZMQ_POLLIN))
            return 1;
        if (items [1].revents & ZMQ_POLLIN) {
            if (s_catch_up (self))
                return 1;
            s_serve_snapshots (self);
        }
        if (items [2].revents & ZMQ_POLLIN)
            guard_admit_subscriptions (self->updates_guard, S_SUBSCRIPTIONS);
        if (self->auth && (items [3].revents & ZMQ_POLLIN))
            auth_handle (self->auth);
        //  After the sockets were read: what is left is what peers hold back
        for (size_t i = 0; i < 2; i++)
            guard_handle (guards [i]);
        if (clock_mono_ms () >= self->next_heartbeat)
            s_heartbeat (self);
    }
    log_info ("PUB099", "stopping at sequence %llu after forwarding %llu updates",
              (unsigned long long) clone_client_sequence (self->upstream),
              (unsigned long long) self->forwarded);
    return 0;
}
