/*  editor.h: what a results desk's editor sends (issue 13): an exit poll,
    `ingest exit-poll FILE` (a CSV `party,seats`: exit_poll_file.h), checked
    here, line by line, before it is sent on the ingest socket as the
    command "exit-poll" (README "Requests on the ingest socket"); the
    aggregator checks it again, journals it and shows it on the projection
    topic until enough results are in.                                     */
#ifndef INGEST_EDITOR_H
#define INGEST_EDITOR_H

#include <stdbool.h>
#include <stddef.h>
#include "election.pb-c.h"
#include "sender.h"

typedef struct {
    void *ctx;
    const sender_config_t *config;
    const char *election;
    Election__Mode mode;
    const char *source;
    const char *parties;        /* --parties FILE: codes must be the register's; NULL: any */
    size_t seats_total;         /* --seats N: the seats the poll may add up to */
    bool json;                  /* one JSON line on stdout */
} editor_options_t;

/*  Loads, checks and sends the exit poll at path. Returns the exit status:
    0 accepted (or already held), 1 refused or not answered, 2 a bad file
    (said on stderr as "FILE:LINE: reason").                                */
int editor_exit_poll (const editor_options_t *options, const char *path);

#endif
