// Landlock (https://docs.kernel.org/userspace-api/landlock.html) and the process hygiene a
// confining exec wrapper needs. The structs are declared here rather than taken from
// <linux/landlock.h>, whose installed copy may predate the ABI the kernel offers; the
// kernel accepts a larger struct as long as the fields it does not know are zero.
// Each function returns what the system call returns; errors are left in errno.
#ifndef CSWARMLANDLOCK_H
#define CSWARMLANDLOCK_H

#include <stdint.h>

/// struct landlock_ruleset_attr as of ABI 6 (the fields of later ABIs are zero here).
struct swarm_landlock_ruleset_attr {
    uint64_t handled_access_fs;
    uint64_t handled_access_net;
    uint64_t scoped;
};

/// struct landlock_path_beneath_attr (packed, as the kernel declares it).
struct swarm_landlock_path_beneath_attr {
    uint64_t allowed_access;
    int32_t parent_fd;
} __attribute__((packed));

/// landlock_create_ruleset(NULL, 0, LANDLOCK_CREATE_RULESET_VERSION): the highest ABI
/// version the kernel offers (1, 2, ...), or -1 with errno ENOSYS (not built in) or
/// EOPNOTSUPP (disabled at boot).
int swarm_landlock_abi(void);

/// struct landlock_net_port_attr (ABI 4).
struct swarm_landlock_net_port_attr {
    uint64_t allowed_access;
    uint64_t port;
};

/// landlock_create_ruleset(2) handling `handled_access_fs`, `handled_access_net` (ABI 4) and
/// the `scoped` restrictions (ABI 6): a new ruleset descriptor (always close-on-exec), or -1.
/// The attribute is passed at the smallest size that holds the non-zero fields, so a kernel
/// older than ABI 4 accepts a ruleset that handles only the file system.
int swarm_landlock_create_ruleset(uint64_t handled_access_fs, uint64_t handled_access_net, uint64_t scoped);

/// landlock_add_rule(2) with LANDLOCK_RULE_NET_PORT: allows `allowed_access` (bind or
/// connect over TCP) for `port`.
int swarm_landlock_add_port_rule(int ruleset_fd, uint64_t port, uint64_t allowed_access);

/// landlock_add_rule(2) with LANDLOCK_RULE_PATH_BENEATH: allows `allowed_access` beneath the
/// file or directory open (O_PATH will do) on `parent_fd`.
int swarm_landlock_add_path_rule(int ruleset_fd, int parent_fd, uint64_t allowed_access);

/// open(path, O_PATH | O_CLOEXEC): a descriptor that names a file or directory without
/// opening it for reading or writing (what landlock_add_rule wants). O_PATH is GNU-only.
int swarm_open_path(const char *path);

/// landlock_restrict_self(2) with no flags: confines the calling thread, and every process
/// it later becomes or starts, to the ruleset. Needs no_new_privs (or CAP_SYS_ADMIN).
int swarm_landlock_restrict_self(int ruleset_fd);

/// prctl(PR_SET_NO_NEW_PRIVS, 1): execve can no longer grant privileges (setuid bits and
/// file capabilities are ignored), for this process and its descendants, for good.
int swarm_set_no_new_privs(void);

/// prctl(PR_GET_NO_NEW_PRIVS): 1 when set, 0 when not, -1 on error.
int swarm_get_no_new_privs(void);

/// Marks every open descriptor from `first` to `last` (inclusive) close-on-exec:
/// close_range(2) with CLOSE_RANGE_CLOEXEC, or, on kernels before 5.11, each descriptor
/// listed in /proc/self/fd.
int swarm_cloexec_range(unsigned int first, unsigned int last);

/// Clears FD_CLOEXEC on `fd`, so that it survives execve.
int swarm_clear_cloexec(int fd);

/// Before an execve that should look like a fresh start: every signal that is ignored
/// goes back to its default action (ignored dispositions survive execve), and the signal
/// mask is emptied.
int swarm_reset_signals_for_exec(void);

/// Why `swarm_spawn_agent`'s child could not run the command (`failure[1]`).
enum {
    /// The lock on the agent's folder: it cannot be opened, or another process holds it
    /// (`EWOULDBLOCK`).
    SWARM_SPAWN_LOCK = 1,
    /// A new session, the standard streams or the descriptors.
    SWARM_SPAWN_SETUP = 2,
    /// The working directory cannot be entered.
    SWARM_SPAWN_DIRECTORY = 3,
    /// no_new_privs or the Landlock ruleset cannot be applied.
    SWARM_SPAWN_CONFINE = 4,
    /// execve failed.
    SWARM_SPAWN_EXEC = 5,
};

/// Starts an agent's command: vfork(), then in the child only async-signal-safe calls: a new
/// session, the folder `lock_path` opened and locked (flock, without waiting) as descriptor 3,
/// stdin/stdout/stderr opened from the three paths (stdout and stderr appended, created 0644),
/// every other descriptor closed, `cwd`, default signal dispositions and an empty mask, and,
/// when `ruleset_fd` is not -1, no_new_privs and landlock_restrict_self(`ruleset_fd`); then
/// execve. Returns the child's pid. When the child cannot run the command it exits at once
/// and is collected; the call then returns -1 with errno set to the child's error and
/// `failure[1]` saying which step failed (`failure` holds two ints). -1 with `failure[0]`
/// zero means vfork itself failed (errno).
int swarm_spawn_agent(const char *path, char *const argv[], char *const envp[], const char *cwd,
                      const char *stdin_path, const char *stdout_path, const char *stderr_path,
                      const char *lock_path, int ruleset_fd, int *failure);

#endif
