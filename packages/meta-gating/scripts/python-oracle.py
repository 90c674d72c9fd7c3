"""Python oracle for @masa-rl/meta-gating's parity mode.

Writes src/__fixtures__/python-oracle.json: what CPython's own `json`, `re`
and `str` do on a seeded set of inputs, so the TypeScript tests compare
against the real Python semantics rather than against our reading of them.

The meta-prediction extractor and the meta reward below are written from
MASA-SPEC.md §6.2-§6.3 (the reference behaviour described there), using the
Python standard library for everything the TypeScript port re-implements
(JSON decoding, regexes, `str.strip`, `in`, `repr`, `isinstance(x, int)`).

Run from the repository root (any Python 3.11+):

    python3 packages/meta-gating/scripts/python-oracle.py
"""

import json
import math
import os
import random
import re
import sys
import unicodedata

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "src", "__fixtures__", "python-oracle.json")


def enc(value):
    """Tagged encoding that survives JSON: ints and floats keep their Python type."""
    if value is None or isinstance(value, bool) or isinstance(value, str):
        return value
    if isinstance(value, int):
        return {"int": str(value)}
    if isinstance(value, float):
        return {"float": repr(value)}
    if isinstance(value, list):
        return [enc(item) for item in value]
    if isinstance(value, dict):
        return {"dict": [[key, enc(item)] for key, item in value.items()]}
    raise TypeError(type(value))


# --- §6.2: the extractor, from the spec's description -------------------------

PRIMARY = re.compile(r'(\{["\']math_notion["\']:[^\}]*\})', re.DOTALL)


def extract(text):
    try:
        matches = [m.group(1) for m in PRIMARY.finditer(text)]
        fields = json.loads(matches[-1])
        return "object", fields
    except Exception:
        fields = {}
    m = re.search(r"math_notion\s*:\s*(\[[^\]]*\])", text)
    if m:
        raw = m.group(1)
        try:
            notions = json.loads(raw)
        except Exception:
            notions = [p.strip().strip('"').strip("'") for p in raw.strip("[]").split(",") if p.strip()]
        fields["math_notion"] = notions if len(notions) else None
    m = re.search(r"problem_difficulty\s*:\s*(\d{1,2})", text)
    if m:
        value = int(m.group(1))
        fields["problem_difficulty"] = value if 0 <= value <= 10 else None
    m = re.search(r"solution_length\s*:\s*(\d{1,2})", text)
    if m:
        value = int(m.group(1))
        fields["solution_length"] = value if 1024 <= value <= 16384 else None
    return ("fallback" if fields else "none"), fields


def singular(word):
    low = word.lower()
    if low.endswith("ies") and low != "series":
        return word[:-3] + "y"
    if low.endswith(("ches", "shes", "xes", "zes", "oes")):
        return word[:-2]
    if low.endswith("s") and not low.endswith("ss") and low != "series":
        return word[:-1]
    return word


def reward(fields, responses, scores, lengths, prompt_text):
    """§6.3 with strict length bounds and the case-sensitive prompt filter."""
    notion = diff = length = 0.0
    if "math_notion" in fields:
        try:
            value = fields["math_notion"]
            if "," in value:
                value = [p.strip().strip("[").strip("]") for p in value.split(",")]
            elif not isinstance(value, list):
                value = [value]
            value = [n for n in map(singular, value) if n not in prompt_text]
            counts = {n: 0 for n in value}
            for resp, score in zip(responses, scores):
                for n in value:
                    if n in resp:
                        counts[n] += 1 if score == 1 else -1
            if counts:
                notion = sum(1 for c in counts.values() if c > 0) / len(counts)
        except Exception:
            notion = 0.0
    if "solution_length" in fields and isinstance(fields["solution_length"], int):
        correct = [l for l, s in zip(lengths, scores) if s == 1]
        pred = int(fields["solution_length"])
        length = float(bool(correct) and min(correct) < pred < max(correct))
    if "pass_rate" in fields and isinstance(fields["pass_rate"], int):
        try:
            diff = 0.01 ** abs(sum(scores) / len(scores) - fields["pass_rate"] / 8)
        except Exception:
            diff = 0.0
    return {"score": (notion + diff + length) / 3, "notion": notion, "passRate": diff, "length": length}


# --- inputs --------------------------------------------------------------------

rng = random.Random(20260607)

JSON_PIECES = [
    "{", "}", "[", "]", ":", ",", " ", "\n", "\t", '"a"', '"b"', "'a'", '"x\\"y"', '"\\u00e9"', '"\\ud83d\\ude00"',
    '"\\uZZZZ"', '"\\f"', '"\\sqrt"', '"\\theta"', '"\x01"', "0", "-0", "4", "4.0", "4e0", "-1", "01", "1.", ".5",
    "1e400", "-1e400", "1E+2", "true", "false", "null", "NaN", "-NaN", "Infinity", "-Infinity", "True", "None",
    "12345678901234567890", '"pass_rate"', '"math_notion"', "1" * 4300, "1" * 4301,
]

