/*
 * pmode: moon86's protected-mode and paging test guest (GNU as, flat
 * binary loaded at 0000:7C00). Each check prints one line, "ok N what",
 * on the debug console; the Rust test tests/cputest.rs asserts them all.
 * Rebuild with guests/build.sh.
 */
        .include "lib.inc"
        .text
        .globl  _start
_start:
        START_PM
        movl    %cr0, %eax
        andl    $1, %eax
        cmpl    $1, %eax
        CHECK_EQ 1, "protected mode entered"

        /* 2: a null selector loads into DS, but using it is #GP(0). */
        TRY     2f
        xorw    %ax, %ax
        movw    %ax, %ds
        movl    (0), %eax
2:      CHECK   2, 13, 0, "#GP(0) on access through a null DS"

        /* 3: a selector beyond the GDT limit is #GP(selector). */
        TRY     3f
        movw    $0x1F8, %ax
        movw    %ax, %ds
3:      CHECK   3, 13, 0x1F8, "#GP(sel) for a selector beyond the GDT limit"

        /* 4: a not-present data segment is #NP(selector). */
        TRY     4f
        movw    $NOTPRES, %ax
        movw    %ax, %es
4:      CHECK   4, 11, NOTPRES, "#NP(sel) for a not-present data segment"

        /* 5: writing through a read-only data segment is #GP(0). */
        TRY     5f
        movw    $RODATA, %ax
        movw    %ax, %fs
        movl    %eax, %fs:(0x50000)
5:      CHECK   5, 13, 0, "#GP(0) on a write to a read-only segment"

        /* 6: MOV SS with a read-only data segment is #GP(selector). */
        TRY     6f
        movw    $RODATA, %ax
        movw    %ax, %ss
6:      CHECK   6, 13, RODATA, "#GP(sel) loading SS with read-only data"

        /* 7: CLI at CPL 3 with IOPL 0 is #GP(0). */
        RING3   user_cli, 7f
7:      CHECK   7, 13, 0, "#GP(0) for CLI at CPL 3, IOPL 0"

        /* 8: INT through a DPL-0 gate from CPL 3 is #GP(vector*8+2). */
        RING3   user_int81, 8f
8:      CHECK   8, 13, 0x81*8+2, "#GP(idt) for INT through a DPL-0 gate at CPL 3"

        /* 9: INT through a DPL-3 gate from CPL 3 enters ring 0. */
        RING3   user_int80, 9f
9:      CHECK   9, 0x80, 0, "INT 0x80 from CPL 3 through a DPL-3 gate"

        /* 10: CPL 3 cannot load a DPL-0 data segment. */
        RING3   user_load_kdata, 10f
10:     CHECK   10, 13, KDATA, "#GP(sel) loading a DPL-0 segment at CPL 3"

        /* 11: HLT at CPL 3 is #GP(0). */
        RING3   user_hlt, 11f
11:     CHECK   11, 13, 0, "#GP(0) for HLT at CPL 3"

        /* 12: a call gate from CPL 3 reaches ring 0 with the TSS stack. */
        RING3   user_callgate, 12f
12:     cmpl    $0xC0DE, got_vec
        CHECK_EQ 12, "call gate from CPL 3 runs at ring 0 on the TSS stack"

        /* 13: a fault while delivering #GP is a double fault, #DF(0). */
        andb    $0x7F, idt + 13 * 8 + 5
        TRY     13f
        xorw    %ax, %ax
        movw    %ax, %gs
        movl    %gs:(0), %eax
13:     orb     $0x80, idt + 13 * 8 + 5
        CHECK   13, 8, 0, "#DF(0) when the #GP gate is not present"

        /* Paging: identity-map 4 MiB, page 0x90000 supervisor-only, page
         * 0x91000 not present. */
        call    identity_map
        movl    $0x90003, PAGE_TABLE + 0x90 * 4
        movl    $0, PAGE_TABLE + 0x91 * 4
        movl    $PAGE_DIR, %eax
        movl    %eax, %cr3
        movl    %cr0, %eax
        orl     $0x80000000, %eax
        movl    %eax, %cr0
        jmp     1f
1:      movl    $0x12345678, (0x7000)
        cmpl    $0x12345678, (0x7000)
        CHECK_EQ 14, "paging on with an identity map"

        /* 15: a user read of a supervisor page is #PF(5), CR2 = address. */
        RING3   user_read_super, 15f
15:     CHECK   15, 14, 5, "#PF(U,P) for a user read of a supervisor page"
        movl    %cr2, %eax
        cmpl    $0x90010, %eax
        CHECK_EQ 16, "CR2 holds the faulting address"

        /* 17: a supervisor write to a not-present page is #PF(W). */
        TRY     17f
        movl    %eax, (0x91000)
17:     CHECK   17, 14, 2, "#PF(W) for a supervisor write to a not-present page"

        /* 18: a write sets the accessed and dirty bits of the PTE. */
        movl    %eax, (0x92000)
        movl    PAGE_TABLE + 0x92 * 4, %eax
        andl    $0x60, %eax
        cmpl    $0x60, %eax
        CHECK_EQ 18, "a write sets A and D in the page-table entry"

        /* 19: a user write to a read-only page is #PF(U,W,P). */
        movl    $0x93005, PAGE_TABLE + 0x93 * 4
        RING3   user_write_ro, 19f
19:     CHECK   19, 14, 7, "#PF(U,W,P) for a user write to a read-only page"

        EXIT    0

/* Ring-3 code. */
user_cli:
        cli
user_int81:
        int     $0x81
user_int80:
        int     $0x80
user_load_kdata:
        movw    $KDATA, %ax
        movw    %ax, %ds
user_hlt:
        hlt
user_callgate:
        lcall   $GATE3, $0
/* IRET to ring 3 nulled DS (it held a DPL-0 selector): use SS. */
user_read_super:
        movl    %ss:(0x90010), %eax
user_write_ro:
        movl    %eax, %ss:(0x93000)

/* Ring 0 through the call gate: check CPL 0 and the TSS stack, then
 * report through got_vec and resume. */
gate_target:
        movw    $KDATA, %ax
        movw    %ax, %ds
        movw    %cs, %ax
        testw   $3, %ax
        jnz     1f
        cmpl    $STACK0 - 16, %esp
        jne     1f
        movl    $0xC0DE, got_vec
1:      movw    $KDATA, %ax
        movw    %ax, %ss
        movl    saved_esp, %esp
        jmp     *resume_addr

        SCAFFOLD
