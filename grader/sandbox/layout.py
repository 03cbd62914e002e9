"""What of the host the sandbox shows, and the environment it runs in: the same in every backend.

Owns the interpreter, its standard library and numpy as the sandbox sees them (``Layout``), the
system files the dynamic loader opens to run them (``runtime_files``, followed by ``elfdeps``),
and ``SANDBOX_ENV``. bwrap binds exactly these; the process backend has a Landlock rule on each.
"""

from __future__ import annotations

import importlib.util
import os
import sys
import sysconfig
from collections import namedtuple
from functools import lru_cache
from pathlib import Path

SANDBOX_SITE = "/opt/site"  # where numpy's folders are shown (the process backend: a folder of links)
SANDBOX_SCRATCH = "/tmp/work"  # bwrap's and a warm worker's writable folder, in their private tmpfs
# numpy's BLAS starts a thread per core and reserves memory per thread, which fails under
# RLIMIT_AS; one thread keeps the student's numpy inside the address-space limit.
# numpy asks for transparent huge pages for arrays of 4 MiB and more; on a host whose memory
# is fragmented the kernel then compacts memory inside the page fault, which cost a 512 MiB
# allocation 1.2-1.7 s of system time here instead of 6 ms: a student's large arrays would
# run into the wall clock (TIMEOUT, not MEMORY_LIMIT) at a pace set by the host's state.
SANDBOX_ENV = {
    "PATH": "/usr/bin:/bin",
    "HOME": SANDBOX_SCRATCH,
    "LANG": "C.UTF-8",
    "PYTHONIOENCODING": "utf-8",
    "OPENBLAS_NUM_THREADS": "1",
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "NUMPY_MADVISE_HUGEPAGE": "0",
}


# What of the host the student's interpreter is shown, in every backend: the interpreter's
# executable and its standard library (lib-dynload's extension modules inside it; any
# site-packages or dist-packages folder in it hidden); numpy's folder and, in wheels, numpy.libs
# (its bundled OpenBLAS); and of the rest of the system only the files the dynamic loader opens
# to run those (``runtime_files``): the loader itself and the shared libraries they need. No
# other installed package - the distribution's /usr/lib/python3/dist-packages, the grader's own
# site-packages - is there to be imported. Every path is shown where it is on the host, so an
# interpreter built with --enable-shared finds its libpython by its RUNPATH.
Layout = namedtuple("Layout", "python_executable stdlib numpy_dirs")
HIDDEN_IN_STDLIB = ("site-packages", "dist-packages")


@lru_cache(maxsize=1)
def layout() -> Layout:
    """The grader's own interpreter, standard library and numpy (bwrap shows these; the process
    backend as root may use another interpreter: ``process.interpreter``)."""
    prefix = Path(sys.base_prefix).resolve()
    executable = Path(os.path.realpath(sys.executable))
    if not executable.is_relative_to(prefix):
        executable = prefix / "bin" / f"python{sys.version_info.major}.{sys.version_info.minor}"
    stdlib = Path(
        sysconfig.get_paths(vars={"base": sys.base_prefix, "installed_base": sys.base_prefix})["stdlib"]
    ).resolve()
    numpy_spec = importlib.util.find_spec("numpy")
    numpy_dir = Path(numpy_spec.origin).resolve().parent
    numpy_dirs = [numpy_dir] + [p for p in [numpy_dir.parent / "numpy.libs"] if p.is_dir()]
    return Layout(executable, stdlib, tuple(numpy_dirs))


def hidden_in_stdlib(stdlib: Path) -> list[Path]:
    """The package folders inside a standard library folder, which no sandbox shows."""
    return [stdlib / name for name in HIDDEN_IN_STDLIB if (stdlib / name).is_dir()]


def runtime_files(executable: Path, stdlib: Path, numpy_dirs: tuple[Path, ...],
                  others: tuple[Path, ...] = ()) -> list[tuple[str, str]]:
    """(host file, where the sandbox shows it) of every file of the system the dynamic loader
    opens to run ``executable``, the extension modules of ``stdlib/lib-dynload`` and of numpy,
    and the ``others`` programs (bwrap as root runs setpriv): see ``elfdeps``. A file is shown
    under its own name in the real folder of the path the loader asks for (the host's top
    symlinks, /lib -> usr/lib, are the sandbox's too). Files inside numpy's folders are left out:
    those are shown whole anyway.

    Following every library takes tens of milliseconds, more than a grading can spare: the
    answer is cached (``doccache``), keyed by the programs' and the loader cache's identity."""
    from ..spec import doccache  # here: the layout module is imported before a grading's sandbox starts

    dynload = stdlib / "lib-dynload"
    watched = [executable, dynload, *numpy_dirs, *others, LOADER_CACHE]
    key = "\n".join(f"{path}:{_identity(path)}" for path in watched)

    def follow() -> list[list[str]]:
        from . import elfdeps  # only on a cache miss

        programs = [executable, *others, *sorted(dynload.glob("*.so"))]
        programs += [path for folder in numpy_dirs for path in sorted(folder.rglob("*.so*")) if path.is_file()]
        shown = []
        for path in elfdeps.needed(programs):
            source = os.path.realpath(path)
            if not any(Path(source).is_relative_to(folder) for folder in numpy_dirs):
                shown.append([source, os.path.join(os.path.realpath(os.path.dirname(path)), os.path.basename(path))])
        return shown

    return [tuple(pair) for pair in doccache.cached("runtime-files", key.encode(), follow)]


LOADER_CACHE = Path("/etc/ld.so.cache")
# The C library's data for the LANG the sandbox sets (its locale: C.UTF-8).
LOCALE = Path("/usr/lib/locale/C.utf8")


def _identity(path: Path) -> str:
    try:
        info = path.stat()
    except OSError:
        return "absent"
    return f"{info.st_dev}:{info.st_ino}:{info.st_mtime_ns}:{info.st_size}"

