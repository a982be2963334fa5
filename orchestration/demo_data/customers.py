"""Small, pure-Python parts of the demo data set: the customer base and the exchange rates.

Everything here is driven by one ``random.Random(seed)`` so that the output is reproducible.
The customer base is at most ~30k rows, so building it in Python is cheap; the big fact tables
are generated inside DuckDB (see ``facts.py``).
"""

from __future__ import annotations

import math
import random
from datetime import date, timedelta

import pyarrow as pa

FX_LIST = {"CHF": 1.0, "EUR": 0.95, "USD": 0.88}  # CHF per unit, used for price lists only
CURRENCY_OF = {"CH": "CHF", "DE": "EUR", "AT": "EUR", "FR": "EUR", "IT": "EUR", "NL": "EUR"}
COUNTRIES = [("CH", 50), ("DE", 22), ("AT", 7), ("FR", 5), ("IT", 4), ("NL", 2), ("US", 10)]
CITIES = {
    "CH": "Zürich,Basel,Bern,Winterthur,St. Gallen,Luzern,Zug,Aarau,Schaffhausen,Thun,Chur,"
    "Genève,Lausanne,Neuchâtel,Fribourg,Lugano,Biel/Bienne",
    "DE": "München,Stuttgart,Köln,Düsseldorf,Nürnberg,Mannheim,Würzburg,Lübeck,Osnabrück,"
    "Göttingen,Hamburg,Freiburg im Breisgau",
    "AT": "Wien,Graz,Linz,Salzburg,Innsbruck,Klagenfurt,Wels,St. Pölten",
    "FR": "Lyon,Mulhouse,Strasbourg,Grenoble,Besançon,Orléans,Nantes,Toulouse",
    "IT": "Milano,Torino,Bergamo,Brescia,Bologna,Como,Verona",
    "NL": "Eindhoven,Rotterdam,Utrecht,Enschede",
    "US": "Chicago,Cleveland,Detroit,Charlotte,Houston,Pittsburgh,Milwaukee",
}
FRENCH_CH, ITALIAN_CH = {"Genève", "Lausanne", "Neuchâtel", "Fribourg"}, {"Lugano"}
SURNAMES = {
    "de": "Müller,Meier,Schneider,Fischer,Weber,Bühler,Huber,Brunner,Keller,Zürcher,Schäfer,"
    "Köhler,Krüger,Hofmann,Wälti,Lüthi,Bösch,Frei,Baumann,Graf,Vogt,Ammann,Gerber,Moser,"
    "Sutter,Steiner,Räber,Weiß,Groß,Jäger",
    "fr": "Dubois,Lefèvre,Girard,Rousseau,Mercier,Bérard,Favre,Chevalier,Gauthier,Périllard",
    "it": "Rossi,Bianchi,Colombo,Ferrari,Galli,Conti,Fontana,Lombardi,Bernasconi",
    "nl": "van Dijk,de Vries,Jansen,Bakker,Visser,Smit",
    "en": "Anderson,Miller,Carter,Harrison,Bennett,Walker,Parker,Hayes,Coleman",
}
TRADES = {
    "de": "Maschinenbau,Präzisionstechnik,Metallbau,Kunststofftechnik,Antriebstechnik,Anlagenbau,"
    "Elektrotechnik,Werkzeugbau,Feinmechanik,Hydraulik,Automation,Fördertechnik,Medizintechnik,"
    "Oberflächentechnik,Gießerei",
    "fr": "Mécanique,Décolletage,Électrotechnique,Précision,Métallurgie,Automatisation",
    "it": "Meccanica,Utensili,Automazione,Stampaggio,Elettromeccanica",
    "nl": "Techniek,Metaal,Kunststoffen,Machinebouw",
    "en": "Industries,Manufacturing,Precision Parts,Fluid Systems,Automation,Tooling",
}
FORMS = {
    "CH": "AG,AG,GmbH",
    "CH-latin": "SA,SA,Sàrl",  # French/Italian-speaking Switzerland
    "DE": "GmbH,GmbH & Co. KG,AG,KG",
    "AT": "GmbH,Ges.m.b.H.,AG",
    "FR": "SA,SAS,SARL",
    "IT": "S.p.A.,S.r.l.",
    "NL": "B.V.",
    "US": "Inc.,LLC,Corp.",
}
FIXED_GROUPS = [
    ("Müller & Söhne", "de", "CH", "GmbH"),
    ("Société Mécanique Girard", "fr", "FR", "SA"),
]
FIXED_SEATS = [("CH", "Zürich"), ("FR", "Lyon")]
ODD_NAMES = ["Bösch Werkzeuge AG; Filiale Wil", 'Genossenschaft "Metall Ost"']


