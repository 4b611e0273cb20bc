/*  test_results_csv.c: unit tests for the CSV files of lib/data
    (csv_reader, results_file, times_file).

    Loads the shipped 2015 and 2017 files and checks known figures, then
    feeds small malformed files written under EL_TEST_TMP and checks that
    each is refused with the file name, the line and the reason.           */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csv_reader.h"
#include "results_file.h"
#include "times_file.h"

#define HEADER  "ons_id,constituency,country,region,electorate,candidate,party,votes\n"
#define ROW_A1  "E14000800,Luton North,England,East,66811,Kelvin Hopkins,Lab,29765\n"
#define ROW_A2  "E14000800,Luton North,England,East,66811,Caroline Kerswell,Con,15401\n"
#define ROW_B1  "E14000801,Luton South,England,East,70000,Gavin Shuker,Lab,28804\n"
#define TIMES_HEADER "ons_id,declared_at\n"

/*  Writes content to a file named after the test under EL_TEST_TMP; the
    path goes into path (caller's buffer).  */
static void
s_write_temp (char *path, size_t size, const char *name, const char *content, size_t len)
{
    snprintf (path, size, "%s/results_csv_%s.csv", EL_TEST_TMP, name);
    FILE *file = fopen (path, "wb");
    assert_non_null (file);
    assert_int_equal (fwrite (content, 1, len, file), len);
    assert_int_equal (fclose (file), 0);
}

static void
s_assert_contains (const char *haystack, const char *needle)
{
    if (!strstr (haystack, needle))
        fail_msg ("\"%s\" does not contain \"%s\"", haystack, needle);
}

/*  The error must start with "PATH:LINE: " and contain the reason.  */
static void
s_assert_error (const char *err, const char *path, int line, const char *reason)
{
    char where [600];
    snprintf (where, sizeof where, "%s:%d: ", path, line);
    if (strncmp (err, where, strlen (where)) != 0)
        fail_msg ("\"%s\" does not start with \"%s\"", err, where);
    s_assert_contains (err, reason);
}

static void
s_expect_bad_results_n (const char *name, const char *content, size_t len,
                        int line, const char *reason)
{
    char path [512], err [512];
    s_write_temp (path, sizeof path, name, content, len);
    results_t *results = NULL;
    assert_int_equal (results_load (path, &results, err, sizeof err), EL_ERR_PARSE);
    assert_null (results);
    s_assert_error (err, path, line, reason);
    remove (path);
}

static void
s_expect_bad_results (const char *name, const char *content, int line, const char *reason)
{
    s_expect_bad_results_n (name, content, strlen (content), line, reason);
}

static void
s_expect_bad_times (const char *name, const char *content, int line, const char *reason)
{
    char path [512], err [512];
    s_write_temp (path, sizeof path, name, content, strlen (content));
    declaration_times_t *times = NULL;
    assert_int_equal (declaration_times_load (path, &times, err, sizeof err), EL_ERR_PARSE);
    assert_null (times);
    s_assert_error (err, path, line, reason);
    remove (path);
}

/*  Loads content that must be accepted; caller owns the result.  */
static results_t *
s_load_good_results (const char *name, const char *content, size_t len)
{
    char path [512], err [512];
    s_write_temp (path, sizeof path, name, content, len);
    results_t *results = NULL;
    el_err_t rc = results_load (path, &results, err, sizeof err);
    if (rc)
        fail_msg ("refused: %s", err);
    remove (path);
    return results;
}

static int64_t
s_time_of (const char *name, const char *stamp)
{
    char content [256], path [512], err [512];
    snprintf (content, sizeof content, TIMES_HEADER "E14000831,%s\n", stamp);
    s_write_temp (path, sizeof path, name, content, strlen (content));
    declaration_times_t *times = NULL;
    el_err_t rc = declaration_times_load (path, &times, err, sizeof err);
    if (rc)
        fail_msg ("%s refused: %s", stamp, err);
    assert_int_equal (times->n_times, 1);
    int64_t ms = times->times [0].declared_at_ms;
    declaration_times_destroy (&times);
    assert_null (times);
    remove (path);
    return ms;
}

//  --------------------------------------------------------------------------
//  The shipped data

