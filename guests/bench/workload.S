# link: 0x100000
/*
 * bench/workload: a CPU benchmark kernel for moon86 and qemu-system-i386
 * (GNU as, 32-bit protected mode, flat segments, no paging, interrupts
 * off). A Multiboot v1 image with load addresses (header flag 16), so the
 * flat binary boots with `moon86 boot --kernel` and `qemu-system-i386
 * -kernel` alike; linked at 1 MiB (the `# link:` line above, read by
 * guests/build.sh).
 *
 * Four phases, each printing one line on COM1, "phase N name   checksum
 * XXXXXXXX":
 *   1 int     integer mixing hash over a counter (add, sub, xor, shifts,
 *             rotates, imul, lea, adc)
 *   2 mem     a strided read-modify-write walk over a 4 MiB buffer, then a
 *             sum of the whole buffer
 *   3 call    a doubly recursive function (Fibonacci-shaped, depth
 *             CALL_DEPTH) with frames, pushes and pops
 *   4 interp  a bytecode interpreter: a small register-machine program run
 *             by a switch dispatched through `jmp *table(,%eax,4)`
 * then it writes 0 to the debug-exit port 0xF4 (exit status 1).
 *
 * Deterministic: every run executes the same instructions. The checksums
 * are modelled independently by guests/bench/workload_model.py, which
 * reads the constants below. Mutable data lives in pages of its own, away
 * from the code, so stores never touch a page holding code.
 * Rebuild with guests/build.sh.
 */
        .set    INT_ITERS, 2000000      /* phase 1 loop iterations */
        .set    MEM_DWORDS, 0x100000    /* phase 2 buffer: 4 MiB (a power of two) */
        .set    MEM_STRIDE, 4099        /* dwords between visits (odd: every slot comes round) */
        .set    MEM_STEPS, 4000000      /* phase 2 read-modify-write steps */
        .set    CALL_DEPTH, 30          /* phase 3 recursion depth, f(CALL_DEPTH) */
        .set    VM_ITERS, 350000        /* phase 4 bytecode loop iterations */

        .set    STACK_TOP, 0x180000     /* grows down, far above the image */
        .set    VM_REGS, 0x190000       /* 8 bytecode registers */
        .set    VM_MEM, 0x191000        /* 256 dwords of bytecode memory */
        .set    CALL_COUNT, 0x192000    /* phase 3 call counter */
        .set    MEM_BASE, 0x200000      /* phase 2 buffer */

        .set    COM1, 0x3f8
        .set    EXIT_PORT, 0xf4

        .set    MB_MAGIC, 0x1badb002
        .set    MB_FLAGS, 0x00010000    /* bit 16: the addresses below are valid */

        .text
        .globl  _start
_start:                                 /* the load address: first byte of the file */
        jmp     entry

        .p2align 2
mb_header:
        .long   MB_MAGIC
        .long   MB_FLAGS
        .long   -(MB_MAGIC + MB_FLAGS)
        .long   mb_header               /* header_addr */
        .long   _start                  /* load_addr */
        .long   image_end               /* load_end_addr */
        .long   image_end               /* bss_end_addr: no BSS */
        .long   entry                   /* entry_addr */

        .p2align 3
gdt:    .quad   0
        .quad   0x00cf9a000000ffff      /* 0x08: flat 32-bit code */
        .quad   0x00cf92000000ffff      /* 0x10: flat 32-bit data */
gdt_end:
gdtr:   .word   gdt_end - gdt - 1
        .long   gdt

entry:
        cli
        cld
        lgdt    gdtr
        ljmp    $0x08, $1f
1:      movw    $0x10, %ax
        movw    %ax, %ds
        movw    %ax, %es
        movw    %ax, %fs
        movw    %ax, %gs
        movw    %ax, %ss
        movl    $STACK_TOP, %esp
        call    serial_init

/* Phase 1: h and k mixed with a hash of the counter i. */
        xorl    %ecx, %ecx              /* i */
        movl    $0x12345678, %ebx       /* h */
        movl    $0x9e3779b9, %edi       /* k */
