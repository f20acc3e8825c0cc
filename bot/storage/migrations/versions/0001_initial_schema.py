"""initial schema: the tables of gridbot as of its first PostgreSQL release

Revision ID: 0001
Revises: 
Create Date: 2026-11-25
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel  # noqa: F401  (autogenerate renders sqlmodel types)


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('counter',
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('value', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('name')
    )
    op.create_table('departmentroom',
    sa.Column('code', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('room_topic', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('room_id', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('account', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.PrimaryKeyConstraint('code')
    )
    with op.batch_alter_table('departmentroom', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_departmentroom_room_id'), ['room_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_departmentroom_room_topic'), ['room_topic'], unique=False)

    op.create_table('lease',
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('holder', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('expires_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('name')
    )
    op.create_table('node',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('path', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('level', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('depth', sa.Integer(), nullable=False),
    sa.Column('parent_id', sa.Integer(), nullable=True),
    sa.Column('room_topic', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('room_id', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('account', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['parent_id'], ['node.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('path')
    )
    with op.batch_alter_table('node', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_node_room_id'), ['room_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_node_room_topic'), ['room_topic'], unique=False)

    op.create_table('orgmeta',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('county', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('timezone', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('sla', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('holidays', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('workdays', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('imported_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('outboxmessage',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('not_before', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('priority', sa.Integer(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('account', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('room_id', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('room_topic', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('to', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('text', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('mentions', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('file_path', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('late_after', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('claimed_by', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('sent_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('outboxmessage', schema=None) as batch_op:
        batch_op.create_index('ix_outbox_due', ['status', 'not_before', 'priority', 'id'], unique=False)

    op.create_table('schedulerun',
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('last_fire_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('name')
    )
    op.create_table('seenmessage',
    sa.Column('msg_id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('msg_id')
    )
    op.create_table('sendpace',
    sa.Column('account', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('last_sent_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('account')
    )
    op.create_table('membership',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('contact_id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('role', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('node_id', sa.Integer(), nullable=True),
    sa.Column('department', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['node_id'], ['node.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('membership', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_membership_contact_id'), ['contact_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_membership_node_id'), ['node_id'], unique=False)

    op.create_table('notice',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('no', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('node_id', sa.Integer(), nullable=False),
    sa.Column('sender_id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('sender_name', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('source_room_id', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('source_room_topic', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('down_to', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('text', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('receipt_by', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('next_action_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['node_id'], ['node.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('no')
    )
    with op.batch_alter_table('notice', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_notice_next_action_at'), ['next_action_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_notice_node_id'), ['node_id'], unique=False)

    op.create_table('ticket',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('no', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('department', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('urgency', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('node_id', sa.Integer(), nullable=False),
    sa.Column('grid_id', sa.Integer(), nullable=True),
    sa.Column('reporter_id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('reporter_name', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('assignee_id', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('text', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('location', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('keywords', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('source_room_id', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('source_room_topic', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('accept_by', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('resolve_by', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('accepted_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('resolved_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('closed_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('escalation_level', sa.Integer(), nullable=False),
    sa.Column('reopen_count', sa.Integer(), nullable=False),
    sa.Column('resolution', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('rating', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('next_action_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('accept_reminded_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('pre_reminded_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('next_escalation_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('last_nudged_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['grid_id'], ['node.id'], ),
    sa.ForeignKeyConstraint(['node_id'], ['node.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('no')
    )
    with op.batch_alter_table('ticket', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ticket_assignee_id'), ['assignee_id'], unique=False)
        batch_op.create_index('ix_ticket_grid_dept_status', ['grid_id', 'department', 'status'], unique=False)
        batch_op.create_index(batch_op.f('ix_ticket_next_action_at'), ['next_action_at'], unique=False)
        batch_op.create_index('ix_ticket_node_created', ['node_id', 'created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_ticket_node_id'), ['node_id'], unique=False)
        batch_op.create_index('ix_ticket_node_resolved', ['node_id', 'resolved_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_ticket_reporter_id'), ['reporter_id'], unique=False)
        batch_op.create_index('ix_ticket_status_created', ['status', 'created_at'], unique=False)

    op.create_table('evidence',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=False),
    sa.Column('at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('contact_id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('path', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.ForeignKeyConstraint(['ticket_id'], ['ticket.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('evidence', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_evidence_ticket_id'), ['ticket_id'], unique=False)

    op.create_table('noticetarget',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('notice_id', sa.Integer(), nullable=False),
    sa.Column('node_id', sa.Integer(), nullable=False),
    sa.Column('room_topic', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('outbox_id', sa.Integer(), nullable=True),
    sa.Column('acked_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('acked_by_id', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('acked_by_name', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.ForeignKeyConstraint(['node_id'], ['node.id'], ),
    sa.ForeignKeyConstraint(['notice_id'], ['notice.id'], ),
    sa.ForeignKeyConstraint(['outbox_id'], ['outboxmessage.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('noticetarget', schema=None) as batch_op:
        batch_op.create_index('ix_notice_target_node_ack', ['node_id', 'acked_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_noticetarget_notice_id'), ['notice_id'], unique=False)

    op.create_table('ticketevent',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=False),
    sa.Column('at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('actor_id', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('actor_name', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('detail', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.ForeignKeyConstraint(['ticket_id'], ['ticket.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('ticketevent', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ticketevent_ticket_id'), ['ticket_id'], unique=False)

    op.create_table('ticketfollower',
    sa.Column('ticket_id', sa.Integer(), nullable=False),
    sa.Column('contact_id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.ForeignKeyConstraint(['ticket_id'], ['ticket.id'], ),
    sa.PrimaryKeyConstraint('ticket_id', 'contact_id')
    )


def downgrade() -> None:
    op.drop_table('ticketfollower')
    with op.batch_alter_table('ticketevent', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ticketevent_ticket_id'))

    op.drop_table('ticketevent')
    with op.batch_alter_table('noticetarget', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_noticetarget_notice_id'))
        batch_op.drop_index('ix_notice_target_node_ack')

    op.drop_table('noticetarget')
    with op.batch_alter_table('evidence', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_evidence_ticket_id'))

    op.drop_table('evidence')
    with op.batch_alter_table('ticket', schema=None) as batch_op:
        batch_op.drop_index('ix_ticket_status_created')
        batch_op.drop_index(batch_op.f('ix_ticket_reporter_id'))
        batch_op.drop_index('ix_ticket_node_resolved')
        batch_op.drop_index(batch_op.f('ix_ticket_node_id'))
        batch_op.drop_index('ix_ticket_node_created')
        batch_op.drop_index(batch_op.f('ix_ticket_next_action_at'))
        batch_op.drop_index('ix_ticket_grid_dept_status')
        batch_op.drop_index(batch_op.f('ix_ticket_assignee_id'))

    op.drop_table('ticket')
    with op.batch_alter_table('notice', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_notice_node_id'))
        batch_op.drop_index(batch_op.f('ix_notice_next_action_at'))

    op.drop_table('notice')
    with op.batch_alter_table('membership', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_membership_node_id'))
        batch_op.drop_index(batch_op.f('ix_membership_contact_id'))

    op.drop_table('membership')
    op.drop_table('sendpace')
    op.drop_table('seenmessage')
    op.drop_table('schedulerun')
    with op.batch_alter_table('outboxmessage', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_due')

    op.drop_table('outboxmessage')
    op.drop_table('orgmeta')
    with op.batch_alter_table('node', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_node_room_topic'))
        batch_op.drop_index(batch_op.f('ix_node_room_id'))

    op.drop_table('node')
    op.drop_table('lease')
    with op.batch_alter_table('departmentroom', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_departmentroom_room_topic'))
        batch_op.drop_index(batch_op.f('ix_departmentroom_room_id'))

    op.drop_table('departmentroom')
    op.drop_table('counter')
