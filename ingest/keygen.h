/*  keygen.h: `ingest keygen NAME`, a count centre's CURVE key pair: NAME.key
    (secret, mode 0600) and NAME.pub (for the aggregator's operator), the
    public key also printed on stdout.                                       */
#ifndef INGEST_KEYGEN_H
#define INGEST_KEYGEN_H

/*  Makes the pair. Returns the exit status: 0, or 1 (said on stderr).  */
int keygen_pair (const char *name);

#endif