static void
test_ge2017_counts (void **state)
{
    results_t *results = NULL;
    char err [512];
    assert_int_equal (results_load (EL_DATA_DIR "/ge2017.csv", &results, err, sizeof err), EL_OK);
    assert_non_null (results);
    assert_int_equal (results->n_seats, 650);
    size_t candidates = 0;
    for (size_t i = 0; i < results->n_seats; i++) {
        assert_true (results->seats [i].n_candidates > 0);
        candidates += results->seats [i].n_candidates;
        for (size_t j = 0; j < results->seats [i].n_candidates; j++)
            assert_false (results->seats [i].candidates [j].elected);
    }
    assert_int_equal (candidates, 3304);
    //  In file order
    assert_string_equal (results->seats [0].ons_id, "W07000049");
    assert_string_equal (results->seats [0].name, "Aberavon");
    results_destroy (&results);
    assert_null (results);
}

static void
test_ge2017_luton_north (void **state)
{
    results_t *results = NULL;
    assert_int_equal (results_load (EL_DATA_DIR "/ge2017.csv", &results, NULL, 0), EL_OK);
    const seat_result_t *seat = results_find (results, "E14000800");
    assert_non_null (seat);
    assert_string_equal (seat->name, "Luton North");
    assert_string_equal (seat->country, "England");
    assert_string_equal (seat->region, "East");
    assert_int_equal (seat->electorate, 66811);
    const candidate_t *hopkins = NULL;
    for (size_t i = 0; i < seat->n_candidates; i++)
        if (strcmp (seat->candidates [i].name, "Kelvin Hopkins") == 0)
            hopkins = &seat->candidates [i];
    assert_non_null (hopkins);
    assert_string_equal (hopkins->party, "Lab");
    assert_int_equal (hopkins->votes, 29765);
    assert_null (results_find (results, "E99999999"));
    assert_null (results_find (results, ""));
    assert_null (results_find (NULL, "E14000800"));
    results_destroy (&results);
}

static void
test_ge2017_quoted_comma (void **state)
{
    results_t *results = NULL;
    assert_int_equal (results_load (EL_DATA_DIR "/ge2017.csv", &results, NULL, 0), EL_OK);
    const seat_result_t *seat = results_find (results, "S14000006");
    assert_non_null (seat);
    assert_string_equal (seat->name, "Ayr, Carrick and Cumnock");
    assert_string_equal (seat->country, "Scotland");
    assert_int_equal (seat->electorate, 71241);
    assert_string_equal (seat->candidates [0].name, "Bill Grant");
    assert_string_equal (seat->candidates [0].party, "Con");
    assert_int_equal (seat->candidates [0].votes, 18550);
    results_destroy (&results);
}

static void
test_ge2015_party_totals (void **state)
{
    results_t *results = NULL;
    char err [512];
    assert_int_equal (results_load (EL_DATA_DIR "/ge2015.csv", &results, err, sizeof err), EL_OK);
    assert_int_equal (results->n_seats, 650);
    size_t candidates = 0;
    for (size_t i = 0; i < results->n_seats; i++)
        candidates += results->seats [i].n_candidates;
    assert_int_equal (candidates, 3682);
    const seat_result_t *seat = results_find (results, "W07000049");
    assert_non_null (seat);
    assert_int_equal (seat->electorate, 49821);
    assert_string_equal (seat->candidates [0].name, "");
    assert_string_equal (seat->candidates [0].party, "Lab");
    assert_int_equal (seat->candidates [0].votes, 15416);
    results_destroy (&results);
}

static void
test_declaration_times_2017 (void **state)
{
    declaration_times_t *times = NULL;
    char err [512];
    assert_int_equal (declaration_times_load (EL_DATA_DIR "/declaration_times_2017.csv",
                                              &times, err, sizeof err), EL_OK);
    assert_non_null (times);
    assert_int_equal (times->n_times, 650);
    //  2017-06-08T23:01:00+01:00, the first in the file
    assert_string_equal (times->times [0].ons_id, "E14000831");
    assert_int_equal (times->times [0].declared_at_ms, 1496959260000LL);
    declaration_times_destroy (&times);
    assert_null (times);
    declaration_times_destroy (&times);     //  NULL-safe
    declaration_times_destroy (NULL);
}

