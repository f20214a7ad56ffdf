"""Files attached to the appeal of an audit result (申诉材料): a PDF or an image scan.

- A file is at most 5 MiB, not empty, and a PDF, PNG or JPEG by its first bytes (the name
  and the browser's claimed type are not trusted); anything else is a 422 naming
  `attachment` and the rule.
- It goes with the appeal, or adds to an appeal not yet reviewed (INITIAL or APPEALED); at
  most 10 per result. The same file (SHA-256) twice on one result is kept once.
- Stored in the database (docs/rules.md: one transaction with the appeal, in the backups, no
  folder to keep in step), read back only to download. Hospitals read their own; staff all.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.auth.principal import Principal
from app.errors import Conflict, Invalid, NotFound
from app.monthly import audits
from app.monthly.models import (
    ATTACHMENT_BYTES_MAX,
    ATTACHMENT_MEDIA_TYPES,
    AuditAttachment,
    AuditItem,
)
from app.settlements.models import Settlement
from app.trail import service as trail

ATTACHMENTS_PER_ITEM_MAX = 10
FILENAME_CHARS_MAX = 120
OPEN_STATUSES = ("INITIAL", "APPEALED")  # a file goes with the appeal or adds to it
MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"%PDF-", "application/pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
)
EXTENSIONS = {"application/pdf": ".pdf", "image/png": ".png", "image/jpeg": ".jpg"}
assert set(EXTENSIONS) == set(ATTACHMENT_MEDIA_TYPES)


# --- pure checks ---------------------------------------------------------------------------


def media_type_of(content: bytes) -> str | None:
    """PDF, PNG or JPEG by the file's first bytes; None for anything else."""
    for magic, media_type in MAGIC:
        if content.startswith(magic):
            return media_type
    return None


def check(content: bytes) -> str:
    """The file's media type, or a 422 naming `attachment` and the broken rule."""
    if not content:
        raise Invalid.field("attachment", "attachment_empty", "the file is empty")
    if len(content) > ATTACHMENT_BYTES_MAX:
        raise Invalid.field(
            "attachment", "attachment_size", f"a file is at most {ATTACHMENT_BYTES_MAX} bytes"
        )
    media_type = media_type_of(content)
    if media_type is None:
        raise Invalid.field(
            "attachment", "attachment_type", "a file is a PDF, PNG or JPEG (by its content)"
        )
    return media_type


def clean_filename(name: str, media_type: str) -> str:
    """The name as shown and downloaded: no folders, no control characters, at most 120
    characters, ending in the extension of its real type."""
    base = re.split(r"[\\/]", name)[-1]
    base = "".join(c for c in base if unicodedata.category(c)[0] != "C").strip().strip(".")
    extension = EXTENSIONS[media_type]
    stem, dot, ending = base.rpartition(".")
    if dot and ending.lower() in ("pdf", "png", "jpg", "jpeg"):
        base = stem.strip()
    base = base or "申诉材料"
    return base[: FILENAME_CHARS_MAX - len(extension)] + extension


# --- writes --------------------------------------------------------------------------------


def attach(
    session: Session,
    item: AuditItem,
    *,
    filename: str,
    content: bytes,
    actor: Principal,
    now: datetime,
) -> tuple[AuditAttachment, bool]:
    """Keep a file with a result whose appeal is open (the caller holds the item's lock);
    the same file again returns the first."""
    if actor.is_hospital and actor.fixmedins_code != item.fixmedins_code:
        raise NotFound(f"no audit result {item.id}")
    media_type = check(content)
    digest = hashlib.sha256(content).hexdigest()
    existing = session.scalar(
        select(AuditAttachment).where(
            AuditAttachment.audit_item_id == item.id, AuditAttachment.sha256 == digest
        )
    )
    if existing is not None:
        return existing, False
    if item.status not in OPEN_STATUSES:
        raise Conflict(f"the audit result is {item.status}; files go with an open appeal")
    count = session.scalar(
        select(func.count())
        .select_from(AuditAttachment)
        .where(AuditAttachment.audit_item_id == item.id)
    )
    if (count or 0) >= ATTACHMENTS_PER_ITEM_MAX:
        raise Invalid.field(
            "attachment",
            "attachments_max",
            f"at most {ATTACHMENTS_PER_ITEM_MAX} files on one audit result",
        )
    row = AuditAttachment(
        audit_item_id=item.id,
        filename=clean_filename(filename, media_type),
        media_type=media_type,
        size_bytes=len(content),
        sha256=digest,
        content=content,
        uploaded_at=now,
        uploaded_by=actor.name,
    )
    session.add(row)
    session.flush()
    trail.record(
        session,
        actor=actor,
        action="audit.attach",
        entity="audit_item",
        key=str(item.id),
        before=None,
        after={"filename": row.filename, "sha256": digest, "size_bytes": len(content)},
        now=now,
    )
    return row, True


def add(
    session: Session,
    item_id: int,
    *,
    filename: str,
    content: bytes,
    actor: Principal,
    now: datetime,
) -> tuple[AuditAttachment, bool]:
    """A further file for an appeal not yet reviewed: the result's row is locked first (the
    count of files and the status hold under concurrency)."""
    check(content)
    item = session.scalar(
        select(AuditItem)
        .where(AuditItem.id == item_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if item is None or (actor.is_hospital and item.fixmedins_code != actor.fixmedins_code):
        raise NotFound(f"no audit result {item_id}")
    return attach(session, item, filename=filename, content=content, actor=actor, now=now)


def appeal(
    session: Session,
    item: AuditItem,
    reason: str,
    *,
    file: tuple[str, bytes] | None,
    actor: Principal,
    now: datetime,
) -> tuple[AuditItem, AuditAttachment | None]:
    """The hospital appeals (申诉, audits.appeal's rule) with an optional file, all or
    nothing: the file is checked before anything is written."""
    if file is not None:
        check(file[1])
    setl_id = session.scalar(select(Settlement.setl_id).where(Settlement.id == item.settlement_id))
    assert setl_id is not None, "an audit result has its settlement"
    appealed = audits.appeal(
        session, item.fixmedins_code, setl_id, item.rule_code, reason, actor=actor, now=now
    )
    if file is None:
        return appealed, None
    row, _ = attach(session, appealed, filename=file[0], content=file[1], actor=actor, now=now)
    return appealed, row


# --- reads ---------------------------------------------------------------------------------


def of_items(session: Session, item_ids: Sequence[int]) -> dict[int, list[AuditAttachment]]:
    """The files of these results, oldest first (their content is not read)."""
    found: dict[int, list[AuditAttachment]] = defaultdict(list)
    if not item_ids:
        return found
    for row in session.scalars(
        select(AuditAttachment)
        .where(AuditAttachment.audit_item_id.in_(list(item_ids)))
        .order_by(AuditAttachment.id)
    ):
        found[row.audit_item_id].append(row)
    return found


def get(session: Session, attachment_id: int, *, actor: Principal) -> AuditAttachment:
    """One file (its content read on access); a hospital only its own institution's."""
    row = session.get(AuditAttachment, attachment_id)
    if row is None:
        raise NotFound(f"no attachment {attachment_id}")
    if actor.is_hospital:
        owner = session.scalar(
            select(AuditItem.fixmedins_code).where(AuditItem.id == row.audit_item_id)
        )
        if owner != actor.fixmedins_code:
            raise NotFound(f"no attachment {attachment_id}")
    return row
