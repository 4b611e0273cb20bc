/*  clone_client.c: see clone_client.h.  */
#include "clone_client.h"
#include "log.h"
#include "clock.h"
#include "guard.h"
#include "update_head.h"
#include "net.h"
#include "strmap.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define S_FIRST_RETRY_MS   5000     /* a 200,000-seat snapshot takes ~1 s to serve */
#define S_MAX_RETRY_MS     16000
#define S_MAX_TOPIC        256
#define S_DRAIN_BATCH      1000     /* stream messages per call, for fairness */
#define S_OLD_EPOCHS       8
#define S_STANDBY_RETRY_MS 500      /* every server of a pair said it is not active */
/*  Upstream is trusted, but a frame this large is not an Update: refuse it
    rather than allocate it (a snapshot's frames are one Update each).      */
#define S_MAX_FRAME        (16 * 1024 * 1024)
/*  What upstream may make us hold: a 200,000-seat snapshot is about 100 MB
    (measured: 540 bytes a seat on the wire, 2017 night),
    and the stream waits unread while a snapshot loads. Past this a message
    is no snapshot (nor a backlog) but a never-ending one: cut, and resync. */
#define S_MAX_HELD         (256 * 1024 * 1024)

struct clone_client {
    void *ctx;
    char *snapshot_endpoint;    /* one, or a pair's "A,B" */
    size_t servers;             /* 2 for a pair */
    bool failover;              /* we lost the server we followed: our asks say so */
    size_t standby_answers;     /* to this ask, from servers not active */
    void *sub;
    void *dealer;               /* NULL while synced */
    guard_t *sub_guard;         /* what upstream may make each socket hold */
    guard_t *dealer_guard;
    const clone_handlers_t *handlers;
    void *arg;
    bool synced;
    uint64_t sequence;
    uint64_t epoch;
    uint64_t old_epochs [S_OLD_EPOCHS];  /* epochs left behind: their queued
                                            messages are dropped, not chased */
    size_t next_old;
    int64_t asked_at;           /* mono ms of the pending snapshot request */
    long retry_ms;
    int64_t last_heard;         /* mono ms of the last stream message */
    uint64_t snapshots;
    //  A follower of some topics hears the global sequence jump past the
    //  topics it does not follow: it checks each topic's own chain
    //  (Update.topic_previous) instead, against the sequence it last saw
    //  on that topic. NULL for a follower of everything.
    strmap_t *topic_seen;
    bool has_curve;
    keys_client_t curve;
};

//  The options every socket of the client gets before it connects, and its
//  guard (after CURVE, which changes what a frame takes on the wire)
static guard_t *
s_prepare (clone_client_t *self, void *socket)
{
    int64_t max_size = S_MAX_FRAME;
    zmq_setsockopt (socket, ZMQ_MAXMSGSIZE, &max_size, sizeof max_size);
    if (self->has_curve && keys_apply_client (socket, &self->curve)) {
        log_error ("CLN009", "cannot set CURVE keys: %s", zmq_strerror (errno));
        return NULL;
    }
    guard_limits_t limits = { .name = "upstream", .held_max = S_MAX_HELD,
                              .held_budget = S_MAX_HELD, .held_hard = S_MAX_HELD };
    return guard_new (self->ctx, socket, &limits);
}

static int
s_ask_snapshot (clone_client_t *self)
{
    //  A fresh DEALER each time: a late answer to an abandoned request dies with the old one
    guard_destroy (&self->dealer_guard);
    if (self->dealer)
        zmq_close (self->dealer);
    self->dealer = net_socket (self->ctx, ZMQ_DEALER, NULL, false);
    Election__SnapshotRequest request = ELECTION__SNAPSHOT_REQUEST__INIT;
    request.has_failover = self->failover;
    request.failover = self->failover;
    self->asked_at = clock_mono_ms ();
    self->standby_answers = 0;
    errno = 0;
    bool failed = !self->dealer || !(self->dealer_guard = s_prepare (self, self->dealer))
               || net_attach_list (self->dealer, self->snapshot_endpoint) != self->servers;
    if (failed && errno == EINVAL)
        log_error ("CLN050", "bad endpoint list \"%s\": one endpoint, or a pair's \"A,B\"",
                   self->snapshot_endpoint);
    //  A pair: one request to each (the DEALER deals them out in turn); the
    //  active one's answer is the state, the standby's says it is not
    for (size_t i = 0; !failed && i < self->servers; i++)
        failed = net_send_pb (self->dealer, &request.base, ZMQ_DONTWAIT) && errno != EAGAIN;
    if (failed) {
        log_error ("CLN002", "cannot ask %s for a snapshot", self->snapshot_endpoint);
        return -1;
    }
    return 0;
}

