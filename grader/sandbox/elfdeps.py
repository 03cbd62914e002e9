"""The files the dynamic loader opens to run a set of ELF programs and libraries.

Owns reading what an ELF object asks of the loader (its interpreter, PT_INTERP; the libraries
it needs, DT_NEEDED; where to look for them, DT_RUNPATH or DT_RPATH) and finding each library as
glibc's loader does: the object's own search path (``$ORIGIN`` expanded), then the loader's
cache (/etc/ld.so.cache), then the default folders; only a library of the object's own class and
machine counts. ``needed`` follows the libraries' own needs to the end. The sandbox shows the
student's interpreter exactly these files of the system (``layout.layout``), and nothing else.

Only what the loader does without help is followed: LD_LIBRARY_PATH is never set in a sandbox,
and a library opened by name at run time (dlopen of a name that is no DT_NEEDED, e.g.
ctypes.util.find_library) is not there, which is the point.
"""

from __future__ import annotations

import mmap
import os
import struct
import sysconfig
from functools import lru_cache
from pathlib import Path

_PT_LOAD, _PT_DYNAMIC, _PT_INTERP = 1, 2, 3
_DT_NULL, _DT_NEEDED, _DT_STRTAB, _DT_RPATH, _DT_RUNPATH = 0, 1, 5, 15, 29
LD_CACHE = Path("/etc/ld.so.cache")
_CACHE_MAGIC = b"glibc-ld.so.cache1.1"


class Elf:
    """What the loader reads of one ELF file."""

    def __init__(self, path: Path):
        self.path = path
        with open(path, "rb") as handle:
            # Mapped, not read: the few pages of headers are all that is touched of a large library.
            with mmap.mmap(handle.fileno(), 0, prot=mmap.PROT_READ) as data:
                self._read(data)

    def _read(self, data) -> None:
        path = self.path
        if data[:4] != b"\x7fELF" or data[4] not in (1, 2) or data[5] not in (1, 2):
            raise ValueError(f"{path} is not an ELF file")
        self.wide = data[4] == 2  # 64-bit
        self.order = "<" if data[5] == 1 else ">"
        self.machine = struct.unpack_from(self.order + "H", data, 18)[0]
        if self.wide:
            phoff, = struct.unpack_from(self.order + "Q", data, 32)
            phentsize, phnum = struct.unpack_from(self.order + "HH", data, 54)
        else:
            phoff, = struct.unpack_from(self.order + "I", data, 28)
            phentsize, phnum = struct.unpack_from(self.order + "HH", data, 42)
        segments = [self._segment(data, phoff + index * phentsize) for index in range(phnum)]
        self.interpreter = None
        self.needed: list[str] = []
        self.search: list[str] = []  # RUNPATH, else RPATH, with $ORIGIN expanded
        for kind, offset, _, size in segments:
            if kind == _PT_INTERP:
                self.interpreter = data[offset:offset + size].split(b"\0", 1)[0].decode()
        dynamic = next(((offset, size) for kind, offset, _, size in segments if kind == _PT_DYNAMIC), None)
        if dynamic:
            self._read_dynamic(data, *dynamic, [(a, o, s) for k, o, a, s in segments if k == _PT_LOAD])

    def _segment(self, data: bytes, at: int) -> tuple[int, int, int, int]:
        """(type, file offset, virtual address, size in the file) of one program header."""
        if self.wide:
            kind, _, offset, address, _, size = struct.unpack_from(self.order + "IIQQQQ", data, at)
        else:
            kind, offset, address, _, size = struct.unpack_from(self.order + "IIIII", data, at)
        return kind, offset, address, size

    def _read_dynamic(self, data: bytes, offset: int, size: int, loads: list[tuple[int, int, int]]) -> None:
        entry = struct.Struct(self.order + ("qQ" if self.wide else "iI"))
        entries = []
        for at in range(offset, offset + size - entry.size + 1, entry.size):
            tag, value = entry.unpack_from(data, at)
            if tag == _DT_NULL:
                break
            entries.append((tag, value))
        table = next((value for tag, value in entries if tag == _DT_STRTAB), None)
        start = next((table - address + file_offset for address, file_offset, length in loads
                      if address <= table < address + length), None) if table is not None else None
        if start is None:
            return

        def string(at: int) -> str:
            return data[start + at:data.find(b"\0", start + at)].decode("utf-8", "replace")

        self.needed = [string(value) for tag, value in entries if tag == _DT_NEEDED]
        runpath = [string(value) for tag, value in entries if tag == _DT_RUNPATH]
        rpath = [string(value) for tag, value in entries if tag == _DT_RPATH]
        origin = str(self.path.parent)
        for entry_text in runpath or rpath:
            for folder in entry_text.split(":"):
                if folder:
                    self.search.append(os.path.normpath(folder.replace("${ORIGIN}", origin).replace("$ORIGIN", origin)))


@lru_cache(maxsize=None)
def _read(path: Path) -> Elf | None:
    try:
        return Elf(path)
    except (OSError, ValueError, struct.error, IndexError, OverflowError):
        return None


@lru_cache(maxsize=1)
def _cache() -> dict[str, list[str]]:
    """The loader's cache: library name -> the paths it lists for it, in its order."""
    found: dict[str, list[str]] = {}
    try:
        data = LD_CACHE.read_bytes()
    except OSError:
        return found
    base = data.find(_CACHE_MAGIC)  # at 0, or after the old format's part in a compatible cache
    if base < 0:
        return found
    count, = struct.unpack_from("<I", data, base + 20)
    for index in range(count):
        _, key, value = struct.unpack_from("<iII", data, base + 48 + 24 * index)
        try:
            name = data[base + key:data.index(b"\0", base + key)].decode()
            path = data[base + value:data.index(b"\0", base + value)].decode()
        except (ValueError, UnicodeDecodeError):
            continue
        found.setdefault(name, []).append(path)
    return found


def _default_folders() -> list[str]:
    multiarch = sysconfig.get_config_var("MULTIARCH")
    folders = [f"/lib/{multiarch}", f"/usr/lib/{multiarch}"] if multiarch else []
    return folders + ["/lib64", "/usr/lib64", "/lib", "/usr/lib"]


def _find(name: str, requester: Elf) -> list[str]:
    """Where the loader finds the library ``name`` for ``requester``: the first match of its own
    search path, else every match the cache lists (variants for other CPU levels included), else
    the first of the default folders."""

    def usable(path: str) -> bool:
        library = _read(Path(path))
        return library is not None and library.wide == requester.wide and library.machine == requester.machine

    if "/" in name:
        return [name] if usable(name) else []
    for folder in requester.search:
        if usable(os.path.join(folder, name)):
            return [os.path.join(folder, name)]
    listed = [path for path in _cache().get(name, []) if usable(path)]
    if listed:
        return listed
    for folder in _default_folders():
        if usable(os.path.join(folder, name)):
            return [os.path.join(folder, name)]
    return []


def needed(programs: list[Path]) -> list[str]:
    """Every file the loader opens to run ``programs`` (executables or libraries), as it names
    them: their interpreters and the libraries they need, and the ones those need, to the end.
    The programs themselves are not listed. A library that cannot be found is left out (the
    loader would fail on it outside the sandbox too)."""
    seen: dict[str, None] = {}
    queue = [Path(program) for program in programs]
    while queue:
        elf = _read(queue.pop())
        if elf is None:
            continue
        wanted = ([elf.interpreter] if elf.interpreter else []) + [
            path for name in elf.needed for path in _find(name, elf)
        ]
        for path in wanted:
            if path not in seen:
                seen[path] = None
                queue.append(Path(path))
    return list(seen)
