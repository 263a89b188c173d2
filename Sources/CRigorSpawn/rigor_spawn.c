#define _GNU_SOURCE
#include "rigor_spawn.h"

#include <pthread.h>
#include <sched.h>
#include <sys/mman.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <dirent.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static void set_limit(int resource, long long value) {
    if (value <= 0) return;
    struct rlimit rl;
    rl.rlim_cur = (rlim_t)value;
    rl.rlim_max = (rlim_t)value;
    (void)setrlimit(resource, &rl);
}

static void close_pipe(int fds[2]) {
    if (fds[0] >= 0) close(fds[0]);
    if (fds[1] >= 0) close(fds[1]);
}

/* In a freshly forked child: default signal dispositions and an empty mask, as exec expects. */
static void reset_signals(void) {
    /* Handlers first, then the mask: no runner handler may run here once signals flow. */
    for (int sig = 1; sig < NSIG; sig++) {
        if (sig == SIGKILL || sig == SIGSTOP) continue;
        signal(sig, SIG_DFL);
    }
    sigset_t empty;
    sigemptyset(&empty);
    sigprocmask(SIG_SETMASK, &empty, NULL);
}

/* Marks every descriptor above 2 close-on-exec (the status pipe is already). */
static void cloexec_from_3(void) {
#ifdef SYS_close_range
    if (syscall(SYS_close_range, 3U, ~0U, 4U /* CLOSE_RANGE_CLOEXEC */) == 0) return;
#endif
    for (int fd = 3; fd < 4096; fd++) (void)fcntl(fd, F_SETFD, FD_CLOEXEC);
}

/* Keyrings are the kernel's, not a process tree's: a key an agent adds under its uid (or with
   permissions for everybody) outlives it and could reach a later episode. Like Docker's default
   profile, this filter makes add_key, request_key and keyctl fail with ENOSYS, in the native
   and the compat system-call tables. Architectures without a table get no filter. */
#define KEYRING_DENY BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS)
#define KEYRING_ALLOW BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)
#if defined(__x86_64__)
static const struct sock_filter keyring_filter[] = {
    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 4),
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 0, 6),
    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 0),
    BPF_STMT(BPF_ALU | BPF_AND | BPF_K, ~0x40000000U), /* x32 calls: the same numbers */
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 248, 9, 0),    /* add_key */
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 249, 8, 0),    /* request_key */
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 250, 7, 0),    /* keyctl */
    KEYRING_ALLOW,
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_I386, 0, 4),
    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 0),
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 286, 3, 0),
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 287, 2, 0),
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 288, 1, 0),
    KEYRING_ALLOW,
    KEYRING_DENY,
};
#define HAVE_KEYRING_FILTER 1
#elif defined(__aarch64__)
static const struct sock_filter keyring_filter[] = {
    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 4),
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_AARCH64, 0, 5),
    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 0),
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 217, 9, 0),
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 218, 8, 0),
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 219, 7, 0),
    KEYRING_ALLOW,
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_ARM, 0, 4),
    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 0),
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 309, 3, 0),
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 310, 2, 0),
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 311, 1, 0),
    KEYRING_ALLOW,
    KEYRING_DENY,
};
#define HAVE_KEYRING_FILTER 1
#endif

/* No new privileges through exec (set-user-ID programs, file capabilities), then the keyring
   filter. Raw system calls only (see apply_limits). 0 or errno. */
static int lock_down(void) {
    if (syscall(SYS_prctl, PR_SET_NO_NEW_PRIVS, 1L, 0L, 0L, 0L) != 0) return errno ? errno : EPERM;
#ifdef HAVE_KEYRING_FILTER
    struct sock_fprog program = {
        .len = (unsigned short)(sizeof keyring_filter / sizeof keyring_filter[0]),
        .filter = (struct sock_filter *)keyring_filter,
    };
    /* SECCOMP_FILTER_FLAG_SPEC_ALLOW: a filter alone would also switch on the kernel's
       speculative-store-bypass mitigation for the agent, slowing it down; side channels are
       outside the guard's threat model (spec/guard.md). Kernels without the flag: plain. */
#ifdef SYS_seccomp
    if (syscall(SYS_seccomp, 1L /* SECCOMP_SET_MODE_FILTER */, 4L /* SECCOMP_FILTER_FLAG_SPEC_ALLOW */, (long)&program) == 0) return 0;
#endif
    if (syscall(SYS_prctl, PR_SET_SECCOMP, (long)SECCOMP_MODE_FILTER, (long)&program, 0L, 0L) != 0) return errno ? errno : EPERM;
#endif
    return 0;
}