clone_client_t *
clone_client_new (void *ctx, const char *updates, const char *snapshot,
                  const char *const *topics, size_t n_topics,
                  const clone_handlers_t *handlers, void *arg)
{
    return clone_client_new_curve (ctx, updates, snapshot, topics, n_topics, handlers, arg, NULL);
}

clone_client_t *
clone_client_new_curve (void *ctx, const char *updates, const char *snapshot,
                        const char *const *topics, size_t n_topics,
                        const clone_handlers_t *handlers, void *arg,
                        const keys_client_t *curve)
{
    clone_client_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    if (curve) {
        self->has_curve = true;
        self->curve = *curve;
    }
    self->ctx = ctx;
    self->handlers = handlers;
    self->arg = arg;
    self->retry_ms = S_FIRST_RETRY_MS;
    self->last_heard = clock_mono_ms ();
    self->snapshot_endpoint = strdup (snapshot);
    self->servers = 1 + (strchr (snapshot, ',') != NULL);
    self->sub = net_socket (ctx, ZMQ_SUB, NULL, false);
    if (!self->snapshot_endpoint || !self->sub || !(self->sub_guard = s_prepare (self, self->sub)))
        goto failed;
    //  Deep enough to hold a night's updates while a large snapshot loads
    int hwm = 1000000;
    zmq_setsockopt (self->sub, ZMQ_RCVHWM, &hwm, sizeof hwm);
    if (n_topics == 0)
        zmq_setsockopt (self->sub, ZMQ_SUBSCRIBE, "", 0);
    else
    if (!(self->topic_seen = strmap_new (1024)))
        goto failed;
    for (size_t i = 0; i < n_topics; i++)
        zmq_setsockopt (self->sub, ZMQ_SUBSCRIBE, topics [i], strlen (topics [i]));
    if (n_topics)
        zmq_setsockopt (self->sub, ZMQ_SUBSCRIBE, "health", 6);
    size_t streams = net_attach_list (self->sub, updates);
    if (!streams && errno == EINVAL)
        log_error ("CLN050", "bad endpoint list \"%s\": one endpoint, or a pair's \"A,B\"", updates);
    if (streams != self->servers) {
        if (streams)
            log_error ("CLN051", "%zu update endpoints (%s) but %zu snapshot endpoints (%s): "
                       "give a pair's two in the same order to both", streams, updates,
                       self->servers, snapshot);
        goto failed;
    }
    //  Subscribed first, then ask: nothing published after the snapshot is missed
    if (s_ask_snapshot (self))
        goto failed;
    return self;
failed:
    clone_client_destroy (&self);
    return NULL;
}

void
clone_client_destroy (clone_client_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    clone_client_t *self = *self_p;
    guard_destroy (&self->sub_guard);
    guard_destroy (&self->dealer_guard);
    strmap_destroy (&self->topic_seen);
    if (self->sub)
        zmq_close (self->sub);
    if (self->dealer)
        zmq_close (self->dealer);
    free (self->snapshot_endpoint);
    free (self);
    *self_p = NULL;
}

void *
clone_client_socket (clone_client_t *self)
{
    return self->synced ? self->sub : self->dealer;
}

bool
clone_client_behind (clone_client_t *self)
{
    int events = 0;
    size_t size = sizeof events;
    return self->synced && zmq_getsockopt (self->sub, ZMQ_EVENTS, &events, &size) == 0
        && (events & ZMQ_POLLIN);
}

void
clone_client_resync (clone_client_t *self, const char *why)
{
    log_info ("CLN001", "resync from %s at sequence %llu: %s", self->snapshot_endpoint,
              (unsigned long long) self->sequence, why);
    self->synced = false;
    self->retry_ms = S_FIRST_RETRY_MS;
    s_ask_snapshot (self);      //  logged; the retry timer asks again
}

