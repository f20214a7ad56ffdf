"""Files of appeals (app.monthly.attachments) on the database: stored with their hash, with the
appeal or after it until the review, once per content, scoped to the hospital; a refused file
leaves nothing written."""

from __future__ import annotations

import hashlib
from datetime import date

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.auth.principal import Principal
from app.errors import Conflict, Invalid, NotFound
from app.monthly import attachments, audits
from app.monthly.models import AuditAttachment, AuditItem
from app.trail.models import AuditEvent
from tests.support import builders
from tests.support.daily import at, settle

H001 = Principal(None, "user-H001", "hospital", "H001")
H002 = Principal(None, "user-H002", "hospital", "H002")
OPERATOR = Principal(None, "op", "operator")
ACCOUNTANT = Principal(None, "acc", "accountant")
PDF = b"%PDF-1.7\n" + b"scan of the doctor's order " * 40 + b"\n%%EOF\n"
JPEG = b"\xff\xd8\xff\xe0" + b"photo" * 100
DAY = date(2026, 3, 20)


def _item(session: Session) -> AuditItem:
    builders.institution(session, "H001")
    builders.institution(session, "H002")
    settle(session, "H001", "S1", 1_000_000, date(2026, 3, 6))
    item, _ = audits.record(
        session,
        code="H001",
        setl_id="S1",
        rule_code="R1",
        amount_fen=80_000,
        reason="超标准收费",
        actor=OPERATOR,
        now=at(DAY),
    )
    return item


def _files(session: Session, item: AuditItem) -> list[AuditAttachment]:
    return attachments.of_items(session, [item.id]).get(item.id, [])


def test_an_appeal_keeps_its_file_with_the_hash(session: Session) -> None:
    item = _item(session)
    appealed, stored = attachments.appeal(
        session, item, "医嘱齐全", file=("说明.pdf", PDF), actor=H001, now=at(DAY, 15)
    )
    assert appealed.status == "APPEALED" and appealed.appeal_reason == "医嘱齐全"
    assert stored is not None
    assert (stored.filename, stored.media_type, stored.size_bytes) == (
        "说明.pdf",
        "application/pdf",
        len(PDF),
    )
    assert stored.sha256 == hashlib.sha256(PDF).hexdigest()
    session.expire_all()
    again = attachments.get(session, stored.id, actor=ACCOUNTANT)
    assert again.content == PDF
    assert attachments.get(session, stored.id, actor=H001).content == PDF
    with pytest.raises(NotFound):
        attachments.get(session, stored.id, actor=H002)
    trail = session.scalars(
        select(AuditEvent.action).where(AuditEvent.entity_key == str(item.id))
    ).all()
    assert "audit.attach" in trail


def test_a_refused_file_leaves_the_appeal_unwritten(session: Session) -> None:
    item = _item(session)
    with pytest.raises(Invalid) as refused:
        attachments.appeal(
            session, item, "理由", file=("x.pdf", b"not a pdf"), actor=H001, now=at(DAY, 15)
        )
    assert refused.value.errors[0].rule == "attachment_type"
    session.refresh(item)
    assert item.status == "INITIAL" and item.appealed_at is None
    assert _files(session, item) == []


def test_more_files_until_the_review_each_content_once(session: Session) -> None:
    item = _item(session)
    attachments.appeal(session, item, "理由", file=None, actor=H001, now=at(DAY, 15))
    first, created = attachments.add(
        session, item.id, filename="a.jpg", content=JPEG, actor=H001, now=at(DAY, 16)
    )
    same, again = attachments.add(
        session, item.id, filename="b.jpg", content=JPEG, actor=H001, now=at(DAY, 17)
    )
    assert created and not again and same.id == first.id
    with pytest.raises(NotFound):
        attachments.add(session, item.id, filename="c.pdf", content=PDF, actor=H002, now=at(DAY))
    for n in range(attachments.ATTACHMENTS_PER_ITEM_MAX - 1):
        attachments.add(
            session,
            item.id,
            filename=f"{n}.pdf",
            content=PDF + bytes([n]),
            actor=H001,
            now=at(DAY, 18),
        )
    with pytest.raises(Invalid) as full:
        attachments.add(
            session, item.id, filename="z.pdf", content=PDF + b"z", actor=H001, now=at(DAY, 19)
        )
    assert full.value.errors[0].rule == "attachments_max"
    count = session.scalar(
        select(func.count())
        .select_from(AuditAttachment)
        .where(AuditAttachment.audit_item_id == item.id)
    )
    assert count == attachments.ATTACHMENTS_PER_ITEM_MAX


def test_no_file_after_the_review(session: Session) -> None:
    item = _item(session)
    attachments.appeal(session, item, "理由", file=None, actor=H001, now=at(DAY, 15))
    audits.review(session, "H001", "S1", "R1", 30_000, True, actor=OPERATOR, now=at(DAY, 17))
    with pytest.raises(Conflict):
        attachments.add(
            session, item.id, filename="late.pdf", content=PDF, actor=H001, now=at(DAY, 18)
        )


def test_no_appeal_after_the_window_whatever_the_file(session: Session) -> None:
    item = _item(session)
    late = at(item.appeal_deadline, 23, 59).replace(second=59)
    attachments.appeal(session, item, "在时限内", file=None, actor=H001, now=late)
    other = _item_on(session, "S2")
    after = at(date.fromordinal(other.appeal_deadline.toordinal() + 1), 0, 1)
    with pytest.raises(Invalid) as closed:
        attachments.appeal(session, other, "晚了", file=("a.pdf", PDF), actor=H001, now=after)
    assert closed.value.errors[0].rule == "appeal_window"
    assert _files(session, other) == []


def _item_on(session: Session, setl_id: str) -> AuditItem:
    settle(session, "H001", setl_id, 500_000, date(2026, 3, 9))
    item, _ = audits.record(
        session,
        code="H001",
        setl_id=setl_id,
        rule_code="R2",
        amount_fen=10_000,
        reason="重复收费",
        actor=OPERATOR,
        now=at(DAY),
    )
    return item
