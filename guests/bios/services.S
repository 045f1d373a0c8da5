/*
 * bios/services: a hard disk's boot sector (an MBR without a partition
 * table) that loads the rest of itself (7 more sectors, to 0x7E00) through
 * INT 13h and calls the BIOS services bootloaders use, reporting each
 * result as a line on the debug console (port 0xE9). Numbers are decimal
 * unless named as hex (registers, BCD, E820 fields). The lines, in order:
 *
 *   bios services: boot drive=80
 *   int13 02 80 load: cf=0 ah=00 al=07        this program's sectors 2-8
 *   int13 08 DD: cf= ah= maxcyl= maxhead= spt= drives=   (DD = 80, 81)
 *   int13 15 DD: cf= ah= sectors=             CX:DX
 *   int13 02 80 c=2 h=3 s=5: cf= ah= al= data=TAG
 *   int13 02 81 last: c= h= s= cf= ...        the last sector AH=08h
 *                                             gave (CL's cylinder bits)
 *   int13 41 DD: cf= ah= bx= cx=              BX=55AA in
 *   int13 42 80 lba=2209: cf= ah= count= data=TAG   (the CHS sector above)
 *   int13 42 81 lba=1228000: ...              past the reach of CHS
 *   int13 48 DD: cf= ah= size= cyl= heads= spt= sectors= bps=
 *   int13 43 81 lba=1228001: cf= ah= count=   writes 0xA000 (tagged)
 *   int13 42 81 lba=1228001: cf= ah= count= readback=same|differs
 *   int13 42 80 lba=DISK0_SECTORS: cf= ah=    one past the end
 *   int13 02 80 c=1000 h=0 s=1: cf= ah=       a cylinder past the end
 *   int10 0f: mode= cols= page=               (hex mode)
 *   int10 03: row= col=                       after AH=02 to row 20 col 10
 *   int10 03: row= col=                       after "cursor was at 20,10" by AH=0E
 *   int16 01 before: zf=1
 *   int16 00: waiting for a key               the test types "m\n" now
 *   int16 00: ax=HHHH
 *   int16 01 after: zf=0 ax=HHHH              polled until a key is there
 *   int16 00: ax=HHHH
 *   int16 01 empty: zf=1
 *   int15 e820: base=HHHHHHHHHHHHHHHH len=HHHHHHHHHHHHHHHH type=N   (each)
 *   int15 e820: entries=N
 *   int15 88: cf= ah= ax=                      KiB above 1 MiB
 *   int15 e801: cf= ah= ax= bx= cx= dx=        KiB 1-16 MiB, 64 KiB above
 *   int1a 02: cf= time=HH:MM:SS dst=HH         BCD
 *   int1a 04: cf= date=CCYY-MM-DD              BCD
 *   int1a 00: start= end= loops=               ticks, busy-waiting 3 ticks
 *   int12: ax=
 *   done
 *
 * INT 10h AH=0Eh also writes "moon86 bios services" on the screen's first
 * free line. TAG is a sector's first bytes up to a NUL (at most 31): the
 * test's images start each sector with "hdN lba L". Then the program stops
 * through the debug-exit port (0xF4) with status 0 (the run's exit status
 * is 1); if its own sectors cannot be loaded it writes 1 (status 3).
 * DISK0_SECTORS below must match the test's first disk. Rebuild with
 * guests/build.sh.
 */
        .code16
        .text
        .globl  _start

        .equ    NSECT, 7                /* sectors after the boot sector */
        .equ    DISK0_SECTORS, 20160    /* 20 cylinders of 16 x 63 */
        .equ    BUF, 0x9000
        .equ    WBUF, 0xA000
        .equ    E820BUF, 0xB000

/* Prints the string that follows the macro. */
.macro  say s
        call    sayi
        .asciz  "\s"
.endm

_start:
        cli
        xorw    %ax, %ax
        movw    %ax, %ds
        movw    %ax, %es
        movw    %ax, %ss
        movw    $0x7c00, %sp
        sti
        cld
        movb    %dl, drive

        say     "bios services: boot drive="
        movb    drive, %al
        call    hex8
        call    newline

        movw    $0x0200 + NSECT, %ax
        movw    $0x0002, %cx            /* cylinder 0, sector 2 */
        xorb    %dh, %dh
        movb    drive, %dl
        movw    $0x7e00, %bx
        int     $0x13
        call    status
        say     "int13 02 80 load: "
        call    cf_ah
        say     " al="
        call    hex8
        call    newline
        cmpb    $0, saved_cf
        je      main
        movb    $1, %al
        jmp     exit

