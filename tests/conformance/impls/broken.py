"""A deliberately broken implementation for the runner's test: JSON lines on stdin/stdout.

It answers as healthcred does, except that it accepts every signature (bad_signature becomes
valid), forgets the rollback memory (trust_list_rollback never happens), hangs on one case,
prints garbage for another and exits in the middle of a third.
"""

from __future__ import annotations

import json
import sys
import time

from healthcred.conformance.reference import evaluate

for line in sys.stdin:
    case = json.loads(line)
    if case["id"] == "native/es256-green":
        time.sleep(60)  # the runner must time out, fail this case and go on
    if case["id"] == "native/eddsa-green":
        print("this is not JSON", flush=True)
        continue
    if case["id"] == "native/eddsa-red":
        sys.exit(3)
    case["trust"]["seen"] = {}
    answer = evaluate(case)
    if answer.get("error") == "bad_signature":
        answer = {"id": case["id"], "valid": True, "result": {}}
    print(json.dumps(answer), flush=True)
