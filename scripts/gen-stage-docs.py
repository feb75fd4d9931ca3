#!/usr/bin/env python3
"""Writes docs/stages.md from `taojin stages --json`, so the reference
always matches the option tables compiled into the stages.

    python3 scripts/gen-stage-docs.py [build/taojin] > docs/stages.md

tests/pipeline/docs.sh fails when the committed file is out of date."""
import json, subprocess, sys

taojin = sys.argv[1] if len(sys.argv) > 1 else "build/taojin"
data = json.loads(subprocess.run([taojin, "stages", "--json"], capture_output=True,
                                 check=True, text=True).stdout)
order = ["fetch", "decode", "clean", "convert-traditional", "dedupe", "extract", "export",
         "template"]
stages = sorted(data["stages"], key=lambda s: (order.index(s["name"]) if s["name"] in order
                                               else len(order), s["name"]))
out = ["# Stage options", "",
       "Generated from the stages' own option tables by `scripts/gen-stage-docs.py`",
       "(`taojin stages NAME` prints the same). Types and value syntax are in",
       "[pipeline.md](pipeline.md#option-values); each stage's README",
       "(`plugins/NAME/README.md`) explains its behaviour and fields.", ""]
for s in stages:
    out += [f"## {s['name']} ({s['kind']})", "", s["description"], ""]
    if not s["options"]:
        out += ["No options.", ""]
        continue
    out += ["| option | type | default | description |", "|---|---|---|---|"]
    for o in s["options"]:
        default = "required" if o["required"] else (f"`{o['default']}`" if o["default"] is not None else "-")
        desc = o["description"].replace("|", "\\|")
        if o["allowed"]:
            desc += " One of: " + ", ".join(f"`{a}`" for a in o["allowed"]) + "."
        out.append(f"| `{o['name']}` | {o['type']} | {default} | {desc} |")
    out.append("")
sys.stdout.write("\n".join(out))