/* The rlimits, then (when running as root) the episode's uid and gid with no supplementary
   groups. Raw system calls only: it also runs in a child that shares the runner's memory, where
   libc's credential wrappers would try to change every thread of the runner. 0 or errno. */
static int apply_limits(const rigor_limits *l) {
    /* Into the episode's cgroup first, while still the runner's user: a failure stops the
       agent rather than let it run outside the bound the artifact's diagnostics claim. */
    for (int i = 0; i < l->cgroup_fd_count && i < 2; i++) {
        long n;
        do {
            n = syscall(SYS_write, (long)l->cgroup_fds[i], (long)"0", 1L);
        } while (n < 0 && errno == EINTR);
        if (n != 1) return errno ? errno : EIO;
    }
    set_limit(RLIMIT_CPU, l->cpu_seconds);
    set_limit(RLIMIT_AS, l->address_space_bytes);
    set_limit(RLIMIT_FSIZE, l->file_size_bytes);
    set_limit(RLIMIT_NOFILE, l->open_files);
    set_limit(RLIMIT_NPROC, l->processes);
    if (l->run_as_uid > 0 && syscall(SYS_getuid) == 0) {
        long id = (long)l->run_as_uid;
        if (syscall(SYS_setgroups, 0, NULL) != 0 || syscall(SYS_setgid, id) != 0 || syscall(SYS_setuid, id) != 0) {
            return errno ? errno : EPERM;
        }
        return lock_down();
    }
    if (l->lock_down_as_root && syscall(SYS_getuid) == 0) return lock_down();
    return 0;
}

/* After a failed exec or setup: report errno on the status pipe and leave. */
static void fail_child(int status_fd) {
    int e = errno;
    ssize_t ignored = write(status_fd, &e, sizeof e);
    (void)ignored;
    _exit(127);
}

/* In the parent: 0 once the child has exec'd (the close-on-exec status pipe closed empty), or
   the errno it reported (the child is then reaped). */
/* Runs `fn(arg)` in a child that shares the runner's memory until it execs or exits
   (clone(CLONE_VM|CLONE_VFORK), like posix_spawn): no copy of the runner's address space, and the
   caller resumes only then. The child runs on a stack of its own, with every signal blocked until
   it has reset its handlers, so no runner handler ever runs on its side. The child's pid, or -1
   with errno set. */
