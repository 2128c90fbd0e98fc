"""data: a zone chosen for the digest becomes the person's profile zone when they have chosen none there

The digest's hour now reads in the profile's zone (mail.service.digest_zone), so the mail settings' own zone goes
(next revision). Copied only where it says something about the person: a known zone other than the column's old
default, America/New_York, which every digest row got whether anyone chose it or not (the digest job wrote a row
for everyone it sent to) and which, copied, would move their project pages out of each project's own zone.

Revision ID: 7918438e4d5e
Revises: c2e8f4a61b37
Create Date: 2026-12-08
"""

from collections.abc import Sequence
from zoneinfo import available_timezones

import sqlalchemy as sa
from alembic import op

revision: str = "7918438e4d5e"
down_revision: str | None = "c2e8f4a61b37"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_DEFAULT = "America/New_York"
KNOWN = available_timezones() - {"localtime", "Factory"}  # what the profile accepts (core.web.ALL_ZONES)

app_user = sa.table(
    "app_user", sa.column("id", sa.Integer()), sa.column("timezone", sa.String()), sa.column("version", sa.Integer())
)
mail_settings = sa.table("mail_settings", sa.column("user_id", sa.Integer()), sa.column("timezone", sa.String()))


def upgrade() -> None:
    bind = op.get_bind()
    chosen = bind.execute(
        sa.select(mail_settings.c.user_id, mail_settings.c.timezone)
        .join(app_user, app_user.c.id == mail_settings.c.user_id)
        .where(app_user.c.timezone == "", mail_settings.c.timezone != OLD_DEFAULT)
    ).all()
    for user_id, zone in chosen:
        if zone in KNOWN:
            bind.execute(
                sa.update(app_user)
                .where(app_user.c.id == user_id, app_user.c.timezone == "")
                .values(timezone=zone, version=app_user.c.version + 1)
            )


def downgrade() -> None:
    pass  # the profile keeps the zone: it is the person's now, and reads the same
