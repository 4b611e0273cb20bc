/*  state_json.h: the JSON forms of the state (README "JSON contract"),
    built with jansson. Shares and turnout are percentages, unrounded;
    share_change is null where undefined.                                   */
#ifndef STATE_JSON_H
#define STATE_JSON_H

#include <jansson.h>
#include "state_view.h"

/*  {"id", "name", ..., "candidates": [...]}. Caller owns the result (json_decref). */
json_t *state_json_seat (const Election__SeatSummary *seat);

/*  {"scope", "declared", "seats_total", "majority_line", "parties": [...]...}  */
json_t *state_json_national (const Election__NationalSummary *national);

/*  The projection topic's body: {"basis", "based_on", "declared",
    "seats_total", "majority_line", "verdict", "parties": [{"party", "name",
    "colour", "seats", "low", "high", "declared"}], "nations": [{"nation",
    "declared", "projected", "seats_total", "based_on", "parties"}],
    "exit_poll", "exit_poll_until"}; null for NULL.                          */
json_t *state_json_projection (const Election__Projection *projection);

/*  An exit poll: {"parties": [{"party", "name", "colour", "seats"}],
    "published_at_ms", "source"}; null for NULL.                            */
json_t *state_json_exit_poll (const Election__ExitPoll *poll);

/*  The declarations held for a second look: [{"id", "name", "revision",
    "reasons", "source", "received_at_ms", "sequence", "electorate",
    "candidates" (as sent)}]. desk may be NULL (nothing held: []).          */
json_t *state_json_held (const Election__DeskSummary *desk);

/*  One stream update as a JSON line object: {"topic", "sequence", "mode",
    "sent_at_us" (when the aggregator published it, or the publisher its
    heartbeat), and "seat" / "national" / "heartbeat" / "desk"}.            */
json_t *state_json_update (const char *topic, const Election__Update *update);

/*  The whole state: {"sequence", "epoch", "mode", "declared", "seats_total",
    "majority_line", "parties", "constituencies" (declared seats, by id),
    "regions" (every other scope), "held" (state_json_held), "upstream_ok"
    and "source" (state_view_set_health), "parliament" (parliament.h),
    "gains" (state_json_gains)}.                                            */
json_t *state_json_state (const state_view_t *view);

/*  Every seat the view holds, declared or not, sorted by id:
    {"sequence", "seats": [state_json_seat...]} (GET /seats).              */
json_t *state_json_seats (const state_view_t *view);

/*  The declared seats whose outcome is a gain, in declaration order
    (declared_at_ms, then sequence): [{"id", "name", "winner", "winner_name",
    "winner_colour", "previous_winner", "previous_winner_name",
    "declared_at_ms", "sequence"}].                                        */
json_t *state_json_gains (const state_view_t *view);

#endif
