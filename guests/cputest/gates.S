/*
 * gates: moon86's protected-mode conformance guest for call gates, ENTER
 * and hardware task switches (GNU as, flat binary loaded at 0000:7C00).
 * Each check prints one line, "ok N what", on the debug console (after
 * "  mismatch #id got X want Y" lines for whatever differed); the Rust
 * test tests/cputest.rs asserts them all. Rebuild with guests/build.sh.
 *
 * - Call gates: 0 to 31 parameters through 32- and 16-bit gates, for each
 *   legal privilege pair (inner calls 3->0, 3->1, 3->2, 2->0, 2->1, 1->0
 *   and same-ring calls). The gate's entry copies its frame; ring 0 then
 *   checks the new SS:ESP, the return CS:EIP, the copied parameters and
 *   the old SS:ESP on the new stack, and SS:ESP after RETF n.
 * - ENTER at nesting levels 0 to 31 with 16- and 32-bit operand and stack
 *   sizes, against the SDM's pseudocode computed here: EBP, ESP and every
 *   pushed value.
 * - Task switches to a 32-bit and a 16-bit TSS by JMP, CALL and INT
 *   through a task gate, back by IRET (NT and the back-link) or JMP: the
 *   state the new task sees, the old task's saved state, the state the
 *   returning task saved, busy bits.
 *
 * Every stack the gates use lies below 64 KiB, so 16-bit gates return to
 * the same ESP on any reading of the SDM.
 */
        .include "lib.inc"
        .set    GDT_EXTRA, 9
        .set    C1, 0x49                /* ring-1 code, flat */
        .set    D1, 0x51                /* ring-1 data */
        .set    C2, 0x5A                /* ring-2 code */
        .set    D2, 0x62                /* ring-2 data */
        .set    GATE, 0x6B              /* the call gate under test, DPL 3 */
        .set    GATE_SLOT, GATE - 3
        .set    S16, 0x70               /* 16-bit (B clear) ring-0 data */
        .set    TSSA, 0x78              /* 32-bit TSS of task A */
        .set    TSSB, 0x80              /* 16-bit TSS of task B */
        .set    LDTD, 0x88              /* an LDT for task B */
        .set    PARAM, 0xA5A5C300       /* parameter i is PARAM + i */
        .set    ENTER_ALLOC, 16         /* ENTER's size operand */
        .set    TASK_STACK, 0xF400
        .set    gate_target, gate_entry  /* lib.inc's GATE3; unused here */
        .text
        .globl  _start
_start:
        START_PM
        jmp     main

/* ---------------------------------------------------------------------
 * Shared checking.
 */

/* Compares `got` with `want` (both masked with `mask`); a difference
 * prints a mismatch line (with this macro's expansion number as its id)
 * and sets fails. */
.macro EXPECT got, want, mask=0xFFFFFFFF
        movl    \want, %edx
        movl    \got, %eax
        movl    $\mask, %ebx
        pushl   $\@
        call    expect_eq
.endm

/* "ok num text" when fails is still 0 (cleared by the caller). */
.macro REPORT num, text
        cmpl    $0, fails
        CHECK_EQ \num, "\text"
.endm

/* eax and edx masked by ebx must be equal; the id is on the stack. */
expect_eq:
        andl    %ebx, %eax
        andl    %ebx, %edx
        cmpl    %edx, %eax
        je      1f
        incl    fails
        pushl   %eax
        PUTS    "  mismatch #"
        movl    8(%esp), %eax
        call    puthex
        PUTS    " got "
        popl    %eax
        call    puthex
        PUTS    " want "
        movl    %edx, %eax
        call    puthex
        PUTS    "\n"
1:      ret     $4

/* Copies the extra descriptors into the GDT, sets the TSS's inner stacks
 * and the IDT's task gates. */
setup:
        movl    $extra_gdt, %esi
        movl    $gdt_extra, %edi
        movl    $GDT_EXTRA * 2, %ecx
        rep movsl
        movl    $RING0_SP, tss + 4
        movl    $RING1_SP, tss + 12
        movl    $D1, tss + 16
        movl    $RING2_SP, tss + 20
        movl    $D2, tss + 24
        movl    $0x82, %ecx
        movw    $TSSA, %ax
        call    set_task_gate
        movl    $0x83, %ecx
        movw    $TSSB, %ax
        call    set_task_gate
        ret

