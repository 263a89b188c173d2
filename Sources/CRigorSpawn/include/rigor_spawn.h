#ifndef RIGOR_SPAWN_H
#define RIGOR_SPAWN_H

#include <sys/types.h>

/// Resource limits applied in the child before exec. 0 means "leave as inherited".
typedef struct {
    long long cpu_seconds;
    long long address_space_bytes;
    long long file_size_bytes;
    long long open_files;
    long long processes;
    /// When > 0 (and the caller is root): the child drops to this uid and gid before exec, so
    /// the process limit counts only this agent's processes and every process it ever starts
    /// can be found and killed by uid.
    long long run_as_uid;
    /// Descriptors of `cgroup.procs` files (opened by the parent) the child writes "0" to before
    /// anything else of the set-up, so that it and everything it starts are in the episode's
    /// cgroup before any agent code runs. `cgroup_fd_count` of them (0: none).
    int cgroup_fd_count;
    int cgroup_fds[2];
    /// When set (and the caller is root, `run_as_uid` 0): the child stays root but gains no
    /// privileges through exec and gets the keyring filter, for a jailer (bwrap run as root)
    /// that drops to the agent's uid itself inside the sandbox it makes.
    int lock_down_as_root;
    /// Descriptors the child keeps, at 3, 4, ... in this order (inheritable across exec): the
    /// ends of pipes a sandbox reports on and waits for (`bwrap --info-fd 3 --block-fd 4`).
    /// `pass_fd_count` of them (0: none; at most 2).
    int pass_fd_count;
    int pass_fds[2];
} rigor_limits;

/// A started child: its pid (also its process-group id) and the parent's ends of its pipes.
typedef struct {
    pid_t pid;
    int stdin_fd;
    int stdout_fd;
    int stderr_fd;
} rigor_child;

/// Starts `path` with exactly `argv` and `envp`, in `cwd`, in a new session and process group, with the
/// limits applied and every other descriptor closed. Returns 0, or the errno that made it fail
/// (including errors of chdir/exec in the child, reported back through a close-on-exec pipe).
int rigor_spawn(const char *path, char *const argv[], char *const envp[], const char *cwd,
                const rigor_limits *limits, rigor_child *out);

/// waitpid wrapper: returns the pid, 0 if still running (nohang), -1 on error.
pid_t rigor_wait(pid_t pid, int *status, int nohang);
int rigor_exited(int status);
int rigor_exit_code(int status);
int rigor_signaled(int status);
int rigor_term_signal(int status);

/// Sends `sig` to every process of the group; returns 0 or errno.
int rigor_kill_group(pid_t pgid, int sig);

/// Kills every process running as `uid`: a short-lived helper (sharing the caller's memory,
/// like vfork) takes that uid and calls kill(-1, SIGKILL), which reaches every process of it
/// whatever they did to the pid counter. The helper then asks the kernel whether the uid has
/// any task left (rigor_uid_has_tasks). When it has none, that is all (no /proc scan);
/// otherwise it repeats, scanning /proc, until none is alive or `rounds` are spent, so that the
/// caller can reap its orphans among them. Returns how many remain (0 on success).
int rigor_kill_uid(uid_t uid, int rounds);

/// Counts the live (non-zombie) processes whose owner (effective uid) is `uid`, by scanning /proc.
int rigor_count_uid(uid_t uid);

/// As root, for a uid other than 0: 1 when the uid has any task (alive, or dead and not reaped
/// yet), 0 when it has none, -errno when it cannot tell (not root: -EPERM). Asked of the
/// kernel's per-uid task count (RLIMIT_NPROC) instead of reading /proc; kill(-1) cannot tell,
/// since it succeeds whenever any process exists, even when all refused the signal.
int rigor_uid_has_tasks(uid_t uid);

/// Makes this process a child subreaper: orphans of its agents are re-parented to it.
int rigor_set_subreaper(void);

/// Reaps exited children that are not in `keep` (agent leaders other code still waits for).
/// Returns how many were reaped.
int rigor_reap_orphans(const pid_t *keep, int keep_count);

