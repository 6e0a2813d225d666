#!/usr/bin/env python3
"""Build SHIELD's standard ~1 GiB backup benchmark tree (Python stdlib only).

    make-dataset.py [DEST] [SEED]

DEST defaults to /tmp/shield-bench-dataset-SEED, SEED to 20240601.  The same
seed always gives the same bytes, so figures from different runs and machines
describe the same work.  An existing, complete tree
(marked by the file DEST.complete beside it) is reused as it is; a
half-built one is removed and built again.

Layout (MiB = 2^20 bytes):
  random/  512 MiB of incompressible pseudo-random data in mixed sizes:
           1 x 256 MiB, 2 x 64 MiB, 8 x 8 MiB, 32 x 1 MiB, 256 x 128 KiB
  text/    496 MiB of compressible log- and prose-like text (zstd -3 gets
           about 3x) that never repeats, so deduplication cannot cheat:
           1 x 240 MiB, 4 x 32 MiB, 16 x 4 MiB, 64 x 1 MiB
  small/   2,000 files of 512 B to 32 KiB (log-uniform sizes, half text, half
           random) in 40 directories of 50
Every file and directory gets the mtime 2024-06-01 00:00:00 UTC, so tar
headers are identical on every rebuild.  Takes one to two minutes on 2 cores
(the two halves are written by two processes).
"""
import math
import os
import random
import shutil
import sys
from multiprocessing import Process

MIB = 1 << 20
MTIME = 1717200000  # 2024-06-01 00:00:00 UTC

RANDOM_PLAN = [(1, 256 * MIB), (2, 64 * MIB), (8, 8 * MIB), (32, MIB), (256, 128 * 1024)]
TEXT_PLAN = [(1, 240 * MIB), (4, 32 * MIB), (16, 4 * MIB), (64, MIB)]
LEVELS = ["INFO"] * 12 + ["DEBUG"] * 6 + ["WARN"] * 2 + ["ERROR"]
MODULES = ["api", "db", "auth", "sched", "store", "agent", "web", "cron",
           "s3", "pg", "mysql", "redis", "rmq", "fs", "tls", "vault"]


