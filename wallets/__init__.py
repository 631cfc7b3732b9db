"""Apple passes and Google objects kept in step with memberships: the wallet rows live here."""
