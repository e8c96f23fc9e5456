/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
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

/* Go's register ABI (Go >= 1.17): the current goroutine's g and the integer arguments.
 * A uprobe's context is the user register set, whose layout is user-space ABI (the one
 * ptrace(2) exposes), not a kernel-internal struct: it is read through that fixed layout
 * rather than CO-RE, which spares user space from loading the kernel's 6 MB BTF just for it. */
#if defined(__TARGET_ARCH_x86)
struct user_regs_abi {
	unsigned long r15, r14, r13, r12, bp, bx, r11, r10, r9, r8, ax, cx, dx, si, di;
	unsigned long orig_ax, ip, cs, flags, sp, ss;
};
#define GO_REGS(ctx) ((const struct user_regs_abi *)(ctx))
#define GO_G(ctx)    (GO_REGS(ctx)->r14)
#define GO_ARG1(ctx) (GO_REGS(ctx)->ax)
#define GO_ARG2(ctx) (GO_REGS(ctx)->bx)
#define GO_ARG3(ctx) (GO_REGS(ctx)->cx)
#define GO_ARG4(ctx) (GO_REGS(ctx)->di)
#define GO_ARG5(ctx) (GO_REGS(ctx)->si)
#define GO_ARG6(ctx) (GO_REGS(ctx)->r8)
#define GO_ARG7(ctx) (GO_REGS(ctx)->r9)
#define GO_ARG8(ctx) (GO_REGS(ctx)->r10)
#define GO_ARG9(ctx) (GO_REGS(ctx)->r11)
/* At a `CALL RDX`: the code called (a function value's or an interface method's). */
#define GO_CALL_TARGET(ctx) (GO_REGS(ctx)->dx)
#elif defined(__TARGET_ARCH_arm64)
struct user_regs_abi {
	unsigned long regs[31], sp, pc, pstate;
};
#define GO_REGS(ctx)	    ((const struct user_regs_abi *)(ctx))
#define GO_G(ctx)	    (GO_REGS(ctx)->regs[28])
#define GO_ARG1(ctx)	    (GO_REGS(ctx)->regs[0])
#define GO_ARG2(ctx)	    (GO_REGS(ctx)->regs[1])
#define GO_ARG3(ctx)	    (GO_REGS(ctx)->regs[2])
#define GO_ARG4(ctx)	    (GO_REGS(ctx)->regs[3])
#define GO_ARG5(ctx)	    (GO_REGS(ctx)->regs[4])
#define GO_ARG6(ctx)	    (GO_REGS(ctx)->regs[5])
#define GO_ARG7(ctx)	    (GO_REGS(ctx)->regs[6])
#define GO_ARG8(ctx)	    (GO_REGS(ctx)->regs[7])
#define GO_ARG9(ctx)	    (GO_REGS(ctx)->regs[8])
#define GO_CALL_TARGET(ctx) (GO_REGS(ctx)->regs[26])
#endif

#endif
