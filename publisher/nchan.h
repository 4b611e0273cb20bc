/*  nchan.h: hands the publisher's event stream to an nginx web tier. Every
    event the HTTP gateway streams on /events (the same event name and data;
    nchan numbers events itself, and resumes a reader's Last-Event-ID by its
    own numbers) is POSTed, in order, to an nchan publisher location
    (deploy/nginx), from a thread of its own over one kept-alive connection
    (libcurl).

    It never blocks its caller, the publisher's ZeroMQ side: events wait in
    a queue bounded in bytes. While nginx is down or slow the queue fills;
    once it is full, new events are dropped and counted. When nginx takes
    events again after a failure (it may have restarted empty, or missed
    events), the first thing it is sent is a "resync" event
    ({"sequence", "epoch"}), on which a reader fetches /state afresh (the
    results page does), then the events still queued.                       */
#ifndef PUBLISHER_NCHAN_H
#define PUBLISHER_NCHAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NCHAN_BUFFER_KIB    8192    /* default bound of the queue */

typedef struct nchan nchan_t;

/*  Posts to url (http://host:port/path of an nchan_publisher location),
    queueing up to buffer_bytes. Starts its thread. NULL on failure
    (logged). Caller owns the result; free with nchan_destroy, which stops
    the thread (a post in progress is abandoned).                          */
nchan_t *nchan_new (const char *url, size_t buffer_bytes);
void nchan_destroy (nchan_t **self_p);

/*  Queues one event: its name (letters only), and its data, copied. The
    sequence and epoch it belongs to are what a later resync names.
    Any thread; never blocks.                                               */
void nchan_post (nchan_t *self, const char *event, uint64_t sequence, uint64_t epoch,
                 const char *data, size_t size);

/*  The state was replaced (a new snapshot, or an event that could not be
    rendered): readers must start over from /state at this sequence.      */
void nchan_resync (nchan_t *self, uint64_t sequence, uint64_t epoch);

/*  For the health topic: whether nginx takes events now (false from the
    first failed post until one succeeds), and events dropped since start. */
void nchan_stats (nchan_t *self, bool *ok, uint64_t *dropped);

#endif
