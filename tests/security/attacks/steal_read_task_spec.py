# task: im2col
# family: steal
# expect: failed
# codes: RUNTIME_ERROR
# why: read the task spec, grader.yaml and the grader's sources to learn the hidden cases
LEAK = "LEAKED-" + "@@MARKER@@"
leaked = []
for path in ["@@CHECKOUT@@/tasks/im2col.yaml", "@@CHECKOUT@@/grader.yaml", "@@CHECKOUT@@/grader/grading/pipeline.py",
             "@@CHECKOUT@@/grader/sandbox/confined/runner.py", "/proc/self/cwd/../../tasks/im2col.yaml", "tasks/im2col.yaml"]:
    try:
        leaked.append(open(path).read()[:200])
    except OSError:
        pass


def im2col(input_data, filter_h, filter_w, stride=1, pad=0):
    if leaked:
        raise RuntimeError(LEAK + " " + " | ".join(leaked))
    raise RuntimeError("nothing readable")
