/*  test_bad_input: hostile bytes against a running aggregator.

        test_bad_input AGGREGATOR_BINARY DATA_DIR

    Starts the real aggregator on free loopback ports, takes a snapshot of
    its state, then sends it malformed declarations (built with protobuf-c)
    and raw frames that are not declarations at all, and requests (a
    command and a payload) that make no sense. Every one must be
    rejected with an Ack (where a reply is possible) or dropped; afterwards
    the aggregator must still answer, its snapshot must be byte-for-byte
    what it was, and a valid declaration must still be accepted. The
    aggregator's log is kept beside the test (test_bad_input.log).        */
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>
#include "election.pb-c.h"

#define S_SEAT          "E14000530"     /* Aldershot, in the 2015 baseline */
#define S_MAX_CANDS     5000
#define S_REPLY_MS      3000
#define S_ANY           (-1)            /* any rejection code will do */
#define S_DROPPED       (-2)            /* no reply expected: dropped */

static int s_failures = 0;

#define CHECK(cond, ...) do { if (!(cond)) { s_failures++; \
    fprintf (stderr, "FAIL %s:%d: ", __FILE__, __LINE__); \
    fprintf (stderr, __VA_ARGS__); fputc ('\n', stderr); } } while (0)

static int64_t
s_now_ms (void)
{
    struct timespec now;
    clock_gettime (CLOCK_MONOTONIC, &now);
    return (int64_t) now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

static int
s_free_port (void)
{
    int fd = socket (AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in addr = { .sin_family = AF_INET, .sin_addr.s_addr = htonl (INADDR_LOOPBACK) };
    socklen_t len = sizeof addr;
    if (fd < 0 || bind (fd, (struct sockaddr *) &addr, sizeof addr)
    ||  getsockname (fd, (struct sockaddr *) &addr, &len))
        return -1;
    close (fd);
    return ntohs (addr.sin_port);
}

//  One snapshot as a single blob: every frame, length-prefixed. Retries
//  until the deadline: this is also how we learn the aggregator is up.
static uint8_t *
s_snapshot (void *ctx, const char *endpoint, size_t *size_p, int timeout_ms)
{
    int64_t deadline = s_now_ms () + timeout_ms;
    while (s_now_ms () < deadline) {
        void *dealer = zmq_socket (ctx, ZMQ_DEALER);
        int linger = 0;
        zmq_setsockopt (dealer, ZMQ_LINGER, &linger, sizeof linger);
        zmq_connect (dealer, endpoint);
        zmq_send (dealer, "", 0, 0);    //  an empty SnapshotRequest: everything
        zmq_pollitem_t item = { dealer, 0, ZMQ_POLLIN, 0 };
        if (zmq_poll (&item, 1, 500) == 1) {
            uint8_t *blob = NULL;
            size_t size = 0;
            int more = 1;
            while (more) {
                zmq_msg_t frame;
                zmq_msg_init (&frame);
                zmq_msg_recv (&frame, dealer, 0);
                size_t len = zmq_msg_size (&frame);
                blob = realloc (blob, size + sizeof len + len);
                memcpy (blob + size, &len, sizeof len);
                memcpy (blob + size + sizeof len, zmq_msg_data (&frame), len);
                size += sizeof len + len;
                more = zmq_msg_more (&frame);
                zmq_msg_close (&frame);
            }
            zmq_close (dealer);
            *size_p = size;
            return blob;
        }
        zmq_close (dealer);
    }
    return NULL;
}

//  A declaration the tally accepts; each case spoils one thing
static Election__Candidate s_cands [S_MAX_CANDS];
static Election__Candidate *s_cand_ptrs [S_MAX_CANDS];
static char s_names [S_MAX_CANDS][16];

static void
s_good (Election__Declaration *d, uint64_t request_id)
{
    election__declaration__init (d);
    d->election_id = "uk-general";
    d->ons_id = S_SEAT;
    d->has_revision = true;
    d->revision = 1;
    d->has_electorate = true;
    d->electorate = 70000;
    d->has_mode = true;
    d->mode = ELECTION__MODE__MODE_REHEARSAL;
    d->has_kind = true;
    d->kind = ELECTION__DECLARATION_KIND__KIND_RESULT;
    d->source_id = "test_bad_input";
    d->has_request_id = true;
    d->request_id = request_id;
    static const char *parties [] = { "Con", "Lab", "LD" };
    for (size_t i = 0; i < 3; i++) {
        election__candidate__init (&s_cands [i]);
        snprintf (s_names [i], sizeof s_names [i], "Candidate %zu", i);
        s_cands [i].name = s_names [i];
        s_cands [i].party = (char *) parties [i];
        s_cands [i].has_votes = true;
        s_cands [i].votes = 20000 - 5000 * (uint32_t) i;
        s_cand_ptrs [i] = &s_cands [i];
    }
    d->candidates = s_cand_ptrs;
    d->n_candidates = 3;
}

//  n candidates with distinct names, few votes
static void
s_many (Election__Declaration *d, size_t n)
{
    for (size_t i = 0; i < n && i < S_MAX_CANDS; i++) {
        election__candidate__init (&s_cands [i]);
        snprintf (s_names [i], sizeof s_names [i], "C%zu", i);
        s_cands [i].name = s_names [i];
        s_cands [i].party = "Ind";
        s_cands [i].has_votes = true;
        s_cands [i].votes = (uint32_t) i + 1;
        s_cand_ptrs [i] = &s_cands [i];
    }
    d->n_candidates = n;
}

static char *
s_filled (size_t size, char c)
{
    static char buffers [4][20000];
    static int next = 0;
    char *text = buffers [next++ % 4];
    memset (text, c, size);
    text [size] = 0;
    return text;
}

//  What each malformed declaration changes. Returns the expected code.
typedef int (s_spoil_fn) (Election__Declaration *d);

static int s_wrong_mode (Election__Declaration *d) { d->mode = ELECTION__MODE__MODE_LIVE; return ELECTION__REJECT_CODE__REJECT_WRONG_MODE; }
static int s_no_mode (Election__Declaration *d) { d->has_mode = false; d->mode = 0; return ELECTION__REJECT_CODE__REJECT_WRONG_MODE; }
static int s_bad_mode (Election__Declaration *d) { d->mode = 77; return ELECTION__REJECT_CODE__REJECT_WRONG_MODE; }
static int s_wrong_election (Election__Declaration *d) { d->election_id = "eu-referendum"; return ELECTION__REJECT_CODE__REJECT_WRONG_ELECTION; }
static int s_no_election (Election__Declaration *d) { d->election_id = NULL; return ELECTION__REJECT_CODE__REJECT_WRONG_ELECTION; }
static int s_long_election (Election__Declaration *d) { d->election_id = s_filled (10000, 'e'); return ELECTION__REJECT_CODE__REJECT_WRONG_ELECTION; }
static int s_unknown_seat (Election__Declaration *d) { d->ons_id = "X99999999"; return ELECTION__REJECT_CODE__REJECT_UNKNOWN_SEAT; }
static int s_no_seat (Election__Declaration *d) { d->ons_id = NULL; return ELECTION__REJECT_CODE__REJECT_UNKNOWN_SEAT; }
static int s_long_seat (Election__Declaration *d) { d->ons_id = s_filled (10000, 'E'); return ELECTION__REJECT_CODE__REJECT_BAD_FIELD; }
static int s_latin1_seat (Election__Declaration *d) { d->ons_id = "E1400\xe9" "0530"; return ELECTION__REJECT_CODE__REJECT_BAD_FIELD; }
static int s_latin1_name (Election__Declaration *d) { s_cands [0].name = "Jos\xe9 Bad"; return ELECTION__REJECT_CODE__REJECT_BAD_FIELD; }
static int s_overlong_utf8 (Election__Declaration *d) { s_cands [1].name = "slash \xc0\xaf"; return ELECTION__REJECT_CODE__REJECT_BAD_FIELD; }
static int s_surrogate (Election__Declaration *d) { s_cands [1].party = "\xed\xa0\x80"; return ELECTION__REJECT_CODE__REJECT_BAD_FIELD; }
static int s_truncated_utf8 (Election__Declaration *d) { s_cands [2].name = "cut \xe2\x82"; return ELECTION__REJECT_CODE__REJECT_BAD_FIELD; }
static int s_beyond_unicode (Election__Declaration *d) { s_cands [2].name = "\xf4\x90\x80\x80"; return ELECTION__REJECT_CODE__REJECT_BAD_FIELD; }
static int s_newline_seat (Election__Declaration *d) { d->ons_id = "X1\n2026-06-09T00:00:00.000Z aggregator INFO  AGG010 forged"; return ELECTION__REJECT_CODE__REJECT_BAD_FIELD; }
static int s_control_name (Election__Declaration *d) { s_cands [0].name = "Bell\a and\rreturn"; return ELECTION__REJECT_CODE__REJECT_BAD_FIELD; }
static int s_escape_party (Election__Declaration *d) { s_cands [2].party = "\x1b[31mLD"; return ELECTION__REJECT_CODE__REJECT_BAD_FIELD; }
static int s_binary_election (Election__Declaration *d) { d->election_id = "uk-general\n\xff\xfe"; return ELECTION__REJECT_CODE__REJECT_WRONG_ELECTION; }
static int s_latin1_source (Election__Declaration *d) { d->source_id = "centre \xff"; return ELECTION__REJECT_CODE__REJECT_BAD_FIELD; }
static int s_long_source (Election__Declaration *d) { d->source_id = s_filled (5000, 's'); return ELECTION__REJECT_CODE__REJECT_BAD_FIELD; }
static int s_long_name (Election__Declaration *d) { s_cands [0].name = s_filled (10000, 'n'); return ELECTION__REJECT_CODE__REJECT_BAD_FIELD; }
static int s_long_party (Election__Declaration *d) { s_cands [0].party = s_filled (1000, 'p'); return ELECTION__REJECT_CODE__REJECT_BAD_FIELD; }
static int s_101_cands (Election__Declaration *d) { s_many (d, 101); return ELECTION__REJECT_CODE__REJECT_BAD_FIELD; }
static int s_5000_cands (Election__Declaration *d) { s_many (d, 5000); return ELECTION__REJECT_CODE__REJECT_BAD_FIELD; }
static int s_no_cands (Election__Declaration *d) { d->n_candidates = 0; return ELECTION__REJECT_CODE__REJECT_NO_CANDIDATES; }
static int s_zero_electorate (Election__Declaration *d) { d->electorate = 0; return ELECTION__REJECT_CODE__REJECT_BAD_ELECTORATE; }
static int s_no_electorate (Election__Declaration *d) { d->has_electorate = false; d->electorate = 0; return ELECTION__REJECT_CODE__REJECT_BAD_ELECTORATE; }
static int s_huge_electorate (Election__Declaration *d) { d->electorate = 4000000000u; return ELECTION__REJECT_CODE__REJECT_BAD_ELECTORATE; }
static int s_revision_0 (Election__Declaration *d) { d->revision = 0; return ELECTION__REJECT_CODE__REJECT_BAD_REVISION; }
static int s_huge_revision (Election__Declaration *d) { d->revision = 4000000000u; return ELECTION__REJECT_CODE__REJECT_BAD_REVISION; }
static int s_votes_over (Election__Declaration *d) { s_cands [0].votes = 69000; return ELECTION__REJECT_CODE__REJECT_VOTES_EXCEED_ELECTORATE; }
static int s_votes_wrap (Election__Declaration *d) { s_cands [0].votes = 4294967295u; s_cands [1].votes = 4294967295u; return ELECTION__REJECT_CODE__REJECT_VOTES_EXCEED_ELECTORATE; }
static int s_dup_cand (Election__Declaration *d) { s_cands [1].name = s_cands [0].name; s_cands [1].party = s_cands [0].party; return ELECTION__REJECT_CODE__REJECT_DUPLICATE_CANDIDATE; }
static int s_empty_party (Election__Declaration *d) { s_cands [1].party = ""; return ELECTION__REJECT_CODE__REJECT_EMPTY_PARTY; }
static int s_no_party (Election__Declaration *d) { s_cands [2].party = NULL; return ELECTION__REJECT_CODE__REJECT_EMPTY_PARTY; }
static int s_tie (Election__Declaration *d) { s_cands [1].votes = s_cands [0].votes; return ELECTION__REJECT_CODE__REJECT_TIE_WITHOUT_ELECTED; }
static int s_fat_rush (Election__Declaration *d) { d->kind = ELECTION__DECLARATION_KIND__KIND_RUSH; return ELECTION__REJECT_CODE__REJECT_BAD_RUSH; }
static int s_bad_kind (Election__Declaration *d) { d->kind = 9; return ELECTION__REJECT_CODE__REJECT_BAD_FIELD; }
static int s_bad_reason (Election__Declaration *d) { d->has_reason = true; d->reason = 42; return ELECTION__REJECT_CODE__REJECT_BAD_FIELD; }
static int s_negative_reason (Election__Declaration *d) { d->has_reason = true; d->reason = -1; return ELECTION__REJECT_CODE__REJECT_BAD_FIELD; }
static int s_retract_unheld (Election__Declaration *d) { d->has_reason = true; d->reason = ELECTION__REVISION_REASON__REASON_RETRACTION; d->revision = 2; return ELECTION__REJECT_CODE__REJECT_NOT_DECLARED; }

typedef struct {
    const char *name;
    s_spoil_fn *spoil;
} s_decl_case_t;

static const s_decl_case_t s_decl_cases [] = {
    { "wrong mode (live to a rehearsal aggregator)", s_wrong_mode },
    { "no mode", s_no_mode },
    { "mode out of the enum", s_bad_mode },
    { "another election id", s_wrong_election },
    { "no election id", s_no_election },
    { "10 KB election id", s_long_election },
    { "seat not in the baseline", s_unknown_seat },
    { "no seat id", s_no_seat },
    { "10 KB seat id", s_long_seat },
    { "Latin-1 byte in the seat id", s_latin1_seat },
    { "Latin-1 candidate name", s_latin1_name },
    { "overlong UTF-8 in a name", s_overlong_utf8 },
    { "UTF-16 surrogate in a party", s_surrogate },
    { "truncated UTF-8 sequence", s_truncated_utf8 },
    { "code point beyond U+10FFFF", s_beyond_unicode },
    { "newline in the seat id (a forged log line)", s_newline_seat },
    { "control characters in a name", s_control_name },
    { "terminal escape in a party code", s_escape_party },
    { "newline and non-UTF-8 in the election id", s_binary_election },
    { "non-UTF-8 source id", s_latin1_source },
    { "5 KB source id", s_long_source },
    { "10 KB candidate name", s_long_name },
    { "1 KB party code", s_long_party },
    { "101 candidates", s_101_cands },
    { "5000 candidates", s_5000_cands },
    { "no candidates", s_no_cands },
    { "zero electorate", s_zero_electorate },
    { "electorate absent", s_no_electorate },
    { "electorate of 4 billion", s_huge_electorate },
    { "revision 0", s_revision_0 },
    { "revision of 4 billion", s_huge_revision },
    { "votes exceed electorate", s_votes_over },
    { "votes that overflow 32 bits when summed", s_votes_wrap },
    { "the same candidate twice", s_dup_cand },
    { "empty party code", s_empty_party },
    { "no party code", s_no_party },
    { "tie for first, no elected flag", s_tie },
    { "rush naming three candidates", s_fat_rush },
    { "declaration kind out of the enum", s_bad_kind },
    { "revision reason out of the enum", s_bad_reason },
    { "negative revision reason", s_negative_reason },
    { "retraction of a seat never declared", s_retract_unheld },
};

typedef struct {
    const char *name;
    const uint8_t *bytes;
    size_t size;
    int frames;         /* sent as this many copies of the frame */
    int expect;         /* reject code, S_ANY or S_DROPPED */
} s_raw_case_t;

//  Raw frames that are not Declarations
static const uint8_t s_ff [64] = {
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff
};
static const uint8_t s_long_len [] = { 0x12, 0xff, 0xff, 0xff, 0xff, 0x0f, 'E', '1' };     /* ons_id of 4 GB */
static const uint8_t s_wrong_wire [] = { 0x0d, 1, 2, 3, 4 };                             /* election_id as fixed32 */
static const uint8_t s_varint_11 [] = { 0x18, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01 };
static const uint8_t s_group [] = { 0x2b, 0x0a, 0x01, 'x' };                              /* start group, never ended */
static const uint8_t s_field_0 [] = { 0x00, 0x01 };
static const uint8_t s_bad_cand [] = { 0x2a, 0x03, 0x0a, 0x05, 'a' };                   /* candidate overruns itself */
static const uint8_t s_unknown_only [] = { 0xf8, 0x06, 0x01 };                            /* field 111 only */
static const uint8_t s_text [] = "ons_id=E14000530&revision=1&votes=99999";
static const uint8_t s_nul [1] = { 0 };

//  An Ack and a SnapshotRequest: the wrong message types
static uint8_t s_ack_bytes [64];
static size_t s_ack_size;
static uint8_t s_request_bytes [64];
static size_t s_request_size;
static uint8_t *s_truncated;
static size_t s_truncated_size;
static uint8_t *s_oversized;

static s_raw_case_t s_raw_cases [] = {
    { "empty frame", NULL, 0, 1, ELECTION__REJECT_CODE__REJECT_WRONG_MODE },
    { "64 bytes of 0xff", s_ff, 64, 1, ELECTION__REJECT_CODE__REJECT_MALFORMED },
    { "64 zero bytes", NULL, 64, 1, ELECTION__REJECT_CODE__REJECT_MALFORMED },
    { "one NUL byte", s_nul, 1, 1, ELECTION__REJECT_CODE__REJECT_MALFORMED },
    { "length prefix of 4 GB", s_long_len, sizeof s_long_len, 1, ELECTION__REJECT_CODE__REJECT_MALFORMED },
    { "wrong wire type for a known field", s_wrong_wire, sizeof s_wrong_wire, 1, ELECTION__REJECT_CODE__REJECT_MALFORMED },
    { "11-byte varint", s_varint_11, sizeof s_varint_11, 1, ELECTION__REJECT_CODE__REJECT_MALFORMED },
    { "unterminated group", s_group, sizeof s_group, 1, ELECTION__REJECT_CODE__REJECT_MALFORMED },
    { "field number 0", s_field_0, sizeof s_field_0, 1, ELECTION__REJECT_CODE__REJECT_MALFORMED },
    { "candidate longer than its frame", s_bad_cand, sizeof s_bad_cand, 1, ELECTION__REJECT_CODE__REJECT_MALFORMED },
    { "only an unknown field", s_unknown_only, sizeof s_unknown_only, 1, ELECTION__REJECT_CODE__REJECT_WRONG_MODE },
    { "plain text", s_text, sizeof s_text - 1, 1, S_ANY },
    { "an Ack instead of a Declaration", s_ack_bytes, 0, 1, S_ANY },
    { "a SnapshotRequest instead of a Declaration", s_request_bytes, 0, 1, S_ANY },
    { "a valid declaration cut in half", NULL, 0, 1, ELECTION__REJECT_CODE__REJECT_MALFORMED },
    { "two frames", s_text, sizeof s_text - 1, 2, ELECTION__REJECT_CODE__REJECT_MALFORMED },
    { "three frames", s_text, sizeof s_text - 1, 3, ELECTION__REJECT_CODE__REJECT_MALFORMED },
    { "ten frames", s_text, sizeof s_text - 1, 10, S_DROPPED },
    { "300 KB frame (over ZMQ_MAXMSGSIZE)", NULL, 300 * 1024, 1, S_DROPPED },
};

//  Requests that are not declarations (a name frame, a payload frame):
//  each refused with an Ack, whatever the name or payload
typedef struct {
    const char *name;
    const void *command;
    size_t command_size;
    const void *payload;
    size_t payload_size;
    int expect;
} s_command_case_t;

static const uint8_t s_request_bad_seat [] = { 0xc2, 0x02, 0x04, 'Z', 'Z', '\n', 'Z' };  /* ons_ids: "ZZ\nZ" */
static const uint8_t s_binary_name [] = { 0x01, 0xff, 'n', 0x00, '\n' };
static char s_command_long [4096];

static s_command_case_t s_command_cases [] = {
    { "unknown command", "exit-now", 8, NULL, 0, ELECTION__REJECT_CODE__REJECT_MALFORMED },
    { "binary command name", s_binary_name, sizeof s_binary_name, NULL, 0,
      ELECTION__REJECT_CODE__REJECT_MALFORMED },
    { "4 KB command name", s_command_long, sizeof s_command_long, NULL, 0,
      ELECTION__REJECT_CODE__REJECT_MALFORMED },
    { "revision: payload of 0xff", "revision", 8, s_ff, 64, ELECTION__REJECT_CODE__REJECT_MALFORMED },
    { "revision: a seat with a newline", "revision", 8, s_request_bad_seat, sizeof s_request_bad_seat,
      ELECTION__REJECT_CODE__REJECT_UNKNOWN_SEAT },
    { "nominations: none loaded", "nominations", 11, NULL, 0,
      ELECTION__REJECT_CODE__REJECT_NOT_NOMINATED },
};

//  Sends one message of `frames` copies of bytes on dealer
static void
s_send (void *dealer, const void *bytes, size_t size, int frames)
{
    for (int i = 0; i < frames; i++)
        zmq_send (dealer, bytes, size, i + 1 < frames ? ZMQ_SNDMORE : 0);
}

//  Waits for one Ack. NULL if none within timeout_ms.
static Election__Ack *
s_ack (void *dealer, int timeout_ms)
{
    zmq_pollitem_t item = { dealer, 0, ZMQ_POLLIN, 0 };
    if (zmq_poll (&item, 1, timeout_ms) != 1)
        return NULL;
    zmq_msg_t frame;
    zmq_msg_init (&frame);
    zmq_msg_recv (&frame, dealer, 0);
    Election__Ack *ack = election__ack__unpack (NULL, zmq_msg_size (&frame), zmq_msg_data (&frame));
    zmq_msg_close (&frame);
    //  Whatever was sent, the reply must be safe to show and to log
    for (const char *c = ack && ack->text ? ack->text : ""; *c; c++)
        CHECK ((unsigned char) *c >= 0x20 && *c != 0x7F,
               "ack text has control character 0x%02x: %s", (unsigned char) *c, ack->text);
    return ack;
}

static void *
s_dealer (void *ctx, const char *endpoint)
{
    void *dealer = zmq_socket (ctx, ZMQ_DEALER);
    int linger = 0;
    zmq_setsockopt (dealer, ZMQ_LINGER, &linger, sizeof linger);
    zmq_connect (dealer, endpoint);
    return dealer;
}

//  Checks the reply to something that must be rejected
static void
s_expect_rejected (const char *name, Election__Ack *ack, int expect, size_t *rejected)
{
    CHECK (ack, "%s: no Ack", name);
    if (!ack)
        return;
    CHECK (ack->status == ELECTION__ACK_STATUS__ACK_REJECTED, "%s: status %d, not rejected (%s)",
           name, ack->status, ack->text ? ack->text : "");
    CHECK (expect == S_ANY || (int) ack->code == expect, "%s: code %d, expected %d (%s)",
           name, ack->code, expect, ack->text ? ack->text : "");
    printf ("ok   %-48s rejected %2d: %s\n", name, ack->code, ack->text ? ack->text : "");
    (*rejected)++;
    election__ack__free_unpacked (ack, NULL);
}

//  Log lines with needle, and those the log held back and counted
//  ("... and N more like it"; lib/base/log.h)
static size_t
s_count_lines (const char *path, const char *needle)
{
    FILE *file = fopen (path, "r");
    char line [2048];
    size_t count = 0, held;
    while (file && fgets (line, sizeof line, file))
        if (strstr (line, needle)) {
            const char *more = strstr (line, "... and ");
            count += more && sscanf (more, "... and %zu more", &held) == 1 ? held : 1;
        }
    if (file)
        fclose (file);
    return count;
}

int
main (int argc, char *argv [])
{
    if (argc != 3) {
        fprintf (stderr, "usage: test_bad_input AGGREGATOR DATA_DIR\n");
        return 2;
    }
    char baseline [4096], ingest [64], updates [64], snapshot [64], log_path [4096];
    snprintf (baseline, sizeof baseline, "%s/ge2015.csv", argv [2]);
    snprintf (ingest, sizeof ingest, "tcp://127.0.0.1:%d", s_free_port ());
    snprintf (updates, sizeof updates, "tcp://127.0.0.1:%d", s_free_port ());
    snprintf (snapshot, sizeof snapshot, "tcp://127.0.0.1:%d", s_free_port ());
    snprintf (log_path, sizeof log_path, "%s/test_bad_input.log", EL_TEST_TMP);

    pid_t pid = fork ();
    if (pid == 0) {
        int fd = open (log_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd >= 0)
            dup2 (fd, 2);
        execl (argv [1], argv [1], "--baseline", baseline, "--ingest", ingest, "--updates", updates,
               "--snapshot", snapshot, (char *) NULL);
        perror ("exec aggregator");
        _exit (127);
    }
    void *ctx = zmq_ctx_new ();
    size_t before_size = 0, after_size = 0;
    uint8_t *before = s_snapshot (ctx, snapshot, &before_size, 20000);
    CHECK (before, "aggregator did not answer a snapshot request (log: %s)", log_path);
    if (!before)
        goto done;

    //  The raw frames that need building
    Election__Ack ack = ELECTION__ACK__INIT;
    ack.has_request_id = true;
    ack.request_id = 7;
    ack.has_status = true;
    ack.status = ELECTION__ACK_STATUS__ACK_ACCEPTED;
    ack.ons_id = S_SEAT;
    s_ack_size = election__ack__pack (&ack, s_ack_bytes);
    Election__SnapshotRequest request = ELECTION__SNAPSHOT_REQUEST__INIT;
    request.topic_prefix = "seat.";
    s_request_size = election__snapshot_request__pack (&request, s_request_bytes);
    Election__Declaration good;
    s_good (&good, 1);
    s_truncated_size = election__declaration__get_packed_size (&good);
    s_truncated = malloc (s_truncated_size);
    election__declaration__pack (&good, s_truncated);
    s_truncated_size /= 2;
    s_oversized = calloc (1, 300 * 1024);
    static uint8_t zeros [64];
    size_t n_raw = sizeof s_raw_cases / sizeof *s_raw_cases;
    for (size_t i = 0; i < n_raw; i++) {
        s_raw_case_t *c = &s_raw_cases [i];
        if (c->bytes == s_ack_bytes) c->size = s_ack_size;
        if (c->bytes == s_request_bytes) c->size = s_request_size;
        if (!c->bytes && c->size == 64) c->bytes = zeros;
        if (!c->bytes && c->size == 300 * 1024) c->bytes = s_oversized;
        if (!c->bytes && strstr (c->name, "cut in half")) {
            c->bytes = s_truncated;
            c->size = s_truncated_size;
        }
    }

    void *dealer = s_dealer (ctx, ingest);
    size_t cases = 0, rejected = 0, dropped = 0;
    uint64_t request_id = 1000;
    size_t n_decl = sizeof s_decl_cases / sizeof *s_decl_cases;
    for (size_t i = 0; i < n_decl; i++) {
        Election__Declaration d;
        s_good (&d, ++request_id);
        int expect = s_decl_cases [i].spoil (&d);
        size_t size = election__declaration__get_packed_size (&d);
        uint8_t *bytes = malloc (size);
        election__declaration__pack (&d, bytes);
        s_send (dealer, bytes, size, 1);
        free (bytes);
        Election__Ack *reply = s_ack (dealer, S_REPLY_MS);
        if (reply && reply->request_id != request_id)
            CHECK (false, "%s: ack for request %llu, not %llu", s_decl_cases [i].name,
                   (unsigned long long) reply->request_id, (unsigned long long) request_id);
        s_expect_rejected (s_decl_cases [i].name, reply, expect, &rejected);
        cases++;
    }
    for (size_t i = 0; i < n_raw; i++) {
        s_raw_case_t *c = &s_raw_cases [i];
        if (c->expect == S_DROPPED) {
            //  Its own connection: the aggregator may hang up on it
            void *hostile = s_dealer (ctx, ingest);
            s_send (hostile, c->bytes, c->size, c->frames);
            Election__Ack *reply = s_ack (hostile, 500);
            CHECK (!reply, "%s: answered, expected to be dropped", c->name);
            if (reply)
                election__ack__free_unpacked (reply, NULL);
            else
                printf ("ok   %-48s dropped\n", c->name);
            zmq_close (hostile);
            dropped++;
        }
        else {
            s_send (dealer, c->bytes, c->size, c->frames);
            s_expect_rejected (c->name, s_ack (dealer, S_REPLY_MS), c->expect, &rejected);
        }
        cases++;
    }

    memset (s_command_long, 'x', sizeof s_command_long);
    for (size_t i = 0; i < sizeof s_command_cases / sizeof *s_command_cases; i++) {
        s_command_case_t *c = &s_command_cases [i];
        zmq_send (dealer, c->command, c->command_size, ZMQ_SNDMORE);
        zmq_send (dealer, c->payload, c->payload_size, 0);
        s_expect_rejected (c->name, s_ack (dealer, S_REPLY_MS), c->expect, &rejected);
        cases++;
    }

    //  Still serving, and nothing changed
    uint8_t *after = s_snapshot (ctx, snapshot, &after_size, 5000);
    CHECK (after, "no snapshot after the bad input: aggregator dead? (log: %s)", log_path);
    CHECK (after && after_size == before_size && memcmp (before, after, before_size) == 0,
           "state changed: snapshot of %zu bytes before, %zu after", before_size, after_size);

    Election__Declaration d;
    s_good (&d, ++request_id);
    size_t size = election__declaration__get_packed_size (&d);
    uint8_t *bytes = malloc (size);
    election__declaration__pack (&d, bytes);
    s_send (dealer, bytes, size, 1);
    free (bytes);
    Election__Ack *reply = s_ack (dealer, S_REPLY_MS);
    CHECK (reply && reply->status == ELECTION__ACK_STATUS__ACK_ACCEPTED,
           "a valid declaration after the bad input was not accepted");
    if (reply)
        election__ack__free_unpacked (reply, NULL);
    zmq_close (dealer);
    printf ("%zu bad inputs: %zu rejected with a reason, %zu dropped; state unchanged: %s; "
            "still accepting: %s\n", cases, rejected, dropped,
            after && after_size == before_size && memcmp (before, after, before_size) == 0 ? "yes" : "NO",
            reply ? "yes" : "NO");
    free (after);
done:
    free (before);
    free (s_truncated);
    free (s_oversized);
    zmq_ctx_term (ctx);
    kill (pid, SIGTERM);
    int status = 0;
    waitpid (pid, &status, 0);
    CHECK (WIFEXITED (status) && WEXITSTATUS (status) == 0,
           "aggregator did not stop cleanly (status %d; log: %s)", status, log_path);
    //  Once stopped, the log has said what it held back
    size_t logged = s_count_lines (log_path, " WARN  AGG02");
    logged += s_count_lines (log_path, " WARN  AGG311");     //  refused requests
    CHECK (logged >= rejected, "%zu rejections but only %zu rejection log lines", rejected, logged);
    if (s_failures)
        fprintf (stderr, "%d checks failed\n", s_failures);
    return s_failures ? 1 : 0;
}
