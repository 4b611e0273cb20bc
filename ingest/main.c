/*  ingest: the count-centre client.

      ingest send FILE.csv [--seat ONS_ID] [--revision N]   declare seats, one line each
      ingest replay FILE [--times TIMES.csv] [--speed N|max] replay a night (CSV or journal)
      ingest journal FILE [--json]                         print a journal for audit
      ingest keygen NAME                                   make NAME.key + NAME.pub (CURVE)

    Every declaration is acknowledged or retried (sender.h); the exit status
    is non-zero if any was rejected or never acknowledged. With --json, send
    and replay end with one JSON line on stdout that says so for scripts and
    tests (README "ingest --json").                                         */
#include "audit.h"
#include "cli.h"
#include "clock.h"
#include "journal_record.h"
#include "keygen.h"
#include "keys.h"
#include "log.h"
#include "names.h"
#include "net.h"
#include "plan.h"
#include "sender.h"
#include "signals.h"
#include <getopt.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

typedef struct {
    //  Options
    const char *to;
    plan_options_t plan;        /* what to send */
    const char *server_key;     /* --curve-server-key FILE.pub */
    const char *own_key;        /* --curve-key NAME */
    double speed;               /* 0: as fast as possible */
    int retry_ms;
    int give_up_ms;
    size_t window;
    bool json;                  /* journal: JSON lines; send, replay: a JSON summary */
    bool per_seat_lines;        /* send: a line per seat; replay: rejections only */
    //  Outcome
    size_t accepted, duplicate, rejected, unacked;
    uint64_t last_sequence;
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
s_run_plan (s_ingest_t *self, sender_t *sender, plan_t *plan, bool replay)
{
    if (replay)
        plan_sort (plan);
    int64_t started = clock_mono_ms ();
    int64_t first_night = plan->count ? plan->items [0].night_ms : 0;
    for (size_t i = 0; i < plan->count; i++) {
        plan_item_t *item = &plan->items [i];
        int64_t due = 0;
        if (replay && self->speed > 0)
            due = started + (int64_t) llround ((double) (item->night_ms - first_night) / self->speed);
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
             "%zu not acknowledged%s in %.2f s; last sequence %llu\n",
             sender_submitted (sender), self->accepted, self->duplicate, self->rejected,
             self->unacked + unfinished, unfinished ? " (interrupted)" : "", elapsed,
             (unsigned long long) self->last_sequence);
    if (self->json) {
        json_t *summary = json_pack ("{s:s, s:I, s:I, s:I, s:I, s:I, s:b, s:I, s:f, s:o}",
            "command", replay ? "replay" : "send",
            "declarations", (json_int_t) sender_submitted (sender),
            "accepted", (json_int_t) self->accepted, "duplicate", (json_int_t) self->duplicate,
            "rejected", (json_int_t) self->rejected,
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
    return self->rejected || self->unacked || unfinished ? 1 : 0;
}

static void
s_usage (FILE *out)
{
    fprintf (out,
        "Usage: ingest COMMAND FILE [OPTIONS]\n"
        "The count-centre client: declares results to the aggregator and makes sure\n"
        "each is acknowledged (retrying until it is).\n\n"
        "Commands:\n"
        "  send FILE.csv          declare every seat of a results file (or --seat), a line per seat\n"
        "  replay FILE            replay a night from a results CSV or an aggregator journal,\n"
        "                         in declaration order, timed by the night / --speed\n"
        "  journal FILE           print a journal for audit (--json for JSON lines)\n"
        "  keygen NAME            make a CURVE key pair: NAME.key (secret, mode 0600)\n"
        "                         and NAME.pub (give it to the aggregator's operator)\n\n"
        "Options:\n"
        "  --to ENDPOINT          aggregator ingest endpoint (default %s)\n"
        "  --seat ONS_ID          send: only this seat\n"
        "  --revision N           revision number to declare (default 1)\n"
        "  --kind result|rush     full figures, or the winner only (default result)\n"
        "  --reason WHY           correction, recount or retraction, for a revision\n"
        "  --times TIMES.csv      replay: declaration times (default: declaration_times_YYYY.csv\n"
        "                         beside geYYYY.csv if present, else evenly over a night)\n"
        "  --speed N|max          replay: N times real speed, or max (default 60)\n"
        "  --mode MODE            live, test or rehearsal (default rehearsal)\n"
        "  --election ID          election id (default uk-general)\n"
        "  --source ID            who is declaring (default ingest@HOST)\n"
        "  --retry-ms N           resend an unacknowledged declaration after N ms (default 1000)\n"
        "  --give-up SEC          stop retrying a declaration after SEC s (default 60)\n"
        "  --window N             declarations in flight at once (default 1000)\n"
        "  --curve-server-key FILE  the aggregator's public key (FILE.pub): send over CURVE\n"
        "  --curve-key NAME       with --curve-server-key: this centre's pair NAME.key + NAME.pub\n"
        "  --json                 send, replay: one JSON summary line on stdout at the end\n"
        "                         (counts and each seat's outcome; per-seat lines go to stderr);\n"
        "                         journal: JSON lines\n"
        "  --quiet                log errors only (default: warnings and errors)\n"
        "  --verbose              also log each retry and handshake (info)\n"
        "  --help                 this text\n\n"
        "Exit status: 0 if every declaration was accepted or a duplicate, 1 if any was\n"
        "rejected or never acknowledged, 2 for bad usage.\n",
        NET_AGG_INGEST);
}

int
main (int argc, char *argv [])
{
    static char source [128];
    char host [64] = "localhost";
    gethostname (host, sizeof host - 1);
    snprintf (source, sizeof source, "ingest@%s", host);
    s_ingest_t self = {
        .to = NET_AGG_INGEST, .speed = 60, .retry_ms = 1000, .give_up_ms = 60000, .window = 1000,
        .plan = { .election = "uk-general", .source = source,
                  .mode = ELECTION__MODE__MODE_REHEARSAL, .revision = 1 }
    };
    log_level_t level = LOG_WARN;
    static const struct option options [] = {
        { "to", required_argument, NULL, 't' },
        { "seat", required_argument, NULL, 's' },
        { "revision", required_argument, NULL, 'r' },
        { "kind", required_argument, NULL, 'k' },
        { "reason", required_argument, NULL, 'R' },
        { "times", required_argument, NULL, 'T' },
        { "speed", required_argument, NULL, 'x' },
        { "mode", required_argument, NULL, 'm' },
        { "election", required_argument, NULL, 'e' },
        { "source", required_argument, NULL, 'S' },
        { "retry-ms", required_argument, NULL, 'y' },
        { "give-up", required_argument, NULL, 'g' },
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
            case 'k':
                if (!names_kind_parse (optarg, &self.plan.kind)) {
                    fprintf (stderr, "ingest: --kind must be result or rush\n");
                    return 2;
                }
                break;
            case 'R':
                if (!names_reason_parse (optarg, &self.plan.reason)) {
                    fprintf (stderr, "ingest: --reason must be correction, recount or retraction\n");
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
                else {
                    char *end;
                    self.speed = strtod (optarg, &end);
                    if (*end || end == optarg || !(self.speed > 0) || self.speed > 1e9) {
                        fprintf (stderr, "ingest: --speed must be a positive number or max\n");
                        return 2;
                    }
                }
                break;
            case 'r':
                if (cli_integer ("ingest", "--revision", optarg, 1, 1000000, &value))
                    return 2;
                self.plan.revision = (uint32_t) value;
                break;
            case 'y':
                if (cli_integer ("ingest", "--retry-ms", optarg, 1, 100000000, &value))
                    return 2;
                self.retry_ms = (int) value;
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
    if (argc - optind != 2) {
        s_usage (stderr);
        return 2;
    }
    const char *command = argv [optind], *path = argv [optind + 1];
    log_init ("ingest", level);
    if (strcmp (command, "journal") == 0)
        return audit_journal (path, self.json);
    if (strcmp (command, "keygen") == 0)
        return keygen_pair (path);
    bool replay = strcmp (command, "replay") == 0;
    if (!replay && strcmp (command, "send") != 0) {
        fprintf (stderr, "ingest: unknown command \"%s\"\n", command);
        s_usage (stderr);
        return 2;
    }
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
    sender_config_t config = { self.to, self.retry_ms, self.give_up_ms, self.window,
                               self.server_key ? &curve : NULL };
    sender_t *sender = ctx ? sender_new (ctx, &config, s_on_done, &self) : NULL;
    plan_t plan = { 0 };
    int rc = 1;
    if (!sender)
        goto cleanup;
    if (replay && journal_record_sniff (path) ? plan_journal (&plan, &self.plan, path)
                                              : plan_csv (&plan, &self.plan, path))
        goto cleanup;
    rc = s_run_plan (&self, sender, &plan, replay);
cleanup:
    plan_free (&plan);
    json_decref (self.seats);
    sender_destroy (&sender);
    if (ctx)
        zmq_ctx_term (ctx);
    return rc;
}
