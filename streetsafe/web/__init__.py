"""Public pages: the report form (templates/, static/), served by the `web` blueprint."""
