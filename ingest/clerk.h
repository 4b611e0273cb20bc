/*  clerk.h: the count-centre clerk's commands (README "The clerk's
    commands"), made so that the mistakes of issue 12 are hard to make:

      ingest declare --seat ID     shows the seat and its nominated candidates,
                                   asks for each one's votes, checks the sums,
                                   shows the card as it will appear, and sends
                                   only once the clerk has typed the seat's name
      ingest template --seat ID    a results CSV of the seat's nominated
                                   candidates with the votes left empty
      ingest retract --seat ID --reason WHY   withdraws a seat, no figures needed
      ingest nominations FILE.csv  the nominations file derived from a results
                                   file (data/nominations_2017.csv is made so)

    The nominations come from the aggregator (a "nominations" request on its
    ingest socket) or from a file (--nominations), and the revision to send
    from the aggregator ("revision"), so a clerk never works one out. declare
    and retract build the declaration; ingest sends it as it sends any, and
    reports the outcome the same way.                                       */
#ifndef INGEST_CLERK_H
#define INGEST_CLERK_H

#include <stdint.h>
#include <stdio.h>
#include "plan.h"
#include "sender.h"

typedef struct {
    void *ctx;                      /* ZeroMQ context for the requests */
    const sender_config_t *sender;  /* the aggregator's endpoint, our CURVE keys */
    const char *nominations;        /* a nominations file; NULL: ask the aggregator */
    const char *seat;               /* the seat's ONS id */
    const plan_options_t *plan;     /* election, source, mode, revision (0: next),
                                       confirmed */
} clerk_options_t;

/*  Writes the nominations derived from the results file at path to out.
    Returns 0, 1 if it cannot (said on stderr: unreadable, or candidates
    without names).                                                          */
int clerk_derive_nominations (const char *path, FILE *out);

/*  Writes the template of the seat to out. Returns 0, or 1 (said why).  */
int clerk_template (const clerk_options_t *options, FILE *out);

/*  Asks for the seat's figures on in, talking on out, and adds the
    declaration to plan once the clerk has confirmed it. Returns 0 to send,
    2 when nothing is to be sent (the clerk gave up, stdin ended, or the
    seat or the nominations cannot be had: said why).                       */
int clerk_declare (const clerk_options_t *options, FILE *in, FILE *out, plan_t *plan);

/*  Adds the retraction of the seat, with why in the clerk's words, to plan.
    Returns 0, or 2 (said why).                                             */
int clerk_retract (const clerk_options_t *options, const char *why, plan_t *plan);

#endif