class Text:
    """Pseudo-words with English-like letter frequencies, drawn Zipf-style."""

    def __init__(self, seed):
        r = random.Random("%s:vocab" % seed)
        letters = "etaoinshrdlcumwfgypbvkjxqz"
        weights = [12.7, 9.1, 8.2, 7.5, 7.0, 6.7, 6.3, 6.1, 6.0, 4.3, 4.0, 2.8,
                   2.8, 2.4, 2.4, 2.2, 2.0, 2.0, 1.9, 1.5, 1.0, 0.8, 0.15,
                   0.15, 0.1, 0.07]
        words = set()
        while len(words) < 8000:
            n = max(2, min(12, int(r.gauss(6, 2.2))))
            words.add("".join(r.choices(letters, weights=weights, k=n)))
        self.vocab = sorted(words)
        r.shuffle(self.vocab)
        self.cum, acc = [], 0.0
        for i in range(len(self.vocab)):
            acc += 1.0 / (i + 1) ** 1.07
            self.cum.append(acc)

    def chunk(self, r, size, t):
        """About size bytes of lines; t is a running clock in ms."""
        lines, n_bytes = [], 0
        words = r.choices(self.vocab, cum_weights=self.cum, k=size // 6 + 64)
        wi = 0
        while n_bytes < size:
            if r.random() < 0.7:
                t += r.randint(1, 900)
                n = r.randint(4, 14)
                line = "2024-%02d-%02dT%02d:%02d:%02d.%03dZ %s [%s] %s id=%d ms=%d\n" % (
                    1 + (t // 2678400000) % 12, 1 + (t // 86400000) % 28,
                    (t // 3600000) % 24, (t // 60000) % 60, (t // 1000) % 60,
                    t % 1000, r.choice(LEVELS), r.choice(MODULES),
                    " ".join(words[wi:wi + n]), r.randint(1, 99999999),
                    r.randint(0, 5000))
            else:
                n = r.randint(8, 20)
                line = " ".join(words[wi:wi + n]).capitalize() + ".\n"
            wi += n
            if wi + 40 > len(words):
                words = r.choices(self.vocab, cum_weights=self.cum, k=size // 6 + 64)
                wi = 0
            lines.append(line)
            n_bytes += len(line)
        return "".join(lines).encode(), t


def rng(seed, rel):
    """One independent, deterministic stream per file."""
    return random.Random("%s:%s" % (seed, rel))


def write_random(dest, seed, rel, size):
    r = rng(seed, rel)
    with open(os.path.join(dest, rel), "wb") as f:
        left = size
        while left:
            n = min(left, 8 * MIB)
            f.write(r.randbytes(n))
            left -= n


def write_text(dest, seed, text, rel, size):
    r = rng(seed, rel)
    t = r.randint(0, 10 ** 9)
    with open(os.path.join(dest, rel), "wb") as f:
        left = size
        while left:
            data, t = text.chunk(r, min(left, 4 * MIB), t)
            data = data[:left]
            f.write(data)
            left -= len(data)


def build_random(dest, seed):
    os.makedirs(os.path.join(dest, "random"), exist_ok=True)
    for count, size in RANDOM_PLAN:
        for i in range(count):
            write_random(dest, seed, "random/r%dk-%03d.bin" % (size // 1024, i), size)


def build_text(dest, seed):
    text = Text(seed)
    os.makedirs(os.path.join(dest, "text"), exist_ok=True)
    for count, size in TEXT_PLAN:
        for i in range(count):
            write_text(dest, seed, text, "text/t%dk-%03d.log" % (size // 1024, i), size)
    # The small files: sizes and kinds come from one stream of their own.
    sr = rng(seed, "small")
    for d in range(40):
        sub = "small/d%02d" % d
        os.makedirs(os.path.join(dest, sub), exist_ok=True)
        for k in range(50):
            size = int(math.exp(sr.uniform(math.log(512), math.log(32 * 1024))))
            rel = "%s/f%02d" % (sub, k)
            if sr.random() < 0.5:
                write_text(dest, seed, text, rel + ".txt", size)
            else:
                write_random(dest, seed, rel + ".bin", size)


def fix_mtimes(dest):
    for root, dirs, files in os.walk(dest, topdown=False):
        for name in files + dirs:
            os.utime(os.path.join(root, name), (MTIME, MTIME), follow_symlinks=False)
    os.utime(dest, (MTIME, MTIME))


def tree_size(dest):
    total = files = 0
    for root, _, names in os.walk(dest):
        for name in names:
            total += os.lstat(os.path.join(root, name)).st_size
            files += 1
    return total, files


def ensure(dest, seed):
    """Build the tree unless a complete one is there; return its path."""
    mark = dest.rstrip("/") + ".complete"
    if os.path.exists(mark) and os.path.isdir(dest):
        return dest
    if os.path.exists(mark):
        os.unlink(mark)
    if os.path.exists(dest):
        shutil.rmtree(dest)
    os.makedirs(dest)
    workers = [Process(target=build_random, args=(dest, seed)),
               Process(target=build_text, args=(dest, seed))]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
        if w.exitcode != 0:
            raise SystemExit("make-dataset: a writer failed (exit %s)" % w.exitcode)
    fix_mtimes(dest)
    with open(mark, "w") as f:
        f.write("%d\n" % seed)
    return dest


def main():
    seed = int(sys.argv[2]) if len(sys.argv) > 2 else 20240601
    dest = sys.argv[1] if len(sys.argv) > 1 else "/tmp/shield-bench-dataset-%d" % seed
    ensure(dest, seed)
    total, files = tree_size(dest)
    print("dataset %s: %d files, %d bytes (%.1f MiB)" % (dest, files, total, total / MIB))


if __name__ == "__main__":
    main()
