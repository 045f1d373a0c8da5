/*
 * board/pcat: exercises moon86's PC/AT board from real mode (GNU as).
 *
 * Programs the 8259A (IRQ0 -> vector 8) and the 8254 (channel 0, mode 2,
 * 100 Hz), sleeps in HLT until ten timer interrupts have arrived, checks the
 * CMOS base-memory size, closes and reopens the A20 gate (keyboard
 * controller command 0xDD, then port 0x92) watching 1 MiB wrap around,
 * echoes one byte received on COM1, and reports each step on COM1. Leaves
 * through the exit port: status 1 when every check passed, 3 otherwise.
 * Rebuild with guests/build.sh.
 */
        .code16
        .text
        .globl  _start
        .set    COM1, 0x3f8
_start:
        cli
        xorw    %ax, %ax
        movw    %ax, %ds
        movw    %ax, %es
        movw    %ax, %ss
        movw    $0x7c00, %sp
        cld

        movw    $irq0, 8*4              /* IVT[8] = 0000:irq0 */
        movw    $0, 8*4+2

        movb    $0x11, %al              /* ICW1: edge, cascade, ICW4 */
        outb    %al, $0x20
        outb    %al, $0xa0
        movb    $0x08, %al              /* ICW2: master vectors 8-15 */
        outb    %al, $0x21
        movb    $0x70, %al              /* slave vectors 0x70-0x77 */
        outb    %al, $0xa1
        movb    $0x04, %al              /* ICW3 */
        outb    %al, $0x21
        movb    $0x02, %al
        outb    %al, $0xa1
        movb    $0x01, %al              /* ICW4: 8086 mode */
        outb    %al, $0x21
        outb    %al, $0xa1
        movb    $0xfe, %al              /* only IRQ0 unmasked */
        outb    %al, $0x21
        movb    $0xff, %al
        outb    %al, $0xa1

        movb    $0x34, %al              /* PIT ch0, lo/hi, mode 2 */
        outb    %al, $0x43
        movw    $11932, %ax             /* 1193182 / 11932 = 100 Hz */
        outb    %al, $0x40
        movb    %ah, %al
        outb    %al, $0x40

        sti
1:      hlt
        cmpw    $10, ticks
        jb      1b
        cli
        movw    $m_ticks, %si
        call    puts

        movb    $0x15, %al              /* CMOS 0x15-0x16: base memory in KiB */
        outb    %al, $0x70
        inb     $0x71, %al
        movb    %al, %bl
        movb    $0x16, %al
        outb    %al, $0x70
        inb     $0x71, %al
        movb    %al, %bh
        cmpw    $640, %bx
        jne     fail
        movw    $m_cmos, %si
        call    puts

        movw    $0xffff, %ax            /* FS = 0xFFFF: FS:0x510 is linear 0x100500 */
        movw    %ax, %fs
        movb    $0xdd, %al              /* 8042: A20 off (port 0x92 is off too) */
        outb    %al, $0x64
        movb    $0x5a, 0x500
        cmpb    $0x5a, %fs:0x510        /* wraps to 0x500 */
        jne     fail
        inb     $0x92, %al              /* port 0x92: fast A20 on */
        orb     $0x02, %al
        outb    %al, $0x92
        movb    $0xa5, %fs:0x510        /* a separate byte now */
        cmpb    $0x5a, 0x500
        jne     fail
        movw    $m_a20, %si
        call    puts

        movw    $COM1+5, %dx            /* wait for a received byte */
2:      inb     %dx, %al
        testb   $0x01, %al
        jz      2b
        movw    $COM1, %dx
        inb     %dx, %al
        movb    %al, m_echo_byte
        movw    $m_echo, %si
        call    puts

        xorb    %al, %al                /* status (0 << 1) | 1 = 1: passed */
        outb    %al, $0xf4
fail:   movb    $1, %al                 /* status 3: a check failed */
        outb    %al, $0xf4
3:      hlt
        jmp     3b

irq0:   pushw   %ax
        incw    ticks
        movb    $0x20, %al              /* non-specific EOI */
        outb    %al, $0x20
        popw    %ax
        iret

puts:   pushw   %dx                     /* print the string at DS:SI on COM1 */
4:      lodsb
        testb   %al, %al
        jz      6f
        movb    %al, %ah
        movw    $COM1+5, %dx
5:      inb     %dx, %al                /* wait for THRE */
        testb   $0x20, %al
        jz      5b
        movw    $COM1, %dx
        movb    %ah, %al
        outb    %al, %dx
        jmp     4b
6:      popw    %dx
        ret

ticks:  .word   0
m_ticks: .asciz "ok timer: 10 interrupts\n"
m_cmos: .asciz  "ok cmos: 640K base memory\n"
m_a20:  .asciz  "ok a20: wraps when closed, not when open\n"
m_echo: .ascii  "ok serial: got "
m_echo_byte: .asciz "?\n"

        .org    510
        .byte   0x55, 0xaa