def _pick(spec: str | list[str], rng: random.Random) -> str:
    return rng.choice(spec.split(",") if isinstance(spec, str) else spec)


def _weighted(pairs: list[tuple], rng: random.Random):
    return rng.choices([p[0] for p in pairs], weights=[p[1] for p in pairs])[0]


def _lang(country: str, city: str) -> str:
    if country == "CH":
        return "fr" if city in FRENCH_CH else "it" if city in ITALIAN_CH else "de"
    return {"FR": "fr", "IT": "it", "NL": "nl", "US": "en"}.get(country, "de")


def _form(country: str, lang: str, rng: random.Random) -> str:
    return _pick(FORMS["CH-latin" if country == "CH" and lang in ("fr", "it") else country], rng)


def _company(lang: str, country: str, rng: random.Random, f: str = "") -> str:
    s, t, f = _pick(SURNAMES[lang], rng), _pick(TRADES[lang], rng), f or _form(country, lang, rng)
    patterns = {
        "de": [
            f"{s} {t} {f}",
            f"{s} & Söhne {f}",
            f"{t} {s} {f}",
            f"{s} + {_pick(SURNAMES[lang], rng)} {f}",
        ],
        "fr": [f"{s} {t} {f}", f"Société {t} {s} {f}", f"Ateliers {s} {f}", f"{s} Frères {f}"],
        "it": [f"Officine {s} {f}", f"{s} {t} {f}"],
        "nl": [f"{s} {t} {f}"],
        "en": [f"{s} {t} {f}"],
    }
    return rng.choice(patterns[lang])


def _group_name(base: str, lang: str) -> str:
    return {"fr": f"Groupe {base}", "it": f"Gruppo {base}", "en": f"{base} Group"}.get(
        lang, f"{base} Gruppe"
    )


def add_months(d: date, n: int) -> date:
    y, m = divmod(d.month - 1 + n, 12)
    return date(d.year + y, m + 1, 1)


