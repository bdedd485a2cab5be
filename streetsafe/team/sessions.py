"""Team sessions recorded on the server: sign-out, revocation and timeouts end them.

The signed cookie carries only a random session id; the table keeps its SHA-256. A session
is live while it has not ended, was seen within the idle timeout and began within the
absolute timeout, and its team is not revoked. No address or user agent is kept.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..models import Team, TeamSession


def _hash(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


def start_session(session: Session, team_id: int, idle: timedelta, lifetime: timedelta) -> str:
    """Record a new session for the team (dropping dead ones); its id, for the cookie."""
    purge_dead_sessions(session, idle, lifetime)
    session_id = secrets.token_urlsafe(32)
    session.add(TeamSession(id_hash=_hash(session_id), team_id=team_id))
    session.flush()
    return session_id


def touch_session(
    session: Session, session_id: str, idle: timedelta, lifetime: timedelta
) -> int | None:
    """The team id of a live session, which is marked as seen now; None when it is dead."""
    now = sa.func.now()
    statement = (
        sa.update(TeamSession)
        .where(
            TeamSession.id_hash == _hash(session_id),
            TeamSession.ended_at.is_(None),
            TeamSession.last_seen_at > now - idle,
            TeamSession.created_at > now - lifetime,
            Team.id == TeamSession.team_id,
            Team.revoked_at.is_(None),
        )
        .values(last_seen_at=now)
        .returning(TeamSession.team_id)
    )
    return session.scalar(statement, execution_options={"synchronize_session": False})


def end_session(session: Session, session_id: str) -> None:
    """End one session (sign-out)."""
    session.execute(
        sa.update(TeamSession)
        .where(TeamSession.id_hash == _hash(session_id), TeamSession.ended_at.is_(None))
        .values(ended_at=sa.func.now()),
        execution_options={"synchronize_session": False},
    )


def end_team_sessions(session: Session, team_id: int) -> int:
    """End every session of a team (revocation); how many were live."""
    result = session.execute(
        sa.update(TeamSession)
        .where(TeamSession.team_id == team_id, TeamSession.ended_at.is_(None))
        .values(ended_at=sa.func.now()),
        execution_options={"synchronize_session": False},
    )
    return result.rowcount


def purge_dead_sessions(session: Session, idle: timedelta, lifetime: timedelta) -> int:
    """Delete sessions that ended or timed out; how many."""
    now = sa.func.now()
    result = session.execute(
        sa.delete(TeamSession).where(
            TeamSession.ended_at.is_not(None)
            | (TeamSession.last_seen_at <= now - idle)
            | (TeamSession.created_at <= now - lifetime)
        ),
        execution_options={"synchronize_session": False},
    )
    return result.rowcount
