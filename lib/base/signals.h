/*  signals.h: how every program stops cleanly. SIGINT and SIGTERM only set
    a flag (a handler may do nothing else safely); each program's loop reads
    it and ends, closing its sockets. SIGPIPE is ignored so that a vanished
    reader is an error return, not a dead process.                          */
#ifndef EL_SIGNALS_H
#define EL_SIGNALS_H

#include <stdbool.h>

/*  Installs the SIGINT and SIGTERM handlers and ignores SIGPIPE.  */
void signals_catch (void);

/*  True once SIGINT or SIGTERM has arrived.  */
bool signals_interrupted (void);

#endif
