/*  aggregator: command line of the aggregator server (see aggregator.h).  */
#include "aggregator.h"
#include "desk.h"
#include "cli.h"
#include "fdlimit.h"
#include "log.h"
#include "signals.h"
#include "names.h"
#include "net.h"
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_ELECTORATE_TOLERANCE 5.0     /* percent */

static void
s_usage (FILE *out)
{
    fprintf (out,
        "Usage: aggregator [OPTIONS]\n"
        "Receives declarations from count centres, keeps the national picture\n"
        "against the baseline election, and publishes it (Clone pattern).\n\n"
        "  --baseline FILE            previous election results CSV (default data/ge2015.csv)\n"
        "  --speaker-as PARTY         count the Speaker's seat for PARTY (default: Speaker)\n"
        "  --baseline-speaker-as PARTY  the same for the baseline (default: Speaker)\n"
        "  --ingest ENDPOINT          declarations in, ROUTER (default %s)\n"
        "  --updates ENDPOINT         update stream out, PUB (default %s)\n"
        "  --snapshot ENDPOINT        snapshots, ROUTER (default %s)\n"
        "  --mode MODE                live, test or rehearsal (default rehearsal)\n"
        "  --election ID              election id declarations must carry (default uk-general)\n"
        "  --journal PATH             append-only journal; recovered at start (default: none)\n"
        "  --truncate-corrupt         start even if the journal is corrupt in the middle,\n"
        "                             cutting it there (the cut bytes go to PATH.corrupt)\n"
        "  --heartbeat-ms N           heartbeat interval (default %d)\n"
        "  --curve-secret FILE        the aggregator's secret key (ingest keygen): CURVE on\n"
        "                             the ingest socket (default: open, with a warning)\n"
        "  --allow FILE               with --curve-secret: the centres' public keys and the\n"
        "                             seats each may declare (see SECURITY.md)\n"
        "  --parties FILE             party register: full names, colours, aliases (default:\n"
        "                             parties.csv beside the baseline, if there is one)\n"
        "  --nominations FILE         who stands where: each declaration is checked against it\n"
        "                             and the improbable are held (default: none, which the\n"
        "                             log says loudly at start)\n"
        "  --electorate-tolerance PCT  a declared electorate may be this far from the\n"
        "                             register's (default %g)\n"
        "  --no-hold                  with --nominations: check, but hold nothing\n"
        "  Held for a second look (README \"The hold\"), with --nominations:\n"
        "  --hold-share-points N      a party's share change N points from its region's (default %g)\n"
        "  --hold-share-max N         early in the night: a share change over N points (default %g)\n"
        "  --hold-swing-points N      the seat's swing N points from its region's (default %g)\n"
        "  --hold-swing-max N         early in the night: a swing over N points (default %g)\n"
        "  --hold-turnout-points N    turnout N points from the seat's last (default %g)\n"
        "  --hold-majority-factor N   majority N times the seat's last, if that was 5%% or\n"
        "                             more of the votes (default %g)\n"
        "  --hold-min-seats N         seats a region must have declared before its changes are\n"
        "                             the yardstick; fewer: early in the night (default %d)\n"
        "  --exit-poll-until N        the projection topic shows the exit poll (ingest exit-poll)\n"
        "                             until N results are declared, then the projection from\n"
        "                             the results (default %d)\n"
        "  --exit-poll-from CENTRE    under CURVE, the one centre of the allow-list that may\n"
        "                             publish an exit poll (default desk)\n"
        "  --quiet                    log warnings and errors only\n"
        "  --help                     this text\n"
        "A pair of aggregators (README \"A pair of aggregators\"; both need --journal):\n"
        "  --role primary|backup      one of a pair: declarations are taken by the active one\n"
        "                             only, and acknowledged once both journals hold them\n"
        "  --peer ENDPOINT            the other aggregator's --peer-bind endpoint\n"
        "  --peer-bind ENDPOINT       the peer link, ROUTER (default %s)\n"
        "  --peer-key NAME            this aggregator's key pair NAME.key/NAME.pub (ingest\n"
        "                             keygen): the peer link is CURVE, and only the key of\n"
        "  --peer-public FILE         the other aggregator (its NAME.pub) may connect to it\n"
        "  --take-over                may take over when the peer is silent even if this one\n"
        "                             is not known to hold all it acknowledged (the peer is\n"
        "                             down and will not be back soon): that may be lost\n"
        "  --peer-heartbeat-ms N      state to the peer this often (default %d)\n"
        "  --peer-timeout-ms N        a peer silent this long is gone (default %d)\n"
        "  --copy-timeout-ms N        wait this long for the standby's copy, then acknowledge\n"
        "                             alone (default %d; keep it below the count centres'\n"
        "                             failover time, ingest --failover-ms, default %d)\n",
        NET_AGG_INGEST, NET_AGG_UPDATES, NET_AGG_SNAPSHOT, NET_HEARTBEAT_MS,
        S_ELECTORATE_TOLERANCE, SCRUTINY_SHARE_POINTS, SCRUTINY_SHARE_MAX,
        SCRUTINY_SWING_POINTS, SCRUTINY_SWING_MAX, SCRUTINY_TURNOUT_POINTS,
        SCRUTINY_MAJORITY_FACTOR, SCRUTINY_MIN_SEATS, DESK_EXIT_POLL_UNTIL, NET_AGG_PEER,
        NET_PEER_HEARTBEAT_MS, NET_PEER_TIMEOUT_MS, NET_COPY_TIMEOUT_MS, NET_FAILOVER_MS);
}

