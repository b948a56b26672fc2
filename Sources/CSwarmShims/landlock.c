// Compiled with _GNU_SOURCE (see Package.swift). See CSwarmLandlock.h.
#include "CSwarmLandlock.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef SYS_landlock_create_ruleset
#define SYS_landlock_create_ruleset 444
#endif
#ifndef SYS_landlock_add_rule
#define SYS_landlock_add_rule 445
#endif
#ifndef SYS_landlock_restrict_self
#define SYS_landlock_restrict_self 446
#endif
#ifndef SYS_close_range
#define SYS_close_range 436
#endif

#define SWARM_LANDLOCK_CREATE_RULESET_VERSION (1U << 0)
#define SWARM_LANDLOCK_RULE_PATH_BENEATH 1
#define SWARM_LANDLOCK_RULE_NET_PORT 2
#define SWARM_CLOSE_RANGE_CLOEXEC (1U << 2)

int swarm_landlock_abi(void) {
    return (int)syscall(SYS_landlock_create_ruleset, NULL, 0, SWARM_LANDLOCK_CREATE_RULESET_VERSION);
}

int swarm_landlock_create_ruleset(uint64_t handled_access_fs, uint64_t handled_access_net, uint64_t scoped) {
    struct swarm_landlock_ruleset_attr attr;
    memset(&attr, 0, sizeof attr);
    attr.handled_access_fs = handled_access_fs;
    attr.handled_access_net = handled_access_net;
    attr.scoped = scoped;
    size_t size = sizeof attr.handled_access_fs;
    if (handled_access_net != 0) size += sizeof attr.handled_access_net;
    if (scoped != 0) size = sizeof attr;
    return (int)syscall(SYS_landlock_create_ruleset, &attr, size, 0U);
}

int swarm_landlock_add_port_rule(int ruleset_fd, uint64_t port, uint64_t allowed_access) {
    struct swarm_landlock_net_port_attr attr;
    memset(&attr, 0, sizeof attr);
    attr.allowed_access = allowed_access;
    attr.port = port;
    return (int)syscall(SYS_landlock_add_rule, ruleset_fd, SWARM_LANDLOCK_RULE_NET_PORT, &attr, 0U);
}

int swarm_landlock_add_path_rule(int ruleset_fd, int parent_fd, uint64_t allowed_access) {
    struct swarm_landlock_path_beneath_attr attr;
    memset(&attr, 0, sizeof attr);
    attr.allowed_access = allowed_access;
    attr.parent_fd = parent_fd;
    return (int)syscall(SYS_landlock_add_rule, ruleset_fd, SWARM_LANDLOCK_RULE_PATH_BENEATH, &attr, 0U);
}

int swarm_open_path(const char *path) {
    return open(path, O_PATH | O_CLOEXEC);
}

int swarm_landlock_restrict_self(int ruleset_fd) {
    return (int)syscall(SYS_landlock_restrict_self, ruleset_fd, 0U);
}

int swarm_set_no_new_privs(void) {
    return prctl(PR_SET_NO_NEW_PRIVS, 1UL, 0UL, 0UL, 0UL);
}

int swarm_get_no_new_privs(void) {
    return prctl(PR_GET_NO_NEW_PRIVS, 0UL, 0UL, 0UL, 0UL);
}

int swarm_cloexec_range(unsigned int first, unsigned int last) {
    if (first > last) {
        return 0;
    }
    if (syscall(SYS_close_range, first, last, SWARM_CLOSE_RANGE_CLOEXEC) == 0) {
        return 0;
    }
    if (errno != ENOSYS && errno != EINVAL) {
        return -1;
    }
    DIR *directory = opendir("/proc/self/fd");
    if (directory == NULL) {
        return -1;
    }
    int own = dirfd(directory);
    struct dirent *entry;
    while ((entry = readdir(directory)) != NULL) {
        char *end = NULL;
        long fd = strtol(entry->d_name, &end, 10);
        if (end == entry->d_name || *end != '\0' || fd == own) {
            continue;
        }
        if ((unsigned long)fd < first || (unsigned long)fd > last) {
            continue;
        }
        int flags = fcntl((int)fd, F_GETFD);
        if (flags >= 0) {
            fcntl((int)fd, F_SETFD, flags | FD_CLOEXEC);
        }
    }
    closedir(directory);
    return 0;
}

