/*  clerk.c: see clerk.h.  */
#include "clerk.h"
#include "cli.h"
#include "clock.h"
#include "declaration.h"
#include "nominations.h"
#include "parties.h"
#include "request.h"
#include "results_file.h"
#include <ctype.h>
#include <libgen.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

//  A seat as the clerk's commands know it, from a file or the aggregator
typedef struct {
    seat_result_t seat;             /* strings borrowed from what is below */
    const char *previous_winner;    /* NULL: not known */
    uint32_t next_revision;         /* 0: not known */
    nominations_t *file;            /* --nominations */
    parties_t *parties;             /* the register beside that file, if any */
    Election__Nominations *reply;   /* the aggregator's "nominations" */
    Election__Revisions *revisions; /* the aggregator's "revision" */
    candidate_t *candidates;        /* the reply's candidates, as the file's */
} s_seat_t;

static void
s_seat_free (s_seat_t *info)
{
    nominations_destroy (&info->file);
    parties_destroy (&info->parties);
    if (info->reply)
        election__nominations__free_unpacked (info->reply, NULL);
    if (info->revisions)
        election__revisions__free_unpacked (info->revisions, NULL);
    free (info->candidates);
    memset (info, 0, sizeof *info);
}

//  The register beside a nominations file, for the full names shown
static void
s_parties_beside (s_seat_t *info, const char *path)
{
    char *copy = strdup (path), *beside = NULL;
    if (copy && asprintf (&beside, "%s/parties.csv", dirname (copy)) > 0
    &&  access (beside, R_OK) == 0) {
        char err [256];
        if (parties_load (beside, &info->parties, err, sizeof err))
            fprintf (stderr, "ingest: %s (party names not shown)\n", err);
    }
    free (beside);
    free (copy);
}

//  The seat's nominations, from --nominations or the aggregator
static int
s_fetch_seat (const clerk_options_t *options, s_seat_t *info)
{
    memset (info, 0, sizeof *info);
    if (!options->seat) {
        fprintf (stderr, "ingest: which seat? --seat ONS_ID\n");
        return -1;
    }
    if (options->nominations) {
        char err [512];
        if (nominations_load (options->nominations, &info->file, err, sizeof err)) {
            fprintf (stderr, "ingest: %s\n", err);
            return -1;
        }
        const seat_result_t *seat = nominations_seat (info->file, options->seat);
        if (!seat) {
            fprintf (stderr, "ingest: %s is not in the nominations %s\n", options->seat,
                     options->nominations);
            return -1;
        }
        info->seat = *seat;
        s_parties_beside (info, options->nominations);
        return 0;
    }
    if (request_nominations (options->ctx, options->sender, options->seat, &info->reply))
        return -1;
    if (info->reply->n_seats != 1 || !info->reply->seats [0]->ons_id) {
        fprintf (stderr, "ingest: the aggregator has no nominations for %s\n", options->seat);
        return -1;
    }
    const Election__NominatedSeat *row = info->reply->seats [0];
    info->candidates = calloc (row->n_candidates ? row->n_candidates : 1, sizeof (candidate_t));
    if (!info->candidates) {
        fprintf (stderr, "ingest: out of memory\n");
        return -1;
    }
    for (size_t i = 0; i < row->n_candidates; i++)
        info->candidates [i] = (candidate_t) { .name = row->candidates [i]->name ? row->candidates [i]->name : "",
                                               .party = row->candidates [i]->party ? row->candidates [i]->party : "" };
    info->seat = (seat_result_t) {
        .ons_id = row->ons_id, .name = row->name ? row->name : "",
        .country = row->country ? row->country : "", .region = row->region ? row->region : "",
        .electorate = row->electorate, .candidates = info->candidates,
        .n_candidates = row->n_candidates
    };
    info->previous_winner = row->previous_winner;
    info->next_revision = row->has_next_revision ? row->next_revision : 0;
    return 0;
}

