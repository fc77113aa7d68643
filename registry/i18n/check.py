#!/usr/bin/env python3
"""Checks every catalogue against en.json: same keys, no empty value, same {placeholders}."""
import json, pathlib, re, sys

here = pathlib.Path(__file__).parent
en = json.loads((here / "en.json").read_text(encoding="utf-8"))
holes = lambda s: sorted(re.findall(r"\{(\w+)\}", s))
bad = 0
for path in sorted(here.glob("*.json")):
    cat = json.loads(path.read_text(encoding="utf-8"))
    problems = [f"missing {k}" for k in en if k not in cat] + [f"extra {k}" for k in cat if k not in en]
    problems += [f"empty {k}" for k, v in cat.items() if not str(v).strip()]
    problems += [f"placeholders of {k}" for k in en if k in cat and holes(cat[k]) != holes(en[k])]
    if path.stem != "en" and cat.get("page.heading") == en["page.heading"]:
        problems.append("not translated")
    for p in problems:
        print(f"{path.name}: {p}")
    bad += len(problems)
    if not problems:
        print(f"ok   {path.stem:8} {cat['lang.name']}")
sys.exit(1 if bad else 0)
