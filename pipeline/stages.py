"""The built-in stages, registered by the names pipeline.yaml uses.

Each is a plain function ``(doc, settings) -> doc``; the work lives in extractors/ and
normalizers/, one concern per module.
"""
from __future__ import annotations

import importlib

from pipeline.model import Document
from pipeline.registry import stage


@stage("ingest")
def ingest(doc: Document, settings: dict) -> Document:
    from extractors.sources import ingest as read_source
    return read_source(doc, settings)


@stage("ocr")
def ocr(doc: Document, settings: dict) -> Document:
    if doc.media_type != "image" and all(p.origin != "image" for p in doc.pages):
        return doc  # every page has real text: nothing to read
    from extractors.ocr import ocr_stage
    return ocr_stage(doc, settings)


@stage("normalize")
def normalize(doc: Document, settings: dict) -> Document:
    from normalizers.cleanup import fix_upper_case_slips, join_broken_header_lines, remove_furniture
    from normalizers.unicode import clean_unicode
    text = "\n".join(p.text for p in doc.pages)
    text = clean_unicode(text)
    text, removed = remove_furniture(text)
    doc.text = fix_upper_case_slips(join_broken_header_lines(text)).strip("\n")
    return doc


@stage("restore_diacritics")
def restore_diacritics(doc: Document, settings: dict) -> Document:
    from normalizers.diacritics import get_restorer
    restored = get_restorer(settings.get("model_dir")).restore(doc.text)
    if restored.changed:
        doc.original_text = doc.text
        doc.text = restored.text
        low = [t for t in restored.tokens if t.confidence < settings.get("review_confidence", 0.6)]
        doc.provenance["restoration"] = {
            "changed_tokens": len(restored.tokens),
            "low_confidence_tokens": len(low),
            "line_kinds": {k: restored.line_kinds.count(k) for k in sorted(set(restored.line_kinds))},
        }
        doc.warn("diacritics_restored",
                 f"{len(restored.tokens)} tokens restored or repaired ({len(low)} with low confidence)")
        doc.provenance["restoration_tokens"] = [
            {"original": t.original, "restored": t.restored, "confidence": round(t.confidence, 3),
             "start": t.start} for t in restored.tokens]
    return doc


def _delegate(name: str, target: str) -> None:
    """Register a stage whose work is one function of an extractor module (imported on first use)."""
    module_name, func_name = target.split(":")

    def run(doc: Document, settings: dict) -> Document:
        return getattr(importlib.import_module(module_name), func_name)(doc, settings)

    run.__name__ = name
    stage(name)(run)


for _name, _target in {
    "extract_header": "extractors.header:extract_header",
    "extract_parties": "extractors.parties:extract_parties",
    "extract_references": "extractors.references:extract_references",
    "extract_tasks": "extractors.tasks:extract_tasks",
    "assign_duties": "extractors.duties:assign_duties",
    "flag_restored": "extractors.restored_fields:flag_restored_fields",
}.items():
    _delegate(_name, _target)


@stage("locate")
def locate(doc: Document, settings: dict) -> Document:
    if all(p.origin != "ocr" for p in doc.pages):
        return doc
    from extractors.provenance import locate_fields
    return locate_fields(doc, settings)