//  The revision to send (and, with a nominations file, the previous
//  winner): the aggregator's nominations carry both; else it is asked.
//  --revision N overrides the revision.
static int
s_fetch_revision (const clerk_options_t *options, s_seat_t *info, uint32_t *revision)
{
    if (!info->reply || !info->next_revision) {
        if (request_revisions (options->ctx, options->sender, options->seat, &info->revisions))
            return -1;
        if (info->revisions->n_seats == 1) {
            info->next_revision = info->revisions->seats [0]->next_revision;
            if (!info->previous_winner)
                info->previous_winner = info->revisions->seats [0]->previous_winner;
        }
    }
    *revision = options->plan->revision ? options->plan->revision
              : info->next_revision ? info->next_revision : 1;
    return 0;
}

//  A party's full name, as the register (the file's or the aggregator's) has it
static const char *
s_party_name (const s_seat_t *info, const char *code)
{
    for (size_t i = 0; info->reply && i < info->reply->n_parties; i++)
        if (info->reply->parties [i]->code && strcmp (info->reply->parties [i]->code, code) == 0
        &&  info->reply->parties [i]->name)
            return info->reply->parties [i]->name;
    return parties_name (info->parties, code);
}

int
clerk_derive_nominations (const char *path, FILE *out)
{
    results_t *results = NULL;
    nominations_t *nominations = NULL;
    char err [512], reason [512];
    if (results_load (path, &results, err, sizeof err)) {
        fprintf (stderr, "ingest: %s\n", err);
        return 1;
    }
    //  What is written must load as nominations: every candidate named once
    results_t *check = results;
    if (nominations_from (&check, &nominations, reason, sizeof reason)) {
        fprintf (stderr, "ingest: %s: %s\n", path, reason);
        return 1;
    }
    results_write_header (out, RESULTS_NO_VOTES);
    for (size_t i = 0; i < nominations_count (nominations); i++)
        results_write_seat (out, nominations_at (nominations, i), RESULTS_NO_VOTES);
    nominations_destroy (&nominations);
    fflush (out);
    return ferror (out) ? 1 : 0;
}

int
clerk_template (const clerk_options_t *options, FILE *out)
{
    s_seat_t info;
    int rc = 1;
    if (s_fetch_seat (options, &info) == 0) {
        results_write_header (out, RESULTS_EMPTY_VOTES);
        results_write_seat (out, &info.seat, RESULTS_EMPTY_VOTES);
        fflush (out);
        rc = ferror (out) ? 1 : 0;
    }
    s_seat_free (&info);
    return rc;
}


//  ---------------------------------------------------------------------
//  ingest declare

//  Asks on out, reads one line of in into buf without its line end and the
//  spaces around it. False at the end of input.
static bool
s_ask (FILE *in, FILE *out, const char *prompt, char *buf, size_t size)
{
    fputs (prompt, out);
    fflush (out);
    if (!fgets (buf, (int) size, in))
        return false;
    size_t len = strlen (buf);
    //  A line longer than the buffer: the rest is not an answer either
    if (len && buf [len - 1] != '\n' && !feof (in)) {
        int c;
        while ((c = fgetc (in)) != EOF && c != '\n')
            ;
    }
    while (len && isspace ((unsigned char) buf [len - 1]))
        buf [--len] = 0;
    size_t start = 0;
    while (isspace ((unsigned char) buf [start]))
        start++;
    memmove (buf, buf + start, len - start + 1);
    //  Piped answers are not echoed by a terminal: show them
    if (!isatty (fileno (in)))
        fprintf (out, "%s\n", buf);
    return true;
}

//  Asks for a count until one is given; optional: Enter gives none (false
//  in *given). Returns false at the end of input.
static bool
s_ask_count (FILE *in, FILE *out, const char *prompt, bool optional, uint32_t *value, bool *given)
{
    char line [128];
    while (true) {
        if (!s_ask (in, out, prompt, line, sizeof line))
            return false;
        if (optional && !*line) {
            *given = false;
            return true;
        }
        if (cli_count (line, value) == 0) {
            *given = true;
            return true;
        }
        fprintf (out, "  \"%s\" is not a number of votes (29765 or 29,765)%s\n", line,
                 optional ? ", or Enter to skip" : "");
    }
}

typedef struct {
    const char *name;           /* the seat's */
    uint32_t *votes;            /* per nominated candidate */
    uint32_t electorate;
    bool has_rejected, has_papers;
    uint32_t rejected, papers;
    uint64_t valid;
    size_t winner;
} s_figures_t;