/* Saves CF and AH after a BIOS call (all registers and flags kept). */
status:
        pushfw
        pushw   %ax
        setc    saved_cf
        movb    %ah, saved_ah
        popw    %ax
        popfw
        ret

/* Prints "cf=C ah=HH" from what status saved. */
cf_ah:
        say     "cf="
        pushw   %ax
        movb    saved_cf, %al
        addb    $'0', %al
        outb    %al, $0xe9
        say     " ah="
        movb    saved_ah, %al
        call    hex8
        popw    %ax
        ret

/* Prints the NUL-terminated string after the call. */
sayi:
        pushw   %bp
        movw    %sp, %bp
        pushw   %si
        pushw   %ax
        movw    2(%bp), %si
1:      lodsb
        testb   %al, %al
        jz      2f
        outb    %al, $0xe9
        jmp     1b
2:      movw    %si, 2(%bp)
        popw    %ax
        popw    %si
        popw    %bp
        ret

newline:
        pushw   %ax
        movb    $'\n', %al
        outb    %al, $0xe9
        popw    %ax
        ret

hex32:
        rorl    $16, %eax
        call    hex16
        rorl    $16, %eax
hex16:
        xchgb   %al, %ah
        call    hex8
        xchgb   %al, %ah
hex8:
        pushw   %ax
        shrb    $4, %al
        call    nibble
        popw    %ax
        pushw   %ax
        call    nibble
        popw    %ax
        ret
nibble:
        andb    $0x0f, %al
        addb    $'0', %al
        cmpb    $'9', %al
        jbe     1f
        addb    $7, %al
1:      outb    %al, $0xe9
        ret

/* Prints EAX in decimal. */
dec32:
        pushal
        xorw    %cx, %cx
        movl    $10, %ebx
1:      xorl    %edx, %edx
        divl    %ebx
        pushw   %dx
        incw    %cx
        testl   %eax, %eax
        jnz     1b
2:      popw    %ax
        addb    $'0', %al
        outb    %al, $0xe9
        loop    2b
        popal
        ret

/* Prints AX in decimal. */
dec16:
        pushl   %eax
        movzwl  %ax, %eax
        call    dec32
        popl    %eax
        ret

exit:
        outb    %al, $0xf4
3:      hlt                             /* not reached under moon86 */
        jmp     3b

drive:          .byte   0
saved_cf:       .byte   0
saved_ah:       .byte   0

        .org    510
        .byte   0x55, 0xaa

/* ---- the sectors loaded at 0x7E00 ---------------------------------- */

main:
        /* INT 13h AH=08h and AH=15h for both disks. */
        movb    $0x80, %dl
        call    params
        movb    $0x81, %dl
        call    params
        movw    %cx, last_cx            /* its last sector, for AH=02h */
        movb    %dh, last_dh
        movb    $0x80, %dl
        call    disktype
        movb    $0x81, %dl
        call    disktype

        /* AH=02h: CHS reads on cylinder > 0, head > 0. */
        say     "int13 02 80 c=2 h=3 s=5: "
        movw    $0x0205, %cx
        movb    $3, %dh
        movb    $0x80, %dl
        call    chs_read
        call    show_read
        say     "int13 02 81 last: c="
        movw    last_cx, %cx
        movb    last_dh, %dh
        movb    %cl, %al
        xorb    %ah, %ah
        shlw    $2, %ax
        movb    %ch, %al
        call    dec16
        say     " h="
        movb    %dh, %al
        xorb    %ah, %ah
        call    dec16
        say     " s="
        movb    %cl, %al
        andw    $0x3f, %ax
        call    dec16
        say     " "
        movb    $0x81, %dl
        call    chs_read
        call    show_read

        /* AH=41h */
        movb    $0x80, %dl
        call    extcheck
        movb    $0x81, %dl
        call    extcheck

        /* AH=42h */
        say     "int13 42 80 lba=2209: "
        movb    $0x42, %cl
        movb    $0x80, %dl
        movl    $2209, %eax
        movw    $BUF, %bx
        call    lba_op
        call    show_count
        call    show_tag
        say     "int13 42 81 lba=1228000: "
        movb    $0x42, %cl
        movb    $0x81, %dl
        movl    $1228000, %eax
        movw    $BUF, %bx
        call    lba_op
        call    show_count
        call    show_tag

        /* AH=48h */
        movb    $0x80, %dl
        call    extparams
        movb    $0x81, %dl
        call    extparams

        /* AH=43h, then AH=42h back: the sector at WBUF is a tag and a
           pattern. */
        movw    $wtag, %si
        movw    $WBUF, %di
        movw    $wtag_end - wtag, %cx
        rep movsb
        movw    $WBUF + 512, %cx
        subw    %di, %cx
        movb    $0x5a, %al