EXTRACT_PIECES = [
    '{"math_notion":', "{'math_notion':", '{ "math_notion":', '{"math_notion" :', '{"pass_rate":', "math_notion",
    "math_notion:", "math_notion :", "problem_difficulty:", "problem_difficulty: ", "solution_length:", "solution_length :",
    "pass_rate:", '"pass_rate": ', '"solution_length": ', "[", "]", "{", "}", ",", ", ", " ", "\n", "\u00a0", "\x1c",
    '"carry"', '"borrow"', "'carry'", '"a, b"', "carry", '"\\sqrt{x}"', '"\\pi"', '"\\theta"', '"\\frac"', "4", "4.0",
    '"4"', "true", "NaN", "1e400", "12", "7", "11", "2048", "\u0663", "\U0001d7d9", "<meta>", "</meta>", "x", "'", '"',
    "[carry, borrow]", '["carry", "borrow"]', "[]", '[","]', "[1, 2]", "null", '{"a": 1}',
]

json_inputs = [
    '{"a": 1}', '{"a": 1.0}', '{"a": "1"}', '{"a": true}', '{"a": [1]}', '{"a": NaN}', '{"a": -Infinity}',
    '{"a": 1, "a": 2.5}', '{"a": 2.5, "a": 2}', '{"a":1,}', "{'a': 1}", '{a: 1}', '{"a": 1e400}',
    '{"a": ' + "9" * 400 + "}", '{"a": ' + "9" * 4300 + "}", '{"a": ' + "9" * 4301 + "}", '{"a": -' + "9" * 4301 + "}",
    '{"a": "\\f\\b\\n\\r\\t\\/\\\\\\""}', '{"a": "\\x"}', '{"a": "tab\there"}', '{"a": "nl\nhere"}', '{"a": "\x7f"}',
    ' \t\n\r{"a": 1} \n', '\u00a0{"a": 1}', '{"a": 1}x', "[" * 50 + "]" * 50, '{"__proto__": 1, "constructor": 2}',
    '{"a": "\\ud800"}', '{"a": "\\uDFFF\\uD800"}', '{"a": 01}', '{"a": -}', '{"a": 1.e5}', '{"a": 1e}', '{"a": 1e+}',
    '{"a": tru}', '{"a": nul}', '{"": 0}', "{}", "[]", '""', "1", "-0.0",
]
for _ in range(300):
    json_inputs.append("".join(rng.choice(JSON_PIECES[:-2]) for _ in range(rng.randint(1, 14))))
for _ in range(150):
    body = ", ".join(
        rng.choice(['"a"', '"b"', '"pass_rate"', '"math_notion"']) + rng.choice([":", ": ", " :"]) + rng.choice(JSON_PIECES[6:-2])
        for _ in range(rng.randint(0, 4))
    )
    json_inputs.append("{" + body + "}")

extract_inputs = [
    '<meta>I think.</meta>\n{"math_notion": ["carry", "borrow"], "pass_rate": 4, "solution_length": 90}',
    '{ "math_notion": ["carry"], "pass_rate": 4, "solution_length": 90}',
    '{"pass_rate": 4, "math_notion": ["carry"], "solution_length": 90}',
    '{"math_notion": ["set {1}"], "pass_rate": 4, "solution_length": 90}',
    '{"math_notion": ["\\sqrt{2}"], "pass_rate": 4, "solution_length": 90}',
    '{"math_notion": ["\\pi"], "pass_rate": 4, "solution_length": 90}',
    '{"math_notion": ["\\theta"], "pass_rate": 4, "solution_length": 90}',
    '{"math_notion": ["a"], "pass_rate": 4.0, "solution_length": "90"}',
    '{"math_notion": ["a"], "pass_rate": true, "solution_length": false}',
    '{"math_notion": "carry, borrow", "pass_rate": 3}',
    '{"math_notion": "[carry, borrow]", "pass_rate": 3}',
    '{"math_notion": [","], "pass_rate": 3}',
    '{"math_notion": [1, "carry"], "pass_rate": 3}',
    '{"math_notion": null, "pass_rate": 3}',
    '{"math_notion": 5, "pass_rate": 3}',
    '{"math_notion": ["carries", "carry", "Borrows"], "pass_rate": 8}',
    '{"math_notion": ["step", "problem", "carry"], "pass_rate": 3}',
    '{"math_notion": ["a"], "pass_rate": 1e400}',
    '{"math_notion": ["a"], "pass_rate": ' + "1" * 400 + "}",
    '{"math_notion": ["a"], "pass_rate": NaN, "solution_length": 85}',
    '{"math_notion":["x"],"pass_rate":1}{"math_notion":["carry"],"pass_rate":5,"solution_length":85}',
    "math_notion: [carry, 'borrow', \"x\"], problem_difficulty: 7, solution_length: 2048",
    "math_notion : [] problem_difficulty:11 solution_length:5",
    'math_notion: ["carry", "borrow"] pass_rate: 4',
    "math_notion: [carry problem_difficulty: \u0663 solution_length: 12",
    "problem_difficulty:\n 10 and problem_difficulty: 3",
    "no json at all",
    "",
]
for _ in range(300):
    extract_inputs.append("".join(rng.choice(EXTRACT_PIECES) for _ in range(rng.randint(1, 24))))
