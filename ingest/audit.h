/*  audit.h: `ingest journal FILE [--json]`, the audit listing of an
    aggregator's journal: who declared what, when, at which revision. One
    line per record on stdout (text, or a JSON object per line with the
    state's spelling: a first declaration's reason is null), and the count
    of records on stderr.                                                    */
#ifndef INGEST_AUDIT_H
#define INGEST_AUDIT_H

#include <stdbool.h>

/*  Lists the journal at path. Returns the exit status: 0, or 1 when it
    cannot be read (said on stderr).                                        */
int audit_journal (const char *path, bool json);

#endif