static pid_t clone_vfork(int (*fn)(void *), void *arg, size_t stack_size) {
    void *stack = mmap(NULL, stack_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
    if (stack == MAP_FAILED) return -1;
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    pid_t pid = clone(fn, (char *)stack + stack_size, CLONE_VM | CLONE_VFORK | SIGCHLD, arg);
    int clone_errno = errno;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    munmap(stack, stack_size);
    errno = clone_errno;
    return pid;
}

static int await_exec(int status_read_fd, pid_t pid) {
    int child_errno = 0;
    ssize_t n;
    do {
        n = read(status_read_fd, &child_errno, sizeof child_errno);
    } while (n < 0 && errno == EINTR);
    close(status_read_fd);
    if (n != (ssize_t)sizeof child_errno) return 0;
    int st;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {}
    return child_errno ? child_errno : ECHILD;
}

struct spawn_args {
    const char *path;
    char *const *argv;
    char *const *envp;
    const char *cwd;
    const rigor_limits *limits;
    int in_r, out_w, err_w, status_w;
};

/* The child, started with CLONE_VM | CLONE_VFORK: it shares the runner's memory until exec, so
   it makes raw system calls only (no allocation; credentials through the kernel directly, never
   through libc's wrappers, which would try to change every thread of the runner). */
static int spawn_child(void *p) {
    struct spawn_args *a = p;
    reset_signals();
    /* A session of its own: a new process group (killed as one at the end), and, where the
       kernel groups scheduling by session (autogroup), a fair CPU share for the whole agent
       however many processes it forks, so one episode's fork bomb cannot starve another's. */
    setsid();
    if (dup2(a->in_r, 0) < 0 || dup2(a->out_w, 1) < 0 || dup2(a->err_w, 2) < 0) fail_child(a->status_w);
    if (a->cwd && chdir(a->cwd) != 0) fail_child(a->status_w);
    int passed = a->limits ? a->limits->pass_fd_count : 0;
    if (passed < 0 || passed > 2) passed = 0;
    if (passed > 0) {
        /* Out of the way first (the status pipe or one passed fd may sit at 3 or 4), then into
           place; before the limits, which may lower RLIMIT_NOFILE under these numbers. */
        int status = fcntl(a->status_w, F_DUPFD_CLOEXEC, 10);
        if (status < 0) fail_child(a->status_w);
        a->status_w = status;
        int moved[2];
        for (int i = 0; i < passed; i++) {
            moved[i] = fcntl(a->limits->pass_fds[i], F_DUPFD_CLOEXEC, 10);
            if (moved[i] < 0) fail_child(a->status_w);
        }
        for (int i = 0; i < passed; i++) {
            if (dup2(moved[i], 3 + i) < 0) fail_child(a->status_w);
        }
    }
    if (a->limits && apply_limits(a->limits) != 0) fail_child(a->status_w);
    cloexec_from_3();
    for (int i = 0; i < passed; i++) (void)fcntl(3 + i, F_SETFD, 0);
    execve(a->path, a->argv, a->envp);
    fail_child(a->status_w);
    return 0;
}

int rigor_spawn(const char *path, char *const argv[], char *const envp[], const char *cwd,
                const rigor_limits *limits, rigor_child *out) {
    int in_pipe[2] = {-1, -1}, out_pipe[2] = {-1, -1}, err_pipe[2] = {-1, -1}, status_pipe[2] = {-1, -1};
    if (pipe2(in_pipe, O_CLOEXEC) != 0 || pipe2(out_pipe, O_CLOEXEC) != 0 || pipe2(err_pipe, O_CLOEXEC) != 0 ||
        pipe2(status_pipe, O_CLOEXEC) != 0) {
        int e = errno;
        close_pipe(in_pipe); close_pipe(out_pipe); close_pipe(err_pipe); close_pipe(status_pipe);
        return e;
    }
    struct spawn_args args = {path, argv, envp, cwd, limits, in_pipe[0], out_pipe[1], err_pipe[1], status_pipe[1]};

    /* Like posix_spawn: no copy of the runner's address space (a fork of a large process costs
       more than the rest of a short episode). */
    pid_t pid = clone_vfork(spawn_child, &args, 256 * 1024);
    int clone_errno = errno;
    if (pid < 0) {
        close_pipe(in_pipe); close_pipe(out_pipe); close_pipe(err_pipe); close_pipe(status_pipe);
        return clone_errno;
    }

    /* Parent. CLONE_VFORK returned only after the child's exec (or exit): it is already the
       leader of its own session and process group. */
    close(in_pipe[0]);
    close(out_pipe[1]);
    close(err_pipe[1]);
    close(status_pipe[1]);
    int failed = await_exec(status_pipe[0], pid);
    if (failed) {
        close(in_pipe[1]); close(out_pipe[0]); close(err_pipe[0]);
        return failed;
    }
    out->pid = pid;
    out->stdin_fd = in_pipe[1];
    out->stdout_fd = out_pipe[0];
    out->stderr_fd = err_pipe[0];
    fcntl(out->stdin_fd, F_SETFL, fcntl(out->stdin_fd, F_GETFL) | O_NONBLOCK);
    fcntl(out->stdout_fd, F_SETFL, fcntl(out->stdout_fd, F_GETFL) | O_NONBLOCK);
    fcntl(out->stderr_fd, F_SETFL, fcntl(out->stderr_fd, F_GETFL) | O_NONBLOCK);
    return 0;
}

pid_t rigor_wait(pid_t pid, int *status, int nohang) {
    pid_t r;
    do {
        r = waitpid(pid, status, nohang ? WNOHANG : 0);
    } while (r < 0 && errno == EINTR);
    return r;
}

int rigor_exited(int status) { return WIFEXITED(status); }
int rigor_exit_code(int status) { return WEXITSTATUS(status); }
int rigor_signaled(int status) { return WIFSIGNALED(status); }
int rigor_term_signal(int status) { return WTERMSIG(status); }

int rigor_kill_group(pid_t pgid, int sig) {
    if (pgid <= 1) return EINVAL;
    return kill(-pgid, sig) == 0 ? 0 : errno;
}

/* 1 when /proc/<name> is a live (not zombie) process of `uid`. */
static int live_process_of(int proc_fd, const char *name, uid_t uid) {
    struct stat st;
    if (fstatat(proc_fd, name, &st, 0) != 0 || st.st_uid != uid) return 0;
    /* A zombie is already dead: it only waits to be reaped, and cannot be killed. */
    char path[64];
    snprintf(path, sizeof path, "%.32s/stat", name);
    int fd = openat(proc_fd, path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return 0;
    char buf[512];
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0) return 0;
    buf[n] = 0;
    char *close_paren = strrchr(buf, ')');
    if (close_paren && close_paren[1] == ' ' && (close_paren[2] == 'Z' || close_paren[2] == 'X')) return 0;
    return 1;
}

int rigor_count_uid(uid_t uid) {
    DIR *d = opendir("/proc");
    if (!d) return -1;
    int proc_fd = dirfd(d);
    int count = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
        count += live_process_of(proc_fd, e->d_name, uid);
    }
    closedir(d);
    return count;
}

