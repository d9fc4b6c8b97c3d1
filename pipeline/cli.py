"""The `directives` command."""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import List, Optional

import typer

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="Structured duty records from Vietnamese official letters.")


@app.command()
def run(paths: List[Path] = typer.Argument(..., help="files or folders (walked recursively)"),
        out: Path = typer.Option(Path("outputs"), "--out", help="output folder"),
        config: Optional[Path] = typer.Option(None, "--config", help="pipeline.yaml"),
        workers: Optional[int] = typer.Option(None, "--workers", help="processes (default: cores)"),
        scheduler: Optional[str] = typer.Option(None, "--scheduler", help="Dask scheduler tcp://host:8786"),
        force: bool = typer.Option(False, "--force", help="redo every file"),
        retry_failed: bool = typer.Option(False, "--retry-failed", help="redo the files that failed")):
    """Read letters and write documents JSON, duties CSV/JSONL and run.json."""
    from pipeline.batch import run_paths
    from pipeline.config import load_config
    cfg = load_config(config)
    try:
        report = run_paths([str(p) for p in paths], out, cfg, workers=workers, scheduler=scheduler,
                           force=force, retry_failed=retry_failed)
    except RuntimeError as exc:       # another run holds the output folder's lock
        typer.echo(str(exc), err=True)
        raise typer.Exit(2)
    counts = report["counts"]
    typer.echo(f"{report['files']} files: " + ", ".join(f"{v} {k}" for k, v in sorted(counts.items()))
               + f" ({report.get('skipped', 0)} done before); {report['duties']} duties -> {out}"
               + (f"; {report['skipped_files']} not documents, not read (run.json skipped_files_detail)"
                  if report.get("skipped_files") else ""))
    for f in report["files_detail"]:
        if f["status"] == "failed":
            typer.echo(f"  failed {f['source']}: [{f['reason']}] {f['message']}", err=True)
    raise typer.Exit(1 if counts.get("failed") else 0)


@app.command("eval")
def evaluate(gold: Path = typer.Option(..., "--gold", help="folder of gold YAML files"),
             pred: Path = typer.Option(..., "--pred", help="output folder of a run"),
             as_json: bool = typer.Option(False, "--json", help="print the scores as JSON")):
    """Score a run against gold records (RECORDS.md shape)."""
    from pipeline.evaluate import evaluate_dirs, format_report
    report = evaluate_dirs(gold, pred)
    typer.echo(json.dumps(report, ensure_ascii=False, indent=2) if as_json else format_report(report))


@app.command("silver")
def silver(manifest: Path = typer.Option(..., "--manifest", help="manifest.tsv of SILVER labels"),
           pred: Path = typer.Option(..., "--pred", help="output folder of a run"),
           show: int = typer.Option(20, "--show", help="how many disagreements to list")):
    """Agreement of a run's header fields with silver labels (to read the disagreements)."""
    from pipeline.silver import compare
    report = compare(manifest, pred)
    typer.echo(json.dumps({k: v for k, v in report.items() if k != "disagreements"}, ensure_ascii=False, indent=2))
    for d in report["disagreements"][:show]:
        typer.echo(f"  {d['file'][:40]:40} {d['field']:14} silver={d['silver']!r} ours={d['ours']!r}")


@app.command()
def restore(file: Optional[Path] = typer.Argument(None, help="text file (stdin when omitted)")):
    """Restore lost diacritics: same lines, same order, on stdout."""
    from normalizers.diacritics import restore_stream
    if file is None:
        restore_stream(sys.stdin, sys.stdout)
    else:
        with open(file, encoding="utf-8") as fh:
            restore_stream(fh, sys.stdout)


@app.command("train-lm")
def train_lm(corpus: Path = typer.Option(Path("../shared/corpus"), "--corpus", help="corpus folder"),
             out: Optional[Path] = typer.Option(None, "--out", help="model folder (default data/lm)")):
    """Rebuild the syllable language model under data/lm from the corpus."""
    from normalizers.diacritics import train_lm as train
    from pipeline.resources import data_path
    stats = train(corpus, out or data_path("lm"))
    typer.echo(json.dumps(stats, ensure_ascii=False, indent=2))


@app.command()
def doctor():
    """Check that Tesseract and its language files are installed."""
    from pipeline.doctor import FIX_COMMAND, check_ocr, report
    problems = check_ocr()
    if not problems:
        typer.echo(report())
        return
    for p in problems:
        typer.echo(f"problem: {p}", err=True)
    typer.echo(f"fix: {FIX_COMMAND}", err=True)
    raise typer.Exit(1)


@app.command("apply-corrections")
def apply_corrections(file: Path = typer.Argument(..., help="the clerk's edited nhiem_vu.xlsx or .csv"),
                      out: Path = typer.Option(Path("outputs"), "--out", help="output folder of the run")):
    """Store a clerk's corrections so that every later run keeps them."""
    from pipeline.corrections import apply_corrections as apply
    summary = apply(file, out)
    typer.echo(json.dumps(summary, ensure_ascii=False, indent=2))


def main() -> None:
    app()


if __name__ == "__main__":
    main()
