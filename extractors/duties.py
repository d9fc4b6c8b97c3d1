"""Duties: for each task, the agencies that must act, with role and deadline (RECORDS.md).

Roles come from grammar: the actor at the start of a clause is `lead`; "Đề nghị X" makes X
`requested`; "phối hợp với Y" makes Y `coordinate`; an agency heading passes to its
children; a task naming no actor falls to every addressee (`addressee`).
Bodies that are only directed, advised or reported to hold nothing there.
"""
from __future__ import annotations

import functools
import re
from typing import Optional

from extractors.agencies import Mention, Token, find_agencies
from extractors.deadlines import find_deadline
from normalizers.unicode import match_key
from pipeline.model import Agency, Document, Task
from pipeline.resources import load_data_yaml

ROLE_RANK = {"requested": 3, "lead": 2, "coordinate": 1, "addressee": 0}
CLAUSE_END = {".", ";", ":", "!", "?"}
LIST_GLUE = {",", "và", "cùng"}


@functools.lru_cache(maxsize=1)
def _words():
    g = load_data_yaml("grammar.yaml")
    split = lambda items: sorted((tuple(x.lower().split()) for x in items), key=len, reverse=True)
    return {
        "requested": split(g["requested_openers"]),
        "lead": split(g["lead_openers"]),
        "coordinate": split(g["coordinate_triggers"]),
        "connectives": split(g["connectives"]),
        "directed": split(g["directed_openers"]),
        "non_duty": [re.compile(rf"^\s*{p}\b", re.I) for p in g["non_duty_sections"]],
    }


def _starts_with(tokens: list[Token], i: int, phrases) -> int:
    words = [t.low for t in tokens[i:i + 6] if t.text != ","]
    for p in phrases:
        if tuple(words[:len(p)]) == p:
            # count tokens consumed, commas included
            n, seen = 0, 0
            while seen < len(p) and i + n < len(tokens):
                if tokens[i + n].text != ",":
                    seen += 1
                n += 1
            return n
    return 0


def _group(mentions: list[Mention], tokens: list[Token], first: int) -> list[Mention]:
    """The list of agencies starting with mention `first`, joined by commas or "và"."""
    group = [mentions[first]]
    k = first + 1
    while k < len(mentions):
        gap = [t.low for t in tokens[group[-1].end:mentions[k].start]]
        if gap and all(g in LIST_GLUE or g == "các" for g in gap) and len(gap) <= 2:
            group.append(mentions[k])
            k += 1
        else:
            break
    return group


def roles_in_text(text: str) -> list[tuple[str, str]]:
    """(agency, role) pairs from the clauses of a task's text, in order; each line
    (a bullet) starts a clause of its own."""
    return [pair for line in text.split("\n") for pair in _roles_in_line(line)]


def _roles_in_line(text: str) -> list[tuple[str, str]]:
    tokens, mentions = find_agencies(text)
    if not mentions:
        return []
    words = _words()
    at = {m.start: idx for idx, m in enumerate(mentions)}
    found: list[tuple[str, str]] = []
    clause_start = True
    directed = False      # "Chỉ đạo ngành y tế phối hợp với …": the partners are the directed body's
    i = 0
    while i < len(tokens):
        t = tokens[i]
        if t.text in CLAUSE_END:
            clause_start, directed = True, False
            i += 1
            continue
        if clause_start:
            j = i
            while j < len(tokens) and tokens[j].text in {"-", "+", "•", "*", "–", ","}:
                j += 1
            j += _starts_with(tokens, j, words["connectives"])
            while j < len(tokens) and tokens[j].text == ",":
                j += 1
            role = "lead"
            n = _starts_with(tokens, j, words["requested"])
            if n:
                role, j = "requested", j + n
            else:
                n = _starts_with(tokens, j, words["lead"])
                if n:
                    j += n
            clause_start = False
            directed = bool(_starts_with(tokens, j, words["directed"]))
            if j in at:
                group = _group(mentions, tokens, at[j])
                found.extend((m.name, role) for m in group)
                i = group[-1].end
                continue
            i = max(i + 1, j)
            continue
        n = _starts_with(tokens, i, words["coordinate"])
        if n and i + n in at and not directed:
            group = _group(mentions, tokens, at[i + n])
            found.extend((m.name, "coordinate") for m in group)
            i = group[-1].end
            continue
        i += 1
    return found