/* IDT[ecx] = a DPL-0 task gate to TSS selector ax. */
set_task_gate:
        movw    $0, idt(,%ecx,8)
        movw    %ax, idt+2(,%ecx,8)
        movw    $0x8500, idt+4(,%ecx,8)
        movw    $0, idt+6(,%ecx,8)
        ret

/* ---------------------------------------------------------------------
 * Call gates.
 */

/* Line `num`: calls from ring `from` to ring `to` through a `bits`-bit
 * gate with every parameter count. */
.macro GATE_LINE num, from, to, bits
        movl    $\from, g_from
        movl    $\to, g_to
        movl    $\bits / 8, g_size
        call    gate_all_counts
        REPORT  \num, "\bits-bit call gate, ring \from to ring \to, 0-31 parameters"
.endm

gate_all_counts:
        movl    $0, fails
        movl    $0, g_count
1:      call    gate_case
        incl    g_count
        cmpl    $32, g_count
        jne     1b
        ret

/* One call through GATE with g_count parameters, and its checks. */
gate_case:
        /* The gate: target code of ring g_to at gate_entry. */
        movl    g_to, %eax
        movw    code_sel(,%eax,4), %ax
        movw    $gate_entry, gdt + GATE_SLOT
        movw    %ax, gdt + GATE_SLOT + 2
        movb    g_count, %al
        movb    %al, gdt + GATE_SLOT + 4
        movb    $0xEC, %al
        cmpl    $4, g_size
        je      1f
        movb    $0xE4, %al
1:      movb    %al, gdt + GATE_SLOT + 5
        movl    $frame_buf, %edi
        movl    $40, %ecx
        xorl    %eax, %eax
        rep stosl
        /* To ring g_from, data segments usable at every ring. */
        TRY     gate_back
        movw    $UDATA, %ax
        movw    %ax, %ds
        movw    %ax, %es
        movl    g_from, %eax
        testl   %eax, %eax
        jnz     2f
        movl    caller_sp(,%eax,4), %esp
        jmp     caller
2:      pushl   data_sel(,%eax,4)
        pushl   caller_sp(,%eax,4)
        pushl   code_sel(,%eax,4)
        pushl   $caller
        lret
gate_back:
        EXPECT  got_vec, $0x80
        call    gate_expectations
        movl    g_size, %eax
        movl    mask_of(,%eax,4), %eax
        movl    %eax, g_mask
        /* The new stack. */
        EXPECT  g_in_ss, w_ss, 0xFFFF
        EXPECT  g_in_esp, w_esp
        /* Return address and caller's CS. */
        EXPECT  frame_buf, $caller_ret, 0xFFFF
        movl    g_from, %eax
        EXPECT  frame_buf+4, "code_sel(,%eax,4)", 0xFFFF
        /* Parameters: the last pushed is nearest the return address. */
        xorl    %ecx, %ecx
3:      cmpl    g_count, %ecx
        je      4f
        movl    g_count, %eax
        subl    %ecx, %eax
        leal    PARAM - 1(%eax), %eax
        movl    %eax, w_param
        pushl   %ecx
        movl    g_mask, %eax
        movl    %eax, w_mask
        movl    frame_buf + 8(,%ecx,4), %eax
        movl    w_param, %edx
        movl    w_mask, %ebx
        pushl   $0x100
        call    expect_eq
        popl    %ecx
        incl    %ecx
        jmp     3b
4:      /* The caller's SS:ESP above the parameters (inner calls only). */
        movl    g_to, %eax
        cmpl    g_from, %eax
        je      5f
        movl    g_count, %ecx
        movl    frame_buf + 8(,%ecx,4), %eax
        movl    g_call_esp, %edx
        movl    g_mask, %ebx
        pushl   $0x101
        call    expect_eq
        movl    g_count, %ecx
        movl    frame_buf + 12(,%ecx,4), %eax
        movl    g_from, %edx
        movl    data_sel(,%edx,4), %edx
        movl    $0xFFFF, %ebx
        pushl   $0x102
        call    expect_eq
