"""Deleting what a sandboxed process wrote: whatever rights it left, however deep, never following a symlink.

Owns the one way the grader deletes a folder its student's code could write into: the process
backend's work folder (``sandbox/process.py``) and, inside a warm worker's sandbox, /tmp between two
submissions (``warm_worker.clean_up``, which loads this module's source: it is self-contained,
standard library only). ``shutil.rmtree(ignore_errors=True)`` left a tree whose folders the
student had made mode 000 (43 MB on the host after one grading); here

* every folder met is given back its owner's rights (read, write, search) before it is
  opened, moved or emptied, through a descriptor opened with O_NOFOLLOW; a symlink is removed
  as a name, never followed;
* no recursion and no descriptor per level: each folder met is moved up into the folder being
  emptied and emptied there in turn, so a tree of any depth (the path length limit does not
  apply to names relative to a descriptor) is flat by the time it is deleted;
* what cannot be deleted raises OSError: the caller says so, it does not pass over it.

Run it when nothing of the sandbox is alive any more (its processes killed): a process still
writing could add entries as fast as they are deleted.
"""

import errno
import itertools
import os
import stat

_FOLDER = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_HANDLE = os.O_PATH | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_OWNER_ALL = stat.S_IRWXU
_PASSES = 3  # emptying a folder again if entries were missed while it was being read


def remove_tree(path):
    """Delete ``path``: a folder and everything under it, or a file or symlink. Nothing there is fine."""
    parent, name = os.path.split(os.path.abspath(path))
    parent_fd = os.open(parent, _FOLDER)
    try:
        try:
            is_folder = stat.S_ISDIR(os.stat(name, dir_fd=parent_fd, follow_symlinks=False).st_mode)
        except FileNotFoundError:
            return
        if is_folder:
            _empty(_open_folder(name, parent_fd), ())
            os.rmdir(name, dir_fd=parent_fd)
        else:
            os.unlink(name, dir_fd=parent_fd)
    finally:
        os.close(parent_fd)


def empty_folder(path, keep=()):
    """Delete everything inside the folder ``path`` but the entries named in ``keep``."""
    _empty(_open_folder(path), keep)


def _open_folder(name, dir_fd=None):
    """A descriptor of the folder ``name`` (a symlink is refused), its owner holding every right."""
    _unlock(name, dir_fd)
    return os.open(name, _FOLDER, dir_fd=dir_fd)


def _unlock(name, dir_fd):
    """Give the folder ``name`` its owner's rights (read, write, search: to list it, delete what it
    holds, and move it, which rewrites its ".."), through a handle that opens nothing: mode 000
    must not stop it, and a symlink is refused, not followed."""
    handle = os.open(name, _HANDLE, dir_fd=dir_fd)
    try:
        mode = stat.S_IMODE(os.fstat(handle).st_mode)
        if mode & _OWNER_ALL != _OWNER_ALL:
            os.chmod(f"/proc/self/fd/{handle}", mode | _OWNER_ALL)
    finally:
        os.close(handle)


def _empty(root, keep):
    """Delete everything in the folder open as ``root`` (then close it) but ``keep``: each
    folder below it is moved into ``root``, emptied there, and removed."""
    try:
        pending = []  # folders directly in root, still to empty and remove
        numbers = itertools.count()  # of the fresh names of folders moved into root
        _take(root, root, keep, pending, numbers)
        while pending:
            name = pending.pop()
            folder = _open_folder(name, root)
            try:
                for attempt in range(_PASSES):
                    _take(folder, root, (), pending, numbers)
                    try:
                        os.rmdir(name, dir_fd=root)
                        break
                    except OSError as exc:
                        if exc.errno != errno.ENOTEMPTY or attempt == _PASSES - 1:
                            raise
            finally:
                os.close(folder)
    finally:
        os.close(root)


def _take(folder, root, keep, pending, numbers):
    """Unlink every file and symlink of ``folder``; note its folders in ``pending``, first moved
    into ``root`` under a fresh name unless they are there already."""
    with os.scandir(folder) as entries:
        for entry in entries:
            if entry.name in keep:
                continue
            if not entry.is_dir(follow_symlinks=False):
                os.unlink(entry.name, dir_fd=folder)
            elif folder == root:
                pending.append(entry.name)
            else:
                name = _fresh_name(root, numbers)
                _unlock(entry.name, folder)
                os.rename(entry.name, name, src_dir_fd=folder, dst_dir_fd=root)
                pending.append(name)


def _fresh_name(root, numbers):
    """A name no entry of ``root`` has (the student's own entries may look like ours)."""
    for number in numbers:
        name = f".cnn-grader-deleting-{number}"
        try:
            os.stat(name, dir_fd=root, follow_symlinks=False)
        except FileNotFoundError:
            return name
