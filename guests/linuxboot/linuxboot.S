# link: 0x0
/*
 * moon86's Linux loader option ROM: what `moon86 boot --bios ... --kernel`
 * gives the BIOS (as QEMU's linuxboot ROM does for -kernel). The BIOS finds
 * it as the fw_cfg file genroms/linuxboot.bin, runs its (empty) init entry
 * and registers its boot entry vector from the PnP header; the bootorder
 * file puts it first. When the BIOS boots it, it copies the Linux setup
 * code, the protected-mode kernel, the command line and the initrd from
 * fw_cfg (port 0x510 selects an item, 0x511 reads it byte by byte) to the
 * addresses fw_cfg names (moon86 patched the setup header for them), using
 * big real mode to reach memory above 1 MiB, then enters the setup code at
 * its real-mode entry, setup + 0x200, with DS = ES = SS = the setup segment.
 * moon86 fixes the checksum byte when it hands the ROM to the firmware.
 */
        .code16
        .text
        .globl  _start
_start:
        .byte   0x55, 0xAA
        .byte   2                       /* 1 KiB */
        jmp     init                    /* offset 3: the init entry */
        .org    0x18
        .word   0                       /* no PCI data structure */
        .word   pnp                     /* the PnP header */

init:   lret                            /* nothing to set up at POST */

        .balign 16
pnp:    .ascii  "$PnP"
        .byte   1                       /* revision */
        .byte   2                       /* length in 16-byte units */
        .word   0                       /* no next header */
        .byte   0                       /* reserved */
        .byte   0                       /* checksum (not checked) */
        .long   0                       /* device id */
        .word   vendor                  /* manufacturer string */
        .word   product                 /* product string */
        .byte   0, 0, 0                 /* device type */
        .byte   0x20                    /* device flags: IPL device */
        .word   0                       /* boot connection vector */
        .word   0                       /* disconnect vector */
        .word   boot                    /* bootstrap entry vector */
        .word   0                       /* reserved */
        .word   0                       /* static resources */

vendor:  .asciz "moon86"
product: .asciz "Linux loader (--kernel)"

/* fw_cfg items (the numbers QEMU uses for the same things). */
        .set    KERNEL_ADDR, 0x07
        .set    KERNEL_SIZE, 0x08
        .set    INITRD_ADDR, 0x0a
        .set    INITRD_SIZE, 0x0b
        .set    KERNEL_DATA, 0x11
        .set    INITRD_DATA, 0x12
        .set    CMDLINE_ADDR, 0x13
        .set    CMDLINE_SIZE, 0x14
        .set    CMDLINE_DATA, 0x15
        .set    SETUP_ADDR, 0x16
        .set    SETUP_SIZE, 0x17
        .set    SETUP_DATA, 0x18

boot:   cli
        cld
        xorw    %ax, %ax
        movw    %ax, %ss
        movl    $0x7000, %esp
        pushw   %cs
        popw    %ds
        /* The GDT's linear address: CS base + gdt. */
        xorl    %eax, %eax
        movw    %cs, %ax
        shll    $4, %eax
        addl    $gdt, %eax
        movl    %eax, gdt_base
        lgdt    gdt_desc
        /* Big real mode: ES with a 4 GiB limit, base 0. */
        movl    %cr0, %eax
        orb     $1, %al
        movl    %eax, %cr0
        movw    $8, %bx
        movw    %bx, %es
        andb    $0xFE, %al
        movl    %eax, %cr0
        xorw    %bx, %bx
        movw    %bx, %es

        movw    $SETUP_ADDR, %ax
        movw    $SETUP_SIZE, %bx
        movw    $SETUP_DATA, %cx
        call    blob
        movw    $KERNEL_ADDR, %ax
        movw    $KERNEL_SIZE, %bx
        movw    $KERNEL_DATA, %cx
        call    blob
        movw    $CMDLINE_ADDR, %ax
        movw    $CMDLINE_SIZE, %bx
        movw    $CMDLINE_DATA, %cx
        call    blob
        movw    $INITRD_ADDR, %ax
        movw    $INITRD_SIZE, %bx
        movw    $INITRD_DATA, %cx
        call    blob

        /* Enter the setup code: segment = setup address >> 4. */
        movw    $SETUP_ADDR, %ax
        call    item32
        shrl    $4, %eax
        movw    %ax, %ds
        movw    %ax, %es
        movw    %ax, %fs
        movw    %ax, %gs
        movw    %ax, %ss
        movl    $0xfff0, %esp
        addw    $0x20, %ax
        pushw   %ax
        pushw   $0
        lret

/* Copies fw_cfg item CX (size in item BX, address in item AX) to memory. */
blob:   pushw   %cx
        pushw   %bx
        call    item32
        movl    %eax, %edi
        popw    %ax
        call    item32
        movl    %eax, %ecx
        popw    %ax
        movw    $0x510, %dx
        outw    %ax, %dx
        incw    %dx
        addr32 rep insb
        ret

/* EAX = the 32-bit little-endian value of fw_cfg item AX. */
item32: movw    $0x510, %dx
        outw    %ax, %dx
        incw    %dx
        movw    $4, %cx
1:      inb     %dx, %al
        rorl    $8, %eax
        loop    1b
        ret

        .balign 8
gdt:    .quad   0
        .quad   0x00cf92000000ffff      /* data: base 0, 4 GiB, writable */
gdt_desc:
        .word   15
gdt_base:
        .long   0

        .org    1023
        .byte   0                       /* the checksum */
