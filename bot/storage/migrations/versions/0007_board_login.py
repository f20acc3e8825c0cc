"""board login: the web board's one-time login codes (hashed) and wrong-try locks, and the covering
indexes its overview reads (bot/board/queries.py)

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel  # noqa: F401  (autogenerate renders sqlmodel types)


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('boardlogin',
    sa.Column('contact_id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('code_hash', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('salt', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('issued_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('expires_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('failures', sa.Integer(), nullable=False),
    sa.Column('locked_until', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('contact_id')
    )
    with op.batch_alter_table('ticket', schema=None) as batch_op:
        batch_op.create_index('ix_ticket_board_open', ['status', 'node_id', 'department', 'accept_by', 'resolve_by',
                                                       'urgency', 'escalation_level'], unique=False)
        batch_op.create_index('ix_ticket_board_done', ['status', 'resolved_at', 'node_id', 'department', 'resolve_by',
                                                       'rating'], unique=False)
        batch_op.create_index('ix_ticket_board_created', ['created_at', 'node_id', 'department'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('ticket', schema=None) as batch_op:
        batch_op.drop_index('ix_ticket_board_created')
        batch_op.drop_index('ix_ticket_board_done')
        batch_op.drop_index('ix_ticket_board_open')
    op.drop_table('boardlogin')
