"""回访 and who resolved: the reminder to rate recorded on the ticket, the resolver credited by #排行
(backfilled from each ticket's last `resolved` event), resolved tickets put on the sweep so their
回访 starts, and the outbox's gathered list messages

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel  # noqa: F401  (autogenerate renders sqlmodel types)


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('ticket', schema=None) as batch_op:
        batch_op.add_column(sa.Column('resolved_by_id', sqlmodel.sql.sqltypes.AutoString(), nullable=True))
        batch_op.add_column(sa.Column('rate_reminded_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
        batch_op.create_index(batch_op.f('ix_ticket_resolved_by_id'), ['resolved_by_id'], unique=False)
    with op.batch_alter_table('outboxmessage', schema=None) as batch_op:
        batch_op.add_column(sa.Column('gathered', sqlmodel.sql.sqltypes.AutoString(), nullable=True))
    op.execute(
        "UPDATE ticket SET resolved_by_id = (SELECT e.actor_id FROM ticketevent e"
        " WHERE e.ticket_id = ticket.id AND e.kind = 'resolved' ORDER BY e.at DESC, e.id DESC LIMIT 1)"
        " WHERE resolved_at IS NOT NULL")
    # Resolved tickets still waiting for a rating: the sweep looks at them now and plans their 回访.
    op.execute("UPDATE ticket SET next_action_at = resolved_at"
               " WHERE status = 'resolved' AND rating IS NULL AND resolved_at IS NOT NULL")


def downgrade() -> None:
    with op.batch_alter_table('outboxmessage', schema=None) as batch_op:
        batch_op.drop_column('gathered')
    with op.batch_alter_table('ticket', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ticket_resolved_by_id'))
        batch_op.drop_column('rate_reminded_at')
        batch_op.drop_column('resolved_by_id')
