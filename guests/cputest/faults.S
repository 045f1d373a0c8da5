/*
 * faults: moon86's test guest for instructions that fault part-way (GNU
 * as, flat binary loaded at 0000:7C00; tests/cputest.rs runs it on every
 * CPU model, with the JIT on and off). EDX at entry holds the model's
 * family (3, 4 or 6; the Rust test sets it): the 486 and P6 instructions
 * are checked only where they exist.
 *
 * - A read-modify-write whose write faults commits nothing: at ring 3 on
 *   a read-only page, the #PF handler sees the EFLAGS of before the
 *   instruction, makes the page writable and returns, and the restarted
 *   instruction leaves exactly what it leaves on a writable page. Each
 *   runs several times with the page's read-only translation already in
 *   the TLB, so that with the JIT on the translated instruction reads,
 *   computes its flags, and only then finds it cannot write.
 * - LOCK on MOV is #UD.
 * - REP MOVS/STOS/CMPS, and the same as a LOOP of the one-shot form (which
 *   the JIT translates), running into a not-present page: the #PF sees
 *   ECX, ESI and EDI counting the iterations done, and after the handler
 *   maps the page the instruction finishes where it stopped.
 * Rebuild with guests/build.sh.
 */
        .include "lib.inc"

        .set    PD, 0x80000
        .set    PT, 0x81000
        .set    RW_PAGE, 0x94000        /* the reference run's operand */
        .set    RO_PAGE, 0x95000        /* read-only while a check runs */
        .set    HOLE, 0x97000           /* not present while a check runs */
        .set    OTHER, 0x99000
        .set    MEM_LO, 0x80000001
        .set    MEM_HI, 0x12345678
        .set    EAX_IN, 0x40000003
        /* IOPL 3, OF, SF, ZF, CF: every carry reader sees CF = 1. */
        .set    FLAGS_IN, 0x38C3
        .set    STATUS, 0x8D5           /* OF SF ZF AF PF CF */
        .set    LOOPS, 4

/* Drops every translation (the 386 has no INVLPG); changes EAX. */
.macro FLUSH_TLB
        movl    %cr3, %eax
        movl    %eax, %cr3
.endm

/* Check `num`: the read-modify-write `insn` on (%esi), with EAX = `eax`
 * before, faults once on the read-only page with the flags of before in
 * its frame and, restarted, matches the run on the writable page. */
.macro RMW num, eax, text, insn:vararg
        movl    $\eax, case_eax
        movl    $LOOPS, loops
100:    int     $0x82                   /* fresh operands; RO_PAGE read-only */
        cmpl    $0, RO_PAGE             /* its translation into the TLB */
        call    inputs_rw
        \insn
        call    record_ref
        call    inputs_ro
        \insn
        call    record_got
        call    compare
        jne     101f
        decl    loops
        jnz     100b
101:    CHECK_EQ \num, "\text"
.endm

/* Check `num`: `routine` run with ECX, ESI, EDI = c0, s0, d0 faults once,
 * at c1, s1, d1, and ends with c2, s2, d2. */
.macro STRING num, text, routine, c0, s0, d0, c1, s1, d1, c2, s2, d2
        movl    $LOOPS, loops
100:    call    hole_setup
        movl    $\c0, %ecx
        movl    $\s0, %esi
        movl    $\d0, %edi
        movl    $0xA1B2C3D4, %eax
        call    \routine
        cmpl    $1, pf_count
        jne     101f
        cmpl    $\c1, pf_ecx
        jne     101f
        cmpl    $\s1, pf_esi
        jne     101f
        cmpl    $\d1, pf_edi
        jne     101f
        cmpl    $\c2, %ecx
        jne     101f
        cmpl    $\s2, %esi
        jne     101f
        cmpl    $\d2, %edi
        jne     101f
        decl    loops
        jnz     100b
101:    CHECK_EQ \num, "\text"
.endm

        .text
        .globl  _start
_start:
        .code16
        xorw    %ax, %ax
        movw    %ax, %ds
        movl    %edx, family
        START_PM
        /* Identity-map 4 MiB, all user and writable. */
        movl    $PD, %edi
        movl    $PT + 7, (%edi)
        movl    $PT, %edi
        movl    $7, %eax
        movl    $1024, %ecx
        cld
1:      stosl
        addl    $0x1000, %eax
        loop    1b
        movl    $PD, %eax
        movl    %eax, %cr3
        movl    %cr0, %eax
        orl     $0x80000000, %eax
        movl    %eax, %cr0
        jmp     1f
1:      movl    $pf_handler, %eax
        movl    $14, %ecx
        movl    $0x8E00, %edx
        call    set_gate
        movl    $reset_operands, %eax
        movl    $0x82, %ecx
        movl    $0xEE00, %edx
        call    set_gate
        movl    %cr0, %eax
        shrl    $31, %eax
        cmpl    $1, %eax
        CHECK_EQ 1, "paging on"

        /* 2: LOCK MOV is #UD on every model. */
        TRY     2f
        .byte   0xF0, 0x89, 0x05        /* lock movl %eax, (0x7000) */
        .long   0x7000
