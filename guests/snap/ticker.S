/*
 * snap/ticker: a guest that never stops, for snapshot tests (GNU as).
 *
 * Programs the 8259A (IRQ0 -> vector 8) and the 8254 (channel 0, mode 2,
 * 1000 Hz), sets COM1 to 115200 baud with its FIFO on, and loops forever:
 * it counts passes of the loop in a doubleword, keeps a running sum of the
 * tick count in the x87's ST(0), and at every new timer tick prints one
 * line on COM1 (waiting for THRE between characters):
 *
 *     T=tick C=passes F=fpu-sum S=rtc-seconds
 *
 * in hex, writes '.' to the debug console, and every 16th tick sleeps in
 * HLT until the next interrupt. So the output depends on the PIT, the PIC,
 * the UART's timing and FIFO, the RTC, the FPU and the clock jumps of a
 * sleeping CPU: a restored snapshot must carry all of them to continue
 * with the same text. Rebuild with guests/build.sh.
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
        movw    $1193, %ax              /* 1193182 / 1193 = 1000 Hz */
        outb    %al, $0x40
        movb    %ah, %al
        outb    %al, $0x40

        movw    $COM1+3, %dx            /* DLAB on, divisor 1: 115200 baud */
        movb    $0x80, %al
        outb    %al, %dx
        movw    $COM1, %dx
        movb    $1, %al
        outb    %al, %dx
        incw    %dx
        xorb    %al, %al
        outb    %al, %dx
        movw    $COM1+3, %dx            /* 8N1, DLAB off */
        movb    $0x03, %al
        outb    %al, %dx
        movw    $COM1+2, %dx            /* FIFO on, both cleared */
        movb    $0x07, %al
        outb    %al, %dx

        fninit
        fldz                            /* ST(0): the running sum */
        sti

main:   addl    $1, passes
        movw    ticks, %ax
        cmpw    %ax, seen
        je      main
        movw    %ax, seen
        fiadds  seen                    /* sum += tick */
        fistl   fsum                    /* its low word is printed */

        movb    $'T', %al
        call    field
        movw    seen, %ax
        call    hex16
        movb    $'C', %al
        call    field
        movw    passes+2, %ax
        call    hex16
        movw    passes, %ax
        call    hex16
        movb    $'F', %al
        call    field
        movw    fsum, %ax
        call    hex16
        movb    $'S', %al
        call    field
        xorb    %al, %al                /* CMOS 0: RTC seconds */
        outb    %al, $0x70
        inb     $0x71, %al
        xorb    %ah, %ah
        call    hex16
        movb    $'\n', %al
        call    putc
        movb    $'.', %al
        outb    %al, $0xe9

        testw   $15, seen               /* every 16th tick: sleep */
        jnz     main
        hlt
        jmp     main

irq0:   pushw   %ax
        incw    ticks
        movb    $0x20, %al              /* non-specific EOI */
        outb    %al, $0x20
        popw    %ax
        iret

field:  pushw   %ax                     /* " X=" (no space before T) */
        cmpb    $'T', %al
        je      1f
        movb    $' ', %al
        call    putc
1:      popw    %ax
        call    putc
        movb    $'=', %al
        jmp     putc

hex16:  movw    $4, %cx                 /* AX as four hex digits */
2:      rolw    $4, %ax
        pushw   %ax
        andb    $0x0f, %al
        addb    $'0', %al
        cmpb    $'9', %al
        jbe     3f
        addb    $'a'-'9'-1, %al
3:      call    putc
        popw    %ax
        loop    2b
        ret

putc:   pushw   %dx                     /* AL on COM1 once THRE is set */
        pushw   %ax
        movw    $COM1+5, %dx
4:      inb     %dx, %al
        testb   $0x20, %al
        jz      4b
        popw    %ax
        movw    $COM1, %dx
        outb    %al, %dx
        popw    %dx
        ret

ticks:  .word   0
seen:   .word   0
fsum:   .long   0
passes: .long   0

        .org    510
        .byte   0x55, 0xaa