static void
test_declaration_times_2015 (void **state)
{
    declaration_times_t *times = NULL;
    assert_int_equal (declaration_times_load (EL_DATA_DIR "/declaration_times_2015.csv",
                                              &times, NULL, 0), EL_OK);
    assert_int_equal (times->n_times, 650);
    declaration_times_destroy (&times);
}

//  --------------------------------------------------------------------------
//  What must be accepted

static void
test_bom_crlf_quotes_and_no_final_newline (void **state)
{
    static const char content [] =
        "\xEF\xBB\xBF"
        "ons_id,constituency,country,region,electorate,candidate,party,votes\r\n"
        "S14000006,\"Ayr, Carrick and Cumnock\",Scotland,Scotland,71241,Bill Grant,Con,18550\r\n"
        "S14000006,\"Ayr, Carrick and Cumnock\",Scotland,Scotland,71241,\"Mary \"\"Molly\"\" O'Neill-Smith\",Lab,11024\r\n"
        "\r\n"
        "E14000800,Luton North,England,East,66811,Kelvin Hopkins,\"Lab\",\"29765\"";
    results_t *results = s_load_good_results ("good_crlf", content, sizeof content - 1);
    assert_int_equal (results->n_seats, 2);
    const seat_result_t *ayr = &results->seats [0];
    assert_string_equal (ayr->ons_id, "S14000006");
    assert_string_equal (ayr->name, "Ayr, Carrick and Cumnock");
    assert_int_equal (ayr->n_candidates, 2);
    assert_string_equal (ayr->candidates [1].name, "Mary \"Molly\" O'Neill-Smith");
    assert_string_equal (ayr->candidates [1].party, "Lab");
    const seat_result_t *luton = &results->seats [1];
    assert_string_equal (luton->ons_id, "E14000800");
    assert_string_equal (luton->candidates [0].party, "Lab");
    assert_int_equal (luton->candidates [0].votes, 29765);
    results_destroy (&results);
}

static void
test_extreme_values_accepted (void **state)
{
    static const char content [] = HEADER
        "E14000800,Luton North,England,East,4294967295,A,Lab,4294967295\n"
        "E14000800,Luton North,England,East,4294967295,,Con,0\n";
    results_t *results = s_load_good_results ("good_extremes", content, sizeof content - 1);
    assert_int_equal (results->seats [0].electorate, UINT32_MAX);
    assert_int_equal (results->seats [0].candidates [0].votes, UINT32_MAX);
    assert_string_equal (results->seats [0].candidates [1].name, "");
    assert_int_equal (results->seats [0].candidates [1].votes, 0);
    results_destroy (&results);
}

static void
test_time_formats (void **state)
{
    assert_int_equal (s_time_of ("t_offset", "2017-06-08T23:01:00+01:00"), 1496959260000LL);
    assert_int_equal (s_time_of ("t_zulu", "2017-06-08T22:01:00Z"), 1496959260000LL);
    assert_int_equal (s_time_of ("t_west", "2017-06-08T17:01:00-05:00"), 1496959260000LL);
    assert_int_equal (s_time_of ("t_half", "2017-06-09T03:31:00+05:30"), 1496959260000LL);
    assert_int_equal (s_time_of ("t_frac", "2017-06-08T23:01:00.25+01:00"), 1496959260250LL);
    assert_int_equal (s_time_of ("t_nanos", "2017-06-08T23:01:00.123456789Z"), 1496962860123LL);
    assert_int_equal (s_time_of ("t_epoch", "1970-01-01T00:00:00Z"), 0);
    //  timegm returns -1 here, which is a real time, not an error
    assert_int_equal (s_time_of ("t_before", "1969-12-31T23:59:59Z"), -1000);
    assert_int_equal (s_time_of ("t_leap", "2016-02-29T00:00:00Z"), 1456704000000LL);
    assert_int_equal (s_time_of ("t_midnight", "2015-05-08T00:46:00+01:00"), 1431042360000LL);
}

//  --------------------------------------------------------------------------
//  Unreadable files

