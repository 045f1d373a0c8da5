# A boot sector that dies the way an early kernel does when it needs
# something the CPU lacks: it enters 32-bit protected mode with an empty
# IDT and executes UD2. #UD cannot be delivered (#GP), nor can that #GP
# (a double fault), nor the double fault: the CPU shuts down. moon86's
# stop reason must name the instruction and each exception
# (tests/cli.rs).
        .code16
        .globl  _start
_start:
        cli
        xorw    %ax, %ax
        movw    %ax, %ds
        lgdt    gdtr
        lidt    idtr
        movl    %cr0, %eax
        orl     $1, %eax
        movl    %eax, %cr0
        ljmp    $0x08, $pm

        .code32
pm:
        movw    $0x10, %ax
        movw    %ax, %ds
        movw    %ax, %ss
        movl    $0x7c00, %esp
        ud2

        .p2align 3
gdt:
        .quad   0
        .quad   0x00cf9a000000ffff      # 0x08: flat 32-bit code
        .quad   0x00cf92000000ffff      # 0x10: flat data
gdtr:
        .word   gdtr - gdt - 1
        .long   gdt
idtr:
        .word   0                       # no IDT at all
        .long   0

        . = _start + 510
        .word   0xaa55
