/*  subscribe: follows a publisher (or the aggregator) and shows the night:
    the full state at once (snapshot), then every change, in order. Human
    output by default, JSON lines with --json; --once prints the current
    state and exits. The tool a graphics developer reaches for first.      */
#include "cli.h"
#include "fdlimit.h"
#include "clone_client.h"
#include "log.h"
#include "names.h"
#include "render.h"
#include "state_json.h"
#include "state_view.h"
#include "clock.h"
#include "signals.h"
#include "update_head.h"
#include "net.h"
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_MAX_TOPICS 32
#define S_EXIT_NOT_LIVE 3       /* --once: printed, but the source is not live */
#define S_EXIT_UNKNOWN  1       /* --once --card: no such seat */

typedef struct {
    bool json;
    bool once;
    size_t top;                 /* parties shown by name; the rest are Others */
    long timeout_ms;            /* --once: give up after this */
    uint64_t min_sequence;      /* --once: wait until the state reaches this */
    long count;                 /* exit after this many live updates (0: never) */
    const char *card;           /* --once: also print this seat's result card */
    const char *const *topics;  /* --topic prefixes (none: everything) */
    size_t n_topics;
    bool unknown_card;          /* --card named no seat */
    size_t topics_shown;        /* by the last s_print_state */
    state_view_t *view;
    bool synced;
    bool upstream_ok;
    bool warned_silent;
    long updates_seen;
    bool health;                /* --health: the heartbeats, not the results */
    long heartbeats_seen;
} s_subscriber_t;

static void
s_print_json (json_t *json)
{
    char *text = json_dumps (json, JSON_COMPACT | JSON_REAL_PRECISION (10));
    if (text) {
        puts (text);
        free (text);
    }
    fflush (stdout);
    json_decref (json);
}

//  Whether topic is one the user asked for (--topic prefixes; none: all)
static bool
s_wanted (const s_subscriber_t *self, const char *topic)
{
    for (size_t i = 0; i < self->n_topics; i++)
        if (strncmp (topic, self->topics [i], strlen (self->topics [i])) == 0)
            return true;
    return self->n_topics == 0;
}

//  The source is not live: said before any figure, from the first frame
static void
s_print_not_live (const s_subscriber_t *self)
{
    const char *source = state_view_source (self->view);
    printf ("*** WARNING: the results source is NOT LIVE (%s): figures may be STALE ***\n",
            source && strcmp (source, "aggregator") == 0 ? "the aggregator cannot persist declarations"
          : source && strcmp (source, "publisher") == 0 ? "a publisher lost the aggregator"
          : "its source is silent or failing");
}

//  One stored topic as the live stream shows it: a seat's card, a scope's
//  table, the desk
static void
s_print_topic (void *arg, const char *topic, const Election__Update *update)
{
    s_subscriber_t *self = arg;
    if (!s_wanted (self, topic))
        return;
    self->topics_shown++;
    if (self->json)
        s_print_json (state_json_update (topic, update));
    else
    if (update->body_case == ELECTION__UPDATE__BODY_SEAT)
        render_card (stdout, update->seat);
    else
    if (update->body_case == ELECTION__UPDATE__BODY_NATIONAL)
        render_table (stdout, update->national, self->top, update->mode);
    else
    if (update->body_case == ELECTION__UPDATE__BODY_DESK)
        render_desk (stdout, update->desk);
}

typedef struct {
    size_t seats;
    bool undeclared;
} s_seat_count_t;

static void
s_count_seats (void *arg, const char *topic, const Election__Update *update)
{
    s_seat_count_t *count = arg;
    if (update->body_case == ELECTION__UPDATE__BODY_SEAT) {
        count->seats++;
        count->undeclared |= !update->seat->declared && update->seat->revision == 0;
    }
}

