/* link: 0x100000
 * gcc: 12.2.0
 *
 * bench/compiled: a CPU benchmark kernel of compiled C, for moon86 and
 * qemu-system-i386: freestanding C built by guests/build.sh with the
 * distribution's `gcc -m32 -march=i686 -O2 -ffreestanding` (the `gcc:`
 * line above names the version that built the committed binary), linked
 * at 1 MiB as a Multiboot v1 image with load addresses, so it boots with
 * `moon86 boot --kernel` and `qemu-system-i386 -kernel` alike. 32-bit
 * protected mode with the loader's flat segments, no paging, interrupts
 * off.
 *
 * It prints "bench/compiled: 9 phases" on COM1 (a benchmark times each
 * phase from the line before its own), then runs nine phases of the kinds
 * of loops kernels and firmware run, each printing one line,
 * "phase N name checksum XXXXXXXX":
 *   1 crc     a bitwise CRC-32 over a buffer
 *   2 sieve   a sieve of Eratosthenes over bytes
 *   3 copy    a word copy loop
 *   4 calls   doubly recursive calls (Fibonacci)
 *   5 interp  a switch-dispatched bytecode interpreter
 *   6 chase   dependent pointer chasing around one long cycle
 *   7 rep     memset and memcpy through REP STOSD and REP MOVSD
 *   8 bignum  multiword (32-bit limb) multiplication
 *   9 inflate a decompressor's byte loop (literal runs, back-references)
 * then it writes 0 to the debug-exit port 0xF4 (exit status 1).
 *
 * Deterministic: every run executes the same instructions. The checksums
 * are modelled independently by guests/bench/compiled_model.py, which
 * reads the `#define`s below. Buffers live at fixed addresses from 4 MiB
 * up, away from the image; run it with at least 32 MiB of RAM.
 */

typedef unsigned char u8;
typedef unsigned int u32;
typedef unsigned long long u64;

#define CRC_BYTES 0x10000      /* phase 1 buffer */
#define CRC_ROUNDS 24          /* passes over it */
#define SIEVE_N 2000000        /* phase 2: numbers below this */
#define SIEVE_ROUNDS 3
#define COPY_WORDS 0x40000     /* phase 3: 1 MiB each way */
#define COPY_ROUNDS 40
#define FIB_N 29               /* phase 4 */
#define VM_ITERS 400000        /* phase 5 bytecode loop iterations */
#define CHASE_NODES 0x40000    /* phase 6 cycle length */
#define CHASE_STEPS 3000000
#define REP_WORDS 0x40000      /* phase 7: 1 MiB */
#define REP_ROUNDS 48
#define BIG_LIMBS 32           /* phase 8: 1024-bit operands */
#define BIG_ROUNDS 3000
#define INFLATE_BYTES 0x40000  /* phase 9 output per round */
#define INFLATE_ROUNDS 6

#define BUF_A 0x400000         /* 4 MiB: the first buffer */
#define BUF_B 0x800000         /* 8 MiB: the second */
#define BUF_C 0xC00000         /* 12 MiB: the third */
#define STACK_TOP 0x3FF000

#define COM1 0x3F8
#define EXIT_PORT 0xF4

/* The Multiboot header (flag 16: the load addresses are valid) and the
 * entry: a stack, then kmain. Top-level asm keeps its place before the
 * functions (-fno-toplevel-reorder), so the header is the image's start. */
__asm__(
    "  .text\n"
    "  .globl _start\n"
    "_start:\n"
    "  jmp 1f\n"
    "  .p2align 2\n"
    "mb_header:\n"
    "  .long 0x1badb002\n"
    "  .long 0x00010000\n"
    "  .long -(0x1badb002 + 0x00010000)\n"
    "  .long mb_header\n"
    "  .long _start\n"
    "  .long _edata\n"
    "  .long _end\n"
    "  .long _start\n"
    "1:\n"
    "  cli\n"
    "  cld\n"
    "  movl $0x3FF000, %esp\n"
    "  call kmain\n"
    "2:\n"
    "  hlt\n"
    "  jmp 2b\n");

