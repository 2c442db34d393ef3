"""outbox keeps a sign-in link's token hash, never the link

A queued reset, welcome or verification mail held the raw link, so whoever read the outbox
table (a backup, the owner's screen) could sign in as its recipient. The text now holds a
mark and the row the SHA-256 of the token; the sender mints a fresh token into the link at
send time. Rows written before keep no link either: a queued one gets the mark and the hash
of the token it held (so it still goes out, with a fresh token), a sent or failed one has
its token masked.

Revision ID: 0034
Revises: 0033
Create Date: 2026-12-04 18:00:00
"""

import hashlib
import re

import sqlalchemy as sa
from alembic import op

revision = "0034"
down_revision = "0033"
branch_labels = None
depends_on = None


# Written out, as a migration must not follow the app: core.platform.mail's mark and links.
MARK = "\u27e8token\u27e9"
LINK = re.compile(r"([?&](?:reset|verify)=)([A-Za-z0-9_\-]{20,})")


def upgrade() -> None:
    with op.batch_alter_table("mail_outbox") as batch:
        batch.add_column(sa.Column("link_token_hash", sa.String(64), nullable=True))
    outbox = sa.table(
        "mail_outbox",
        sa.column("id", sa.Integer),
        sa.column("body_text", sa.Text),
        sa.column("status", sa.String),
        sa.column("link_token_hash", sa.String),
    )
    conn = op.get_bind()
    rows = conn.execute(
        sa.select(outbox.c.id, outbox.c.body_text, outbox.c.status).where(
            sa.or_(outbox.c.body_text.like("%?reset=%"), outbox.c.body_text.like("%?verify=%"))
        )
    ).all()
    for mail_id, body, status in rows:
        found = LINK.search(body or "")
        if found is None:
            continue
        if status == "queued":
            values = {
                "body_text": body.replace(found.group(2), MARK),
                "link_token_hash": hashlib.sha256(found.group(2).encode("utf-8")).hexdigest(),
            }
        else:
            values = {"body_text": LINK.sub(r"\1…", body)}
        conn.execute(sa.update(outbox).where(outbox.c.id == mail_id).values(**values))


def downgrade() -> None:
    with op.batch_alter_table("mail_outbox") as batch:
        batch.drop_column("link_token_hash")
