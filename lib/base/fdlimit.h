/*  fdlimit.h: every program's open files. Each connection a program takes
    is a file descriptor, and a soft limit of 1,024 (the usual default) is
    spent by a thousand idle connections to any one port; then no count
    centre can connect. So each program raises its soft limit to the hard
    limit at start (the hard limit is the operator's to set: systemd's
    LimitNOFILE=, docker's --ulimit nofile=), and each serving port takes a
    bounded number of connections (SECURITY.md "Resource bounds").          */
#ifndef EL_FDLIMIT_H
#define EL_FDLIMIT_H

/*  Raises the soft RLIMIT_NOFILE to the hard limit. Returns the soft limit
    now (no limit at all as a very large number), or 0 if it cannot be read. */
unsigned long fdlimit_raise (void);

#endif
