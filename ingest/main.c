/*  ingest: the count-centre client.

      ingest send FILE.csv [--seat ONS_ID] [--revision N|next]  declare seats, one line each
      ingest replay FILE [--times TIMES.csv] [--speed N|max] replay a night (CSV or journal)
      ingest declare --seat ONS_ID                         the clerk's way (clerk.h)
      ingest template --seat ONS_ID                        a seat's CSV to fill in
      ingest retract --seat ONS_ID --reason WHY            withdraw a seat
      ingest nominations FILE.csv                          nominations from results
      ingest journal FILE [--json]                         print a journal for audit
      ingest keygen NAME                                   make NAME.key + NAME.pub (CURVE)
      ingest exit-poll FILE.csv                            an editor's exit poll (editor.h)

    Every declaration is acknowledged or retried (sender.h); the exit status
    is 1 if any was rejected or never acknowledged, 3 if any is held for a
    second look. With --json, send, replay, declare and retract end with one
    JSON line on stdout that says so for scripts and tests (README "ingest
    --json").                                                               */
#include "audit.h"
#include "clerk.h"
#include "editor.h"
#include "cli.h"
#include "fdlimit.h"
#include "clock.h"
#include "journal_record.h"
#include "keygen.h"
#include "keys.h"
#include "log.h"
#include "names.h"
#include "net.h"
#include "plan.h"
#include "request.h"
#include "sender.h"
#include "signals.h"
#include "strmap.h"
#include <getopt.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define S_MIN_SPEED     0.001   /* --speed: a night of 22 h takes 2.5 years */
#define S_MAX_SPEED     1e9
#define S_MAX_DELAY_MS  1e15    /* 31,000 years: later than any replay ends */

typedef struct {
    //  Options
    const char *to;
    plan_options_t plan;        /* what to send */
    const char *server_key;     /* --curve-server-key FILE.pub */
    const char *own_key;        /* --curve-key NAME */
    double speed;               /* 0: as fast as possible */
    int retry_ms;
    int failover_ms;
    int give_up_ms;
    size_t window;
    bool json;                  /* journal: JSON lines; send, replay: a JSON summary */
    bool per_seat_lines;        /* send: a line per seat; replay: rejections only */
    const char *reason;         /* --reason as given: a word, or retract's WHY */
    const char *nominations;    /* --nominations FILE (declare, template) */
    const char *parties;        /* --parties FILE (exit-poll) */
    size_t seats_total;         /* --seats N (exit-poll) */
    bool revision_next;         /* --revision next */
    strmap_t *next;             /* --revision next: ons_id -> the aggregator's next */
    Election__Revisions *revisions;
    //  Outcome
    size_t accepted, duplicate, rejected, unacked, held;
    uint64_t last_sequence;
    uint32_t next_revision;     /* the last ack's: the seat's next declaration */
    json_t *seats;              /* --json: each declaration's outcome, as it came */
} s_ingest_t;

//  --json: one declaration's outcome, named by the ONS id its label starts with
static void
s_note_outcome (s_ingest_t *self, const char *label, const char *outcome,
                const Election__Ack *ack, int attempts)
{
    json_t *seat = json_pack ("{s:s%, s:s, s:i}", "ons_id", label, strcspn (label, " "),
                              "outcome", outcome, "attempts", attempts);
    if (seat && ack && ack->status == ELECTION__ACK_STATUS__ACK_ACCEPTED)
        json_object_set_new (seat, "sequence", json_integer ((json_int_t) ack->sequence));
    if (seat && ack && ack->status != ELECTION__ACK_STATUS__ACK_ACCEPTED
    &&  ack->status != ELECTION__ACK_STATUS__ACK_DUPLICATE)
        json_object_set_new (seat, "reason", json_string (ack->text ? ack->text : "no reason given"));
    if (seat && ack && ack->status == ELECTION__ACK_STATUS__ACK_HELD) {
        json_t *reasons = json_array ();
        for (size_t i = 0; i < ack->n_reasons; i++)
            json_array_append_new (reasons, json_string (ack->reasons [i]));
        json_object_set_new (seat, "reasons", reasons);
    }
    if (seat && ack && ack->has_next_revision)
        json_object_set_new (seat, "next_revision", json_integer (ack->next_revision));
    json_array_append_new (self->seats, seat);
}

