/*  editor.c: see editor.h.  */
#include "editor.h"
#include "exit_poll_file.h"
#include "names.h"
#include "parties.h"
#include "request.h"
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>

int
editor_exit_poll (const editor_options_t *options, const char *path)
{
    char err [512];
    parties_t *parties = NULL;
    exit_poll_t *file = NULL;
    if (options->parties && parties_load (options->parties, &parties, err, sizeof err)) {
        fprintf (stderr, "ingest: %s\n", err);
        return 2;
    }
    el_err_t loaded = exit_poll_load (path, parties, options->seats_total, &file, err, sizeof err);
    parties_destroy (&parties);
    if (loaded) {
        fprintf (stderr, "ingest: %s\n", err);
        return 2;
    }
    Election__ExitPoll poll = ELECTION__EXIT_POLL__INIT;
    Election__ExitPollParty rows [file->n_rows ? file->n_rows : 1];
    Election__ExitPollParty *row_list [file->n_rows ? file->n_rows : 1];
    for (size_t i = 0; i < file->n_rows; i++) {
        election__exit_poll_party__init (&rows [i]);
        rows [i].party = file->rows [i].party;
        rows [i].has_seats = true;
        rows [i].seats = file->rows [i].seats;
        row_list [i] = &rows [i];
    }
    poll.n_parties = file->n_rows;
    poll.parties = row_list;
    poll.election_id = (char *) options->election;
    poll.has_mode = true;
    poll.mode = options->mode;
    poll.source = (char *) options->source;
    Election__Ack *ack = NULL;
    int rc = 1;
    if (request_ack (options->ctx, options->config, "exit-poll", &poll.base, &ack) == 0) {
        bool taken = ack->status == ELECTION__ACK_STATUS__ACK_ACCEPTED
                  || ack->status == ELECTION__ACK_STATUS__ACK_DUPLICATE;
        const char *text = ack->text ? ack->text : names_ack_status (ack->status);
        FILE *out = options->json ? stderr : stdout;
        if (taken)
            fprintf (out, "%s: exit poll of %zu parties (%llu seats) %s%s\n", path, file->n_rows,
                     (unsigned long long) file->seats,
                     ack->status == ELECTION__ACK_STATUS__ACK_DUPLICATE ? "already held: " : "",
                     ack->status == ELECTION__ACK_STATUS__ACK_DUPLICATE ? "no change" : "accepted");
        else
            fprintf (out, "%s: exit poll rejected: %s\n", path, text);
        if (options->json) {
            json_t *line = json_pack ("{s:s, s:s, s:I, s:s, s:I}", "command", "exit-poll",
                "outcome", names_ack_status (ack->status), "parties", (json_int_t) file->n_rows,
                "reason", text, "sequence", (json_int_t) ack->sequence);
            char *dump = line ? json_dumps (line, JSON_COMPACT) : NULL;
            if (dump)
                printf ("%s\n", dump);
            free (dump);
            json_decref (line);
        }
        rc = taken ? 0 : 1;
        election__ack__free_unpacked (ack, NULL);
    }
    exit_poll_destroy (&file);
    return rc;
}
