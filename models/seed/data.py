"""The fixed lists the generators draw from: regions, phone shapes, the catalogue, stores.

Changing an entry (or its order) changes every seeded database after it, since the
generators pick from these lists with one seeded random generator.
"""

from __future__ import annotations

import phonenumbers

REGIONS = {  # region -> (locale, share, currency, cities (name, lat, lon))
    "US": (
        "en_US",
        50,
        "USD",
        [
            ("San Francisco", 37.77, -122.42),
            ("Boston", 42.36, -71.06),
            ("New York", 40.71, -74.01),
            ("Chicago", 41.88, -87.63),
            ("Austin", 30.27, -97.74),
            ("Seattle", 47.61, -122.33),
            ("Miami", 25.76, -80.19),
            ("Denver", 39.74, -104.99),
        ],
    ),
    "GB": (
        "en_GB",
        20,
        "GBP",
        [
            ("London", 51.51, -0.13),
            ("Manchester", 53.48, -2.24),
            ("Bristol", 51.45, -2.59),
            ("Edinburgh", 55.95, -3.19),
        ],
    ),
    "DE": (
        "de_DE",
        10,
        "EUR",
        [("Berlin", 52.52, 13.40), ("Munich", 48.14, 11.58), ("Hamburg", 53.55, 9.99)],
    ),
    "FR": (
        "fr_FR",
        10,
        "EUR",
        [("Paris", 48.86, 2.35), ("Lyon", 45.76, 4.84), ("Bordeaux", 44.84, -0.58)],
    ),
    "AU": (
        "en_AU",
        10,
        "AUD",
        [("Sydney", -33.87, 151.21), ("Melbourne", -37.81, 144.96), ("Brisbane", -27.47, 153.03)],
    ),
}
LANGUAGE = {"US": "en", "GB": "en", "AU": "en", "DE": "de", "FR": "fr"}
# National number shapes: a prefix and how many random digits follow.
PHONE_SHAPES = {
    "US": [("415", 7), ("617", 7), ("212", 7), ("312", 7), ("512", 7), ("206", 7), ("305", 7)],
    "GB": [("077", 8), ("078", 8), ("079", 8), ("020", 8), ("0161", 7)],
    "DE": [("0151", 8), ("0160", 8), ("0170", 8), ("030", 8), ("089", 8)],
    "FR": [("06", 8), ("07", 8), ("01", 8)],
    "AU": [("04", 8), ("02", 8), ("03", 8)],
}
PHONE_FORMATS = (
    phonenumbers.PhoneNumberFormat.NATIONAL,
    phonenumbers.PhoneNumberFormat.INTERNATIONAL,
    phonenumbers.PhoneNumberFormat.E164,
)

