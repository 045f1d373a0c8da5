/*
 * floppy/boot: a boot floppy's first two sectors, booted by a BIOS from
 * drive A: (a 1.44M image). Everything goes through INT 13h, so the BIOS
 * drives the floppy controller and DMA channel 2; results are printed on
 * the debug console (port 0xE9):
 *   1. "MOON86 FLOPPY" and the drive number the BIOS booted from;
 *   2. AH=08h: "geometry CC HH SS" (last cylinder, last head, sectors per
 *      track, hex);
 *   3. AH=02h reads of sectors 3-5 (CHS 0/0/3, three sectors) and of CHS
 *      1/1/1 (LBA 54) and 79/1/18 (LBA 2879) to 0x8000: prints the first 8
 *      bytes of each sector (the test image puts "LBA nnnn" there);
 *   4. self-modifying code by DMA: a stub at 0x7E00 (this file's second
 *      sector) is called once from a copy (so it is decoded and cached),
 *      then sector 2 is read by INT 13h over it and called again: it must
 *      print "stage2 by dma";
 *   5. AH=03h writes 0x7C00 (this boot sector) to LBA 2879, reads it
 *      back to 0x9000 and compares: "write ok" or "write bad".
 * Then it stops through the debug-exit port (0xF4) with status 0 (the run's
 * exit status is 1); a failed INT 13h prints "int13 error AH" and exits
 * with 1 (status 3). Rebuild with guests/build.sh.
 */
        .code16
        .text
        .globl  _start
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

        /* 1. */
        movw    $hello, %si
        call    print
        movb    drive, %al
        call    hexbyte
        call    newline

        /* 2. */
        movb    $0x08, %ah
        movb    drive, %dl
        pushw   %es
        int     $0x13
        popw    %es
        jc      fail
        movw    $geometry, %si
        call    print
        movb    %ch, %al
        call    hexbyte
        call    space
        movb    %dh, %al
        call    hexbyte
        call    space
        movb    %cl, %al
        andb    $0x3f, %al
        call    hexbyte
        call    newline

        /* 3. */
        movw    $0x0003, %cx            /* cylinder 0, sector 3 */
        xorb    %dh, %dh
        movb    $3, %al
        call    read
        movw    $0x0101, %cx            /* cylinder 1, sector 1, head 1 */
        movb    $1, %dh
        movb    $1, %al
        call    read
        movw    $0x4f12, %cx            /* cylinder 79, sector 18, head 1 */
        movb    $1, %dh
        movb    $1, %al
        call    read

        /* 4. A copy of the stub first, at 0x7E00, run once. */
        movw    $old_stub, %si
        movw    $0x7e00, %di
        movw    $old_stub_end - old_stub, %cx
        rep movsb
        call    0x7e00
        call    0x7e00
        movw    $0x0201, %ax            /* read one sector: sector 2 */
        movw    $0x0002, %cx
        xorb    %dh, %dh
        movb    drive, %dl
        movw    $0x7e00, %bx
        int     $0x13
        jc      fail
        call    0x7e00

        /* 5. */
        movw    $0x0301, %ax
        movw    $0x4f12, %cx
        movb    $1, %dh
        movb    drive, %dl
        movw    $0x7c00, %bx
        int     $0x13
        jc      fail
        movw    $0x0201, %ax
        movw    $0x4f12, %cx
        movb    $1, %dh
        movb    drive, %dl
        movw    $0x9000, %bx
        int     $0x13
        jc      fail
        movw    $0x7c00, %si
        movw    $0x9000, %di
        movw    $256, %cx
        repe cmpsw
        movw    $ok, %si
        je      1f
        movw    $bad, %si
1:      call    print
        call    newline
        xorb    %al, %al
        jmp     exit

/* Reads AL sectors at CX/DH to 0x8000 and prints each one's first 8 bytes. */
read:
        movb    drive, %dl
        movb    $0x02, %ah
        movw    $0x8000, %bx
        pushw   %ax
        int     $0x13
        popw    %bp
        jc      fail
        andw    $0xff, %bp
        movw    $0x8000, %si
1:      pushw   %si
        movw    $8, %cx
2:      lodsb
        outb    %al, $0xe9
        loop    2b
        call    newline
        popw    %si
        addw    $512, %si
        decw    %bp
        jnz     1b
        ret

fail:
        movw    $error, %si
        call    print
        movb    %ah, %al
        call    hexbyte
        call    newline
        movb    $1, %al
exit:
        outb    %al, $0xf4
4:      hlt                             /* not reached under moon86 */
        jmp     4b

hexbyte:
        pushw   %ax
        shrb    $4, %al
        call    nibble
        popw    %ax
nibble:
        pushw   %ax
        andb    $0x0f, %al
        addb    $'0', %al
        cmpb    $'9', %al
        jbe     1f
        addb    $7, %al
1:      outb    %al, $0xe9
        popw    %ax
        ret

/* Prints the string at SI. */
print:
        pushw   %ax
1:      lodsb
        testb   %al, %al
        jz      2f
        outb    %al, $0xe9
        jmp     1b
2:      popw    %ax
        ret
space:
        movb    $' ', %al
        outb    %al, $0xe9
        ret
newline:
        pushw   %ax
        movb    $'\n', %al
        outb    %al, $0xe9
        popw    %ax
        ret

/* The stub copied to 0x7E00 and run before sector 2 replaces it. */
old_stub:
        movw    $old_text - old_stub + 0x7e00, %si
        movw    $print, %ax
        call    *%ax                    /* absolute: this code is moved */
        ret
old_text:
        .asciz  "old stub\n"
old_stub_end:

drive:  .byte   0
hello:  .asciz  "MOON86 FLOPPY drive "
geometry: .asciz "geometry "
ok:     .asciz  "write ok"
bad:    .asciz  "write bad"
error:  .asciz  "int13 error "

        .org    510
        .byte   0x55, 0xaa

/* Sector 2, loaded at 0x7E00 by step 4. */
stage2:
        movw    $stage2_text, %si
        call    print
        ret
stage2_text:
        .asciz  "stage2 by dma\n"
        .org    1024
