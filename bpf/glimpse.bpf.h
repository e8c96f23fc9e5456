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

/* Go's register ABI (Go >= 1.17): the current goroutine's g and the integer arguments. */
#if defined(__TARGET_ARCH_x86)
#define GO_G(ctx) ((ctx)->r14)
#define GO_ARG1(ctx) ((ctx)->ax)
#define GO_ARG2(ctx) ((ctx)->bx)
#define GO_ARG3(ctx) ((ctx)->cx)
#define GO_ARG4(ctx) ((ctx)->di)
#elif defined(__TARGET_ARCH_arm64)
#define GO_G(ctx) ((ctx)->regs[28])
#define GO_ARG1(ctx) ((ctx)->regs[0])
#define GO_ARG2(ctx) ((ctx)->regs[1])
#define GO_ARG3(ctx) ((ctx)->regs[2])
#define GO_ARG4(ctx) ((ctx)->regs[3])
#endif

#endif