static void
s_on_done (void *arg, const char *label, const Election__Ack *ack, int attempts)
{
    s_ingest_t *self = arg;
    //  Under --json, stdout carries the summary alone; these lines go to stderr
    FILE *out = self->json ? stderr : stdout;
    const char *outcome = "not_acknowledged";
    if (!ack) {
        self->unacked++;
        fprintf (out, "%s: NOT ACKNOWLEDGED after %d attempts\n", label, attempts);
    }
    else {
        if (ack->sequence > self->last_sequence)
            self->last_sequence = ack->sequence;
        if (ack->has_next_revision)
            self->next_revision = ack->next_revision;
        switch (ack->status) {
            case ELECTION__ACK_STATUS__ACK_ACCEPTED:
                self->accepted++;
                outcome = names_ack_status (ack->status);
                if (self->per_seat_lines)
                    fprintf (out, "%s: accepted (sequence %llu)\n", label, (unsigned long long) ack->sequence);
                break;
            case ELECTION__ACK_STATUS__ACK_DUPLICATE:
                self->duplicate++;
                outcome = names_ack_status (ack->status);
                if (self->per_seat_lines)
                    fprintf (out, "%s: duplicate (already held, no change)\n", label);
                break;
            case ELECTION__ACK_STATUS__ACK_HELD:
                //  Not on air until a second person confirms it
                self->held++;
                outcome = names_ack_status (ack->status);
                fprintf (out, "%s: HELD for a second look, not on air:", label);
                for (size_t i = 0; i < ack->n_reasons; i++)
                    fprintf (out, "%s %s", i ? ";" : "", ack->reasons [i]);
                fprintf (out, " (to release it, a second person sends the same again with "
                         "--confirm; to correct it, --revision %u)\n", ack->revision + 1);
                break;
            default:
                self->rejected++;
                outcome = names_ack_status (ELECTION__ACK_STATUS__ACK_REJECTED);
                fprintf (out, "%s: rejected: %s\n", label, ack->text ? ack->text : "no reason given");
                break;
        }
    }
    if (self->seats)
        s_note_outcome (self, label, outcome, ack, attempts);
    fflush (out);
}

static void
s_progress (const s_ingest_t *self, const sender_t *sender, int64_t started, int64_t night_ms, bool last)
{
    char clock [16] = "--:--";
    if (night_ms) {
        time_t seconds = (time_t) (night_ms / 1000);
        struct tm tm;
        gmtime_r (&seconds, &tm);
        strftime (clock, sizeof clock, "%H:%M", &tm);
    }
    fprintf (stderr, "%sreplay: sent %zu/%zu, acked %zu, elapsed %.1f s, night %s UTC%s",
             isatty (2) ? "\r" : "", sender_sent (sender), sender_submitted (sender),
             self->accepted + self->duplicate + self->rejected,
             (double) (clock_mono_ms () - started) / 1000.0, clock,
             isatty (2) && !last ? "   " : "\n");
    fflush (stderr);
}