1:      stosb
        incb    %al
        loop    1b
        say     "int13 43 81 lba=1228001: "
        movb    $0x43, %cl
        movl    $1228001, %eax
        movb    $0x81, %dl
        movw    $WBUF, %bx
        call    lba_op
        call    show_count
        call    newline
        say     "int13 42 81 lba=1228001: "
        movw    $BUF, %di               /* clear the buffer first */
        movw    $256, %cx
        xorw    %ax, %ax
        rep stosw
        movb    $0x42, %cl
        movb    $0x81, %dl
        movl    $1228001, %eax
        movw    $BUF, %bx
        call    lba_op
        call    show_count
        say     " readback="
        movw    $BUF, %si
        movw    $WBUF, %di
        movw    $256, %cx
        repe cmpsw
        jne     2f
        say     "same"
        jmp     3f
2:      say     "differs"
3:      call    newline

        /* Errors: one sector past the end by LBA, a cylinder past the end
           by CHS. */
        say     "int13 42 80 lba="
        movl    $DISK0_SECTORS, %eax
        call    dec32
        say     ": "
        movb    $0x42, %cl
        movb    $0x80, %dl
        movl    $DISK0_SECTORS, %eax
        movw    $BUF, %bx
        call    lba_op
        call    cf_ah
        call    newline
        say     "int13 02 80 c=1000 h=0 s=1: "
        movb    $1000 & 0xff, %ch
        movb    $(1 | ((1000 >> 2) & 0xc0)), %cl
        xorb    %dh, %dh
        movb    $0x80, %dl
        call    chs_read
        call    cf_ah
        call    newline

        jmp     video

/* AH=08h for drive DL. */
params:
        pushw   %es
        say     "int13 08 "
        movb    %dl, %al
        call    hex8
        say     ": "
        movb    $0x08, %ah
        xorw    %di, %di
        int     $0x13
        call    status
        popw    %es
        call    cf_ah
        say     " maxcyl="
        movb    %cl, %al
        xorb    %ah, %ah
        shlw    $2, %ax
        movb    %ch, %al
        call    dec16
        say     " maxhead="
        movb    %dh, %al
        xorb    %ah, %ah
        call    dec16
        say     " spt="
        movb    %cl, %al
        andw    $0x3f, %ax
        call    dec16
        say     " drives="
        movb    %dl, %al
        xorb    %ah, %ah
        call    dec16
        jmp     newline

/* AH=15h for drive DL. */
disktype:
        say     "int13 15 "
        movb    %dl, %al
        call    hex8
        say     ": "
        movb    $0x15, %ah
        int     $0x13
        call    status
        call    cf_ah
        say     " sectors="
        movw    %cx, %ax
        shll    $16, %eax
        movw    %dx, %ax
        call    dec32
        jmp     newline

/* AH=02h of one sector at CX/DH on drive DL to BUF. */
chs_read:
        pushw   %cx
        pushw   %dx
        movw    $BUF, %di               /* clear the buffer first */
        movw    $256, %cx
        xorw    %ax, %ax
        rep stosw
        popw    %dx
        popw    %cx
        movw    $0x0201, %ax
        movw    $BUF, %bx
        int     $0x13
        jmp     status

show_read:
        call    cf_ah
        say     " al="
        call    hex8
/* Prints " data=" and BUF's tag, and a newline. */
show_tag:
        say     " data="
        pushw   %si
        movb    $0, BUF + 31
        movw    $BUF, %si
1:      lodsb
        testb   %al, %al
        jz      2f
        outb    %al, $0xe9
        jmp     1b
2:      popw    %si
        jmp     newline