1:      imull   $0x9e3779b1, %ecx, %eax /* x = i * C */
        movl    %eax, %edx
        shrl    $15, %edx
        xorl    %edx, %eax              /* x ^= x >> 15 */
        roll    $7, %eax                /* x = rol(x, 7) */
        addl    %eax, %ebx              /* h += x */
        movl    %ebx, %edx
        shll    $5, %edx
        xorl    %edx, %ebx              /* h ^= h << 5 */
        subl    %ecx, %ebx              /* h -= i */
        rorl    $3, %ebx                /* h = ror(h, 3) */
        leal    (%ebx,%ebx,2), %edx
        sarl    $2, %edx                /* t = (3h) >> 2, arithmetic */
        xorl    %edx, %edi              /* k ^= t */
        movl    %edi, %edx
        orl     $1, %edx
        imull   %edx, %ebx              /* h *= k | 1 */
        addl    %eax, %edi              /* k += x */
        adcl    $0, %ebx                /* h += carry out of k + x */
        incl    %ecx
        cmpl    $INT_ITERS, %ecx
        jne     1b
        xorl    %edi, %ebx
        movl    $name_int, %esi
        call    report

/* Phase 2: buf[i] = i * 0x01000193 ^ 0xA5A5A5A5; then MEM_STEPS times
 * v = buf[j]; s = rol(s + v, 1) + byte 1 of buf[j ^ 1]; buf[j] = (v ^ s) + j;
 * j = (j + MEM_STRIDE) mod MEM_DWORDS; finally s ^= the sum of the buffer. */
        movl    $MEM_BASE, %edi
        xorl    %ecx, %ecx
1:      imull   $0x01000193, %ecx, %eax
        xorl    $0xa5a5a5a5, %eax
        movl    %eax, (%edi,%ecx,4)
        incl    %ecx
        cmpl    $MEM_DWORDS, %ecx
        jne     1b
        xorl    %esi, %esi              /* j */
        xorl    %ebx, %ebx              /* s */
        movl    $MEM_STEPS, %ecx
2:      movl    (%edi,%esi,4), %eax     /* v */
        addl    %eax, %ebx
        roll    $1, %ebx
        movl    %esi, %edx
        xorl    $1, %edx
        movzbl  1(%edi,%edx,4), %edx
        addl    %edx, %ebx
        xorl    %ebx, %eax
        addl    %esi, %eax
        movl    %eax, (%edi,%esi,4)
        addl    $MEM_STRIDE, %esi
        andl    $(MEM_DWORDS - 1), %esi
        decl    %ecx
        jnz     2b
        xorl    %eax, %eax
        xorl    %ecx, %ecx
3:      addl    (%edi,%ecx,4), %eax
        incl    %ecx
        cmpl    $MEM_DWORDS, %ecx
        jne     3b
        xorl    %eax, %ebx
        movl    $name_mem, %esi
        call    report

/* Phase 3: f(n) = n + 0x1234 for n < 2, else (f(n-1) + rol(f(n-2), 1)) ^ n;
 * the checksum is f(CALL_DEPTH) ^ the number of calls. */
        movl    $0, CALL_COUNT
        pushl   $CALL_DEPTH
        call    f
        addl    $4, %esp
        xorl    CALL_COUNT, %eax
        movl    %eax, %ebx
        movl    $name_call, %esi
        call    report

/* Phase 4: run the bytecode program; the checksum is r1 + r6, xored with
 * the sum of the 256 memory dwords. */
        xorl    %eax, %eax
        movl    $VM_REGS, %edi
        movl    $8, %ecx
        rep stosl
        movl    $VM_MEM, %edi
        movl    $256, %ecx
        rep stosl
        movl    $program, %esi
        call    interpret
        movl    VM_REGS + 4, %ebx
        addl    VM_REGS + 24, %ebx
        xorl    %eax, %eax
        xorl    %ecx, %ecx
1:      addl    VM_MEM(,%ecx,4), %eax
        incl    %ecx
        cmpl    $256, %ecx
        jne     1b
        xorl    %eax, %ebx
        movl    $name_interp, %esi
        call    report

        xorl    %eax, %eax
        outb    %al, $EXIT_PORT
9:      hlt
        jmp     9b

/* f(n), n on the stack (cdecl); counts its calls in CALL_COUNT. */
f:      pushl   %ebp
        movl    %esp, %ebp
        incl    CALL_COUNT
        movl    8(%ebp), %eax
        cmpl    $2, %eax
        jae     1f
        addl    $0x1234, %eax
        popl    %ebp
        ret