static void
s_leave_epoch (clone_client_t *self)
{
    if (self->epoch) {
        self->old_epochs [self->next_old] = self->epoch;
        self->next_old = (self->next_old + 1) % S_OLD_EPOCHS;
    }
}

static bool
s_is_old_epoch (const clone_client_t *self, uint64_t epoch)
{
    for (size_t i = 0; i < S_OLD_EPOCHS; i++)
        if (self->old_epochs [i] == epoch)
            return true;
    return false;
}

//  Reads and drops the rest of a snapshot reply (counted by its guard)
static void
s_drain (clone_client_t *self, bool more)
{
    while (more) {
        zmq_msg_t frame;
        zmq_msg_init (&frame);
        guard_recv (self->dealer_guard, &frame, 0);
        more = zmq_msg_more (&frame);
        zmq_msg_close (&frame);
    }
}

//  Reads one snapshot reply: header, then (topic, update) pairs
static int
s_read_snapshot (clone_client_t *self)
{
    zmq_msg_t header_frame;
    zmq_msg_init (&header_frame);
    if (guard_recv (self->dealer_guard, &header_frame, ZMQ_DONTWAIT) < 0) {
        zmq_msg_close (&header_frame);
        return 0;
    }
    Election__Snapshot *header = election__snapshot__unpack (NULL,
        zmq_msg_size (&header_frame), zmq_msg_data (&header_frame));
    bool more = zmq_msg_more (&header_frame);
    zmq_msg_close (&header_frame);
    if (!header) {
        log_warn ("CLN003", "undecodable snapshot header from %s", self->snapshot_endpoint);
        s_drain (self, more);
        return 0;
    }
    if (header->has_pair_state && header->pair_state != ELECTION__PAIR_STATE__PAIR_ACTIVE
    &&  header->pair_state != ELECTION__PAIR_STATE__PAIR_NONE) {
        //  One of a pair that is not active: its answer is not the state.
        //  Wait for the other's (or ask again when it is late).
        log_debug ("CLN052", "a standby of %s answered: not the state", self->snapshot_endpoint);
        //  Neither is active (a pair still starting, or mid-failover): ask
        //  again soon rather than at the slow retry
        if (++self->standby_answers >= self->servers)
            self->asked_at = clock_mono_ms () - self->retry_ms + S_STANDBY_RETRY_MS;
        s_drain (self, more);
        election__snapshot__free_unpacked (header, NULL);
        return 0;
    }
    if (header->epoch != self->epoch)
        s_leave_epoch (self);
    self->epoch = header->epoch;
    self->sequence = header->sequence;
    if (self->topic_seen) {
        strmap_t *fresh = strmap_new (1024);
        if (fresh) {
            strmap_destroy (&self->topic_seen);
            self->topic_seen = fresh;
        }
    }
    if (self->handlers->on_reset)
        self->handlers->on_reset (self->arg, header);

    size_t loaded = 0;
    while (more) {
        zmq_msg_t topic, body;
        zmq_msg_init (&topic);
        zmq_msg_init (&body);
        guard_recv (self->dealer_guard, &topic, 0);
        more = zmq_msg_more (&topic);
        if (more) {
            guard_recv (self->dealer_guard, &body, 0);
            more = zmq_msg_more (&body);
            char name [S_MAX_TOPIC];
            update_head_t head;
            if (update_head_peek (zmq_msg_data (&body), zmq_msg_size (&body), &head)
            &&  net_frame_str (&topic, name, sizeof name)) {
                //  Where each topic's chain stands (a put fails only for want
                //  of memory: that topic's next update then looks like a gap)
                if (self->topic_seen)
                    strmap_put (self->topic_seen, name, (size_t) head.sequence);
                self->handlers->on_update (self->arg, name, &head,
                                           zmq_msg_data (&body), zmq_msg_size (&body), false);
                loaded++;
            }
            else
                log_warn ("CLN004", "undecodable snapshot entry skipped");
        }
        zmq_msg_close (&topic);
        zmq_msg_close (&body);
    }
    self->synced = true;
    self->failover = false;
    self->snapshots++;
    self->last_heard = clock_mono_ms ();
    guard_destroy (&self->dealer_guard);
    zmq_close (self->dealer);
    self->dealer = NULL;
    log_info ("CLN005", "snapshot from %s: %zu topics at sequence %llu, epoch %016llx",
              self->snapshot_endpoint, loaded, (unsigned long long) self->sequence,
              (unsigned long long) self->epoch);
    if (self->handlers->on_synced)
        self->handlers->on_synced (self->arg, header);
    election__snapshot__free_unpacked (header, NULL);
    return 0;
}

