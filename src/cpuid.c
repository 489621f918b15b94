#include "cpuid.h"

#include <stdio.h>
#include <string.h>

struct hv_cpuid_entry *cpuid_find(struct hv_cpuid *c, uint32_t function, uint32_t index)
{
    for (unsigned i = 0; i < c->nent; i++) {
        struct hv_cpuid_entry *e = &c->entries[i];
        if (e->function == function &&
            (!(e->flags & HV_CPUID_FLAG_SIGNIFICANT_INDEX) || e->index == index))
            return e;
    }
    return NULL;
}

/* Leaf 1 ECX / EDX and leaf 7.0 EBX / ECX / EDX bits kept by the
 * conservative profile (Intel SDM vol. 2A, CPUID). */
#define L1_ECX_KEEP ((1u << 0) /* SSE3 */ | (1u << 1) /* PCLMULQDQ */ | (1u << 9) /* SSSE3 */ | \
                     (1u << 12) /* FMA */ | (1u << 13) /* CX16 */ | (1u << 19) /* SSE4.1 */ | \
                     (1u << 20) /* SSE4.2 */ | (1u << 21) /* x2APIC */ | (1u << 22) /* MOVBE */ | \
                     (1u << 23) /* POPCNT */ | (1u << 24) /* TSC-deadline */ | (1u << 25) /* AES */ | \
                     (1u << 26) /* XSAVE */ | (1u << 28) /* AVX */ | (1u << 29) /* F16C */ | \
                     (1u << 30) /* RDRAND */ | (1u << 31) /* hypervisor */)
#define L1_EDX_KEEP 0xffffffffu
#define L7_EBX_KEEP ((1u << 0) /* FSGSBASE */ | (1u << 3) /* BMI1 */ | (1u << 5) /* AVX2 */ | \
                     (1u << 7) /* SMEP */ | (1u << 8) /* BMI2 */ | (1u << 9) /* ERMS */ | \
                     (1u << 18) /* RDSEED */ | (1u << 19) /* ADX */ | (1u << 23) /* CLFLUSHOPT */)
#define L7_ECX_KEEP 0u
#define L7_EDX_KEEP 0u
/* Extended leaf 0x80000001 ECX: LAHF, ABM (LZCNT), PREFETCHW. */
#define LX1_ECX_KEEP ((1u << 0) | (1u << 5) | (1u << 8))

int cpuid_apply_profile(struct hv_cpuid *c, const char *profile, char *err, size_t errlen)
{
    if (!profile || strcmp(profile, "host") == 0)
        return 0;
    if (strcmp(profile, "conservative") != 0) {
        snprintf(err, errlen, "Unknown CPU model '%s'; use --cpu host or --cpu conservative.", profile);
        return -1;
    }
    struct hv_cpuid_entry *e = cpuid_find(c, 1, 0);
    if (e) {
        e->ecx &= L1_ECX_KEEP;
        e->edx &= L1_EDX_KEEP;
    }
    e = cpuid_find(c, 7, 0);
    if (e) {
        e->ebx &= L7_EBX_KEEP;
        e->ecx &= L7_ECX_KEEP;
        e->edx &= L7_EDX_KEEP;
    }
    e = cpuid_find(c, 0x80000001, 0);
    if (e) {
        e->ecx &= LX1_ECX_KEEP;
        /* EDX: SYSCALL, NX, 1 GiB pages, RDTSCP, LM. */
        e->edx &= (1u << 11) | (1u << 20) | (1u << 26) | (1u << 27) | (1u << 29);
    }
    /* XSAVE components: x87, SSE, AVX only. */
    e = cpuid_find(c, 0xd, 0);
    if (e) {
        e->eax &= 0x7;
        e->edx = 0;
    }
    e = cpuid_find(c, 0xd, 1);
    if (e)
        e->eax &= 0x1; /* XSAVEOPT only */
    /* Drop the leaves of the components we no longer announce. */
    unsigned out = 0;
    for (unsigned i = 0; i < c->nent; i++) {
        struct hv_cpuid_entry *x = &c->entries[i];
        if (x->function == 0xd && x->index >= 3)
            continue;
        c->entries[out++] = *x;
    }
    c->nent = out;
    return 0;
}

int cpuid_build_policy(const struct hv_ops *hv, struct hv_vm *vm, const char *profile,
                       struct hv_cpuid *out, char *err, size_t errlen)
{
    struct hv_error herr = {{0}};
    memset(out, 0, sizeof(*out));
    if (hv->supported_cpuid(vm, out, &herr) < 0) {
        snprintf(err, errlen, "%s", herr.msg);
        return -1;
    }
    return cpuid_apply_profile(out, profile, err, errlen);
}

void cpuid_fixup_for_vcpu(struct hv_cpuid *c, unsigned index, unsigned ncpus)
{
    for (unsigned i = 0; i < c->nent; i++) {
        struct hv_cpuid_entry *e = &c->entries[i];
        switch (e->function) {
        case 1:
            /* EBX[31:24] initial APIC ID, [23:16] logical processor count;
             * EDX[28] HTT says the count is valid. */
            e->ebx = (e->ebx & 0x0000ffffu) | (index << 24) | ((ncpus > 255 ? 255 : ncpus) << 16);
            e->edx |= 1u << 28;
            e->ecx |= 1u << 31; /* running under a hypervisor */
            break;
        case 0xb:
        case 0x1f:
            /* x2APIC topology: one thread per core, all cores in one package. */
            e->edx = index;
            if (e->index == 0) {
                e->eax = 0;
                e->ebx = 1;
                e->ecx = (1u << 8) | 0; /* level type SMT */
            } else if (e->index == 1) {
                unsigned shift = 0;
                while ((1u << shift) < ncpus)
                    shift++;
                e->eax = shift;
                e->ebx = ncpus;
                e->ecx = (2u << 8) | 1; /* level type core */
            } else {
                e->eax = 0;
                e->ebx = 0;
                e->ecx = e->index;
            }
            break;
        case 4: {
            /* EAX[31:26]: cores per package - 1. EAX[25:14]: logical
             * processors sharing this cache - 1 (a power of two): the L3 is
             * shared by all vCPUs, L1 and L2 belong to one each. */
            unsigned cores = ncpus > 64 ? 64 : ncpus;
            unsigned level = (e->eax >> 5) & 7;
            unsigned sharing = 1;
            while (level == 3 && sharing < cores)
                sharing <<= 1;
            e->eax = (e->eax & 0x3fffu) | ((sharing - 1) << 14) | ((cores - 1) << 26);
            break;
        }
        default:
            break;
        }
    }
}
