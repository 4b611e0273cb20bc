/*  publisher: command line of the fan-out tier (see publisher.h).  */
#include "publisher.h"
#include "cli.h"
#include "log.h"
#include "signals.h"
#include "net.h"
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#define S_HTTP_PORT     8080
#define S_HTTP_ADDRESS  "127.0.0.1"

static void
s_usage (FILE *out)
{
    fprintf (out,
        "Usage: publisher [OPTIONS]\n"
        "Follows the aggregator and rebroadcasts its summaries to subscribers:\n"
        "snapshot on request, then every update in order (Clone pattern).\n\n"
        "  --upstream-updates ENDPOINT   aggregator's update stream (default %s)\n"
        "  --upstream-snapshot ENDPOINT  aggregator's snapshots (default %s)\n"
        "  --updates ENDPOINT            own update stream, PUB (default %s)\n"
        "  --snapshot ENDPOINT           own snapshots, ROUTER (default %s)\n"
        "  --heartbeat-ms N              heartbeat interval (default %d)\n"
        "  --silence-ms N                upstream silent this long is reported stale (default %d)\n"
        "  --http PORT                   HTTP gateway: /state, /events (SSE), /seat/<ons_id> and\n"
        "                                the results page at / (default %d; 0: none)\n"
        "  --http-address ADDR           address the HTTP gateway binds (default %s)\n"
        "  --web-root DIR                files served at / (default %s)\n"
        "  --curve-secret FILE           own secret key (ingest keygen): CURVE on the feed\n"
        "                                (updates + snapshot; the paid-feed option)\n"
        "  --allow FILE                  with --curve-secret: subscriber keys let in, one per\n"
        "                                line \"KEY NAME\" (default: anyone with our public key)\n"
        "  --quiet                       log warnings and errors only\n"
        "  --help                        this text\n",
        NET_AGG_UPDATES, NET_AGG_SNAPSHOT, NET_PUB_UPDATES, NET_PUB_SNAPSHOT,
        NET_HEARTBEAT_MS, NET_SILENCE_MS, S_HTTP_PORT, S_HTTP_ADDRESS, EL_WEB_ROOT);
}

int
main (int argc, char *argv [])
{
    publisher_config_t config = {
        .upstream_updates = NET_AGG_UPDATES,
        .upstream_snapshot = NET_AGG_SNAPSHOT,
        .updates = NET_PUB_UPDATES,
        .snapshot = NET_PUB_SNAPSHOT,
        .heartbeat_ms = NET_HEARTBEAT_MS,
        .silence_ms = NET_SILENCE_MS,
        .http_port = S_HTTP_PORT,
        .http_address = S_HTTP_ADDRESS,
        .web_root = EL_WEB_ROOT
    };
    log_level_t level = LOG_INFO;
    static const struct option options [] = {
        { "upstream-updates", required_argument, NULL, 'U' },
        { "upstream-snapshot", required_argument, NULL, 'N' },
        { "updates", required_argument, NULL, 'u' },
        { "snapshot", required_argument, NULL, 'n' },
        { "heartbeat-ms", required_argument, NULL, 'H' },
        { "silence-ms", required_argument, NULL, 'S' },
        { "http", required_argument, NULL, 'P' },
        { "http-address", required_argument, NULL, 'A' },
        { "web-root", required_argument, NULL, 'W' },
        { "curve-secret", required_argument, NULL, 'C' },
        { "allow", required_argument, NULL, 'L' },
        { "quiet", no_argument, NULL, 'q' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 }
    };
    int opt;
    long long value;
    while ((opt = getopt_long (argc, argv, "h", options, NULL)) != -1) {
        switch (opt) {
            case 'U': config.upstream_updates = optarg; break;
            case 'N': config.upstream_snapshot = optarg; break;
            case 'u': config.updates = optarg; break;
            case 'n': config.snapshot = optarg; break;
            case 'A': config.http_address = optarg; break;
            case 'W': config.web_root = optarg; break;
            case 'P':
                if (cli_integer ("publisher", "--http", optarg, 0, 65535, &value))
                    return 2;
                config.http_port = (int) value;
                break;
            case 'C': config.curve_secret = optarg; break;
            case 'L': config.allow = optarg; break;
            case 'q': level = LOG_WARN; break;
            case 'H':
                if (cli_integer ("publisher", "--heartbeat-ms", optarg, 10, 600000, &value))
                    return 2;
                config.heartbeat_ms = (int) value;
                break;
            case 'S':
                if (cli_integer ("publisher", "--silence-ms", optarg, 10, 600000, &value))
                    return 2;
                config.silence_ms = (int) value;
                break;
            case 'h': s_usage (stdout); return 0;
            default:  s_usage (stderr); return 2;
        }
    }
    if (optind < argc) {
        fprintf (stderr, "publisher: unexpected argument \"%s\"\n", argv [optind]);
        return 2;
    }
    if (config.allow && !config.curve_secret) {
        fprintf (stderr, "publisher: --allow needs --curve-secret\n");
        return 2;
    }
    log_init ("publisher", level);
    signals_catch ();
    publisher_t *publisher = publisher_new (&config);
    if (!publisher)
        return 1;
    int rc = publisher_run (publisher);
    publisher_destroy (&publisher);
    return rc;
}
