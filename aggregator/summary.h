/*  summary.h: encodes the tally's views as the Update messages of the
    stream (proto/election.proto), once per change, for every subscriber.   */
#ifndef SUMMARY_H
#define SUMMARY_H

#include <stddef.h>
#include <stdint.h>
#include "parties.h"
#include "tally.h"
#include "update_head.h"

/*  The topic of a seat ("seat.E14000800") or scope ("national" for the UK,
    "region.Scotland" otherwise), written into buf.                        */
void summary_seat_topic (const tally_t *tally, size_t seat, char *buf, size_t size);
void summary_scope_topic (const tally_t *tally, size_t scope, char *buf, size_t size);

/*  Packs the Update for a seat or a scope under head (sequence, epoch, mode,
    send time), each party with its full name and colour from the register
    parties (NULL: none; the codes stand for the names, in neutral grey).
    Returns a malloc'd buffer (caller frees) and its size in *size, or NULL
    on no memory.                                                           */
uint8_t *summary_pack_seat (const tally_t *tally, const parties_t *parties, size_t seat,
                            const update_head_t *head, size_t *size);
/*  As summary_pack_seat, but hands the Update, ready but for what extra adds
    (fields of its seat), to extra, which packs it (summary_pack) and
    returns what that returns: the results desk's context (desk.h).         */
typedef uint8_t *(summary_seat_fn) (void *arg, size_t seat, const seat_view_t *view,
                                    Election__Update *update, const update_head_t *head,
                                    size_t *size);
uint8_t *summary_pack_seat_with (const tally_t *tally, const parties_t *parties, size_t seat,
                                 const update_head_t *head, size_t *size,
                                 summary_seat_fn *extra, void *arg);

/*  Stamps head on update and packs it: a malloc'd buffer (caller frees) of
    *size bytes, or NULL on no memory.                                      */
uint8_t *summary_pack (Election__Update *update, const update_head_t *head, size_t *size);

uint8_t *summary_pack_scope (tally_t *tally, const parties_t *parties, size_t scope,
                             const update_head_t *head, size_t *size);

#endif
