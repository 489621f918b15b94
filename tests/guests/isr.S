/* Interrupt and AP start-up stubs for the test guests. */
    .text
    .globl timer_isr
timer_isr:
    push %eax
    lock incl timer_ticks
    movl $0, 0xfee000b0        /* local APIC EOI */
    pop %eax
    iret

    .globl spurious_isr
spurious_isr:
    iret

/* Real-mode AP trampoline, copied to 0x8000 and started by a SIPI with
 * vector 0x08. It records its APIC ID and counts itself in. */
    .code16
    .globl ap_tramp_start, ap_tramp_end
ap_tramp_start:
    cli
    xor %ax, %ax
    mov %ax, %ds
    mov $1, %eax
    cpuid
    shr $24, %ebx
    mov %ebx, 0x7004
    lock incl 0x7000
1:  hlt
    jmp 1b
ap_tramp_end:
    .code32

    .section .note.GNU-stack, "", @progbits
