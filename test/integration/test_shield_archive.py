"""Tests of the offline shield-archive tool on real fs plugin streams: the
fs plugin's backup of a temp tree is encoded and decoded with every
compression and encryption setting, the decoded stream restores the same
tree, a flipped byte fails decode with nothing after the last good chunk,
inspect prints the header, verify checks it, and a raw stream is told apart.
Python standard library only.
"""
import hashlib
import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from shieldtest import BUILD, PLUGINS, SANITIZER_MARKS, run  # noqa: E402

FS = os.path.join(PLUGINS, "fs")
TOOL = os.path.join(BUILD, "archive", "shield-archive")
TMP = tempfile.mkdtemp(prefix="shield-archive-test.")
CHUNK = 65536
ENV = dict(os.environ)
ENV.setdefault("ASAN_OPTIONS", "detect_leaks=1:abort_on_error=0")

HEADER = {"kind": "backup", "uuid": "0b0e1c5e-3f67-4d2a-9a51-0d7c3c1a2b3c",
          "target_plugin": "fs", "job_name": "nightly",
          "job_uuid": "11111111-2222-4333-8444-555555555555",
          "target_name": "docs", "target_uuid": "t-uuid",
          "store_name": "local", "store_uuid": "s-uuid",
          "taken_at": 1700000000, "expires_at": 1700604800}


def tool(*args, data=b""):
    p = subprocess.run([TOOL] + list(args), input=data, capture_output=True,
                       env=ENV, timeout=300)
    err = p.stderr.decode("utf-8", "replace")
    for mark in SANITIZER_MARKS:
        assert mark not in err, "sanitizer report:\n" + err[-6000:]
    return p.returncode, p.stdout, err


def write_key(name, raw=None):
    raw = raw or os.urandom(32)
    path = os.path.join(TMP, name)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    os.write(fd, (raw.hex() + "\n").encode())
    os.close(fd)
    return path, raw


KEY, KEY_RAW = write_key("master.key")


def make_tree(root):
    os.makedirs(os.path.join(root, "sub", "deeper"))
    with open(os.path.join(root, "hello.txt"), "w") as f:
        f.write("hello, archive\n" * 70000)
    with open(os.path.join(root, "sub", "random.bin"), "wb") as f:
        f.write(os.urandom(3 << 20))
    with open(os.path.join(root, "sub", "deeper", "empty"), "wb"):
        pass
    os.symlink("../hello.txt", os.path.join(root, "sub", "link"))
    os.chmod(os.path.join(root, "hello.txt"), 0o640)
    return root


def snapshot(root):
    out = {}
    for dp, ds, fs in os.walk(root):
        for n in ds + fs:
            p = os.path.join(dp, n)
            st = os.lstat(p)
            rel = os.path.relpath(p, root)
            if stat.S_ISLNK(st.st_mode):
                out[rel] = ("link", os.readlink(p))
            elif stat.S_ISDIR(st.st_mode):
                out[rel] = ("dir", stat.S_IMODE(st.st_mode))
            else:
                with open(p, "rb") as f:
                    out[rel] = ("file", stat.S_IMODE(st.st_mode),
                                hashlib.sha256(f.read()).hexdigest())
    return out


SRC = make_tree(os.path.join(TMP, "src"))


def fs_backup():
    p = subprocess.run([FS, "backup", "--endpoint",
                        json.dumps({"base_dir": SRC})],
                       capture_output=True, env=ENV, timeout=300)
    assert p.returncode == 0, p.stderr
    assert len(p.stdout) > 3 << 20
    return p.stdout


STREAM = fs_backup()


def encode(stream, compression="zstd", encryption="on"):
    rc, out, err = tool("encode", "--key-file", KEY, "--header-json",
                        json.dumps(HEADER), "--compression", compression,
                        "--encryption", encryption, "--chunk-size",
                        str(CHUNK), data=stream)
    assert rc == 0, err
    return out


def frames(archive):
    """Offsets of the frames after the header (docs/archive-format.md)."""
    flen = int.from_bytes(archive[10:14], "big")
    hdr = json.loads(tool("inspect", "-", data=archive)[1])
    pos = 14 + flen + (96 if hdr["cipher"] != "none" else 0)
    offs = []
    while pos < len(archive):
        offs.append(pos)
        n = int.from_bytes(archive[pos:pos + 4], "big")
        pos += 4 + n + (33 if hdr["cipher"] == "none" else 0)
    assert pos == len(archive)
    return offs


