"""Data stewardship under a scope (`ScopedDatabase.import_file`, `conflicts`,
`resolve_conflict`, `duplicates`, `merge`, `feedback`, `quality_report`): the steward's
permission `manage_data` is checked, a dealer reads only its own feedback queue and quality row,
and every call is audited."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

import autocrm

DAY = "2026-07-01"


@pytest.fixture
def dirty(db, tmp_path):
    out = autocrm.synth.write_dirty(tmp_path / "demo", customers=120, seed=7, dirt=0.3, db=db)
    steward = db.scoped("hq:data_admin", "lin.steward")
    calls = []
    reports = [
        steward.import_file(f["path"], received_at=DAY, progress=lambda *a: calls.append(a))
        for f in out["files"]
    ]
    assert calls and sum(r.created for r in reports) > 0
    return SimpleNamespace(db=db, steward=steward, files=out["files"])


def test_import_and_listing_match_the_unscoped_calls(dirty):
    db, s = dirty.db, dirty.steward
    assert [c.id for c in s.conflicts()] == [c.id for c in db.read().conflicts(True)]
    assert len(s.duplicates(50)) == len(db.read().duplicate_candidates(50))
    assert [e.id for e in s.feedback()] == [e.id for e in db.feedback_all()]
    log = [e for e in s.audit_log(limit=1000) if e["actor"] == "lin.steward"]
    assert sum(e["what"].startswith("import ") for e in log) == len(dirty.files)


def test_resolve_and_merge_are_by_the_actor_and_audited(dirty):
    s = dirty.steward
    c = next(c for c in s.conflicts() if c.customer is not None)
    done = s.resolve_conflict(c.id, accept=False)
    assert done.status == "rejected" and done.resolved_by == "lin.steward"
    pair = s.duplicates(0)[0]
    m = s.merge(pair.customer, pair.other)
    assert (m.survivor, m.merged, m.by) == (pair.customer, pair.other, "lin.steward")
    log = s.audit_log(limit=1000)
    assert any(e["what"] == "merge" and e["customers"] == [pair.customer, pair.other] for e in log)
    assert s.verify_audit()["intact"]


def test_a_dealer_has_its_own_queue_and_quality_row_and_no_more(dirty):
    db = dirty.db
    dealers = db.dealers()
    me = next(d for d in dealers if db.read().feedback(d.id))
    other = next(d for d in dealers if d.id != me.id)
    s = db.scoped(f"dealer:{me.code}", "desk")
    assert [e.id for e in s.feedback()] == [e.id for e in db.read().feedback(me.id)]
    with pytest.raises(autocrm.AccessDeniedError) as ei:
        s.feedback(other.id)
    assert ei.value.permission == "manage_data"
    rows = s.quality_report(DAY).rows
    assert [r.dealer for r in rows] == [me.id]
    for call in (s.conflicts, s.duplicates, lambda: s.merge(1, 2), lambda: s.resolve_conflict(1, True),
                 lambda: s.import_file(dirty.files[0]["path"])):
        with pytest.raises(autocrm.AccessDeniedError) as ei:
            call()
        assert ei.value.permission == "manage_data"
