/*  fdlimit.c: see fdlimit.h.  */
#include "fdlimit.h"
#include <sys/resource.h>

unsigned long
fdlimit_raise (void)
{
    struct rlimit limit;
    if (getrlimit (RLIMIT_NOFILE, &limit))
        return 0;
    if (limit.rlim_cur < limit.rlim_max) {
        struct rlimit raised = { limit.rlim_max, limit.rlim_max };
        if (setrlimit (RLIMIT_NOFILE, &raised) == 0)
            limit = raised;
    }
    return limit.rlim_cur == RLIM_INFINITY ? (unsigned long) -1 / 2 : (unsigned long) limit.rlim_cur;
}