5:      /* After RETF n: the caller's stack, parameters removed. */
        movl    g_count, %eax
        imull   g_size, %eax
        addl    g_call_esp, %eax
        movl    %eax, w_esp
        EXPECT  g_after_esp, w_esp
        movl    g_from, %eax
        EXPECT  g_after_ss, "data_sel(,%eax,4)", 0xFFFF
        ret

/* w_ss, w_esp: the stack the gate's entry should see. */
gate_expectations:
        movl    g_to, %eax
        cmpl    g_from, %eax
        je      1f
        movl    data_sel(,%eax,4), %edx
        movl    %edx, w_ss
        movl    tss_sp(,%eax,4), %edx
        movl    g_count, %eax
        addl    $4, %eax
        imull   g_size, %eax
        subl    %eax, %edx
        movl    %edx, w_esp
        ret
1:      movl    data_sel(,%eax,4), %edx
        movl    %edx, w_ss
        movl    g_call_esp, %edx
        subl    g_size, %edx
        subl    g_size, %edx
        movl    %edx, w_esp
        ret

/* Runs at ring g_from: pushes the parameters and calls through GATE. */
caller:
        xorl    %edx, %edx
1:      cmpl    g_count, %edx
        je      3f
        leal    PARAM(%edx), %eax
        incl    %edx
        cmpl    $2, g_size
        je      2f
        pushl   %eax
        jmp     1b
2:      pushw   %ax
        jmp     1b
3:      movl    %esp, g_call_esp
        lcall   $GATE, $0
caller_ret:
        movl    %esp, g_after_esp
        movw    %ss, g_after_ss
        int     $0x80

/* The gate's target, at ring g_to: copies count + 4 stack entries to
 * frame_buf and returns with RETF 4*count or 2*count. */
gate_entry:
        movl    %esp, g_in_esp
        movw    %ss, g_in_ss
        movl    g_count, %ecx
        addl    $4, %ecx
        movl    %esp, %esi
        xorl    %edi, %edi
        cmpl    $2, g_size
        je      2f
1:      movl    %ss:(%esi), %eax
        movl    %eax, frame_buf(,%edi,4)
        addl    $4, %esi
        incl    %edi
        loop    1b
        movl    g_count, %ecx
        jmp     *ret32_table(,%ecx,4)
2:      movzwl  %ss:(%esi), %eax
        movl    %eax, frame_buf(,%edi,4)
        addl    $2, %esi
        incl    %edi
        loop    2b
        movl    g_count, %ecx
        jmp     *ret16_table(,%ecx,4)

        .irp    n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
ret32_\n: lret  $\n * 4
ret16_\n: lretw $\n * 2
        .endr
ret32_table:
        .irp    n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
        .long   ret32_\n
        .endr
ret16_table:
        .irp    n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
        .long   ret16_\n
        .endr

/* ---------------------------------------------------------------------
 * ENTER.
 */

/* Line `num`: ENTER with a `op`-bit operand on a `stk`-bit stack at
 * every nesting level. */
.macro ENTER_LINE num, op, stk
        movl    $\op / 8, e_op
        movl    $\stk / 8, e_stk
        call    enter_all_levels
        REPORT  \num, "ENTER, \op-bit operand, \stk-bit stack, levels 0-31"
.endm

        .set    ENTER_SP, 0xE000        /* SP before ENTER */
        .set    ENTER_BP, 0xD000        /* BP before ENTER: the old frames */

enter_all_levels:
        movl    $0, fails
        movl    $0, e_level
1:      call    enter_case
        incl    e_level
        cmpl    $32, e_level
        jne     1b
        ret

/* One ENTER at level e_level, then its model. */
enter_case:
        /* The old frames: dword i below BP is 0xC0DE0000 + i. */
        xorl    %ecx, %ecx