2:      CHECK   2, 6, 0, "#UD for LOCK MOV"

        STRING  3, "rep movsd, source into a not-present page", rep_movsd, 8, HOLE-16, OTHER, 4, HOLE, OTHER+16, 0, HOLE+16, OTHER+32
        STRING  4, "movsd loop, source into a not-present page", loop_movsd, 8, HOLE-16, OTHER, 4, HOLE, OTHER+16, 0, HOLE+16, OTHER+32
        STRING  5, "rep movsd, destination into a not-present page", rep_movsd, 8, OTHER, HOLE-12, 5, OTHER+12, HOLE, 0, OTHER+32, HOLE+20
        STRING  6, "movsd loop, destination into a not-present page", loop_movsd, 8, OTHER, HOLE-12, 5, OTHER+12, HOLE, 0, OTHER+32, HOLE+20
        STRING  7, "rep movsd, a source dword straddling a not-present page", rep_movsd, 8, HOLE-14, OTHER, 5, HOLE-2, OTHER+12, 0, HOLE+18, OTHER+32
        STRING  8, "rep stosd into a not-present page", rep_stosd, 8, 0x1234, HOLE-8, 6, 0x1234, HOLE, 0, 0x1234, HOLE+24
        STRING  9, "stosd loop into a not-present page", loop_stosd, 8, 0x1234, HOLE-8, 6, 0x1234, HOLE, 0, 0x1234, HOLE+24
        /* Equal bytes but at HOLE + 2: nine iterations in all. */
        STRING  10, "repe cmpsb, source into a not-present page", repe_cmpsb, 16, HOLE-6, OTHER, 10, HOLE, OTHER+6, 7, HOLE+3, OTHER+9
        STRING  11, "cmpsb loope, source into a not-present page", loope_cmpsb, 16, HOLE-6, OTHER, 10, HOLE, OTHER+6, 7, HOLE+3, OTHER+9

        /* The read-modify-writes run at ring 3 (IOPL 3 for the console)
         * and come back through INT 0x80. */
        TRY     rmw_done
        pushl   $UDATA
        pushl   $STACK3
        pushl   $0x3002
        pushl   $UCODE
        pushl   $rmw_checks
        iret
rmw_done:
        EXIT    0

/* Ring 3. */
rmw_checks:
        movw    $UDATA, %ax
        movw    %ax, %ds
        movw    %ax, %es
        RMW     12, EAX_IN, "adc [ro], eax", adcl %eax, (%esi)
        RMW     13, EAX_IN, "adc byte [ro], al", adcb %al, (%esi)
        RMW     14, EAX_IN, "sbb [ro], eax", sbbl %eax, (%esi)
        RMW     15, EAX_IN, "add [ro], eax", addl %eax, (%esi)
        RMW     16, EAX_IN, "or [ro], eax", orl %eax, (%esi)
        RMW     17, EAX_IN, "and [ro], eax", andl %eax, (%esi)
        RMW     18, EAX_IN, "sub [ro], eax", subl %eax, (%esi)
        RMW     19, EAX_IN, "xor [ro], eax", xorl %eax, (%esi)
        RMW     20, EAX_IN, "adc dword [ro], 5", adcl $5, (%esi)
        RMW     21, EAX_IN, "sbb word [ro], 0x1234", sbbw $0x1234, (%esi)
        RMW     22, EAX_IN, "inc dword [ro]", incl (%esi)
        RMW     23, EAX_IN, "dec byte [ro]", decb (%esi)
        RMW     24, EAX_IN, "not dword [ro]", notl (%esi)
        RMW     25, EAX_IN, "neg dword [ro]", negl (%esi)
        RMW     26, EAX_IN, "rol dword [ro], 1", roll (%esi)
        RMW     27, EAX_IN, "rcl dword [ro], 1", rcll (%esi)
        RMW     28, EAX_IN, "rcr dword [ro], 1", rcrl (%esi)
        RMW     29, EAX_IN, "rcl byte [ro], cl", rclb %cl, (%esi)
        RMW     30, EAX_IN, "rcr word [ro], 3", rcrw $3, (%esi)
        RMW     31, EAX_IN, "shl dword [ro], cl", shll %cl, (%esi)
        RMW     32, EAX_IN, "sar dword [ro], 3", sarl $3, (%esi)
        RMW     33, EAX_IN, "shld [ro], eax, 4", shldl $4, %eax, (%esi)
        RMW     34, EAX_IN, "shrd [ro], eax, cl", shrdl %cl, %eax, (%esi)
        RMW     35, EAX_IN, "bts [ro], ecx", btsl %ecx, (%esi)
        RMW     36, EAX_IN, "btr [ro], ecx", btrl %ecx, (%esi)
        RMW     37, EAX_IN, "btc dword [ro], 5", btcl $5, (%esi)
        RMW     38, EAX_IN, "xchg [ro], eax", xchgl %eax, (%esi)
        RMW     39, EAX_IN, "setc byte [ro]", setc (%esi)
        cmpl    $4, family
        jb      1f
        RMW     40, EAX_IN, "xadd [ro], eax", xaddl %eax, (%esi)
        RMW     41, MEM_LO, "cmpxchg [ro], edx (equal)", cmpxchgl %edx, (%esi)
        RMW     42, EAX_IN, "cmpxchg [ro], edx (not equal)", cmpxchgl %edx, (%esi)
        cmpl    $6, family
        jb      1f
        RMW     43, MEM_LO, "cmpxchg8b [ro] (equal)", cmpxchg8b (%esi)
        RMW     44, EAX_IN, "cmpxchg8b [ro] (not equal)", cmpxchg8b (%esi)
