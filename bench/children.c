/*  children.c: see bench.h. The aggregator and publisher as child processes.  */
#include "bench.h"
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zmq.h>

//  Starts dir/program with argv, stdout and stderr appended to log_path.
//  The child dies with us even if we are killed outright (PDEATHSIG).
pid_t
children_spawn (bench_t *self, const char *dir, const char *program, char *const argv [],
                const char *log_path)
{
    char path [PATH_MAX];
    snprintf (path, sizeof path, "%s/%s", dir, program);
    if (access (path, X_OK)) {
        fprintf (stderr, "bench: cannot run %s: %s (build it first)\n", path, strerror (errno));
        return -1;
    }
    size_t slot = 0;
    while (slot < BENCH_MAX_CHILDREN && self->children [slot].pid)
        slot++;
    if (slot == BENCH_MAX_CHILDREN) {
        fprintf (stderr, "bench: too many children\n");
        return -1;
    }
    pid_t parent = getpid ();
    fflush (NULL);
    pid_t pid = fork ();
    if (pid < 0) {
        fprintf (stderr, "bench: fork: %s\n", strerror (errno));
        return -1;
    }
    if (pid == 0) {
        prctl (PR_SET_PDEATHSIG, SIGKILL);
        if (getppid () != parent)
            _exit (127);
        int fd = open (log_path, O_WRONLY | O_CREAT | O_APPEND, 0644);
        if (fd >= 0) {
            dup2 (fd, STDOUT_FILENO);
            dup2 (fd, STDERR_FILENO);
            close (fd);
        }
        execv (path, argv);
        fprintf (stderr, "bench: exec %s: %s\n", path, strerror (errno));
        _exit (127);
    }
    self->children [slot] = (child_t) { pid, program };
    return pid;
}

//  True while pid runs; reaps it and forgets it if it has exited
bool
children_alive (bench_t *self, pid_t pid)
{
    int status;
    if (pid <= 0)
        return false;
    if (waitpid (pid, &status, WNOHANG) == 0)
        return true;
    for (size_t i = 0; i < BENCH_MAX_CHILDREN; i++)
        if (self->children [i].pid == pid) {
            if (WIFEXITED (status) || WIFSIGNALED (status))
                fprintf (stderr, "bench: %s (pid %d) exited early (%s %d)\n",
                         self->children [i].name, (int) pid,
                         WIFEXITED (status) ? "status" : "signal",
                         WIFEXITED (status) ? WEXITSTATUS (status) : WTERMSIG (status));
            self->children [i].pid = 0;
        }
    return false;
}

//  Asks a child to stop (SIGTERM), waits for it on a pidfd for up to 3 s,
//  then kills it; always reaps it.
void
children_stop (bench_t *self, pid_t *pid_p)
{
    pid_t pid = *pid_p;
    *pid_p = 0;
    if (pid <= 0)
        return;
    size_t slot = BENCH_MAX_CHILDREN;
    for (size_t i = 0; i < BENCH_MAX_CHILDREN; i++)
        if (self->children [i].pid == pid)
            slot = i;
    if (slot == BENCH_MAX_CHILDREN)
        return;         //  already reaped
    int pidfd = (int) syscall (SYS_pidfd_open, pid, 0);
    kill (pid, SIGTERM);
    bool exited = false;
    if (pidfd >= 0) {
        zmq_pollitem_t item = { NULL, pidfd, ZMQ_POLLIN, 0 };
        int64_t deadline = bench_now_ns () + 3000000000LL;
        while (!exited && bench_now_ns () < deadline) {
            if (zmq_poll (&item, 1, (long) ((deadline - bench_now_ns ()) / 1000000 + 1)) > 0)
                exited = true;
        }
        close (pidfd);
    }
    if (!exited)
        kill (pid, SIGKILL);
    waitpid (pid, NULL, 0);
    self->children [slot].pid = 0;
}

void
children_stop_all (bench_t *self)
{
    for (size_t i = 0; i < BENCH_MAX_CHILDREN; i++)
        if (self->children [i].pid) {
            pid_t pid = self->children [i].pid;
            children_stop (self, &pid);
        }
}

//  VmRSS of a process in kB, or -1
long
children_rss_kb (pid_t pid)
{
    char path [64], line [256];
    snprintf (path, sizeof path, "/proc/%d/status", (int) pid);
    FILE *file = fopen (path, "r");
    long kb = -1;
    if (!file)
        return -1;
    while (fgets (line, sizeof line, file))
        if (strncmp (line, "VmRSS:", 6) == 0) {
            char *end;
            long value = strtol (line + 6, &end, 10);
            if (end != line + 6 && value >= 0)
                kb = value;
            break;
        }
    fclose (file);
    return kb;
}

//  CPU time (user + system) of a process so far, in microseconds, or -1
double
children_cpu_us (pid_t pid)
{
    char path [64], line [1024];
    snprintf (path, sizeof path, "/proc/%d/stat", (int) pid);
    FILE *file = fopen (path, "r");
    if (!file)
        return -1;
    char *text = fgets (line, sizeof line, file);
    fclose (file);
    //  Fields after the command (which may hold spaces) start past the last ')'
    char *rest = text ? strrchr (line, ')') : NULL;
    unsigned long long utime, stime;
    if (!rest || sscanf (rest + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu",
                         &utime, &stime) != 2)
        return -1;
    return (double) (utime + stime) * 1e6 / (double) sysconf (_SC_CLK_TCK);
}

//  A loopback TCP port free right now (bound to port 0 and released)
static int
s_free_port (void)
{
    int fd = socket (AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return -1;
    struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = 0,
                                .sin_addr.s_addr = htonl (INADDR_LOOPBACK) };
    socklen_t len = sizeof addr;
    int port = -1;
    if (bind (fd, (struct sockaddr *) &addr, sizeof addr) == 0
    &&  getsockname (fd, (struct sockaddr *) &addr, &len) == 0)
        port = ntohs (addr.sin_port);
    close (fd);
    return port;
}

void
children_kill (bench_t *self, pid_t *pid_p)
{
    pid_t pid = *pid_p;
    *pid_p = 0;
    for (size_t i = 0; pid > 0 && i < BENCH_MAX_CHILDREN; i++)
        if (self->children [i].pid == pid) {      //  ours, not yet reaped
            kill (pid, SIGKILL);
            waitpid (pid, NULL, 0);
            self->children [i].pid = 0;
        }
}

//  n distinct loopback TCP endpoints on ports free right now
int
children_endpoints (size_t n, char endpoints [][64])
{
    int ports [n ? n : 1];
    for (size_t i = 0; i < n; i++) {
        ports [i] = s_free_port ();
        for (size_t j = 0; j < i; j++)
            if (ports [j] == ports [i])
                ports [i] = -1;
        if (ports [i] < 0) {
            fprintf (stderr, "bench: no free port\n");
            return -1;
        }
        snprintf (endpoints [i], 64, "tcp://127.0.0.1:%d", ports [i]);
    }
    return 0;
}