# Categories with products that go together and consumables re-bought on a rhythm:
# category -> list of (type name, price range in cents, replenish days or None, companions).
CATALOG: dict[str, list[tuple[str, tuple[int, int], int | None, tuple[str, ...]]]] = {
    "Fragrance": [
        ("Eau de Parfum 50 ml", (6500, 14000), 90, ("Body Lotion", "Travel Spray")),
        ("Body Lotion", (2500, 4500), 75, ()),
        ("Travel Spray", (1800, 3200), None, ()),
    ],
    "Skincare": [
        ("Day Cream", (2800, 7500), 60, ("Serum", "Cleanser")),
        ("Serum", (3500, 9000), 45, ("Day Cream",)),
        ("Cleanser", (1500, 3000), 60, ()),
        ("Night Cream", (3200, 8000), 60, ("Serum",)),
    ],
    "Coffee": [
        ("Espresso Machine", (24900, 89900), None, ("Coffee Beans 1 kg", "Descaler", "Milk Jug")),
        ("Coffee Beans 1 kg", (1800, 3600), 30, ()),
        ("Descaler", (900, 1600), 120, ()),
        ("Milk Jug", (1500, 3500), None, ()),
    ],
    "Watches": [
        ("Automatic Watch", (29900, 149900), None, ("Leather Strap", "Watch Box")),
        ("Quartz Watch", (9900, 39900), None, ("Leather Strap",)),
        ("Leather Strap", (3900, 8900), None, ()),
        ("Watch Box", (4900, 12900), None, ()),
    ],
    "Clocks": [
        ("Chiming Mantel Clock", (19900, 59900), None, ()),
        ("Wall Clock", (4900, 15900), None, ()),
    ],
    "Home": [
        ("Scented Candle", (2200, 4800), 45, ("Reed Diffuser",)),
        ("Reed Diffuser", (3200, 6500), None, ("Diffuser Refill",)),
        ("Diffuser Refill", (1800, 3200), 60, ()),
    ],
    "Mobile": [
        ("Smartphone", (39900, 129900), None, ("Phone Case", "Screen Protector", "Charger")),
        ("Phone Case", (1900, 4900), None, ()),
        ("Screen Protector", (900, 2500), None, ()),
        ("Charger", (1900, 4500), None, ()),
    ],
}
BRANDS = (
    "Aubade",
    "Maison Clair",
    "Nordlys",
    "Verde",
    "Halcyon",
    "Orrery",
    "Kestrel",
    "Lumen",
    "Saffron & Co",
    "Tidewater",
)
STORES = [
    ("SF1", "Union Square", "San Francisco", "US", 37.788, -122.407),
    ("SF2", "Mission Bay", "San Francisco", "US", 37.770, -122.391),
    ("BOS", "Newbury Street", "Boston", "US", 42.350, -71.081),
    ("NYC", "SoHo", "New York", "US", 40.723, -74.000),
    ("NY2", "Upper East Side", "New York", "US", 40.773, -73.957),
    ("CHI", "Magnificent Mile", "Chicago", "US", 41.895, -87.624),
    ("AUS", "South Congress", "Austin", "US", 30.249, -97.750),
    ("SEA", "Pike Place", "Seattle", "US", 47.609, -122.342),
    ("MIA", "Brickell", "Miami", "US", 25.761, -80.192),
    ("DEN", "Cherry Creek", "Denver", "US", 39.717, -104.953),
    ("LON", "Covent Garden", "London", "GB", 51.512, -0.123),
    ("LO2", "King's Road", "London", "GB", 51.487, -0.168),
    ("MAN", "King Street", "Manchester", "GB", 53.481, -2.245),
    ("BRS", "Clifton", "Bristol", "GB", 51.455, -2.620),
    ("EDI", "George Street", "Edinburgh", "GB", 55.953, -3.200),
    ("BER", "Kurfürstendamm", "Berlin", "DE", 52.502, 13.327),
    ("MUC", "Maximilianstraße", "Munich", "DE", 48.139, 11.583),
    ("HAM", "Jungfernstieg", "Hamburg", "DE", 53.553, 9.993),
    ("PAR", "Le Marais", "Paris", "FR", 48.859, 2.362),
    ("PA2", "Saint-Germain", "Paris", "FR", 48.853, 2.333),
    ("LYO", "Presqu'île", "Lyon", "FR", 45.760, 4.835),
    ("SYD", "Pitt Street", "Sydney", "AU", -33.870, 151.208),
    ("MEL", "Collins Street", "Melbourne", "AU", -37.815, 144.966),
    ("BNE", "Queen Street", "Brisbane", "AU", -27.469, 153.025),
    ("BOR", "Cours de l'Intendance", "Bordeaux", "FR", 44.842, -0.575),
]
DEPARTMENTS = [
    ("call_centre", "Call centre"),
    ("it", "IT"),
    ("warehouse", "Warehouse"),
    ("delivery", "Delivery"),
    ("billing", "Billing"),
    ("field_service", "Field service"),
    ("retention", "Retention"),
    ("stores", "Stores"),  # the shops: a hand-off for an in-store pickup or exchange
]
SEGMENTS = ("retail", "premium", "young professionals", "families", "seniors", "business")
CASE_TOPICS = [
    ("delivery", "Parcel arrived late", "delivery"),
    ("delivery", "Parcel not delivered", "delivery"),
    ("product", "Item arrived damaged", "warehouse"),
    ("product", "Wrong item received", "warehouse"),
    ("billing", "Charged twice", "billing"),
    ("billing", "Refund not received", "billing"),
    ("account", "Cannot log in to web shop", "it"),
    ("service", "Repair request", "field_service"),
]
WRAP_UPS = ("resolved", "information", "order_placed", "complaint", "callback", "escalated")
SUMMARIES = {
    "phone": (
        "Asked about order status",
        "Wants to change delivery address",
        "Questions about a refill",
        "Complained about a late delivery",
        "Asked for the nearest store",
    ),
    "email": ("Sent invoice copy", "Asked for a return label", "Thanked us for quick help"),
    "chat": ("Product advice on skincare", "Tracking number requested", "Voucher question"),
    "store": (
        "Visited the store, tried new fragrance",
        "Picked up an order in store",
        "Had a watch battery replaced",
    ),
    "web": ("Left a product review", "Filled in the contact form"),
    "social": ("Mentioned us in a post", "Asked a question by direct message"),
}
FEEDBACK_TEXT = {
    "positive": (
        "Lovely service, thank you!",
        "Quick and friendly help.",
        "Great advice in store.",
    ),
    "neutral": ("It was fine.", "Delivery took a while but OK."),
    "negative": (
        "Nobody called me back.",
        "Still waiting for my refund.",
        "The parcel was late again.",
    ),
}