static void
test_missing_file (void **state)
{
    const char *path = EL_TEST_TMP "/results_csv_no_such_file.csv";
    char err [512];
    results_t *results = NULL;
    assert_int_equal (results_load (path, &results, err, sizeof err), EL_ERR_IO);
    assert_null (results);
    s_assert_contains (err, path);
    s_assert_contains (err, "No such file");
    //  err may be NULL
    assert_int_equal (results_load (path, &results, NULL, 0), EL_ERR_IO);

    declaration_times_t *times = NULL;
    assert_int_equal (declaration_times_load (path, &times, err, sizeof err), EL_ERR_IO);
    assert_null (times);
    s_assert_contains (err, path);
}

static void
test_directory_is_io_error (void **state)
{
    char err [512];
    results_t *results = NULL;
    assert_int_equal (results_load (EL_TEST_TMP, &results, err, sizeof err), EL_ERR_IO);
    assert_null (results);
    s_assert_contains (err, EL_TEST_TMP);
}

static void
test_small_error_buffer (void **state)
{
    char path [512], err [16];
    s_write_temp (path, sizeof path, "small_err", "", 0);
    memset (err, 'x', sizeof err);
    results_t *results = NULL;
    assert_int_equal (results_load (path, &results, err, 10), EL_ERR_PARSE);
    assert_int_equal (strlen (err), 9);
    assert_int_equal (err [10], 'x');
    assert_int_equal (results_load (path, &results, NULL, 0), EL_ERR_PARSE);
    assert_int_equal (results_load (path, &results, err, 0), EL_ERR_PARSE);
    remove (path);
}

//  --------------------------------------------------------------------------
//  Malformed results files

static void
test_refuses_empty_file (void **state)
{
    s_expect_bad_results ("empty", "", 1, "empty file");
    s_expect_bad_results ("blank_lines", "\n\r\n\n", 1, "empty file");
    s_expect_bad_results ("bom_only", "\xEF\xBB\xBF", 1, "empty file");
}

//  A line with no end (as /dev/zero is) is refused at CSV_MAX_LINE bytes,
//  not read until memory runs out; a line just under it is read
static void
test_refuses_endless_line (void **state)
{
    size_t len = CSV_MAX_LINE + 100;
    char *content = malloc (len);
    assert_non_null (content);
    memset (content, 'x', len);
    s_expect_bad_results_n ("endless_line", content, len, 1, "line longer than 65536 bytes");
    memset (content, 0, len);
    s_expect_bad_results_n ("endless_zeros", content, len, 1, "line longer than 65536 bytes");
    free (content);
    char row [CSV_MAX_LINE];
    int n = snprintf (row, sizeof row, "%s", HEADER);
    n += snprintf (row + n, sizeof row - (size_t) n, "E14000831,\"");
    memset (row + n, 'a', CSV_MAX_LINE - 200);
    n += CSV_MAX_LINE - 200;
    n += snprintf (row + n, sizeof row - (size_t) n, "\",England,London,70000,Anne Example,Lab,100\n");
    results_t *results = s_load_good_results ("long_name", row, (size_t) n);
    assert_int_equal (strlen (results->seats [0].name), CSV_MAX_LINE - 200);
    results_destroy (&results);
}

static void
test_refuses_missing_column (void **state)
{
    s_expect_bad_results ("no_votes_column",
        "ons_id,constituency,country,region,electorate,candidate,party\n" ROW_A1,
        1, "header has 7 columns, expected 8: missing column \"votes\"");
    s_expect_bad_results ("no_country_column",
        "ons_id,constituency,region,electorate,candidate,party,votes\n" ROW_A1,
        1, "header column 3 is \"region\", expected \"country\"");
}

static void
test_refuses_misnamed_column (void **state)
{
    s_expect_bad_results ("misnamed",
        "ons_id,constituency,country,region,electorate,candidate,party,vote\n" ROW_A1,
        1, "header column 8 is \"vote\", expected \"votes\"");
    s_expect_bad_results ("wrong_case",
        "ONS_ID,constituency,country,region,electorate,candidate,party,votes\n" ROW_A1,
        1, "header column 1 is \"ONS_ID\", expected \"ons_id\"");
    s_expect_bad_results ("swapped",
        "ons_id,constituency,country,region,electorate,party,candidate,votes\n" ROW_A1,
        1, "header column 6 is \"party\", expected \"candidate\"");
    s_expect_bad_results ("padded",
        "ons_id, constituency,country,region,electorate,candidate,party,votes\n" ROW_A1,
        1, "header column 2 is \" constituency\"");
    s_expect_bad_results ("extra_column",
        "ons_id,constituency,country,region,electorate,candidate,party,votes,notes\n" ROW_A1,
        1, "header has 9 columns, expected 8");
    s_expect_bad_results ("data_first", ROW_A1 ROW_A2, 1, "header column 1 is \"E14000800\"");
}

