/*  keys.h: CurveZMQ key files and the socket options that use them.

    A key pair is two files: NAME.pub holds the public key and NAME.key the
    secret key, each as one line of 40 Z85 characters. The secret file is
    written with mode 0600, and a secret file that the group or others may
    read is refused: a count centre's secret key is what lets it declare
    results, so a copy readable by anyone else on the machine is a leak.
    The public key can be handed out freely (to the aggregator's operator
    for the allow-list, or to subscribers of a paid feed).                 */
#ifndef KEYS_H
#define KEYS_H

#include <stdbool.h>
#include <stddef.h>
#include "err.h"

#define KEYS_Z85_SIZE 41        /* 40 Z85 characters and the NUL */
#define KEYS_ID_SIZE  9         /* the short id logged for a key: 8 characters */

/*  Makes a new key pair and writes NAME.key (0600) and NAME.pub, refusing
    to overwrite either. err gets the reason on failure.                    */
el_err_t keys_generate (const char *name, char *err, size_t errlen);

/*  Reads a public key file into key. Refuses anything that is not one line
    of 40 valid Z85 characters.                                             */
el_err_t keys_read_public (const char *path, char key [KEYS_Z85_SIZE], char *err, size_t errlen);

/*  Reads a secret key file into key, as keys_read_public does, and refuses
    a file the group or others may read.                                    */
el_err_t keys_read_secret (const char *path, char key [KEYS_Z85_SIZE], char *err, size_t errlen);

/*  Reads the pair NAME.pub and NAME.key (NAME may also be given as
    NAME.key or NAME.pub) and checks the public key belongs to the secret. */
el_err_t keys_read_pair (const char *name, char public_key [KEYS_Z85_SIZE],
                         char secret_key [KEYS_Z85_SIZE], char *err, size_t errlen);

/*  Refuses (EL_ERR_INVALID, or EL_ERR_IO if it cannot tell) a file the
    group or others may read or write: a secret key, or an allow-list, which
    decides who may declare what. what names it in the reason ("secret
    key"); advice is added to the "chmod 600" the reason ends with.         */
el_err_t keys_check_private (int fd, const char *path, const char *what, const char *advice,
                             char *err, size_t errlen);

/*  True if text is 40 Z85 characters that decode to a 32-byte key.  */
bool keys_valid (const char *text);

/*  The short id of a public key given as 32 raw bytes or as Z85 text: the
    first 8 Z85 characters, enough to tell keys apart in logs.              */
void keys_id_raw (const unsigned char raw [32], char id [KEYS_ID_SIZE]);
void keys_id (const char *z85, char id [KEYS_ID_SIZE]);

/*  A client's CURVE settings: the server's public key and its own pair.  */
typedef struct {
    char server_public [KEYS_Z85_SIZE];
    char public_key [KEYS_Z85_SIZE];
    char secret_key [KEYS_Z85_SIZE];
} keys_client_t;

/*  Loads a client's settings from the server's public key file and the
    client's own pair (see keys_read_pair).                                 */
el_err_t keys_client_load (keys_client_t *self, const char *server_public_file,
                           const char *own_name, char *err, size_t errlen);

/*  Makes socket a CURVE client (before it connects). Returns 0 or -1.  */
int keys_apply_client (void *socket, const keys_client_t *self);

/*  Makes socket a CURVE server with this secret key (before it binds).
    zap_domain NULL: no ZAP domain (every client that knows the server's
    public key gets in). Returns 0 or -1.                                   */
int keys_apply_server (void *socket, const char *secret_key, const char *zap_domain);

#endif
