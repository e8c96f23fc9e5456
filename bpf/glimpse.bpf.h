/* Helpers shared by every glimpse BPF program. vmlinux.h carries types, not macros,
 * so the errno values BPF helpers return are defined here. */
#ifndef GLIMPSE_BPF_H
#define GLIMPSE_BPF_H

#ifndef EFAULT
#define EFAULT 14
#endif
#ifndef EEXIST
#define EEXIST 17
#endif
#ifndef ENOMEM
#define ENOMEM 12
#endif

#endif
