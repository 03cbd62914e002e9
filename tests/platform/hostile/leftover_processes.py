"""Leaves a daemon (double fork, new session) and a lingering thread behind."""
import os
import threading
import time


def haunt():
    while True:
        for folder in ("/tmp", "/tmp/work", "."):
            try:
                with open(os.path.join(folder, "haunted.py"), "w") as handle:
                    handle.write("raise SystemExit('haunted')\n")
            except OSError:
                pass
        time.sleep(0.005)


if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        haunt()
    os._exit(0)
threading.Thread(target=haunt, daemon=False).start()


class Convolution:
    pass
