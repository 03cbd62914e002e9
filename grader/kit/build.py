"""A task's student kit: what a student needs to try their code offline, and nothing of the answer.

The kit holds the template, the support modules the task gives (utils.py), a README (zh/en) and
check.py (grader/kit/check.py, shipped as source) with what it reads:

    kit.json        the entry to call, the outputs, their tolerances, the visible fixed cases'
                    params, the reference-free checks of the spec, and every message check.py
                    prints, copied from the catalogs (one copy of each message)
    cases/NAME.npz  a visible fixed case's inputs and the reference's outputs on them, and for an
                    adjoint check a random y and the other task's g(y)
    _diagnostics.py grader/grading/diagnostics.py as is: the grader's own hints

Who may see what: only cases the task marks visible, and only fixed ones, are packed: a hidden
case's expected output, and every random case (drawn on the server from the grading's seed), stay
on the server. The reference's source never leaves this module: it is run here, on the trusted
side, and only its outputs on visible inputs are written. ``KIT_SEED`` draws the visible cases'
inputs, so a kit is the same bytes every time it is built.
"""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import numpy as np

from ..authoring.validation import reference_free
from ..feedback import document
from ..feedback.messages import catalog, text
from ..grading import diagnostics, reference
from ..spec import cases as cases_mod
from ..spec import taskspec
from ..spec.taskspec import Task

KIT_SEED = 20240601
CHECK_SOURCE = Path(__file__).resolve().with_name("check.py")
# The catalog sections check.py words its lines with.
MESSAGE_SECTIONS = ("join", "codes", "missing", "kinds", "notes", "where", "shape_hints", "value_hints", "axes",
                    "exception_hints", "kit")
RENDER_KEYS = ("passed", "failed", "title", "worst")


def visible_cases(task: Task) -> list[cases_mod.Case]:
    """The cases a kit ships: the visible fixed ones, with inputs drawn from KIT_SEED."""
    return [case for case in cases_mod.generate(task, KIT_SEED, 0) if case.visible and case.kind == "fixed"]


def _messages(lang: str) -> dict:
    words = catalog(lang)
    found = {section: words[section] for section in MESSAGE_SECTIONS}
    found["render"] = {key: words["render"][key] for key in RENDER_KEYS}
    return found


def _kit_checks(task: Task) -> list[dict]:
    """The spec's reference-free checks a kit runs: a gradient check needs a class entry; an
    adjoint check ships the other task's side (y, g(y)) per case, computed here (``_adjoint_sides``)."""
    return [item for item in task.spec.get("checks", []) if "adjoint" in item or "class" in task.entry]


def _adjoint_sides(task: Task, cases: list, expected: dict) -> dict[int, dict[str, np.ndarray]]:
    """For each case, y and g(y) of every adjoint check (keys adjoint<k>.y, adjoint<k>.gy): the other
    task's reference on a random y drawn from KIT_SEED, so that check.py can test the student's f on
    fresh x with <f(x), y> = <x, g(y)>. Nothing of a hidden case: the y are the kit's own."""
    sides: dict[int, dict[str, np.ndarray]] = {case.index: {} for case in cases}
    for number, item in enumerate(_kit_checks(task)):
        if "adjoint" not in item:
            continue
        spec = item["adjoint"]
        other = taskspec.load(spec["task"], task.root)
        namespace = vars(other.reference())
        rng = np.random.default_rng(np.random.SeedSequence([KIT_SEED, 13, number]))
        for case in cases:
            try:
                fx_shape = expected[case.index][spec["output"]].shape
                y, gy = reference_free.adjoint_side(other, namespace, spec, case, fx_shape,
                                                    case.inputs[spec["input"]].shape, rng)
            except reference_free.AdjointProblem as exc:
                raise taskspec.TaskError([f"{task.spec_path}: checks[{number}].adjoint: {exc}"]) from None
            sides[case.index].update({f"adjoint{number}.y": y, f"adjoint{number}.gy": gy})
    return sides


def _npz(arrays: dict[str, np.ndarray]) -> bytes:
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays)
    return buffer.getvalue()


def files(task: Task, settings_tolerance: dict, lang: str) -> dict[str, bytes]:
    """Every file of the kit, by its path in the kit."""
    cases = visible_cases(task)
    expected = reference.expected_outputs(task, cases)
    packed: dict[str, bytes] = {task.module_file: task.template_source().encode("utf-8")}
    support = task.support_files()
    packed.update({name: source.encode("utf-8") for name, source in support.items()})
    sides = _adjoint_sides(task, cases, expected)
    entries = []
    for case in cases:
        path = f"cases/{case.name}.npz"
        arrays = {f"input.{name}": array for name, array in case.inputs.items()}
        arrays.update({f"expected.{name}": array for name, array in expected[case.index].items()})
        arrays.update(sides[case.index])
        packed[path] = _npz(arrays)
        entries.append({"name": case.name, "title": case.title[lang] if case.title else None,
                        "params": dict(case.params), "inputs": list(case.inputs), "file": path})
    data = {
        "task": task.id,
        "title": task.spec["title"][lang],
        "lang": lang,
        "module": task.module_name,
        "entry": task.entry,
        "outputs": task.output_names,
        "output_sources": {name: task.output_source(name) for name in task.output_names},
        "tolerances": task.tolerances(settings_tolerance),
        "allowed_modules": document.allowed_modules(task),
        "seed": KIT_SEED,
        "cases": entries,
        "checks": _kit_checks(task),
        "gradient": {"step": reference_free.STEP, "atol": reference_free.GRADIENT_ATOL,
                     "rtol": reference_free.GRADIENT_RTOL, "kink": reference_free.KINK,
                     "coordinates": reference_free.GRADIENT_COORDINATES},
        "adjoint": {"rtol": reference_free.ADJOINT_RTOL},
        "messages": _messages(lang),
    }
    packed["kit.json"] = json.dumps(data, ensure_ascii=False, indent=1).encode("utf-8")
    packed["check.py"] = CHECK_SOURCE.read_bytes()
    packed["_diagnostics.py"] = Path(diagnostics.__file__).read_bytes()
    support_lines = "".join(text(lang, "kit.readme_support", name=name) for name in support)
    packed["README.md"] = text(lang, "kit.readme", title=task.spec["title"][lang],
                               description=task.spec["description"][lang].strip(), module=task.module_file,
                               support=support_lines).encode("utf-8")
    return packed


def write(packed: dict[str, bytes], out: Path) -> None:
    """Into a folder (created; files of the same names replaced), or a .zip when ``out`` ends in .zip."""
    if out.suffix == ".zip":
        out.parent.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
            for name in sorted(packed):
                # A fixed date: the same kit is the same bytes.
                info = zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0))
                info.compress_type, info.external_attr = zipfile.ZIP_DEFLATED, 0o644 << 16
                archive.writestr(info, packed[name])
        return
    for name, data in packed.items():
        path = out / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
