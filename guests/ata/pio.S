/*
 * ata/pio: a boot sector that drives the primary ATA channel by PIO, with
 * interrupts off and by polling the status register, and reports on the
 * debug console (port 0xE9):
 *   1. IDENTIFY DEVICE to the master: prints the model string (words 27-46)
 *      and a newline;
 *   2. READ SECTORS (LBA28) of sector 0: prints its 512 bytes in hex and a
 *      newline;
 *   3. WRITE SECTORS (LBA28) of this boot sector's own 512 bytes to sector 1,
 *      then READ SECTORS EXT (LBA48) of sector 1 and compares: prints
 *      "write ok" or "write bad" and a newline.
 * Then it stops through the debug-exit port (0xF4) with status 0 (the run's
 * exit status is 1); on an ATA error it prints "ata error" and writes 1
 * (exit status 3). Rebuild with guests/build.sh.
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
        cld

        /* 1. IDENTIFY DEVICE */
        movw    $0x1f6, %dx
        movb    $0xa0, %al
        outb    %al, %dx
        movw    $0x1f7, %dx
        movb    $0xec, %al
        outb    %al, %dx
        call    wait_drq
        call    read_sector
        movw    $0x8000 + 54, %si
        movw    $20, %cx
1:      lodsw
        xchgb   %al, %ah
        outb    %al, $0xe9
        movb    %ah, %al
        outb    %al, $0xe9
        loop    1b
        call    newline

        /* 2. READ SECTORS, LBA 0 */
        movw    $0x2000, %bx            /* command 0x20, LBA 0 */
        call    lba28
        call    wait_drq
        call    read_sector
        movw    $0x8000, %si
        movw    $512, %cx
2:      lodsb
        call    hexbyte
        loop    2b
        call    newline

        /* 3. WRITE SECTORS of 0x7C00 to LBA 1, read it back by LBA48 */
        movw    $0x3001, %bx            /* command 0x30, LBA 1 */
        call    lba28
        call    wait_drq
        movw    $0x7c00, %si
        movw    $256, %cx
        movw    $0x1f0, %dx
        rep outsw
        call    wait_idle
        movw    $0x1f2, %dx             /* the previous contents: high bytes */
        xorb    %al, %al
        outb    %al, %dx
        incw    %dx
        outb    %al, %dx
        incw    %dx
        outb    %al, %dx
        incw    %dx
        outb    %al, %dx
        movw    $0x2401, %bx            /* command 0x24, LBA 1 */
        movb    $0x40, %ah
        call    lba_regs
        call    wait_drq
        call    read_sector
        movw    $0x7c00, %si
        movw    $0x8000, %di
        movw    $256, %cx
        repe cmpsw
        movw    $ok, %si
        je      3f
        movw    $bad, %si
3:      call    print
        xorb    %al, %al
        jmp     exit

/* Sets up a one-sector LBA28 command: BH = command, BL = LBA. */
lba28:
        movb    $0xe0, %ah
/* The same with AH = the device register. */
lba_regs:
        movw    $0x1f6, %dx
        movb    %ah, %al
        outb    %al, %dx
        movw    $0x1f2, %dx
        movb    $1, %al
        outb    %al, %dx
        incw    %dx
        movb    %bl, %al
        outb    %al, %dx
        incw    %dx
        xorb    %al, %al
        outb    %al, %dx
        incw    %dx
        outb    %al, %dx
        movw    $0x1f7, %dx
        movb    %bh, %al
        outb    %al, %dx
        ret

/* Reads 512 bytes from the data port to 0x8000. */
read_sector:
        movw    $0x8000, %di
        movw    $256, %cx
        movw    $0x1f0, %dx
        rep insw
        ret

/* Waits for DRQ; an error ends the run. */
wait_drq:
        movw    $0x1f7, %dx
1:      inb     %dx, %al
        testb   $0x80, %al
        jnz     1b
        testb   $0x01, %al
        jnz     fail
        testb   $0x08, %al
        jz      1b
        ret

/* Waits for the end of a command; an error ends the run. */
wait_idle:
        movw    $0x1f7, %dx
1:      inb     %dx, %al
        testb   $0x88, %al
        jnz     1b
        testb   $0x01, %al
        jnz     fail
        ret

fail:
        movw    $error, %si
        call    print
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
        andb    $0x0f, %al
        addb    $'0', %al
        cmpb    $'9', %al
        jbe     1f
        addb    $7, %al
1:      outb    %al, $0xe9
        ret

print:
        lodsb
        testb   %al, %al
        jz      newline
        outb    %al, $0xe9
        jmp     print
newline:
        movb    $'\n', %al
        outb    %al, $0xe9
        ret

ok:     .asciz  "write ok"
bad:    .asciz  "write bad"
error:  .asciz  "ata error"

        .org    510
        .byte   0x55, 0xaa