def test_round_trip_restores_tree():
    """encode | decode gives the fs stream back; fs restore of it, the tree."""
    for comp in ("zstd", "none"):
        for enc in ("on", "off"):
            archive = encode(STREAM, comp, enc)
            assert archive[:8] == b"SHIELDAR"
            if comp == "zstd":
                assert len(archive) < len(STREAM) - (1 << 19)
            rc, out, err = tool("decode", "--key-file", KEY, "-",
                                data=archive)
            assert rc == 0, err
            assert out == STREAM, (comp, enc)
            rc, _, err = tool("verify", "--key-file", KEY, "-", data=archive)
            assert rc == 0, err
    # By hand, as a user would: decode a stored blob into fs restore.
    blob = os.path.join(TMP, "blob")
    with open(blob, "wb") as f:
        f.write(encode(STREAM))
    dst = os.path.join(TMP, "restored")
    dec = subprocess.Popen([TOOL, "decode", "--key-file", KEY, blob],
                           stdout=subprocess.PIPE, env=ENV)
    res = subprocess.run([FS, "restore", "--endpoint",
                          json.dumps({"base_dir": dst})], stdin=dec.stdout,
                         capture_output=True, env=ENV, timeout=300)
    dec.stdout.close()
    assert dec.wait() == 0
    assert res.returncode == 0, res.stderr
    assert snapshot(dst) == snapshot(SRC)


def test_flipped_byte():
    """A flip fails decode and verify; nothing after the last good chunk."""
    archive = encode(STREAM, "none", "on")
    offs = frames(archive)
    assert len(offs) > 10
    for i in (0, 1, 5, len(offs) - 2, len(offs) - 1):
        bad = bytearray(archive)
        bad[offs[i] + 4 + 100 if i < len(offs) - 1 else offs[i] + 6] ^= 0x10
        rc, out, err = tool("decode", "--key-file", KEY, "-", data=bytes(bad))
        assert rc != 0 and "failed authentication" in err, (i, err)
        # Chunk i failed; chunk i-1 was held back: chunks before it only.
        assert out == STREAM[:max(0, i - 1) * CHUNK], (i, len(out))
        rc, _, err = tool("verify", "--key-file", KEY, "-", data=bytes(bad))
        assert rc != 0, i
    # Compressed and encrypted (the defaults): a strict prefix at most.
    archive = encode(STREAM)
    bad = bytearray(archive)
    bad[len(bad) // 2] ^= 0x01
    rc, out, err = tool("decode", "--key-file", KEY, "-", data=bytes(bad))
    assert rc != 0 and err, err
    assert len(out) < len(STREAM) and STREAM.startswith(out)
    # Cut before the end marker: no end, an error, the last chunk held.
    rc, out, err = tool("decode", "--key-file", KEY, "-",
                        data=archive[:frames(archive)[-1]])
    assert rc != 0 and "truncated" in err, err
    assert len(out) < len(STREAM) and STREAM.startswith(out)


def test_inspect():
    """inspect prints the header without a key; no key material in it."""
    archive = encode(STREAM)
    rc, out, err = tool("inspect", "-", data=archive)
    assert rc == 0, err
    h = json.loads(out)
    for k, v in HEADER.items():
        assert h[k] == v, (k, h[k])
    key_id = hashlib.blake2b(b"SHIELD key id v1", key=KEY_RAW,
                             digest_size=32).hexdigest()[:16]
    assert h["version"] == 1 and h["format"] == "SHIELD archive"
    assert h["compression"] == "zstd" and h["encryption"] == "on"
    assert h["cipher"] == "xchacha20poly1305-secretstream"
    assert h["key_id"] == key_id and h["chunk_size"] == CHUNK
    assert KEY_RAW.hex() not in out.decode()
    path = os.path.join(TMP, "plain.shield")
    with open(path, "wb") as f:
        f.write(encode(STREAM, "none", "off"))
    rc, out, err = tool("inspect", path)
    assert rc == 0, err
    h = json.loads(out)
    assert h["cipher"] == "none" and h["compression"] == "none"
    # An unencrypted archive decodes without any key file.
    rc, out, err = tool("decode", path)
    assert rc == 0 and out == STREAM, err


def test_refusals():
    """A raw stream, a wrong key and a missing key are refused."""
    for cmd in ("inspect", "decode", "verify"):
        rc, out, err = tool(cmd, "--key-file", KEY, "-", data=STREAM)
        assert rc == 1 and out == b"" and "not a SHIELD archive" in err, \
            (cmd, err)
    other, _ = write_key("other.key")
    archive = encode(STREAM)
    rc, out, err = tool("decode", "--key-file", other, "-", data=archive)
    assert rc == 1 and out == b"" and "wrong key" in err, err
    rc, out, err = tool("verify", "-", data=archive)
    assert rc == 1 and "key file is needed" in err, err
    rc, _, err = tool("encode", "--header-json", "{}", data=b"x")
    assert rc == 2 and "--key-file" in err, err
    rc, _, err = tool("bogus")
    assert rc == 2 and "usage" in err
    rc, out, _ = tool("--help")
    assert rc == 0 and b"decode" in out and b"EXIT STATUS" in out


def main():
    try:
        run([test_round_trip_restores_tree, test_flipped_byte, test_inspect,
             test_refusals])
    finally:
        shutil.rmtree(TMP, ignore_errors=True)


if __name__ == "__main__":
    main()