//  Submits the plan (timed by the night for replay) and pumps to the end
static int
s_run_plan (s_ingest_t *self, sender_t *sender, plan_t *plan, const char *command)
{
    bool replay = strcmp (command, "replay") == 0;
    if (replay)
        plan_sort (plan);
    int64_t started = clock_mono_ms ();
    int64_t wall_started = clock_now_us () / 1000;
    int64_t first_night = plan->count ? plan->items [0].night_ms : 0;
    for (size_t i = 0; i < plan->count; i++) {
        plan_item_t *item = &plan->items [i];
        int64_t due = 0;
        if (replay && self->speed > 0) {
            //  In double, then bounded: a night's times come from a file and
            //  may be anything, and a delay past int64 would wrap to "now"
            double delay = ((double) item->night_ms - (double) first_night) / self->speed;
            due = started + (delay < S_MAX_DELAY_MS ? (int64_t) llround (delay) : (int64_t) S_MAX_DELAY_MS);
        }
        //  Declared now (send), or at the replayed time: the night's times
        //  scaled by --speed from the start of the replay (issue 11)
        int64_t declared_at = replay && due ? wall_started + (due - started) : clock_now_us () / 1000;
        if (plan_stamp (item, declared_at)) {
            fprintf (stderr, "ingest: out of memory\n");
            return -1;
        }
        if (sender_submit (sender, item->label, item->bytes, item->size, due)) {
            fprintf (stderr, "ingest: out of memory\n");
            return -1;
        }
    }
    int64_t next_progress = started + (isatty (2) ? 200 : 2000);
    while (sender_finished (sender) < sender_submitted (sender) && !signals_interrupted ()) {
        if (sender_pump (sender, 100))
            return -1;
        if (replay && clock_mono_ms () >= next_progress) {
            size_t sent = sender_sent (sender);
            s_progress (self, sender, started, sent ? plan->items [sent - 1].night_ms : 0, false);
            next_progress = clock_mono_ms () + (isatty (2) ? 200 : 2000);
        }
    }
    size_t sent = sender_sent (sender);
    if (replay)
        s_progress (self, sender, started, sent ? plan->items [sent - 1].night_ms : 0, true);
    double elapsed = (double) (clock_mono_ms () - started) / 1000.0;
    size_t unfinished = sender_submitted (sender) - sender_finished (sender);
    fprintf (stderr, "ingest: %zu declarations: %zu accepted, %zu duplicate, %zu rejected, "
             "%zu held, %zu not acknowledged%s in %.2f s; last sequence %llu\n",
             sender_submitted (sender), self->accepted, self->duplicate, self->rejected,
             self->held, self->unacked + unfinished, unfinished ? " (interrupted)" : "", elapsed,
             (unsigned long long) self->last_sequence);
    if (self->json) {
        json_t *summary = json_pack ("{s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:b, s:I, s:f, s:o}",
            "command", command,
            "declarations", (json_int_t) sender_submitted (sender),
            "accepted", (json_int_t) self->accepted, "duplicate", (json_int_t) self->duplicate,
            "rejected", (json_int_t) self->rejected, "held", (json_int_t) self->held,
            "not_acknowledged", (json_int_t) (self->unacked + unfinished),
            "interrupted", unfinished > 0, "last_sequence", (json_int_t) self->last_sequence,
            "elapsed_s", elapsed, "seats", self->seats ? self->seats : json_array ());
        self->seats = NULL;     //  the summary took it
        char *text = summary ? json_dumps (summary, JSON_COMPACT) : NULL;
        printf ("%s\n", text ? text : "{\"error\": \"out of memory\"}");
        fflush (stdout);
        free (text);
        json_decref (summary);
    }
    return self->rejected || self->unacked || unfinished ? 1 : self->held ? 3 : 0;
}

static void
s_usage (FILE *out)
{
    fprintf (out,
        "Usage: ingest COMMAND [FILE] [OPTIONS]\n"
        "The count-centre client: declares results to the aggregator and makes sure\n"
        "each is acknowledged (retrying until it is).\n\n"
        "Commands:\n"
        "  send FILE.csv          declare every seat of a results file (or --seat), a line per seat\n"
        "  replay FILE            replay a night from a results CSV or an aggregator journal,\n"
        "                         in declaration order, timed by the night / --speed\n"
        "  declare --seat ID      the clerk's way: shows the seat's nominated candidates, asks\n"
        "                         for each one's votes (stdin), checks the sums, shows the card,\n"
        "                         and sends once the seat's name is typed to confirm\n"
        "  template --seat ID     print a CSV of the seat's nominated candidates, votes empty\n"
        "  retract --seat ID --reason WHY   withdraw a seat's declaration (no figures)\n"
        "  nominations FILE.csv   print the nominations file derived from a results file\n"
        "                         (how data/nominations_2017.csv is made)\n"
        "  journal FILE           print a journal for audit (--json for JSON lines)\n"
        "  exit-poll FILE.csv     an editor's exit poll, a CSV \"party,seats\" (e.g. Con,314):\n"
        "                         checked, then shown on the projection topic until enough\n"
        "                         results are in (aggregator --exit-poll-until)\n"
        "  keygen NAME            make a CURVE key pair: NAME.key (secret, mode 0600)\n"
        "                         and NAME.pub (give it to the aggregator's operator)\n\n"
        "Options:\n"
        "  --to ENDPOINT[,ENDPOINT]  aggregator ingest endpoint (default %s), or a pair's\n"
        "                         two: declarations go to the active one, turning to the\n"
        "                         other when it is silent or says it is the standby\n"
        "  --seat ONS_ID          send: only this seat; declare, template, retract: the seat\n"
        "  --revision N|next      revision number to declare (default 1; declare and retract:\n"
        "                         next); next: the one after what the aggregator holds\n"
        "  --kind result|rush     full figures, or the winner only (default result)\n"
        "  --reason WHY           correction, recount or retraction, for a revision;\n"
        "                         retract: why, in your words\n"
        "  --confirm, --confirmed the declarations were checked by a second person: never held\n"
        "                         for a second look, and a held one of the same revision and\n"
        "                         figures is released (replay --confirmed: a known-good night)\n"
        "  --nominations FILE     declare, template: the nominations from a file (default:\n"
        "                         asked of the aggregator)\n"
        "  --parties FILE         exit-poll: party codes must be this register's (default: any)\n"
        "  --seats N              exit-poll: the seats there are (default 650)\n"
        "  --times TIMES.csv      replay: declaration times (default: declaration_times_YYYY.csv\n"
        "                         beside geYYYY.csv if present, else evenly over a night)\n"
        "  --speed N|max          replay: N times real speed (0.001 to 1e9), or max (default 60)\n"
        "  --mode MODE            live, test or rehearsal (default rehearsal)\n"
        "  --election ID          election id (default uk-general)\n"
        "  --source ID            who is declaring (default ingest@HOST)\n"
        "  --retry-ms N           resend an unacknowledged declaration after N ms (default 1000)\n"
        "  --give-up SEC          stop retrying a declaration after SEC s (default 60)\n"
        "  --failover-ms N        a pair: turn to the other aggregator after N ms with no\n"
        "                         acknowledgement (default %d; above the aggregators'\n"
        "                         --copy-timeout-ms and --peer-timeout-ms)\n"
        "  --window N             declarations in flight at once (default 1000)\n"
        "  --curve-server-key FILE  the aggregator's public key (FILE.pub): send over CURVE\n"
        "  --curve-key NAME       with --curve-server-key: this centre's pair NAME.key + NAME.pub\n"
        "  --json                 send, replay, declare, retract: one JSON summary line on stdout\n"
        "                         at the end (counts and each seat's outcome; per-seat lines go\n"
        "                         to stderr); journal: JSON lines\n"
        "  --quiet                log errors only (default: warnings and errors)\n"
        "  --verbose              also log each retry and handshake (info)\n"
        "  --help                 this text\n\n"
        "Exit status: 0 if every declaration was accepted or a duplicate, 1 if any was\n"
        "rejected or never acknowledged, 3 if none was but some are held for a second\n"
        "look (not on air), 2 for bad usage or nothing sent.\n",
        NET_AGG_INGEST, NET_FAILOVER_MS);
}