1:      leal    0xC0DE0000(%ecx), %eax
        negl    %ecx
        movl    %eax, ENTER_BP - 4(,%ecx,4)
        negl    %ecx
        incl    %ecx
        cmpl    $33, %ecx
        jne     1b
        movl    $ENTER_SP - 0x100, %edi
        movl    $0x40, %ecx
        xorl    %eax, %eax
        rep stosl
        /* 16-bit stacks start with junk in the upper halves. */
        movl    $ENTER_SP, e_esp0
        movl    $ENTER_BP, e_ebp0
        movl    $0xFFFFFFFF, e_mask
        movw    $KDATA, e_ss
        cmpl    $2, e_stk
        jne     2f
        movl    $0x1234 << 16 | ENTER_SP, e_esp0
        movl    $0x5678 << 16 | ENTER_BP, e_ebp0
        movl    $0xFFFF, e_mask
        movw    $S16, e_ss
2:      movl    e_level, %eax
        shll    $4, %eax
        addl    $enter32_table, %eax
        cmpl    $4, e_op
        je      3f
        addl    $enter16_table - enter32_table, %eax
3:      movl    %esp, e_main_esp
        movw    e_ss, %ss
        movl    e_esp0, %esp
        movl    e_ebp0, %ebp
        jmp     *%eax
enter_done:
        movl    %esp, e_esp
        movl    %ebp, e_ebp
        movw    $KDATA, %ax
        movw    %ax, %ss
        movl    e_main_esp, %esp
        /* The model: esp is the stack pointer after each push. */
        movl    e_op, %eax
        movl    mask_of(,%eax,4), %eax
        movl    %eax, e_vmask
        movl    e_esp0, %eax
        call    e_push_sp
        movl    %eax, e_frame
        movl    $0, e_slot
        movl    e_ebp0, %eax
        movl    %eax, e_want
        call    e_check_slot
        cmpl    $0, e_level
        je      5f
        movl    e_ebp0, %eax
        movl    %eax, e_bp
        movl    $1, e_slot
4:      movl    e_slot, %eax
        cmpl    e_level, %eax
        je      6f
        movl    e_bp, %eax
        call    e_push_sp                       /* BP moves as SP does */
        movl    %eax, e_bp
        andl    e_mask, %eax
        movl    (%eax), %eax
        movl    %eax, e_want
        call    e_check_slot
        incl    e_slot
        jmp     4b
6:      movl    e_frame, %eax
        movl    %eax, e_want
        call    e_check_slot
        incl    e_slot
        jmp     7f
5:      movl    $1, e_slot
7:      /* ESP: below the pushes and the allocation, in the stack's width. */
        movl    e_slot, %eax
        imull   e_op, %eax
        addl    $ENTER_ALLOC, %eax
        movl    e_esp0, %edx
        subl    %eax, %edx
        movl    e_esp0, %eax
        call    e_merge
        movl    %eax, e_want
        EXPECT  e_esp, e_want
        /* EBP: the whole frame pointer, or only BP for a 16-bit operand. */
        movl    e_frame, %eax
        cmpl    $4, e_op
        je      8f
        movl    e_ebp0, %edx
        andl    $0xFFFF0000, %edx
        movzwl  %ax, %eax
        orl     %edx, %eax
8:      movl    %eax, e_want
        EXPECT  e_ebp, e_want
        ret

/* eax = (eax - e_op) in the stack's width, the rest of eax kept. */
e_push_sp:
        movl    %eax, %edx
        subl    e_op, %edx
        /* fall through */
/* eax = eax outside e_mask, edx inside it. */
e_merge:
        pushl   %ecx
        movl    e_mask, %ecx
        andl    %ecx, %edx
        notl    %ecx
        andl    %ecx, %eax
        orl     %edx, %eax
        popl    %ecx
        ret

/* Pushed value number e_slot (0 = the old EBP), e_op bytes below the
 * one before it, must equal e_want. */
e_check_slot:
        movl    e_slot, %eax
        incl    %eax
        imull   e_op, %eax
        movl    e_esp0, %edx
        subl    %eax, %edx
        andl    e_mask, %edx
        movl    (%edx), %eax
        movl    e_want, %edx
        movl    e_vmask, %ebx
        pushl   $0x400
        call    expect_eq
        ret

        .irp    n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
        .align  16
