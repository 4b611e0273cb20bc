/*  publisher: command line of the fan-out tier (see publisher.h).  */
#include "publisher.h"
#include "cli.h"
#include "fdlimit.h"
#include "log.h"
#include "signals.h"
#include "net.h"
#include <getopt.h>
#include <stdbool.h>
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
        "                                the results page at / (default %d, or none with\n"
        "                                --curve-secret: it has no authentication; 0: none)\n"
        "  --http-address ADDR           address the HTTP gateway binds (default %s)\n"
        "  --http-streams N              event streams at once; the next is told 503 with\n"
        "                                Retry-After (default %d)\n"
        "  --http-per-ip N               connections at once from one address (default %d;\n"
        "                                0: no limit)\n"
        "  --http-timeout SEC            close a connection idle this long (default %d)\n"
        "  --web-root DIR                files served at / (default %s)\n"
        "  --nchan-publish URL           also post every event to this nchan publisher location\n"
        "                                of an nginx web tier (deploy/nginx; needs --http)\n"
        "  --nchan-buffer-kib N          events queued for nginx while it does not take them;\n"
        "                                beyond, they are dropped and counted (default %d)\n"
        "  --curve-secret FILE           own secret key (ingest keygen): CURVE on the feed\n"
        "                                (updates + snapshot; the paid-feed option)\n"
        "  --allow FILE                  with --curve-secret: subscriber keys let in, one per\n"
        "                                line \"KEY NAME\" (default: anyone with our public key)\n"
        "  --quiet                       log warnings and errors only\n"
        "  --help                        this text\n",
        NET_AGG_UPDATES, NET_AGG_SNAPSHOT, NET_PUB_UPDATES, NET_PUB_SNAPSHOT,
        NET_HEARTBEAT_MS, NET_SILENCE_MS, S_HTTP_PORT, S_HTTP_ADDRESS, HTTP_MAX_STREAMS,
        HTTP_PER_IP, HTTP_TIMEOUT_S, EL_WEB_ROOT, NCHAN_BUFFER_KIB);
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
        .http = {
            .address = S_HTTP_ADDRESS,
            .port = S_HTTP_PORT,
            .web_root = EL_WEB_ROOT,
            .max_streams = HTTP_MAX_STREAMS,
            .per_ip = HTTP_PER_IP,
            .timeout_s = HTTP_TIMEOUT_S
        },
        .nchan_buffer = (size_t) NCHAN_BUFFER_KIB * 1024
    };
    bool http_given = false;
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
        { "http-streams", required_argument, NULL, 's' },
        { "http-per-ip", required_argument, NULL, 'i' },
        { "http-timeout", required_argument, NULL, 't' },
        { "web-root", required_argument, NULL, 'W' },
        { "nchan-publish", required_argument, NULL, 'p' },
        { "nchan-buffer-kib", required_argument, NULL, 'b' },
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
            case 'A': config.http.address = optarg; break;
            case 'W': config.http.web_root = optarg; break;
            case 'p': config.nchan_url = optarg; break;
            case 'P':
                if (cli_integer ("publisher", "--http", optarg, 0, 65535, &value))
                    return 2;
                config.http.port = (int) value;
                http_given = true;
                break;
            case 's':
                if (cli_integer ("publisher", "--http-streams", optarg, 1, 100000, &value))
                    return 2;
                config.http.max_streams = (unsigned) value;
                break;
            case 'i':
                if (cli_integer ("publisher", "--http-per-ip", optarg, 0, 100000, &value))
                    return 2;
                config.http.per_ip = (unsigned) value;
                break;
            case 't':
                if (cli_integer ("publisher", "--http-timeout", optarg, 1, 3600, &value))
                    return 2;
                config.http.timeout_s = (unsigned) value;
                break;
            case 'b':
                if (cli_integer ("publisher", "--nchan-buffer-kib", optarg, 1, 4194304, &value))
                    return 2;
                config.nchan_buffer = (size_t) value * 1024;
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
    log_info ("PUB150", "open files: at most %lu (every connection is one)", fdlimit_raise ());
    //  A keyed feed beside an open gateway would give the results away to
    //  whoever reaches the port: with a key, the gateway is on only if asked for
    if (config.curve_secret && !http_given) {
        config.http.port = 0;
        log_info ("PUB120", "HTTP gateway off: the feed is keyed and the gateway has no authentication "
                  "(--http PORT turns it on)");
    }
    else
    if (config.curve_secret && config.http.port)
        log_warn ("PUB121", "HTTP gateway on port %d serves every result without authentication, "
                  "beside the keyed feed", config.http.port);
    if (config.nchan_url && !config.http.port) {
        fprintf (stderr, "publisher: --nchan-publish needs the HTTP gateway (--http PORT): "
                 "nginx serves /state from it\n");
        return 2;
    }
    signals_catch ();
    publisher_t *publisher = publisher_new (&config);
    if (!publisher)
        return 1;
    int rc = publisher_run (publisher);
    publisher_destroy (&publisher);
    return rc;
}
