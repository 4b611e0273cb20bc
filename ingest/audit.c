/*  audit.c: see audit.h.  */
#include "audit.h"
#include "journal.h"
#include "journal_record.h"
#include "names.h"
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

//  When the record was received, as UTC text
static void
s_received_at (const Election__JournalRecord *record, char *when, size_t size)
{
    time_t seconds = (time_t) (record->received_at_us / 1000000);
    struct tm tm;
    gmtime_r (&seconds, &tm);
    strftime (when, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

//  One JSON line on stdout; takes the object (NULL: nothing printed)
static void
s_print_json (json_t *line)
{
    char *text = line ? json_dumps (line, JSON_COMPACT) : NULL;
    if (text)
        puts (text);
    free (text);
    json_decref (line);
}

//  An exit poll's record: who sent it, and the seats per party
static void
s_print_exit_poll (const Election__JournalRecord *record, bool json)
{
    const Election__ExitPoll *poll = record->exit_poll;
    char when [32];
    s_received_at (record, when, sizeof when);
    if (json) {
        json_t *parties = json_array ();
        for (size_t i = 0; i < poll->n_parties; i++)
            json_array_append_new (parties, json_pack ("{s:s?, s:I}", "party",
                poll->parties [i]->party, "seats", (json_int_t) poll->parties [i]->seats));
        json_t *line = json_pack ("{s:I, s:s, s:s?, s:s?, s:s, s:o}",
            "sequence", (json_int_t) record->sequence, "received_at", when, "source", record->source,
            "election_id", poll->election_id, "kind", "exit poll", "exit_poll", parties);
        s_print_json (line);
        return;
    }
    printf ("%6llu %s exit poll:", (unsigned long long) record->sequence, when);
    for (size_t i = 0; i < poll->n_parties; i++)
        printf ("%s %s %u", i ? "," : "", poll->parties [i]->party ? poll->parties [i]->party : "?",
                poll->parties [i]->seats);
    printf (", from %s\n", record->source ? record->source : "?");
}

static int
s_print_record (void *arg, const uint8_t *payload, size_t size)
{
    const bool *json = arg;
    Election__JournalRecord *record = journal_record_unpack (payload, size);
    if (!record) {
        printf (*json ? "{\"error\": \"undecodable record\"}\n" : "(undecodable record)\n");
        return 0;
    }
    if (!record->declaration) {
        s_print_exit_poll (record, *json);
        journal_record_free (&record);
        return 0;
    }
    const Election__Declaration *d = record->declaration;
    char when [32];
    s_received_at (record, when, sizeof when);
    //  As in the state's JSON: no reason (a first declaration) is null
    const char *kind = names_kind (d->kind);
    const char *reason = names_reason (d->reason);
    if (*json) {
        json_t *candidates = json_array ();
        for (size_t i = 0; i < d->n_candidates; i++)
            json_array_append_new (candidates, json_pack ("{s:s?, s:s?, s:I}", "name",
                d->candidates [i]->name, "party", d->candidates [i]->party,
                "votes", (json_int_t) d->candidates [i]->votes));
        json_t *line = json_pack ("{s:I, s:s, s:s?, s:s?, s:s?, s:I, s:s?, s:s?, s:I, s:s?, s:o}",
            "sequence", (json_int_t) record->sequence, "received_at", when, "source", record->source,
            "election_id", d->election_id, "ons_id", d->ons_id, "revision", (json_int_t) d->revision,
            "kind", kind, "reason", reason, "electorate", (json_int_t) d->electorate,
            "mode", names_mode (d->mode), "candidates", candidates);
        //  Who checked what: a held declaration (not applied, and why), a
        //  confirmed one, a clerk's note
        bool held = record->has_held && record->held;
        json_object_set_new (line, "held", json_boolean (held));
        if (held) {
            json_t *reasons = json_array ();
            for (size_t i = 0; i < record->n_hold_reasons; i++)
                json_array_append_new (reasons, json_string (record->hold_reasons [i]));
            json_object_set_new (line, "hold_reasons", reasons);
        }
        json_object_set_new (line, "confirmed", json_boolean (d->has_confirmed && d->confirmed));
        if (d->note)
            json_object_set_new (line, "note", json_string (d->note));
        s_print_json (line);
    }
    else {
        printf ("%6llu %s %-10s %s rev %u %s%s%s, %zu candidates, from %s%s%s%s\n",
                (unsigned long long) record->sequence, when, d->ons_id ? d->ons_id : "?",
                d->election_id ? d->election_id : "?", d->revision, kind ? kind : "?",
                d->reason ? " " : "", d->reason ? (reason ? reason : "?") : "", d->n_candidates,
                record->source ? record->source : "?",
                d->has_confirmed && d->confirmed ? ", confirmed" : "",
                record->has_held && record->held ? ", HELD: " : "",
                record->has_held && record->held && record->n_hold_reasons
                    ? record->hold_reasons [0] : "");
        if (d->note)
            printf ("       note: %s\n", d->note);
    }
    journal_record_free (&record);
    return 0;
}

//  Whose journal it is, on stderr: stdout holds the records alone
static int
s_print_header (void *arg, const uint8_t *payload, size_t size)
{
    (void) arg;
    Election__JournalHeader *header = journal_record_unpack_header (payload, size);
    if (!header) {
        fprintf (stderr, "ingest: the journal's header does not decode\n");
        return 0;
    }
    char when [32] = "?";
    time_t seconds = (time_t) (header->created_at_us / 1000000);
    struct tm tm;
    if (header->has_created_at_us && gmtime_r (&seconds, &tm))
        strftime (when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
    fprintf (stderr, "ingest: journal of a %s night of election %s, created %s\n",
             names_mode (header->mode), header->election_id ? header->election_id : "?", when);
    journal_record_free_header (&header);
    return 0;
}

int
audit_journal (const char *path, bool json)
{
    journal_scan_t scan;
    char err [512];
    journal_reader_t reader = { s_print_header, s_print_record, &json };
    el_err_t rc = journal_read (path, &reader, &scan, err, sizeof err);
    if (rc) {
        fprintf (stderr, "ingest: %s\n", err);
        return 1;
    }
    fprintf (stderr, "ingest: %zu records (journal version %u)%s\n", scan.records, scan.version,
             scan.cut_bytes ? ", followed by a torn tail (ignored)" : "");
    return 0;
}
