"""What a spec leaves out comes from grader.yaml: tolerance and limits are inherited key by key."""

from __future__ import annotations

import json

from authoring_support import DEMO, run_grader, write_scaffold
from grader.spec import config, taskspec

OFF_BY_A_LITTLE = ("self.dgamma = (dout * self.x).sum(axis=(0, 2, 3)) + 1e-3\n"
                   "return dout * self.gamma.reshape(1, -1, 1, 1)\n")


def _status(root) -> str:
    result = run_grader("--root", str(root), "grade", "--task", DEMO, "--seed", "3", "-", stdin=OFF_BY_A_LITTLE.encode())
    assert result.returncode == 0, result.stderr.decode()
    return json.loads(result.stdout)["status"]


def test_grader_yaml_tolerance_applies_to_a_spec_without_one(tmp_path):
    strict, lenient = write_scaffold(tmp_path / "strict"), write_scaffold(tmp_path / "lenient")
    (lenient / "grader.yaml").write_text("tolerance:\n  atol: 1.0e-2\n", encoding="utf-8")
    assert _status(strict) == "failed"
    assert _status(lenient) == "passed"


def test_spec_tolerance_and_limits_override_key_by_key(tmp_path):
    root = write_scaffold(tmp_path / "root")
    (root / "grader.yaml").write_text("tolerance: {atol: 1.0e-3, rtol: 1.0e-6}\nlimits: {cpu_seconds: 7, memory_mb: 999}\n", encoding="utf-8")
    spec = root / "tasks" / f"{DEMO}.yaml"
    text = spec.read_text(encoding="utf-8").replace("cases:\n", "tolerance: {atol: 0.5}\nlimits: {memory_mb: 2048}\ncases:\n", 1)
    text = text.replace("  dgamma: {shape: [C], description: gradient w.r.t. gamma}",
                        "  dgamma: {shape: [C], description: gradient w.r.t. gamma, tolerance: {rtol: 0.25}}")
    spec.write_text(text, encoding="utf-8")
    settings = config.load(None, str(root))
    task = taskspec.load(DEMO, root)
    assert task.tolerance("dx", settings.values["tolerance"]) == {"atol": 0.5, "rtol": 1.0e-6}
    assert task.tolerance("dgamma", settings.values["tolerance"]) == {"atol": 0.5, "rtol": 0.25}
    limits = task.limits(settings.values["limits"])
    assert (limits["cpu_seconds"], limits["memory_mb"], limits["wall_seconds"]) == (7, 2048, 20)


def test_entry_defaults_are_filled(tmp_path):
    root = write_scaffold(tmp_path / "root")
    task = taskspec.load(DEMO, root)
    assert task.entry["steps"][0] == {"call": "forward", "args": ["x"]}
    assert task.spec["inputs"]["gamma"] == {"shape": ["C"], "description": "one scale per channel",
                                            "distribution": "normal", "scale": 1.0, "low": -2, "high": 2, "dtype": "float64"}
    assert "tolerance" not in task.spec and "limits" not in task.spec and "random" not in task.spec["cases"]
