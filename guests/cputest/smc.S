/*
 * smc: moon86's self-modifying-code test guest (GNU as, flat binary loaded
 * at 0000:7C00). Code runs, is changed, and runs again; each check prints
 * "ok N what" on the debug console. tests/icache.rs runs it with the
 * decoded-instruction cache on and off: both must print every line and end
 * in the same state. Rebuild with guests/build.sh.
 *
 * Fixed places (.org): a 16-bit routine at 0x9000 and a 32-bit one at
 * 0xC000 (each the first instruction of its page, so a doubleword written
 * 2 bytes before the page changes its opcode and immediate), and two
 * 32-bit routines at 0xA000 and 0xB000 that the page-table checks map at
 * linear 0x200000.
 */
        .include "lib.inc"
        .set    ALIAS, 0x300000         /* linear alias of physical 0x9000 */
        .set    REMAP, 0x200000         /* linear page mapped to 0xA000 or 0xB000 */
        .set    PTAB, 0x81000
        .text
        .globl  _start
        .code16
_start:
        cli
        xorw    %ax, %ax
        movw    %ax, %ds
        movw    %ax, %es
        movw    %ax, %ss
        movw    $0x7c00, %sp
        cld

        /* Real mode 1: each pass writes the immediate of the very next
         * instruction (3, 2, 1): the sum is 6. */
        xorw    %bx, %bx
        movw    $3, %cx
1:      movb    %cl, rm_next + 1
rm_next:
        movb    $0, %al
        addb    %al, %bl
        loop    1b
        movw    %bx, rm_r1

        /* Real mode 2: REP MOVSB rewrites an instruction that already ran
         * (0x1111, then 0x2222). */
        xorw    %bx, %bx
        movw    $2, %dx
2:
rm_movs:
        movw    $0x1111, %ax
        addw    %ax, %bx
        movw    $rm_src, %si
        movw    $rm_movs, %di
        movw    $3, %cx
        rep movsb
        decw    %dx
        jnz     2b
        movw    %bx, rm_r2

        /* Real mode 3: a doubleword written across the 0x9000 page boundary
         * changes the first instruction of the page (0x1111 -> 0x1122). */
        call    rm_page
        movw    %ax, rm_r3
        movl    $0x22B80000, (0x8FFE)
        call    rm_page
        movw    %ax, rm_r3 + 2

        START_PM
        cmpw    $6, rm_r1
        CHECK_EQ 1, "real mode: a write to the next instruction's immediate"
        cmpw    $0x3333, rm_r2
        CHECK_EQ 2, "real mode: REP MOVSB over an instruction that ran"
        cmpl    $0x11221111, rm_r3
        CHECK_EQ 3, "real mode: a doubleword write across a page boundary"

        /* Paging: identity-map 4 MiB with supervisor pages; ALIAS maps
         * physical 0x9000, REMAP physical 0xA000. */
        movl    $0x80000, %edi
        movl    $PTAB + 3, (%edi)
        movl    $PTAB, %edi
        movl    $3, %eax
        movl    $1024, %ecx
1:      stosl
        addl    $0x1000, %eax
        loop    1b
        movl    $0x9003, PTAB + (ALIAS >> 12) * 4
        movl    $0xA003, PTAB + (REMAP >> 12) * 4
        movl    $0x80000, %eax
        movl    %eax, %cr3
        movl    %cr0, %eax
        orl     $0x80000000, %eax
        movl    %eax, %cr0
        jmp     1f
1:
        /* 4: with paging, each pass writes the next instruction's
         * immediate (4, 3, 2, 1): 10. */
        xorl    %ebx, %ebx
        movl    $4, %ecx
1:      movl    %ecx, pm_next + 1
pm_next:
        movl    $0, %eax
        addl    %eax, %ebx
        loop    1b
        cmpl    $10, %ebx
        CHECK_EQ 4, "paging: a write to the next instruction's immediate"

        /* 5: a write through another linear page (ALIAS) changes code run
         * at its identity address. */
        call    pc_page
        call    pc_alias
        movl    $0x12345678, pc_page + 1
        call    pc_page
        cmpl    $0x12345678, %eax
        jne     5f
        movl    $0x55555555, ALIAS + (pc_alias - 0x9000) + 1
        call    pc_alias
        cmpl    $0x55555555, %eax
5:      CHECK_EQ 5, "paging: a write through an alias page"

        /* 6: a doubleword written across a page boundary with paging on
         * (split into two translations) changes the first instruction of
         * the second page. */
        call    pm_page
        movl    %eax, %ebx
        movl    $0x22B80000, (0xBFFE)
        call    pm_page
        cmpl    $0x11111111, %ebx
        jne     6f
        cmpl    $0x11111122, %eax
6:      CHECK_EQ 6, "paging: a doubleword write across a page boundary"

        /* 7: REMAP runs 0xA000 (1); its PTE now names 0xB000 (2): after
         * INVLPG the new page runs. */
        call    REMAP
        movl    %eax, %ebx
        movl    $0xB003, PTAB + (REMAP >> 12) * 4
        invlpg  REMAP
        call    REMAP
        cmpl    $1, %ebx
        jne     7f
        cmpl    $2, %eax
7:      CHECK_EQ 7, "paging: a PTE changed and INVLPG runs the new page"

        /* 8: back to 0xA000 through a CR3 reload. */
        movl    $0xA003, PTAB + (REMAP >> 12) * 4
        movl    %cr3, %eax
        movl    %eax, %cr3
        call    REMAP
        cmpl    $1, %eax
        CHECK_EQ 8, "paging: a PTE changed and a CR3 reload runs the old page"

        /* 9: REP MOVSD copies the 0xB000 routine over the 0xA000 one,
         * which ran just now. */
        movl    $0xB000, %esi
        movl    $0xA000, %edi
        movl    $2, %ecx
        rep movsl
        call    REMAP
        cmpl    $2, %eax
        CHECK_EQ 9, "paging: REP MOVSD over code that ran"

        EXIT    0

/* The scaffold's call gate leads here; this guest does not use it. */
gate_target:
        EXIT    2

        SCAFFOLD

rm_r1:  .long   0
rm_r2:  .long   0
rm_r3:  .long   0, 0
        .code16
rm_src: movw    $0x2222, %ax            /* data: the bytes REP MOVSB copies */

        .org    0x9000 - 0x7c00
rm_page:
        movw    $0x1111, %ax
        ret
        .code32
/* 32-bit routines on the same page, for check 5. */
pc_page:
        movl    $0, %eax
        ret
pc_alias:
        movl    $0, %eax
        ret

        .org    0xA000 - 0x7c00
        .code32
        movl    $1, %eax
        ret
        nop
        nop

        .org    0xB000 - 0x7c00
        movl    $2, %eax
        ret
        nop
        nop

        .org    0xC000 - 0x7c00
pm_page:
        movl    $0x11111111, %eax
        ret
