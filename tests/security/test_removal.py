"""grader/sandbox/confined/removal.py: a tree its owner locked up, deep, full of symlinks, deleted all the same.

The deletion runs as an ordinary uid (as the process backend's grader does in a container):
root would ignore the rights a hostile tree sets, and the test would prove nothing.
"""

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

CHECKOUT = Path(__file__).resolve().parents[2]
OWNER = 61997  # an ordinary uid of the test's own, when the tests run as root

HOSTILE_TREE = r'''
import json, os, sys
from grader.sandbox.confined import removal

base, outside = sys.argv[1], sys.argv[2]
tree = os.path.join(base, "tree")
os.mkdir(tree)
# Locked folders, files without rights, a folder without write.
for name in ("locked", "locked/inner", "readonly"):
    os.mkdir(os.path.join(tree, name))
with open(os.path.join(tree, "locked/inner/data"), "wb") as handle:
    handle.write(b"x" * 100000)
os.chmod(os.path.join(tree, "locked/inner/data"), 0)
with open(os.path.join(tree, "readonly/file"), "w") as handle:
    handle.write("x")
os.chmod(os.path.join(tree, "readonly"), 0o500)
os.chmod(os.path.join(tree, "locked/inner"), 0)
os.chmod(os.path.join(tree, "locked"), 0)
# Deeper than the recursion limit and than PATH_MAX allows by path.
fd = os.open(tree, os.O_RDONLY)
for level in range(3000):
    os.mkdir("d", dir_fd=fd)
    inner = os.open("d", os.O_RDONLY, dir_fd=fd)
    os.close(fd)
    fd = inner
os.chmod(f"/proc/self/fd/{fd}", 0)
os.close(fd)
# Symlinks to what must survive, one of them named like the folders cleanup moves.
os.symlink(outside, os.path.join(tree, "to-outside"))
os.symlink(os.path.join(outside, "keep"), os.path.join(tree, "to-a-file"))
os.symlink(outside, os.path.join(tree, ".cnn-grader-deleting-0"))
os.mkdir(os.path.join(tree, ".cnn-grader-deleting-1"))
os.chmod(tree, 0o500)
if sys.argv[3] == "remove":
    removal.remove_tree(tree)
else:
    os.mkdir(os.path.join(tree, "..", "unused"))
    removal.empty_folder(base, keep=("unused",))
print(json.dumps(sorted(os.listdir(base))))
'''


@pytest.mark.parametrize("how", ["remove", "empty"])
def test_a_locked_deep_tree_full_of_symlinks_is_deleted_and_nothing_outside_it(how):
    base = Path(tempfile.mkdtemp(prefix="cnn-cleanup-"))
    outside = Path(tempfile.mkdtemp(prefix="cnn-cleanup-outside-"))
    try:
        (outside / "keep").write_text("keep me")
        prefix = []
        if os.geteuid() == 0:
            os.chown(base, OWNER, OWNER)
            prefix = ["setpriv", f"--reuid={OWNER}", f"--regid={OWNER}", "--clear-groups", "--"]
        done = subprocess.run([*prefix, sys.executable, "-c", HOSTILE_TREE, str(base), str(outside), how],
                              capture_output=True, text=True, timeout=120, cwd=CHECKOUT)
        assert done.returncode == 0, done.stderr[-2000:]
        assert json.loads(done.stdout) == ([] if how == "remove" else ["unused"])
        assert (outside / "keep").read_text() == "keep me"
    finally:
        subprocess.run(["rm", "-rf", str(base), str(outside)], check=False)


def test_nothing_there_is_nothing_to_delete(tmp_path):
    from grader.sandbox.confined import removal

    removal.remove_tree(tmp_path / "absent")
    (tmp_path / "file").write_text("x")
    removal.remove_tree(tmp_path / "file")
    assert list(tmp_path.iterdir()) == []
