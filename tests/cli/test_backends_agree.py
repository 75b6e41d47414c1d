"""The same input through ``sdesk ingest`` then ``sdesk export`` on SQLite and on PostgreSQL
gives the same tickets and messages: the database URL is the only change a growing team makes."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tests.cli.conftest import Run
from tests.cli.test_ingest import make_corpus
from tests.corpus.bulk import write_mbox
from tests.corpus.hostile import hostile_messages, realistic_messages
from tests.pgserver import PostgresServer

# Differ by design: row ids are each database's own.
VOLATILE = {"id"}
ISO = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z")
# Mail without a Date is stamped with the time it was stored: the two runs differ there.
NOW = "<ingest time>"


def write_corpus(root: Path) -> list[Path]:
    """The ingest test's formats, the hostile and realistic mail corpora, and a bulk mbox."""
    paths = make_corpus(root)
    for folder, messages in (("hostile", hostile_messages()), ("real", realistic_messages())):
        (root / folder).mkdir()
        for name, raw in messages:
            (root / folder / f"{name}.eml").write_bytes(raw)
        paths.append(root / folder)
    write_mbox(root / "bulk.mbox", 300)
    return [*paths, root / "bulk.mbox"]


def exported(sdesk: Run, db: str, out: Path, started: str) -> list[dict[str, Any]]:
    done = sdesk("--db", db, "export", "-o", str(out))
    assert done.returncode == 0, done.stderr
    return [strip(json.loads(line), started) for line in out.read_text().splitlines()]


def strip(value: Any, started: str) -> Any:
    if isinstance(value, dict):
        return {k: strip(v, started) for k, v in value.items() if k not in VOLATILE}
    if isinstance(value, list):
        return [strip(v, started) for v in value]
    if isinstance(value, str) and ISO.fullmatch(value) and value >= started:
        return NOW
    return value


def test_ingest_then_export_is_the_same_on_both_databases(
    sdesk: Run, tmp_path: Path, postgres: PostgresServer
) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    paths = [str(p) for p in write_corpus(corpus)]
    urls = {"sqlite": str(tmp_path / "desk.db"), "postgresql": postgres.new_url()}
    started = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S")
    summaries = {}
    for name, url in urls.items():
        done = sdesk("--db", url, "ingest", *paths, timeout=300)
        assert done.returncode == 0, done.stderr
        summaries[name] = done.stdout.splitlines()[0]
    assert summaries["sqlite"] == summaries["postgresql"]
    created = re.search(r"(\d+) tickets created", summaries["sqlite"])
    assert created is not None and int(created.group(1)) > 250, summaries["sqlite"]
    lite = exported(sdesk, urls["sqlite"], tmp_path / "lite.jsonl", started)
    pg = exported(sdesk, urls["postgresql"], tmp_path / "pg.jsonl", started)
    assert len(lite) == int(created.group(1))
    assert [t["number"] for t in pg] == [t["number"] for t in lite]
    for a, b in zip(lite, pg, strict=True):
        assert a == b, f"ticket {a['number']} differs"
