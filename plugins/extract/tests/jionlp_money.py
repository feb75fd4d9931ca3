#!/usr/bin/env python3
"""Turns JioNLP's money test files into a tab-separated fixture.

Usage: jionlp_money.py DIR   (DIR holds test_money_parser.py and
test_money_extractor.py).  Reads the literal lists with ast (no jionlp
import) and prints one case a line:
  parse<TAB>input<TAB>low<TAB>high<TAB>currency<TAB>definition
  extract<TAB>input<TAB>text1<US>text2...
(high is empty for single amounts; <US> is \\x1f).
"""
import ast
import sys


def lists_in(path, name):
    tree = ast.parse(open(path, encoding="utf-8").read())
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == name for t in node.targets):
            return ast.literal_eval(node.value)
    raise SystemExit("no %s in %s" % (name, path))


def main():
    d = sys.argv[1]
    for inp, exp in lists_in(d + "/test_money_parser.py", "money_string_list"):
        num = exp["num"]
        lo, hi = (num[0], num[1]) if isinstance(num, list) else (num, "")
        print("\t".join(["parse", inp, lo, hi, exp["case"], exp["definition"]]))
    for inp, exp in lists_in(d + "/test_money_extractor.py", "money_string_list"):
        print("\t".join(["extract", inp, "\x1f".join(e["text"] for e in exp)]))


main()
