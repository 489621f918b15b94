#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "cpuid.h"

static void fill(struct hv_cpuid *c)
{
    memset(c, 0, sizeof(*c));
    c->entries[c->nent++] = (struct hv_cpuid_entry){ .function = 0, .eax = 0xd };
    c->entries[c->nent++] = (struct hv_cpuid_entry){ .function = 1, .ebx = 0xff00ffff, .ecx = 0xffffffff, .edx = 0xffffffff };
    c->entries[c->nent++] = (struct hv_cpuid_entry){ .function = 7, .flags = HV_CPUID_FLAG_SIGNIFICANT_INDEX, .ebx = 0xffffffff, .ecx = 0xffffffff, .edx = 0xffffffff };
    for (uint32_t i = 0; i < 3; i++)
        c->entries[c->nent++] = (struct hv_cpuid_entry){ .function = 0xb, .index = i, .flags = HV_CPUID_FLAG_SIGNIFICANT_INDEX };
    for (uint32_t i = 0; i < 8; i++)
        c->entries[c->nent++] = (struct hv_cpuid_entry){ .function = 0xd, .index = i, .flags = HV_CPUID_FLAG_SIGNIFICANT_INDEX, .eax = 0xff };
    c->entries[c->nent++] = (struct hv_cpuid_entry){ .function = 0x80000001, .ecx = 0xffffffff, .edx = 0xffffffff };
}

static void test_host_profile_keeps_all(void **state)
{
    (void)state;
    struct hv_cpuid c;
    char err[200];
    fill(&c);
    unsigned n = c.nent;
    assert_int_equal(cpuid_apply_profile(&c, "host", err, sizeof(err)), 0);
    assert_int_equal(c.nent, n);
    assert_int_equal(cpuid_find(&c, 7, 0)->ebx, 0xffffffff);
}

static void test_conservative_masks(void **state)
{
    (void)state;
    struct hv_cpuid c;
    char err[200];
    fill(&c);
    assert_int_equal(cpuid_apply_profile(&c, "conservative", err, sizeof(err)), 0);
    struct hv_cpuid_entry *l7 = cpuid_find(&c, 7, 0);
    assert_int_equal(l7->ebx & (1u << 16), 0);          /* AVX-512F gone */
    assert_int_not_equal(l7->ebx & (1u << 5), 0);       /* AVX2 kept */
    assert_int_equal(cpuid_find(&c, 1, 0)->ecx & (1u << 27), 0); /* OSXSAVE is the OS's */
    assert_null(cpuid_find(&c, 0xd, 5));                 /* AVX-512 state leaves dropped */
    assert_non_null(cpuid_find(&c, 0xd, 2));
    assert_int_equal(cpuid_find(&c, 0xd, 0)->eax, 0x7);
}

static void test_unknown_profile(void **state)
{
    (void)state;
    struct hv_cpuid c;
    char err[200] = "";
    fill(&c);
    assert_int_equal(cpuid_apply_profile(&c, "pentium", err, sizeof(err)), -1);
    assert_non_null(strstr(err, "--cpu"));
}

static void test_vcpu_fixups(void **state)
{
    (void)state;
    struct hv_cpuid c;
    fill(&c);
    cpuid_fixup_for_vcpu(&c, 3, 4);
    struct hv_cpuid_entry *l1 = cpuid_find(&c, 1, 0);
    assert_int_equal(l1->ebx >> 24, 3);
    assert_int_equal((l1->ebx >> 16) & 0xff, 4);
    assert_int_not_equal(l1->ecx & (1u << 31), 0);
    assert_int_equal(cpuid_find(&c, 0xb, 0)->edx, 3);
    assert_int_equal(cpuid_find(&c, 0xb, 1)->ebx, 4);
    assert_int_equal(cpuid_find(&c, 0xb, 1)->eax, 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_host_profile_keeps_all),
        cmocka_unit_test(test_conservative_masks),
        cmocka_unit_test(test_unknown_profile),
        cmocka_unit_test(test_vcpu_fixups),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
