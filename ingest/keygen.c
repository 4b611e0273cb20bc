/*  keygen.c: see keygen.h.  */
#include "keygen.h"
#include "keys.h"
#include <stdio.h>

int
keygen_pair (const char *name)
{
    char err [512];
    if (keys_generate (name, err, sizeof err)) {
        fprintf (stderr, "ingest: %s\n", err);
        return 1;
    }
    char public_key [KEYS_Z85_SIZE], path [4200];
    snprintf (path, sizeof path, "%s.pub", name);
    if (keys_read_public (path, public_key, err, sizeof err)) {
        fprintf (stderr, "ingest: %s\n", err);
        return 1;
    }
    printf ("%s\n", public_key);
    fprintf (stderr, "ingest: wrote %s.key (secret: keep it on this machine, mode 0600) "
             "and %s.pub (public: send it to the aggregator's operator)\n", name, name);
    return 0;
}
