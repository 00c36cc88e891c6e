"""The sandbox's syscall filter: a classic-BPF seccomp program, built here, that bubblewrap loads (``--seccomp``).

It refuses (EPERM) syscalls a snippet never needs that would escape the limits or widen the kernel surface:
System V IPC (shared memory outlives its processes and no rlimit counts it), new namespaces (``unshare``,
``setns``, ``clone`` with namespace flags; ``clone3`` gets ENOSYS so the C library falls back to ``clone``), mounts,
``ptrace``, keyrings, ``bpf``, ``perf_event_open``, ``userfaultfd``, ``io_uring``, modules, kexec, reboot and
swap. Another architecture's syscalls (x32, i386 on x86_64) kill the process.
"""

from __future__ import annotations

import errno
import platform
import struct

DENIED = (
    "shmget", "shmat", "shmctl", "shmdt", "msgget", "msgsnd", "msgrcv", "msgctl", "semget", "semop", "semctl",
    "semtimedop", "unshare", "setns", "mount", "umount2", "pivot_root", "chroot", "ptrace", "syslog", "acct",
    "swapon", "swapoff", "reboot", "init_module", "finit_module", "delete_module", "kexec_load", "kexec_file_load",
    "quotactl", "vhangup", "keyctl", "add_key", "request_key", "bpf", "perf_event_open", "userfaultfd",
    "io_uring_setup", "io_uring_enter", "io_uring_register", "open_tree", "move_mount", "fsopen", "fsconfig",
    "fsmount", "fspick", "mount_setattr", "open_by_handle_at", "name_to_handle_at",
)
# Syscall numbers from <asm/unistd_64.h> (x86_64) and <asm-generic/unistd.h> (aarch64), in the order of DENIED.
_X86_64 = (29, 30, 31, 67, 68, 69, 70, 71, 64, 65, 66, 220, 272, 308, 165, 166, 155, 161, 101, 103, 163, 167, 168,
           169, 175, 313, 176, 246, 320, 179, 153, 250, 248, 249, 321, 298, 323, 425, 426, 427, 428, 429, 430, 431,
           432, 433, 442, 304, 303)
_AARCH64 = (194, 196, 195, 197, 186, 189, 188, 187, 190, 193, 191, 192, 97, 268, 40, 39, 41, 51, 117, 116, 89, 224,
            225, 142, 105, 273, 106, 104, 294, 60, 58, 219, 217, 218, 280, 241, 282, 425, 426, 427, 428, 429, 430, 431,
            432, 433, 442, 265, 264)
# machine -> (AUDIT_ARCH_*, numbers of DENIED, clone, clone3, first number of a foreign ABI or None)
ARCHITECTURES = {
    "x86_64": (0xC000003E, _X86_64, 56, 435, 0x40000000),
    "aarch64": (0xC00000B7, _AARCH64, 220, 435, None),
}
NAMESPACE_FLAGS = 0x7E020000  # CLONE_NEWNS | NEWCGROUP | NEWUTS | NEWIPC | NEWUSER | NEWPID | NEWNET

_LD_ABS_W, _JEQ, _JGE, _JSET, _RET = 0x20, 0x15, 0x35, 0x45, 0x06
_ALLOW, _KILL_PROCESS, _ERRNO = 0x7FFF0000, 0x80000000, 0x00050000
_NR, _ARCH, _ARG0 = 0, 4, 16  # offsets in struct seccomp_data (little-endian: ARG0 is the low half of args[0])


def _insn(code: int, k: int, jt: int = 0, jf: int = 0) -> bytes:
    return struct.pack("=HBBI", code, jt, jf, k)


def filter_program(machine: str | None = None) -> bytes | None:
    """The filter for ``machine`` (default: this one) as ``struct sock_filter[]``, or None if it is not supported."""
    arch = ARCHITECTURES.get(machine or platform.machine())
    if arch is None:
        return None
    audit_arch, numbers, clone, clone3, foreign_abi = arch
    deny = _insn(_RET, _ERRNO | errno.EPERM)
    program = [_insn(_LD_ABS_W, _ARCH), _insn(_JEQ, audit_arch, 1, 0), _insn(_RET, _KILL_PROCESS),
               _insn(_LD_ABS_W, _NR)]
    if foreign_abi is not None:
        program += [_insn(_JGE, foreign_abi, 0, 1), _insn(_RET, _KILL_PROCESS)]
    for number in numbers:
        program += [_insn(_JEQ, number, 0, 1), deny]
    program += [_insn(_JEQ, clone3, 0, 1), _insn(_RET, _ERRNO | errno.ENOSYS)]
    program += [_insn(_JEQ, clone, 0, 3), _insn(_LD_ABS_W, _ARG0), _insn(_JSET, NAMESPACE_FLAGS, 0, 1), deny,
                _insn(_RET, _ALLOW)]
    return b"".join(program)