enter32_\n:
        enter   $ENTER_ALLOC, $\n
        jmp     enter_done
        .endr
        .irp    n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
        .align  16
enter16_\n:
        enterw  $ENTER_ALLOC, $\n
        jmp     enter_done
        .endr
        .set    enter32_table, enter32_0
        .set    enter16_table, enter16_0

/* ENTER at ring 3 just above a supervisor page (ENTER_PF_TOP is the
 * first user byte): the fault comes before any write. */
        .set    ENTER_PF_TOP, 0x50000
        .set    CANARY, 0x5A5A5A5A

/* Identity paging with the page below ENTER_PF_TOP supervisor-only. */
enter_paging_on:
        call    identity_map
        movl    $(ENTER_PF_TOP - 0x1000) | 3, PAGE_TABLE + (ENTER_PF_TOP - 0x1000) / 0x400
        movl    $PAGE_DIR, %eax
        movl    %eax, %cr3
        movl    %cr0, %eax
        orl     $0x80000000, %eax
        movl    %eax, %cr0
        jmp     1f
1:      ret

/* Line `num`: user code `user_enter_<what>` runs ENTER with ESP =
 * ENTER_PF_TOP + `above`; the first write that faults is `below` bytes
 * under ENTER_PF_TOP: #PF(U,W,P) there, the user page untouched, the
 * fault at the ENTER with ESP as it was. */
.macro ENTER_PF_LINE num, what, above, below, text
        movl    $0, fails
        movl    $CANARY, ENTER_PF_TOP
        movl    $CANARY, ENTER_PF_TOP + 4
        RING3   user_enter_\what, 1f
1:      EXPECT  got_vec, $14
        EXPECT  got_err, $7
        movl    %cr2, %eax
        EXPECT  %eax, $ENTER_PF_TOP-\below
        EXPECT  ENTER_PF_TOP, $CANARY
        EXPECT  ENTER_PF_TOP+4, $CANARY
        EXPECT  RING0_SP-20, $user_enter_\what\()_insn     /* EIP */
        EXPECT  RING0_SP-8, $ENTER_PF_TOP+\above           /* ESP */
        REPORT  \num, "ENTER at ring 3 whose \text a supervisor page: #PF(U,W,P), nothing written"
.endm

/* Three pushes: the old EBP, one copied frame pointer, the third below. */
user_enter_nested:
        movl    $ENTER_PF_TOP + 8, %esp
        movl    $ENTER_PF_TOP + 0x100, %ebp
user_enter_nested_insn:
        enter   $0, $3
        int     $0x80
/* One push on the user page, the 16 bytes allocated below it. */
user_enter_alloc:
        movl    $ENTER_PF_TOP + 4, %esp
user_enter_alloc_insn:
        enter   $16, $0
        int     $0x80

/* ---------------------------------------------------------------------
 * Task switches.
 */

/* Line `num`: switches to task `t` (a: 32-bit TSS, b: 16-bit) by `how`
 * (0 CALL, 1 JMP, 2 INT through the task gate). */
.macro TASK_LINE num, t, how, text
        movl    $\how, t_how
        call    task_\t\()_case
        REPORT  \num, "task switch by \text"
.endm

        .set    MAIN_EAX, 0x11111111
        .set    MAIN_EBX, 0x22222222
        .set    MAIN_ESI, 0x33333333

/* Loads the main registers the old task's TSS must save, then switches
 * to TSS or task gate `sel` by t_how. Returns at t_back. */
.macro SWITCH tss_sel, vector
        movl    $0, fails
        movl    $task_rec, %edi
        movl    $20, %ecx
        xorl    %eax, %eax
        rep stosl
        TRY     t_fault\@
        movl    %esp, t_main_esp
        movl    $MAIN_EAX, %eax
        movl    $MAIN_EBX, %ebx
        movl    $MAIN_ESI, %esi
        cmpl    $1, t_how
        je      1f
        jg      2f
        lcall   $\tss_sel, $0
3:      movl    $3b, t_back_eip
        jmp     t_back\@
1:      ljmp    $\tss_sel, $0
4:      movl    $4b, t_back_eip
        jmp     t_back\@
