# task: im2col
# family: exhaust
# expect: failed
# codes: RUNTIME_ERROR
# xfail[process-unprivileged]: without root the work folder cannot be a size-limited tmpfs; only RLIMIT_FSIZE (per file) bounds the writes, so the platform must give /tmp a size (docker --tmpfs /tmp:size=...)
# why: fill the disk with 8 MiB files (at most 64 MiB here) and report how much got written
import os

written = 0
for index in range(8):
    try:
        with open(f"flood-{index}.bin", "wb") as handle:
            for _ in range(8):
                handle.write(b"\0" * (1024 * 1024))
                handle.flush()
                written += 1024 * 1024
    except (OSError, MemoryError):
        pass
    except BaseException:
        break


# The suite's scratch_mb is 32: anything beyond is a flood the sandbox did not stop.
if written > 32 * 1024 * 1024:
    print("LEAKED-" + "@@MARKER@@", "wrote", written, "bytes")


def im2col(input_data, filter_h, filter_w, stride=1, pad=0):
    raise RuntimeError("wrote %d bytes" % written)
