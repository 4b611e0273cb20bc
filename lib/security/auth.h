/*  auth.h: who may connect, and which seats each may declare.

    The allow-list file has one line per public key:
        PUBLIC_KEY_Z85  centre-name  [ONS_ID ...]
    with # comments and blank lines ignored. Several keys may share a
    centre name (a centre's spare laptop); their seats add up. A centre that
    counts no seats (a subscriber of a paid feed) lists none.

    auth_t is a ZAP handler (ZeroMQ RFC 27): a REP socket bound to
    inproc://zeromq.zap.01 in the owner's context, which libzmq asks about
    every CURVE handshake. A key on the list gets 200 with the centre name
    as User-Id (read back on each message with zmq_msg_gets); any other key
    gets 400 and the handshake fails, logged with the key's id. It does not
    run a thread: the owner polls auth_socket and calls auth_handle.         */
#ifndef AUTH_H
#define AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include "err.h"

#define AUTH_MAX_NAME 64        /* bytes of a centre name */

typedef struct auth auth_t;

/*  Loads the allow-list at path and binds the ZAP handler in ctx; call it
    before any CURVE socket of ctx binds. domain: the ZAP domain the CURVE
    sockets carry (requests for another are refused). On success sets
    *self_p (caller owns it; free with auth_destroy, before terminating
    ctx). On failure returns EL_ERR_PARSE (a bad line, or no keys at all),
    EL_ERR_INVALID (the group or others may read or write the file: it
    decides who may declare what, so it is kept as a secret key is),
    EL_ERR_IO or EL_ERR_NOMEM, with the reason in err ("FILE:LINE: ...").   */
el_err_t auth_load (void *ctx, const char *path, const char *domain, auth_t **self_p,
                    char *err, size_t errlen);
/*  Lets exactly one key in on a ZAP domain of its own, as name: the peer
    link of a pair, where only the other aggregator may connect. Any other
    key on that domain is refused at the handshake. Creates the handler in
    ctx if *self_p is NULL (then only such domains are answered). Returns
    EL_ERR_INVALID for a bad key, domain or name, or a domain already in
    use, EL_ERR_IO or EL_ERR_NOMEM, with the reason in err.                  */
el_err_t auth_allow_only (void *ctx, auth_t **self_p, const char *domain, const char *public_key,
                          const char *name, char *err, size_t errlen);

void auth_destroy (auth_t **self_p);

/*  The socket to poll for ZMQ_POLLIN.  */
void *auth_socket (auth_t *self);

/*  Answers every pending ZAP request without blocking.  */
void auth_handle (auth_t *self);

/*  True if the allow-list gives centre the seat ons_id.  */
bool auth_permits (const auth_t *self, const char *centre, const char *ons_id);

/*  Keys and distinct centres on the list.  */
size_t auth_keys (const auth_t *self);
size_t auth_centres (const auth_t *self);

#endif