static inline void outb(unsigned short port, u8 v)
{
    __asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static inline u8 inb(unsigned short port)
{
    u8 v;
    __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}

static void putc(char c)
{
    while (!(inb(COM1 + 5) & 0x20))
        ;
    outb(COM1, (u8)c);
}

static void puts(const char *s)
{
    while (*s)
        putc(*s++);
}

static void report(int n, const char *name, u32 sum)
{
    static const char hex[] = "0123456789abcdef";
    puts("phase ");
    putc((char)('0' + n));
    putc(' ');
    puts(name);
    puts(" checksum ");
    for (int i = 28; i >= 0; i -= 4)
        putc(hex[(sum >> i) & 15]);
    putc('\n');
}

/* The generator every phase draws from (Numerical Recipes' LCG). */
static u32 lcg(u32 *s)
{
    *s = *s * 1664525u + 1013904223u;
    return *s;
}

static u32 crc_phase(void)
{
    u8 *buf = (u8 *)BUF_A;
    u32 s = 1;
    for (u32 i = 0; i < CRC_BYTES; i++)
        buf[i] = (u8)(lcg(&s) >> 24);
    u32 crc = 0xFFFFFFFFu;
    for (int r = 0; r < CRC_ROUNDS; r++) {
        for (u32 i = 0; i < CRC_BYTES; i++) {
            crc ^= buf[i];
            for (int k = 0; k < 8; k++)
                crc = (crc >> 1) ^ (0xEDB88320u & -(crc & 1));
        }
    }
    return ~crc;
}

static u32 sieve_phase(void)
{
    u8 *composite = (u8 *)BUF_A;
    u32 sum = 0;
    for (int r = 0; r < SIEVE_ROUNDS; r++) {
        for (u32 i = 0; i < SIEVE_N; i++)
            composite[i] = 0;
        for (u32 i = 2; i * i < SIEVE_N; i++)
            if (!composite[i])
                for (u32 j = i * i; j < SIEVE_N; j += i)
                    composite[j] = 1;
        u32 count = 0, total = 0;
        for (u32 i = 2; i < SIEVE_N; i++)
            if (!composite[i]) {
                count++;
                total += i;
            }
        sum = sum * 31 + count + total;
    }
    return sum;
}

static u32 copy_phase(void)
{
    u32 *a = (u32 *)BUF_A, *b = (u32 *)BUF_B;
    u32 s = 2;
    for (u32 i = 0; i < COPY_WORDS; i++)
        a[i] = lcg(&s);
    for (u32 r = 0; r < COPY_ROUNDS; r++) {
        u32 *from = (r & 1) ? b : a, *to = (r & 1) ? a : b;
        for (u32 i = 0; i < COPY_WORDS; i++)
            to[i] = from[i] ^ r;
    }
    u32 sum = 0;
    u32 *last = (COPY_ROUNDS & 1) ? b : a;
    for (u32 i = 0; i < COPY_WORDS; i++)
        sum = (sum << 1 | sum >> 31) ^ last[i];
    return sum;
}

static u32 calls;

static u32 fib(u32 n)
{
    calls++;
    return n < 2 ? n : fib(n - 1) + fib(n - 2);
}

static u32 calls_phase(void)
{
    calls = 0;
    u32 f = fib(FIB_N);
    return f * 0x9E3779B1u ^ calls;
}

/* Phase 5's machine: four registers, an accumulator-free three-address
 * code. Opcodes: */
enum { OP_LCG, OP_ADD, OP_XOR, OP_SHR, OP_ROL, OP_MUL, OP_DEC, OP_JNZ, OP_HALT };

static const u8 program[] = {
    OP_LCG, 0,         /* r0 = r0 * 1664525 + 1013904223 */
    OP_ADD, 1, 0,      /* r1 += r0 */
    OP_SHR, 2, 0, 7,   /* r2 = r0 >> 7 */
    OP_XOR, 1, 2,      /* r1 ^= r2 */
    OP_ROL, 1, 5,      /* r1 = rol(r1, 5) */
    OP_MUL, 2, 1,      /* r2 *= r1 */
    OP_ADD, 1, 2,      /* r1 += r2 */
    OP_DEC, 3,         /* r3 -= 1 */
    OP_JNZ, 3, 0,      /* if r3 != 0, to offset 0 */
    OP_HALT,
};

static u32 interp_phase(void)
{
    u32 r[4] = {7, 0, 0, VM_ITERS};
    const u8 *pc = program;
    for (;;) {
        switch (*pc) {
        case OP_LCG:
            r[pc[1]] = r[pc[1]] * 1664525u + 1013904223u;
            pc += 2;
            break;
        case OP_ADD:
            r[pc[1]] += r[pc[2]];
            pc += 3;
            break;
        case OP_XOR:
            r[pc[1]] ^= r[pc[2]];
            pc += 3;
            break;
        case OP_SHR:
            r[pc[1]] = r[pc[2]] >> pc[3];
            pc += 4;
            break;
        case OP_ROL: {
            u32 v = r[pc[1]], n = pc[2];
            r[pc[1]] = v << n | v >> (32 - n);
            pc += 3;
            break;
        }
        case OP_MUL:
            r[pc[1]] *= r[pc[2]];
            pc += 3;
            break;
        case OP_DEC:
            r[pc[1]]--;
            pc += 2;
            break;
        case OP_JNZ:
            pc = r[pc[1]] ? program + pc[2] : pc + 3;
            break;
        default:
            return r[0] ^ r[1] ^ r[2];
        }
    }
}

static u32 chase_phase(void)
{
    u32 *next = (u32 *)BUF_A;
    u32 s = 3;
    /* Sattolo's shuffle: one cycle through every node. */
    for (u32 i = 0; i < CHASE_NODES; i++)
        next[i] = i;
    for (u32 i = CHASE_NODES - 1; i > 0; i--) {
        u32 j = lcg(&s) % i;
        u32 t = next[i];
        next[i] = next[j];
        next[j] = t;
    }
    u32 at = 0, sum = 0;
    for (u32 k = 0; k < CHASE_STEPS; k++) {
        at = next[at];
        sum += at ^ k;
    }
    return sum;
}

static void rep_stosd(u32 *to, u32 value, u32 count)
{
    __asm__ volatile("rep stosl" : "+D"(to), "+c"(count) : "a"(value) : "memory");
}

static void rep_movsd(u32 *to, const u32 *from, u32 count)
{
    __asm__ volatile("rep movsl" : "+D"(to), "+S"(from), "+c"(count) : : "memory");
}

static u32 rep_phase(void)
{
    u32 *a = (u32 *)BUF_A, *b = (u32 *)BUF_B;
    for (u32 r = 0; r < REP_ROUNDS; r++) {
        rep_stosd(a, r * 0x9E3779B9u, REP_WORDS);
        rep_movsd(b, a, REP_WORDS - 16 * r);
    }
    u32 sum = 0;
    for (u32 i = 0; i < 1024; i++)
        sum = sum * 33 + b[i * 977 % REP_WORDS];
    return sum;
}

static u32 bignum_phase(void)
{
    u32 a[BIG_LIMBS], b[BIG_LIMBS], p[2 * BIG_LIMBS];
    u32 s = 4;
    for (int i = 0; i < BIG_LIMBS; i++) {
        a[i] = lcg(&s);
        b[i] = lcg(&s);
    }
    u32 sum = 0;
    for (int r = 0; r < BIG_ROUNDS; r++) {
        for (int i = 0; i < 2 * BIG_LIMBS; i++)
            p[i] = 0;
        for (int i = 0; i < BIG_LIMBS; i++) {
            u32 carry = 0;
            for (int j = 0; j < BIG_LIMBS; j++) {
                u64 t = (u64)a[i] * b[j] + p[i + j] + carry;
                p[i + j] = (u32)t;
                carry = (u32)(t >> 32);
            }
            p[i + BIG_LIMBS] = carry;
        }
        for (int i = 0; i < 2 * BIG_LIMBS; i++)
            sum = (sum << 3 | sum >> 29) ^ p[i];
        for (int i = 0; i < BIG_LIMBS; i++)
            a[i] = p[i];
    }
    return sum;
}

/* Phase 9's stream: a control byte c < 128 is a run of c + 1 literal
 * bytes that follow; c >= 128 copies (c & 127) + 3 bytes from a distance
 * of the next two bytes (little-endian) plus 1, byte by byte (so a copy
 * may overlap what it writes). The guest makes the stream, then decodes
 * it. */
static u32 make_stream(u8 *in, u32 seed)
{
    u32 s = seed, out = 0, n = 0;
    while (out < INFLATE_BYTES - 200) {
        u32 x = lcg(&s);
        if (out < 16 || (x >> 28) < 5) {
            u32 run = (x >> 8) % 24 + 1;
            in[n++] = (u8)(run - 1);
            for (u32 i = 0; i < run; i++)
                in[n++] = (u8)(lcg(&s) >> 24) & 0x3F;
            out += run;
        } else {
            u32 len = (x >> 8) % 40 + 3;
            u32 dist = (x >> 16) % (out < 4096 ? out : 4096) + 1;
            in[n++] = (u8)(0x80 | (len - 3));
            in[n++] = (u8)(dist - 1);
            in[n++] = (u8)((dist - 1) >> 8);
            out += len;
        }
    }
    return n;
}

static u32 inflate(const u8 *in, u32 n, u8 *out)
{
    u32 o = 0;
    for (u32 i = 0; i < n;) {
        u32 c = in[i++];
        if (c < 128) {
            for (u32 k = 0; k <= c; k++)
                out[o++] = in[i++];
        } else {
            u32 len = (c & 127) + 3;
            u32 dist = (in[i] | (u32)in[i + 1] << 8) + 1;
            i += 2;
            for (u32 k = 0; k < len; k++, o++)
                out[o] = out[o - dist];
        }
    }
    return o;
}

static u32 inflate_phase(void)
{
    u8 *in = (u8 *)BUF_A, *out = (u8 *)BUF_B;
    u32 sum = 0;
    for (u32 r = 0; r < INFLATE_ROUNDS; r++) {
        u32 n = make_stream(in, 5 + r);
        u32 len = inflate(in, n, out);
        /* Adler-32 of the output. */
        u32 s1 = 1, s2 = 0;
        for (u32 i = 0; i < len; i++) {
            s1 = (s1 + out[i]) % 65521;
            s2 = (s2 + s1) % 65521;
        }
        sum = sum * 7 + (s2 << 16 | s1) + len;
    }
    return sum;
}

void kmain(void)
{
    outb(COM1 + 1, 0);    /* no interrupts */
    outb(COM1 + 3, 0x80); /* DLAB */
    outb(COM1, 1);        /* 115200 baud */
    outb(COM1 + 1, 0);
    outb(COM1 + 3, 0x03); /* 8N1 */
    puts("bench/compiled: 9 phases\n");
    report(1, "crc    ", crc_phase());
    report(2, "sieve  ", sieve_phase());
    report(3, "copy   ", copy_phase());
    report(4, "calls  ", calls_phase());
    report(5, "interp ", interp_phase());
    report(6, "chase  ", chase_phase());
    report(7, "rep    ", rep_phase());
    report(8, "bignum ", bignum_phase());
    report(9, "inflate", inflate_phase());
    outb(EXIT_PORT, 0);
}