/* AH=41h for drive DL. */
extcheck:
        say     "int13 41 "
        movb    %dl, %al
        call    hex8
        say     ": "
        movb    $0x41, %ah
        movw    $0x55aa, %bx
        int     $0x13
        call    status
        call    cf_ah
        say     " bx="
        movw    %bx, %ax
        call    hex16
        say     " cx="
        movw    %cx, %ax
        call    hex16
        jmp     newline

/* Function CL (42h or 43h) of one sector at LBA EAX on drive DL, buffer
   BX, through the packet `dap`; a read clears the buffer first. */
lba_op:
        cmpb    $0x42, %cl
        jne     1f
        pushw   %cx
        pushw   %ax
        movw    %bx, %di
        movw    $256, %cx
        xorw    %ax, %ax
        rep stosw
        popw    %ax
        popw    %cx
1:
        movb    $16, dap
        movb    $0, dap + 1
        movw    $1, dap + 2
        movw    %bx, dap + 4
        movw    $0, dap + 6
        movl    %eax, dap + 8
        movl    $0, dap + 12
        movb    %cl, %ah
        movb    $0, %al                 /* AH=43h: no verify */
        movw    $dap, %si
        int     $0x13
        jmp     status

/* Prints "cf= ah= count=" after lba_op. */
show_count:
        call    cf_ah
        say     " count="
        movw    dap + 2, %ax
        jmp     dec16

/* AH=48h for drive DL. */
extparams:
        say     "int13 48 "
        movb    %dl, %al
        call    hex8
        say     ": "
        movw    $BUF, %di               /* clear the buffer first */
        movw    $32, %cx
        xorw    %ax, %ax
        rep stosw
        movw    $0x1a, BUF
        movb    $0x48, %ah
        movw    $BUF, %si
        int     $0x13
        call    status
        call    cf_ah
        say     " size="
        movw    BUF, %ax
        call    dec16
        say     " cyl="
        movl    BUF + 4, %eax
        call    dec32
        say     " heads="
        movl    BUF + 8, %eax
        call    dec32
        say     " spt="
        movl    BUF + 12, %eax
        call    dec32
        say     " sectors="
        movl    BUF + 16, %eax
        cmpl    $0, BUF + 20
        je      1f
        say     "(over 4G)"
1:      call    dec32
        say     " bps="
        movw    BUF + 24, %ax
        call    dec16
        jmp     newline

/* ---- INT 10h ------------------------------------------------------- */

video:
        movw    $screen_hello, %si
        call    teletype
        movb    $0x0f, %ah
        int     $0x10
        say     "int10 0f: mode="
        call    hex8
        say     " cols="
        pushw   %ax
        movb    %ah, %al
        xorb    %ah, %ah
        call    dec16
        popw    %ax
        say     " page="
        movb    %bh, %al
        xorb    %ah, %ah
        call    dec16
        call    newline

        movb    $0x02, %ah
        xorb    %bh, %bh
        movw    $((20 << 8) | 10), %dx
        int     $0x10
        call    cursor
        movw    $screen_cursor, %si
        call    teletype
        call    cursor

        /* ---- INT 16h --------------------------------------------------- */

        say     "int16 01 before: "
        call    keystatus
        call    newline
        say     "int16 00: waiting for a key"
        call    newline
        call    readkey
        say     "int16 01 after: "
        movl    $2000000, %ecx
1:      movb    $0x01, %ah
        int     $0x16
        jnz     2f
        decl    %ecx
        jnz     1b
2:      call    keystatus
        call    newline
        call    readkey
        say     "int16 01 empty: "
        call    keystatus
        call    newline
        jmp     memory

/* AH=03h: prints "int10 03: row= col=". */
cursor:
        movb    $0x03, %ah
        xorb    %bh, %bh
        int     $0x10
        say     "int10 03: row="
        movb    %dh, %al
        xorb    %ah, %ah
        call    dec16
        say     " col="
        movb    %dl, %al
        xorb    %ah, %ah
        call    dec16
        jmp     newline

/* Writes the string at SI on the screen by AH=0Eh. */
teletype:
        lodsb
        testb   %al, %al
        jz      1f
        movb    $0x0e, %ah
        movw    $0x0007, %bx
        int     $0x10
        jmp     teletype
1:      ret

