"""check.py of a student kit: try your module on the task's visible cases, offline.

Run it as ``python check.py`` in the kit's folder, next to your module. It needs Python and numpy
only, and no reference: it reads what ``grader kit`` packed beside it (kit.json: the task's entry,
tolerances and messages; cases/*.npz: each visible case's inputs and expected outputs) and

  (a) calls your code on every visible case and judges each output as the grader does, cheapest
      layer first (type, dtype, shape, finite, values), with the grader's codes, messages and
      hints (the hints come from _diagnostics.py, the grader's own module, shipped as source);
  (b) runs the reference-free checks the task declares, on fresh random inputs: your gradients
      against finite differences of sum(forward(x) * upstream), and their shapes; or the adjoint
      identity <f(x), y> = <x, g(y)> with g(y) of the task's partner (y and g(y) are in cases/).

Hidden and random cases are graded on the server only: passing here is a good sign, not a score.
Exit status 0 when everything passed, 1 otherwise.

This file is the source of grader/kit/check.py, shipped as is: standard library and numpy only.
"""

import json
import os
import string
import sys
import traceback

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ARRAY_CODES = ("SHAPE_MISMATCH", "NOT_FINITE", "WRONG_VALUES")


class MissingEntry(Exception):
    """The module does not define the function or class the task calls."""


class _Lenient(dict):
    def __missing__(self, key):
        return "{" + key + "}"


class Kit:
    def __init__(self, folder):
        with open(os.path.join(folder, "kit.json"), encoding="utf-8") as handle:
            self.data = json.load(handle)
        self.folder = folder
        self.module_file = self.data["module"] + ".py"

    def say(self, key, **values):
        """The catalog message at ``key`` ("codes.WRONG_VALUES"), as the grader words it."""
        node = self.data["messages"]
        for part in key.split("."):
            node = node[part]
        try:
            return string.Formatter().vformat(node, (), _Lenient(values))
        except (ValueError, TypeError, KeyError):
            return node

    def has(self, key):
        node = self.data["messages"]
        for part in key.split("."):
            if not isinstance(node, dict) or part not in node:
                return False
            node = node[part]
        return True


def arguments(names, values):
    return [tuple(values[n] for n in name) if isinstance(name, list) else values[name] for name in names]


def call_entry(module, entry, values, until=None):
    """Run the task's entry as the grader's runner does; {output: value} (a missing attribute: absent).
    ``until``: the index of the step to stop after, returning that step's result alone."""
    if "function" in entry:
        function = getattr(module, entry["function"], None)
        if function is None:
            raise MissingEntry(entry["function"])
        return {entry["returns"]: function(*arguments(entry["args"], values))}
    cls = getattr(module, entry["class"], None)
    if cls is None:
        raise MissingEntry(entry["class"])
    instance = cls(*arguments(entry.get("init", []), values))
    results = {}
    for position, step in enumerate(entry["steps"]):
        returned = getattr(instance, step["call"])(*arguments(step.get("args", []), values))
        if position == until:
            return returned
        if step.get("returns"):
            results[step["returns"]] = returned
    for attribute in entry.get("attributes", []):
        if hasattr(instance, attribute):
            results[attribute] = getattr(instance, attribute)
    return results


def where(kit, exc):
    """" (line N)" at the last line of the student's module in the traceback, as the grader says it."""
    line = None
    if isinstance(exc, SyntaxError) and exc.filename and os.path.basename(exc.filename) == kit.module_file:
        line = exc.lineno
    for frame in traceback.extract_tb(exc.__traceback__):
        if os.path.basename(frame.filename) == kit.module_file:
            line = frame.lineno
    return kit.say("where.line", line=line) if line else ""


def exception_lines(kit, code, exc):
    name = type(exc).__name__
    message = kit.say(f"codes.{code}", exception=name, message=str(exc), where=where(kit, exc), name=str(exc))
    lines = [message]
    if kit.has(f"exception_hints.{name}"):
        lines.append(kit.say(f"exception_hints.{name}", allowed=kit.data["allowed_modules"]))
    return lines