static void
test_refuses_wrong_field_count (void **state)
{
    s_expect_bad_results ("short_row", HEADER ROW_A1
        "E14000800,Luton North,England,East,66811,Rabi Martins,LD\n", 3,
        "row has 7 fields, expected 8");
    s_expect_bad_results ("long_row", HEADER
        "E14000800,Luton North,England,East,66811,Rabi Martins,LD,808,\n", 2,
        "row has 9 fields, expected 8");
    //  An unquoted comma in a name splits it
    s_expect_bad_results ("unquoted_comma", HEADER
        "S14000006,Ayr, Carrick and Cumnock,Scotland,Scotland,71241,Bill Grant,Con,18550\n", 2,
        "row has 9 fields, expected 8");
    s_expect_bad_results ("one_field", HEADER ROW_A1 " \n", 3, "row has 1 fields, expected 8");
}

static void
test_refuses_empty_ons_id_or_party (void **state)
{
    s_expect_bad_results ("empty_ons_id", HEADER ROW_A1
        ",Luton North,England,East,66811,Rabi Martins,LD,808\n", 3, "empty ons_id");
    s_expect_bad_results ("empty_party", HEADER ROW_A1
        "E14000800,Luton North,England,East,66811,Rabi Martins,,808\n", 3,
        "empty party in seat E14000800");
    s_expect_bad_results ("quoted_empty_party", HEADER
        "E14000800,Luton North,England,East,66811,Rabi Martins,\"\",808\n", 2, "empty party");
}

static void
test_refuses_bad_votes (void **state)
{
    s_expect_bad_results ("votes_abc", HEADER ROW_A1
        "E14000800,Luton North,England,East,66811,Rabi Martins,LD,abc\n", 3,
        "non-numeric votes \"abc\"");
    s_expect_bad_results ("votes_suffix", HEADER
        "E14000800,Luton North,England,East,66811,Rabi Martins,LD,808x\n", 2,
        "non-numeric votes \"808x\"");
    s_expect_bad_results ("votes_space", HEADER
        "E14000800,Luton North,England,East,66811,Rabi Martins,LD, 808\n", 2,
        "non-numeric votes \" 808\"");
    s_expect_bad_results ("votes_plus", HEADER
        "E14000800,Luton North,England,East,66811,Rabi Martins,LD,+808\n", 2,
        "non-numeric votes \"+808\"");
    s_expect_bad_results ("votes_float", HEADER
        "E14000800,Luton North,England,East,66811,Rabi Martins,LD,808.0\n", 2,
        "non-numeric votes \"808.0\"");
    s_expect_bad_results ("votes_empty", HEADER
        "E14000800,Luton North,England,East,66811,Rabi Martins,LD,\n", 2, "empty votes");
    s_expect_bad_results ("votes_negative", HEADER
        "E14000800,Luton North,England,East,66811,Rabi Martins,LD,-808\n", 2,
        "negative votes \"-808\"");
    s_expect_bad_results ("votes_minus_zero", HEADER
        "E14000800,Luton North,England,East,66811,Rabi Martins,LD,-0\n", 2, "negative votes");
    s_expect_bad_results ("votes_2_32", HEADER
        "E14000800,Luton North,England,East,66811,Rabi Martins,LD,4294967296\n", 2,
        "votes \"4294967296\" out of range");
    s_expect_bad_results ("votes_huge", HEADER
        "E14000800,Luton North,England,East,66811,Rabi Martins,LD,99999999999999999999999\n", 2,
        "votes \"99999999999999999999999\" out of range");
}

