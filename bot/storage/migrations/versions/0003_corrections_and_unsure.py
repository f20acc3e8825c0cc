"""corrections, county weights, unsure messages: what the grid teaches the classifier (SPEC §6.5),
the database's own weights, and the 待确认 list

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-04
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel  # noqa: F401  (autogenerate renders sqlmodel types)


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('countyweights',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('trained_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('messages', sa.Integer(), nullable=False),
    sa.Column('corrections', sa.Integer(), nullable=False),
    sa.Column('weights', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('correction',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('text', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('department', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('ticket_id', sa.Integer(), nullable=True),
    sa.Column('actor_id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.ForeignKeyConstraint(['ticket_id'], ['ticket.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('correction', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_correction_ticket_id'), ['ticket_id'], unique=False)

    op.create_table('unsuremessage',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('no', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('node_id', sa.Integer(), nullable=False),
    sa.Column('sender_id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('sender_name', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('text', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('source_room_id', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('source_room_topic', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=True),
    sa.Column('decided_by', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('decided_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['node_id'], ['node.id'], ),
    sa.ForeignKeyConstraint(['ticket_id'], ['ticket.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('no')
    )
    with op.batch_alter_table('unsuremessage', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_unsuremessage_node_id'), ['node_id'], unique=False)
        batch_op.create_index('ix_unsuremessage_status_created', ['status', 'created_at'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('unsuremessage', schema=None) as batch_op:
        batch_op.drop_index('ix_unsuremessage_status_created')
        batch_op.drop_index(batch_op.f('ix_unsuremessage_node_id'))

    op.drop_table('unsuremessage')
    with op.batch_alter_table('correction', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_correction_ticket_id'))

    op.drop_table('correction')
    op.drop_table('countyweights')
