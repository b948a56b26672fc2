// Compiled with _GNU_SOURCE (see Package.swift), which exposes the GNU and Linux extensions.
#include "CSwarmShims.h"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <unistd.h>

int swarm_rename_noreplace(const char *from, const char *to) {
    return renameat2(AT_FDCWD, from, AT_FDCWD, to, RENAME_NOREPLACE);
}

/* <linux/fs.h> clashes with glibc's headers; these are its values (the flags are an int,
   whatever the ioctl numbers say) */
#define SWARM_FS_IOC_GETFLAGS _IOR('f', 1, long)
#define SWARM_FS_IOC_SETFLAGS _IOW('f', 2, long)
#define SWARM_FS_TOPDIR_FL 0x00020000

int swarm_mark_topdir(int fd) {
    int flags = 0;
    if (ioctl(fd, SWARM_FS_IOC_GETFLAGS, &flags) != 0) {
        return -1;
    }
    if (flags & SWARM_FS_TOPDIR_FL) {
        return 0;
    }
    flags |= SWARM_FS_TOPDIR_FL;
    return ioctl(fd, SWARM_FS_IOC_SETFLAGS, &flags);
}

int swarm_punch_hole(int fd, int64_t offset, int64_t length) {
    return fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)offset, (off_t)length);
}

int64_t swarm_seek_data(int fd, int64_t offset) {
    return (int64_t)lseek(fd, (off_t)offset, SEEK_DATA);
}

int64_t swarm_seek_hole(int fd, int64_t offset) {
    return (int64_t)lseek(fd, (off_t)offset, SEEK_HOLE);
}

int swarm_pidfd_open(pid_t pid) {
    return (int)syscall(SYS_pidfd_open, pid, 0);
}

int swarm_eventfd(void) {
    return eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
}

int swarm_pipe_cloexec(int fds[2]) {
    return pipe2(fds, O_CLOEXEC);
}

int swarm_signalfd(const sigset_t *set) {
    return signalfd(-1, set, SFD_NONBLOCK | SFD_CLOEXEC);
}

size_t swarm_signalfd_record_size(void) {
    return sizeof(struct signalfd_siginfo);
}

uint32_t swarm_signalfd_record_signal(const void *record) {
    struct signalfd_siginfo info;
    memcpy(&info, record, sizeof info);
    return info.ssi_signo;
}

void swarm_sigset_every_catchable(sigset_t *set) {
    memset(set, 0xff, sizeof *set);
    sigdelset(set, SIGKILL);
    sigdelset(set, SIGSTOP);
}

int swarm_signal_ignore(int sig) {
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = SIG_IGN;
    sigemptyset(&action.sa_mask);
    return sigaction(sig, &action, NULL);
}

const char *swarm_signal_abbreviation(int sig) {
    return sigabbrev_np(sig);
}

const char *swarm_errno_description(int code) {
    return strerrordesc_np(code);
}

const char *swarm_errno_name(int code) {
    return strerrorname_np(code);
}

short swarm_spawn_setsid_flag(void) {
    return POSIX_SPAWN_SETSID;
}

int swarm_spawn_add_chdir(posix_spawn_file_actions_t *actions, const char *path) {
    return posix_spawn_file_actions_addchdir_np(actions, path);
}

int swarm_spawn_add_closefrom(posix_spawn_file_actions_t *actions, int lowest) {
    return posix_spawn_file_actions_addclosefrom_np(actions, lowest);
}

char **swarm_environ(void) {
    return environ;
}

int swarm_window_size(int fd, unsigned short *rows, unsigned short *columns) {
    struct winsize size;
    if (ioctl(fd, TIOCGWINSZ, &size) != 0) {
        return -1;
    }
    *rows = size.ws_row;
    *columns = size.ws_col;
    return 0;
}
