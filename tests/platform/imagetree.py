"""The container image, rebuilt as a directory tree and run the way Docker would run it.

These machines have no Docker engine, so the image's file system is reproduced step by step
from the Dockerfile: a Python 3.11 installation at /usr/local with the pinned runtime
dependencies (deploy/requirements.txt, copied from this environment, whose versions must be
exactly those pins) and the grader installed non-editable with its console script, the tasks
root at /opt/grader owned by the grader user and closed to everyone else, and the cache the
image's build step fills. ``run`` starts the entry point the way ``docker run --read-only
--tmpfs /tmp --network none`` does: as the image's non-root user (uid 10001, setpriv), in
new namespaces (bwrap: user, pid, ipc, uts, net) where the whole tree is read-only but a
fresh /tmp and what is mounted (/submission, /results).

What differs from a real image: the base is this host's Debian Python 3.11 (the image's is
python:3.11-slim's, also Debian), and /usr/local/bin/python3.11 is a venv link to it.
"""

from __future__ import annotations

import importlib.metadata
import os
import re
import resource
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
UID = 10001
SYSTEM_PYTHON = Path("/usr/bin/python3.11")
PIDS_LIMIT = 128
ENVIRONMENT = {  # the image's ENV, and what docker run adds
    "PATH": "/usr/local/bin:/usr/bin:/bin",
    "HOME": "/nonexistent",
    "GRADER_ROOT": "/opt/grader",
    "GRADER_CACHE_DIR": "/opt/grader/cache",
    "GRADER_SERVE_HOST": "0.0.0.0",
    "PYTHONDONTWRITEBYTECODE": "1",
    "LANG": "C.UTF-8",
}


def pinned_requirements() -> dict[str, str]:
    pins = {}
    for line in (REPO / "deploy" / "requirements.txt").read_text().splitlines():
        line = line.split("#")[0].strip()
        if line:
            name, version = line.split("==")
            pins[name] = version
    return pins


def why_not_buildable() -> str | None:
    if os.geteuid() != 0:
        return "building the image tree needs root (files owned by the image's uid)"
    for tool in ("bwrap", "setpriv"):
        if not shutil.which(tool):
            return f"{tool} is not installed"
    if not SYSTEM_PYTHON.exists():
        return f"{SYSTEM_PYTHON} (a system Python 3.11, as in the image) is not installed"
    return None


@dataclass
class ImageTree:
    root: Path

    @property
    def usr_local(self) -> Path:
        return self.root / "usr" / "local"

    @property
    def opt_grader(self) -> Path:
        return self.root / "opt" / "grader"

    def run(self, *args: str, stdin: bytes | None = None, mounts: dict[str, tuple[Path, bool]] | None = None,
            writable_opt: bool = False, extra_bwrap: list[str] | None = None, pass_fds: tuple = (),
            entrypoint: tuple[str, ...] = ("grader",), timeout: float = 300) -> subprocess.CompletedProcess:
        """``docker run`` of the image with ``args`` after its ENTRYPOINT ["grader"].

        ``mounts``: {container path: (host path, writable)}; ``writable_opt`` for the build
        step (a RUN of the Dockerfile), ``entrypoint`` to run something else than the grader.
        """
        command = ["setpriv", f"--reuid={UID}", f"--regid={UID}", "--clear-groups", "--inh-caps=-all",
                   "--bounding-set=-all", "--", shutil.which("bwrap"), "--unshare-user", "--uid", str(UID),
                   "--gid", str(UID), "--unshare-pid", "--unshare-ipc", "--unshare-uts", "--unshare-net",
                   "--unshare-cgroup-try", "--die-with-parent", "--clearenv"]
        for name, value in ENVIRONMENT.items():
            command += ["--setenv", name, value]
        command += ["--ro-bind", "/usr", "/usr", "--ro-bind", "/etc", "/etc"]
        for link in ("bin", "lib", "lib64", "sbin"):
            if os.path.islink(f"/{link}"):
                command += ["--symlink", os.readlink(f"/{link}"), f"/{link}"]
        command += ["--ro-bind", str(self.usr_local), "/usr/local",
                    "--bind" if writable_opt else "--ro-bind", str(self.opt_grader), "/opt/grader",
                    "--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp"]
        for inside, (outside, writable) in (mounts or {}).items():
            command += ["--bind" if writable else "--ro-bind", str(outside), inside]
        # docker run --read-only: the root (a tmpfs bwrap made for the mount points) too.
        command += [*(extra_bwrap or []), "--remount-ro", "/", "--chdir", "/opt/grader", "--", *entrypoint, *args]
        return subprocess.run(command, input=stdin, capture_output=True, timeout=timeout, pass_fds=pass_fds,
                              preexec_fn=_pids_limit)


