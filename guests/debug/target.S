# link: 0x100000
/*
 * debug/target: the guest of the gdb stub and SDL window tests
 * (tests/gdb.rs, tests/sdl_window.rs). A Multiboot v1 kernel with load
 * addresses (header flag 16), entered in flat 32-bit protected mode at
 * `entry`; boot it with `moon86 boot --kernel guests/debug/target.bin`.
 * Its labels sit at fixed addresses (the `.org` lines) so the tests can
 * name them without symbols:
 *
 *   0x100040 entry   paints the text screen: a blue background and three
 *                    lines of text in several colours
 *   0x100100 store   a loop storing 1..5 into COUNTER (0x101000)
 *   0x100120 load    reads FLAG (0x101004) into EAX
 *   0x100140 spin    loops while SPIN (0x101008) is not zero (0 as loaded;
 *                    a debugger sets it to have a guest that runs forever)
 *   0x100160 finish  writes 0 to the debug-exit port 0xF4 (exit status 1)
 *
 * With the command line "keys" (`--append keys`) it goes from the screen
 * to `keys` instead: it echoes the keys typed (set 1, US layout,
 * unshifted) on line 10 until Enter, then goes to `finish`.
 *
 * Rebuild with guests/build.sh.
 */
        .set    MB_MAGIC, 0x1badb002
        .set    MB_FLAGS, 0x00010000    /* bit 16: the addresses below are valid */
        .set    SCREEN, 0xb8000
        .set    STACK_TOP, 0x180000
        .set    EXIT_PORT, 0xf4

        .text
        .globl  _start
_start:
        jmp     entry

        .p2align 2
mb_header:
        .long   MB_MAGIC
        .long   MB_FLAGS
        .long   -(MB_MAGIC + MB_FLAGS)
        .long   mb_header               /* header_addr */
        .long   _start                  /* load_addr */
        .long   image_end               /* load_end_addr */
        .long   image_end               /* bss_end_addr: no BSS */
        .long   entry                   /* entry_addr */

        .org    0x40, 0x90
entry:
        movl    $STACK_TOP, %esp
        cld
        movl    $SCREEN, %edi           /* blue background, grey spaces */
        movl    $0x1720, %eax
        movl    $80*25, %ecx
        rep stosw
        movl    $SCREEN + 2*(80*2 + 4), %edi
        movl    $line1, %esi
        movb    $0x1f, %ah              /* white on blue */
        call    print
        movl    $SCREEN + 2*(80*4 + 4), %edi
        movl    $line2, %esi
        movb    $0x4e, %ah              /* yellow on red */
        call    print
        movl    $SCREEN + 2*(80*6 + 4), %edi
        movl    $line3, %esi
        movb    $0x2a, %ah              /* light green on green */
        call    print
        testb   $4, (%ebx)              /* Multiboot: a command line? */
        jz      1f
        movl    16(%ebx), %esi
        cmpl    $0x7379656b, (%esi)     /* "keys" */
        je      keys
1:      movl    $1, %ecx
        jmp     store

        .org    0x100, 0x90
store:
        movl    %ecx, counter
        incl    %ecx
        cmpl    $6, %ecx
        jne     store

        .org    0x120, 0x90
load:
        movl    flag, %eax
        addl    %eax, %ecx

        .org    0x140, 0x90
spin:
        cmpl    $0, spin_flag
        jne     spin

        .org    0x160, 0x90
finish:
        movb    $0, %al                 /* exit status (0 << 1) | 1 = 1 */
        outb    %al, $EXIT_PORT
        cli
1:      hlt
        jmp     1b

/*
 * The command line "keys": echo the keys typed (set 1 make codes, US
 * layout, unshifted) on screen line 10 in yellow on blue until Enter, then
 * leave through `finish`.
 */
keys:
        movl    $SCREEN + 2*(80*10 + 4), %edi
        movb    $0x1e, %ah
2:      inb     $0x64, %al
        testb   $1, %al
        jz      2b
        inb     $0x60, %al
        cmpb    $0x1c, %al              /* Enter */
        je      finish
        cmpb    $0x3a, %al              /* releases and keys beyond the table */
        jae     2b
        movzbl  %al, %esi
        movb    keymap(%esi), %al
        testb   %al, %al
        jz      2b
        stosw
        jmp     2b

/* Prints the NUL-terminated string at ESI to the screen at EDI in colour AH. */
print:
        lodsb
        testb   %al, %al
        jz      1f
        stosw
        jmp     print
1:      ret

/* Set 1 make codes 0x00..0x39 to characters (0: not echoed). */
keymap: .ascii  "\0\0" "1234567890-=" "\0\0" "qwertyuiop[]" "\0\0" "asdfghjkl;'`"
        .ascii  "\0\\" "zxcvbnm,./" "\0*\0 "

line1:  .asciz  "moon86 debug target: gdb stub and SDL window test guest"
line2:  .asciz  "0123456789 ABCDEFGHIJKLMNOPQRSTUVWXYZ abcdefghijklmnopqrstuvwxyz"
line3:  .asciz  "Box: \xc9\xcd\xcd\xbb \xb0\xb1\xb2\xdb  the end."

        .org    0x1000
counter:
        .long   0
flag:
        .long   0x55aa1234
spin_flag:
        .long   0
image_end:
