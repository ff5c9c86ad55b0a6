"""Tier (a): questions about small files or facts, answered with final_answer."""

# ruff: noqa: E501  (task data: prompts, files and solutions read best on one line each)

from __future__ import annotations

import json
from typing import Any

from .task import Task, close, read_json


def _means(answer: Any, ws: Any) -> bool:
    want = {"a": 2.5, "b": 25.0, "c": 0.5}
    return isinstance(answer, dict) and all(close(answer.get(k), v) for k, v in want.items())


SALES = "region,amount\n" + "".join(
    f"{r},{10 * i}\n" for i, r in enumerate(["north", "south", "north", "east", "north", "west", "south"])
)

QUESTIONS = [
    Task(
        "csv-means",
        "questions",
        "data.csv has numeric columns a, b, c. Compute the mean of each column and give them as a dict "
        "{column: mean} with final_answer.",
        {"data.csv": "a,b,c\n1,10,0\n2,20,1\n3,30,0\n4,40,1\n"},
        _means,
        "import csv\nrows = list(csv.DictReader(open('data.csv')))\n"
        "answer = {k: sum(float(r[k]) for r in rows) / len(rows) for k in rows[0]}",
    ),
    Task(
        "count-lines",
        "questions",
        "How many lines does notes.txt have? Answer with the number.",
        {"notes.txt": "".join(f"note {i}\n" for i in range(37))},
        lambda a, ws: close(a, 37),
        "answer = len(open('notes.txt').read().splitlines())",
    ),
    Task(
        "top-word",
        "questions",
        "Which word occurs most often in text.txt? Answer with the word.",
        {"text.txt": "the cat and the dog and the bird saw a cat\n"},
        lambda a, ws: str(a).strip().strip("'\".").lower() == "the",
        "import collections\nanswer = collections.Counter(open('text.txt').read().split()).most_common(1)[0][0]",
    ),
    Task(
        "filter-json",
        "questions",
        "records.json holds a list of {name, score}. Give the names with a score above 50, sorted "
        "alphabetically, as a list with final_answer.",
        {
            "records.json": json.dumps(
                [{"name": n, "score": s} for n, s in [("eve", 70), ("bob", 40), ("al", 90)]]
            )
        },
        lambda a, ws: a == ["al", "eve"],
        "import json\nanswer = sorted(r['name'] for r in json.load(open('records.json')) if r['score'] > 50)",
    ),
    Task(
        "sum-squares",
        "questions",
        "Compute the sum of the squares of the integers from 1 to 100 and give it with final_answer.",
        {},
        lambda a, ws: close(a, 338350),
        "answer = sum(i * i for i in range(1, 101))",
    ),
    Task(
        "fit-line",
        "questions",
        "points.csv holds x,y points on a line. Fit y = w*x + b by least squares and give w with final_answer.",
        {"points.csv": "x,y\n" + "".join(f"{x},{3 * x + 2}\n" for x in range(10))},
        lambda a, ws: close(a, 3.0, 1e-3),
        "import numpy as np\nd = np.loadtxt('points.csv', delimiter=',', skiprows=1)\n"
        "answer = float(np.polyfit(d[:, 0], d[:, 1], 1)[0])",
    ),
    Task(
        "count-rows",
        "questions",
        "How many rows of sales.csv have the region north? Answer with the number.",
        {"sales.csv": SALES},
        lambda a, ws: close(a, 3),
        "import csv\nanswer = sum(r['region'] == 'north' for r in csv.DictReader(open('sales.csv')))",
    ),
    Task(
        "median",
        "questions",
        "nums.txt holds one number per line. What is their median? Answer with the number.",
        {"nums.txt": "\n".join(str(v) for v in [7, 1, 12, 3, 9, 4]) + "\n"},
        lambda a, ws: close(a, 5.5),
        "import statistics\nanswer = statistics.median(float(v) for v in open('nums.txt').read().split())",
    ),
    Task(
        "days-between",
        "questions",
        "How many days are there from 2024-01-15 to 2024-03-01? Answer with the number.",
        {},
        lambda a, ws: close(a, 46),
        "import datetime as d\nanswer = (d.date(2024, 3, 1) - d.date(2024, 1, 15)).days",
    ),
    Task(
        "largest-setting",
        "questions",
        "settings.json maps names to numbers. Which name has the largest number? Answer with the name.",
        {"settings.json": json.dumps({"warmup": 3, "epochs": 17, "layers": 9, "heads": 4})},
        lambda a, ws: str(a).strip().strip("'\"") == "epochs" and read_json(ws, "settings.json") is not None,
        "import json\ns = json.load(open('settings.json'))\nanswer = max(s, key=s.get)",
    ),
]