VALUE_PIECES = ['["carry"]', '["carry", "borrow"]', '"carry, borrow"', '[","]', "null", "4", "4.0", '"4"', "true", "NaN",
                "1e400", "85", "120", "0", "8", '["\\sqrt"]', '["\\theta"]', '["a\\"b"]', "[1]", "[]", '[["carry"]]']
for _ in range(200):
    keys = rng.sample(['"pass_rate"', '"solution_length"', "'pass_rate'", '"x"'], rng.randint(0, 3))
    body = rng.choice(['{"math_notion":', "{'math_notion':", '{"math_notion": ', '{"math_notion":\n']) + rng.choice(VALUE_PIECES)
    for key in keys:
        body += rng.choice([", ", ","]) + key + rng.choice([": ", ":"]) + rng.choice(VALUE_PIECES)
    body += rng.choice(["}", "}", "}", " }", ""])
    extract_inputs.append(rng.choice(["", "<meta>r</meta>", "x {"]) + body + rng.choice(["", "\n", " done", " }"]))

STATS = {
    "responses": [
        "47 + 38: 7+8=15 carry 1, 4+3+1=8, so 85. The answer is \\boxed{85}.",
        "Addition with carry: 47 + 38 = 85. The answer is \\boxed{85}.",
        "47 + 38 = 84. The answer is \\boxed{84}.",
        "Addition: 47 + 38 = 75, borrow nothing. The answer is \\boxed{75}.",
        "47 + 38: 7+8=15 carry 1, 4+3+1=8, so 85. x The answer is \\boxed{85}.",
    ],
    "scores": [1, 1, 0, 0, 1],
    "lengths": [70, 62, 40, 66, 90],
    "prompt": "Meta: Compute 47 + 38. Think about the step and the problem.\n",
}

parse_cases = []
for text in json_inputs:
    try:
        value = json.loads(text)
        case = {"input": text, "ok": True, "value": enc(value)}
        if isinstance(value, dict):
            case["intKeys"] = [k for k, v in value.items() if isinstance(v, int)]
    except Exception as error:  # noqa: BLE001 - any failure is a failure here
        case = {"input": text, "ok": False, "error": type(error).__name__}
    parse_cases.append(case)

extract_cases = []
for text in extract_inputs:
    source, fields = extract(text)
    extract_cases.append({
        "input": text,
        "source": source,
        "fields": enc(fields),
        "intKeys": [k for k, v in fields.items() if isinstance(v, int)],
        "reward": reward(fields, STATS["responses"], STATS["scores"], STATS["lengths"], STATS["prompt"]),
    })

strip_inputs = ["  a  ", "\u00a0a\u3000", "\x1ca\x1f", "\ufeffa\ufeff", "\u200ba\u200b", "\x85x\x0b\x0c", " [a] ", ""]
repr_strings = ["a", "it's", 'say "hi"', "it's \"x\"", "back\\slash", "tab\tnl\nret\r", "\x00\x1f\x7f", "\xa0\xad\xe9",
                "\u2028\u200b\ufeff", "\U0001f600", "\ud800", "\U000e0001", "\u0378", "caf\u00e9 \u4e2d"]
repr_floats = [0.1, 1.5, 123.0, 1e15, 1e16, 1.5e16, 1e-4, 1.5e-5, 0.000123, 2.5e-7, 1e300, 5e-324, -0.0, 0.0, -2.75,
               float("inf"), float("-inf"), 1 / 3, 2 / 3 * 1e20, 12345678.9]

digits = [[c, int(chr(c))] for c in range(0x110000) if unicodedata.category(chr(c)) == "Nd"]

fixture = {
    "python": sys.version.split()[0],
    "unicode": unicodedata.unidata_version,
    "stats": STATS,
    "parse": parse_cases,
    "extract": extract_cases,
    "strip": [[s, s.strip()] for s in strip_inputs],
    "space": [c for c in range(0x110000) if chr(c).isspace()],
    "reprStrings": [[s, repr(s)] for s in repr_strings],
    "reprFloats": [[enc(f), repr(f)] for f in repr_floats],
    "reprValues": [[enc(v), repr(v)] for v in [["a", "b"], ["it's"], [], [None, True, False], {"k": 1, "x": 0.5}, [1.5, 2]]],
    "digits": digits,
}

os.makedirs(os.path.dirname(OUT), exist_ok=True)
with open(OUT, "w", encoding="utf-8") as handle:
    json.dump(fixture, handle, ensure_ascii=True, indent=None, separators=(",", ":"))
    handle.write("\n")
print(f"wrote {OUT}: {len(parse_cases)} parse, {len(extract_cases)} extract cases", file=sys.stderr)
