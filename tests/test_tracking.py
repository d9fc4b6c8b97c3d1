"""The tracking database: stable keys, no-op re-runs, changed files replacing their own rows."""
from __future__ import annotations

import copy
import sqlite3

from pipeline.tracking import agency_key, db_path, delete_sources, open_db, upsert_documents


def _doc(doc_id: str, source: str, tasks: int = 2) -> dict:
    return {
        "doc_id": doc_id, "source": source, "doc_family": "state", "doc_type": "Chỉ thị",
        "number": "15", "symbol": "CT-UBND", "number_symbol": "15/CT-UBND",
        "issue_date": "2021-10-13", "place": "Lai Châu", "issuer": "Ủy ban nhân dân tỉnh Lai Châu",
        "subject": "tăng cường công tác", "recipients": ["Các sở, ban, ngành"],
        "distribution": ["Như trên", "Lưu: VT"],
        "signer": {"authority": "TM. Ủy ban nhân dân", "capacity": "KT. Chủ tịch",
                   "title": "Phó Chủ tịch", "name": "Tống Thanh Hải"},
        "references": [], "warnings": [], "needs_review": [], "schema_version": "1.0",
        "text": "…",
        "tasks": [{"id": str(k), "title": None, "text": f"nhiệm vụ {k}", "deadline": None,
                   "page": None, "label": f"{k}.", "level": 0, "needs_review": False,
                   "agencies": [{"name": "Sở Nội vụ", "role": "lead"},
                                {"name": "Sở Y tế", "role": "coordinate"}]}
                  for k in range(1, tasks + 1)],
    }


def _rows(conn: sqlite3.Connection, table: str) -> list[tuple]:
    return sorted(conn.execute(f"SELECT * FROM {table}").fetchall())


def test_insert_then_rerun_changes_nothing(tmp_path):
    conn = open_db(tmp_path / "t.sqlite")
    docs = [_doc("a" * 16, "a.txt"), _doc("b" * 16, "sub/b.pdf", tasks=1)]
    first = upsert_documents(conn, docs, {"a" * 16: "ok", "b" * 16: "partial"}, now="2026-01-01T00:00:00")
    assert first["tables"]["documents"]["inserted"] == 2
    assert first["tables"]["tasks"]["inserted"] == 3
    assert first["tables"]["duties"]["inserted"] == 6
    before = {t: _rows(conn, t) for t in ("documents", "tasks", "duties")}
    again = upsert_documents(conn, copy.deepcopy(docs), {"a" * 16: "ok", "b" * 16: "partial"},
                             now="2026-02-02T00:00:00")
    assert (again["inserted"], again["updated"], again["deleted"]) == (0, 0, 0)
    assert again["unchanged"] == 2 + 3 + 6
    assert {t: _rows(conn, t) for t in before} == before     # updated_at did not move
    key = conn.execute("SELECT duty_id, agency_key FROM duties WHERE agency='Sở Nội vụ' LIMIT 1").fetchone()
    assert key[1] == agency_key("Sở Nội vụ") and key[0].endswith(f":{key[1]}:lead")


def test_changed_content_updates_only_its_rows(tmp_path):
    conn = open_db(tmp_path / "t.sqlite")
    doc = _doc("a" * 16, "a.txt", tasks=3)
    upsert_documents(conn, [doc], now="T1")
    changed = copy.deepcopy(doc)
    changed["tasks"][1]["text"] = "nhiệm vụ 2 (sửa)"
    changed["tasks"][2]["agencies"] = changed["tasks"][2]["agencies"][:1]   # one duty fewer
    counts = upsert_documents(conn, [changed], now="T2")
    t = counts["tables"]
    assert t["tasks"] == {"inserted": 0, "updated": 2, "unchanged": 1, "deleted": 0}
    # task 2's duty rows carry its text; the removed agency's row goes; task 1 is untouched
    assert t["duties"] == {"inserted": 0, "updated": 2, "unchanged": 3, "deleted": 1}
    assert t["documents"]["updated"] == 1     # n_duties went from 6 to 5
    moved = conn.execute("SELECT task_id FROM tasks WHERE updated_at='T2'").fetchall()
    assert sorted(r[0] for r in moved) == ["2", "3"]
    kept = conn.execute("SELECT created_at, updated_at FROM tasks WHERE task_id='1'").fetchone()
    assert kept == ("T1", "T1")


def test_changed_file_replaces_its_own_rows_only_and_keeps_unknown_tables(tmp_path):
    path = tmp_path / "t.sqlite"
    conn = open_db(path)
    conn.execute("CREATE TABLE corrections (duty_id TEXT, field TEXT, value TEXT)")
    conn.execute("INSERT INTO corrections VALUES ('x', 'agency', 'Sở Tài chính')")
    conn.commit()
    upsert_documents(conn, [_doc("a" * 16, "a.txt"), _doc("b" * 16, "b.txt")], now="T1")
    conn.close()

    conn = open_db(path)   # reopening never drops what it does not know
    counts = upsert_documents(conn, [_doc("c" * 16, "a.txt", tasks=1)], now="T2")
    assert counts["tables"]["documents"]["deleted"] == 1
    assert counts["tables"]["tasks"]["deleted"] == 2 and counts["tables"]["duties"]["deleted"] == 4
    assert {r[0] for r in conn.execute("SELECT doc_id FROM documents")} == {"b" * 16, "c" * 16}
    assert conn.execute("SELECT COUNT(*) FROM duties WHERE doc_id=?", ("b" * 16,)).fetchone()[0] == 4
    assert conn.execute("SELECT value FROM corrections").fetchall() == [("Sở Tài chính",)]
    assert delete_sources(conn, ["b.txt"]) == 1 + 2 + 4
    assert {r[0] for r in conn.execute("SELECT doc_id FROM documents")} == {"c" * 16}


def test_repeated_keys_in_one_document_keep_the_first(tmp_path):
    conn = open_db(tmp_path / "t.sqlite")
    doc = _doc("a" * 16, "a.txt", tasks=1)
    doc["tasks"].append(copy.deepcopy(doc["tasks"][0]))                       # same task id twice
    doc["tasks"][0]["agencies"].append({"name": "SỞ NỘI VỤ", "role": "lead"})  # same key, same role
    counts = upsert_documents(conn, [doc], now="T1")
    assert counts["tables"]["tasks"]["inserted"] == 1
    assert counts["tables"]["duties"]["inserted"] == 2


def test_db_path_setting(tmp_path):
    assert db_path(tmp_path, {}) == tmp_path / "directives.sqlite"
    assert db_path(tmp_path, {"sqlite": "track/x.sqlite"}) == tmp_path / "track/x.sqlite"
    assert db_path(tmp_path, {"sqlite": str(tmp_path / "abs.sqlite")}) == tmp_path / "abs.sqlite"
    assert db_path(tmp_path, {"sqlite": False}) is None