//  Whether the figures add up; if not, says why on out
static bool
s_figures_add_up (const seat_result_t *seat, s_figures_t *figures, FILE *out)
{
    char a [32], b [32], c [32], d [32];
    figures->valid = 0;
    figures->winner = 0;
    size_t at_top = 0;
    for (size_t i = 0; i < seat->n_candidates; i++) {
        figures->valid += figures->votes [i];
        if (figures->votes [i] > figures->votes [figures->winner])
            figures->winner = i;
    }
    for (size_t i = 0; i < seat->n_candidates; i++)
        at_top += figures->votes [i] == figures->votes [figures->winner];
    if (figures->valid == 0) {
        fprintf (out, "No votes at all: that cannot be a result.\n");
        return false;
    }
    if (figures->valid > figures->electorate) {
        fprintf (out, "The votes add up to %s, more than the electorate of %s.\n",
                 cli_thousands ((long long) figures->valid, a, sizeof a),
                 cli_thousands (figures->electorate, b, sizeof b));
        return false;
    }
    if (figures->has_papers && figures->papers > figures->electorate) {
        fprintf (out, "%s ballot papers is more than the electorate of %s.\n",
                 cli_thousands (figures->papers, a, sizeof a),
                 cli_thousands (figures->electorate, b, sizeof b));
        return false;
    }
    if (figures->has_papers && figures->has_rejected
    &&  figures->valid + figures->rejected != figures->papers) {
        fprintf (out, "The votes add up to %s valid; with %s rejected that makes %s, but %s "
                 "ballot papers were issued.\n", cli_thousands ((long long) figures->valid, a, sizeof a),
                 cli_thousands (figures->rejected, b, sizeof b),
                 cli_thousands ((long long) (figures->valid + figures->rejected), c, sizeof c),
                 cli_thousands (figures->papers, d, sizeof d));
        return false;
    }
    if (figures->has_papers && !figures->has_rejected && figures->valid > figures->papers) {
        fprintf (out, "The votes add up to %s, more than the %s ballot papers issued.\n",
                 cli_thousands ((long long) figures->valid, a, sizeof a),
                 cli_thousands (figures->papers, b, sizeof b));
        return false;
    }
    if (at_top > 1) {
        fprintf (out, "%zu candidates tie for first place: the returning officer's decision "
                 "cannot be declared with ingest declare.\n", at_top);
        return false;
    }
    return true;
}

static void
s_upper (const char *in, char *out, size_t size)
{
    size_t i = 0;
    for (; in && in [i] && i + 1 < size; i++)
        out [i] = (char) toupper ((unsigned char) in [i]);
    out [i] = 0;
}

//  The card as it will appear: "LUTON NORTH — LAB HOLD, majority 14,364,
//  turnout 69.8%", then each candidate
static void
s_card (const s_seat_t *info, const s_figures_t *figures, FILE *out)
{
    const seat_result_t *seat = &info->seat;
    char name [128], winner [32], previous [32], number [32];
    s_upper (seat->name, name, sizeof name);
    const char *code = seat->candidates [figures->winner].party;
    s_upper (code, winner, sizeof winner);
    s_upper (info->previous_winner, previous, sizeof previous);
    uint32_t second = 0;
    for (size_t i = 0; i < seat->n_candidates; i++)
        if (i != figures->winner && figures->votes [i] > second)
            second = figures->votes [i];
    fprintf (out, "\n%s \xe2\x80\x94 %s %s%s, majority %s, turnout %.1f%%\n", name, winner,
             !info->previous_winner ? "WIN"
             : strcmp (info->previous_winner, code) == 0 ? "HOLD" : "GAIN FROM ",
             info->previous_winner && strcmp (info->previous_winner, code) != 0 ? previous : "",
             cli_thousands ((long long) (figures->votes [figures->winner] - second), number, sizeof number),
             100.0 * (double) figures->valid / (double) figures->electorate);
    for (size_t i = 0; i < seat->n_candidates; i++)
        fprintf (out, "  %-28s %-8s %9s %6.1f%%\n", seat->candidates [i].name,
                 seat->candidates [i].party, cli_thousands (figures->votes [i], number, sizeof number),
                 100.0 * (double) figures->votes [i] / (double) figures->valid);
    fprintf (out, "  Electorate %s", cli_thousands (figures->electorate, number, sizeof number));
    if (figures->has_papers)
        fprintf (out, "; ballot papers %s (official turnout %.1f%%)",
                 cli_thousands (figures->papers, number, sizeof number),
                 100.0 * (double) figures->papers / (double) figures->electorate);
    if (figures->has_rejected)
        fprintf (out, "; rejected %s", cli_thousands (figures->rejected, number, sizeof number));
    fprintf (out, "\n\n");
}

