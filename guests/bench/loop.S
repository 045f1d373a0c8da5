/*
 * bench/loop: moon86's interpreter workload (GNU as, real mode, 16- and
 * 32-bit operands). A fixed number of iterations mixing ALU, multiply and
 * divide, memory operands, a stack round trip and a REP MOVSW, then the
 * checksum goes to the debug console (port 0xE9) as 8 hex digits and the
 * machine stops through the exit port. Deterministic: every run executes
 * the same instruction count. Rebuild with guests/build.sh.
 */
        .code16
        .text
        .globl  _start
        .set    ITERATIONS, 100000
_start:
        cli
        xorw    %ax, %ax
        movw    %ax, %ds
        movw    %ax, %es
        movw    %ax, %ss
        movw    $0x7c00, %sp
        cld
        xorl    %ebx, %ebx
        movl    $ITERATIONS, %ecx

1:      movl    %ecx, %eax              /* ALU and multiply */
        imull   $13, %eax, %eax
        addl    %eax, %ebx
        roll    $3, %ebx
        xorl    %edx, %edx              /* divide */
        movl    $7, %esi
        divl    %esi
        addl    %edx, %ebx
        movw    $0x1000, %di            /* memory operands */
        movl    %ebx, (%di)
        addl    %eax, 4(%di)
        xorl    4(%di), %ebx
        pushl   %ecx                    /* stack and a string move */
        movw    $0x1000, %si
        movw    $0x2000, %di
        movw    $8, %cx
        rep movsw
        popl    %ecx
        decl    %ecx
        jnz     1b

        movw    $8, %cx                 /* checksum in hex on the debug console */
        movw    $0xe9, %dx
2:      roll    $4, %ebx
        movb    %bl, %al
        andb    $0x0f, %al
        addb    $'0', %al
        cmpb    $'9', %al
        jbe     3f
        addb    $('a' - '0' - 10), %al
3:      outb    %al, %dx
        loop    2b

        xorb    %al, %al
        outb    %al, $0xf4
4:      hlt
        jmp     4b

        .org    510
        .byte   0x55, 0xaa
