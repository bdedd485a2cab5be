"""Teams: create, list, revoke, authenticate; and the neighbourhoods a team may see."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session, selectinload

from ..errors import Forbidden, NotFound, Unprocessable
from ..i18n import lazy_gettext as _l
from ..models import Neighbourhood, Team
from . import sessions, tokens


@dataclass(frozen=True)
class TeamScope:
    """An authenticated team and the neighbourhoods it looks after."""

    team_id: int
    name: str
    neighbourhood_ids: tuple[int, ...]
    neighbourhood_codes: tuple[str, ...]
    role: str = "team"  # "programme": every area, disclosure-controlled aggregates only

    @property
    def is_programme(self) -> bool:
        """True for the programme board's token (team/programme.py is all it may read)."""
        return self.role == "programme"

    def ids_for(self, code: str | None) -> tuple[int, ...]:
        """The neighbourhood ids to query: all of the team's, or one it owns (else 403)."""
        if code is None:
            return self.neighbourhood_ids
        if code not in self.neighbourhood_codes:
            raise Forbidden(
                _l("neighbourhood %(code)r is not one of this team's", code=code), "neighbourhood"
            )
        return (self.neighbourhood_ids[self.neighbourhood_codes.index(code)],)


def create_team(session: Session, name: str, codes: list[str], programme: bool = False) -> str:
    """Create a team for neighbourhoods `codes` (or the programme board); return its token."""
    name = name.strip()
    if not name:
        raise Unprocessable(_l("a team needs a name"), "name")
    if programme and codes:
        raise Unprocessable(_l("a programme token covers every area; name none"), "neighbourhood")
    if not codes and not programme:
        raise Unprocessable(_l("a team needs at least one neighbourhood"), "neighbourhood")
    found = session.scalars(sa.select(Neighbourhood).where(Neighbourhood.code.in_(codes))).all()
    missing = sorted(set(codes) - {n.code for n in found})
    if missing:
        raise NotFound(
            _l("unknown neighbourhood codes: %(codes)s", codes=", ".join(missing)), "neighbourhood"
        )
    if session.scalar(sa.select(Team.id).where(Team.name == name)) is not None:
        raise Unprocessable(_l("a team called %(name)r exists already", name=name), "name")
    token, lookup = tokens.new_token()
    session.add(
        Team(
            name=name,
            token_lookup=lookup,
            token_hash=tokens.hash_token(token),
            neighbourhoods=found,
            role="programme" if programme else "team",
        )
    )
    session.flush()
    return token


def list_teams(session: Session) -> list[Team]:
    """Every team with its neighbourhoods, oldest first."""
    query = sa.select(Team).options(selectinload(Team.neighbourhoods)).order_by(Team.id)
    return list(session.scalars(query))


def revoke_team(session: Session, name: str) -> None:
    """Revoke a team's token and end its sessions at once."""
    team = session.scalar(sa.select(Team).where(Team.name == name))
    if team is None:
        raise NotFound(_l("no team called %(name)r", name=name), "name")
    team.revoked_at = datetime.now(UTC)
    sessions.end_team_sessions(session, team.id)


def authenticate(session: Session, token: str) -> TeamScope | None:
    """The scope of the team holding `token`, or None when unknown, wrong or revoked.

    Unknown and revoked tokens are checked against a dummy hash: every guess costs the same.
    """
    token = token.strip()
    lookup = tokens.lookup_of(token)
    team = None
    if lookup is not None:
        team = session.scalar(sa.select(Team).where(Team.token_lookup == lookup))
    stored = team.token_hash if team is not None and team.revoked_at is None else None
    verified = tokens.verify_token(token, stored)  # always runs: the same work for every guess
    if team is None or not verified:
        return None
    if tokens.is_legacy(team.token_hash):
        team.token_hash = tokens.hash_token(token)
    return scope_of(session, team.id)


def scope_of(session: Session, team_id: int) -> TeamScope | None:
    """The scope of an active team by id (None when revoked or gone)."""
    team = session.get(Team, team_id, options=[selectinload(Team.neighbourhoods)])
    if team is None or team.revoked_at is not None:
        return None
    areas = sorted(team.neighbourhoods, key=lambda n: n.code)
    return TeamScope(
        team_id=team.id,
        name=team.name,
        neighbourhood_ids=tuple(n.id for n in areas),
        neighbourhood_codes=tuple(n.code for n in areas),
        role=team.role,
    )
