/* Multiboot v1 entry for the test guests: 32-bit protected mode, flat
 * segments, paging off (multiboot spec 0.6.96, section 3.2). */
#define MB_MAGIC 0x1BADB002
#define MB_FLAGS 0x00000003 /* page-align modules, want memory info */

    .section .multiboot, "a"
    .align 4
    .long MB_MAGIC
    .long MB_FLAGS
    .long -(MB_MAGIC + MB_FLAGS)

    .text
    .globl _start
_start:
    cli
    mov $stack_top, %esp
    push %ebx              /* multiboot info */
    push %eax              /* magic */
    call guest_main
    push %eax
    call guest_exit
1:  hlt
    jmp 1b

    .bss
    .align 16
stack_bottom:
    .skip 16384
stack_top:

    .section .note.GNU-stack, "", @progbits