//  A follower of some topics: applies an update that follows the last one
//  it saw on its topic, drops one the snapshot already holds, and resyncs
//  on a gap in the topic's chain. Returns false when it called for a resync.
static bool
s_apply_topic (clone_client_t *self, const char *topic, const update_head_t *head, zmq_msg_t *body)
{
    size_t seen = 0;
    bool known = strmap_get (self->topic_seen, topic, &seen);
    if (known && head->sequence < (uint64_t) seen)
        return true;                //  older than what we hold
    if (head->has_topic_previous && head->topic_previous != (uint64_t) seen) {
        if (head->sequence <= (uint64_t) seen)
            return true;            //  already in the snapshot
        log_debug ("CLN100", "%s: update %llu follows %llu, we last saw %llu", topic,
                   (unsigned long long) head->sequence,
                   (unsigned long long) head->topic_previous, (unsigned long long) seen);
        clone_client_resync (self, "sequence gap on a followed topic");
        return false;
    }
    //  (An upstream from before topic_previous: no check can be made)
    if (strmap_put (self->topic_seen, topic, (size_t) head->sequence))
        log_warn ("CLN101", "out of memory following %s: its next update will resync", topic);
    if (head->sequence > self->sequence)
        self->sequence = head->sequence;
    self->handlers->on_update (self->arg, topic, head, zmq_msg_data (body), zmq_msg_size (body), true);
    return true;
}

//  Applies one stream message; returns false when it called for a resync.
//  *ours is false for a message that is not of the stream we follow (a
//  pair's standby speaks too)
static bool
s_apply_stream (clone_client_t *self, zmq_msg_t *frames, size_t count, bool *ours)
{
    *ours = false;
    char topic [S_MAX_TOPIC];
    if (count != 2 || !net_frame_str (&frames [0], topic, sizeof topic)) {
        log_warn ("CLN006", "malformed stream message (%zu frames) dropped", count);
        return true;
    }
    update_head_t head;
    if (!update_head_peek (zmq_msg_data (&frames [1]), zmq_msg_size (&frames [1]), &head)) {
        log_warn ("CLN007", "undecodable update on %s dropped", topic);
        return true;
    }
    //  A heartbeat says whether it comes from one of a pair that is not
    //  active (about once a second: the one body worth unpacking here)
    Election__Update *beat = head.body == ELECTION__UPDATE__BODY_HEARTBEAT
        ? election__update__unpack (NULL, zmq_msg_size (&frames [1]), zmq_msg_data (&frames [1]))
        : NULL;
    Election__PairState pair = beat && beat->heartbeat && beat->heartbeat->has_pair_state
                             ? beat->heartbeat->pair_state : ELECTION__PAIR_STATE__PAIR_NONE;
    if (pair == ELECTION__PAIR_STATE__PAIR_STARTING || pair == ELECTION__PAIR_STATE__PAIR_PASSIVE) {
        bool keep_going = true;
        if (self->epoch && head.epoch == self->epoch) {
            //  The one we followed is no longer active: find the one that is
            self->failover = true;
            clone_client_resync (self, "the aggregator we follow is no longer active");
            keep_going = false;
        }
        election__update__free_unpacked (beat, NULL);
        return keep_going;
    }
    *ours = true;
    bool keep_going = true;
    if (head.epoch && head.epoch != self->epoch) {
        if (!s_is_old_epoch (self, head.epoch)) {
            clone_client_resync (self, "upstream epoch changed (restart)");
            keep_going = false;
        }
    }
    else
    if (head.body == ELECTION__UPDATE__BODY_HEARTBEAT) {
        //  A heartbeat's sequence is the whole stream's: a follower of some
        //  topics is behind it by nature
        if (head.epoch && head.sequence > self->sequence && !self->topic_seen) {
            clone_client_resync (self, "heartbeat is ahead: updates were lost");
            keep_going = false;
        }
        else {
            //  A follower of some topics is as far on as the stream it hears
            if (self->topic_seen && head.epoch && head.sequence > self->sequence)
                self->sequence = head.sequence;
            if (self->handlers->on_heartbeat && beat)
                self->handlers->on_heartbeat (self->arg, beat);
        }
    }
    else
    if (self->topic_seen)
        keep_going = s_apply_topic (self, topic, &head, &frames [1]);
    else
    if (head.sequence > self->sequence + 1) {
        clone_client_resync (self, "sequence gap");
        keep_going = false;
    }
    else
    if (head.sequence >= self->sequence) {
        self->sequence = head.sequence;
        self->handlers->on_update (self->arg, topic, &head, zmq_msg_data (&frames [1]),
                                   zmq_msg_size (&frames [1]), true);
    }
    if (beat)
        election__update__free_unpacked (beat, NULL);
    return keep_going;
}