int
main (int argc, char *argv [])
{
    aggregator_config_t config = {
        .baseline = "data/ge2015.csv",
        .ingest = NET_AGG_INGEST,
        .updates = NET_AGG_UPDATES,
        .snapshot = NET_AGG_SNAPSHOT,
        .election = "uk-general",
        .mode = ELECTION__MODE__MODE_REHEARSAL,
        .heartbeat_ms = NET_HEARTBEAT_MS,
        .electorate_tolerance = S_ELECTORATE_TOLERANCE,
        .hold = true,
        .exit_poll_until = DESK_EXIT_POLL_UNTIL,
        .exit_poll_from = "desk",
        .scrutiny = scrutiny_defaults (),
        .peer_bind = NET_AGG_PEER,
        .peer_heartbeat_ms = NET_PEER_HEARTBEAT_MS,
        .peer_timeout_ms = NET_PEER_TIMEOUT_MS,
        .copy_timeout_ms = NET_COPY_TIMEOUT_MS
    };
    log_level_t level = LOG_INFO;
    static const struct option options [] = {
        { "baseline", required_argument, NULL, 'b' },
        { "speaker-as", required_argument, NULL, 's' },
        { "baseline-speaker-as", required_argument, NULL, 'S' },
        { "ingest", required_argument, NULL, 'i' },
        { "updates", required_argument, NULL, 'u' },
        { "snapshot", required_argument, NULL, 'n' },
        { "mode", required_argument, NULL, 'm' },
        { "election", required_argument, NULL, 'e' },
        { "journal", required_argument, NULL, 'j' },
        { "truncate-corrupt", no_argument, NULL, 'T' },
        { "heartbeat-ms", required_argument, NULL, 'H' },
        { "curve-secret", required_argument, NULL, 'C' },
        { "allow", required_argument, NULL, 'A' },
        { "parties", required_argument, NULL, 'p' },
        { "nominations", required_argument, NULL, 'N' },
        { "electorate-tolerance", required_argument, NULL, 'E' },
        { "no-hold", no_argument, NULL, 'O' },
        { "hold-share-points", required_argument, NULL, 1001 },
        { "hold-share-max", required_argument, NULL, 1002 },
        { "hold-swing-points", required_argument, NULL, 1003 },
        { "hold-swing-max", required_argument, NULL, 1004 },
        { "hold-turnout-points", required_argument, NULL, 1005 },
        { "hold-majority-factor", required_argument, NULL, 1006 },
        { "hold-min-seats", required_argument, NULL, 1007 },
        { "exit-poll-until", required_argument, NULL, 1008 },
        { "exit-poll-from", required_argument, NULL, 1009 },
        { "role", required_argument, NULL, 2001 },
        { "peer", required_argument, NULL, 2002 },
        { "peer-bind", required_argument, NULL, 2003 },
        { "take-over", no_argument, NULL, 2004 },
        { "peer-heartbeat-ms", required_argument, NULL, 2005 },
        { "peer-timeout-ms", required_argument, NULL, 2006 },
        { "copy-timeout-ms", required_argument, NULL, 2007 },
        { "peer-key", required_argument, NULL, 2008 },
        { "peer-public", required_argument, NULL, 2009 },
        { "quiet", no_argument, NULL, 'q' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 }
    };
    int opt;
    long long value;
    //  The thresholds in points, by option: one line each
    struct { int opt; const char *name; double *value; double max; } reals [] = {
        { 'E', "--electorate-tolerance", &config.electorate_tolerance, 100 },
        { 1001, "--hold-share-points", &config.scrutiny.share_points, 100 },
        { 1002, "--hold-share-max", &config.scrutiny.share_max, 100 },
        { 1003, "--hold-swing-points", &config.scrutiny.swing_points, 100 },
        { 1004, "--hold-swing-max", &config.scrutiny.swing_max, 100 },
        { 1005, "--hold-turnout-points", &config.scrutiny.turnout_points, 100 },
        { 1006, "--hold-majority-factor", &config.scrutiny.majority_factor, 1e6 },
    };
    while ((opt = getopt_long (argc, argv, "h", options, NULL)) != -1) {
        bool real = false;
        for (size_t i = 0; i < sizeof reals / sizeof reals [0]; i++)
            if (opt == reals [i].opt) {
                if (cli_real ("aggregator", reals [i].name, optarg, 0, reals [i].max,
                              reals [i].value))
                    return 2;
                real = true;
            }
        if (real)
            continue;
        switch (opt) {
            case 'b': config.baseline = optarg; break;
            case 's': config.speaker_as = optarg; break;
            case 'S': config.baseline_speaker_as = optarg; break;
            case 'i': config.ingest = optarg; break;
            case 'u': config.updates = optarg; break;
            case 'n': config.snapshot = optarg; break;
            case 'e': config.election = optarg; break;
            case 'j': config.journal = optarg; break;
            case 'T': config.truncate_corrupt = true; break;
            case 'C': config.curve_secret = optarg; break;
            case 'A': config.allow = optarg; break;
            case 2002: config.peer = optarg; break;
            case 2003: config.peer_bind = optarg; break;
            case 2008: config.peer_key = optarg; break;
            case 2009: config.peer_public = optarg; break;
            case 2004: config.take_over = true; break;
            case 2001:
                if (strcmp (optarg, "primary") != 0 && strcmp (optarg, "backup") != 0) {
                    fprintf (stderr, "aggregator: --role must be primary or backup, not \"%s\"\n", optarg);
                    return 2;
                }
                config.role = optarg;
                break;
            case 2005:
                if (cli_integer ("aggregator", "--peer-heartbeat-ms", optarg, 10, 60000, &value))
                    return 2;
                config.peer_heartbeat_ms = (int) value;
                break;
            case 2006:
                if (cli_integer ("aggregator", "--peer-timeout-ms", optarg, 20, 600000, &value))
                    return 2;
                config.peer_timeout_ms = (int) value;
                break;
            case 2007:
                if (cli_integer ("aggregator", "--copy-timeout-ms", optarg, 10, 600000, &value))
                    return 2;
                config.copy_timeout_ms = (int) value;
                break;
            case 'q': level = LOG_WARN; break;
            case 'p': config.parties = optarg; break;
            case 'N': config.nominations = optarg; break;
            case 'O': config.hold = false; break;
            case 1007:
                if (cli_integer ("aggregator", "--hold-min-seats", optarg, 0, 1000000, &value))
                    return 2;
                config.scrutiny.min_seats = (size_t) value;
                break;
            case 1008:
                if (cli_integer ("aggregator", "--exit-poll-until", optarg, 0, 100000000, &value))
                    return 2;
                config.exit_poll_until = (uint32_t) value;
                break;
            case 1009: config.exit_poll_from = optarg; break;
            case 'm':
                config.mode = names_mode_parse (optarg);
                if (config.mode == ELECTION__MODE__MODE_UNSPECIFIED) {
                    fprintf (stderr, "aggregator: --mode must be live, test or rehearsal, not \"%s\"\n", optarg);
                    return 2;
                }
                break;
            case 'H':
                if (cli_integer ("aggregator", "--heartbeat-ms", optarg, 10, 60000, &value))
                    return 2;
                config.heartbeat_ms = (int) value;
                break;
            case 'h': s_usage (stdout); return 0;
            default:  s_usage (stderr); return 2;
        }
    }
    if (optind < argc) {
        fprintf (stderr, "aggregator: unexpected argument \"%s\"\n", argv [optind]);
        s_usage (stderr);
        return 2;
    }
    if (config.role && (!config.peer || !config.journal)) {
        fprintf (stderr, "aggregator: --role needs --peer (the other aggregator) and --journal\n");
        return 2;
    }
    if (!config.role && (config.peer || config.take_over || config.peer_key || config.peer_public)) {
        fprintf (stderr, "aggregator: --peer, --peer-key and --take-over are for one of a pair: "
                 "give --role\n");
        return 2;
    }
    if (!config.peer_key != !config.peer_public) {
        fprintf (stderr, "aggregator: --peer-key and --peer-public go together\n");
        return 2;
    }
    if (config.role && config.peer_timeout_ms <= config.peer_heartbeat_ms) {
        fprintf (stderr, "aggregator: --peer-timeout-ms must be longer than --peer-heartbeat-ms\n");
        return 2;
    }
    if (!config.curve_secret != !config.allow) {
        fprintf (stderr, "aggregator: --curve-secret and --allow go together\n");
        return 2;
    }
    log_init ("aggregator", level);
    log_info ("AGG140", "open files: at most %lu (every connection is one)", fdlimit_raise ());
    signals_catch ();
    aggregator_t *aggregator = aggregator_new (&config);
    if (!aggregator)
        return 1;
    int rc = aggregator_run (aggregator);
    aggregator_destroy (&aggregator);
    return rc;
}
