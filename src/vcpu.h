/* The vCPU loop: run the guest, hand each exit to a bus, the emulator or the
 * stop path, and honour pause/stop requests between runs. */
#ifndef HOSTEL_VCPU_H
#define HOSTEL_VCPU_H

#include <stddef.h>

#include "hv.h"

struct vcpu;

/* pthread entry point; arg is a struct vcpu *. */
void *vcpu_thread(void *arg);

/* Handle an instruction the accelerator could not emulate (vcpu_emulate.c):
 * emulate it, deliver the exception it raises, or stop the VM with a report
 * naming the bytes and the guest mode. */
void vcpu_handle_emulation(struct vcpu *v, const struct vcpu_exit *e);

/* Describe the CPU mode for a report: "64-bit kernel mode (CPL 0)" etc. */
void vcpu_describe_mode(const struct hv_sregs *s, char *buf, size_t len);

#endif