2:      int     $\vector
5:      movl    $5b, t_back_eip
t_back\@:
        /* Resumed from the main TSS: the registers it saved. */
        movl    %eax, t_after_eax
        movl    %ebx, t_after_ebx
        movl    %esi, t_after_esi
        movl    %esp, t_after_esp
        clts
        jmp     t_done\@
t_fault\@:
        /* An exception instead: report its vector, skip the checks. */
        EXPECT  got_vec, $0xFFFFFFFF
        clts
        ret
t_done\@:
.endm

/* The checks common to both TSS sizes, after the round trip. */
task_main_checks:
        /* The main task got its registers back. */
        EXPECT  t_after_eax, $MAIN_EAX
        EXPECT  t_after_ebx, $MAIN_EBX
        EXPECT  t_after_esi, $MAIN_ESI
        EXPECT  t_after_esp, t_main_esp
        /* Its TSS holds what it saved at the switch. */
        EXPECT  tss+0x20, t_back_eip
        EXPECT  tss+0x28, $MAIN_EAX
        EXPECT  tss+0x34, $MAIN_EBX
        EXPECT  tss+0x40, $MAIN_ESI
        EXPECT  tss+0x48, $KDATA, 0xFFFF
        EXPECT  tss+0x4C, $KCODE, 0xFFFF
        EXPECT  tss+0x50, $KDATA, 0xFFFF
        EXPECT  tss+0x54, $KDATA, 0xFFFF
        EXPECT  tss+0x58, $KDATA, 0xFFFF
        EXPECT  tss+0x5C, $KDATA, 0xFFFF
        /* Busy bits: the main task busy again, NT as the switch leaves it. */
        movzbl  gdt + TSS_SEL + 5, %eax
        EXPECT  %eax, $0x8B
        pushfl
        popl    %eax
        EXPECT  %eax, $0, 0x4000
        /* What the new task saw: NT and the back-link (not after JMP). */
        movl    task_rec + 56, %eax
        movl    $0x4000, %edx
        cmpl    $1, t_how
        jne     1f
        xorl    %edx, %edx
1:      EXPECT  %eax, %edx, 0x4000
        ret

task_a_case:
        movl    $tss_a_image, %esi
        movl    $tss_a, %edi
        movl    $0x68 / 4, %ecx
        rep movsl
        SWITCH  TSSA, 0x82
        call    task_main_checks
        /* What task A saw: the TSS's registers and selectors. */
        xorl    %ecx, %ecx
1:      movl    tss_a_image + 0x28(,%ecx,4), %edx
        movl    task_rec(,%ecx,4), %eax
        movl    $0xFFFFFFFF, %ebx
        pushl   $0x200
        call    expect_eq
        incl    %ecx
        cmpl    $14, %ecx
        jne     1b
        EXPECT  task_rec+60, $TSSA, 0xFFFF
        EXPECT  task_rec+64, $0, 0xFFFF
        /* What task A saved: where it left, its registers, NT cleared. */
        call    task_left_eip
        EXPECT  tss_a+0x20, %eax
        EXPECT  tss_a+0x28, tss_a_image+0x28
        EXPECT  tss_a+0x24, $0, 0x4000
        cmpl    $1, t_how
        je      2f
        EXPECT  tss_a, $TSS_SEL, 0xFFFF
2:      movzbl  gdt + TSSA + 5, %eax
        EXPECT  %eax, $0x89
        ret

task_b_case:
        movl    $tss_b_image, %esi
        movl    $tss_b, %edi
        movl    $0x30 / 4, %ecx
        rep movsl
        SWITCH  TSSB, 0x83
        call    task_main_checks
        /* What task B saw: 16-bit registers, four selectors, null FS and
         * GS, the LDT. */
        xorl    %ecx, %ecx
