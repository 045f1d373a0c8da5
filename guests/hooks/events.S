/*
 * events: a guest that does one of each thing a hook can watch, in a fixed
 * order, for the hook tests (tests/lua/test_hooks.lua). Load it with
 * load_raw at 0x7C00 (cs = 0, ip = 0x7C00). Rebuild with guests/build.sh.
 *
 *   1. prints "boot\n" on COM1
 *   2. writes 1..5 to the word COUNTER (0x600), reading FLAG (0x604) after
 *      each write, at the instruction labelled `store` (its address is
 *      0x7C00 + offset, see the listing in the test)
 *   3. OUT 0x42 to port 0x80, IN from port 0x61
 *   4. INT 0x40 (software), UD2 (exception 6; its handler skips it)
 *   5. prints "keys?\n" and reads scancodes from the 8042 until Enter's
 *      release (set 1: 0x9C), storing them at KEYBUF (0x700) with the count
 *      at KEYCOUNT (0x6FE); prints "keys ok\n"
 *   6. writes "READY" on the text screen's first line
 *   7. enters protected mode ("pm\n"), then turns paging on with one
 *      identity-mapped 4 MiB page ("pg\n")
 *   8. exits through port 0xF4 with status (0 << 1) | 1 = 1
 */
        .set    COUNTER, 0x600
        .set    FLAG, 0x604
        .set    KEYCOUNT, 0x6fe
        .set    KEYBUF, 0x700
        .set    PAGEDIR, 0x1000
        .set    COM1, 0x3f8

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
        movw    $int40, 0x40*4          /* IVT: INT 0x40 and #UD handlers */
        movw    $0, 0x40*4+2
        movw    $ud_handler, 6*4
        movw    $0, 6*4+2

        movw    $msg_boot, %si
        call    puts

        movw    $1, %cx
store_loop:
store:  movw    %cx, COUNTER
        movw    FLAG, %ax
        incw    %cx
        cmpw    $6, %cx
        jne     store_loop

        movb    $0x42, %al
        outb    %al, $0x80
        inb     $0x61, %al

        int     $0x40
        ud2

        movw    $msg_keys, %si
        call    puts
        movw    $0, KEYCOUNT
        movw    $KEYBUF, %di
key_wait:
        inb     $0x64, %al
        testb   $1, %al
        jz      key_wait
        inb     $0x60, %al
        stosb
        incw    KEYCOUNT
        cmpb    $0x9c, %al
        jne     key_wait
        movw    $msg_keys_ok, %si
        call    puts

        movw    $0xb800, %ax
        movw    %ax, %es
        xorw    %di, %di
        movw    $msg_ready, %si
        movb    $0x07, %ah
1:      lodsb
        testb   %al, %al
        jz      2f
        stosw
        jmp     1b
2:      xorw    %ax, %ax
        movw    %ax, %es

        lgdt    gdt_ptr
        movl    %cr0, %eax
        orl     $1, %eax
        movl    %eax, %cr0
        ljmp    $0x08, $pm32

        .code32
pm32:
        movw    $0x10, %ax
        movw    %ax, %ds
        movw    %ax, %es
        movw    %ax, %ss
        movl    $0x7c00, %esp
        movl    $msg_pm, %esi
        call    puts32
        movl    $0x83, PAGEDIR          /* 4 MiB page 0: present, writable */
        movl    %cr4, %eax
        orl     $0x10, %eax             /* PSE */
        movl    %eax, %cr4
        movl    $PAGEDIR, %eax
        movl    %eax, %cr3
        movl    %cr0, %eax
        orl     $0x80000000, %eax
        movl    %eax, %cr0
        movl    $msg_pg, %esi
        call    puts32
        xorb    %al, %al
        outb    %al, $0xf4
3:      hlt
        jmp     3b

puts32:                                 /* ESI: NUL-terminated string */
        movw    $COM1, %dx
1:      lodsb
        testb   %al, %al
        jz      2f
        outb    %al, %dx
        jmp     1b
2:      ret

        .code16
puts:                                   /* SI: NUL-terminated string */
        movw    $COM1, %dx
1:      lodsb
        testb   %al, %al
        jz      2f
        outb    %al, %dx
        jmp     1b
2:      ret

int40:
        iret

ud_handler:                             /* skip the 2-byte UD2 */
        pushw   %bp
        movw    %sp, %bp
        addw    $2, 2(%bp)
        popw    %bp
        iret

        .p2align 3
gdt:
        .quad   0
        .quad   0x00cf9a000000ffff      /* 0x08: flat 32-bit code */
        .quad   0x00cf92000000ffff      /* 0x10: flat data */
gdt_ptr:
        .word   gdt_ptr - gdt - 1
        .long   gdt

msg_boot:       .asciz  "boot\n"
msg_keys:       .asciz  "keys?\n"
msg_keys_ok:    .asciz  "keys ok\n"
msg_ready:      .asciz  "READY"
msg_pm:         .asciz  "pm\n"
msg_pg:         .asciz  "pg\n"
