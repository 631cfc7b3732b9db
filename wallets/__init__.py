"""Apple passes and Google objects kept in step with memberships: the wallet rows live here.

The only wallet code that touches the database, so the adapters in ``channels/`` stay pure and
the web pages in ``web/`` stay thin:

- ``apple_registry`` — pass rows and device registrations, the state behind the PassKit web
  service; ``PassRegistry`` is the store the Apple Wallet channel is given.
- ``apple_passes`` — a membership's current ``.pkpass``: what the card shows, built and signed.
- ``card_link`` — the signed link to the card's web page that both wallets print on the pass.
- ``service`` — ``Wallets``: handing passes out and telling both wallets after each change;
  the Google object rows and the card logo Google fetches.
"""