int
clone_client_handle (clone_client_t *self, bool readable)
{
    guard_handle (self->sub_guard);
    if (self->dealer_guard)
        guard_handle (self->dealer_guard);
    if (!self->synced) {
        if (readable)
            return s_read_snapshot (self);
        if (clock_mono_ms () - self->asked_at >= self->retry_ms) {
            bool standbys = self->standby_answers >= self->servers;
            if (standbys)
                log_info ("CLN053", "neither of %s is active yet, asking again", self->snapshot_endpoint);
            else
                log_warn ("CLN008", "no snapshot from %s after %ld ms, asking again",
                          self->snapshot_endpoint, self->retry_ms);
            if (s_ask_snapshot (self))
                return -1;
            if (!standbys)
                self->retry_ms = self->retry_ms * 2 > S_MAX_RETRY_MS ? S_MAX_RETRY_MS : self->retry_ms * 2;
        }
        return 0;
    }
    for (size_t n = 0; readable && n < S_DRAIN_BATCH && self->synced; n++) {
        zmq_msg_t frames [3];
        size_t count;
        if (guard_recv_frames (self->sub_guard, frames, 3, &count, ZMQ_DONTWAIT))
            break;
        bool ours;
        s_apply_stream (self, frames, count, &ours);
        if (ours)
            self->last_heard = clock_mono_ms ();
        net_frames_close (frames, count < 3 ? count : 3);
    }
    //  A pair: the one we follow has gone silent. Ask both, saying so: the
    //  standby takes that as a vote (Clone model 6), and takes over if its
    //  peer is silent too
    if (self->synced && self->servers > 1 && clone_client_silent_ms (self) >= NET_SILENCE_MS) {
        self->failover = true;
        clone_client_resync (self, "the aggregator we follow is silent");
    }
    return 0;
}

long
clone_client_timeout_ms (const clone_client_t *self)
{
    //  The guards look at what upstream makes us hold on their own timer
    long wait = guard_timeout_ms (self->sub_guard);
    if (self->dealer_guard && guard_timeout_ms (self->dealer_guard) < wait)
        wait = guard_timeout_ms (self->dealer_guard);
    if (self->synced && self->servers > 1) {
        int64_t left = NET_SILENCE_MS - clone_client_silent_ms (self);
        if (left < wait)
            wait = left > 0 ? (long) left : 0;
    }
    if (!self->synced) {
        int64_t left = self->asked_at + self->retry_ms - clock_mono_ms ();
        if (left < wait)
            wait = left > 0 ? (long) left : 0;
    }
    return wait;
}

bool
clone_client_synced (const clone_client_t *self)
{
    return self->synced;
}

uint64_t
clone_client_sequence (const clone_client_t *self)
{
    return self->sequence;
}

uint64_t
clone_client_epoch (const clone_client_t *self)
{
    return self->epoch;
}

int64_t
clone_client_silent_ms (const clone_client_t *self)
{
    return clock_mono_ms () - self->last_heard;
}

uint64_t
clone_client_snapshots (const clone_client_t *self)
{
    return self->snapshots;
}