def _merge(pairs: list[tuple[str, str]]) -> list[Agency]:
    """One entry per agency, the strongest role winning (requested > lead > coordinate)."""
    merged: dict[str, Agency] = {}
    for name, role in pairs:
        key = match_key(name)
        if key in merged:
            if ROLE_RANK[role] > ROLE_RANK[merged[key].role]:
                merged[key].role = role
        else:
            merged[key] = Agency(name=name, role=role)
    return list(merged.values())


def _children(tasks: list[Task]) -> dict[str, list[Task]]:
    kids: dict[str, list[Task]] = {t.id: [] for t in tasks}
    for t in tasks:
        parent = t.id.rsplit(".", 1)[0] if "." in t.id else None
        if parent in kids:
            kids[parent].append(t)
    return kids


def heading_agencies(task: Task) -> list[tuple[str, str]]:
    """A heading that names its actors ("1. Sở Nội vụ:", "Đề nghị Ủy ban MTTQ …:").

    A heading that is one body with its description ("Các cơ quan đăng ký đầu tư (Sở Tài
    chính, …)") names that body as printed."""
    if not task.title:
        return []
    pairs = roles_in_text(task.title)
    if len(pairs) >= 1:
        tokens, mentions = find_agencies(task.title)
        if mentions and mentions[0].start == 0 and not re.search(r"[.;]", task.title) \
                and re.match(r"(?i)các\s", task.title) and len(task.title) < 200 \
                and not any(m.start > 0 and tokens[m.start - 1].text in {",", "và"} and m.start < _paren(tokens)
                            for m in mentions[1:]):
            return [(task.title, pairs[0][1])]
    return pairs


def _paren(tokens: list[Token]) -> int:
    return next((i for i, t in enumerate(tokens) if t.text == "("), len(tokens))


def intro_addressees(doc: Document) -> list[str]:
    """With no Kính gửi, the intro's "yêu cầu X, Y (tập trung) thực hiện …" names the addressees."""
    intro = doc.intro
    m = None
    for m in re.finditer(r"\b(yêu cầu|đề nghị)\b", intro, re.I):
        pass
    if not m:
        return []
    tokens, mentions = find_agencies(intro[m.end():])
    if not mentions or mentions[0].start > 0:     # "Xét đề nghị của Bộ trưởng …" asks nobody
        return []
    return [x.name for x in _group(mentions, tokens, 0)]


def assign_duties(doc: Document, settings: dict) -> Document:
    kids = _children(doc.tasks)
    by_id = {t.id: t for t in doc.tasks}
    addressees = list(doc.recipients) or intro_addressees(doc)
    year = int(doc.issue_date[:4]) if doc.issue_date else None
    non_duty = _words()["non_duty"]

    for task in doc.tasks:
        task.deadline = find_deadline(task.text, year)
        if kids[task.id]:
            continue     # duties sit on the deepest labelled items
        pairs = roles_in_text(task.text)
        own_lead = any(r in ("lead", "requested") for _, r in pairs)
        inherited = _inherited(task, by_id)
        if not own_lead and inherited:
            pairs = inherited + pairs
        elif inherited and task.title and heading_agencies(task):
            pairs = pairs + [(n, r) for n, r in inherited if match_key(n) not in {match_key(x) for x, _ in pairs}]
        agencies = _merge(pairs)
        if not any(a.role in ("lead", "requested") for a in agencies) and addressees \
                and not _in_non_duty_section(task, by_id, non_duty):
            agencies = [Agency(name=a, role="addressee") for a in addressees] + agencies
        task.agencies = agencies
    return doc


def _inherited(task: Task, by_id: dict[str, Task]) -> list[tuple[str, str]]:
    """Agencies of the nearest heading above that names them (its children act as lead)."""
    parts = task.id.split(".")
    for n in range(len(parts) - 1, 0, -1):
        parent = by_id.get(".".join(parts[:n]))
        if parent is None:
            continue
        pairs = heading_agencies(parent)
        if pairs:
            return [(name, "requested" if role == "requested" else "lead") for name, role in pairs]
    return []


def _in_non_duty_section(task: Task, by_id: dict[str, Task], patterns) -> bool:
    parts = task.id.split(".")
    for n in range(len(parts), 0, -1):
        t: Optional[Task] = by_id.get(".".join(parts[:n]))
        if t is not None and t.title and any(p.match(t.title) for p in patterns):
            return True
    return False
