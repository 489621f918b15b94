/* CPUID policy: what the guest is told about its processor.
 *
 * Built from what the accelerator supports, then narrowed by a profile:
 *   "host"          everything the accelerator can virtualize;
 *   "conservative"  a baseline most x86-64 CPUs of the last decade have
 *                   (roughly x86-64-v2 plus AVX/AVX2), for guests that must
 *                   not depend on the host. */
#ifndef HOSTEL_CPUID_H
#define HOSTEL_CPUID_H

#include <stddef.h>

#include "hv.h"

int cpuid_build_policy(const struct hv_ops *hv, struct hv_vm *vm, const char *profile,
                       struct hv_cpuid *out, char *err, size_t errlen);

/* Apply the profile's masks to a supported set (exposed for tests). */
int cpuid_apply_profile(struct hv_cpuid *c, const char *profile, char *err, size_t errlen);

/* Per-vCPU fix-ups: APIC IDs in leaves 1, 0xB and 0x1F, logical processor
 * counts, the hypervisor bit. */
void cpuid_fixup_for_vcpu(struct hv_cpuid *c, unsigned index, unsigned ncpus);

/* Find an entry (index ignored unless the entry says it is significant). */
struct hv_cpuid_entry *cpuid_find(struct hv_cpuid *c, uint32_t function, uint32_t index);

#endif