//  --card names no seat: the state holds every seat (the aggregator lists
//  undeclared ones too, or all have declared) and not this one. (From an
//  aggregator that lists declared seats only, mid-night, an undeclared
//  seat and a wrong id look alike: "not declared yet".)
static bool
s_card_unknown (const s_subscriber_t *self)
{
    if (state_view_seat (self->view, self->card))
        return false;
    s_seat_count_t count = { 0 };
    state_view_each (self->view, s_count_seats, &count);
    const Election__NationalSummary *national = state_view_national (self->view);
    return count.undeclared || (national && national->seats_total && count.seats >= national->seats_total);
}

//  --card: the seat's card, "not declared yet", or "unknown seat"
static void
s_print_card (s_subscriber_t *self)
{
    const Election__SeatSummary *seat = state_view_seat (self->view, self->card);
    if (seat)
        render_card (stdout, seat);
    else
    if (s_card_unknown (self))
        printf ("\n%s: unknown seat\n", self->card);
    else
        printf ("\n%s: not declared yet\n", self->card);
}

static void
s_print_state (s_subscriber_t *self)
{
    self->topics_shown = 0;
    if (self->json && self->n_topics)
        //  Only what was asked for: one line per topic, as the stream's
        state_view_each (self->view, s_print_topic, self);
    else
    if (self->json)
        s_print_json (state_json_state (self->view));
    else {
        if (!state_view_upstream_ok (self->view))
            s_print_not_live (self);
        const Election__NationalSummary *national = state_view_national (self->view);
        if (self->n_topics) {
            state_view_each (self->view, s_print_topic, self);
            if (!self->topics_shown)
                printf ("Nothing yet on --topic %s%s (sequence %llu)\n", self->topics [0],
                        self->n_topics > 1 ? " ..." : "",
                        (unsigned long long) state_view_sequence (self->view));
        }
        else
        if (national)
            render_table (stdout, national, self->top, state_view_mode (self->view));
        else
            printf ("No results yet (sequence %llu)\n",
                    (unsigned long long) state_view_sequence (self->view));
        const Election__Update *desk = state_view_get (self->view, "desk");
        if (!self->n_topics && desk && desk->body_case == ELECTION__UPDATE__BODY_DESK && desk->desk->n_held)
            render_desk (stdout, desk->desk);
        if (self->card)
            s_print_card (self);
        fflush (stdout);
    }
    if (self->card && s_card_unknown (self)) {
        fprintf (stderr, "subscribe: %s: unknown seat\n", self->card);
        self->unknown_card = true;
    }
}

static void
s_on_reset (void *arg, const Election__Snapshot *header)
{
    s_subscriber_t *self = arg;
    state_view_reset (self->view, header);      //  its health too: said from the first frame
    self->upstream_ok = !header->has_upstream_ok || header->upstream_ok;
}

static void
s_on_update (void *arg, const char *topic, const update_head_t *head,
             const void *bytes, size_t size, bool live)
{
    s_subscriber_t *self = arg;
    if (state_view_put (self->view, topic, bytes, size)) {
        log_error ("SUB010", "%s seq %llu does not unpack: not kept", topic,
                   (unsigned long long) head->sequence);
        return;
    }
    const Election__Update *update = state_view_get (self->view, topic);
    if (!live || self->once)
        return;
    if (self->json)
        s_print_json (state_json_update (topic, update));
    else
    if (update->body_case == ELECTION__UPDATE__BODY_SEAT) {
        //  A seat not yet declared (listed, its projection moved) is news
        //  only to one who asked for that seat
        if (update->seat->declared || update->seat->revision || self->n_topics)
            render_card (stdout, update->seat);
    }
    else
    if (update->body_case == ELECTION__UPDATE__BODY_DESK)
        render_desk (stdout, update->desk);
    else
    if (update->body_case == ELECTION__UPDATE__BODY_NATIONAL && strcmp (topic, "national") == 0) {
        render_line (stdout, update->national, self->top);
        if (update->national->declared == update->national->seats_total)
            render_table (stdout, update->national, self->top, update->mode);
    }
    else
    if (update->body_case == ELECTION__UPDATE__BODY_NATIONAL && self->n_topics)
        //  A region or nation asked for by --topic: its table
        render_table (stdout, update->national, self->top, update->mode);
    if (update->body_case == ELECTION__UPDATE__BODY_NATIONAL)
        self->updates_seen++;
}