//  --revision next: the aggregator's next revision of each seat
static uint32_t
s_next_revision (void *arg, const char *ons_id)
{
    s_ingest_t *self = arg;
    size_t index;
    if (self->next && strmap_get (self->next, ons_id, &index))
        return self->revisions->seats [index]->next_revision;
    return 1;       //  a seat the aggregator did not name: it will say why
}

static int
s_ask_revisions (s_ingest_t *self, void *ctx, const sender_config_t *config)
{
    if (request_revisions (ctx, config, self->plan.seat, &self->revisions))
        return -1;
    self->next = strmap_new_borrowed (self->revisions->n_seats);
    for (size_t i = 0; self->next && i < self->revisions->n_seats; i++)
        if (self->revisions->seats [i]->ons_id
        &&  strmap_put (self->next, self->revisions->seats [i]->ons_id, i))
            break;
    self->plan.revision_of = s_next_revision;
    self->plan.revision_arg = self;
    return self->next ? 0 : -1;
}

static bool
s_takes_file (const char *command)
{
    const char *with_file [] = { "send", "replay", "journal", "keygen", "nominations", "exit-poll" };
    for (size_t i = 0; i < sizeof with_file / sizeof with_file [0]; i++)
        if (strcmp (command, with_file [i]) == 0)
            return true;
    return false;
}

