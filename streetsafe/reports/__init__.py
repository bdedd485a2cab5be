"""Report intake: intake.py runs parse -> claim keys -> snap -> cells -> insert -> receipts."""