static void
test_refuses_bad_electorate (void **state)
{
    s_expect_bad_results ("electorate_abc", HEADER ROW_A1 ROW_A2
        "E14000801,Luton South,England,East,lots,Gavin Shuker,Lab,28804\n", 4,
        "non-numeric electorate \"lots\"");
    s_expect_bad_results ("electorate_negative", HEADER
        "E14000801,Luton South,England,East,-70000,Gavin Shuker,Lab,28804\n", 2,
        "negative electorate \"-70000\"");
    s_expect_bad_results ("electorate_big", HEADER
        "E14000801,Luton South,England,East,18446744073709551616,Gavin Shuker,Lab,28804\n", 2,
        "electorate \"18446744073709551616\" out of range");
    s_expect_bad_results ("electorate_zero", HEADER
        "E14000801,Luton South,England,East,0,Gavin Shuker,Lab,28804\n", 2,
        "zero electorate in seat E14000801");
}

static void
test_refuses_inconsistent_seat (void **state)
{
    s_expect_bad_results ("electorate_differs", HEADER ROW_A1
        "E14000800,Luton North,England,East,66812,Caroline Kerswell,Con,15401\n", 3,
        "seat E14000800 electorate 66812 differs from 66811 on line 2");
    s_expect_bad_results ("name_differs", HEADER ROW_A1 ROW_A2
        "E14000800,Luton South,England,East,66811,Rabi Martins,LD,808\n", 4,
        "seat E14000800 constituency \"Luton South\" differs from \"Luton North\" on line 2");
    s_expect_bad_results ("country_differs", HEADER ROW_A1
        "E14000800,Luton North,Wales,East,66811,Caroline Kerswell,Con,15401\n", 3,
        "seat E14000800 country \"Wales\" differs from \"England\"");
    s_expect_bad_results ("region_differs", HEADER ROW_A1
        "E14000800,Luton North,England,East of England,66811,Caroline Kerswell,Con,15401\n", 3,
        "seat E14000800 region \"East of England\" differs from \"East\"");
}

static void
test_refuses_non_contiguous_seat (void **state)
{
    s_expect_bad_results ("not_contiguous", HEADER ROW_A1 ROW_B1 ROW_A2, 4,
        "seat E14000800 reappears after other seats (its rows began on line 2)");
}

static void
test_refuses_header_only (void **state)
{
    s_expect_bad_results ("header_only", HEADER, 1, "header but no data rows");
    s_expect_bad_results ("header_only_crlf",
        "ons_id,constituency,country,region,electorate,candidate,party,votes\r\n\r\n",
        1, "header but no data rows");
}

static void
test_refuses_malformed_csv (void **state)
{
    s_expect_bad_results ("stray_quote", HEADER ROW_A1
        "E14000800,Luton North,England,East,66811,Rabi \"Martins,LD,808\n", 3, "malformed CSV");
    s_expect_bad_results ("text_after_quote", HEADER ROW_A1
        "E14000800,\"Luton North\"x,England,East,66811,Rabi Martins,LD,808\n", 3, "malformed CSV");
    s_expect_bad_results ("unterminated", HEADER ROW_A1
        "E14000800,Luton North,England,East,66811,\"Rabi Martins,LD,808\n"
        ROW_A2, 3, "unterminated quoted field");
    static const char nul_row [] = HEADER "E14000800,Luton\0North,England,East,66811,A,Lab,1\n";
    s_expect_bad_results_n ("nul_byte", nul_row, sizeof nul_row - 1, 2, "NUL byte in field 2");
}

static void
test_line_numbers_count_lines_not_records (void **state)
{
    //  Line 4 is blank; a quoted name spans lines 5 and 6; the bad row is line 7
    s_expect_bad_results ("lines_blank_multiline", HEADER ROW_A1 ROW_A2 "\n"
        "E14000801,Luton South,England,East,70000,\"Gavin\nShuker\",Lab,28804\n"
        "E14000801,Luton South,England,East,70000,Bad Votes,Con,many\n",
        7, "non-numeric votes \"many\"");
    //  An error in a row spanning lines is reported on the line it starts
    s_expect_bad_results ("lines_multiline_bad", HEADER ROW_A1
        "E14000801,Luton South,England,East,70000,\"Gavin\r\nShuker\",Lab,-1\r\n",
        3, "negative votes");
    //  Control characters in a quoted bad value are not copied into the message
    s_expect_bad_results ("lines_control_chars", HEADER
        "E14000801,Luton South,England,East,70000,A,Lab,\"1\n2\"\n", 2,
        "non-numeric votes \"1?2\"");
}

