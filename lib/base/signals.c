/*  signals.c: see signals.h. The flag is process-wide by nature: signals
    are delivered to the process.                                           */
#include "signals.h"
#include <signal.h>
#include <string.h>

static volatile sig_atomic_t s_interrupted = 0;

static void
s_on_signal (int signum)
{
    s_interrupted = 1;
}

void
signals_catch (void)
{
    struct sigaction action;
    memset (&action, 0, sizeof action);
    action.sa_handler = s_on_signal;
    sigemptyset (&action.sa_mask);
    sigaction (SIGINT, &action, NULL);
    sigaction (SIGTERM, &action, NULL);
    signal (SIGPIPE, SIG_IGN);
}

bool
signals_interrupted (void)
{
    return s_interrupted != 0;
}