int swarm_clear_cloexec(int fd) {
    int flags = fcntl(fd, F_GETFD);
    if (flags < 0) {
        return -1;
    }
    return fcntl(fd, F_SETFD, flags & ~FD_CLOEXEC);
}

int swarm_reset_signals_for_exec(void) {
    for (int sig = 1; sig < NSIG; sig++) {
        if (sig == SIGKILL || sig == SIGSTOP) {
            continue;
        }
        struct sigaction current;
        if (sigaction(sig, NULL, &current) != 0) {
            continue;
        }
        if (!(current.sa_flags & SA_SIGINFO) && current.sa_handler == SIG_IGN) {
            struct sigaction standard;
            memset(&standard, 0, sizeof standard);
            standard.sa_handler = SIG_DFL;
            sigemptyset(&standard.sa_mask);
            sigaction(sig, &standard, NULL);
        }
    }
    sigset_t empty;
    sigemptyset(&empty);
    return sigprocmask(SIG_SETMASK, &empty, NULL);
}

int swarm_spawn_agent(const char *path, char *const argv[], char *const envp[], const char *cwd,
                      const char *stdin_path, const char *stdout_path, const char *stderr_path,
                      const char *lock_path, int ruleset_fd, int *failure) {
    /* the child reports why it could not run the command here: vfork shares this memory
       until the child executes or exits */
    volatile int *report = failure;
    report[0] = 0;
    report[1] = 0;
    /* vfork: the child borrows the parent's memory (no page tables to copy) while the
       parent's calling thread waits for its execve or _exit; it only makes system calls
       and writes its own stack and `report` until then */
    pid_t pid = vfork();
    if (pid < 0) return -1;
    if (pid > 0) {
        if (report[0] == 0) return pid;
        /* the child exited without running the command: collect it, return its reason */
        int status;
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
        errno = report[0];
        return -1;
    }
    /* the child: async-signal-safe calls only */
#define FAIL(stage) do { report[1] = (stage); report[0] = errno ? errno : EIO; _exit(125); } while (0)
    if (setsid() < 0) FAIL(SWARM_SPAWN_SETUP);
    /* the folder's lock is opened and taken here, by the child alone: no other process
       (a sibling started at the same moment by another thread) ever holds a copy */
    int lock = open(lock_path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
    if (lock < 0) FAIL(SWARM_SPAWN_LOCK);
    if (flock(lock, LOCK_EX | LOCK_NB) != 0) FAIL(SWARM_SPAWN_LOCK);
    /* park the descriptors we keep above the range we are about to fill */
    int parked = fcntl(lock, F_DUPFD, 100);
    int rules = ruleset_fd >= 0 ? fcntl(ruleset_fd, F_DUPFD, 101) : -1;
    if (parked < 0 || (ruleset_fd >= 0 && rules < 0)) FAIL(SWARM_SPAWN_SETUP);
    int in = open(stdin_path, O_RDONLY);
    int out = open(stdout_path, O_WRONLY | O_CREAT | O_APPEND, 0644);
    int err = open(stderr_path, O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (in < 0 || out < 0 || err < 0) FAIL(SWARM_SPAWN_SETUP);
    if (dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(err, 2) < 0 || dup2(parked, 3) < 0) {
        FAIL(SWARM_SPAWN_SETUP);
    }
    if (rules >= 0 && dup2(rules, 4) < 0) FAIL(SWARM_SPAWN_SETUP);
    unsigned int first_closed = rules >= 0 ? 5U : 4U;
    if (syscall(SYS_close_range, first_closed, ~0U, 0) != 0) {
        for (int fd = (int)first_closed; fd < 1024; fd++) close(fd);
    }
    if (cwd != NULL && chdir(cwd) != 0) FAIL(SWARM_SPAWN_DIRECTORY);
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = SIG_DFL;
    for (int sig = 1; sig < 65; sig++) {
        if (sig != SIGKILL && sig != SIGSTOP) sigaction(sig, &action, NULL);
    }
    if (rules >= 0) {
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) FAIL(SWARM_SPAWN_CONFINE);
        if (syscall(446, 4, 0U) != 0) FAIL(SWARM_SPAWN_CONFINE);
        close(4);
    }
    sigset_t empty;
    sigemptyset(&empty);
    sigprocmask(SIG_SETMASK, &empty, NULL);
    execve(path, argv, envp);
    report[1] = SWARM_SPAWN_EXEC;
    report[0] = errno ? errno : EIO;
    _exit(127);
#undef FAIL
}