int
main (int argc, char *argv [])
{
    static char source [128];
    char host [64] = "localhost";
    gethostname (host, sizeof host - 1);
    snprintf (source, sizeof source, "ingest@%s", host);
    s_ingest_t self = {
        .to = NET_AGG_INGEST, .speed = 60, .retry_ms = 1000, .failover_ms = NET_FAILOVER_MS,
        .give_up_ms = 60000, .window = 1000, .seats_total = 650,
        .plan = { .election = "uk-general", .source = source,
                  .mode = ELECTION__MODE__MODE_REHEARSAL, .revision = 1 }
    };
    log_level_t level = LOG_WARN;
    bool revision_given = false;
    static const struct option options [] = {
        { "to", required_argument, NULL, 't' },
        { "seat", required_argument, NULL, 's' },
        { "revision", required_argument, NULL, 'r' },
        { "kind", required_argument, NULL, 'k' },
        { "reason", required_argument, NULL, 'R' },
        { "confirm", no_argument, NULL, 'c' },
        { "confirmed", no_argument, NULL, 'c' },
        { "nominations", required_argument, NULL, 'N' },
        { "parties", required_argument, NULL, 3001 },
        { "seats", required_argument, NULL, 3002 },
        { "times", required_argument, NULL, 'T' },
        { "speed", required_argument, NULL, 'x' },
        { "mode", required_argument, NULL, 'm' },
        { "election", required_argument, NULL, 'e' },
        { "source", required_argument, NULL, 'S' },
        { "retry-ms", required_argument, NULL, 'y' },
        { "give-up", required_argument, NULL, 'g' },
        { "failover-ms", required_argument, NULL, 'F' },
        { "window", required_argument, NULL, 'w' },
        { "curve-server-key", required_argument, NULL, 'K' },
        { "curve-key", required_argument, NULL, 'P' },
        { "json", no_argument, NULL, 'j' },
        { "quiet", no_argument, NULL, 'q' },
        { "verbose", no_argument, NULL, 'v' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 }
    };
    int opt;
    long long value;
    while ((opt = getopt_long (argc, argv, "h", options, NULL)) != -1) {
        switch (opt) {
            case 't': self.to = optarg; break;
            case 's': self.plan.seat = optarg; break;
            case 'T': self.plan.times_path = optarg; break;
            case 'e': self.plan.election = optarg; break;
            case 'S': self.plan.source = optarg; break;
            case 'K': self.server_key = optarg; break;
            case 'P': self.own_key = optarg; break;
            case 'j': self.json = true; break;
            case 'q': level = LOG_ERROR; break;
            case 'v': level = LOG_INFO; break;
            case 'c': self.plan.confirmed = true; break;
            case 'N': self.nominations = optarg; break;
            case 3001: self.parties = optarg; break;
            case 3002:
                if (cli_integer ("ingest", "--seats", optarg, 1, 100000000, &value))
                    return 2;
                self.seats_total = (size_t) value;
                break;
            case 'R': self.reason = optarg; break;
            case 'k':
                if (!names_kind_parse (optarg, &self.plan.kind)) {
                    fprintf (stderr, "ingest: --kind must be result or rush\n");
                    return 2;
                }
                break;
            case 'm':
                self.plan.mode = names_mode_parse (optarg);
                if (self.plan.mode == ELECTION__MODE__MODE_UNSPECIFIED) {
                    fprintf (stderr, "ingest: --mode must be live, test or rehearsal\n");
                    return 2;
                }
                break;
            case 'x':
                if (strcmp (optarg, "max") == 0)
                    self.speed = 0;
                else
                if (cli_real ("ingest", "--speed", optarg, S_MIN_SPEED, S_MAX_SPEED, &self.speed))
                    return 2;       //  (or max)
                break;
            case 'r':
                revision_given = true;
                if (strcmp (optarg, "next") == 0) {
                    self.revision_next = true;
                    break;
                }
                if (cli_integer ("ingest", "--revision", optarg, 1, 1000000, &value))
                    return 2;
                self.plan.revision = (uint32_t) value;
                break;
            case 'y':
                if (cli_integer ("ingest", "--retry-ms", optarg, 1, 100000000, &value))
                    return 2;
                self.retry_ms = (int) value;
                break;
            case 'F':
                if (cli_integer ("ingest", "--failover-ms", optarg, 10, 100000000, &value))
                    return 2;
                self.failover_ms = (int) value;
                break;
            case 'g':
                if (cli_integer ("ingest", "--give-up", optarg, 1, 100000000, &value))
                    return 2;
                //  Past about 23 days the milliseconds would overflow an int
                self.give_up_ms = (int) (value > 2000000 ? 2000000000 : value * 1000);
                break;
            case 'w':
                if (cli_integer ("ingest", "--window", optarg, 1, 100000000, &value))
                    return 2;
                self.window = (size_t) value;
                break;
            case 'h': s_usage (stdout); return 0;
            default:  s_usage (stderr); return 2;
        }
    }
    if (argc - optind < 1) {
        s_usage (stderr);
        return 2;
    }
    const char *command = argv [optind];
    bool takes_file = s_takes_file (command);
    if (argc - optind != (takes_file ? 2 : 1)) {
        if (takes_file || argc - optind > 1)
            s_usage (stderr);
        else
            fprintf (stderr, "ingest: %s takes no FILE: --seat ONS_ID\n", command);
        return 2;
    }
    const char *path = takes_file ? argv [optind + 1] : NULL;
    log_init ("ingest", level);
    fdlimit_raise ();    //  every connection is a file (fdlimit.h)
    if (strcmp (command, "journal") == 0)
        return audit_journal (path, self.json);
    if (strcmp (command, "keygen") == 0)
        return keygen_pair (path);
    if (strcmp (command, "nominations") == 0)
        return clerk_derive_nominations (path, stdout);
    bool replay = strcmp (command, "replay") == 0;
    bool declare = strcmp (command, "declare") == 0;
    bool retract = strcmp (command, "retract") == 0;
    bool template = strcmp (command, "template") == 0;
    bool exit_poll = strcmp (command, "exit-poll") == 0;
    if (!replay && !declare && !retract && !template && !exit_poll && strcmp (command, "send") != 0) {
        fprintf (stderr, "ingest: unknown command \"%s\"\n", command);
        s_usage (stderr);
        return 2;
    }
    //  --reason is a word of the schema, but a retraction's reason is the clerk's
    if (self.reason && !retract && !names_reason_parse (self.reason, &self.plan.reason)) {
        fprintf (stderr, "ingest: --reason must be correction, recount or retraction\n");
        return 2;
    }
    //  A clerk's declaration or retraction goes above whatever is held
    if ((declare || retract) && !revision_given)
        self.revision_next = true;
    if (self.revision_next)
        self.plan.revision = 0;
    self.per_seat_lines = !replay;
    self.plan.replay = replay;
    if (self.json && !(self.seats = json_array ())) {
        fprintf (stderr, "ingest: out of memory\n");
        return 1;
    }
    if (self.plan.reason == ELECTION__REVISION_REASON__REASON_NONE && self.plan.revision > 1)
        self.plan.reason = ELECTION__REVISION_REASON__REASON_CORRECTION;

    keys_client_t curve;
    if (!self.server_key != !self.own_key) {
        fprintf (stderr, "ingest: --curve-server-key and --curve-key go together\n");
        return 2;
    }
    if (self.server_key) {
        char err [512];
        if (keys_client_load (&curve, self.server_key, self.own_key, err, sizeof err)) {
            fprintf (stderr, "ingest: %s\n", err);
            return 2;
        }
    }
    signals_catch ();
    void *ctx = zmq_ctx_new ();
    sender_config_t config = { .to = self.to, .failover_ms = self.failover_ms,
                               .retry_ms = self.retry_ms, .give_up_ms = self.give_up_ms,
                               .window = self.window, .curve = self.server_key ? &curve : NULL };
    clerk_options_t clerk = { ctx, &config, self.nominations, self.plan.seat, &self.plan };
    sender_t *sender = NULL;
    plan_t plan = { 0 };
    int rc = 1;
    if (!ctx)
        goto cleanup;
    if (template) {
        rc = clerk_template (&clerk, stdout);
        goto cleanup;
    }
    if (exit_poll) {
        editor_options_t editor = { ctx, &config, self.plan.election, self.plan.mode,
                                    self.plan.source, self.parties, self.seats_total, self.json };
        rc = editor_exit_poll (&editor, path);
        goto cleanup;
    }
    rc = 2;
    if (declare ? clerk_declare (&clerk, stdin, self.json ? stderr : stdout, &plan)
    :   retract ? clerk_retract (&clerk, self.reason, &plan)
    :   0)
        goto cleanup;
    rc = 1;
    if (self.revision_next && !declare && !retract && s_ask_revisions (&self, ctx, &config))
        goto cleanup;
    if (!(sender = sender_new (ctx, &config, s_on_done, &self)))
        goto cleanup;
    if (!declare && !retract
    &&  (replay && journal_record_sniff (path) ? plan_journal (&plan, &self.plan, path)
                                               : plan_csv (&plan, &self.plan, path)))
        goto cleanup;
    rc = s_run_plan (&self, sender, &plan, command);
    if (retract && self.accepted)
        fprintf (stderr, "ingest: %s withdrawn; its next declaration is --revision %u\n",
                 self.plan.seat, self.next_revision);
cleanup:
    plan_free (&plan);
    json_decref (self.seats);
    strmap_destroy (&self.next);
    if (self.revisions)
        election__revisions__free_unpacked (self.revisions, NULL);
    sender_destroy (&sender);
    if (ctx)
        zmq_ctx_term (ctx);
    return rc;
}
