"""loop commands: 督办, merged tickets, #延期 requests on the ticket; where each follower is told

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-04
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel  # noqa: F401  (autogenerate renders sqlmodel types)


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('ticket', schema=None) as batch_op:
        batch_op.add_column(sa.Column('supervised_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('merged_into_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('extension_until', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('extension_reason', sqlmodel.sql.sqltypes.AutoString(), nullable=True))
        batch_op.add_column(sa.Column('extension_requested_by', sqlmodel.sql.sqltypes.AutoString(), nullable=True))
        batch_op.add_column(sa.Column('extension_requested_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
    with op.batch_alter_table('ticketfollower', schema=None) as batch_op:
        batch_op.add_column(sa.Column('source_room_id', sqlmodel.sql.sqltypes.AutoString(), nullable=True))
        batch_op.add_column(sa.Column('source_room_topic', sqlmodel.sql.sqltypes.AutoString(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('ticketfollower', schema=None) as batch_op:
        batch_op.drop_column('source_room_topic')
        batch_op.drop_column('source_room_id')
    with op.batch_alter_table('ticket', schema=None) as batch_op:
        batch_op.drop_column('extension_requested_at')
        batch_op.drop_column('extension_requested_by')
        batch_op.drop_column('extension_reason')
        batch_op.drop_column('extension_until')
        batch_op.drop_column('merged_into_id')
        batch_op.drop_column('supervised_at')