/* In the sweep helper, as its uid: whether the uid has a task besides the helper (alive, or
   dead and not reaped yet). kill(-1) cannot tell: it succeeds whenever any process exists, even
   when every one of them refused the signal. The kernel counts each uid's tasks for
   RLIMIT_NPROC, the new task included, and refuses a fork over the limit to a task without
   CAP_SYS_RESOURCE: with the limit at 2 (the helper and the probe), a vfork fails exactly when
   a third task of the uid exists. 1 when one does (or when it cannot tell), else 0. */
static int uid_has_other_tasks(void) {
    struct rlimit two = {2, 2};
    if (setrlimit(RLIMIT_NPROC, &two) != 0) return 1;
    pid_t pid = vfork();
    if (pid == 0) syscall(SYS_exit, 0L);
    if (pid < 0) return 1;
    int st = 0;
    while (syscall(SYS_wait4, (long)pid, &st, 0L, NULL) < 0 && errno == EINTR) {}
    return 0;
}

struct sweep_target {
    uid_t uid;
    int kill;
};

/* The helper of sweep_uid: system calls only (it shares the runner's memory). */
static int sweep_child(void *p) {
    const struct sweep_target *target = p;
    long id = (long)target->uid;
    long left = 1;
    if (syscall(SYS_setgroups, 0, NULL) == 0 && syscall(SYS_setgid, id) == 0 && syscall(SYS_setuid, id) == 0) {
        if (target->kill) (void)syscall(SYS_kill, -1L, (long)SIGKILL);
        left = uid_has_other_tasks();
    }
    syscall(SYS_exit, left);
    return 0;
}

/* One kill(-1, SIGKILL) as `uid`: 1 when something of that uid may be left (killed, not yet
   reaped, or it could not tell), 0 when there is nothing of that uid, -errno when it could not
   look. */
static int sweep_uid(uid_t uid, int kill_first) {
    struct sweep_target target = {uid, kill_first};
    pid_t pid = clone_vfork(sweep_child, &target, 64 * 1024);
    if (pid < 0) return -errno;
    int st = 0;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {}
    return WIFEXITED(st) && WEXITSTATUS(st) == 1 ? 1 : 0;
}

int rigor_uid_has_tasks(uid_t uid) {
    if (uid == 0 || getuid() != 0) return -EPERM;
    return sweep_uid(uid, 0);
}

int rigor_kill_uid(uid_t uid, int rounds) {
    if (uid == 0 || getuid() != 0) return rigor_count_uid(uid);
    if (sweep_uid(uid, 1) == 0) return 0;
    for (int round = 0; round < rounds; round++) {
        if (rigor_count_uid(uid) <= 0) return 0;
        (void)sweep_uid(uid, 1);
        usleep(200 + 1000 * round);
    }
    return rigor_count_uid(uid);
}

int rigor_set_subreaper(void) {
    return prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0 ? 0 : errno;
}

