"""The bundled demo website (a fictional bike company) served at /demo/ on Cloop's host.

Each page is a template under templates/demo/<slug>.html extending templates/demo/base.html;
its headings carry id anchors so citations can point at `page#section`.
"""

from __future__ import annotations

PAGES: dict[str, dict[str, str]] = {
    "home": {"title": "Northwind Bikes", "section": "Home"},
    "bikes": {"title": "Our bikes", "section": "Bikes"},
    "city-commuter": {"title": "City Commuter 7", "section": "Bikes"},
    "trail-blazer": {"title": "Trail Blazer MTB", "section": "Bikes"},
    "e-cruiser": {"title": "E-Cruiser electric bike", "section": "Bikes"},
    "cargo-hauler": {"title": "Cargo Hauler", "section": "Bikes"},
    "kids-pedal": {"title": "Kids Pedal 20", "section": "Bikes"},
    "accessories": {"title": "Accessories", "section": "Bikes"},
    "pricing": {"title": "Prices", "section": "Pricing"},
    "financing": {"title": "Financing and leasing", "section": "Pricing"},
    "service-plans": {"title": "Service plans", "section": "Service"},
    "repairs": {"title": "Workshop and repairs", "section": "Service"},
    "warranty": {"title": "Warranty", "section": "Service"},
    "shipping": {"title": "Delivery and shipping", "section": "Help"},
    "returns": {"title": "Returns and exchanges", "section": "Help"},
    "faq": {"title": "Frequently asked questions", "section": "Help"},
    "test-rides": {"title": "Book a test ride", "section": "Help"},
    "stores": {"title": "Our stores", "section": "Contact"},
    "contact": {"title": "Contact us", "section": "Contact"},
    "about": {"title": "About Northwind Bikes", "section": "About"},
    "careers": {"title": "Careers", "section": "About"},
    "blog": {"title": "Blog", "section": "Blog"},
    "blog-winter-cycling": {"title": "Winter cycling: a practical guide", "section": "Blog"},
    "blog-choosing-an-e-bike": {"title": "How to choose your first e-bike", "section": "Blog"},
}

NAV: list[tuple[str, str]] = [
    ("home", "Home"),
    ("bikes", "Bikes"),
    ("pricing", "Pricing"),
    ("service-plans", "Service"),
    ("faq", "FAQ"),
    ("blog", "Blog"),
    ("about", "About"),
    ("contact", "Contact"),
]
