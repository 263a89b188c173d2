#define _GNU_SOURCE
#include "rigor_spawn.h"

#include <arpa/inet.h>
#include <linux/nsfs.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
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
    int wait_ms;
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

/* listen_loopback, retried while the namespace's loopback is not up yet (EADDRNOTAVAIL: bwrap
   brings it up in its child, after reporting the child's pid). */
static int listen_loopback_when_up(int port, int wait_ms, int *bound_port) {
    struct timespec pause = { 0, 2 * 1000 * 1000 };
    for (int waited = 0;; waited += 2) {
        int fd = listen_loopback(port, bound_port);
        if (fd >= 0 || errno != EADDRNOTAVAIL || waited >= wait_ms) return fd;
        nanosleep(&pause, NULL);
    }
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
        job->fd = listen_loopback_when_up(job->port, job->wait_ms, &job->bound_port);
        if (job->fd < 0) job->error = errno;
        setns(home, CLONE_NEWNET);  /* the thread ends next, whether or not this succeeded */
    }
    close(target);
    close(home);
    return NULL;
}

static int listen_from_thread(pid_t pid, int port, int wait_ms, int *bound_port) {
    struct endpoint_job job = { pid, port, -1, 0, 0, wait_ms };
    pthread_t thread;
    int rc = pthread_create(&thread, NULL, endpoint_thread, &job);
    if (rc != 0) { errno = rc; return -1; }
    pthread_join(thread, NULL);
    if (job.fd < 0) { errno = job.error ? job.error : EIO; return -1; }
    *bound_port = job.bound_port;
    return job.fd;
}

int rigor_listen_in_netns(pid_t pid, int port, int *bound_port) {
    return listen_from_thread(pid, port, 0, bound_port);
}

/* 1 when the two namespace files name the same namespace. */
static int same_namespace(int a, int b) {
    struct stat sa, sb;
    return fstat(a, &sa) == 0 && fstat(b, &sb) == 0 && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

/* In a forked helper (one thread): join the sandbox's user namespace, then its network
   namespace, listen, and send the socket back on `sock` with 0; or send the errno alone. */
static void listen_in_helper(int user_fd, int net_fd, int port, int wait_ms, int sock) {
    int result[2] = { 0, 0 };
    int fd = -1;
    if (setns(user_fd, CLONE_NEWUSER) != 0 || setns(net_fd, CLONE_NEWNET) != 0) {
        result[0] = errno;
    } else {
        fd = listen_loopback_when_up(port, wait_ms, &result[1]);
        if (fd < 0) result[0] = errno ? errno : EIO;
    }
    rigor_send_fds(sock, result, sizeof result, fd >= 0 ? &fd : NULL, fd >= 0 ? 1 : 0);
    _exit(0);
}

int rigor_listen_in_sandbox(pid_t pid, int port, int wait_ms, int *bound_port) {
    if (geteuid() == 0) return listen_from_thread(pid, port, wait_ms, bound_port);
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/ns/net", (int)pid);
    int net_fd = open(path, O_RDONLY | O_CLOEXEC);
    if (net_fd < 0) return -1;
    /* The user namespace to join is the one that owns the network namespace, not the one the
       process is in now: bwrap may since have moved its child into a second, nested user
       namespace (to drop capabilities, or for --uid), where joining gives no right over the
       network namespace (setns: EPERM, depending on when the child was looked at). */
    int user_fd = ioctl(net_fd, NS_GET_USERNS);
    if (user_fd >= 0) {
        fcntl(user_fd, F_SETFD, FD_CLOEXEC);
    } else {
        snprintf(path, sizeof path, "/proc/%d/ns/user", (int)pid);  /* kernels before 4.9 */
        user_fd = open(path, O_RDONLY | O_CLOEXEC);
    }
    int own_fd = open("/proc/self/ns/user", O_RDONLY | O_CLOEXEC);
    if (user_fd < 0 || own_fd < 0) {
        int e = errno;
        close(net_fd);
        if (user_fd >= 0) close(user_fd);
        if (own_fd >= 0) close(own_fd);
        errno = e;
        return -1;
    }
    int same = same_namespace(user_fd, own_fd);
    close(own_fd);
    if (same) {
        /* No user namespace of its own to join, and no right to join its network alone. */
        close(user_fd);
        close(net_fd);
        errno = EPERM;
        return -1;
    }
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
        int e = errno;
        close(user_fd); close(net_fd);
        errno = e;
        return -1;
    }
    pid_t helper = fork();
    if (helper == 0) {
        close(sv[0]);
        listen_in_helper(user_fd, net_fd, port, wait_ms, sv[1]);
    }
    int e = errno;
    close(sv[1]);
    close(user_fd);
    close(net_fd);
    if (helper < 0) { close(sv[0]); errno = e; return -1; }
    int result[2] = { EIO, 0 };
    int fd = -1;
    char control[CMSG_SPACE(sizeof(int))];
    struct iovec iov = { result, sizeof result };
    struct msghdr msg;
    memset(&msg, 0, sizeof msg);
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    ssize_t n;
    do { n = recvmsg(sv[0], &msg, MSG_CMSG_CLOEXEC); } while (n < 0 && errno == EINTR);
    for (struct cmsghdr *c = n > 0 ? CMSG_FIRSTHDR(&msg) : NULL; c; c = CMSG_NXTHDR(&msg, c)) {
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) memcpy(&fd, CMSG_DATA(c), sizeof fd);
    }
    close(sv[0]);
    int status;
    while (waitpid(helper, &status, 0) < 0 && errno == EINTR) {}
    if (n != (ssize_t)sizeof result || result[0] != 0 || fd < 0) {
        if (fd >= 0) close(fd);
        errno = (n == (ssize_t)sizeof result && result[0] != 0) ? result[0] : EIO;
        return -1;
    }
    *bound_port = result[1];
    return fd;
}

int rigor_listen_loopback(int port, int *bound_port) {
    return listen_loopback(port, bound_port);
}