/* AH=01h: prints "zf=1" or "zf=0 ax=HHHH". */
keystatus:
        movb    $0x01, %ah
        int     $0x16
        jz      1f
        say     "zf=0 ax="
        call    hex16
        ret
1:      say     "zf=1"
        ret

/* AH=00h: prints "int16 00: ax=HHHH". */
readkey:
        xorb    %ah, %ah
        int     $0x16
        say     "int16 00: ax="
        call    hex16
        jmp     newline

/* ---- INT 15h, INT 1Ah, INT 12h ------------------------------------ */

memory:
        xorl    %ebx, %ebx
        xorw    %bp, %bp                /* entries */
1:      movl    $0xe820, %eax
        movl    $0x534d4150, %edx       /* 'SMAP' */
        movl    $20, %ecx
        movw    $E820BUF, %di
        int     $0x15
        jc      3f
        cmpl    $0x534d4150, %eax
        jne     3f
        incw    %bp
        say     "int15 e820: base="
        movl    E820BUF + 4, %eax
        call    hex32
        movl    E820BUF, %eax
        call    hex32
        say     " len="
        movl    E820BUF + 12, %eax
        call    hex32
        movl    E820BUF + 8, %eax
        call    hex32
        say     " type="
        movl    E820BUF + 16, %eax
        call    dec32
        call    newline
        testl   %ebx, %ebx
        jz      3f
        cmpw    $32, %bp
        jb      1b
3:      say     "int15 e820: entries="
        movw    %bp, %ax
        call    dec16
        call    newline

        say     "int15 88: "
        movb    $0x88, %ah
        clc
        int     $0x15
        call    status
        call    cf_ah
        say     " ax="
        call    dec16
        call    newline

        say     "int15 e801: "
        movw    $0xe801, %ax
        xorw    %bx, %bx
        xorw    %cx, %cx
        xorw    %dx, %dx
        clc
        int     $0x15
        call    status
        call    cf_ah
        say     " ax="
        call    dec16
        say     " bx="
        movw    %bx, %ax
        call    dec16
        say     " cx="
        movw    %cx, %ax
        call    dec16
        say     " dx="
        movw    %dx, %ax
        call    dec16
        call    newline

        say     "int1a 02: "
        movb    $0x02, %ah
        clc
        int     $0x1a
        call    status
        say     "cf="
        movb    saved_cf, %al
        addb    $'0', %al
        outb    %al, $0xe9
        say     " time="
        movb    %ch, %al
        call    hex8
        say     ":"
        movb    %cl, %al
        call    hex8
        say     ":"
        movb    %dh, %al
        call    hex8
        say     " dst="
        movb    %dl, %al
        call    hex8
        call    newline

        say     "int1a 04: "
        movb    $0x04, %ah
        clc
        int     $0x1a
        call    status
        say     "cf="
        movb    saved_cf, %al
        addb    $'0', %al
        outb    %al, $0xe9
        say     " date="
        movw    %cx, %ax
        call    hex16
        say     "-"
        movb    %dh, %al
        call    hex8
        say     "-"
        movb    %dl, %al
        call    hex8
        call    newline

        say     "int1a 00: start="
        xorb    %ah, %ah
        int     $0x1a
        movw    %cx, %ax
        shll    $16, %eax
        movw    %dx, %ax
        movl    %eax, %esi              /* the start */
        call    dec32
        xorl    %edi, %edi              /* loops */
1:      incl    %edi
        xorb    %ah, %ah
        int     $0x1a
        movw    %cx, %ax
        shll    $16, %eax
        movw    %dx, %ax
        subl    %esi, %eax
        cmpl    $3, %eax
        jae     2f
        cmpl    $2000000, %edi
        jb      1b
2:      say     " end="
        addl    %esi, %eax
        call    dec32
        say     " loops="
        movl    %edi, %eax
        call    dec32
        call    newline

        say     "int12: ax="
        int     $0x12
        call    dec16
        call    newline

        say     "done"
        call    newline
        xorb    %al, %al
        jmp     exit

dap:            .fill   16
last_cx:        .word   0
last_dh:        .byte   0
wtag:           .asciz  "written by int13 43"
wtag_end:
screen_hello:   .asciz  "moon86 bios services\r\n"
screen_cursor:  .asciz  "cursor was at 20,10"

        .org    512 * (NSECT + 1)