//  --------------------------------------------------------------------------
//  Malformed declaration-times files

static void
test_times_refuse_bad_header (void **state)
{
    s_expect_bad_times ("t_empty", "", 1, "empty file");
    s_expect_bad_times ("t_header_only", TIMES_HEADER, 1, "header but no data rows");
    s_expect_bad_times ("t_misnamed", "ons_id,declared\nE14000831,2017-06-08T23:01:00+01:00\n",
                        1, "header column 2 is \"declared\", expected \"declared_at\"");
    s_expect_bad_times ("t_missing", "ons_id\nE14000831\n", 1, "missing column \"declared_at\"");
}

static void
test_times_refuse_bad_rows (void **state)
{
    s_expect_bad_times ("t_short", TIMES_HEADER "E14000831,2017-06-08T23:01:00+01:00\nE14000754\n",
                        3, "row has 1 fields, expected 2");
    s_expect_bad_times ("t_long", TIMES_HEADER "E14000831,2017-06-08T23:01:00+01:00,x\n",
                        2, "row has 3 fields, expected 2");
    s_expect_bad_times ("t_no_id", TIMES_HEADER ",2017-06-08T23:01:00+01:00\n", 2, "empty ons_id");
    s_expect_bad_times ("t_twice", TIMES_HEADER
                        "E14000831,2017-06-08T23:01:00+01:00\n"
                        "E14000754,2017-06-08T23:10:00+01:00\n"
                        "E14000831,2017-06-08T23:45:00+01:00\n",
                        4, "seat E14000831 listed twice (first on line 2)");
}