1:      pushl   %ebx
        pushl   %esi
        movl    %eax, %esi              /* n */
        leal    -1(%esi), %eax
        pushl   %eax
        call    f
        addl    $4, %esp
        movl    %eax, %ebx              /* f(n-1) */
        leal    -2(%esi), %eax
        pushl   %eax
        call    f
        addl    $4, %esp
        roll    $1, %eax
        addl    %ebx, %eax
        xorl    %esi, %eax
        popl    %esi
        popl    %ebx
        leave
        ret

/*
 * The bytecode machine: 8 registers of 32 bits at VM_REGS, 256 dwords of
 * memory at VM_MEM (addresses taken modulo 256), ESI the program counter.
 * Instructions are an opcode byte and operand bytes:
 *   0 HALT              1 LI rd, imm32       2 ADD rd, rs       3 XOR rd, rs
 *   4 SHL rd, n         5 SHR rd, n          6 MUL rd, rs       7 ROL rd, n
 *   8 DEC rd            9 JNZ rd, rel8      10 LOAD rd, [rs]   11 STORE [rd], rs
 *  12 MOV rd, rs
 * rel8 counts from the next instruction. An unknown opcode halts too.
 */
        .set    OP_HALT, 0
        .set    OP_LI, 1
        .set    OP_ADD, 2
        .set    OP_XOR, 3
        .set    OP_SHL, 4
        .set    OP_SHR, 5
        .set    OP_MUL, 6
        .set    OP_ROL, 7
        .set    OP_DEC, 8
        .set    OP_JNZ, 9
        .set    OP_LOAD, 10
        .set    OP_STORE, 11
        .set    OP_MOV, 12
        .set    OP_COUNT, 13

interpret:
dispatch:
        movzbl  (%esi), %eax
        cmpl    $OP_COUNT, %eax
        jae     op_halt
        jmp     *optable(,%eax,4)

op_halt:
        ret
op_li:  movzbl  1(%esi), %edx
        movl    2(%esi), %eax
        movl    %eax, VM_REGS(,%edx,4)
        addl    $6, %esi
        jmp     dispatch
op_add: movzbl  1(%esi), %edx
        movzbl  2(%esi), %ecx
        movl    VM_REGS(,%ecx,4), %eax
        addl    %eax, VM_REGS(,%edx,4)
        addl    $3, %esi
        jmp     dispatch
op_xor: movzbl  1(%esi), %edx
        movzbl  2(%esi), %ecx
        movl    VM_REGS(,%ecx,4), %eax
        xorl    %eax, VM_REGS(,%edx,4)
        addl    $3, %esi
        jmp     dispatch
op_shl: movzbl  1(%esi), %edx
        movb    2(%esi), %cl
        shll    %cl, VM_REGS(,%edx,4)
        addl    $3, %esi
        jmp     dispatch
op_shr: movzbl  1(%esi), %edx
        movb    2(%esi), %cl
        shrl    %cl, VM_REGS(,%edx,4)
        addl    $3, %esi
        jmp     dispatch
op_mul: movzbl  1(%esi), %edx
        movzbl  2(%esi), %ecx
        movl    VM_REGS(,%edx,4), %eax
        imull   VM_REGS(,%ecx,4), %eax
        movl    %eax, VM_REGS(,%edx,4)
        addl    $3, %esi
        jmp     dispatch
op_rol: movzbl  1(%esi), %edx
        movb    2(%esi), %cl
        roll    %cl, VM_REGS(,%edx,4)
        addl    $3, %esi
        jmp     dispatch
op_dec: movzbl  1(%esi), %edx
        decl    VM_REGS(,%edx,4)
        addl    $2, %esi
        jmp     dispatch
op_jnz: movzbl  1(%esi), %edx
        movsbl  2(%esi), %eax
        addl    $3, %esi
        cmpl    $0, VM_REGS(,%edx,4)
        je      dispatch
        addl    %eax, %esi
        jmp     dispatch
op_load:
        movzbl  1(%esi), %edx
        movzbl  2(%esi), %ecx
        movzbl  VM_REGS(,%ecx,4), %eax  /* the low byte: the address mod 256 */
        movl    VM_MEM(,%eax,4), %eax
        movl    %eax, VM_REGS(,%edx,4)
        addl    $3, %esi
        jmp     dispatch
op_store:
        movzbl  1(%esi), %edx
        movzbl  2(%esi), %ecx
        movzbl  VM_REGS(,%edx,4), %edx
        movl    VM_REGS(,%ecx,4), %eax
        movl    %eax, VM_MEM(,%edx,4)
        addl    $3, %esi
        jmp     dispatch
