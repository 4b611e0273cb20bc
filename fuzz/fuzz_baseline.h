/*  fuzz_baseline.h: the baseline the intake and journal targets build a
    tally from, once per input: a slice of data/ge2015.csv (every 16th seat,
    so every country and most regions, plus the seats the seeds name),
    because a tally of all 650 seats per input would slow the fuzzer tenfold. */
#ifndef FUZZ_BASELINE_H
#define FUZZ_BASELINE_H

#include "results_file.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static results_t *
fuzz_baseline (void)
{
    static results_t *full, slice;
    char err [512];
    if (results_load (EL_DATA_DIR "/ge2015.csv", &full, err, sizeof err)) {
        fprintf (stderr, "fuzz: %s\n", err);
        abort ();
    }
    slice.seats = calloc (full->n_seats, sizeof *slice.seats);
    if (!slice.seats)
        abort ();
    for (size_t i = 0; i < full->n_seats; i++) {
        const char *id = full->seats [i].ons_id;
        if (i % 16 == 0 || !strcmp (id, "E14000530") || !strcmp (id, "E14000608")
        ||  !strcmp (id, "W07000049") || !strcmp (id, "E14000531"))
            slice.seats [slice.n_seats++] = full->seats [i];    //  shares full's strings
    }
    return &slice;
}

#endif
