// Thin wrappers over glibc and Linux interfaces that Swift's Glibc module cannot reach:
// those declared only under _GNU_SOURCE, variadic ones (ioctl), and macros that hide a cast
// (SIG_IGN). Each returns what the underlying call returns; errors are left in errno.
// The Linux headers that Swift's Glibc module leaves out (epoll, inotify, flock) are
// included here so that SwarmSystem can call them directly.
#ifndef CSWARMSHIMS_H
#define CSWARMSHIMS_H

#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/file.h>
#include <sys/inotify.h>
#include <sys/types.h>

#include "CSwarmLandlock.h"

/// renameat2(2) with RENAME_NOREPLACE relative to the current directory.
int swarm_rename_noreplace(const char *from, const char *to);

/// Sets the "top of directory hierarchies" flag (FS_TOPDIR_FL, `chattr +T`) on the
/// directory open as `fd`, if it is not set yet: ext4's Orlov allocator then spreads the
/// directory's subdirectories, and the files in them, over block groups as it does for
/// top-level directories. Returns 0, or -1 with errno (ENOTTY or EOPNOTSUPP where the file
/// system has no such flag, EPERM for a directory owned by someone else).
int swarm_mark_topdir(int fd);

/// fallocate(2) with FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE: frees the blocks of
/// `length` bytes from `offset` in the file open for writing as `fd`; the range then reads
/// as zeros and the file keeps its size. Returns 0, or -1 with errno (EOPNOTSUPP where the
/// file system cannot punch holes).
int swarm_punch_hole(int fd, int64_t offset, int64_t length);

/// lseek(2) with SEEK_DATA: the first offset at or after `offset` that holds data, or -1
/// with errno (ENXIO when only a hole follows, or `offset` is at or past the end).
int64_t swarm_seek_data(int fd, int64_t offset);

/// lseek(2) with SEEK_HOLE: the first offset at or after `offset` in a hole; the end of
/// the file counts as one. -1 with errno (ENXIO when `offset` is at or past the end).
int64_t swarm_seek_hole(int fd, int64_t offset);

/// pidfd_open(2) with no flags; the descriptor is always close-on-exec.
int swarm_pidfd_open(pid_t pid);

/// pipe2(2) with O_CLOEXEC: both ends close-on-exec from the start.
int swarm_pipe_cloexec(int fds[2]);

/// eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK): a counter any thread can make readable.
int swarm_eventfd(void);


/// signalfd(2) for a new descriptor (SFD_NONBLOCK | SFD_CLOEXEC) over `set`.
int swarm_signalfd(const sigset_t *set);

/// The size of one struct signalfd_siginfo record, and the signal number stored in one.
size_t swarm_signalfd_record_size(void);
uint32_t swarm_signalfd_record_signal(const void *record);

/// Fills `set` with every signal except SIGKILL and SIGSTOP, including the two that
/// glibc reserves for itself (32 and 33), which sigaddset(3) and sigfillset(3) refuse.
void swarm_sigset_every_catchable(sigset_t *set);

/// Sets the disposition of `sig` to SIG_IGN.
int swarm_signal_ignore(int sig);

/// sigabbrev_np(3): "TERM" for SIGTERM; NULL when unknown.
const char *swarm_signal_abbreviation(int sig);

/// strerrordesc_np(3) and strerrorname_np(3): thread-safe text and symbol of an errno value.
const char *swarm_errno_description(int code);
const char *swarm_errno_name(int code);

/// The POSIX_SPAWN_SETSID flag.
short swarm_spawn_setsid_flag(void);

/// posix_spawn_file_actions_addchdir_np(3).
int swarm_spawn_add_chdir(posix_spawn_file_actions_t *actions, const char *path);

/// posix_spawn_file_actions_addclosefrom_np(3).
int swarm_spawn_add_closefrom(posix_spawn_file_actions_t *actions, int lowest);

/// The process environment (`environ`).
char **swarm_environ(void);

/// ioctl(TIOCGWINSZ): the window size of the terminal on `fd`.
int swarm_window_size(int fd, unsigned short *rows, unsigned short *columns);

#endif
