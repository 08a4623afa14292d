#!/usr/bin/env python3
"""Generates the JSON Schema of the OCSF class kms-audit emits, from the ocsf/ocsf-schema repository.

The result is committed as tests/fixtures/ocsf/detection_finding-1.1.0-cloud.schema.json, so the
tests validate OCSF output offline (CI has no access to GitHub). Regenerate with:

    python3 -m venv /tmp/ocsf-gen
    /tmp/ocsf-gen/bin/pip install -r scripts/ocsf-schema-requirements.txt
    git clone https://github.com/ocsf/ocsf-schema /tmp/ocsf-schema
    /tmp/ocsf-gen/bin/python scripts/gen-ocsf-schema.py --repo /tmp/ocsf-schema

The same inputs (tag, profile, ocsf-lib version) give the same bytes.

How it works: the repository is exported at the tag with `git archive`, compiled by ocsf-lib
(`python -m ocsf.compile`) with only the `cloud` profile and no extensions, and the compiled class
is turned into JSON Schema (draft 2020-12) the way the OCSF server exports it:

- every attribute of the class and of each object it reaches, nothing else
  (`additionalProperties: false`), `required` from the `required` attributes;
- scalar types by their base type (`string_t` string, `integer_t`/`long_t`/`timestamp_t`
  integer, `float_t` number, `boolean_t` boolean, `json_t` anything), with the type's
  `max_len`, `regex` and `range`;
- enumerated attributes (`*_id`) limited to their enum values;
- `at_least_one` constraints as `anyOf`;
- the generic `object` type (`unmapped`) is free-form.

One addition to the server's export: an event that uses a profile's attributes must say so in
`metadata.profiles`, so the schema requires `metadata.profiles` to contain each applied profile.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile

CLASS = "detection_finding"
TAG = "v1.1.0"
PROFILES = ["cloud"]
DEFAULT_OUT = os.path.join(
    os.path.dirname(os.path.abspath(__file__)),
    "..",
    "tests",
    "fixtures",
    "ocsf",
    "detection_finding-1.1.0-cloud.schema.json",
)

SCALARS = {
    "string_t": {"type": "string"},
    "integer_t": {"type": "integer"},
    "long_t": {"type": "integer"},
    "float_t": {"type": "number"},
    "boolean_t": {"type": "boolean"},
    "json_t": {},
}


def compile_repo(repo, tag):
    """Exports the tag and compiles it with ocsf-lib; returns (compiled schema, commit)."""
    commit = subprocess.run(
        ["git", "-C", repo, "rev-parse", f"refs/tags/{tag}^{{commit}}"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    with tempfile.TemporaryDirectory() as tmp:
        archive = subprocess.run(
            ["git", "-C", repo, "archive", commit], check=True, capture_output=True
        ).stdout
        subprocess.run(["tar", "-x", "-C", tmp], input=archive, check=True)
        extensions = sorted(
            d
            for d in os.listdir(os.path.join(tmp, "extensions"))
            if os.path.isdir(os.path.join(tmp, "extensions", d))
        )
        cmd = [sys.executable, "-m", "ocsf.compile", tmp, "--profile", *PROFILES]
        if extensions:
            cmd += ["--ignore-extension", *extensions]
        compiled = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return json.loads(compiled), commit


def scalar(types, name):
    """The JSON Schema of an OCSF scalar type, following its base types."""
    constraints = {}
    while name not in SCALARS:
        t = types.get(name)
        if t is None:
            raise SystemExit(f"gen-ocsf-schema: unknown type {name}")
        for key, value in constraints_of(t).items():
            constraints.setdefault(key, value)
        name = t["type"]
    own = constraints_of(types.get(name, {}))
    for key, value in own.items():
        constraints.setdefault(key, value)
    return {**SCALARS[name], **constraints}


def constraints_of(t):
    out = {}
    if t.get("max_len") is not None:
        out["maxLength"] = t["max_len"]
    if t.get("regex") is not None:
        out["pattern"] = t["regex"]
    if t.get("range") is not None:
        out["minimum"], out["maximum"] = t["range"]
    return out


def enum_values(attr, base):
    keys = list(attr["enum"].keys())
    if base.get("type") == "integer":
        return sorted(int(k) for k in keys)
    return sorted(keys)


class Builder:
    def __init__(self, compiled):
        self.compiled = compiled
        self.defs = {}

    def attribute(self, attr):
        kind = attr["type"]
        if kind in self.compiled["objects"]:
            self.object(kind)
            item = {"$ref": f"#/$defs/{kind}"}
        else:
            item = scalar(self.compiled["types"], kind)
            if attr.get("enum"):
                item = {**item, "enum": enum_values(attr, item)}
        if attr.get("is_array"):
            return {"type": "array", "items": item}
        return item

    def properties(self, thing):
        attributes = thing["attributes"]
        props = {name: self.attribute(attributes[name]) for name in sorted(attributes)}
        required = sorted(n for n, a in attributes.items() if a.get("requirement") == "required")
        schema = {"type": "object", "properties": props, "additionalProperties": False}
        if required:
            schema["required"] = required
        for kind, names in sorted((thing.get("constraints") or {}).items()):
            if kind == "at_least_one":
                schema["anyOf"] = [{"required": [n]} for n in names]
            elif kind == "just_one":
                schema["oneOf"] = [{"required": [n]} for n in names]
            else:
                raise SystemExit(f"gen-ocsf-schema: unknown constraint {kind}")
        return schema

    def object(self, name):
        if name in self.defs:
            return
        obj = self.compiled["objects"][name]
        if not obj["attributes"]:
            # The generic `object` (e.g. `unmapped`): any attributes.
            self.defs[name] = {"type": "object", "title": obj["caption"]}
            return
        self.defs[name] = {}  # placeholder for recursive references
        self.defs[name] = {"title": obj["caption"], **self.properties(obj)}


def build(compiled, commit, tag):
    cls = compiled["classes"][CLASS]
    builder = Builder(compiled)
    schema = builder.properties(cls)
    version = compiled["version"]
    profile_rule = {
        "properties": {
            "metadata": {
                "required": ["profiles"],
                "properties": {
                    "profiles": {"allOf": [{"contains": {"const": p}} for p in PROFILES]}
                },
            }
        }
    }
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"https://schema.ocsf.io/{version}/classes/{CLASS}?profiles={','.join(PROFILES)}",
        "title": f"OCSF {version} {cls['caption']} ({cls['uid']}), profiles: {', '.join(PROFILES)}",
        "$comment": (
            f"Generated by scripts/gen-ocsf-schema.py from ocsf/ocsf-schema {tag} "
            f"(commit {commit}), compiled with ocsf-lib {ocsf_lib_version()}; do not edit."
        ),
        **schema,
        "allOf": [profile_rule],
        "$defs": dict(sorted(builder.defs.items())),
    }


def ocsf_lib_version():
    from importlib.metadata import version

    return version("ocsf-lib")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repo", required=True, help="a clone of github.com/ocsf/ocsf-schema")
    parser.add_argument("--tag", default=TAG)
    parser.add_argument("--out", default=DEFAULT_OUT)
    args = parser.parse_args()
    try:
        import ocsf.compile  # noqa: F401
    except ImportError:
        raise SystemExit(
            "gen-ocsf-schema: ocsf-lib is missing; "
            "pip install -r scripts/ocsf-schema-requirements.txt"
        )
    compiled, commit = compile_repo(args.repo, args.tag)
    schema = build(compiled, commit, args.tag)
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w") as f:
        json.dump(schema, f, indent=1, ensure_ascii=False)
        f.write("\n")
    print(f"gen-ocsf-schema: wrote {os.path.normpath(args.out)}", file=sys.stderr)


if __name__ == "__main__":
    main()