static void
test_times_refuse_bad_timestamps (void **state)
{
    static const struct {
        const char *stamp;
        const char *reason;
    } cases [] = {
        { "", "not YYYY-MM-DDTHH:MM:SS" },
        { "yesterday", "not YYYY-MM-DDTHH:MM:SS" },
        { "2017-06-08 23:01:00+01:00", "not YYYY-MM-DDTHH:MM:SS" },
        { "2017-6-08T23:01:00+01:00", "not YYYY-MM-DDTHH:MM:SS" },
        { "2017-06-08T23:01+01:00", "not YYYY-MM-DDTHH:MM:SS" },
        { " 2017-06-08T23:01:00+01:00", "not YYYY-MM-DDTHH:MM:SS" },
        { "-017-06-08T23:01:00+01:00", "not YYYY-MM-DDTHH:MM:SS" },
        { "2017-06-08T23:01:00", "no UTC offset" },
        { "2017-06-08T23:01:00z", "no UTC offset" },
        { "2017-06-08T23:01:00+1:00", "no UTC offset" },
        { "2017-06-08T23:01:00+0100", "no UTC offset" },
        { "2017-06-08T23:01:00+01:00 ", "trailing characters" },
        { "2017-06-08T23:01:00Zulu", "trailing characters" },
        { "2017-06-08T23:01:00+24:00", "UTC offset out of range" },
        { "2017-06-08T23:01:00+01:60", "UTC offset out of range" },
        { "2017-00-08T23:01:00Z", "month out of range" },
        { "2017-13-08T23:01:00Z", "month out of range" },
        { "2017-06-00T23:01:00Z", "day out of range" },
        { "2017-06-31T23:01:00Z", "day out of range" },
        { "2017-02-29T23:01:00Z", "day out of range" },
        { "1900-02-29T23:01:00Z", "day out of range" },
        { "2017-06-08T24:00:00Z", "time of day out of range" },
        { "2017-06-08T23:60:00Z", "time of day out of range" },
        { "2017-06-08T23:01:60Z", "time of day out of range" },
        { "2017-06-08T23:01:00.Z", "fraction of a second" },
        { "2017-06-08T23:01:00.1234567890Z", "fraction of a second" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases [0]; i++) {
        char content [256], reason [256];
        snprintf (content, sizeof content, TIMES_HEADER
                  "E14000754,2017-06-08T23:10:00+01:00\n\"E14000831\",\"%s\"\n", cases [i].stamp);
        snprintf (reason, sizeof reason, "bad declared_at \"%s\": %s",
                  cases [i].stamp, cases [i].reason);
        s_expect_bad_times ("t_stamp", content, 3, reason);
    }
}

//  The 2017 night in its declaration order: every seat once, times never
//  going back; without times, file order
static void
test_declaration_order (void **state)
{
    (void) state;
    results_t *results = NULL;
    declaration_times_t *times = NULL;
    assert_int_equal (results_load (EL_DATA_DIR "/ge2017.csv", &results, NULL, 0), EL_OK);
    assert_int_equal (declaration_times_load (EL_DATA_DIR "/declaration_times_2017.csv",
                                              &times, NULL, 0), EL_OK);
    size_t n = results->n_seats;
    size_t *order = calloc (n, sizeof (size_t));
    int64_t *at_ms = calloc (n, sizeof (int64_t));
    bool *seen = calloc (n, sizeof (bool));
    assert_non_null (order);
    assert_non_null (at_ms);
    assert_non_null (seen);
    assert_int_equal (results_declaration_order (results, times, order, at_ms), EL_OK);
    int64_t earliest = INT64_MAX;
    for (size_t t = 0; t < times->n_times; t++)
        if (times->times [t].declared_at_ms < earliest)
            earliest = times->times [t].declared_at_ms;
    assert_int_equal (at_ms [0], earliest);
    for (size_t i = 0; i < n; i++) {
        assert_true (order [i] < n);
        assert_false (seen [order [i]]);
        seen [order [i]] = true;
        if (i > 0) {
            assert_true (at_ms [i] >= at_ms [i - 1]);
            if (at_ms [i] == at_ms [i - 1])
                assert_true (order [i] > order [i - 1]);
        }
        //  The time given is the seat's own
        for (size_t t = 0; t < times->n_times; t++)
            if (strcmp (times->times [t].ons_id, results->seats [order [i]].ons_id) == 0)
                assert_int_equal (at_ms [i], times->times [t].declared_at_ms);
    }
    assert_int_equal (results_declaration_order (results, NULL, order, NULL), EL_OK);
    for (size_t i = 0; i < n; i++)
        assert_int_equal (order [i], i);
    free (order);
    free (at_ms);
    free (seen);
    declaration_times_destroy (&times);
    results_destroy (&results);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_ge2017_counts),
        cmocka_unit_test (test_ge2017_luton_north),
        cmocka_unit_test (test_ge2017_quoted_comma),
        cmocka_unit_test (test_ge2015_party_totals),
        cmocka_unit_test (test_declaration_times_2017),
        cmocka_unit_test (test_declaration_times_2015),
        cmocka_unit_test (test_bom_crlf_quotes_and_no_final_newline),
        cmocka_unit_test (test_extreme_values_accepted),
        cmocka_unit_test (test_time_formats),
        cmocka_unit_test (test_missing_file),
        cmocka_unit_test (test_directory_is_io_error),
        cmocka_unit_test (test_small_error_buffer),
        cmocka_unit_test (test_refuses_empty_file),
        cmocka_unit_test (test_refuses_endless_line),
        cmocka_unit_test (test_refuses_missing_column),
        cmocka_unit_test (test_refuses_misnamed_column),
        cmocka_unit_test (test_refuses_wrong_field_count),
        cmocka_unit_test (test_refuses_empty_ons_id_or_party),
        cmocka_unit_test (test_refuses_bad_votes),
        cmocka_unit_test (test_refuses_bad_electorate),
        cmocka_unit_test (test_refuses_inconsistent_seat),
        cmocka_unit_test (test_refuses_non_contiguous_seat),
        cmocka_unit_test (test_refuses_header_only),
        cmocka_unit_test (test_refuses_malformed_csv),
        cmocka_unit_test (test_line_numbers_count_lines_not_records),
        cmocka_unit_test (test_times_refuse_bad_header),
        cmocka_unit_test (test_times_refuse_bad_rows),
        cmocka_unit_test (test_times_refuse_bad_timestamps),
        cmocka_unit_test (test_declaration_order),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