1:      movzwl  tss_b_image + 0x12(,%ecx,2), %edx
        movl    task_rec(,%ecx,4), %eax
        movl    $0xFFFF, %ebx
        pushl   $0x300
        call    expect_eq
        incl    %ecx
        cmpl    $12, %ecx
        jne     1b
        EXPECT  task_rec+48, $0, 0xFFFF
        EXPECT  task_rec+52, $0, 0xFFFF
        EXPECT  task_rec+60, $TSSB, 0xFFFF
        EXPECT  task_rec+64, $LDTD, 0xFFFF
        /* What task B saved: 16-bit fields only. */
        call    task_left_eip
        EXPECT  tss_b+0x0E, %eax, 0xFFFF
        EXPECT  tss_b+0x12, tss_b_image+0x12, 0xFFFF
        EXPECT  tss_b+0x10, $0, 0x4000
        EXPECT  tss_b+0x24, $KCODE, 0xFFFF
        EXPECT  tss_b+0x26, $S16, 0xFFFF
        EXPECT  tss_b+0x2A, $LDTD, 0xFFFF
        EXPECT  tss_b+0x2C, $0xCAFEF00D
        cmpl    $1, t_how
        je      2f
        EXPECT  tss_b, $TSS_SEL, 0xFFFF
2:      movzbl  gdt + TSSB + 5, %eax
        EXPECT  %eax, $0x81
        ret

/* eax = where the task left: after its IRET, or after its JMP back. */
task_left_eip:
        movl    $task_left_iret, %eax
        cmpl    $1, t_how
        jne     1f
        movl    $task_left_jmp, %eax
1:      ret

/* Both tasks: record what they were loaded with (GPRs, selectors,
 * EFLAGS, TR, LDTR) and go back by IRET, or by JMP after a JMP. */
task_entry:
        movl    %eax, task_rec + 0
        movl    %ecx, task_rec + 4
        movl    %edx, task_rec + 8
        movl    %ebx, task_rec + 12
        movl    %esp, task_rec + 16
        movl    %ebp, task_rec + 20
        movl    %esi, task_rec + 24
        movl    %edi, task_rec + 28
        movw    %es, task_rec + 32
        movw    %cs, task_rec + 36
        movw    %ss, task_rec + 40
        movw    %ds, task_rec + 44
        movw    %fs, task_rec + 48
        movw    %gs, task_rec + 52
        pushfl
        popl    task_rec + 56
        str     task_rec + 60
        sldt    task_rec + 64
        cmpl    $1, t_how
        je      1f
        iret
task_left_iret:
        jmp     task_entry
1:      ljmp    $TSS_SEL, $0
task_left_jmp:
        jmp     task_entry

main:
        cld
        call    setup
        PUTS    "ok 1 descriptors installed\n"

        GATE_LINE   2, 3, 0, 32
        GATE_LINE   3, 3, 0, 16
        GATE_LINE   4, 3, 1, 32
        GATE_LINE   5, 3, 1, 16
        GATE_LINE   6, 3, 2, 32
        GATE_LINE   7, 3, 2, 16
        GATE_LINE   8, 2, 0, 32
        GATE_LINE   9, 2, 0, 16
        GATE_LINE   10, 2, 1, 32
        GATE_LINE   11, 2, 1, 16
        GATE_LINE   12, 1, 0, 32
        GATE_LINE   13, 1, 0, 16
        GATE_LINE   14, 0, 0, 32
        GATE_LINE   15, 0, 0, 16
        GATE_LINE   16, 1, 1, 32
        GATE_LINE   17, 1, 1, 16
        GATE_LINE   18, 2, 2, 32
        GATE_LINE   19, 2, 2, 16
        GATE_LINE   20, 3, 3, 32
        GATE_LINE   21, 3, 3, 16

        ENTER_LINE  22, 32, 32
        ENTER_LINE  23, 16, 32
        ENTER_LINE  24, 32, 16
        ENTER_LINE  25, 16, 16

        TASK_LINE    26, a, 0, "CALL to a 32-bit TSS, IRET back through the back-link"
        TASK_LINE    27, a, 1, "JMP to a 32-bit TSS and JMP back"
        TASK_LINE    28, a, 2, "INT through a task gate to a 32-bit TSS, IRET back"
        TASK_LINE    29, b, 0, "CALL to a 16-bit TSS, IRET back through the back-link"
        TASK_LINE    30, b, 1, "JMP to a 16-bit TSS and JMP back"
        TASK_LINE    31, b, 2, "INT through a task gate to a 16-bit TSS, IRET back"

        call    enter_paging_on
        ENTER_PF_LINE 32, nested, 8, 4, "pushes reach"
        ENTER_PF_LINE 33, alloc, 4, 16, "allocation reaches"
        EXIT    0

