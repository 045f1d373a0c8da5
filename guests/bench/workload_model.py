#!/usr/bin/env python3
"""Independent model of guests/bench/workload.S: computes the four checksum
lines the guest prints, from the work-size constants read out of the source
(`.set NAME, VALUE`). The x86 code is not emulated: each phase is written
again here from its description, so a wrong instruction in the guest (or a
wrong emulation of one) shows up as a different checksum. The bytecode
program of phase 4 is repeated below and must be kept in step with the
source. Pure Python; takes several seconds (phase 2 walks a 4 MiB buffer).

  guests/bench/workload_model.py [workload.S]
"""

import os
import re
import sys

M = 0xFFFFFFFF


def rol(x, n):
    n &= 31
    return ((x << n) | (x >> (32 - n))) & M if n else x


def ror(x, n):
    return rol(x, 32 - (n & 31))


def sar(x, n):
    signed = x - (1 << 32) if x & 0x80000000 else x
    return (signed >> n) & M


def constants(path):
    found = {}
    for line in open(path):
        m = re.match(r"\s*\.set\s+(\w+),\s*(0x[0-9a-fA-F]+|\d+)", line)
        if m:
            found[m.group(1)] = int(m.group(2), 0)
    return found


def phase_int(c):
    h, k = 0x12345678, 0x9E3779B9
    for i in range(c["INT_ITERS"]):
        x = (i * 0x9E3779B1) & M
        x ^= x >> 15
        x = rol(x, 7)
        h = (h + x) & M
        h ^= (h << 5) & M
        h = (h - i) & M
        h = ror(h, 3)
        k ^= sar((3 * h) & M, 2)
        h = (h * (k | 1)) & M
        carry = (k + x) >> 32
        k = (k + x) & M
        h = (h + carry) & M
    return h ^ k


def phase_mem(c):
    n, stride = c["MEM_DWORDS"], c["MEM_STRIDE"]
    buf = [((i * 0x01000193) & M) ^ 0xA5A5A5A5 for i in range(n)]
    j = s = 0
    for _ in range(c["MEM_STEPS"]):
        v = buf[j]
        s = rol((s + v) & M, 1)
        s = (s + ((buf[j ^ 1] >> 8) & 0xFF)) & M
        buf[j] = ((v ^ s) + j) & M
        j = (j + stride) & (n - 1)
    return s ^ (sum(buf) & M)


def phase_call(c):
    memo = {}

    def f(n):
        if n < 2:
            return n + 0x1234
        if n not in memo:
            memo[n] = ((f(n - 1) + rol(f(n - 2), 1)) & M) ^ n
        return memo[n]

    calls = {0: 1, 1: 1}  # calls made by f(n), itself included
    for n in range(2, c["CALL_DEPTH"] + 1):
        calls[n] = 1 + calls[n - 1] + calls[n - 2]
    return f(c["CALL_DEPTH"]) ^ calls[c["CALL_DEPTH"]]


def phase_interp(c):
    r = [0] * 8
    mem = [0] * 256
    r[0], r[1], r[2], r[3], r[7] = c["VM_ITERS"], 0x811C9DC5, 0x01000193, 0, 1
    while True:  # the loop body of `program`, one statement per bytecode
        r[3] = (r[3] + r[7]) & M
        r[4] = r[3]
        r[1] ^= r[4]
        r[1] = (r[1] * r[2]) & M
        r[5] = r[1]
        r[5] >>= 13
        r[1] ^= r[5]
        r[6] = mem[r[3] & 0xFF]
        r[6] = (r[6] + r[1]) & M
        mem[r[1] & 0xFF] = r[6]
        r[1] = rol(r[1], 5)
        r[4] = (r[4] << 2) & M
        r[1] = (r[1] + r[4]) & M
        r[1] = (r[1] + r[6]) & M
        r[0] = (r[0] - 1) & M
        if r[0] == 0:
            break
    return ((r[1] + r[6]) & M) ^ (sum(mem) & M)


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    src = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "workload.S")
    c = constants(src)
    for number, name, phase in [
        (1, "int", phase_int),
        (2, "mem", phase_mem),
        (3, "call", phase_call),
        (4, "interp", phase_interp),
    ]:
        print(f"phase {number} {name:<6} checksum {phase(c):08x}", flush=True)


if __name__ == "__main__":
    main()