int rigor_reap_orphans(const pid_t *keep, int keep_count) {
    int reaped = 0;
    for (;;) {
        siginfo_t info;
        memset(&info, 0, sizeof info);
        if (waitid(P_ALL, 0, &info, WEXITED | WNOHANG | WNOWAIT) != 0 || info.si_pid == 0) break;
        int kept = 0;
        for (int i = 0; i < keep_count; i++) {
            if (keep[i] == info.si_pid) { kept = 1; break; }
        }
        if (kept) break; /* its owner will reap it; stop so we do not spin on it */
        int st;
        if (waitpid(info.si_pid, &st, WNOHANG) == info.si_pid) reaped++;
        else break;
    }
    return reaped;
}

struct server_args {
    const char *path;
    char *const *argv;
    char *const *envp;
    const rigor_limits *limits;
    int control_fd, events_fd, status_w;
};

/* A fork server's child, started with CLONE_VM | CLONE_VFORK like spawn_child: raw system calls
   only until exec. A fork() of the runner here cost ~8 ms of copy-on-write faults per server. */
static int server_child(void *p) {
    struct server_args *a = p;
    reset_signals();
    setpgid(0, 0);
    if (dup2(a->control_fd, 0) < 0 || dup2(a->events_fd, 1) < 0) fail_child(a->status_w);
    if (a->limits && apply_limits(a->limits) != 0) fail_child(a->status_w);
    cloexec_from_3();
    execve(a->path, a->argv, a->envp);
    fail_child(a->status_w);
    return 0;
}

int rigor_spawn_server(const char *path, char *const argv[], char *const envp[], int control_fd, int events_fd,
                       const rigor_limits *limits, pid_t *pid_out) {
    int status_pipe[2];
    if (pipe2(status_pipe, O_CLOEXEC) != 0) return errno;
    struct server_args args = {path, argv, envp, limits, control_fd, events_fd, status_pipe[1]};
    pid_t pid = clone_vfork(server_child, &args, 256 * 1024);
    int clone_errno = errno;
    if (pid < 0) {
        close(status_pipe[0]); close(status_pipe[1]);
        return clone_errno;
    }
    close(status_pipe[1]);
    int failed = await_exec(status_pipe[0], pid);
    if (failed) return failed;
    *pid_out = pid;
    return 0;
}

int rigor_send_fds(int sock, const void *buf, size_t len, const int *fds, int nfds) {
    struct msghdr msg;
    memset(&msg, 0, sizeof msg);
    struct iovec iov = {(void *)buf, len};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    char control[CMSG_SPACE(sizeof(int) * 8)];
    if (nfds > 8) return EINVAL;
    if (nfds > 0) {
        memset(control, 0, sizeof control);
        msg.msg_control = control;
        msg.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
        struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
        cm->cmsg_level = SOL_SOCKET;
        cm->cmsg_type = SCM_RIGHTS;
        cm->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
        memcpy(CMSG_DATA(cm), fds, sizeof(int) * nfds);
    }
    ssize_t n;
    do {
        n = sendmsg(sock, &msg, MSG_NOSIGNAL);
    } while (n < 0 && errno == EINTR);
    return n < 0 ? errno : 0;
}

int rigor_pipe(int fds[2]) { return pipe2(fds, O_CLOEXEC) == 0 ? 0 : errno; }

int rigor_socketpair(int fds[2]) {
    return socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds) == 0 ? 0 : errno;
}

#include <sys/vfs.h>

int rigor_is_tmpfs(const char *path) {
    struct statfs fs;
    if (statfs(path, &fs) != 0) return 0;
    return fs.f_type == 0x01021994; /* TMPFS_MAGIC */
}

int rigor_syncfs(const char *path) {
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return errno;
    int rc = syncfs(fd) == 0 ? 0 : errno;
    close(fd);
    return rc;
}

#include <poll.h>

pid_t rigor_wait_timeout(pid_t pid, int *status, int timeout_ms) {
    pid_t r = rigor_wait(pid, status, 1);
    if (r != 0 || timeout_ms <= 0) return r;
#ifdef SYS_pidfd_open
    int fd = (int)syscall(SYS_pidfd_open, pid, 0);
    if (fd >= 0) {
        /* Readable once the process has exited: no polling interval, no missed wake-up. */
        struct pollfd p = {fd, POLLIN, 0};
        int n;
        do {
            n = poll(&p, 1, timeout_ms);
        } while (n < 0 && errno == EINTR);
        close(fd);
        return rigor_wait(pid, status, 1);
    }
#endif
    /* Kernels without pidfds: look every 200 µs until the time is up. */
    for (int waited = 0; waited < timeout_ms * 5; waited++) {
        usleep(200);
        r = rigor_wait(pid, status, 1);
        if (r != 0) return r;
    }
    return 0;
}