def judge_output(kit, name, present, value, expected):
    """(code or None, message lines) for one output, layer by layer as the grader's compare does."""
    source = kit.data["output_sources"][name]
    if not present or value is None:
        how = "never_set" if source == "attribute" else f"{source}_returned_none"
        call = next((s["call"] for s in kit.data["entry"].get("steps", []) if s.get("returns") == name),
                    kit.data["entry"].get("function", ""))
        return "MISSING_OUTPUT", [kit.say("codes.MISSING_OUTPUT", output=name,
                                          how=kit.say(f"missing.{how}", output=name, call=call))]
    notes = []
    if isinstance(value, (list, tuple)):
        kind = "list" if isinstance(value, list) else "tuple"
        try:
            value = np.array(value, dtype=float)
        except Exception:
            return "WRONG_TYPE", [kit.say("codes.WRONG_TYPE", output=name, got=kit.say(f"kinds.{kind}"))]
        notes.append(kit.say("notes.LIST_CONVERTED", output=name, kind=kit.say(f"kinds.{kind}")))
    elif type(value) is not np.ndarray:
        if isinstance(value, np.ndarray):
            kind = "subclass"
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            kind = "scalar"
        else:
            kind = "other"
        return "WRONG_TYPE", [kit.say("codes.WRONG_TYPE", output=name, got=kit.say(f"kinds.{kind}"))]
    if value.dtype.kind not in "iuf":  # the grader's NUMERIC_KINDS: bool, complex, object and text are refused
        return "BAD_DTYPE", notes + [kit.say("codes.BAD_DTYPE", output=name, dtype=str(value.dtype))]
    tolerance = kit.data["tolerances"][name]
    got = value.astype(np.float64)
    if got.shape != expected.shape:
        code = "SHAPE_MISMATCH"
        lines = [kit.say("codes.SHAPE_MISMATCH", output=name, got=list(got.shape), expected=list(expected.shape))]
    else:
        finite = np.isfinite(got)
        error = np.abs(np.where(finite, got, 0.0) - expected)
        if not finite.all():
            code = "NOT_FINITE"
            lines = [kit.say("codes.NOT_FINITE", output=name, count=int((~finite).sum()),
                             nan=int(np.isnan(got).sum()), inf=int(np.isinf(got).sum()))]
        elif error.size and bool((error > tolerance["atol"] + tolerance["rtol"] * np.abs(expected)).any()):
            code = "WRONG_VALUES"
            lines = [kit.say("codes.WRONG_VALUES", output=name, max_abs_error=float(error.max()),
                             atol=tolerance["atol"], rtol=tolerance["rtol"])]
        else:
            return None, notes
    return code, notes + lines + hint_lines(kit, expected, got, tolerance)


def hint_lines(kit, expected, got, tolerance):
    """The grader's hints for a wrong array (grader/grading/diagnostics.py, shipped as _diagnostics.py)."""
    import _diagnostics

    report = _diagnostics.analyse(expected, got, tolerance)
    lines = []
    for section, hints in (("shape_hints", report.get("shape_hints", [])), ("value_hints", report.get("hints", []))):
        for hint in hints:
            values = dict(hint)
            if "axis" in hint:
                values["axis"] = kit.say(f"axes.{hint['axis']}")
            line = kit.say(f"{section}.{hint['code']}", **values)
            if hint.get("values_ok"):
                line += kit.say("join.sentences") + kit.say(f"{section}.values_ok")
            lines.append(line)
    if "worst" in report:
        worst = report["worst"]
        index = "(" + ", ".join(str(i) for i in worst["index"]) + ("," if len(worst["index"]) == 1 else "") + ")"
        lines.append(kit.say("render.worst", index=index, expected=worst["expected"], got=worst["got"]))
    return lines


def load_case(kit, case):
    """(inputs, expected, every other array of the case: the adjoint sides)."""
    with np.load(os.path.join(kit.folder, case["file"]), allow_pickle=False) as arrays:
        inputs = {name: arrays["input." + name] for name in case["inputs"]}
        expected = {name: arrays["expected." + name] for name in kit.data["outputs"]}
        extra = {key: arrays[key] for key in arrays.files if key.startswith("adjoint")}
    return inputs, expected, extra


def adjoint_check(kit, module, number, spec, case, inputs, expected, sides, rng):
    """(code or None, lines): <f(x), y> = <x, g(y)> for your f on a fresh random x."""
    values = dict(case["params"])
    values.update({name: array.copy() for name, array in inputs.items()})
    x = rng.normal(size=inputs[spec["input"]].shape)
    values[spec["input"]] = x.copy()
    try:
        results = call_entry(module, kit.data["entry"], values)
    except Exception as exc:
        return "RUNTIME_ERROR", exception_lines(kit, "RUNTIME_ERROR", exc)
    value = results.get(spec["output"])
    expected_shape = expected[spec["output"]].shape
    if not isinstance(value, np.ndarray) or value.shape != expected_shape:
        code, lines = judge_output(kit, spec["output"], spec["output"] in results, value, expected[spec["output"]])
        return code or "SHAPE_MISMATCH", lines
    y, gy = sides[f"adjoint{number}.y"], sides[f"adjoint{number}.gy"]
    left, right = float(np.sum(value.astype(np.float64) * y)), float(np.sum(x * gy))
    if not abs(left - right) <= kit.data["adjoint"]["rtol"] * (abs(left) + abs(right)) + 1e-12:
        return "ADJOINT_CHECK", [kit.say("kit.adjoint_failed", output=spec["output"], task=kit.data["task"],
                                         other=spec["task"], left=f"{left:.12g}", right=f"{right:.12g}")]
    return None, []


