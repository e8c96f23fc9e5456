/* SPDX-License-Identifier: GPL-2.0 */
/* Kernel function names for a batch of addresses (user/profile/kallsyms_iter.c runs it): a BPF
 * iterator over the kernel's symbol list, the same list and order /proc/kallsyms prints, keeping
 * per wanted address the symbol that contains it. Reading /proc/kallsyms formats ~120k lines in
 * the kernel and parses them again in user space; the iterator hands over only the few names
 * wanted, for well under half the CPU. Include it from one program file. */
#ifndef GLIMPSE_KSYMS_ITER_BPF_H
#define GLIMPSE_KSYMS_ITER_BPF_H

#include "ksyms_iter.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1); /* KSYMS_ITER_SLOTS when loaded to name kernel frames */
	__type(key, __u32);
	__type(value, struct ksyms_iter_slot);
} ksym_slots SEC(".maps");

/* log2(KSYMS_ITER_SLOTS) + 1 halvings find the first wanted address >= addr. */
#define KSYMS_ITER_SEARCH_STEPS 12

SEC("iter/ksym")
int name_ksyms(struct bpf_iter__ksym *ctx)
{
	struct kallsym_iter *it = ctx->ksym;
	__u32 zero = 0;
	if (!it)
		return 0;
	struct ksyms_iter_slot *head = bpf_map_lookup_elem(&ksym_slots, &zero);
	if (!head)
		return 0;
	if (!it->show_value) { /* as /proc/kallsyms would show it: every address 0 */
		head->hidden = 1;
		return 0;
	}
	char type = it->type;
	if (type != 't' && type != 'T' && type != 'w' && type != 'W')
		return 0;
	__u64 addr = it->value;
	__u32 lo = 0, hi = head->nwanted;
	if (hi > KSYMS_ITER_SLOTS)
		return 0;
	for (int i = 0; i < KSYMS_ITER_SEARCH_STEPS && lo < hi; i++) {
		__u32 mid = lo + (hi - lo) / 2;
		struct ksyms_iter_slot *m = bpf_map_lookup_elem(&ksym_slots, &mid);
		if (!m)
			return 0;
		if (m->wanted < addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo >= head->nwanted)
		return 0;
	struct ksyms_iter_slot *s = bpf_map_lookup_elem(&ksym_slots, &lo);
	if (!s || (s->set && s->addr >= addr))
		return 0;
	s->addr = addr;
	s->set = 1;
	/* A pick this far below its address names nothing (nor any address above it): its name is
	 * not copied. In the kernel's own list, sorted by address, most symbols are such picks
	 * for a moment. */
	s->name[0] = s->module[0] = '\0';
	if (s->wanted - addr >= KSYMS_ITER_MAX_DISTANCE)
		return 0;
	bpf_probe_read_kernel_str(s->name, sizeof(s->name), it->name);
	if (it->module_name[0])
		bpf_probe_read_kernel_str(s->module, sizeof(s->module), it->module_name);
	return 0;
}

#endif