//  Asks for every figure once. Returns false at the end of input.
static bool
s_ask_figures (const s_seat_t *info, FILE *in, FILE *out, s_figures_t *figures)
{
    const seat_result_t *seat = &info->seat;
    char prompt [256], number [32];
    bool given;
    for (size_t i = 0; i < seat->n_candidates; i++) {
        snprintf (prompt, sizeof prompt, "Votes for %s (%s): ", seat->candidates [i].name,
                  seat->candidates [i].party);
        if (!s_ask_count (in, out, prompt, false, &figures->votes [i], &given))
            return false;
    }
    snprintf (prompt, sizeof prompt, "Electorate (Enter for the register's %s): ",
              cli_thousands (seat->electorate, number, sizeof number));
    if (!s_ask_count (in, out, prompt, true, &figures->electorate, &given))
        return false;
    if (!given)
        figures->electorate = seat->electorate;
    if (!s_ask_count (in, out, "Rejected ballots (Enter to skip): ", true,
                      &figures->rejected, &figures->has_rejected)
    ||  !s_ask_count (in, out, "Ballot papers issued (Enter to skip): ", true,
                      &figures->papers, &figures->has_papers))
        return false;
    return true;
}

//  The clerk types the seat's name to send: "no" starts again. Returns 1
//  to send, 0 to start again, -1 at the end of input.
static int
s_confirm (const s_seat_t *info, FILE *in, FILE *out)
{
    char line [256];
    while (true) {
        if (!s_ask (in, out, "Type the constituency's name to send this result "
                    "(or \"no\" to start again): ", line, sizeof line))
            return -1;
        if (strcmp (line, "no") == 0 || strcmp (line, "NO") == 0) {
            fprintf (out, "Nothing sent. Starting again.\n\n");
            return 0;
        }
        if (nominations_same_name (line, info->seat.name))
            return 1;
        fprintf (out, "\"%s\" is not %s: nothing sent. Type the name exactly as shown, "
                 "or \"no\".\n", line, info->seat.name);
    }
}

//  A declaration of the seat as declaration_from_seat makes it from the
//  options (votes, if any, are in seat), into the plan; decl may be
//  completed by the caller first (before), and is labelled label
static int
s_add (const clerk_options_t *options, const seat_result_t *seat, uint32_t revision,
       Election__RevisionReason reason, plan_t *plan, const char *label,
       void (*before) (Election__Declaration *decl, const void *arg), const void *arg)
{
    size_t n = seat->n_candidates ? seat->n_candidates : 1;
    Election__Candidate candidates [n];
    Election__Candidate *pointers [n];
    const plan_options_t *opts = options->plan;
    declaration_opts_t how = { opts->election, opts->source, opts->mode, revision,
                               ELECTION__DECLARATION_KIND__KIND_RESULT, reason,
                               clock_now_us () / 1000 };
    Election__Declaration decl;
    declaration_from_seat (seat, &how, &decl, candidates, pointers);
    decl.has_confirmed = opts->confirmed;
    decl.confirmed = opts->confirmed;
    if (before)
        before (&decl, arg);
    if (plan_add (plan, label, &decl, decl.declared_at_ms)) {
        fprintf (stderr, "ingest: out of memory\n");
        return 2;
    }
    return 0;
}

//  What a clerk's declaration carries besides the candidates: the seat's
//  name and the returning officer's totals
static void
s_with_totals (Election__Declaration *decl, const void *arg)
{
    const s_figures_t *figures = arg;
    decl->constituency = (char *) figures->name;
    decl->has_valid_votes = true;
    decl->valid_votes = (uint32_t) figures->valid;
    decl->has_rejected_ballots = figures->has_rejected;
    decl->rejected_ballots = figures->rejected;
    decl->has_ballot_papers = figures->has_papers;
    decl->ballot_papers = figures->papers;
}

