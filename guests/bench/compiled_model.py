#!/usr/bin/env python3
"""Independent model of guests/bench/compiled.c: computes the lines the
guest prints (a header and nine checksum lines), from the work-size `#define`s read out of the
source. Each phase is computed again here from its description, by other
means where Python has them (zlib's CRC-32 and Adler-32, slices for the
sieve and the copies, big integers for the multiplication, a closed form
for the calls), so a miscompiled or misemulated instruction shows up as a
different checksum. The bytecode program of phase 5 is written here as
the computation it performs and must be kept in step with the source.
Pure Python; takes some seconds.

  guests/bench/compiled_model.py [compiled.c]
"""

import os
import re
import sys
import zlib

M = 0xFFFFFFFF


def lcg(s):
    return (s * 1664525 + 1013904223) & M


def defines(path):
    text = open(path).read()
    return {m[0]: int(m[1], 0) for m in re.findall(r"^#define (\w+) (\w+)", text, re.M)}


def crc(d):
    s, buf = 1, bytearray(d["CRC_BYTES"])
    for i in range(len(buf)):
        s = lcg(s)
        buf[i] = s >> 24
    return zlib.crc32(bytes(buf) * d["CRC_ROUNDS"])


def sieve(d):
    n, total = d["SIEVE_N"], 0
    composite = bytearray(n)
    composite[0:2] = b"\x01\x01"
    i = 2
    while i * i < n:
        if not composite[i]:
            composite[i * i :: i] = b"\x01" * len(range(i * i, n, i))
        i += 1
    primes = [k for k in range(2, n) if not composite[k]]
    count, summed = len(primes), sum(primes) & M
    for _ in range(d["SIEVE_ROUNDS"]):
        total = (total * 31 + count + summed) & M
    return total


def copy(d):
    s, words = 2, []
    for _ in range(d["COPY_WORDS"]):
        s = lcg(s)
        words.append(s)
    # Each round copies with one XOR of its number: the result is the
    # start XORed with all of them.
    mask = 0
    for r in range(d["COPY_ROUNDS"]):
        mask ^= r
    total = 0
    for w in words:
        total = (((total << 1) | (total >> 31)) & M) ^ (w ^ mask)
    return total


def calls(d):
    n = d["FIB_N"]
    a, b = 0, 1
    for _ in range(n):
        a, b = b, a + b
    # fib(n) makes 2 * fib(n + 1) - 1 calls.
    count = 2 * b - 1
    return ((a * 0x9E3779B1) & M) ^ count


def interp(d):
    r0, r1, r2 = 7, 0, 0
    for _ in range(d["VM_ITERS"]):
        r0 = lcg(r0)
        r1 = (r1 + r0) & M
        r2 = r0 >> 7
        r1 ^= r2
        r1 = ((r1 << 5) | (r1 >> 27)) & M
        r2 = (r2 * r1) & M
        r1 = (r1 + r2) & M
    return r0 ^ r1 ^ r2


def chase(d):
    n, s = d["CHASE_NODES"], 3
    nxt = list(range(n))
    for i in range(n - 1, 0, -1):
        s = lcg(s)
        j = s % i
        nxt[i], nxt[j] = nxt[j], nxt[i]
    at, total = 0, 0
    for k in range(d["CHASE_STEPS"]):
        at = nxt[at]
        total = (total + (at ^ k)) & M
    return total


def rep(d):
    words, rounds = d["REP_WORDS"], d["REP_ROUNDS"]

    # B[i] holds the fill of the last round whose copy reached index i.
    def b(i):
        last = min(rounds - 1, (words - i - 1) // 16)
        return (last * 0x9E3779B9) & M

    total = 0
    for i in range(1024):
        total = (total * 33 + b(i * 977 % words)) & M
    return total


def bignum(d):
    limbs, s = d["BIG_LIMBS"], 4
    a = b = 0
    for i in range(limbs):
        s = lcg(s)
        a |= s << (32 * i)
        s = lcg(s)
        b |= s << (32 * i)
    total = 0
    for _ in range(d["BIG_ROUNDS"]):
        p = a * b
        for i in range(2 * limbs):
            total = (((total << 3) | (total >> 29)) & M) ^ ((p >> (32 * i)) & M)
        a = p & ((1 << (32 * limbs)) - 1)
    return total


def inflate_round(d, seed):
    size, s, out = d["INFLATE_BYTES"], seed, bytearray()
    while len(out) < size - 200:
        s = lcg(s)
        x = s
        if len(out) < 16 or (x >> 28) < 5:
            run = (x >> 8) % 24 + 1
            for _ in range(run):
                s = lcg(s)
                out.append((s >> 24) & 0x3F)
        else:
            length = (x >> 8) % 40 + 3
            dist = (x >> 16) % min(len(out), 4096) + 1
            start = len(out) - dist
            if dist >= length:
                out += out[start : start + length]
            else:
                for k in range(length):
                    out.append(out[start + k])
    return zlib.adler32(bytes(out)), len(out)


def inflate(d):
    total = 0
    for r in range(d["INFLATE_ROUNDS"]):
        adler, length = inflate_round(d, 5 + r)
        total = (total * 7 + adler + length) & M
    return total


PHASES = [
    ("crc", crc),
    ("sieve", sieve),
    ("copy", copy),
    ("calls", calls),
    ("interp", interp),
    ("chase", chase),
    ("rep", rep),
    ("bignum", bignum),
    ("inflate", inflate),
]


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    path = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "compiled.c")
    d = defines(path)
    print(f"bench/compiled: {len(PHASES)} phases")
    for n, (name, phase) in enumerate(PHASES, 1):
        print(f"phase {n} {name:<7} checksum {phase(d) & M:08x}")


if __name__ == "__main__":
    main()
