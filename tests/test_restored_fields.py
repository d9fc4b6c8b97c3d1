"""flag_restored: fields and agencies built on words the restorer doubted need review."""
from extractors.restored_fields import flag_restored_fields
from pipeline.model import Agency, Document, Task
from pipeline.runner import process_text

TEXT = ("ỦY BAN NHÂN DÂN TỈNH LAI CHÂU\nSố: 15/CT-UBND\n"
        "Yêu cầu Thủ trưởng các sở, ban, ngành tinh thực hiện:\n"
        "1. Sở Nội vụ chủ trì, phối hợp với Sở Y tế kiểm tra.\n")


def _doc(tokens):
    doc = Document(doc_id="x", source="x.txt", text=TEXT, number_symbol="15/CT-UBND",
                   issuer="Ủy ban nhân dân tỉnh Lai Châu")
    doc.tasks = [Task(id="1", text="Sở Nội vụ chủ trì, phối hợp với Sở Y tế kiểm tra.",
                      agencies=[Agency("Thủ trưởng các sở, ban, ngành tỉnh", "addressee"),
                                Agency("Sở Nội vụ", "lead"), Agency("Sở Y tế", "coordinate")])]
    doc.provenance["restoration_tokens"] = [
        {"original": o, "restored": w, "confidence": c, "start": TEXT.index(w)} for o, w, c in tokens]
    return doc


def test_doubtful_words_flag_their_field_and_agency():
    doc = flag_restored_fields(_doc([("Noi", "Nội", 0.41), ("CHAU", "CHÂU", 0.95)]), {})
    assert doc.needs_review == ["tasks"]                 # CHÂU was sure: the issuer stands
    flags = {a.name: a.needs_review for a in doc.tasks[0].agencies}
    assert flags == {"Thủ trưởng các sở, ban, ngành tỉnh": False, "Sở Nội vụ": True, "Sở Y tế": False}
    assert doc.tasks[0].needs_review


def test_found_accent_blind_and_addressees_in_the_intro():
    # the extractor mended "tinh" into the agency's "tỉnh"; the addressee stands in the intro
    doc = flag_restored_fields(_doc([("tinh", "tinh", 0.3), ("CHAU", "CHÂU", 0.2)]), {"review_confidence": 0.5})
    assert doc.needs_review == ["issuer", "tasks"]
    assert [a.needs_review for a in doc.tasks[0].agencies] == [True, False, False]


def test_nothing_doubtful_nothing_flagged():
    doc = flag_restored_fields(_doc([("Noi", "Nội", 0.7)]), {})
    assert doc.needs_review == [] and not doc.tasks[0].needs_review
    # the stage runs in the default pipeline, after the extractors; correct text is not
    # restored, so nothing is flagged
    from pipeline.config import load_config
    names = [name for name, _ in load_config(None).stages]
    assert names.index("flag_restored") > names.index("assign_duties")
    letter = process_text(TEXT.replace("tinh", "tỉnh"), "letter.txt")
    assert letter.needs_review == [] and not letter.provenance.get("restoration_tokens")
