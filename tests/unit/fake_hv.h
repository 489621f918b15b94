/* A fake accelerator (struct hv_ops) for testing the VM core without KVM:
 * each vCPU "runs" a script of exits chosen by the test. */
#ifndef HOSTEL_TEST_FAKE_HV_H
#define HOSTEL_TEST_FAKE_HV_H

#include "hv.h"

enum fake_script {
    FAKE_IO_LOOP,        /* endless OUTs to port 0x80, 1 ms apart */
    FAKE_SHUTDOWN,       /* a triple fault at once */
    FAKE_EMULATION,      /* an emulation failure with fake_insn bytes */
    FAKE_SYSTEM_OFF,     /* KVM's system event: power off */
};

struct fake_hv_config {
    enum fake_script script;
    uint8_t insn[16];
    unsigned insn_len;
    int irq_levels[24];  /* last level per GSI, written by irq_line */
};

/* The table; its vm_create uses the config set with fake_hv_use(). */
extern const struct hv_ops fake_hv_ops;
void fake_hv_use(struct fake_hv_config *cfg);

#endif
