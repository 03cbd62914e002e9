"""The submissions of a batch: a folder or a .zip of student files, read defensively.

Owns what counts as a submission (every ``.py`` file, by its path relative to the folder or
archive, which is its key in the results file) and what is refused with a clear message: a
missing path, an archive that is not a zip, entries whose names climb out of the archive or are
absolute, two entries with the same name, no submission at all. Other files (hidden ones, other
extensions, symlinks, encrypted entries) are skipped and listed. Nothing is extracted to disk,
and no read takes more than ``submission.MAX_BYTES`` + 1 bytes: a huge file or a zip bomb is
graded as SUBMISSION_TOO_LARGE like any oversized submission.
"""

from __future__ import annotations

import os
import stat
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Callable

from ..grading.submission import MAX_BYTES

MAX_ENTRIES = 100_000


class InputError(Exception):
    """The batch's input cannot be used at all."""


@dataclass
class Entry:
    name: str  # relative POSIX path: the key of this submission in the results file
    size: int  # as declared by the file system or the archive
    read: Callable[[], bytes]  # at most MAX_BYTES + 1 bytes

    @property
    def too_large(self) -> bool:
        return self.size > MAX_BYTES


@dataclass
class Inputs:
    entries: list[Entry]
    skipped: list[str] = field(default_factory=list)  # "name (why)"

    def notes(self) -> list[str]:
        """What an operator should know about the input, one line each."""
        lines = []
        if self.skipped:
            shown = ", ".join(self.skipped[:5]) + (", ..." if len(self.skipped) > 5 else "")
            lines.append(f"skipped {len(self.skipped)} entries that are not .py submissions: {shown}")
        large = [e.name for e in self.entries if e.too_large]
        if large:
            lines.append(f"{len(large)} files are larger than {MAX_BYTES // 1024} KiB and are graded as "
                         f"SUBMISSION_TOO_LARGE: {', '.join(large[:5])}" + (", ..." if len(large) > 5 else ""))
        return lines


def collect(path: str) -> Inputs:
    """The submissions in the folder or .zip at ``path``; InputError when there are none to grade."""
    source = Path(path)
    if not source.exists():
        raise InputError(f"no such folder or file: {path}")
    if source.is_dir():
        inputs = _from_folder(source)
    elif zipfile.is_zipfile(source):
        inputs = _from_zip(source)
    else:
        raise InputError(f"{path} is neither a folder nor a .zip archive of submissions")
    if not inputs.entries:
        raise InputError(f"no .py submission in {path}" + (f" ({inputs.notes()[0]})" if inputs.skipped else ""))
    return inputs


def _read_at_most(path: Path) -> Callable[[], bytes]:
    def read() -> bytes:
        with path.open("rb") as handle:
            return handle.read(MAX_BYTES + 1)
    return read


def _from_folder(root: Path) -> Inputs:
    inputs = Inputs([])
    for folder, subfolders, files in os.walk(root):
        subfolders[:] = sorted(d for d in subfolders if not d.startswith(".") and d != "__pycache__")
        for name in sorted(files):
            path = Path(folder) / name
            relative = path.relative_to(root).as_posix()
            if name.startswith("."):
                inputs.skipped.append(f"{relative} (hidden)")
            elif path.is_symlink():
                inputs.skipped.append(f"{relative} (symlink)")
            elif not name.endswith(".py"):
                inputs.skipped.append(f"{relative} (not .py)")
            elif not path.is_file():
                inputs.skipped.append(f"{relative} (not a regular file)")
            else:
                inputs.entries.append(Entry(relative, path.stat().st_size, _read_at_most(path)))
    return inputs


def _from_zip(archive_path: Path) -> Inputs:
    try:
        archive = zipfile.ZipFile(archive_path)
        members = archive.infolist()
    except (zipfile.BadZipFile, OSError) as exc:
        raise InputError(f"{archive_path} cannot be read as a zip archive: {exc}") from None
    if len(members) > MAX_ENTRIES:
        raise InputError(f"{archive_path} has {len(members)} entries; at most {MAX_ENTRIES} are accepted")
    unsafe = [m.filename for m in members if not _safe_name(m.filename)]
    if unsafe:
        raise InputError(f"{archive_path} has entries whose names are absolute or climb out of the archive "
                         f"(refused, nothing was graded): {', '.join(unsafe[:5])}")
    names = [m.filename for m in members if not m.is_dir()]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise InputError(f"{archive_path} holds several entries with the same name: {', '.join(twice[:5])}")
    inputs = Inputs([])
    for member in members:
        name = member.filename
        base = PurePosixPath(name).name
        if member.is_dir():
            continue
        if stat.S_ISLNK(member.external_attr >> 16):
            inputs.skipped.append(f"{name} (symlink)")
        elif member.flag_bits & 0x1:
            inputs.skipped.append(f"{name} (encrypted)")
        elif base.startswith(".") or any(
            part.startswith(".") or part == "__MACOSX" for part in PurePosixPath(name).parts[:-1]
        ):
            inputs.skipped.append(f"{name} (hidden)")
        elif not base.endswith(".py"):
            inputs.skipped.append(f"{name} (not .py)")
        else:
            inputs.entries.append(Entry(name, member.file_size, _member_reader(archive, member)))
    inputs.entries.sort(key=lambda e: e.name)
    return inputs


def _safe_name(name: str) -> bool:
    if not name or name.startswith(("/", "\\")) or "\\" in name or "\x00" in name:
        return False
    if len(name) > 1 and name[1] == ":":  # a Windows drive
        return False
    return ".." not in PurePosixPath(name).parts


def _member_reader(archive: zipfile.ZipFile, member: zipfile.ZipInfo) -> Callable[[], bytes]:
    def read() -> bytes:
        with archive.open(member) as handle:
            return handle.read(MAX_BYTES + 1)
    return read