def build_customers(
    n: int, n_products: int, start: date, months: int, seed: int
) -> tuple[pa.Table, list[tuple[int, int, float]]]:
    """Return (customers table incl. internal generator attributes, complaint spikes).

    Row index ``cidx`` is the purchasing rank (0 = biggest buyer).  Spikes are
    ``(cidx, month_index, size_factor)``.
    """
    rng = random.Random(seed)
    # --- groups: 5-8 key-account groups with 3-6 sites, some mid groups with 2-3 sites
    key_sizes = [3 + rng.randrange(4) for _ in range(5 + rng.randrange(4))]
    while sum(key_sizes) > n // 2 and max(key_sizes) > 3:
        key_sizes[key_sizes.index(max(key_sizes))] -= 1
    mid_sizes = [2 + rng.randrange(2) for _ in range(max(2, n // 40))]
    n_key, n_mid = sum(key_sizes), sum(mid_sizes)
    top = min(n, n_key + max(2, n_key // 4))
    key_ranks = rng.sample(range(top), n_key)
    mid_ranks = rng.sample(range(top, min(n, top + 8 * n_mid)), n_mid)
    rank_kind: dict[int, tuple[str, int]] = {}
    ksites = [g for g, size in enumerate(key_sizes) for _ in range(size)]
    for r, g in zip(key_ranks, ksites, strict=True):
        rank_kind[r] = ("key", g)
    msites = [g for g, size in enumerate(mid_sizes) for _ in range(size)]
    for r, g in zip(mid_ranks, msites, strict=True):
        rank_kind[r] = ("mid", len(key_sizes) + g)
    n_groups = len(key_sizes) + len(mid_sizes)
    groups: list[dict] = []
    for g in range(n_groups):
        if g < len(FIXED_GROUPS):
            base, lang, country, form = FIXED_GROUPS[g]
        else:
            country = _weighted(COUNTRIES, rng)
            lang = _lang(country, _pick(CITIES[country], rng))
            form = _form(country, lang, rng)
            base = _company(lang, country, rng, form).removesuffix(" " + form)
        net = _weighted([(30, 40), (45, 20), (60, 30), (90, 10)], rng)
        if g < len(key_sizes):  # group contract: terms, year-end bonus, maybe quarterly rebate
            cd = rng.choice([(2.0, 10), (3.0, 14), (0.0, 0)])
            bonus = rng.choice([2.0, 2.5, 3.0, 3.5, 4.0])
            rebate = round(rng.uniform(0.5, 1.5), 1) if rng.random() < 0.5 else 0.0
        else:
            cd, rebate = (0.0, 0), 0.0
            bonus = round(rng.uniform(1, 2), 1) if rng.random() < 0.6 else 0.0
        grp = dict(base=base, lang=lang, country=country, form=form, net=net, cd=cd)
        groups.append(grp | {"bonus": bonus, "rebate": rebate})
    first_ms = [0] * n
    rows: list[dict] = []
    names: set[str] = set()
    new_window = months - 2
    for r in range(n):
        kind, g = rank_kind.get(r, ("solo", -1))
        key = kind == "key"
        if g >= 0:
            grp = groups[g]
            country = grp["country"] if rng.random() < 0.6 else _weighted(COUNTRIES, rng)
            city = _pick(CITIES[country], rng)
            if g < len(FIXED_SEATS) and "seat" not in grp:  # one site at the group's seat
                country, city = FIXED_SEATS[g]
                grp["seat"] = city
            name = f"{grp['base']} {grp['form']}, Werk {city}"
            net, (cd_pct, cd_days) = grp["net"], grp["cd"]
            bonus, rebate = grp["bonus"], grp["rebate"]
        else:
            country = _weighted(COUNTRIES, rng)
            city = _pick(CITIES[country], rng)
            name = _company(_lang(country, city), country, rng)
            net = _weighted([(10, 5), (30, 50), (45, 15), (60, 20), (90, 10)], rng)
            cd_pct, cd_days = 0.0, 0
            bonus = 1.0 if r < n / 10 and rng.random() < 0.3 else 0.0
            rebate = round(rng.uniform(0.5, 1.0), 1) if r < n / 5 and rng.random() < 0.15 else 0.0
            if net >= 30 and rng.random() < 0.4:
                cd_pct = _weighted([(2.0, 70), (3.0, 20), (1.5, 10)], rng)
                cd_days = _weighted([(10, 60), (14, 30), (20, 10)], rng)
        for suffix in ("", f", {city}", f", {city} {r}"):
            if name + suffix not in names:
                name += suffix
                break
        names.add(name)
        if not key and new_window > 0 and rng.random() < 0.12:
            mi = rng.randrange(new_window)
            ms = add_months(start, mi)
            since = ms + timedelta(days=rng.randrange((add_months(ms, 1) - ms).days))
            first_ms[r] = mi + 1
        else:
            since = start - timedelta(days=rng.randint(1100 if key else 30, 9000))
        late = rng.random() < (0.2 if key else 0.1)
        if key:
            disc, qty_mult = rng.uniform(0.08, 0.15), rng.uniform(2.5, 4.0)
        else:
            disc = rng.uniform(0.03, 0.08) if g >= 0 else rng.uniform(0, 0.05) * (1 - r / n)
            qty_mult = 0.5 + 2.5 * (1 - r / n) ** 4
        profile = 1 if cd_pct and rng.random() < 0.7 else 2 if late else 0
        w_rank = ((r + 1) / n) ** (1 / 3) - (r / n) ** (1 / 3)
        rows.append(
            dict(
                cidx=r,
                customer_name=name,
                country=country,
                currency=CURRENCY_OF.get(country, "USD"),
                customer_since=since,
                payment_net_days=net,
                cash_discount_pct=cd_pct,
                cash_discount_days=cd_days,
                group=g,
                kind=kind,
                pay_profile=profile,
                late_mean=rng.randint(15, 80),
                disc=disc,
                qty_mult=qty_mult,
                growth=rng.uniform(-0.05, 0.2) if key else rng.uniform(-0.15, 0.25),
                bonus_pct=bonus,
                rebate_pct=rebate,
                w_rank=w_rank,
                prod_off=rng.randrange(n_products),
                emp=rng.randrange(12),
            )
        )
    # --- churners, complaint spikes (followed by a slump = "recovery" phase), high maintenance
    churn_m: dict[int, int] = {}
    spike_m: dict[int, int] = {}
    spikes: list[tuple[int, int, float]] = []
    stable = [r for r in range(n) if first_ms[r] == 0 and rows[r]["kind"] != "key"]
    if months >= 6:
        notable = [r for r in stable if top <= r < top + 20]
        others = [r for r in stable if r not in notable]
        picks = rng.sample(notable, min(1, len(notable)))
        picks += rng.sample(others, min(len(others), max(1, round(n * 0.025))))
        for r in picks:
            churn_m[r] = rng.randint(months // 3, months - 2)
        if picks:
            spike_m[picks[0]] = max(1, churn_m[picks[0]] - 3)  # complaints, slump, then lost
        cands = [r for r in range(min(n, 60)) if first_ms[r] == 0 and r not in churn_m]
        for r in rng.sample(cands, min(len(cands), 2 + rng.randrange(3))):
            spike_m[r] = rng.randint(1, months - 1)
        spikes = [(r, m, round(1 + rng.random(), 3)) for r, m in spike_m.items()]
    small = [r for r in range(n // 3, n) if rows[r]["kind"] != "key"]
    hm = set(rng.sample(small, max(2, round(len(small) * 0.04))))
    # --- ids in order of tenure, group ids in order of first site id
    order = sorted(range(n), key=lambda r: (rows[r]["customer_since"], r))
    for i, r in enumerate(order):
        rows[r]["customer_id"] = f"C{i + 1:06d}"
    for r, name in zip(
        rng.sample(sorted(set(range(n)) - set(rank_kind)), 2), ODD_NAMES, strict=True
    ):
        rows[r]["customer_name"] = name
    group_order = sorted(
        range(n_groups),
        key=lambda g: min(row["customer_id"] for row in rows if row["group"] == g),
    )
    gid = {g: f"G{i + 1:04d}" for i, g in enumerate(group_order)}
    # key accounts draw ~40 % of all documents at any size (at least 1.5x their rank weight)
    key_w = sum(row["w_rank"] for row in rows if row["kind"] == "key")
    key_boost = max(1.5, 0.4 / 0.6 * (1 - key_w) / key_w)
    for row in rows:
        r, g = row["cidx"], row["group"]
        row["customer_group_id"] = gid.get(g)
        row["customer_group_name"] = (
            _group_name(groups[g]["base"], groups[g]["lang"]) if g >= 0 else None
        )
        row["is_key"], row["hm"] = row.pop("kind") == "key", r in hm
        row["first_m"], row["churn_m"], row["spike_m"] = first_ms[r], churn_m.get(r), spike_m.get(r)
        row["fx"] = FX_LIST[row["currency"]]
        boost = (1.5 if row["is_key"] else 1.0) * (12.0 if row["hm"] else 1.0)
        row["w_sales"] = max(1, round(1e12 * row["w_rank"] * (key_boost if row["is_key"] else 1.0)))
        row["w_service"] = max(1, round(1e10 * math.sqrt(row["w_rank"]) * boost))
        visit = (5.0 if row["is_key"] else 1.0) * (8.0 if row["hm"] else 1.0)
        row["w_visit"] = max(1, round(1e10 * math.sqrt(row["w_rank"]) * visit))
        del row["group"], row["w_rank"]
    return pa.Table.from_pylist(rows), spikes


def build_rates(start: date, months: int, seed: int) -> pa.Table:
    """Monthly rates (first of month) for all pairs of CHF/EUR/USD, from the month before start."""
    rng = random.Random(seed * 7919 + 17)
    eur, usd = 0.955, 0.885
    rows = []
    for i in range(-1, months):
        eur = min(0.98, max(0.93, eur + rng.gauss(0, 0.006)))
        usd = min(0.92, max(0.85, usd + rng.gauss(0, 0.008)))
        e, u = round(eur, 6), round(usd, 6)
        d = add_months(start, i)
        pairs = [("EUR", "CHF", e), ("USD", "CHF", u), ("CHF", "EUR", 1 / e), ("CHF", "USD", 1 / u)]
        pairs += [("EUR", "USD", e / u), ("USD", "EUR", u / e)]
        rows += [
            dict(rate_date=d, from_currency=f, to_currency=t, rate=round(x, 6)) for f, t, x in pairs
        ]
    return pa.Table.from_pylist(rows)