/// Starts a fork server: `control_fd` becomes its fd 0 and `events_fd` its fd 1 (stderr is
/// inherited), all other descriptors closed, in its own process group; with `limits` (may be
/// NULL), under those rlimits and, when `run_as_uid` is set, as that uid. Returns 0 or errno.
int rigor_spawn_server(const char *path, char *const argv[], char *const envp[], int control_fd, int events_fd,
                       const rigor_limits *limits, pid_t *pid_out);

/// Sends `len` bytes with `nfds` descriptors attached (SCM_RIGHTS). Returns 0 or errno.
int rigor_send_fds(int sock, const void *buf, size_t len, const int *fds, int nfds);

/// Makes a close-on-exec pipe; returns 0 or errno.
int rigor_pipe(int fds[2]);

/// A close-on-exec SOCK_SEQPACKET socket pair; returns 0 or errno.
int rigor_socketpair(int fds[2]);

/* 1 when `path` is on a tmpfs (memory) file system, else 0. */
int rigor_is_tmpfs(const char *path);

/* 1 when `path` is a cgroup v2 file system, else 0. */
int rigor_is_cgroup2(const char *path);

/* Flushes the file system holding `path` (a directory) to disk: 0, or an errno. */
int rigor_syncfs(const char *path);


/* Waits up to `timeout_ms` for the child `pid` to exit and reaps it: its pid once reaped (status
   filled), 0 when it is still running, -1 on error. Sleeps on a pidfd where the kernel has them. */
pid_t rigor_wait_timeout(pid_t pid, int *status, int timeout_ms);


/* ---- For agents that are their own fork server (rigor-fork/1, spec/agent-protocol.md) ---- */

/* Receives one message and up to `max_fds` descriptors (close-on-exec; extra ones are closed).
   Returns the message's length (0: the peer is gone) or -errno; `*nfds` says how many fds came. */
ssize_t rigor_recv_fds(int sock, void *buf, size_t len, int *fds, int max_fds, int *nfds);

/* fork(2), for a single-threaded fork server. */
pid_t rigor_fork(void);

/* Blocks SIGCHLD and returns a non-blocking signalfd that becomes readable when a child ends
   (or -errno). */
int rigor_sigchld_fd(void);

/* Reads whatever is pending on a non-blocking descriptor and drops it. */
void rigor_drain_fd(int fd);

/* In a fork server's freshly forked child: the set-up rigor_spawn gives an exec'd agent — own
   session, fds[0..2] as stdin/stdout/stderr and nothing else open, the limits, the uid, the
   working directory, default signals. Returns 0 or an errno. */
int rigor_zygote_child_setup(const int fds[3], const rigor_limits *limits, const char *cwd);

/* 1 when the `length` bytes at `haystack` contain the C string `needle`. */
int rigor_contains(const void *haystack, size_t length, const char *needle);

/* Bytes available to unprivileged users on the file system holding `path` (-1 if unknown). */
long long rigor_available_bytes(const char *path);


/* A listening TCP socket on 127.0.0.1:port (0: any free port) inside the network namespace of
 * process `pid` (agent endpoints: reachable from an agent with --unshare-net, and from nothing
 * else); the port bound in *bound_port. -1 with errno on failure. */
int rigor_listen_in_netns(pid_t pid, int port, int *bound_port);

/* The same inside the sandbox of process `pid` (bwrap's child as --info-fd reports it, which
 * may still be bringing its loopback up: EADDRNOTAVAIL is retried for up to `wait_ms`). Root
 * joins the network namespace from a short-lived thread; any other user first joins the
 * sandbox's user namespace (it owns it), which needs a forked helper: a process with threads
 * cannot change user namespace. */
int rigor_listen_in_sandbox(pid_t pid, int port, int wait_ms, int *bound_port);

/* The same in the caller's own network namespace (agents that share the runner's network). */
int rigor_listen_loopback(int port, int *bound_port);
#endif

/* The CPUs task `tid` may run on (0: the calling thread; the process id: its main thread), in
   increasing order: writes up to `max` of them to `out` and returns how many, or -errno. */
int rigor_task_cpus(pid_t tid, int *out, int max);

/* Restricts the calling thread (in a just-forked child: the process) to the `count` CPUs in
   `cpus`. 0, or an errno (EINVAL when none of them exists or may be used). */
int rigor_pin_thread(const int *cpus, int count);