1:      int     $0x80

/* The inputs of both runs: ESI the operand's page, EAX the check's. */
inputs_rw:
        movl    $RW_PAGE, %esi
        jmp     inputs
inputs_ro:
        movl    $RO_PAGE, %esi
inputs: movl    $0, pf_count
        movl    case_eax, %eax
        movl    $3, %ecx
        movl    $MEM_HI, %edx
        movl    $0x55550001, %ebx
        movl    $0x66660002, %edi
        pushl   $FLAGS_IN
        popfl
        ret

/* Record EAX, ECX, EDX, EBX, EDI, EFLAGS and the operand's two dwords in
 * `ref` or `got`. */
record_ref:
        pushfl
        pushl   $ref
        jmp     record
record_got:
        pushfl
        pushl   $got
record: xchgl   %ebp, (%esp)
        movl    %eax, 0(%ebp)
        movl    %ecx, 4(%ebp)
        movl    %edx, 8(%ebp)
        movl    %ebx, 12(%ebp)
        movl    %edi, 16(%ebp)
        movl    4(%esp), %eax
        movl    %eax, 20(%ebp)
        movl    (%esi), %eax
        movl    %eax, 24(%ebp)
        movl    4(%esi), %eax
        movl    %eax, 28(%ebp)
        popl    %ebp
        addl    $4, %esp
        ret

/* ZF set when the read-only run faulted once, with the status flags of
 * before in its frame, and ended as the reference run did. */
compare:
        cmpl    $1, pf_count
        jne     1f
        movl    pf_flags, %eax
        andl    $STATUS, %eax
        cmpl    $FLAGS_IN & STATUS, %eax
        jne     1f
        movl    $ref, %esi
        movl    $got, %edi
        movl    $8, %ecx
        cld
        repe cmpsl
1:      ret

/* Ring 0 (INT 0x82 from ring 3): fresh operands on both pages, RO_PAGE
 * read-only (CR0.WP is clear: ring 0 may still write it). */
reset_operands:
        movl    $MEM_LO, RW_PAGE
        movl    $MEM_HI, RW_PAGE + 4
        movl    $MEM_LO, RO_PAGE
        movl    $MEM_HI, RO_PAGE + 4
        andl    $~2, PT + (RO_PAGE >> 12) * 4
        FLUSH_TLB
        iret

/* #PF: records the frame's EFLAGS and ECX, ESI, EDI, maps the faulting
 * page present, writable and user, and returns to the instruction. */
pf_handler:
        pushl   %eax
        pushl   %ecx
        movl    20(%esp), %eax
        movl    %eax, pf_flags
        movl    %ecx, pf_ecx
        movl    %esi, pf_esi
        movl    %edi, pf_edi
        incl    pf_count
        movl    %cr2, %ecx
        shrl    $12, %ecx
        movl    %ecx, %eax
        shll    $12, %eax
        orl     $7, %eax
        movl    %eax, PT(,%ecx,4)
        FLUSH_TLB
        popl    %ecx
        popl    %eax
        addl    $4, %esp
        iret

/* Bytes i ^ 0x5A around HOLE (mapped for the while), the same at OTHER
 * for CMPS but the one matching HOLE + 2, then HOLE not present. */
hole_setup:
        movl    $(HOLE & ~0xFFF) + 7, PT + (HOLE >> 12) * 4
        FLUSH_TLB
        movl    $HOLE - 64, %edi
        movl    $128, %ecx
1:      movl    %edi, %eax
        xorb    $0x5A, %al
        stosb
        loop    1b
        movl    $HOLE - 6, %esi
        movl    $OTHER, %edi
        movl    $16, %ecx
        rep movsb
        xorb    $1, OTHER + 8
        movl    $0, PT + (HOLE >> 12) * 4
        FLUSH_TLB
        movl    $0, pf_count
        cld
        ret

rep_movsd:
        rep movsl
        ret
loop_movsd:
1:      movsl
        loop    1b
        ret
rep_stosd:
        rep stosl
        ret
loop_stosd:
1:      stosl
        loop    1b
        ret
repe_cmpsb:
        repe cmpsb
        ret
loope_cmpsb:
1:      cmpsb
        loope   1b
        ret

/* lib.inc's call gate leads here; nothing here calls it. */
gate_target:
        hlt

        .align  4
family: .long   0
case_eax:
        .long   0
loops:  .long   0
pf_count:
        .long   0
pf_flags:
        .long   0
pf_ecx: .long   0
pf_esi: .long   0
pf_edi: .long   0
ref:    .fill   8, 4, 0
got:    .fill   8, 4, 0

        SCAFFOLD
