"""Reads one feedback JSON on stdin and prints it as one line: status, score, mode, codes."""

import json
import sys

document = json.load(sys.stdin)
codes = sorted({test["code"] for test in document["tests"] if test["code"]})
mode = document.get("submission", {}).get("mode", "-")
score = f"{document['score']:g}/{document['max_score']:g}"
print(f"{document['status']:7} {score:>7} {mode:5} {' '.join(codes)}")
