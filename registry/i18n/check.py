#!/usr/bin/env python3
"""Checks every catalogue in this folder against en.json.

Fails (exit 1, one line per problem naming file and key) when a catalogue's key set
differs from en.json's, a value is empty or not a string, or the set of {placeholder}
names in a value differs from the English value's. Also rejects invalid JSON, duplicate
keys and an untranslated copy of en.json. Prints one line per language when all is well.
"""
import json
import pathlib
import re
import sys

HERE = pathlib.Path(__file__).resolve().parent
PLACEHOLDER = re.compile(r"\{(\w+)\}")


def load(path):
    """The catalogue as a dict, or raises ValueError naming the problem."""
    def no_duplicates(pairs):
        seen = {}
        for key, value in pairs:
            if key in seen:
                raise ValueError(f"duplicate key {key}")
            seen[key] = value
        return seen

    try:
        data = json.loads(path.read_text(encoding="utf-8"), object_pairs_hook=no_duplicates)
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ValueError(f"invalid JSON: {e}") from None
    if not isinstance(data, dict):
        raise ValueError("not a JSON object")
    return data


def holes(text):
    return set(PLACEHOLDER.findall(text))


def problems_of(path, cat, en):
    out = []
    for key in en:
        if key not in cat:
            out.append(f"missing key {key}")
    for key in cat:
        if key not in en:
            out.append(f"extra key {key}")
    for key, value in cat.items():
        if not isinstance(value, str):
            out.append(f"{key}: value is not a string")
            continue
        if not value.strip():
            out.append(f"{key}: empty value")
            continue
        if key in en and isinstance(en[key], str) and holes(value) != holes(en[key]):
            want = ", ".join(sorted(holes(en[key]))) or "none"
            got = ", ".join(sorted(holes(value))) or "none"
            out.append(f"{key}: placeholders {{{got}}} but English has {{{want}}}")
    if path.stem != "en" and cat.get("page.heading") == en.get("page.heading"):
        out.append("page.heading: identical to English (not translated?)")
    return out


def main():
    try:
        en = load(HERE / "en.json")
    except (OSError, ValueError) as e:
        print(f"en.json: {e}")
        return 1
    bad = 0
    for path in sorted(HERE.glob("*.json")):
        try:
            cat = load(path)
        except ValueError as e:
            problems = [str(e)]
        else:
            problems = problems_of(path, cat, en)
        for p in problems:
            print(f"FAIL {path.name}: {p}")
        bad += len(problems)
        if not problems:
            print(f"ok   {path.stem:8} {len(cat)} keys  {cat['lang.name']}")
    if bad:
        print(f"{bad} problem(s)")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