static void
s_on_synced (void *arg, const Election__Snapshot *header)
{
    s_subscriber_t *self = arg;
    self->synced = true;
    if (!self->once)
        s_print_state (self);
}

//  --health: every heartbeat, as operators read it
static void
s_print_health (const s_subscriber_t *self, const Election__Update *update)
{
    const Election__Heartbeat *beat = update->heartbeat;
    if (self->json) {
        s_print_json (state_json_update ("health", update));
        return;
    }
    printf ("health: %s at sequence %llu, %s", beat->source ? beat->source : "?",
            (unsigned long long) update->sequence,
            beat->upstream_ok ? "live" : "its source is SILENT or FAILING");
    if (beat->has_pair_state && names_pair_state (beat->pair_state)) {
        printf ("; %s %s (term %llu)", beat->pair_role ? beat->pair_role : "?",
                names_pair_state (beat->pair_state), (unsigned long long) beat->term);
        if (beat->copy)
            printf (", its standby holds a copy");
        else
            printf (", NO COPY (standby %llu records behind, or none)",
                    (unsigned long long) beat->copy_behind);
    }
    printf ("\n");
    fflush (stdout);
}

static void
s_on_heartbeat (void *arg, const Election__Update *update)
{
    s_subscriber_t *self = arg;
    self->heartbeats_seen++;
    if (self->health && !(self->once && self->heartbeats_seen > 1))
        s_print_health (self, update);
    bool ok = update->heartbeat->upstream_ok;
    const Election__Heartbeat *beat = update->heartbeat;
    state_view_set_health (self->view, ok, ok || !beat->stale_source ? beat->source : beat->stale_source);
    if (ok != self->upstream_ok && !self->once && !self->health) {
        if (self->json)
            s_print_json (state_json_update ("health", update));
        else
            printf (ok ? "\n*** Feed restored: figures are live again ***\n"
                       : "\n*** WARNING: the results source is NOT LIVE (%s, silent %u ms): "
                         "figures may be STALE ***\n",
                    update->heartbeat->stale_source ? update->heartbeat->stale_source : "its source",
                    update->heartbeat->silent_ms);
        fflush (stdout);
    }
    self->upstream_ok = ok;
}

static void
s_usage (FILE *out)
{
    fprintf (out,
        "Usage: subscribe [OPTIONS]\n"
        "Shows the results state (snapshot) and then every change, in order.\n\n"
        "  --updates ENDPOINT     update stream, SUB (default %s); a pair's \"A,B\"\n"
        "  --snapshot ENDPOINT    snapshot service, DEALER (default %s); a pair's \"A,B\"\n"
        "                         (point both at the aggregator, 5556/5557, to skip the publisher)\n"
        "  --topic PREFIX         only these topics: national, region.<Name>, seat.<ONS id>;\n"
        "                         repeatable (default: everything). The state shown first (and\n"
        "                         with --once) is those topics only: a seat's card, a region's\n"
        "                         table; with --json one line per topic, as the stream's\n"
        "  --json                 JSON lines (first the whole state, then one line per update)\n"
        "  --once                 print the current whole state and exit: 0, or %d when the\n"
        "                         source is not live (the state printed may be stale: said\n"
        "                         on stderr and first on stdout; in JSON upstream_ok false),\n"
        "                         1 when no state came within --timeout\n"
        "  --min-sequence N       with --once: wait until the state reaches sequence N (with\n"
        "                         --topic: until the stream heard reaches it)\n"
        "  --timeout SEC          with --once: give up after SEC seconds (default 10)\n"
        "  --count N              exit after N national updates\n"
        "  --card ONS_ID          with --once: also print that seat's result card; exits %d\n"
        "                         saying \"unknown seat\" for an id that is not a seat\n"
        "  --health               print the source's heartbeats instead (with --once, the\n"
        "                         first): live or not, and of a pair of aggregators which\n"
        "                         one is active and whether its standby holds a copy\n"
        "  --top N                parties shown by name in tables; the rest are Others\n"
        "                         (default 5; 0 shows every party)\n"
        "  --curve-server-key FILE  the publisher's public key (FILE.pub): a CURVE feed\n"
        "  --curve-key NAME       with --curve-server-key: own pair NAME.key + NAME.pub\n"
        "  --verbose              log what the follower does on stderr (each snapshot\n"
        "                         loaded, CLN005, and why it resynced, CLN001)\n"
        "  --help                 this text\n",
        NET_PUB_UPDATES, NET_PUB_SNAPSHOT, S_EXIT_NOT_LIVE, S_EXIT_UNKNOWN);
}