def _pids_limit() -> None:
    # docker run --pids-limit is a cgroup limit; the closest per-process equivalent here.
    resource.setrlimit(resource.RLIMIT_NPROC, (PIDS_LIMIT, PIDS_LIMIT))


def build(root: Path) -> ImageTree:
    """The image's file system under ``root``, built as the Dockerfile builds it."""
    tree = ImageTree(root)
    # FROM python:3.11-slim: an interpreter at /usr/local/bin/python3.11.
    subprocess.run([str(SYSTEM_PYTHON), "-m", "venv", "--without-pip", str(tree.usr_local)], check=True)
    site = tree.usr_local / "lib" / "python3.11" / "site-packages"
    # RUN pip install --no-deps -r deploy/requirements.txt: exactly the pinned versions.
    for name, version in pinned_requirements().items():
        distribution = importlib.metadata.distribution(name)
        if distribution.version != version:
            raise AssertionError(f"deploy/requirements.txt pins {name}=={version}, the tests run {distribution.version}")
        for file in distribution.files:
            source = Path(distribution.locate_file(file))
            if source.is_file() and "__pycache__" not in file.parts and not str(file).startswith(".."):
                target = site / file
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(source, target)
    # COPY pyproject.toml README.md grader; RUN pip install --no-deps .
    build_context = root.parent / "build-context"
    build_context.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(REPO / name, build_context / name)
    shutil.copytree(REPO / "grader", build_context / "grader", ignore=shutil.ignore_patterns("__pycache__"))
    # --target, not --prefix: with --prefix pip would also uninstall the grader from the
    # environment running these tests.
    built = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--disable-pip-version-check",
                            "--no-warn-script-location", "--target", str(site), str(build_context)],
                           capture_output=True, text=True)
    if built.returncode != 0:
        raise BuildBackendUnavailable(built.stderr[-2000:])
    script = tree.usr_local / "bin" / "grader"
    (site / "bin" / "grader").rename(script)
    (site / "bin").rmdir()
    script.write_text(re.sub(r"\A#!.*", "#!/usr/local/bin/python3.11", script.read_text()))  # pip's own shebang, in the image
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(site / "grader")], check=True)
    # COPY --chown=10001:10001 tasks reference student_template grader.yaml /opt/grader; chmod 0700/0600
    for name in ("tasks", "reference", "student_template"):
        shutil.copytree(REPO / name, tree.opt_grader / name, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy2(REPO / "grader.yaml", tree.opt_grader / "grader.yaml")
    for path in [tree.opt_grader, *tree.opt_grader.rglob("*")]:
        os.chown(path, UID, UID)
        path.chmod(0o700 if path.is_dir() else 0o600)
    for path in [root, root / "usr", root / "opt"]:
        path.chmod(0o755)
    # USER 10001; RUN grader list && python -c (the catalogs): the build step that fills the cache.
    warm_catalogs = "from grader.feedback import messages; [messages.catalog(lang) for lang in messages.LANGUAGES]"
    for entrypoint, args in ((("grader",), ["list"]), (("python3.11", "-c"), [warm_catalogs])):
        done = tree.run(*args, writable_opt=True, entrypoint=entrypoint)
        if done.returncode != 0:
            raise AssertionError(f"the image's build step {entrypoint} {args} failed: {done.stderr.decode()}")
    return tree


class BuildBackendUnavailable(RuntimeError):
    """pip could not build the grader (its build backend comes from the package index)."""