/* ---------------------------------------------------------------------
 * Data.
 */
        .set    RING0_SP, 0xFFF0
        .set    RING1_SP, 0xF800
        .set    RING2_SP, 0xF000
code_sel:
        .long   KCODE, C1, C2, UCODE
data_sel:
        .long   KDATA, D1, D2, UDATA
tss_sp:
        .long   RING0_SP, RING1_SP, RING2_SP
caller_sp:
        .long   0xE800, 0xE400, 0xE000, 0xDC00
mask_of:
        .long   0, 0, 0xFFFF, 0, 0xFFFFFFFF

        .align  8
extra_gdt:
        .quad   0x00CFBB000000FFFF      /* 0x48 ring-1 code */
        .quad   0x00CFB3000000FFFF      /* 0x50 ring-1 data */
        .quad   0x00CFDB000000FFFF      /* 0x58 ring-2 code */
        .quad   0x00CFD3000000FFFF      /* 0x60 ring-2 data */
        .quad   0                       /* 0x68 the call gate, built per case */
        .quad   0x000093000000FFFF      /* 0x70 16-bit data */
        .word   0x67, tss_a             /* 0x78 32-bit TSS */
        .byte   0, 0x89, 0, 0
        .word   0x2B, tss_b             /* 0x80 16-bit TSS */
        .byte   0, 0x81, 0, 0
        .word   7, ldt_table            /* 0x88 LDT */
        .byte   0, 0x82, 0, 0

        .align  8
ldt_table:
        .quad   0

/* Task A: a 32-bit TSS image (EIP, EFLAGS, 8 GPRs, 6 selectors, LDT). */
        .align  4
tss_a_image:
        .fill   8, 4, 0
        .long   task_entry, 0x2
        .long   0xA1A1A1A1, 0xA2A2A2A2, 0xA3A3A3A3, 0xA4A4A4A4
        .long   TASK_STACK, 0xA6A6A6A6, 0xA7A7A7A7, 0xA8A8A8A8
        .long   KDATA, KCODE, KDATA, KDATA, UDATA, KDATA
        .long   0, 0
/* Task B: a 16-bit TSS image (IP, FLAGS, 8 GPRs, ES CS SS DS, LDT) and
 * a canary where a 32-bit TSS would go on. */
tss_b_image:
        .word   0, 0, 0, 0, 0, 0, 0
        .word   task_entry, 0x2
        .word   0xB1B1, 0xB2B2, 0xB3B3, 0xB4B4
        .word   TASK_STACK, 0xB6B6, 0xB7B7, 0xB8B8
        .word   KDATA, KCODE, S16, KDATA
        .word   LDTD
        .long   0xCAFEF00D
        .word   0

        .align  16
tss_a:  .fill   0x68, 1, 0
tss_b:  .fill   0x30, 1, 0
task_rec:
        .fill   20, 4, 0
frame_buf:
        .fill   40, 4, 0
fails:  .long   0
g_from: .long   0
g_to:   .long   0
g_size: .long   0
g_count: .long  0
g_mask: .long   0
g_call_esp: .long 0
g_after_esp: .long 0
g_after_ss: .long 0
g_in_esp: .long 0
g_in_ss: .long  0
w_ss:   .long   0
w_esp:  .long   0
w_param: .long  0
w_mask: .long   0
e_op:   .long   0
e_stk:  .long   0
e_level: .long  0
e_mask: .long   0
e_vmask: .long  0
e_ss:   .long   0
e_esp0: .long   0
e_ebp0: .long   0
e_esp:  .long   0
e_ebp:  .long   0
e_main_esp: .long 0
e_frame: .long  0
e_bp:   .long   0
e_slot: .long   0
e_want: .long   0
t_how:  .long   0
t_main_esp: .long 0
t_after_eax: .long 0
t_after_ebx: .long 0
t_after_esi: .long 0
t_after_esp: .long 0
t_back_eip: .long 0

        SCAFFOLD