int
main (int argc, char *argv [])
{
    s_subscriber_t self = { .top = 5, .timeout_ms = 10000 };
    const char *updates = NET_PUB_UPDATES;
    const char *snapshot = NET_PUB_SNAPSHOT;
    const char *topics [S_MAX_TOPICS];
    size_t n_topics = 0;
    const char *server_key = NULL, *own_key = NULL;
    bool verbose = false;
    keys_client_t curve;
    static const struct option options [] = {
        { "updates", required_argument, NULL, 'u' },
        { "snapshot", required_argument, NULL, 'n' },
        { "topic", required_argument, NULL, 't' },
        { "json", no_argument, NULL, 'j' },
        { "once", no_argument, NULL, 'o' },
        { "min-sequence", required_argument, NULL, 'M' },
        { "timeout", required_argument, NULL, 'T' },
        { "count", required_argument, NULL, 'c' },
        { "card", required_argument, NULL, 'C' },
        { "health", no_argument, NULL, 'H' },
        { "top", required_argument, NULL, 'p' },
        { "verbose", no_argument, NULL, 'v' },
        { "curve-server-key", required_argument, NULL, 'K' },
        { "curve-key", required_argument, NULL, 'k' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 }
    };
    int opt;
    long long value;
    while ((opt = getopt_long (argc, argv, "h", options, NULL)) != -1) {
        switch (opt) {
            case 'u': updates = optarg; break;
            case 'n': snapshot = optarg; break;
            case 'j': self.json = true; break;
            case 'o': self.once = true; break;
            case 'C': self.card = optarg; break;
            case 'H': self.health = true; break;
            case 'v': verbose = true; break;
            case 'K': server_key = optarg; break;
            case 'k': own_key = optarg; break;
            case 't':
                if (n_topics == S_MAX_TOPICS) {
                    fprintf (stderr, "subscribe: at most %d --topic\n", S_MAX_TOPICS);
                    return 2;
                }
                topics [n_topics++] = optarg;
                break;
            case 'M':
                if (cli_integer ("subscribe", "--min-sequence", optarg, 0, INT64_MAX, &value))
                    return 2;
                self.min_sequence = (uint64_t) value;
                break;
            case 'T':
                if (cli_integer ("subscribe", "--timeout", optarg, 0, 1000000, &value))
                    return 2;
                self.timeout_ms = (long) value * 1000;
                break;
            case 'c':
                if (cli_integer ("subscribe", "--count", optarg, 0, 1000000, &value))
                    return 2;
                self.count = (long) value;
                break;
            case 'p':
                if (cli_integer ("subscribe", "--top", optarg, 0, 1000000, &value))
                    return 2;
                self.top = (size_t) value;
                break;
            case 'h': s_usage (stdout); return 0;
            default:  s_usage (stderr); return 2;
        }
    }
    if (optind < argc) {
        fprintf (stderr, "subscribe: unexpected argument \"%s\"\n", argv [optind]);
        return 2;
    }
    if (!server_key != !own_key) {
        fprintf (stderr, "subscribe: --curve-server-key and --curve-key go together\n");
        return 2;
    }
    char err [512];
    if (server_key && keys_client_load (&curve, server_key, own_key, err, sizeof err)) {
        fprintf (stderr, "subscribe: %s\n", err);
        return 2;
    }
    self.topics = topics;
    self.n_topics = n_topics;
    log_init ("subscribe", verbose ? LOG_INFO : LOG_WARN);
    fdlimit_raise ();    //  every connection is a file (fdlimit.h)
    signals_catch ();
    self.view = state_view_new ();
    void *ctx = zmq_ctx_new ();
    static const clone_handlers_t handlers = { s_on_reset, s_on_update, s_on_synced, s_on_heartbeat };
    clone_client_t *client = self.view && ctx
        ? clone_client_new_curve (ctx, updates, snapshot, topics, n_topics, &handlers, &self,
                                  server_key ? &curve : NULL)
        : NULL;
    int rc = client ? 0 : 1;
    int64_t deadline = clock_mono_ms () + self.timeout_ms;
    while (client && !signals_interrupted ()) {
        //  --once: done when synced to a server that follows a source (epoch
        //  0: a publisher still waiting for its first snapshot), at or past
        //  min_sequence
        if (self.health && self.once && self.heartbeats_seen)
            break;
        //  (A follower of some topics may not hear the UK summary that moves
        //  the view's sequence: the last sequence it heard stands for it)
        uint64_t reached = n_topics ? clone_client_sequence (client) : state_view_sequence (self.view);
        if (self.once && !self.health && self.synced && state_view_epoch (self.view)
        &&  reached >= self.min_sequence) {
            s_print_state (&self);
            if (!state_view_upstream_ok (self.view)) {
                const char *source = state_view_source (self.view);
                fprintf (stderr, "subscribe: warning: the source is not live (%s): this state may "
                         "be stale\n", source ? source : "silent or failing");
                rc = S_EXIT_NOT_LIVE;
            }
            if (self.unknown_card)
                rc = S_EXIT_UNKNOWN;
            break;
        }
        if (self.count && self.updates_seen >= self.count)
            break;
        if (self.once && clock_mono_ms () >= deadline) {
            fprintf (stderr, "subscribe: no %s from %s within %ld s (at sequence %llu)%s\n",
                     self.health ? "heartbeat" : "complete state",
                     snapshot, self.timeout_ms / 1000,
                     (unsigned long long) state_view_sequence (self.view),
                     self.synced && !state_view_epoch (self.view)
                         ? ": the server holds no state, its source is NOT LIVE" : "");
            rc = 1;
            break;
        }
        zmq_pollitem_t item = { clone_client_socket (client), 0, ZMQ_POLLIN, 0 };
        long wait = clone_client_timeout_ms (client);
        if (wait < 0 || wait > 250)
            wait = 250;
        if (zmq_poll (&item, 1, wait) < 0 && errno != EINTR)
            break;
        if (clone_client_handle (client, item.revents & ZMQ_POLLIN))
            break;
        //  Our own liveness check: the stream itself may be what died
        if (!self.once && !self.health && clone_client_synced (client)) {
            bool silent = clone_client_silent_ms (client) > NET_SILENCE_MS;
            if (silent && !self.warned_silent && !self.json)
                printf ("\n*** WARNING: nothing from %s for %lld ms: figures may be STALE ***\n",
                        updates, (long long) clone_client_silent_ms (client));
            self.warned_silent = silent;
            fflush (stdout);
        }
    }
    clone_client_destroy (&client);
    state_view_destroy (&self.view);
    if (ctx)
        zmq_ctx_term (ctx);
    return rc;
}
