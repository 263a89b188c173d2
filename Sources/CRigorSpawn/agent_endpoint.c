#define _GNU_SOURCE
#include "rigor_spawn.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* A listening TCP socket on 127.0.0.1:port made inside another process's network namespace.
 *
 * The network namespace is per thread: a short-lived thread joins the target namespace with
 * setns, makes and binds the socket there, and goes back. A socket keeps the namespace it was
 * made in, so the runner accepts on it from any thread while only processes in that namespace
 * can connect. If the thread cannot go back to the runner's namespace it is not reused: it
 * exits, as every such thread does. */
struct endpoint_job {
    pid_t pid;
    int port;
    int fd;
    int bound_port;
    int error;
};

static int listen_loopback(int port, int *bound_port) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in addr;
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_port = htons((uint16_t)port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(fd, (struct sockaddr *)&addr, sizeof addr) != 0 || listen(fd, 64) != 0) {
        int saved = errno;
        close(fd);
        errno = saved;
        return -1;
    }
    socklen_t len = sizeof addr;
    if (getsockname(fd, (struct sockaddr *)&addr, &len) == 0) *bound_port = ntohs(addr.sin_port);
    return fd;
}

static void *endpoint_thread(void *arg) {
    struct endpoint_job *job = arg;
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/ns/net", (int)job->pid);
    int target = open(path, O_RDONLY | O_CLOEXEC);
    if (target < 0) { job->error = errno; return NULL; }
    int home = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    if (home < 0) { job->error = errno; close(target); return NULL; }
    if (setns(target, CLONE_NEWNET) != 0) {
        job->error = errno;
    } else {
        job->fd = listen_loopback(job->port, &job->bound_port);
        if (job->fd < 0) job->error = errno;
        setns(home, CLONE_NEWNET);  /* the thread ends next, whether or not this succeeded */
    }
    close(target);
    close(home);
    return NULL;
}

int rigor_listen_in_netns(pid_t pid, int port, int *bound_port) {
    struct endpoint_job job = { pid, port, -1, 0, 0 };
    pthread_t thread;
    int rc = pthread_create(&thread, NULL, endpoint_thread, &job);
    if (rc != 0) { errno = rc; return -1; }
    pthread_join(thread, NULL);
    if (job.fd < 0) { errno = job.error ? job.error : EIO; return -1; }
    *bound_port = job.bound_port;
    return job.fd;
}

int rigor_listen_loopback(int port, int *bound_port) {
    return listen_loopback(port, bound_port);
}
