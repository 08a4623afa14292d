#!/usr/bin/env python3
"""Parses every line of kms-audit OCSF output with py-ocsf-models, as the class it must be.

Usage: validate-ocsf.py FILE.ocsf.jsonl [...]

Each line must be a JSON object that py-ocsf-models' DetectionFinding accepts (the model Prowler
emits with), with class_uid 2004, and that keeps every attribute through the model: an
attribute the model does not know is dropped silently by pydantic, so it is reported here (only
`unmapped`, free-form by definition, is exempt). Prints one JSON object
{"lines": N, "errors": ["FILE:LINE: ..."]} and exits 1 when there are errors, 2 when
py-ocsf-models is not installed (scripts/setup-test-python.sh installs it).
"""

import json
import sys

try:
    from importlib.metadata import version

    from py_ocsf_models.events.findings.detection_finding import DetectionFinding
except ImportError as err:
    print(f"validate-ocsf: py-ocsf-models is not installed ({err}); run scripts/setup-test-python.sh",
          file=sys.stderr)
    sys.exit(2)

CLASS_UID = 2004
FREE_FORM = {"unmapped"}


def dropped(given, kept, path=""):
    """The attributes of `given` that the model's dump `kept` lost."""
    out = []
    if isinstance(given, dict) and isinstance(kept, dict):
        for key, value in given.items():
            where = f"{path}.{key}" if path else key
            if key not in kept:
                out.append(where)
            elif where not in FREE_FORM:
                out.extend(dropped(value, kept[key], where))
    elif isinstance(given, list) and isinstance(kept, list):
        for i, (a, b) in enumerate(zip(given, kept)):
            out.extend(dropped(a, b, f"{path}[{i}]"))
    return out


def check_line(text):
    event = json.loads(text)
    if not isinstance(event, dict):
        return ["not a JSON object"]
    if event.get("class_uid") != CLASS_UID:
        return [f"class_uid is {event.get('class_uid')!r}, not {CLASS_UID} (Detection Finding)"]
    try:
        model = DetectionFinding.model_validate(event)
    except Exception as err:  # pydantic.ValidationError, with every failing field
        return [" ".join(str(err).split())]
    kept = model.model_dump(mode="json", exclude_unset=True)
    return [f"{attr} is not in py-ocsf-models' DetectionFinding" for attr in dropped(event, kept)]


def main(paths):
    lines = 0
    errors = []
    for path in paths:
        with open(path, encoding="utf-8") as f:
            for number, text in enumerate(f, 1):
                if not text.strip():
                    errors.append(f"{path}:{number}: empty line")
                    continue
                lines += 1
                try:
                    problems = check_line(text)
                except ValueError as err:
                    problems = [f"not JSON: {err}"]
                errors.extend(f"{path}:{number}: {p}" for p in problems)
    print(json.dumps({"validator": f"py-ocsf-models {version('py-ocsf-models')}",
                      "lines": lines, "errors": errors}))
    return 1 if errors else 0


if __name__ == "__main__":
    if len(sys.argv) < 2:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    sys.exit(main(sys.argv[1:]))
