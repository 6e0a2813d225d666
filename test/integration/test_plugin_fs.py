"""Plugin-level tests of the fs plugin (target and store) and of the example
shell plugin: they run the executables from $SHIELD_PLUGINS directly, the
way the daemon does, and check the trees, streams and store files they
produce.  Python standard library only.
"""
import hashlib
import io
import json
import os
import re
import resource
import shutil
import signal
import stat
import subprocess
import sys
import tarfile
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from shieldtest import PLUGINS, SANITIZER_MARKS, run  # noqa: E402

FS = os.path.join(PLUGINS, "fs")
EXAMPLE = os.path.join(PLUGINS, "example")
IS_ROOT = os.geteuid() == 0
NOBODY = 65534
KEY_RE = re.compile(r"^(\d{4})/(\d{2})/(\d{2})/(\d{8})T\d{6}Z-"
                    r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")

ENV = dict(os.environ)
ENV.setdefault("ASAN_OPTIONS", "detect_leaks=1:abort_on_error=0")

TMP = tempfile.mkdtemp(prefix="shield-fs-test.")
# Let an unprivileged user reach the test dirs (for the permission tests).
os.chmod(TMP, 0o755)


def tmpdir(name):
    d = tempfile.mkdtemp(prefix=name + ".", dir=TMP)
    os.chmod(d, 0o755)
    return d


def ep(base_dir=None, **kw):
    d = dict(kw)
    if base_dir is not None:
        d["base_dir"] = base_dir
    return json.dumps(d)


def check_stderr(err):
    text = err.decode("utf-8", "replace") if isinstance(err, bytes) else err
    for mark in SANITIZER_MARKS:
        assert mark not in text, "sanitizer report:\n" + text[-6000:]
    return text


def plugin(action, endpoint=None, key=None, data=b"", exe=FS, user=None,
           preexec=None, timeout=600):
    """Run one plugin action with data on stdin; returns (rc, out, err)."""
    argv = [exe, action]
    if endpoint is not None:
        argv += ["--endpoint", endpoint]
    if key is not None:
        argv += ["--key", key]

    def pre():
        if preexec:
            preexec()
        if user is not None:
            os.setgid(user)
            os.setuid(user)
    p = subprocess.run(argv, input=data, capture_output=True, env=ENV,
                       preexec_fn=pre, timeout=timeout)
    return p.returncode, p.stdout, check_stderr(p.stderr)


def pipe(src_argv, dst_argv):
    """Run src | dst; returns (src rc, dst rc, dst stdout, stderr text)."""
    src = subprocess.Popen(src_argv, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, env=ENV)
    errf = tempfile.TemporaryFile()
    dst = subprocess.Popen(dst_argv, stdin=src.stdout, stdout=subprocess.PIPE,
                           stderr=errf, env=ENV)
    src.stdout.close()
    out = dst.stdout.read()
    dst.wait(timeout=600)
    src_err = src.stderr.read()
    src.wait(timeout=600)
    errf.seek(0)
    err = check_stderr(src_err) + check_stderr(errf.read())
    return src.returncode, dst.returncode, out, err


def sha(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while True:
            b = f.read(1 << 20)
            if not b:
                break
            h.update(b)
    return h.hexdigest()


def snapshot(root, mtime_ns=True, owners=IS_ROOT):
    """Everything observable of a tree: names, types, modes, times, data."""
    snap = {}
    inodes = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in [""] + dirnames + filenames:
            if name == "" and dirpath != root:
                continue
            path = os.path.join(dirpath, name) if name else dirpath
            rel = os.path.relpath(path, root)
            st = os.lstat(path)
            rec = {"mode": stat.S_IMODE(st.st_mode), "type": stat.S_IFMT(st.st_mode)}
            if owners:
                rec["owner"] = (st.st_uid, st.st_gid)
            if stat.S_ISLNK(st.st_mode):
                rec["target"] = os.readlink(path)
                del rec["mode"]
            else:
                rec["mtime"] = st.st_mtime_ns if mtime_ns else int(st.st_mtime)
            if stat.S_ISREG(st.st_mode):
                rec["sha"] = sha(path)
                rec["size"] = st.st_size
                if st.st_nlink > 1:
                    rec["link"] = inodes.setdefault((st.st_dev, st.st_ino), rel)
            snap[rel] = rec
    return snap


def diff(a, b):
    lines = []
    for k in sorted(set(a) | set(b)):
        if a.get(k) != b.get(k):
            lines.append("%r: %r != %r" % (k, a.get(k), b.get(k)))
    return "\n".join(lines[:30])


def assert_same(a, b):
    assert a == b, "trees differ:\n" + diff(a, b)


def leftovers(parent):
    return [n for n in os.listdir(parent) if "shield-restore" in n or
            "example-restore" in n]


def make_tree(root, big=False):
    """A tree with every kind of entry a backup must carry."""
    os.makedirs(root, exist_ok=True)
    os.makedirs(os.path.join(root, "sub", "deeper"))
    os.makedirs(os.path.join(root, "empty"))
    os.makedirs(os.path.join(root, ".hidden_dir"))
    with open(os.path.join(root, "hello.txt"), "w") as f:
        f.write("hello world\n")
    with open(os.path.join(root, ".hidden"), "w") as f:
        f.write("secret-ish\n")
    with open(os.path.join(root, ".hidden_dir", "x.log"), "w") as f:
        f.write("log\n")
    with open(os.path.join(root, "sub", "data.bin"), "wb") as f:
        f.write(os.urandom(300000))
    with open(os.path.join(root, "sub", "deeper", "notes.txt"), "w") as f:
        f.write("deep\n")
    with open(os.path.join(root, "sub", "zero"), "w"):
        pass
    with open(os.path.join(root, "ünïcödé 日本 name.txt"), "w") as f:
        f.write("unicode\n")
    with open(os.path.join(root, "script.sh"), "w") as f:
        f.write("#!/bin/sh\n")
    os.chmod(os.path.join(root, "script.sh"), 0o751)
    os.chmod(os.path.join(root, "sub", "zero"), 0o600)
    os.chmod(os.path.join(root, "sub", "deeper"), 0o700)
    os.symlink("hello.txt", os.path.join(root, "link_rel"))
    os.symlink("/etc/hostname", os.path.join(root, "link_abs"))
    os.symlink("does/not/exist", os.path.join(root, "link_dangling"))
    os.symlink("sub", os.path.join(root, "link_dir"))
    os.link(os.path.join(root, "hello.txt"), os.path.join(root, "sub", "hard"))
    if IS_ROOT:
        os.chown(os.path.join(root, "sub", "zero"), 1234, 5678)
        os.lchown(os.path.join(root, "link_rel"), 4321, 8765)
    if big:
        with open(os.path.join(root, "big.dat"), "wb") as f:
            block = os.urandom(1 << 20)
            for i in range(100):
                f.write(block[i:] + block[:i])
    # Fixed times, with nanoseconds, set children first.
    t = 1_600_000_000_123_456_789
    for dirpath, dirnames, filenames in sorted(os.walk(root), reverse=True):
        for n in filenames + dirnames:
            p = os.path.join(dirpath, n)
            if not os.path.islink(p):
                os.utime(p, ns=(t, t))
                t += 1_000_000_007
    os.utime(root, ns=(t, t))
    return root


def store_blob(store, data, exe=FS, field="base_dir"):
    rc, out, err = plugin("store", json.dumps({field: store}), data=data, exe=exe)
    assert rc == 0, err
    return json.loads(out)["key"]


# ---- info and validate ----

def test_info():
    rc, out, err = plugin("info")
    assert rc == 0, err
    info = json.loads(out)
    for k in ("name", "author", "version", "help"):
        assert isinstance(info[k], str) and info[k], k
    assert info["features"] == {"target": "yes", "store": "yes", "validate": "yes"}, info
    fields = {f["name"]: f for f in info["fields"]}
    assert set(fields) == {"base_dir", "include", "exclude"}, fields
    assert fields["base_dir"]["type"] == "path" and fields["base_dir"]["required"] is True
    for n in ("include", "exclude"):
        assert fields[n]["type"] == "list" and fields[n]["required"] is False
    for f in fields.values():
        assert len(f["help"]) > 20, f


def test_validate():
    d = tmpdir("valid")
    rc, out, err = plugin("validate", ep(d))
    assert rc == 0 and out == b"", (rc, err)
    rc, _, err = plugin("validate", ep(d, include="*.txt, *.conf", exclude=["*.o"]))
    assert rc == 0, err
    rc, _, err = plugin("validate", ep())
    assert rc != 0 and "base_dir is required" in err, err
    rc, _, err = plugin("validate", ep(""))
    assert rc != 0 and "base_dir" in err, err
    rc, _, err = plugin("validate", ep("relative/dir"))
    assert rc != 0 and "absolute" in err, err
    # a directory that does not exist yet is fine when it can be made
    # (a restore to a new target, a new store) ...
    rc, _, err = plugin("validate", ep(os.path.join(d, "nope")))
    assert rc == 0, err
    # ... but not when its parent is missing too
    rc, _, err = plugin("validate", ep(os.path.join(d, "nope", "deeper")))
    assert rc != 0 and "does not exist" in err, err
    f = os.path.join(d, "file")
    open(f, "w").close()
    rc, _, err = plugin("validate", ep(f))
    assert rc != 0 and "not a directory" in err, err
    rc, _, err = plugin("validate", ep(d, include=3))
    assert rc != 0 and "include" in err, err
    # The endpoint text is never echoed, even when it is not JSON.
    rc, _, err = plugin("validate", '{"base_dir": "/x", "password": "hunter2"')
    assert rc != 0 and "hunter2" not in err, err
    ro = tmpdir("readonly")
    os.chmod(ro, 0o555)
    if IS_ROOT:
        rc, _, err = plugin("validate", ep(ro), user=NOBODY)
    else:
        rc, _, err = plugin("validate", ep(ro))
    assert rc != 0 and "not writable" in err, err


def test_base_dir_root_refused():
    """A restore replaces everything in base_dir: / is never a base_dir."""
    link = os.path.join(tmpdir("rootlink"), "to-root")
    os.symlink("/", link)
    for d in ("/", "//", "/tmp/..", link, link + "/"):
        rc, _, err = plugin("validate", ep(d))
        assert rc != 0 and "base_dir must not be /" in err, (d, err)
    # Run as nobody and fed a stream that is not a tar, so that even a
    # plugin without the check could not change / (it fails on the stream).
    before = sorted(os.listdir("/"))
    for d in ("/", link):
        rc, _, err = plugin("restore", ep(d), data=b"not a tar stream\n" * 64,
                            user=NOBODY if IS_ROOT else None)
        assert rc != 0 and "base_dir must not be /" in err, (d, err)
        assert "nothing was changed" in err, err
    assert sorted(os.listdir("/")) == before


# ---- target ----

def test_roundtrip_through_store():
    src = make_tree(os.path.join(tmpdir("src"), "tree"), big=True)
    store = tmpdir("store")
    before = snapshot(src)
    t0 = time.time()
    rc1, rc2, out, err = pipe([FS, "backup", "--endpoint", ep(src)],
                              [FS, "store", "--endpoint", ep(store)])
    assert rc1 == 0 and rc2 == 0, err
    key = json.loads(out)["key"]
    elapsed = time.time() - t0
    assert os.path.getsize(os.path.join(store, key)) > 100 << 20
    parent = tmpdir("dst")
    dst = os.path.join(parent, "restored")       # does not exist yet
    rc1, rc2, out, err = pipe([FS, "retrieve", "--endpoint", ep(store), "--key", key],
                              [FS, "restore", "--endpoint", ep(dst)])
    assert rc1 == 0 and rc2 == 0, err
    assert out == b"", out
    assert_same(before, snapshot(dst))
    assert snapshot(src) == before, "backup changed the source"
    assert leftovers(parent) == [], os.listdir(parent)
    st = os.stat(os.path.join(dst, "sub", "hard"))
    assert st.st_ino == os.stat(os.path.join(dst, "hello.txt")).st_ino
    print("     backup|store of %.0f MB in %.1fs" % (os.path.getsize(
        os.path.join(store, key)) / 1e6, elapsed))


def test_backup_is_pax_tar():
    src = make_tree(os.path.join(tmpdir("src"), "tree"))
    rc, out, err = plugin("backup", ep(src))
    assert rc == 0, err
    with tarfile.open(fileobj=io.BytesIO(out)) as t:
        names = t.getnames()
        assert t.getmember("./link_abs").issym()
        assert t.getmember("./link_abs").linkname == "/etc/hostname"
        assert t.getmember("./empty").isdir()
        assert t.getmember("./sub/hard").islnk() or t.getmember("./hello.txt").islnk()
    assert "./.hidden" in names and "./ünïcödé 日本 name.txt" in names, names
    assert out[257:263] == b"ustar\x00", out[257:263]       # POSIX, not GNU
    assert b"path=" in out or b"mtime=" in out               # pax headers
    # A symlinked base_dir is backed up as the tree it points to.
    link = os.path.join(tmpdir("lnk"), "to-tree")
    os.symlink(src, link)
    rc, out2, err = plugin("backup", ep(link))
    assert rc == 0, err
    with tarfile.open(fileobj=io.BytesIO(out2)) as t:
        assert sorted(t.getnames()) == sorted(names)
    rc, _, err = plugin("backup", ep(os.path.join(src, "missing")))
    assert rc != 0 and "No such file" in err, err
    rc, _, err = plugin("backup", ep("rel"))
    assert rc != 0 and "absolute" in err, err


def tar_names(endpoint):
    rc, out, err = plugin("backup", endpoint)
    assert rc == 0, err
    with tarfile.open(fileobj=io.BytesIO(out)) as t:
        return sorted(n[2:] for n in t.getnames() if n not in (".", "./"))


def test_include_exclude():
    src = make_tree(os.path.join(tmpdir("src"), "tree"))
    allnames = tar_names(ep(src))
    assert "sub/deeper/notes.txt" in allnames and "empty" in allnames
    got = tar_names(ep(src, include="*.txt"))
    assert got == sorted(["hello.txt", "sub", "sub/deeper", "sub/deeper/notes.txt",
                          "ünïcödé 日本 name.txt"]), got
    got = tar_names(ep(src, include=["sub/deeper"]))
    assert got == ["sub", "sub/deeper", "sub/deeper/notes.txt"], got
    got = tar_names(ep(src, exclude="*.txt, sub"))
    assert not any(n.endswith(".txt") or n.startswith("sub") for n in got), got
    assert ".hidden_dir/x.log" in got and "empty" in got, got
    got = tar_names(ep(src, include="*.txt,*.log", exclude=".hidden_dir,sub/deeper"))
    assert got == ["hello.txt", "ünïcödé 日本 name.txt"], got
    got = tar_names(ep(src, exclude=["sub/*.bin", "link_*"]))
    assert "sub/data.bin" not in got and "sub/zero" in got, got
    assert not any(n.startswith("link_") for n in got), got


def test_restore_replaces_tree():
    src = make_tree(os.path.join(tmpdir("src"), "tree"))
    rc, tar, err = plugin("backup", ep(src))
    assert rc == 0, err
    parent = tmpdir("dst")
    dst = os.path.join(parent, "existing")
    os.makedirs(os.path.join(dst, "old", "stuff"))
    with open(os.path.join(dst, "old", "stuff", "f"), "w") as f:
        f.write("not in archive")
    with open(os.path.join(dst, "hello.txt"), "w") as f:
        f.write("to be overwritten")
    os.symlink("/nonexistent", os.path.join(dst, "sub"))    # a link where a dir goes
    rc, out, err = plugin("restore", ep(dst), data=tar)
    assert rc == 0, err
    assert_same(snapshot(src), snapshot(dst))
    assert leftovers(parent) == [], os.listdir(parent)
    # Restoring through a symlinked base_dir replaces the real directory.
    real = os.path.join(parent, "real")
    os.makedirs(os.path.join(real, "junk"))
    link = os.path.join(parent, "via-link")
    os.symlink(real, link)
    rc, out, err = plugin("restore", ep(link), data=tar)
    assert rc == 0, err
    assert os.path.islink(link) and os.readlink(link) == real
    assert_same(snapshot(src), snapshot(real))
    # The parent must exist.
    rc, _, err = plugin("restore", ep(os.path.join(parent, "no", "such")), data=tar)
    assert rc != 0 and "parent" in err, err


def tar_bytes(build, fmt=tarfile.PAX_FORMAT):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=fmt) as t:
        build(t)
    return buf.getvalue()


def add_file(t, name, data=b"x", mode=0o644):
    ti = tarfile.TarInfo(name)
    ti.size = len(data)
    ti.mode = mode
    ti.mtime = 1_600_000_000
    t.addfile(ti, io.BytesIO(data))


def add_link(t, name, target, kind=tarfile.SYMTYPE):
    ti = tarfile.TarInfo(name)
    ti.type = kind
    ti.linkname = target
    t.addfile(ti)


def prepared_target():
    parent = tmpdir("victim")
    dst = make_tree(os.path.join(parent, "base"))
    return parent, dst, snapshot(dst)


def assert_untouched(parent, dst, before):
    assert_same(before, snapshot(dst))
    assert leftovers(parent) == [], os.listdir(parent)


def test_restore_bad_stream_leaves_target():
    src = make_tree(os.path.join(tmpdir("src"), "tree"), big=False)
    with open(os.path.join(src, "big"), "wb") as f:
        f.write(os.urandom(3 << 20))
    rc, good, err = plugin("backup", ep(src))
    assert rc == 0, err
    # Cut exactly at an entry boundary: libarchive alone would call that EOF.
    with tarfile.open(fileobj=io.BytesIO(good)) as t:
        members = t.getmembers()
    boundary = members[len(members) // 2].offset
    corrupt = bytearray(good)
    corrupt[members[3].offset + 148:members[3].offset + 156] = b"0000000\x00"  # checksum
    cases = {
        "empty": b"",
        "garbage": os.urandom(200000),
        "half": good[:len(good) // 2],
        "cut in a header": good[:members[-1].offset + 100],
        "cut at an entry boundary": good[:boundary],
        "no end marker": good.rstrip(b"\x00"),
        "bad header checksum": bytes(corrupt),
    }
    for what, data in cases.items():
        parent, dst, before = prepared_target()
        rc, _, err = plugin("restore", ep(dst), data=data)
        assert rc != 0, "%s: restore succeeded" % what
        assert err.strip(), what
        assert_untouched(parent, dst, before)
    # A missing base_dir stays missing.
    parent = tmpdir("fresh")
    rc, _, err = plugin("restore", ep(os.path.join(parent, "new")), data=good[:boundary])
    assert rc != 0 and os.listdir(parent) == [], os.listdir(parent)


def test_restore_killed_leaves_target():
    src = make_tree(os.path.join(tmpdir("src"), "tree"))
    rc, good, err = plugin("backup", ep(src))
    assert rc == 0, err
    for sig in (signal.SIGTERM, signal.SIGINT):
        parent, dst, before = prepared_target()
        p = subprocess.Popen([FS, "restore", "--endpoint", ep(dst)],
                             stdin=subprocess.PIPE, stderr=subprocess.PIPE, env=ENV)
        p.stdin.write(good[:len(good) // 2])
        p.stdin.flush()
        deadline = time.time() + 10
        while not leftovers(parent) and time.time() < deadline:
            time.sleep(0.02)
        time.sleep(0.2)
        p.send_signal(sig)
        rc = p.wait(timeout=30)
        err = check_stderr(p.stderr.read())
        p.stdin.close()
        assert rc != 0, err
        assert_untouched(parent, dst, before)
    # SIGKILL cannot clean up, but base_dir is still the old tree.
    parent, dst, before = prepared_target()
    p = subprocess.Popen([FS, "restore", "--endpoint", ep(dst)],
                         stdin=subprocess.PIPE, stderr=subprocess.DEVNULL, env=ENV)
    p.stdin.write(good[:len(good) // 2])
    p.stdin.flush()
    time.sleep(0.5)
    p.kill()
    p.wait()
    p.stdin.close()
    assert_same(before, snapshot(dst))


def test_restore_refuses_traversal():
    outside = tmpdir("outside")
    secret = os.path.join(outside, "secret")
    with open(secret, "w") as f:
        f.write("keep me")
    out_before = snapshot(outside)

    def dotdot(t):
        add_file(t, "./ok")
        add_file(t, "../escaped")

    def dotdot_deep(t):
        add_file(t, "sub/../../escaped2")

    def absolute(t):
        add_file(t, "./ok")
        add_file(t, os.path.join(outside, "abs"))

    def symlink_then_write(t):
        add_link(t, "./lnk", outside)
        add_file(t, "./lnk/through", b"evil")

    def rel_symlink_then_write(t):
        add_link(t, "./lnk", "../../../../../../../../" + outside.lstrip("/"))
        add_file(t, "./lnk/through", b"evil")

    def symlink_then_dir(t):
        add_link(t, "./lnk", outside)
        ti = tarfile.TarInfo("./lnk/newdir")
        ti.type = tarfile.DIRTYPE
        t.addfile(ti)

    def hardlink_out(t):
        add_link(t, "./hl", "../" + os.path.basename(outside) + "/secret", tarfile.LNKTYPE)

    def hardlink_abs(t):
        add_link(t, "./hl", secret, tarfile.LNKTYPE)

    def hardlink_via_symlink(t):
        add_link(t, "./lnk", outside)
        add_link(t, "./hl", "./lnk/secret", tarfile.LNKTYPE)

    cases = [dotdot, dotdot_deep, absolute, symlink_then_write,
             rel_symlink_then_write, symlink_then_dir, hardlink_out,
             hardlink_abs, hardlink_via_symlink]
    for build in cases:
        data = tar_bytes(build)
        parent, dst, before = prepared_target()
        rc, _, err = plugin("restore", ep(dst), data=data)
        assert rc != 0, "%s: restore succeeded" % build.__name__
        assert err.strip(), build.__name__
        assert_untouched(parent, dst, before)
        assert_same(out_before, snapshot(outside))
        assert not os.path.exists(os.path.join(parent, "escaped")), build.__name__
        assert not os.path.exists(os.path.join(TMP, "escaped")), build.__name__
        with open(secret) as f:
            assert f.read() == "keep me"
        assert os.stat(secret).st_nlink == 1, build.__name__
    # A symlink that merely points outside is data, restored as a link.
    data = tar_bytes(lambda t: add_link(t, "./lnk", outside))
    parent, dst, before = prepared_target()
    rc, _, err = plugin("restore", ep(dst), data=data)
    assert rc == 0, err
    assert os.readlink(os.path.join(dst, "lnk")) == outside
    assert_same(out_before, snapshot(outside))


def test_restore_into_mount_point():
    """A mount point cannot be renamed: it is restored in place instead."""
    parent = tmpdir("mnt")
    mnt = os.path.join(parent, "m")
    os.makedirs(mnt)
    if not IS_ROOT or subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64m",
                                      "tmpfs", mnt], capture_output=True).returncode:
        print("     skipped: cannot mount a tmpfs here")
        return
    try:
        src = make_tree(os.path.join(tmpdir("src"), "tree"))
        rc, tar, err = plugin("backup", ep(src))
        assert rc == 0, err
        with open(os.path.join(mnt, "old"), "w") as f:
            f.write("old")
        before = snapshot(mnt)
        rc, _, err = plugin("restore", ep(mnt), data=tar[:len(tar) // 2])
        assert rc != 0
        assert_same(before, snapshot(mnt))
        rc, _, err = plugin("restore", ep(mnt), data=tar)
        assert rc == 0, err
        assert_same(snapshot(src), snapshot(mnt))
        assert os.path.ismount(mnt)
    finally:
        subprocess.run(["umount", mnt])


# ---- store ----

def test_store_keys_and_retrieve():
    store = tmpdir("store")
    blobs = [os.urandom(n) for n in (0, 1, 700000)]
    keys = [store_blob(store, b) for b in blobs]
    assert len(set(keys)) == len(keys), keys
    for k, b in zip(keys, blobs):
        m = KEY_RE.match(k)
        assert m, k
        assert m.group(4) == m.group(1) + m.group(2) + m.group(3), k
        path = os.path.join(store, k)
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
        rc, out, err = plugin("retrieve", ep(store), key=k)
        assert rc == 0 and out == b, (k, err)
    files = [os.path.join(dp, f) for dp, _, fs in os.walk(store) for f in fs]
    assert len(files) == 3, files                    # no temp files
    # Keys that would leave base_dir are refused by both.
    os.makedirs(os.path.join(store, "2020", "01", "01"))
    os.symlink("/etc/passwd", os.path.join(store, "2020", "01", "01", "lnk"))
    os.symlink("/etc", os.path.join(store, "2020", "01", "etc"))
    for bad in ("../../etc/passwd", "/etc/passwd", "2020/../../x",
                "2020/01/01/lnk", "2020/01/etc/passwd", "./x", "a//b"):
        for action in ("retrieve", "purge"):
            rc, out, err = plugin(action, ep(store), key=bad)
            assert rc != 0, (action, bad)
            assert out == b"" and err.strip(), (action, bad)
            assert "refus" in err or "not a valid key" in err or "absolute" in err, err
    assert os.path.exists("/etc/passwd")
    rc, out, err = plugin("retrieve", ep(store), key="2020/01/01/missing")
    assert rc != 0 and "no archive" in err, err
    rc, _, err = plugin("retrieve", ep(store))
    assert rc != 0 and "--key" in err, err
    # Purge removes; a second purge of the same key still succeeds.
    for _ in range(2):
        rc, _, err = plugin("purge", ep(store), key=keys[2])
        assert rc == 0, err
    assert not os.path.exists(os.path.join(store, keys[2]))
    rc, _, err = plugin("purge", ep(store), key="1999/01/01/never")
    assert rc == 0, err
    rc, _, err = plugin("retrieve", ep(store), key=keys[2])
    assert rc != 0
    rc, out, err = plugin("retrieve", ep(store), key=keys[1])
    assert rc == 0 and out == blobs[1]
    # a new store's directory is created on first use
    rc, out, err = plugin("store", ep(os.path.join(store, "missing")), data=b"x")
    assert rc == 0 and b"key" in out, err
    rc, _, err = plugin("store", ep(os.path.join(store, "gone", "deeper")), data=b"x")
    assert rc != 0 and "No such file" in err, err


def store_files(store):
    return sorted(os.path.relpath(os.path.join(dp, f), store)
                  for dp, _, fs in os.walk(store) for f in fs)


def test_store_failure_leaves_no_temp():
    store = tmpdir("store")
    rc, _, err = plugin("validate", ep(store))
    assert rc == 0, err

    def small_fsize():
        # Writes past 1 MB fail with EFBIG (SIGXFSZ ignored): a full disk.
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (1 << 20, 1 << 20))
    rc, out, err = plugin("store", ep(store), data=os.urandom(5 << 20),
                          preexec=small_fsize)
    assert rc != 0 and out == b"", (rc, out)
    assert "writing archive" in err, err
    assert store_files(store) == [], store_files(store)
    # The directory became unwritable after validation.
    if IS_ROOT:
        os.chmod(store, 0o555)
        rc, out, err = plugin("store", ep(store), data=b"data", user=NOBODY)
        assert rc != 0 and out == b"", err
        os.chmod(store, 0o755)
        day = [os.path.join(dp) for dp, ds, fs in os.walk(store) if not ds]
        for d in day:
            os.chmod(d, 0o555)
        rc, out, err = plugin("store", ep(store), data=b"data", user=NOBODY)
        assert rc != 0 and out == b"" and "cannot" in err, err
        for d in day:
            os.chmod(d, 0o755)
    assert store_files(store) == [], store_files(store)
    # Killed while reading its input.
    p = subprocess.Popen([FS, "store", "--endpoint", ep(store)], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=ENV)
    p.stdin.write(os.urandom(1 << 20))
    p.stdin.flush()
    time.sleep(0.3)
    p.send_signal(signal.SIGTERM)
    rc = p.wait(timeout=30)
    out = p.stdout.read()
    check_stderr(p.stderr.read())
    p.stdin.close()
    assert rc != 0 and out == b"", (rc, out)
    assert store_files(store) == [], store_files(store)


# ---- the example shell plugin ----

def test_example_plugin():
    rc, out, err = plugin("info", exe=EXAMPLE)
    assert rc == 0, err
    info = json.loads(out)
    assert info["features"] == {"target": "yes", "store": "yes", "validate": "yes"}
    assert [f["name"] for f in info["fields"]] == ["dir"]
    src = make_tree(os.path.join(tmpdir("exsrc"), "tree"))
    store = tmpdir("exstore")
    rc, _, err = plugin("validate", json.dumps({"dir": store}), exe=EXAMPLE)
    assert rc == 0, err
    rc, _, err = plugin("validate", json.dumps({"dir": "relative"}), exe=EXAMPLE)
    assert rc != 0 and "absolute" in err, err
    rc, _, err = plugin("validate", "{}", exe=EXAMPLE)
    assert rc != 0 and "dir is required" in err, err
    rc, _, err = plugin("validate", json.dumps({"dir": store + "/nope"}), exe=EXAMPLE)
    assert rc != 0, err
    before = snapshot(src, mtime_ns=False)
    rc1, rc2, out, err = pipe(
        [EXAMPLE, "backup", "--endpoint", json.dumps({"dir": src})],
        [EXAMPLE, "store", "--endpoint", json.dumps({"dir": store})])
    assert rc1 == 0 and rc2 == 0, err
    key = json.loads(out)["key"]
    assert re.match(r"^\d{4}/\d{2}/\d{2}/\d{8}T\d{6}Z-[0-9a-f]{32}$", key), key
    assert len(store_files(store)) == 1
    parent = tmpdir("exdst")
    dst = os.path.join(parent, "restored")
    os.makedirs(os.path.join(dst, "stale"))
    rc1, rc2, out, err = pipe(
        [EXAMPLE, "retrieve", "--endpoint", json.dumps({"dir": store}), "--key", key],
        [EXAMPLE, "restore", "--endpoint", json.dumps({"dir": dst})])
    assert rc1 == 0 and rc2 == 0, err
    assert_same(before, snapshot(dst, mtime_ns=False))
    assert leftovers(parent) == [], os.listdir(parent)
    # The fs plugin reads what the example wrote, and the other way round.
    rc, tar, err = plugin("retrieve", json.dumps({"base_dir": store}), key=key)
    assert rc == 0, err
    dst2 = os.path.join(parent, "by-fs")
    rc, _, err = plugin("restore", ep(dst2), data=tar)
    assert rc == 0, err
    assert_same(before, snapshot(dst2, mtime_ns=False))
    # A bad stream leaves the target alone.
    rc, _, err = plugin("restore", json.dumps({"dir": dst}), data=tar[:len(tar) // 2],
                        exe=EXAMPLE)
    assert rc != 0
    assert_same(before, snapshot(dst, mtime_ns=False))
    for bad in ("../../etc/passwd", "/etc/passwd"):
        for action in ("retrieve", "purge"):
            rc, out, err = plugin(action, json.dumps({"dir": store}), key=bad,
                                  exe=EXAMPLE)
            assert rc != 0 and out == b"", (action, bad)
    for _ in range(2):
        rc, _, err = plugin("purge", json.dumps({"dir": store}), key=key, exe=EXAMPLE)
        assert rc == 0, err
    assert store_files(store) == []


def main():
    try:
        run([test_info, test_validate, test_base_dir_root_refused,
             test_roundtrip_through_store,
             test_backup_is_pax_tar, test_include_exclude,
             test_restore_replaces_tree, test_restore_bad_stream_leaves_target,
             test_restore_killed_leaves_target, test_restore_refuses_traversal,
             test_restore_into_mount_point,
             test_store_keys_and_retrieve, test_store_failure_leaves_no_temp,
             test_example_plugin])
    finally:
        for dp, ds, _ in os.walk(TMP):
            for d in ds:
                try:
                    os.chmod(os.path.join(dp, d), 0o755)
                except OSError:
                    pass
        shutil.rmtree(TMP, ignore_errors=True)


if __name__ == "__main__":
    main()
