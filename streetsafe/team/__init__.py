"""Neighbourhood policing teams: sign-in tokens, scoped access, moderation, actions, audit."""