/* ---- The agent side of a fork server (rigor-fork/1), for agents that serve their own ---- */

#include <sys/signalfd.h>

ssize_t rigor_recv_fds(int sock, void *buf, size_t len, int *fds, int max_fds, int *nfds) {
    struct msghdr msg;
    memset(&msg, 0, sizeof msg);
    struct iovec iov = {buf, len};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    char control[CMSG_SPACE(sizeof(int) * 8)];
    memset(control, 0, sizeof control);
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    *nfds = 0;
    ssize_t n;
    do {
        n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
    } while (n < 0 && errno == EINTR);
    if (n < 0) return -errno;
    for (struct cmsghdr *cm = CMSG_FIRSTHDR(&msg); cm; cm = CMSG_NXTHDR(&msg, cm)) {
        if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS) continue;
        int count = (int)((cm->cmsg_len - CMSG_LEN(0)) / sizeof(int));
        int *received = (int *)CMSG_DATA(cm);
        for (int i = 0; i < count; i++) {
            if (*nfds < max_fds) fds[(*nfds)++] = received[i];
            else close(received[i]);
        }
    }
    return n;
}

pid_t rigor_fork(void) { return fork(); }

int rigor_sigchld_fd(void) {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGCHLD);
    if (sigprocmask(SIG_BLOCK, &set, NULL) != 0) return -errno;
    int fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
    return fd < 0 ? -errno : fd;
}

void rigor_drain_fd(int fd) {
    char buf[1024];
    while (read(fd, buf, sizeof buf) > 0) {}
}

int rigor_zygote_child_setup(const int fds[3], const rigor_limits *l, const char *cwd) {
    setsid();
    for (int i = 0; i < 3; i++) {
        if (dup2(fds[i], i) < 0) return errno;
    }
    /* Nothing of the server's (its sockets, the signalfd, other episodes' descriptors) stays. */
#ifdef SYS_close_range
    if (syscall(SYS_close_range, 3U, ~0U, 0U) != 0)
#endif
        for (int fd = 3; fd < 65536; fd++) close(fd);
    if (l) {
        int failed = apply_limits(l);
        if (failed) return failed;
    }
    if (cwd && chdir(cwd) != 0) return errno;
    /* As an exec'd agent starts: default SIGCHLD, nothing blocked. */
    signal(SIGCHLD, SIG_DFL);
    signal(SIGPIPE, SIG_DFL);
    sigset_t empty;
    sigemptyset(&empty);
    sigprocmask(SIG_SETMASK, &empty, NULL);
    return 0;
}

int rigor_contains(const void *haystack, size_t length, const char *needle) {
    return memmem(haystack, length, needle, strlen(needle)) != NULL;
}

#include <sys/statvfs.h>

long long rigor_available_bytes(const char *path) {
    struct statvfs fs;
    if (statvfs(path, &fs) != 0) return -1;
    return (long long)fs.f_bavail * (long long)fs.f_frsize;
}

int rigor_task_cpus(pid_t tid, int *out, int max) {
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(tid, sizeof set, &set) != 0) return -errno;
    int n = 0;
    for (int cpu = 0; cpu < CPU_SETSIZE && n < max; cpu++) {
        if (CPU_ISSET(cpu, &set)) out[n++] = cpu;
    }
    return n;
}

int rigor_pin_thread(const int *cpus, int count) {
    cpu_set_t set;
    CPU_ZERO(&set);
    for (int i = 0; i < count; i++) {
        if (cpus[i] >= 0 && cpus[i] < CPU_SETSIZE) CPU_SET(cpus[i], &set);
    }
    if (CPU_COUNT(&set) == 0) return EINVAL;
    return sched_setaffinity(0, sizeof set, &set) == 0 ? 0 : errno;
}

int rigor_is_cgroup2(const char *path) {
    struct statfs fs;
    if (statfs(path, &fs) != 0) return 0;
    return fs.f_type == 0x63677270; /* CGROUP2_SUPER_MAGIC */
}
