/*  render.h: the human forms of the summaries for a terminal, like the BBC
    results page: the national table ("After N of 650 seats") with small
    parties grouped under Others, and a result card per seat.               */
#ifndef RENDER_H
#define RENDER_H

#include <stddef.h>
#include <stdio.h>
#include "election.pb-c.h"

/*  The table: the `top` parties with most seats by name, the rest as Others
    (top 0: every party by name).                                            */
void render_table (FILE *out, const Election__NationalSummary *national, size_t top,
                   Election__Mode mode);

/*  One line: "After 12 of 650 seats: Con 7 (+1), Lab 5 (-1), Others 0 (0)".  */
void render_line (FILE *out, const Election__NationalSummary *national, size_t top);

/*  A result card: "Luton North  LAB HOLD", majority, turnout, candidates.  */
void render_card (FILE *out, const Election__SeatSummary *seat);

/*  What waits for the results desk: "HELD for a second look (1): E14000800
    Luton North rev 1: Con share 63.8% ...", one line per declaration held,
    or a line saying nothing is.                                            */
void render_desk (FILE *out, const Election__DeskSummary *desk);

/*  n with thousands separators into buf ("14,364").  */
const char *render_thousands (long long n, char *buf, size_t size);

#endif
