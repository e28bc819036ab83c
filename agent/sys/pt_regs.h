/* SPDX-License-Identifier: GPL-2.0-only */
/* x86_64 DWARF register numbers to offsets in the kernel's struct pt_regs
 * (what a uprobe program sees), for probes on inlined code. */
#ifndef LOOPSCOPE_VMLINUX_REGS_H
#define LOOPSCOPE_VMLINUX_REGS_H

static inline int pt_regs_offset_of_dwarf_reg(int reg)
{
#if defined(__x86_64__)
	/* DWARF: rax rdx rcx rbx rsi rdi rbp rsp r8 ... r15 */
	static const int off[16] = { 80, 96, 88, 40, 104, 112, 32, 152,
				     72, 64, 56, 48, 24, 16, 8, 0 };

	return reg >= 0 && reg < 16 ? off[reg] : -1;
#else
	return -1;
#endif
}

#endif
