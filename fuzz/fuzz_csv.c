/*  fuzz_csv: bytes as a results file -> results_load, as a
    declaration-times file -> declaration_times_load, as a nominations file
    and as a party register. The loaders take a path, so the bytes go
    through a temporary file.                                              */
#include "nominations.h"
#include "parties.h"
#include "results_file.h"
#include "times_file.h"
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static char s_path [64];

static void
s_write (const uint8_t *data, size_t size)
{
    if (!*s_path) {
        snprintf (s_path, sizeof s_path, "/tmp/fuzz_csv.%d.csv", (int) getpid ());
    }
    FILE *file = fopen (s_path, "wb");
    if (!file || fwrite (data, 1, size, file) != size || fclose (file))
        abort ();
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    s_write (data, size);
    char err [512];
    results_t *results = NULL;
    if (results_load (s_path, &results, err, sizeof err) == EL_OK) {
        //  What a loaded file promises its users
        for (size_t i = 0; i < results->n_seats; i++) {
            const seat_result_t *seat = &results->seats [i];
            if (!seat->ons_id || !*seat->ons_id || !seat->n_candidates)
                abort ();
            for (size_t c = 0; c < seat->n_candidates; c++)
                if (!seat->candidates [c].party || !*seat->candidates [c].party)
                    abort ();
            if (results_find (results, seat->ons_id) == NULL)
                abort ();
        }
        results_destroy (&results);
    }
    declaration_times_t *times = NULL;
    if (declaration_times_load (s_path, &times, err, sizeof err) == EL_OK)
        declaration_times_destroy (&times);
    nominations_t *nominations = NULL;
    if (nominations_load (s_path, &nominations, err, sizeof err) == EL_OK)
        nominations_destroy (&nominations);
    parties_t *parties = NULL;
    if (parties_load (s_path, &parties, err, sizeof err) == EL_OK) {
        for (size_t i = 0; i < parties_count (parties); i++)
            if (parties_match (parties, parties_at (parties, i)->code) == NULL)
                abort ();   //  every code is one of its own spellings
        parties_destroy (&parties);
    }
    unlink (s_path);
    return 0;
}
