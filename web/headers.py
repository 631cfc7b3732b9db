"""Headers of every personal page we serve (card page, unsubscribe, email confirmation).

Such a page is for one person: no shared cache, no copy on disk, no search engine, no referrer
(its own address carries a link token), and a Content-Security-Policy that runs no script and
styles only the page's own stylesheet, marked with a fresh nonce.
"""

from __future__ import annotations


def private_page_headers(
    nonce: str, *, img_src: str = "'none'", form_action: str = "'none'"
) -> dict[str, str]:
    return {
        "Cache-Control": "private, no-store",
        "Referrer-Policy": "no-referrer",
        "X-Robots-Tag": "noindex, nofollow",
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": (
            f"default-src 'none'; style-src 'nonce-{nonce}'; img-src {img_src}; "
            f"base-uri 'none'; form-action {form_action}; frame-ancestors 'none'"
        ),
    }