def run_case(kit, module, case, inputs, expected):
    """(code or None, message lines) of one visible case."""
    values = dict(case["params"])
    values.update({name: array.copy() for name, array in inputs.items()})
    try:
        results = call_entry(module, kit.data["entry"], values)
    except MissingEntry as exc:
        return "MISSING_ENTRY", [kit.say("codes.MISSING_ENTRY", name=exc.args[0])]
    except MemoryError as exc:
        return "MEMORY_LIMIT", exception_lines(kit, "MEMORY_LIMIT", exc)
    except Exception as exc:
        return "RUNTIME_ERROR", exception_lines(kit, "RUNTIME_ERROR", exc)
    first, lines = None, []
    for name in kit.data["outputs"]:
        code, said = judge_output(kit, name, name in results, results.get(name), expected[name])
        first = first or code
        lines += said
    return first, lines


def gradient_check(kit, module, spec, case, inputs, expected, rng):
    """(code or None, lines): the student's gradients against finite differences, on fresh inputs."""
    settings = kit.data["gradient"]
    entry = kit.data["entry"]
    steps = entry["steps"]
    forward = next(i for i, s in enumerate(steps) if spec["forward"] in (s["call"], s.get("returns")))
    fresh = {name: rng.normal(size=array.shape) for name, array in inputs.items()}
    values = dict(case["params"])

    def run(changed, until=None):
        return call_entry(module, entry, {**values, **{n: a.copy() for n, a in {**fresh, **changed}.items()}}, until)

    def loss(changed):
        return float(np.sum(np.asarray(run(changed, forward), dtype=np.float64) * fresh[spec["upstream"]]))

    try:
        analytic = run({})
        base = loss({})
    except Exception as exc:
        return "RUNTIME_ERROR", exception_lines(kit, "RUNTIME_ERROR", exc)
    for name, gradient in spec["pairs"].items():
        value = analytic.get(gradient)
        got = np.asarray(value, dtype=np.float64) if isinstance(value, (np.ndarray, list, tuple)) else None
        if got is None or got.shape != expected[gradient].shape:
            code, lines = judge_output(kit, gradient, gradient in analytic, value, expected[gradient])
            return code or "SHAPE_MISMATCH", lines
        original = fresh[name]
        picks = rng.choice(original.size, size=min(original.size, settings["coordinates"]), replace=False)
        for flat in picks:
            plus, minus = original.copy(), original.copy()
            plus.flat[flat] += settings["step"]
            minus.flat[flat] -= settings["step"]
            above, below = loss({name: plus}), loss({name: minus})
            left, right = (base - below) / settings["step"], (above - base) / settings["step"]
            if abs(left - right) > settings["kink"] * (1 + abs(left) + abs(right)):
                continue  # a kink (max, ReLU): the one-sided differences disagree, no derivative to compare
            numeric = (above - below) / (2 * settings["step"])
            if not abs(numeric - got.flat[flat]) <= settings["atol"] + settings["rtol"] * abs(numeric):
                index = [int(i) for i in np.unravel_index(flat, original.shape)]
                return "GRADIENT_CHECK", [kit.say("kit.gradient_failed", output=gradient, input=name, index=index,
                                                  numeric=f"{numeric:.6g}", got=f"{float(got.flat[flat]):.6g}",
                                                  forward=spec["forward"], upstream=spec["upstream"])]
    return None, []


def main():
    kit = Kit(HERE)
    data = kit.data
    sys.path.insert(0, HERE)
    passed, failed = kit.say("render.passed"), kit.say("render.failed")
    print(kit.say("kit.head", title=data["title"], module=kit.module_file))
    try:
        module = __import__(data["module"])
    except SyntaxError as exc:
        print(f"{failed}  COMPILE_ERROR")
        print("\n".join("  " + line for line in exception_lines(kit, "COMPILE_ERROR", exc)))
        return 1
    except Exception as exc:
        print(f"{failed}  IMPORT_ERROR")
        print("\n".join("  " + line for line in exception_lines(kit, "IMPORT_ERROR", exc)))
        return 1
    failures = 0
    rng = np.random.default_rng(data["seed"])
    for case in data["cases"]:
        inputs, expected, sides = load_case(kit, case)
        code, lines = run_case(kit, module, case, inputs, expected)
        title = kit.say("render.title", title=case["title"]) if case.get("title") else ""
        print(f"{failed if code else passed}  {case['name']}{title}" + (f"  {code}" if code else ""))
        for number, spec in enumerate(data["checks"] if code is None else []):
            if "gradient" in spec:
                code, lines = gradient_check(kit, module, spec["gradient"], case, inputs, expected, rng)
                label = kit.say("kit.gradient", name=case["name"])
            else:
                code, lines = adjoint_check(kit, module, number, spec["adjoint"], case, inputs, expected, sides, rng)
                label = kit.say("kit.adjoint", name=case["name"], other=spec["adjoint"]["task"])
            if code:
                print(f"{failed}  {label}  {code}")
                break
        failures += code is not None
        for line in lines:
            print("  " + line)
    print(kit.say("kit.passed" if not failures else "kit.failed", failed=failures, total=len(data["cases"])))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
