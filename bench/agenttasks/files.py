"""Tier (b): files and data. Each result is checked on disk or by running the tests."""

# ruff: noqa: E501  (task data: prompts, files and solutions read best on one line each)

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .task import Task, close, lines, read_json, runs, tests_pass

CALC_TEST = "from calc import add\n\n\ndef test_add():\n    assert add(2, 3) == 5\n"
PARSE_TEST = (
    "from parse import parse_line\n\n\n"
    "def test_fields_are_typed():\n"
    "    assert parse_line('ada, 36, 1.5') == {'name': 'ada', 'age': 36, 'score': 1.5}\n\n\n"
    "def test_spaces_are_stripped():\n"
    "    assert parse_line('  bo ,7,  2 ')['name'] == 'bo'\n"
)
PARSE_BUG = (
    "def parse_line(line):\n"
    "    name, age, score = line.split(',')\n"
    "    return {'name': name, 'age': age, 'score': score}\n"
)
PEOPLE = [
    {"name": "ada", "age": 36, "city": "x"},
    {"name": "bo", "age": 7, "city": "y"},
    {"name": "cy", "age": 51},
]
USERS = "id,name\n1,ada\n2,bo\n3,cy\n"
ORDERS = "id,user_id,amount\n1,1,10.5\n2,3,4\n3,1,2.5\n4,1,1\n"
EMAILS = "Ada@x.org\nbo@y.com\nada@x.org\nCY@z.net\nbo@y.com\n"
ROWS = "i,v\n" + "".join(f"{i},{i * i}\n" for i in range(10))


def _prime(answer: Any, ws: Path) -> bool:
    code = (
        "import sys; sys.path.insert(0, '.'); from utils import is_prime; "
        "assert [n for n in range(30) if is_prime(n)] == [2, 3, 5, 7, 11, 13, 17, 19, 23, 29]"
    )
    return runs(ws, "-c", code, timeout=60).returncode == 0


def _means_file(answer: Any, ws: Path) -> bool:
    found = read_json(ws, "means.json")
    return isinstance(found, dict) and all(
        close(found.get(k), v) for k, v in {"a": 2, "b": 3, "c": 4}.items()
    )


def _people(answer: Any, ws: Path) -> bool:
    got = lines(ws, "people.csv")
    return got is not None and [g.strip() for g in got if g.strip()] == [
        "name,age",
        "ada,36",
        "bo,7",
        "cy,51",
    ]


def _totals(answer: Any, ws: Path) -> bool:
    got = lines(ws, "totals.csv")
    if not got or got[0].strip() != "name,total":
        return False
    rows = [g.split(",") for g in got[1:] if g.strip()]
    want = [("ada", 14.0), ("bo", 0.0), ("cy", 4.0)]
    return len(rows) == 3 and all(r[0] == n and close(r[1], t) for r, (n, t) in zip(rows, want, strict=True))


def _split(answer: Any, ws: Path) -> bool:
    train, test = lines(ws, "train.csv"), lines(ws, "test.csv")
    rows = ROWS.splitlines()
    return train == rows[:9] and test == [rows[0], *rows[9:]]