op_mov: movzbl  1(%esi), %edx
        movzbl  2(%esi), %ecx
        movl    VM_REGS(,%ecx,4), %eax
        movl    %eax, VM_REGS(,%edx,4)
        addl    $3, %esi
        jmp     dispatch

        .p2align 2
optable:
        .long   op_halt, op_li, op_add, op_xor, op_shl, op_shr, op_mul
        .long   op_rol, op_dec, op_jnz, op_load, op_store, op_mov

/* The bytecode program: an FNV-like hash with a table in memory. */
program:
        .byte   OP_LI, 0
        .long   VM_ITERS                /* r0: loop counter */
        .byte   OP_LI, 1
        .long   0x811c9dc5              /* r1: hash */
        .byte   OP_LI, 2
        .long   0x01000193              /* r2: multiplier */
        .byte   OP_LI, 3
        .long   0                       /* r3: i */
        .byte   OP_LI, 7
        .long   1                       /* r7: one */
vm_loop:
        .byte   OP_ADD, 3, 7            /* i += 1 */
        .byte   OP_MOV, 4, 3
        .byte   OP_XOR, 1, 4            /* h ^= i */
        .byte   OP_MUL, 1, 2            /* h *= multiplier */
        .byte   OP_MOV, 5, 1
        .byte   OP_SHR, 5, 13
        .byte   OP_XOR, 1, 5            /* h ^= h >> 13 */
        .byte   OP_LOAD, 6, 3           /* r6 = mem[i] */
        .byte   OP_ADD, 6, 1
        .byte   OP_STORE, 1, 6          /* mem[h] = r6 + h */
        .byte   OP_ROL, 1, 5
        .byte   OP_SHL, 4, 2
        .byte   OP_ADD, 1, 4            /* h = rol(h, 5) + (i << 2) */
        .byte   OP_ADD, 1, 6            /* h += r6 */
        .byte   OP_DEC, 0
vm_jnz: .byte   OP_JNZ, 0, vm_loop - (vm_jnz + 3)
        .byte   OP_HALT

/* Serial output on COM1: 115200 8N1, FIFO on, polling the LSR. */
serial_init:
        movw    $COM1 + 1, %dx
        xorb    %al, %al
        outb    %al, %dx                /* IER: no interrupts */
        movw    $COM1 + 3, %dx
        movb    $0x80, %al
        outb    %al, %dx                /* LCR: divisor latch */
        movw    $COM1, %dx
        movb    $1, %al
        outb    %al, %dx                /* divisor 1 */
        movw    $COM1 + 1, %dx
        xorb    %al, %al
        outb    %al, %dx
        movw    $COM1 + 3, %dx
        movb    $0x03, %al
        outb    %al, %dx                /* 8N1 */
        movw    $COM1 + 2, %dx
        movb    $0x07, %al
        outb    %al, %dx                /* FIFO on and cleared */
        movw    $COM1 + 4, %dx
        movb    $0x03, %al
        outb    %al, %dx                /* DTR, RTS */
        ret

/* putc: the byte in AL, once the transmitter holding register is empty. */
putc:   pushl   %eax
        movw    $COM1 + 5, %dx
1:      inb     %dx, %al
        testb   $0x20, %al
        jz      1b
        popl    %eax
        movw    $COM1, %dx
        outb    %al, %dx
        ret

/* puts: the NUL-terminated string at ESI. */
puts:   lodsb
        testb   %al, %al
        jz      1f
        call    putc
        jmp     puts
1:      ret

/* report: "<the string at ESI>checksum <EBX in 8 hex digits>\n". */
report: call    puts
        movl    $str_checksum, %esi
        call    puts
        movl    $8, %ecx
1:      roll    $4, %ebx
        movb    %bl, %al
        andb    $0x0f, %al
        addb    $'0', %al
        cmpb    $'9', %al
        jbe     2f
        addb    $('a' - '0' - 10), %al
2:      call    putc
        loop    1b
        movb    $'\n', %al
        call    putc
        ret

name_int:       .asciz  "phase 1 int    "
name_mem:       .asciz  "phase 2 mem    "
name_call:      .asciz  "phase 3 call   "
name_interp:    .asciz  "phase 4 interp "
str_checksum:   .asciz  "checksum "

        .p2align 2
image_end:
