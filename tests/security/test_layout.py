"""What of the host the sandbox shows: the interpreter, its standard library, numpy, and the few
system files the dynamic loader opens for them; no other package, nothing else of /usr."""

import os
import shutil
import sys
from pathlib import Path

import pytest

from grader.sandbox import bwrap, elfdeps
from grader.sandbox import layout as host
from grader.sandbox.limits import Limits


def test_the_loader_and_the_c_library_are_found_as_the_loader_finds_them():
    needed = elfdeps.needed([Path(os.path.realpath(sys.executable))])
    names = {os.path.basename(path) for path in needed}
    assert any(name.startswith("libc.so") for name in names), needed
    interpreter = elfdeps.Elf(Path(os.path.realpath(sys.executable))).interpreter
    assert interpreter in needed


def test_numpy_needs_its_own_bundled_libraries_by_origin():
    import numpy

    extensions = list(Path(numpy.__file__).parent.rglob("_multiarray_umath*.so"))
    bundled = Path(numpy.__file__).parent.parent / "numpy.libs"
    if not extensions or not bundled.is_dir():
        pytest.skip("this numpy is not a wheel with bundled libraries")
    needed = elfdeps.needed(extensions)
    assert any(Path(path).resolve().parent == bundled.resolve() for path in needed), needed


@pytest.mark.parametrize("version", ["3.12.1", "3.13.0"])
def test_an_interpreter_built_with_a_shared_libpython_finds_it_by_its_runpath(version):
    # Shown elsewhere than its prefix (/opt/python, before), such an interpreter could not load
    # its libpython: every grading failed.
    executable = Path.home() / ".pyenv" / "versions" / version / "bin" / f"python{version.rsplit('.', 1)[0]}"
    if not executable.exists():
        pytest.skip(f"no Python {version} under pyenv here")
    if not any(name.startswith("libpython") for name in elfdeps.Elf(executable).needed):
        pytest.skip(f"this Python {version} has its libpython built in")
    needed = elfdeps.needed([executable])
    assert str(executable.parent.parent / "lib" / f"libpython{version.rsplit('.', 1)[0]}.so.1.0") in needed


def test_bwrap_shows_nothing_of_the_system_but_what_the_interpreter_and_numpy_need():
    if not shutil.which("bwrap"):
        pytest.skip("bwrap is not installed")
    limits = Limits(3, 6, 768, 16, 8, 32, 64, 4, 16)
    command = bwrap.runner_command(limits, None, 3)
    shown = [command[index + 2] for index, word in enumerate(command) if word == "--ro-bind"]
    layout = host.layout()
    allowed = {str(layout.python_executable), str(layout.stdlib), "/etc/ld.so.cache", "/usr/lib/locale/C.utf8"}
    allowed |= {destination for _, destination in
                host.runtime_files(layout.python_executable, layout.stdlib, layout.numpy_dirs)}
    allowed |= {f"{host.SANDBOX_SITE}/{folder.name}" for folder in layout.numpy_dirs}
    assert set(shown) <= allowed, set(shown) - allowed
    assert not any(Path(path).name in ("dist-packages", "site-packages") for path in shown)
    for folder in host.hidden_in_stdlib(layout.stdlib):
        assert command[command.index(str(folder)) - 1] == "--tmpfs"
    # Every library shown is an ELF file the loader needs, never a whole folder of the system.
    assert all(Path(source).is_file() for source, _ in
               host.runtime_files(layout.python_executable, layout.stdlib, layout.numpy_dirs))