FILES = [
    Task(
        "fix-test",
        "files",
        "The test in test_calc.py fails. Fix the bug in calc.py so that it passes.",
        {"calc.py": "def add(a, b):\n    return a - b\n", "test_calc.py": CALC_TEST},
        lambda a, ws: tests_pass(ws, {"test_calc.py": CALC_TEST}),
        "open('calc.py', 'w').write('def add(a, b):\\n    return a + b\\n')",
    ),
    Task(
        "write-function",
        "files",
        "Create utils.py with a function is_prime(n) that returns True when n is a prime number.",
        {},
        _prime,
        "open('utils.py', 'w').write('def is_prime(n):\\n    return n > 1 and all(n % d for d in range(2, n))\\n')",
    ),
    Task(
        "rename-column",
        "files",
        "In table.csv rename the column 'val' to 'value' and save the result as out.csv.",
        {"table.csv": "id,val\n1,10\n2,20\n"},
        lambda a, ws: (lines(ws, "out.csv") or [])[:3] == ["id,value", "1,10", "2,20"],
        "open('out.csv', 'w').write(open('table.csv').read().replace('val', 'value', 1))",
    ),
    Task(
        "edit-config",
        "files",
        "In config.yaml set the learning rate lr to 0.001; keep everything else.",
        {"config.yaml": "lr: 0.1\nepochs: 5\n"},
        lambda a, ws: (t := (ws / "config.yaml").read_text()).count("lr: 0.001") == 1 and "epochs: 5" in t,
        "open('config.yaml', 'w').write('lr: 0.001\\nepochs: 5\\n')",
    ),
    Task(
        "means-json",
        "files",
        "data.csv has columns a, b and c. Compute the mean of each column and write them to means.json "
        "as an object {column: mean}.",
        {"data.csv": "a,b,c\n1,2,3\n3,4,5\n"},
        _means_file,
        "import csv, json\nrows = list(csv.DictReader(open('data.csv')))\n"
        "json.dump({k: sum(float(r[k]) for r in rows) / len(rows) for k in rows[0]}, open('means.json', 'w'))",
    ),
    Task(
        "json-to-csv",
        "files",
        "people.json holds a list of people. Write people.csv with the header name,age and one row per "
        "person, in the same order (leave out every other field).",
        {"people.json": json.dumps(PEOPLE)},
        _people,
        "import json\np = json.load(open('people.json'))\n"
        "open('people.csv', 'w').write('name,age\\n' + ''.join(f\"{x['name']},{x['age']}\\n\" for x in p))",
    ),
    Task(
        "join-tables",
        "files",
        "users.csv has id,name and orders.csv has id,user_id,amount. Write totals.csv with the header "
        "name,total: each user's total order amount (0 for a user with none), users in the order of users.csv.",
        {"users.csv": USERS, "orders.csv": ORDERS},
        _totals,
        "import csv\nt = {}\nfor o in csv.DictReader(open('orders.csv')):\n"
        "    t[o['user_id']] = t.get(o['user_id'], 0) + float(o['amount'])\n"
        "us = list(csv.DictReader(open('users.csv')))\n"
        "open('totals.csv', 'w').write('name,total\\n' + ''.join(f\"{u['name']},{t.get(u['id'], 0)}\\n\" for u in us))",
    ),
    Task(
        "unique-lines",
        "files",
        "emails.txt has one address per line, with repeats and mixed case. Write unique.txt: the distinct "
        "addresses in lower case, sorted, one per line.",
        {"emails.txt": EMAILS},
        lambda a, ws: lines(ws, "unique.txt") == ["ada@x.org", "bo@y.com", "cy@z.net"],
        "open('unique.txt', 'w').write('\\n'.join(sorted({e.lower() for e in open('emails.txt').read().split()})) + '\\n')",
    ),
    Task(
        "split-rows",
        "files",
        "Split the rows of data.csv in order: the first 80% into train.csv and the rest into test.csv, "
        "each file starting with the header.",
        {"data.csv": ROWS},
        _split,
        "r = open('data.csv').read().splitlines()\nn = int(0.8 * (len(r) - 1))\n"
        "open('train.csv', 'w').write('\\n'.join([r[0], *r[1:n + 1]]) + '\\n')\n"
        "open('test.csv', 'w').write('\\n'.join([r[0], *r[n + 1:]]) + '\\n')",
    ),
    Task(
        "fix-parser",
        "files",
        "The tests in test_parse.py fail. Fix parse.py so that they pass, without changing the tests.",
        {"parse.py": PARSE_BUG, "test_parse.py": PARSE_TEST},
        lambda a, ws: tests_pass(ws, {"test_parse.py": PARSE_TEST}),
        "open('parse.py', 'w').write('def parse_line(line):\\n    n, a, s = [p.strip() for p in line.split(\",\")]\\n"
        '    return {"name": n, "age": int(a), "score": float(s)}\\n\')',
    ),
]