//  The declaration the clerk confirmed, into the plan
static int
s_add_declaration (const clerk_options_t *options, const s_seat_t *info,
                   s_figures_t *figures, uint32_t revision, plan_t *plan)
{
    const seat_result_t *nominated = &info->seat;
    size_t n = nominated->n_candidates;
    candidate_t candidates [n ? n : 1];
    for (size_t i = 0; i < n; i++)
        candidates [i] = (candidate_t) { .name = nominated->candidates [i].name,
                                         .party = nominated->candidates [i].party,
                                         .votes = figures->votes [i] };
    seat_result_t seat = *nominated;
    seat.electorate = figures->electorate;
    seat.candidates = candidates;
    figures->name = nominated->name;
    const plan_options_t *opts = options->plan;
    Election__RevisionReason reason = opts->reason != ELECTION__REVISION_REASON__REASON_NONE
                                    ? opts->reason
                                    : revision > 1 ? ELECTION__REVISION_REASON__REASON_CORRECTION
                                                   : ELECTION__REVISION_REASON__REASON_NONE;
    char label [96];
    snprintf (label, sizeof label, "%s %.48s rev %u", seat.ons_id, seat.name, revision);
    return s_add (options, &seat, revision, reason, plan, label, s_with_totals, figures);
}

int
clerk_declare (const clerk_options_t *options, FILE *in, FILE *out, plan_t *plan)
{
    s_seat_t info;
    uint32_t revision = 0;
    if (s_fetch_seat (options, &info) || s_fetch_revision (options, &info, &revision)) {
        s_seat_free (&info);
        return 2;
    }
    const seat_result_t *seat = &info.seat;
    char number [32];
    fprintf (out, "%s %s (%s, %s)\nElectorate on the register: %s\nNominated candidates:\n",
             seat->ons_id, seat->name, seat->region, seat->country,
             cli_thousands (seat->electorate, number, sizeof number));
    for (size_t i = 0; i < seat->n_candidates; i++)
        fprintf (out, "  %-28s %-8s %s\n", seat->candidates [i].name, seat->candidates [i].party,
                 s_party_name (&info, seat->candidates [i].party));
    if (revision > 1)
        fprintf (out, "Revision %u: replaces revision %u\n\n", revision, revision - 1);
    else
        fprintf (out, "Revision 1: the first declaration of the seat\n\n");
    s_figures_t figures = { .votes = calloc (seat->n_candidates ? seat->n_candidates : 1,
                                             sizeof (uint32_t)) };
    int rc = 2;
    bool ended = false;
    while (figures.votes) {
        if (!s_ask_figures (&info, in, out, &figures)) {
            ended = true;
            break;
        }
        if (!s_figures_add_up (seat, &figures, out)) {
            fprintf (out, "Nothing sent. Starting again.\n\n");
            continue;
        }
        s_card (&info, &figures, out);
        int confirmed = s_confirm (&info, in, out);
        if (confirmed < 0) {
            ended = true;
            break;
        }
        if (confirmed == 0)
            continue;
        rc = s_add_declaration (options, &info, &figures, revision, plan);
        break;
    }
    if (ended)
        fprintf (out, "\nInput ended: nothing sent.\n");
    fflush (out);
    free (figures.votes);
    s_seat_free (&info);
    return rc;
}

static void
s_with_note (Election__Declaration *decl, const void *arg)
{
    decl->note = (char *) arg;
    decl->has_electorate = false;
}

int
clerk_retract (const clerk_options_t *options, const char *why, plan_t *plan)
{
    if (!options->seat || !why || !*why) {
        fprintf (stderr, "ingest: retract needs --seat ONS_ID and --reason WHY\n");
        return 2;
    }
    s_seat_t info = { 0 };
    uint32_t revision = 0;
    if (s_fetch_revision (options, &info, &revision)) {
        s_seat_free (&info);
        return 2;
    }
    //  No figures: the seat's id and the clerk's words
    seat_result_t seat = { .ons_id = (char *) options->seat, .name = "" };
    char label [96];
    snprintf (label, sizeof label, "%s rev %u (retraction)", options->seat, revision);
    int rc = s_add (options, &seat, revision, ELECTION__REVISION_REASON__REASON_RETRACTION, plan,
                    label, s_with_note, why);
    s_seat_free (&info);
    return rc;
}
