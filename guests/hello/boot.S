/*
 * hello: moon86's demo boot sector (GNU as, 16-bit real mode).
 *
 * Loaded at 0000:7C00 with DL = 0x80, it reports progress on the POST-code
 * port, prints a greeting on the debug console (port 0xE9), then asks the
 * machine to stop through the debug-exit port (0xF4): writing 0 there ends
 * the run with exit status (0 << 1) | 1 = 1. Rebuild with guests/build.sh.
 */
        .code16
        .text
        .globl  _start
_start:
        cli
        xorw    %ax, %ax
        movw    %ax, %ds
        movw    %ax, %ss
        movw    $0x7c00, %sp
        cld

        movb    $0x01, %al              /* POST 01: started */
        outb    %al, $0x80

        movw    $greeting, %si
        movw    $0xe9, %dx
1:      lodsb
        testb   %al, %al
        jz      2f
        outb    %al, %dx
        jmp     1b

2:      movb    $0x02, %al              /* POST 02: greeting printed */
        outb    %al, $0x80

        xorb    %al, %al                /* exit status (0 << 1) | 1 = 1 */
        outb    %al, $0xf4
3:      hlt                             /* not reached under moon86 */
        jmp     3b

greeting:
        .asciz  "Hello from moon86!\r\n"

        .org    510
        .byte   0x55, 0xaa
